"""Image handling for the training engine: checking inputs, sizes per scale, start, colour.

``as_image`` checks a user's image, ``cover_resize`` fits the style image to a scale, ``initial_image`` makes the starting point (content, NumPy-seeded noise, or both)
and ``preserve_color`` is the luminance-only post-processing step. General loading and
saving live in ``nst_helpers.images``; this module serves ``nst_helpers.train``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from nst_helpers.images import load_image, resize_image


def as_image(image, name: str) -> tf.Tensor:
    """``image`` (a tensor, array or file path) as a (1, H, W, 3) float32 tensor, checked.

    Raises:
        ValueError: not one RGB image, or values outside [0, 1] or not finite.
    """
    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        image = load_image(image, max_size=None)
    image = tf.convert_to_tensor(image, dtype=tf.float32)
    if image.shape.rank == 3:
        image = image[None]
    if image.shape.rank != 4 or image.shape[0] != 1 or image.shape[-1] != 3:
        raise ValueError(f"{name} must be one RGB image of shape (1, H, W, 3), got {image.shape}.")
    values = image.numpy()
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise ValueError(f"{name} must hold finite values in [0, 1]; load it with load_image.")
    return image


def cover_resize(image: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """Resize ``image`` to cover ``size`` (aspect ratio kept), then crop the centre."""
    height, width = int(image.shape[1]), int(image.shape[2])
    scale = max(size[0] / height, size[1] / width)
    covered = resize_image(
        image, (max(size[0], round(height * scale)), max(size[1], round(width * scale)))
    )
    top = (int(covered.shape[1]) - size[0]) // 2
    left = (int(covered.shape[2]) - size[1]) // 2
    return covered[:, top : top + size[0], left : left + size[1], :]


def initial_image(content: tf.Tensor, init: str, noise_amount: float, seed: int) -> tf.Tensor:
    """The starting image: the content, uniform noise, or the content plus noise (clipped)."""
    random_state = np.random.RandomState(seed)
    shape = tuple(int(d) for d in content.shape)
    if init == "content":
        return tf.identity(content)
    if init == "noise":
        return tf.constant(random_state.uniform(0.0, 1.0, shape).astype(np.float32))
    if init == "mix":
        noise = random_state.uniform(-noise_amount, noise_amount, shape).astype(np.float32)
        return tf.clip_by_value(content + noise, 0.0, 1.0)
    raise ValueError(f"init must be 'content', 'noise' or 'mix', got {init!r}.")


def preserve_color(stylized, content) -> tf.Tensor:
    """Keep the luminance of ``stylized`` and the colour (chroma) of ``content`` (YUV space).

    ``content`` is resized to ``stylized``'s size if needed. Returns a [0, 1] image.
    """
    stylized = tf.convert_to_tensor(stylized, dtype=tf.float32)
    content = tf.convert_to_tensor(content, dtype=tf.float32)
    if content.shape[1:3] != stylized.shape[1:3]:
        content = resize_image(content, (int(stylized.shape[1]), int(stylized.shape[2])))
    luminance = tf.image.rgb_to_yuv(stylized)[..., :1]
    chroma = tf.image.rgb_to_yuv(content)[..., 1:]
    return tf.clip_by_value(tf.image.yuv_to_rgb(tf.concat([luminance, chroma], axis=-1)), 0.0, 1.0)
