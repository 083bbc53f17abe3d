"""Fixtures shared by the engine's tests: the seeded random VGG19 and a small sample pair."""

import warnings

import pytest

from nst_helpers import samples
from nst_helpers.images import load_image


@pytest.fixture(scope="module")
def vgg():
    """VGG19 with seeded random weights (its exact shapes, no download)."""
    from nst_helpers.vgg import load_vgg19

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_vgg19("random", seed=0)


@pytest.fixture(scope="module")
def pair():
    """The coffee photo and the stained-glass style, at most 64 px."""
    content_path, style_path = samples.sample_pair("coffee", "stained_glass")
    return load_image(content_path, max_size=64), load_image(style_path, max_size=64)
