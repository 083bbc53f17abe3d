"""The tolerances hold on GPUs that run float32 matrix products in TF32, shown on a CPU.

TF32 (NVIDIA Ampere and later, on by default in TensorFlow) rounds the operands of a
float32 matmul to a 10-bit mantissa and accumulates in float32. This emulates it in NumPy
(round the operands, multiply in float64, round the result to float32) and checks that
the learner checks accept such results on every public case and on many hidden draws, and
that the tolerances of tests/test_costs.py cover the emulated error of its own inputs.
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
