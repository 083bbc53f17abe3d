"""The tiny deterministic network on which the train_step checks run one step.

Three 3x3 convolutions whose kernels come from a case's NumPy arrays (never from
TensorFlow's random streams), a stand-in for VGG19 that is fast and identical on every
machine; and the reference costs of an image on it. Used by the ``train_step`` exercise
(``nst_helpers.checks.train_step``); not for training real images.
"""

from __future__ import annotations

import numpy as np

from nst_helpers.checks.common import normal_array, scalar_array

TINY_LAYERS = ("conv1", "conv2", "conv3")
TINY_CONTENT_LAYER = "conv2"
TINY_STRIDES = {"conv1": 1, "conv2": 2, "conv3": 2}

#: The (alpha, beta) pairs a train_step case draws from. Never the defaults 10/40 (nor
#: 40/10), so that a train_step that ignores its alpha and beta arguments always fails;
#: alpha > 10 and beta > 40, so that 10 * J_content + 40 * J_style can never equal the
#: right cost; and beta/alpha near J_content/J_style on the tiny network, so that both terms
#: weigh in the total (a train_step that ignores the style weights then shows too).
TINY_ALPHA_BETA = ((20.0, 2000.0), (15.0, 1000.0), (30.0, 4000.0), (12.0, 600.0))


def train_step_case(random_state: np.random.RandomState, size: int) -> dict[str, np.ndarray]:
    """The arrays of one train_step case: kernels, images, style weights, optimiser settings."""
    channels = (3, 4, 6, 8)
    case = {}
    for index, layer in enumerate(TINY_LAYERS):
        fan_in = 9 * channels[index]
        shape = (3, 3, channels[index], channels[index + 1])
        case[f"kernel_{layer}"] = normal_array(random_state, shape, np.sqrt(2.0 / fan_in))
    content = random_state.uniform(0.0, 1.0, (1, size, size, 3)).astype(np.float32)
    style = random_state.uniform(0.0, 1.0, (1, size, size, 3)).astype(np.float32)
    noise = random_state.uniform(-0.6, 0.6, content.shape).astype(np.float32)
    case["content_image"] = content
    case["style_image"] = style
    # Many pixels start exactly at 0 or 1, so that a step without clipping leaves [0, 1].
    case["generated_image"] = np.clip(content + noise, 0.0, 1.0).astype(np.float32)
    # Far from uniform, so that a train_step ignoring the weights shows (on most draws).
    case["style_weights"] = np.asarray([0.1, 0.1, 0.8], dtype=np.float32)
    case["learning_rate"] = scalar_array(0.01)
    alpha, beta = TINY_ALPHA_BETA[random_state.randint(len(TINY_ALPHA_BETA))]
    case["alpha"] = scalar_array(alpha)
    case["beta"] = scalar_array(beta)
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
            x = tf.nn.relu(
                tf.nn.conv2d(x, self.kernels[name], strides=TINY_STRIDES[name], padding="SAME")
            )
            outputs[name] = x
        return outputs


def tiny_style_layers(case: dict[str, np.ndarray], weights=None) -> list[tuple[str, float]]:
    """The (layer_name, weight) pairs of a train_step case (``weights`` overrides the case's)."""
    weights = case["style_weights"] if weights is None else weights
    return [(name, float(w)) for name, w in zip(TINY_LAYERS, weights, strict=True)]


def tiny_costs(
    case: dict[str, np.ndarray], image: np.ndarray, style_weights=None
) -> tuple[float, float, float]:
    """(J_content, J_style, J) of ``image`` on a train_step case's tiny network (reference costs).

    ``style_weights`` replaces the case's style weights (to compute what a mistake returns).
    """
    import tensorflow as tf

    from nst_helpers.costs import compute_content_cost, compute_style_cost, total_cost

    extractor = TinyFeatureExtractor(case)
    content_targets = extractor(tf.constant(case["content_image"]))
    style_targets = extractor(tf.constant(case["style_image"]))
    generated = extractor(tf.constant(image, dtype=tf.float32))
    J_content = compute_content_cost(
        content_targets[TINY_CONTENT_LAYER], generated[TINY_CONTENT_LAYER]
    )
    J_style = compute_style_cost(style_targets, generated, tiny_style_layers(case, style_weights))
    J = total_cost(J_content, J_style, alpha=float(case["alpha"]), beta=float(case["beta"]))
    return float(J_content), float(J_style), float(J)
