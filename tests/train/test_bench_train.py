"""The benchmark's peers: their shared-objective losses are the course's objective.

``benchmarks/bench_train.py`` times "time to a shared threshold" on one objective; that
is only fair if the tutorial's and the assignment's re-implemented steps, in their
shared mode, compute exactly that objective. Checked here against the course's costs on
a tiny image with the stand-in weights, and the GFLOP count against a hand count.
"""

import importlib.util
import warnings

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_train", ROOT / "benchmarks" / "bench_train.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def setting():
    from nst_helpers.vgg import load_vgg19

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vgg = load_vgg19("random", seed=0)
    random_state = np.random.RandomState(7)
    content = tf.constant(random_state.uniform(0, 1, (1, 32, 32, 3)).astype(np.float32))
    style = tf.constant(random_state.uniform(0, 1, (1, 32, 32, 3)).astype(np.float32))
    return content, style, vgg


def shared_objective(image, content, style, vgg) -> float:
    """The course's 10·J_content(block4_conv2) + 40·Σ 0.2·J_style, with its own costs."""
    from nst_helpers.costs import (
        STYLE_LAYERS,
        compute_content_cost,
        compute_style_cost,
        total_cost,
    )
    from nst_helpers.vgg import make_feature_extractor

    extract = make_feature_extractor([n for n, _ in STYLE_LAYERS] + ["block4_conv2"], vgg=vgg)
    generated, targets_c, targets_s = extract(image), extract(content), extract(style)
    J_content = compute_content_cost(targets_c["block4_conv2"], generated["block4_conv2"])
    J_style = compute_style_cost(targets_s, generated, STYLE_LAYERS)
    return float(total_cost(J_content, J_style, 10, 40))


@pytest.mark.parametrize("peer", ["Tutorial", "Assignment"])
def test_peers_in_shared_mode_compute_the_shared_objective(bench, setting, peer):
    content, style, vgg = setting
    contender = getattr(bench, peer)(content, style, vgg, shared=True)
    before = tf.identity(contender.image)
    loss = contender.step()  # the loss of the image before the step
    expected = shared_objective(before, content, style, vgg)
    assert loss == pytest.approx(expected, rel=2e-3)
    assert not np.allclose(contender.image.numpy(), before.numpy())  # it did step


def test_the_engine_with_uniform_weights_computes_the_shared_objective(bench, setting):
    content, style, vgg = setting
    start = tf.clip_by_value(content + 0.1, 0.0, 1.0)
    engine = bench.Engine(start, style, vgg, precision="float32", weighting="uniform")
    # Engine's content target is its own start image here; compare with that objective.
    loss = engine.step()
    assert loss == pytest.approx(shared_objective(start, start, style, vgg), rel=2e-3)


def test_gflop_count_by_hand(bench):
    # block1_conv1 alone at 32 px: 32²·9·3·64 multiply-adds, forward + input gradient,
    # plus its Gram (64x64 over 1024 positions, forward and backward).
    expected = (2 * 2.0 * 1024 * 9 * 3 * 64 + 3 * 2.0 * 1024 * 64 * 64) / 1e9
    assert bench.step_gflop(32, "block1_conv1") == pytest.approx(expected)
    assert bench.step_gflop(256, "block5_conv4") > bench.step_gflop(256, "block5_conv1")
