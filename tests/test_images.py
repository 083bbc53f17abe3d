"""Loading, resizing, saving and showing images, including every bad file we promise to name."""

import io

import numpy as np
import pytest
from PIL import Image

from nst_helpers.images import ImageError, load_image, resize_image, save_image, show_images


def gradient_rgb(height=30, width=40):
    rows = np.linspace(0, 255, height)[:, None, None]
    columns = np.linspace(0, 255, width)[None, :, None]
    red = np.broadcast_to(rows, (height, width, 1))
    green = np.broadcast_to(columns, (height, width, 1))
    blue = np.full((height, width, 1), 128.0)
    return np.concatenate([red, green, blue], axis=2).astype(np.uint8)


def load_array(path, **kwargs):
    image = load_image(path, **kwargs)
    assert image.dtype.name == "float32"
    array = image.numpy()
    assert array.ndim == 4 and array.shape[0] == 1 and array.shape[3] == 3
    assert array.min() >= 0.0 and array.max() <= 1.0
    return array[0]


def test_rgb_round_trip(tmp_path):
    pixels = gradient_rgb()
    Image.fromarray(pixels).save(tmp_path / "a.png")
    np.testing.assert_allclose(
        load_array(tmp_path / "a.png", max_size=None), pixels / 255.0, atol=1e-6
    )


def test_resize_keeps_aspect_ratio_and_only_shrinks(tmp_path):
    Image.fromarray(gradient_rgb(300, 400)).save(tmp_path / "big.png")
    assert load_array(tmp_path / "big.png", max_size=100).shape == (75, 100, 3)
    Image.fromarray(gradient_rgb(30, 40)).save(tmp_path / "small.png")
    assert load_array(tmp_path / "small.png", max_size=100).shape == (30, 40, 3)


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = np.arange(0, 240, 2, dtype=np.uint8).reshape(10, 12)
    Image.fromarray(gray, mode="L").save(tmp_path / "gray.png")
    array = load_array(tmp_path / "gray.png")
    np.testing.assert_allclose(array[..., 0], gray / 255.0, atol=1e-6)
    np.testing.assert_array_equal(array[..., 0], array[..., 2])


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half transparent
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "alpha.png")
    array = load_array(tmp_path / "alpha.png")
    np.testing.assert_allclose(array[0, 0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(array[3, 3], [1.0, 1.0, 1.0])


def test_palette_image(tmp_path):
    picture = Image.fromarray(gradient_rgb()).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    picture.save(tmp_path / "palette.png")
    expected = np.asarray(picture.convert("RGB")) / 255.0
    np.testing.assert_allclose(load_array(tmp_path / "palette.png"), expected, atol=1e-6)


def test_sixteen_bit_grayscale_uses_its_full_range(tmp_path):
    values = np.array([[0, 32768], [65535, 16384]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    array = load_array(tmp_path / "deep.png")
    np.testing.assert_allclose(array[..., 1], values / 65535.0, atol=1e-6)


def test_exif_rotation_is_applied(tmp_path):
    pixels = gradient_rgb(20, 60)  # landscape as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(pixels).save(tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=95)
    assert load_array(tmp_path / "rotated.jpg").shape == (60, 20, 3)  # portrait as displayed


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.png: no such file"):
        load_image(tmp_path / "nothere.png")


def test_not_an_image_names_the_path(tmp_path):
    (tmp_path / "notes.png").write_text("this is text, not pixels")
    with pytest.raises(ImageError, match="notes.png: not an image file"):
        load_image(tmp_path / "notes.png")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("extension", ["png", "jpeg"])
def test_truncated_file_names_the_path_and_problem(tmp_path, extension):
    buffer = io.BytesIO()
    Image.fromarray(gradient_rgb(64, 64)).save(buffer, format=extension.upper())
    data = buffer.getvalue()
    (tmp_path / f"cut.{extension}").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=rf"cut.{extension}: the image is truncated or corrupt"):
        load_image(tmp_path / f"cut.{extension}")


@pytest.mark.parametrize("side", [40, 100])  # above the limit (a warning) and far above (an error)
def test_decompression_bomb_is_refused(tmp_path, side):
    Image.fromarray(gradient_rgb(side, side)).save(tmp_path / "bomb.png")
    with pytest.raises(ImageError, match="bomb.png: image too large"):
        load_image(tmp_path / "bomb.png", max_pixels=1000)
    assert Image.MAX_IMAGE_PIXELS != 1000  # the global limit is restored


def test_bad_max_size():
    with pytest.raises(ValueError, match="max_size"):
        load_image("whatever.png", max_size=0)


def test_resize_image():
    image = np.random.RandomState(0).rand(1, 20, 30, 3).astype(np.float32)
    resized = resize_image(image, (10, 15)).numpy()
    assert resized.shape == (1, 10, 15, 3)
    assert resized.min() >= 0.0 and resized.max() <= 1.0
    with pytest.raises(ValueError, match="at least 1 pixel"):
        resize_image(image, (0, 15))


def test_save_image_round_trip_and_atomic(tmp_path):
    image = np.random.RandomState(1).rand(1, 12, 9, 3).astype(np.float32)
    path = save_image(image, tmp_path / "out" / "result.png")
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.png"]
    np.testing.assert_allclose(load_array(path), image[0], atol=0.5 / 255 + 1e-6)


def test_save_image_refuses_bad_input_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "keep.png"
    good = np.full((1, 4, 4, 3), 0.5, np.float32)
    save_image(good, target)
    before = target.read_bytes()
    bad = good.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        save_image(bad, target)
    with pytest.raises(ValueError, match="batch"):
        save_image(np.zeros((2, 4, 4, 3)), target)
    with pytest.raises(ValueError, match="unknown image extension '.xyz'"):
        save_image(good, tmp_path / "result.xyz")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_show_images_grid_with_titles():
    import matplotlib.pyplot as plt

    images = [np.full((1, 5, 5, 3), value, np.float32) for value in (0.0, 0.5, 1.0)]
    figure = show_images(images, titles=["black", "grey", "white"], columns=2)
    titles = [axis.get_title() for axis in figure.axes]
    assert titles[:3] == ["black", "grey", "white"] and len(figure.axes) == 4
    plt.close(figure)
    with pytest.raises(ValueError, match="3 images but 2 titles"):
        show_images(images, titles=["a", "b"])


def test_saved_files_get_ordinary_permissions(tmp_path):
    import os

    image = np.full((1, 4, 4, 3), 0.5, np.float32)
    previous = os.umask(0o022)
    try:
        fresh = save_image(image, tmp_path / "fresh.png")
        assert fresh.stat().st_mode & 0o777 == 0o644
        existing = tmp_path / "shared.png"
        existing.write_bytes(b"old")
        existing.chmod(0o664)
        save_image(image, existing)
        assert existing.stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(previous)


def test_save_image_messages_name_the_input():
    with pytest.raises(ValueError, match="the image is None"):
        save_image(None, "x.png")
    with pytest.raises(ValueError, match=r"got shape \(1, 4, 4, 4\)"):
        save_image(np.zeros((1, 4, 4, 4)), "x.png")


def test_resize_image_needs_height_and_width():
    with pytest.raises(ValueError, match=r"\(height, width\)"):
        resize_image(np.zeros((1, 4, 4, 3), np.float32), (10,))


def test_decompression_bomb_message_states_one_limit(tmp_path):
    Image.fromarray(gradient_rgb(100, 100)).save(tmp_path / "bomb.png")
    with pytest.raises(ImageError) as raised:
        load_image(tmp_path / "bomb.png", max_pixels=1000)
    assert "more than 1,000 pixels" in str(raised.value)
    assert "2000" not in str(raised.value)
