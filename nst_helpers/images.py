"""Loading, resizing, saving and showing images for style transfer.

Images in the public API are float32 tensors in [0, 1] of shape (1, H, W, 3), RGB.
Loading handles grayscale, RGBA, palette, 16-bit and EXIF-rotated files; a missing
file, a non-image, a truncated file or a decompression bomb raises ``ImageError``
(or ``FileNotFoundError``) naming the path and the problem. Not for VGG preprocessing:
that happens inside the feature extractor (``nst_helpers.vgg``).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps, UnidentifiedImageError

from nst_helpers.files import write_atomically

#: Images with more pixels than this are refused as likely decompression bombs.
MAX_PIXELS = 100_000_000

SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
                ".tiff": "TIFF", ".webp": "WEBP"}  # fmt: skip


class ImageError(ValueError):
    """An image file that cannot be used: the message names the path and the problem."""


def _to_rgb_array(picture: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to an (H, W, 3) float32 array in [0, 1]."""
    mode = picture.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(picture, dtype=np.float64)
        if mode.startswith("I;16"):
            scale = 65535.0
        elif mode == "I":
            scale = 65535.0 if values.max() > 255 else 255.0
        else:
            scale = max(1.0, float(values.max()))
        gray = np.clip(values / scale, 0.0, 1.0).astype(np.float32)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "P":
        picture = picture.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = picture.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(background, rgba)
    rgb = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255.0
    return rgb


def _target_size(width: int, height: int, max_size: int | None) -> tuple[int, int]:
    if max_size is None or max(width, height) <= max_size:
        return width, height
    scale = max_size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def load_image(path, max_size: int | None = 512, max_pixels: int = MAX_PIXELS) -> tf.Tensor:
    """Load an image file as a float32 tensor of shape (1, H, W, 3), RGB in [0, 1].

    Args:
        path: the image file.
        max_size: the longest side after resizing (aspect ratio kept); ``None`` keeps
            the original size. Images are only ever shrunk, never enlarged.
        max_pixels: files with more pixels are refused (decompression-bomb guard).

    Returns:
        The image as a ``tf.Tensor``.

    Raises:
        FileNotFoundError: the file does not exist.
        ImageError: the file is not an image, is truncated or corrupt, or is too large.
    """
    path = Path(path)
    if max_size is not None and (not isinstance(max_size, int) or max_size < 1):
        raise ValueError(f"max_size must be a positive whole number of pixels, got {max_size!r}.")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file. Check the path and the file name.")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file.")
    previous_limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = max_pixels
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as picture:
                picture.load()
                picture = ImageOps.exif_transpose(picture)
                width, height = picture.size
                rgb = _to_rgb_array(picture)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{path}: image too large: more than {max_pixels:,} pixels, refused as a possible "
            "decompression bomb. Shrink it (or, from Python, pass a larger max_pixels)."
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{path}: not an image file Pillow can read. Use a PNG, JPEG, BMP, TIFF or WebP file."
        ) from None
    except OSError as error:
        raise ImageError(
            f"{path}: the image is truncated or corrupt ({error}). Re-download or re-export it."
        ) from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit
    image = tf.constant(rgb[None, ...], dtype=tf.float32)
    new_width, new_height = _target_size(width, height, max_size)
    if (new_width, new_height) != (width, height):
        image = resize_image(image, (new_height, new_width))
    return image


def image_batch(images) -> tf.Tensor:
    """``images`` as a float32 tensor of RGB images, shape (1, H, W, 3), values in [0, 1].

    Raises ``ValueError`` naming the shape it got when ``images`` is not such a batch.
    """
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    if images.shape.rank != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"expected RGB images of shape (1, H, W, 3), got {images.shape}. "
            "Load them with nst_helpers.load_image."
        )
    return images


def resize_image(image, size: tuple[int, int]) -> tf.Tensor:
    """Resize a (1, H, W, 3) image to ``size`` = (height, width), antialiased, kept in [0, 1]."""
    image = tf.convert_to_tensor(image, dtype=tf.float32)
    if len(size) != 2:
        raise ValueError(f"size must be (height, width), got {size!r}.")
    height, width = int(size[0]), int(size[1])
    if height < 1 or width < 1:
        raise ValueError(f"cannot resize to {height}x{width}: both sides must be at least 1 pixel.")
    resized = tf.image.resize(image, (height, width), method="bicubic", antialias=True)
    return tf.clip_by_value(resized, 0.0, 1.0)


def _as_uint8_array(image) -> np.ndarray:
    if image is None:
        raise ValueError("the image is None: expected an RGB image of shape (1, H, W, 3).")
    array = np.asarray(image, dtype=np.float32)
    shape = array.shape
    if array.ndim == 4:
        if shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of shape {shape}.")
        array = array[0]
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (1, H, W, 3), got shape {shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError("the image holds NaN or infinite values; nothing was saved.")
    return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)


def save_image(image, path) -> Path:
    """Save a [0, 1] RGB image ((1, H, W, 3) or (H, W, 3)) to ``path``; return the path.

    The format follows the extension. The file is written atomically: a reader never
    sees a half-written file, and an existing file is only replaced once the new one
    is complete.
    """
    path = Path(path)
    image_format = SAVE_FORMATS.get(path.suffix.lower())
    if image_format is None:
        raise ValueError(
            f"{path}: unknown image extension {path.suffix!r}; use one of "
            f"{', '.join(sorted(SAVE_FORMATS))}."
        )
    pixels = _as_uint8_array(image)
    encoded = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(encoded, format=image_format)
    return write_atomically(path, encoded.getvalue())


def show_images(images, titles=None, columns: int | None = None, size: float = 4.0):
    """Show images side by side in a grid with titles; return the matplotlib figure.

    Args:
        images: a list of (1, H, W, 3) or (H, W, 3) images in [0, 1].
        titles: one title per image, or None.
        columns: images per row; all in one row by default (at most 4).
        size: the height in inches of each image.
    """
    import matplotlib.pyplot as plt

    images = list(images)
    if not images:
        raise ValueError("show_images needs at least one image.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles.")
    columns = columns or min(len(images), 4)
    rows = -(-len(images) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            axis.imshow(_as_uint8_array(images[index]))
            if titles is not None:
                axis.set_title(titles[index])
    figure.tight_layout()
    return figure
