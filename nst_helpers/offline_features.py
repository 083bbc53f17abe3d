"""Offline features: a seeded, procedural network that shows style transfer without ImageNet.

Without the ImageNet VGG19 weights, a VGG19 with random weights (``vgg``'s stand-in) turns
every picture into coloured noise over the photo: its random filters do not sum to zero,
so they mostly measure local average colour, and their Gram matrices carry colour
statistics and little structure. This network is built instead so that its features
answer to structure (edges, spots and lines, at several scales) and, separately, to
colour, the two things a Gram matrix needs to describe a style:

* an image pyramid: the image minus the ImageNet mean, divided by 0.25, then five levels,
  each one the previous blurred with the binomial kernel [1, 4, 6, 4, 1]/16 (separable,
  replicated borders) and halved; level ``n`` has the resolution of VGG19's block ``n``;
* at each level a "structure" layer: 32 random filters each of 3, 5 and 7 px (96
  channels), each filter's mean removed per colour channel (a flat patch of any colour
  gives 0), ReLU, replicated borders;
* one "colour" layer: 32 random 1x1 filters on level 1, ReLU;
* every channel scaled once so that its response to a seeded pink-noise image has a root
  mean square of 1 (no data needed). All weights come from one seed through NumPy's
  legacy ``RandomState`` in a fixed order, and the scaling is computed in float64 NumPy,
  so the network is identical on every machine and TensorFlow version.

It answers to VGG19's layer names by resolution, so the notebooks and the engine run
unchanged: ``block1_*`` is the colour layer and the level-1 structure layer side by side
(like VGG19's first block, which sees colour and edges), ``block{n}_*`` for n = 2..5 the
level-n structure layer. Its own names (``colour``, ``structure1`` ... ``structure5``)
work too. Its recommended settings (``RECOMMENDED_SETTINGS``) travel with it.

It is NOT VGG19 and knows nothing of objects: deep "blocks" here are blurred edges, not
eyes and wheels. It is for pictures offline (CI, classrooms without internet), not for
judging what ImageNet features do. Selection and the announcement are in ``vgg``
(``load_vgg19("offline")``); this module only builds and runs the network.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from nst_helpers.images import image_batch

#: The seed of every weight, drawn in a fixed order (see ``draw_weights``).
DEFAULT_SEED = 0
LEVELS = 5
FILTER_SIZES = (3, 5, 7)
FILTERS_PER_SIZE = 32
COLOUR_FILTERS = 32
STRUCTURE_CHANNELS = FILTERS_PER_SIZE * len(FILTER_SIZES)
#: The ImageNet mean (RGB, in [0, 1] units) and the spread the input is divided by.
IMAGENET_MEAN_RGB = (123.68 / 255.0, 116.779 / 255.0, 103.939 / 255.0)
INPUT_SPREAD = 0.25
BINOMIAL_KERNEL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
#: The side of the seeded pink-noise image used to scale the channels, and its seed.
PINK_NOISE_SIZE = 128
PINK_NOISE_SEED = 1234

COLOUR = "colour"
STRUCTURE_NAMES = [f"structure{level}" for level in range(1, LEVELS + 1)]
OWN_LAYER_NAMES = [COLOUR, *STRUCTURE_NAMES]

#: What the engine and notebook 5 use with this network when the user sets nothing else:
#: content from level 2 (half resolution: level 4, VGG19's default ``block4_conv2``, keeps
#: too little of the photo here), the usual style layers with equal weights, and α/β
#: chosen by looking at the bundled samples (docs/stylize.md).
RECOMMENDED_SETTINGS = {
    "alpha": 1.0,
    "beta": 100.0,
    "content_layer": "block2_conv2",
    "style_layers": (
        ("block1_conv1", 0.2),
        ("block2_conv1", 0.2),
        ("block3_conv1", 0.2),
        ("block4_conv1", 0.2),
        ("block5_conv1", 0.2),
    ),
}

LABEL = (
    "offline features: not VGG19, made to show style transfer without the download "
    "(procedural multi-scale network, seed {seed})"
)


def own_layers_of(layer_name: str) -> tuple[str, ...]:
    """The network's own layers behind ``layer_name`` (a VGG19 name or an own name).

    Raises:
        ValueError: a name that is neither, listing the names it understands.
    """
    if layer_name in OWN_LAYER_NAMES:
        return (layer_name,)
    if (
        isinstance(layer_name, str)
        and layer_name.startswith("block")
        and "_conv" in layer_name
        and layer_name[5:].split("_conv")[0] in {str(n) for n in range(1, LEVELS + 1)}
        and layer_name.split("_conv")[1] in {"1", "2", "3", "4"}
    ):
        level = int(layer_name[5])
        return (COLOUR, "structure1") if level == 1 else (f"structure{level}",)
    raise ValueError(
        f"unknown layer {layer_name!r} for the offline features; use a VGG19 convolution "
        f"name (block1_conv1 ... block5_conv4: block n is level n) or one of {OWN_LAYER_NAMES}."
    )


# --------------------------------------------------------------------------- weights


def _pink_noise(size: int, seed: int) -> np.ndarray:
    """A (size, size, 3) float64 image of independent 1/f noise per channel, unit spread."""
    random_state = np.random.RandomState(seed)
    white = random_state.standard_normal((3, size, size))
    frequencies = np.sqrt(np.fft.fftfreq(size)[:, None] ** 2 + np.fft.fftfreq(size)[None, :] ** 2)
    frequencies[0, 0] = 1.0
    spectrum = np.fft.fft2(white) / frequencies
    spectrum[:, 0, 0] = 0.0
    noise = np.real(np.fft.ifft2(spectrum))
    noise /= noise.std(axis=(1, 2), keepdims=True)
    return np.transpose(noise, (1, 2, 0))


def pink_noise_image(size: int = PINK_NOISE_SIZE, seed: int = PINK_NOISE_SEED) -> np.ndarray:
    """The seeded pink-noise image the channels are scaled on, as a [0, 1]-style RGB array.

    Its preprocessed form (minus the ImageNet mean, divided by 0.25) is unit-spread 1/f
    noise; values may leave [0, 1], which the network does not mind.
    """
    return np.asarray(IMAGENET_MEAN_RGB) + INPUT_SPREAD * _pink_noise(size, seed)


def draw_raw_weights(seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """The unscaled float64 kernels, drawn with ``RandomState(seed)`` in a fixed order.

    For each level 1..5, for each filter size 3, 5, 7: 32 filters of shape (size, size, 3)
    from a standard normal, each one's mean over its window removed per colour channel,
    placed in the centre of a 7x7 kernel (zeros around); then the 1x1 colour kernel (3, 32).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}.")
    random_state = np.random.RandomState(int(seed))
    largest = max(FILTER_SIZES)
    weights = {}
    for name in STRUCTURE_NAMES:
        kernel = np.zeros((largest, largest, 3, STRUCTURE_CHANNELS))
        for index, size in enumerate(FILTER_SIZES):
            filters = random_state.standard_normal((size, size, 3, FILTERS_PER_SIZE))
            filters -= filters.mean(axis=(0, 1), keepdims=True)
            start = (largest - size) // 2
            channels = slice(index * FILTERS_PER_SIZE, (index + 1) * FILTERS_PER_SIZE)
            kernel[start : start + size, start : start + size, :, channels] = filters
        weights[name] = kernel
    weights[COLOUR] = random_state.standard_normal((1, 1, 3, COLOUR_FILTERS))
    return weights


def _numpy_blur_and_halve(image: np.ndarray) -> np.ndarray:
    """The binomial blur with replicated borders, then every other pixel (float64)."""
    padded = np.pad(image, ((2, 2), (2, 2), (0, 0)), mode="edge")
    rows = sum(w * padded[k : k + image.shape[0], :, :] for k, w in enumerate(BINOMIAL_KERNEL))
    both = sum(w * rows[:, k : k + image.shape[1], :] for k, w in enumerate(BINOMIAL_KERNEL))
    return both[::2, ::2, :]


def _numpy_convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A stride-1 convolution with replicated borders, same size out (float64)."""
    half = kernel.shape[0] // 2
    padded = np.pad(image, ((half, half), (half, half), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape[:2], axis=(0, 1))
    # windows: (H, W, channels_in, kh, kw); kernel: (kh, kw, channels_in, channels_out)
    return np.einsum("hwcij,ijco->hwo", windows, kernel, optimize=True)


def numpy_features(image, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The network's layers for one (H, W, 3) image, in float64 NumPy: the reference.

    Used to scale the channels, and by the tests as an independent check of the
    TensorFlow network. ``weights`` as from ``draw_raw_weights`` or ``OfflineFeatureNetwork``.
    """
    level = (np.asarray(image, np.float64) - np.asarray(IMAGENET_MEAN_RGB)) / INPUT_SPREAD
    features = {}
    for index, name in enumerate(STRUCTURE_NAMES):
        if index > 0:
            level = _numpy_blur_and_halve(level)
        if index == 0:
            features[COLOUR] = np.maximum(np.tensordot(level, weights[COLOUR][0, 0], axes=1), 0)
        features[name] = np.maximum(_numpy_convolve(level, weights[name]), 0.0)
    return features


def draw_weights(seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """The float32 kernels of the network: ``draw_raw_weights`` with every output channel
    scaled so that its response to ``pink_noise_image()`` has a root mean square of 1."""
    raw = draw_raw_weights(seed)
    responses = numpy_features(pink_noise_image(), raw)
    scaled = {}
    for name, kernel in raw.items():
        root_mean_square = np.sqrt(np.mean(responses[name] ** 2, axis=(0, 1)))
        scaled[name] = (kernel / root_mean_square).astype(np.float32)
    return scaled


# --------------------------------------------------------------------------- network


def _replicate_pad(images: tf.Tensor, amount: int) -> tf.Tensor:
    """Pad rows and columns by repeating the border pixels (differentiable)."""
    top = tf.repeat(images[:, :1], amount, axis=1)
    bottom = tf.repeat(images[:, -1:], amount, axis=1)
    images = tf.concat([top, images, bottom], axis=1)
    left = tf.repeat(images[:, :, :1], amount, axis=2)
    right = tf.repeat(images[:, :, -1:], amount, axis=2)
    return tf.concat([left, images, right], axis=2)


def _blur_and_halve(images: tf.Tensor, blur: tf.Tensor) -> tf.Tensor:
    padded = _replicate_pad(images, 2)
    return tf.nn.depthwise_conv2d(padded, blur, strides=[1, 2, 2, 1], padding="VALID")


class OfflineFeatureNetwork:
    """The procedural feature network, built from ``seed`` (see the module's docstring).

    Attributes:
        seed: the seed of its weights.
        weights_label: what it is, for every place that shows which network was used.
        is_stand_in: True (it is not the ImageNet VGG19).
        is_offline_features: True (the random VGG19 and ImageNet's have False).
        recommended_settings: the α, β, content layer and style layers to use with it.
        kernels: the float32 kernels by own layer name (NumPy arrays).
    """

    is_stand_in = True
    is_offline_features = True

    def __init__(self, seed: int = DEFAULT_SEED):
        self.seed = int(seed) if not isinstance(seed, bool) else seed
        self.kernels = draw_weights(seed)
        self.weights_label = LABEL.format(seed=self.seed)
        self.recommended_settings = dict(RECOMMENDED_SETTINGS)
        self._constants = {name: tf.constant(value) for name, value in self.kernels.items()}
        blur = np.outer(BINOMIAL_KERNEL, BINOMIAL_KERNEL).astype(np.float32)
        self._blur = tf.constant(np.tile(blur[:, :, None, None], (1, 1, 3, 1)))
        self._mean = tf.constant(np.asarray(IMAGENET_MEAN_RGB, np.float32))

    def own_features(self, images, own_names) -> dict[str, tf.Tensor]:
        """The requested own layers (``colour``, ``structureN``) of (1, H, W, 3) images."""
        images = tf.convert_to_tensor(images, dtype=tf.float32)
        wanted = set(own_names)
        deepest = max((STRUCTURE_NAMES.index(n) for n in wanted if n != COLOUR), default=0)
        level = (images - self._mean) / INPUT_SPREAD
        features = {}
        for index in range(deepest + 1):
            name = STRUCTURE_NAMES[index]
            if index > 0:
                level = _blur_and_halve(level, self._blur)
            if index == 0 and COLOUR in wanted:
                colour = tf.nn.conv2d(level, self._constants[COLOUR], 1, "VALID")
                features[COLOUR] = tf.nn.relu(colour)
            if name in wanted:
                half = self.kernels[name].shape[0] // 2
                padded = _replicate_pad(level, half)
                response = tf.nn.conv2d(padded, self._constants[name], 1, "VALID")
                features[name] = tf.nn.relu(response)
        return features

    def feature_extractor(self, layer_names) -> OfflineFeatureExtractor:
        """A callable mapping [0, 1] RGB images to ``{layer_name: activation}``."""
        return OfflineFeatureExtractor(self, layer_names)

    def __repr__(self) -> str:
        return f"OfflineFeatureNetwork(seed={self.seed})"


class OfflineFeatureExtractor:
    """Maps [0, 1] RGB images of shape (1, H, W, 3) to ``{layer_name: activation}``.

    The same interface as ``vgg.FeatureExtractor``; a VGG19 name gives the layer of the
    same resolution (``block1_*``: colour and structure side by side).
    """

    def __init__(self, network: OfflineFeatureNetwork, layer_names):
        names = list(dict.fromkeys(layer_names))
        if not names:
            raise ValueError("layer_names is empty: ask for at least one layer.")
        self.sources = {name: own_layers_of(name) for name in names}
        self.network = network
        self.layer_names = names
        self.weights_label = network.weights_label
        self.is_stand_in = network.is_stand_in
        self.is_offline_features = True
        self.recommended_settings = dict(network.recommended_settings)
        self._own = sorted({own for sources in self.sources.values() for own in sources})

    def __call__(self, images) -> dict[str, tf.Tensor]:
        images = image_batch(images)
        own = self.network.own_features(images, self._own)
        return {
            name: own[sources[0]] if len(sources) == 1 else tf.concat([own[s] for s in sources], -1)
            for name, sources in self.sources.items()
        }

    def __repr__(self) -> str:
        return f"OfflineFeatureExtractor(layers={self.layer_names}, weights={self.weights_label!r})"
