"""The tolerances hold on GPUs that run float32 matrix products in TF32, shown on a CPU.

TF32 (NVIDIA Ampere and later, on by default in TensorFlow) rounds the operands of a
float32 matmul to a 10-bit mantissa and accumulates in float32. This emulates it in NumPy
(round the operands, multiply in float64, round the result to float32) and checks that
the learner checks accept such results on every public case and on many hidden draws, and
that the tolerances of tests/test_costs.py cover the emulated error of its own inputs.
For train_step it emulates TF32 in TensorFlow (convolutions, forward and backward, and Gram
matrices rounded so) and shows that the judge accepts such a step.
"""

import numpy as np
import pytest

from nst_helpers import checks
from nst_helpers.checks import Returned
from tests.test_costs import SHAPES, STYLE_RTOL, numpy_layer_style_cost, random_activation


def tf32(values) -> np.ndarray:
    """Round float32 values to TF32's 10-bit mantissa (round to nearest)."""
    bits = np.array(values, dtype=np.float32).view(np.uint32)
    bits = (bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)
    return bits.view(np.float32)


def tf32_gram(A) -> np.ndarray:
    rounded = tf32(A).astype(np.float64)
    return (rounded @ rounded.T).astype(np.float32).astype(np.float64)


def tf32_layer_style_cost(a_S, a_G) -> float:
    _, n_H, n_W, n_C = a_S.shape

    def gram(a):
        return tf32_gram(a.reshape(-1, n_C).T)

    difference = gram(a_S) - gram(a_G)
    return float(np.sum(difference**2) / (4 * n_C**2 * (n_H * n_W) ** 2))


def test_the_emulation_rounds_to_ten_bits():
    assert tf32([1 + 2**-12])[0] == 1.0
    assert tf32([1 + 2**-10])[0] == np.float32(1 + 2**-10)
    assert tf32([3.0])[0] == 3.0


def tf32_result(value) -> Returned:
    return Returned(kind="tf", type_name="EagerTensor", value=np.asarray(value, np.float64))


@pytest.mark.parametrize("seed", [None, *range(100)])
def test_learner_checks_accept_tf32_results(seed):
    for case in checks.cases("gram_matrix", seed):
        assert checks.judge("gram_matrix", case, tf32_result(tf32_gram(case["A"]))) is None
    for case in checks.cases("compute_layer_style_cost", seed):
        J = tf32_layer_style_cost(case["a_S"], case["a_G"])
        assert checks.judge("compute_layer_style_cost", case, tf32_result(J)) is None


@pytest.mark.parametrize("shape", SHAPES)
def test_style_tolerance_of_the_core_tests_covers_tf32(shape):
    a_S, a_G = random_activation(shape, 5), random_activation(shape, 6)
    exact = numpy_layer_style_cost(a_S, a_G)
    assert abs(tf32_layer_style_cost(a_S, a_G) - exact) <= STYLE_RTOL * exact + 1e-6


def test_the_emulated_error_is_real():
    """Without this the tests above could pass on an emulation that changes nothing."""
    a_S, a_G = random_activation((1, 5, 9, 2), 5), random_activation((1, 5, 9, 2), 6)
    exact = numpy_layer_style_cost(a_S, a_G)
    assert abs(tf32_layer_style_cost(a_S, a_G) - exact) > 1e-6 * exact


# ----------------------------------------------------------------- the train_step judge


def tf32_tensor(values):
    """TF32 rounding of a float32 tensor, in TensorFlow (for the emulated train_step)."""
    import tensorflow as tf

    bits = tf.bitcast(tf.convert_to_tensor(values, tf.float32), tf.uint32)
    bits = tf.bitwise.bitwise_and(
        bits + tf.constant(0x1000, tf.uint32), tf.constant(0xFFFFE000, tf.uint32)
    )
    return tf.bitcast(bits, tf.float32)


def tf32_convolution(x, kernel, stride):
    """A SAME 3x3 convolution whose forward and input-gradient products round their operands
    to TF32, as cuDNN does on Ampere GPUs."""
    import tensorflow as tf

    @tf.custom_gradient
    def convolve(x):
        y = tf.nn.conv2d(tf32_tensor(x), tf32_tensor(kernel), strides=stride, padding="SAME")

        def gradient(dy):
            return tf.raw_ops.Conv2DBackpropInput(
                input_sizes=tf.shape(x),
                filter=tf32_tensor(kernel),
                out_backprop=tf32_tensor(dy),
                strides=[1, stride, stride, 1],
                padding="SAME",
            )

        return y, gradient

    return convolve(x)


def tf32_gram_tensor(A):
    import tensorflow as tf

    @tf.custom_gradient
    def gram(A):
        G = tf.matmul(tf32_tensor(A), tf32_tensor(A), transpose_b=True)
        return G, lambda dG: tf.matmul(tf32_tensor(dG + tf.transpose(dG)), tf32_tensor(A))

    return gram(A)


def tf32_extract(self, images):
    """TinyFeatureExtractor.__call__ with TF32 convolutions."""
    import tensorflow as tf

    from nst_helpers.checks.tiny_network import TINY_LAYERS, TINY_STRIDES

    outputs = {}
    x = tf.convert_to_tensor(images, dtype=tf.float32) - 0.5
    for name in TINY_LAYERS:
        x = tf.nn.softplus(tf32_convolution(x, self.kernels[name], TINY_STRIDES[name]))
        outputs[name] = x
    return outputs


def tf32_train_step(generated_image, feature_extractor, content_targets, style_targets,
                    optimizer, content_layer, style_layers, alpha, beta):  # fmt: skip
    """A right train_step whose Gram matrices are TF32 products."""
    import tensorflow as tf

    from nst_helpers.costs import compute_content_cost

    def layer_cost(a_S, a_G):
        _, n_H, n_W, n_C = a_G.shape
        GS = tf32_gram_tensor(tf.transpose(tf.reshape(a_S, [-1, n_C])))
        GG = tf32_gram_tensor(tf.transpose(tf.reshape(a_G, [-1, n_C])))
        return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C**2 * (n_H * n_W) ** 2)

    with tf.GradientTape() as tape:
        activations = feature_extractor(generated_image)
        J_style = sum(w * layer_cost(style_targets[n], activations[n]) for n, w in style_layers)
        J_content = compute_content_cost(content_targets[content_layer], activations[content_layer])
        J = alpha * J_content + beta * J_style
    optimizer.apply_gradients([(tape.gradient(J, generated_image), generated_image)])
    generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
    return J


def test_the_train_step_judge_accepts_tf32_steps(monkeypatch):
    """The learner's step on a TF32 GPU: convolutions (forward and backward) and Gram matrices
    rounded to TF32, the step run twice eagerly (the compiled run is the same arithmetic).
    The judge accepts it on the public case and many hidden draws; and the emulation does
    change the result (else this test would show nothing)."""
    from nst_helpers.checks import tiny_network
    from nst_helpers.checks.step_reference import right_objective, trajectory

    monkeypatch.setattr(tiny_network.TinyFeatureExtractor, "__call__", tf32_extract)
    largest_error = 0.0
    for seed in [None, *range(20)]:
        for case in checks.cases("train_step", seed):
            returned = checks.run_case(
                tf32_train_step, "train_step", case, compile_step=lambda function: function
            )
            assert checks.judge("train_step", case, returned) is None, seed
            exact = trajectory(case, right_objective(case)).images[0]
            largest_error = max(largest_error, np.abs(returned.extra["images"][0] - exact).max())
    assert largest_error > 1e-5  # float32 alone stays below 1e-6
