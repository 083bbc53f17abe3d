"""The tiny deterministic network on which the train_step checks run, and its NumPy twin.

Three 3x3 convolutions whose kernels come from a case's NumPy arrays (never from
TensorFlow's random streams), each followed by a softplus: a smooth activation, so that
the rounding of TF32 matmuls on GPUs moves a gradient a little, and never across a ReLU's
kink, which would move single pixels of a step a lot. ``TinyFeatureExtractor`` is the
TensorFlow stand-in for VGG19 that the learner's step runs on, fast and identical on
every machine; ``cost_parts`` computes, in float64 NumPy with hand-written
backpropagation, the same network's content and per-layer style costs of an image and
their gradients: the independent reference the train_step judge compares a learner's
step with. Not for training real images, and not for judging (see
``nst_helpers.checks.train_step``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nst_helpers.checks.common import normal_array

TINY_LAYERS = ("conv1", "conv2", "conv3")
TINY_CONTENT_LAYER = "conv2"
TINY_STRIDES = {"conv1": 1, "conv2": 2, "conv3": 2}
TINY_CHANNELS = (3, 4, 6, 8)
#: The style weights of every case: far from uniform, so that a step that ignores them shows.
TINY_STYLE_WEIGHTS = (0.1, 0.1, 0.8)


def random_network_case(random_state: np.random.RandomState, size: int) -> dict[str, np.ndarray]:
    """Kernels and images of one tiny problem (float32 arrays)."""
    case = {}
    for index, layer in enumerate(TINY_LAYERS):
        fan_in = 9 * TINY_CHANNELS[index]
        shape = (3, 3, TINY_CHANNELS[index], TINY_CHANNELS[index + 1])
        case[f"kernel_{layer}"] = normal_array(random_state, shape, np.sqrt(2.0 / fan_in))
    content = random_state.uniform(0.0, 1.0, (1, size, size, 3)).astype(np.float32)
    style = random_state.uniform(0.0, 1.0, (1, size, size, 3)).astype(np.float32)
    noise = random_state.uniform(-0.6, 0.6, content.shape).astype(np.float32)
    case["content_image"] = content
    case["style_image"] = style
    # Many pixels start exactly at 0 or 1, so that a step without clipping leaves [0, 1].
    case["generated_image"] = np.clip(content + noise, 0.0, 1.0).astype(np.float32)
    case["style_weights"] = np.asarray(TINY_STYLE_WEIGHTS, dtype=np.float32)
    return case


class TinyFeatureExtractor:
    """A deterministic three-convolution stand-in for VGG19, built from a case's kernels.

    Like ``nst_helpers.vgg.FeatureExtractor`` it maps (1, H, W, 3) images in [0, 1] to
    ``{layer_name: activation}``.
    """

    def __init__(self, case: dict[str, np.ndarray]):
        import tensorflow as tf

        self.kernels = {name: tf.constant(case[f"kernel_{name}"]) for name in TINY_LAYERS}

    def __call__(self, images):
        import tensorflow as tf

        outputs = {}
        x = tf.convert_to_tensor(images, dtype=tf.float32) - 0.5
        for name in TINY_LAYERS:
            x = tf.nn.softplus(
                tf.nn.conv2d(x, self.kernels[name], strides=TINY_STRIDES[name], padding="SAME")
            )
            outputs[name] = x
        return outputs


def tiny_style_layers(case: dict[str, np.ndarray], weights=None) -> list[tuple[str, float]]:
    """The (layer_name, weight) pairs of a train_step case (``weights`` overrides the case's)."""
    weights = case["style_weights"] if weights is None else weights
    return [(name, float(w)) for name, w in zip(TINY_LAYERS, weights, strict=True)]


# ----------------------------------------------------------- the float64 NumPy twin


@dataclass(frozen=True)
class CostParts:
    """The costs of one image on a case's tiny network and their gradients (float64).

    ``J_content`` and each style layer's ``J_layers[l]`` are unweighted; the gradients
    have the image's shape (1, H, W, 3). Any weighted total is a combination of these.
    """

    J_content: float
    J_layers: tuple[float, ...]
    grad_content: np.ndarray
    grad_layers: tuple[np.ndarray, ...]

    def cost(self, alpha: float, beta: float, style_weights) -> float:
        """alpha * J_content + beta * sum_l weight_l * J_layer_l."""
        J_style = sum(float(w) * J for w, J in zip(style_weights, self.J_layers, strict=True))
        return alpha * self.J_content + beta * J_style

    def gradient(self, alpha: float, beta: float, style_weights) -> np.ndarray:
        """The gradient of ``cost(alpha, beta, style_weights)`` with respect to the image."""
        total = alpha * self.grad_content
        for weight, grad in zip(style_weights, self.grad_layers, strict=True):
            total = total + beta * float(weight) * grad
        return total


def _same_padding(size: int, stride: int) -> tuple[int, int, int]:
    """TensorFlow's SAME padding of a 3x3 window: (output size, pad before, pad after)."""
    output = -(-size // stride)
    total = max((output - 1) * stride + 3 - size, 0)
    return output, total // 2, total - total // 2


def _convolve(x: np.ndarray, kernel: np.ndarray, stride: int) -> tuple[np.ndarray, tuple]:
    """3x3 convolution of x (H, W, C_in), SAME padding; returns the output and a cache."""
    height, width, _ = x.shape
    out_h, top, bottom = _same_padding(height, stride)
    out_w, left, right = _same_padding(width, stride)
    padded = np.pad(x, ((top, bottom), (left, right), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(0, 1))
    windows = windows[: (out_h - 1) * stride + 1 : stride, : (out_w - 1) * stride + 1 : stride]
    # (out_h, out_w, C_in, 3, 3) -> patches (out_h*out_w, 3*3*C_in), in the kernel's order.
    patches = windows.transpose(0, 1, 3, 4, 2).reshape(out_h * out_w, -1)
    output = (patches @ kernel.reshape(-1, kernel.shape[-1])).reshape(out_h, out_w, -1)
    return output, (x.shape, padded.shape, top, left, stride)


def _convolve_backward(d_output: np.ndarray, kernel: np.ndarray, cache: tuple) -> np.ndarray:
    """The gradient with respect to a convolution's input, given its output's gradient."""
    input_shape, padded_shape, top, left, stride = cache
    out_h, out_w, _ = d_output.shape
    d_patches = d_output.reshape(out_h * out_w, -1) @ kernel.reshape(-1, kernel.shape[-1]).T
    d_patches = d_patches.reshape(out_h, out_w, 3, 3, input_shape[2])
    d_padded = np.zeros(padded_shape)
    rows, columns = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    for row in range(3):
        for column in range(3):
            d_padded[row : row + rows : stride, column : column + columns : stride] += d_patches[
                :, :, row, column
            ]
    return d_padded[top : top + input_shape[0], left : left + input_shape[1]]


def _forward(case, image):
    """Activations {layer: (H, W, C)} in float64, and what backpropagation needs."""
    x = np.asarray(image, dtype=np.float64)[0] - 0.5
    activations, caches = {}, {}
    for name in TINY_LAYERS:
        kernel = np.asarray(case[f"kernel_{name}"], dtype=np.float64)
        pre_activation, cache = _convolve(x, kernel, TINY_STRIDES[name])
        caches[name] = (kernel, cache, 1.0 / (1.0 + np.exp(-pre_activation)))  # softplus'
        x = np.logaddexp(0.0, pre_activation)
        activations[name] = x
    return activations, caches


def activations64(case: dict[str, np.ndarray], image: np.ndarray) -> dict[str, np.ndarray]:
    """The tiny network's activations of ``image`` (1, H, W, 3): {layer: (1, H, W, C)}, float64."""
    activations, _ = _forward(case, image)
    return {name: value[np.newaxis] for name, value in activations.items()}


def _backward(caches, d_activations: dict[str, np.ndarray]) -> np.ndarray:
    """The gradient with respect to the image, given the gradients at the activations."""
    d_x = None
    for name in reversed(TINY_LAYERS):
        kernel, cache, slope = caches[name]
        d_activation = d_activations.get(name)
        if d_x is not None:
            d_activation = d_x if d_activation is None else d_activation + d_x
        if d_activation is None:
            d_x = None
            continue
        d_x = _convolve_backward(d_activation * slope, kernel, cache)
    return np.zeros((1,) + caches[TINY_LAYERS[0]][1][0]) if d_x is None else d_x[np.newaxis]


def _gram(activation: np.ndarray) -> np.ndarray:
    unrolled = activation.reshape(-1, activation.shape[-1])  # (positions, channels)
    return unrolled.T @ unrolled


def targets64(case: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What the costs compare with, in float64: the content image's activation at the content
    layer (``"content"``) and the style image's Gram matrix at each layer (by layer name)."""
    content, _ = _forward(case, case["content_image"])
    style, _ = _forward(case, case["style_image"])
    targets = {name: _gram(style[name]) for name in TINY_LAYERS}
    targets["content"] = content[TINY_CONTENT_LAYER]
    return targets


def cost_parts(case: dict[str, np.ndarray], image: np.ndarray, targets=None) -> CostParts:
    """The content and per-layer style costs of ``image`` on the case's network, and their
    gradients with respect to the image, in float64 NumPy (an independent reference).

    ``targets``: ``targets64(case)``, when the caller has it already.
    """
    targets = targets64(case) if targets is None else targets
    generated, caches = _forward(case, image)
    a_G, a_C = generated[TINY_CONTENT_LAYER], targets["content"]
    J_content = float(np.sum((a_C - a_G) ** 2) / (4.0 * a_G.size))
    grad_content = _backward(caches, {TINY_CONTENT_LAYER: (a_G - a_C) / (2.0 * a_G.size)})
    J_layers, grad_layers = [], []
    for name in TINY_LAYERS:
        a = generated[name]
        positions, channels = a.shape[0] * a.shape[1], a.shape[2]
        normaliser = 4.0 * channels**2 * positions**2
        difference = _gram(a) - targets[name]  # G_G - G_S
        J_layers.append(float(np.sum(difference**2) / normaliser))
        # dJ/dG_G = 2 (G_G - G_S) / normaliser; dJ/dA = 2 A dJ/dG_G (G is symmetric).
        unrolled = a.reshape(positions, channels)
        d_activation = (4.0 / normaliser) * (unrolled @ difference)
        grad_layers.append(_backward(caches, {name: d_activation.reshape(a.shape)}))
    return CostParts(J_content, tuple(J_layers), grad_content, tuple(grad_layers))


def tiny_costs(
    case: dict[str, np.ndarray], image: np.ndarray, style_weights=None
) -> tuple[float, float, float]:
    """(J_content, J_style, J) of ``image`` on a train_step case's network, in float64 NumPy.

    ``style_weights`` replaces the case's style weights (to compute what a mistake returns).
    """
    parts = cost_parts(case, image)
    weights = case["style_weights"] if style_weights is None else style_weights
    J_style = parts.cost(0.0, 1.0, weights)
    alpha, beta = float(case["alpha"]), float(case["beta"])
    return parts.J_content, J_style, alpha * parts.J_content + beta * J_style
