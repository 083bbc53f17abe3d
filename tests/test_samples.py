"""The bundled sample images: present, small, licensed, loadable, and reproducible."""

import importlib.util

import numpy as np
import pytest
from PIL import Image

from nst_helpers import samples
from tests.conftest import ROOT

REPO = ROOT
DATA = REPO / "data"


def _make_samples_module():
    spec = importlib.util.spec_from_file_location("make_samples", DATA / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_images_are_listed_and_small():
    contents = samples.content_images()
    styles = samples.style_images()
    assert len(contents) >= 3 and len(styles) >= 3
    # Only what the repository ships: users may add weights in data/pretrained-model/.
    shipped = contents + styles + [DATA / "SOURCES.md", DATA / "make_samples.py"]
    total = sum(path.stat().st_size for path in shipped)
    assert total < 2_000_000, f"the bundled data is {total} bytes; keep it under 2 MB"
    for path in contents + styles:
        with Image.open(path) as picture:
            assert max(picture.size) <= 512, path
            assert picture.mode == "RGB", path


def test_every_image_has_origin_and_licence_in_sources():
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for path in samples.content_images() + samples.style_images():
        assert f"`{path.name}`" in sources, f"{path.name} is not listed in data/SOURCES.md"
    assert "public domain" in sources and "CC0" in sources


def test_sample_pair_by_name_and_stem():
    content, style = samples.sample_pair("chelsea", "waves.jpg")
    assert content.name == "chelsea.jpg" and style.name == "waves.jpg"
    assert samples.sample_pair()[0].is_file()


def test_sample_pair_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="coffee.jpg"):
        samples.sample_pair("no-such-photo")


def test_missing_data_folder_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("NST_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="NST_DATA_DIR"):
        samples.content_images()


def test_style_images_are_reproducible_from_the_script(tmp_path):
    module = _make_samples_module()
    written = module.make_styles(tmp_path)
    assert sorted(path.name for path in written) == sorted(p.name for p in samples.style_images())
    for path in written:
        fresh = np.asarray(Image.open(path), dtype=np.float64)
        bundled = np.asarray(Image.open(DATA / "style" / path.name), dtype=np.float64)
        assert fresh.shape == bundled.shape
        # JPEG encoders differ slightly between Pillow builds; the drawing must not.
        assert np.mean(np.abs(fresh - bundled)) < 2.0, path.name
