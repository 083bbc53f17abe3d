"""The reference costs against an independent float64 NumPy implementation, properties and errors.

Inputs come from NumPy's legacy RandomState or are written out, so no expected value depends
on TensorFlow's random streams. Tolerances hold on GPUs that run float32 matrix products in
TF32 (10-bit mantissa): a Gram matrix is checked against the rounding-error bound of its
product, a style cost to STYLE_RTOL, which tests/test_tf32_tolerances.py shows covers the
emulated TF32 error of these very inputs. Sums without products get 1e-4.
"""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nst_helpers
from nst_helpers.costs import (
    STYLE_LAYERS,
    compute_content_cost,
    compute_layer_style_cost,
    compute_style_cost,
    gram_matrix,
    total_cost,
    unroll_activation,
)

SHAPES = [(1, 1, 1, 1), (1, 4, 3, 5), (1, 7, 2, 3), (1, 3, 8, 16), (1, 5, 9, 2), (1, 16, 12, 64)]


# ---- an independent float64 NumPy implementation ----------------------------------------------
def numpy_content_cost(a_C, a_G):
    _, n_H, n_W, n_C = a_C.shape
    return np.sum((a_C.astype(np.float64) - a_G.astype(np.float64)) ** 2) / (4 * n_H * n_W * n_C)


def numpy_unroll(a):
    _, n_H, n_W, n_C = a.shape
    unrolled = np.empty((n_C, n_H * n_W), dtype=np.float64)
    for channel in range(n_C):
        unrolled[channel] = [a[0, h, w, channel] for h in range(n_H) for w in range(n_W)]
    return unrolled


def numpy_gram(A):
    A = A.astype(np.float64)
    return np.array([[np.dot(A[i], A[j]) for j in range(A.shape[0])] for i in range(A.shape[0])])


def numpy_layer_style_cost(a_S, a_G):
    _, n_H, n_W, n_C = a_S.shape
    difference = numpy_gram(numpy_unroll(a_S)) - numpy_gram(numpy_unroll(a_G))
    return np.sum(difference**2) / (4 * n_C**2 * (n_H * n_W) ** 2)


def random_activation(shape, seed, positive=True):
    values = np.random.RandomState(seed).randn(*shape).astype(np.float32)
    return np.abs(values) if positive else values


#: TF32's unit roundoff: operands of a float32 matmul on a GPU may be rounded to 10 bits.
TF32_UNIT = 2.0**-11
#: Relative tolerance of a style cost (a sum of squared differences of Gram matrices).
STYLE_RTOL = 1e-2
#: Relative tolerance of sums without matrix products (float32 summation order only).
SUM_RTOL = 1e-4


def assert_close(actual, expected, rtol=STYLE_RTOL, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=atol)


# ---- agreement with the reference on many shapes -----------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
def test_content_cost_matches_numpy(shape):
    a_C, a_G = random_activation(shape, 1), random_activation(shape, 2)
    J = compute_content_cost(tf.constant(a_C), tf.constant(a_G))
    assert isinstance(J, tf.Tensor) and J.shape == ()
    assert_close(J, numpy_content_cost(a_C, a_G), rtol=SUM_RTOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_unroll_keeps_channels_apart(shape):
    a = random_activation(shape, 3, positive=False)
    np.testing.assert_array_equal(unroll_activation(tf.constant(a)).numpy(), numpy_unroll(a))


@pytest.mark.parametrize("n_C, positions", [(1, 1), (3, 7), (5, 2), (16, 40)])
def test_gram_matrix_matches_numpy(n_C, positions):
    A = np.random.RandomState(4).randn(n_C, positions).astype(np.float32)
    G = gram_matrix(tf.constant(A))
    assert G.shape == (n_C, n_C)
    assert_within_matmul_bound(G.numpy(), A)


def assert_within_matmul_bound(G, A):
    """|G − A·Aᵀ| within the rounding bound of a TF32 product (ample for float32 on a CPU)."""
    magnitude = np.abs(A.astype(np.float64)) @ np.abs(A.astype(np.float64)).T
    bound = 3 * TF32_UNIT * magnitude + 1e-6
    assert np.all(np.abs(G - numpy_gram(A)) <= bound)


def test_gram_matrix_of_a_written_out_matrix():
    A = tf.constant([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
    np.testing.assert_allclose(gram_matrix(A).numpy(), [[14.0, 4.0], [4.0, 5.0]])


@pytest.mark.parametrize("shape", SHAPES)
def test_layer_style_cost_matches_numpy(shape):
    a_S, a_G = random_activation(shape, 5), random_activation(shape, 6)
    J = compute_layer_style_cost(tf.constant(a_S), tf.constant(a_G))
    assert isinstance(J, tf.Tensor) and J.shape == ()
    assert_close(J, numpy_layer_style_cost(a_S, a_G))


def test_layer_style_cost_is_not_the_reshape_without_transpose():
    """The classic bug reshapes (1, n_H, n_W, n_C) straight to (n_C, n_H*n_W)."""
    a_S, a_G = random_activation((1, 4, 3, 5), 7), random_activation((1, 4, 3, 5), 8)

    def buggy(a):
        return np.reshape(a, (5, 12)).astype(np.float64)

    buggy_cost = np.sum((numpy_gram(buggy(a_S)) - numpy_gram(buggy(a_G))) ** 2) / (4 * 25 * 144)
    J = float(compute_layer_style_cost(a_S, a_G))
    correct = numpy_layer_style_cost(a_S, a_G)
    assert abs(buggy_cost - correct) > 10 * STYLE_RTOL * correct  # the two are far apart
    assert_close(J, correct)


def test_style_cost_is_the_weighted_sum_over_layers():
    shapes = {"block1_conv1": (1, 8, 6, 4), "block2_conv1": (1, 4, 3, 8)}
    style = {
        name: random_activation(shape, 10 + i) for i, (name, shape) in enumerate(shapes.items())
    }
    generated = {
        name: random_activation(shape, 20 + i) for i, (name, shape) in enumerate(shapes.items())
    }
    layers = [("block1_conv1", 0.7), ("block2_conv1", 0.3)]
    expected = sum(weight * numpy_layer_style_cost(style[n], generated[n]) for n, weight in layers)
    assert_close(compute_style_cost(style, generated, layers), expected)


def test_style_cost_ignores_extra_layers_and_uses_defaults():
    shapes = {name: (1, 4, 4, 3) for name, _ in STYLE_LAYERS}
    style = {name: random_activation(shape, 30) for name, shape in shapes.items()}
    generated = {name: random_activation(shape, 31) for name, shape in shapes.items()}
    generated["block4_conv2"] = random_activation((1, 2, 2, 2), 32)
    expected = numpy_layer_style_cost(style["block1_conv1"], generated["block1_conv1"])
    assert_close(compute_style_cost(style, generated), expected)  # five equal layers x 0.2


def test_total_cost():
    J = total_cost(tf.constant(2.0), tf.constant(3.0))
    assert isinstance(J, tf.Tensor)
    assert float(J) == pytest.approx(10 * 2.0 + 40 * 3.0)
    assert float(total_cost(1.5, 0.25, alpha=2, beta=8)) == pytest.approx(5.0)


def test_style_layers_default():
    assert STYLE_LAYERS == [(f"block{i}_conv1", 0.2) for i in range(1, 6)]
    assert nst_helpers.STYLE_LAYERS is STYLE_LAYERS


def test_costs_work_inside_tf_function_with_unknown_shapes():
    spec = tf.TensorSpec([1, None, None, None], tf.float32)

    @tf.function(input_signature=[spec, spec])
    def both(a, b):
        return compute_content_cost(a, b), compute_layer_style_cost(a, b)

    a, b = random_activation((1, 5, 3, 4), 40), random_activation((1, 5, 3, 4), 41)
    content, style = both(a, b)
    assert_close(content, numpy_content_cost(a, b), rtol=SUM_RTOL)
    assert_close(style, numpy_layer_style_cost(a, b))


# ---- properties --------------------------------------------------------------------------------
def activations(max_side=5, max_channels=6):
    shapes = st.tuples(
        st.just(1),
        st.integers(1, max_side),
        st.integers(1, max_side),
        st.integers(1, max_channels),
    )
    values = st.floats(-10, 10, width=32, allow_nan=False)
    return shapes.flatmap(lambda shape: arrays(np.float32, shape, elements=values))


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 12)),
              elements=st.floats(-10, 10, width=32)))  # fmt: skip
def test_gram_is_symmetric_and_positive_semidefinite(A):
    G = gram_matrix(tf.constant(A)).numpy().astype(np.float64)
    scale = max(1.0, float(np.abs(G).max()))
    np.testing.assert_allclose(G, G.T, atol=1e-5 * scale)
    assert np.linalg.eigvalsh((G + G.T) / 2).min() >= -1e-4 * scale


@settings(max_examples=40, deadline=None)
@given(activations())
def test_style_cost_is_zero_for_equal_inputs(a):
    assert float(compute_layer_style_cost(a, a)) == 0.0


@settings(max_examples=40, deadline=None)
@given(activations(), st.randoms(use_true_random=False))
def test_style_cost_is_invariant_to_permuting_positions(a, random):
    _, n_H, n_W, n_C = a.shape
    b = np.random.RandomState(random.randint(0, 2**31 - 1)).randn(*a.shape).astype(np.float32)
    order = list(range(n_H * n_W))
    random.shuffle(order)
    permuted = a.reshape(n_H * n_W, n_C)[order].reshape(a.shape)
    original, shuffled = (
        float(compute_layer_style_cost(a, b)),
        float(compute_layer_style_cost(permuted, b)),
    )
    assert shuffled == pytest.approx(original, rel=1e-3, abs=1e-5)


@settings(max_examples=40, deadline=None)
@given(activations(), st.integers(0, 2**31 - 1))
def test_content_cost_is_zero_exactly_when_equal(a, seed):
    assert float(compute_content_cost(a, a)) == 0.0
    other = a.copy()
    index = tuple(np.random.RandomState(seed).randint(0, side) for side in a.shape)
    other[index] += 1.0
    assert float(compute_content_cost(a, other)) > 0.0


# ---- gradients against finite differences ------------------------------------------------------
def finite_difference_gradient(function, x, epsilon=1e-6):
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = epsilon
        gradient[index] = (function(x + step) - function(x - step)) / (2 * epsilon)
    return gradient


@pytest.mark.parametrize(
    "cost, reference",
    [
        (compute_content_cost, numpy_content_cost),
        (compute_layer_style_cost, numpy_layer_style_cost),
    ],
)
def test_gradient_matches_finite_differences(cost, reference):
    a_fixed = random_activation((1, 3, 2, 4), 50).astype(np.float64)
    a_G = random_activation((1, 3, 2, 4), 51).astype(np.float64)
    variable = tf.Variable(a_G)
    with tf.GradientTape() as tape:
        J = cost(tf.constant(a_fixed), variable)
    analytic = tape.gradient(J, variable).numpy()
    numeric = finite_difference_gradient(lambda x: reference(a_fixed, x), a_G)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


# ---- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cost", [compute_content_cost, compute_layer_style_cost])
@pytest.mark.parametrize(
    "first, second, words",
    [
        (np.ones((4, 3, 2), np.float32), np.ones((4, 3, 2), np.float32), "(4, 3, 2) (rank 3)"),
        (np.ones((2, 4, 3, 2), np.float32), np.ones((2, 4, 3, 2), np.float32), "batch size 2"),
        (np.ones((1, 4, 3, 2), np.float32), np.ones((1, 3, 4, 2), np.float32), "(1, 4, 3, 2) and (1, 3, 4, 2)"),
        (None, np.ones((1, 4, 3, 2), np.float32), "is None"),
    ],
)  # fmt: skip
def test_bad_activations_raise_value_error_naming_shapes(cost, first, second, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        cost(first, second)


def test_gram_matrix_rejects_an_activation_that_was_not_unrolled():
    with pytest.raises(ValueError, match=r"\(1, 4, 3, 2\).*unroll"):
        gram_matrix(np.ones((1, 4, 3, 2), np.float32))


@pytest.mark.parametrize(
    "style_layers, words",
    [
        ("block1_conv1", "list of"),
        ([("block1_conv1",)], "pairs"),
        ([], "empty"),
        ([("block9_conv1", 1.0)], r"no activations for \['block9_conv1'\]"),
    ],
)
def test_style_cost_rejects_bad_style_layers(style_layers, words):
    activations = {"block1_conv1": random_activation((1, 2, 2, 2), 60)}
    with pytest.raises(ValueError, match=words):
        compute_style_cost(activations, activations, style_layers)


def test_style_cost_rejects_lists_of_activations():
    with pytest.raises(ValueError, match="must map layer names"):
        compute_style_cost([np.ones((1, 2, 2, 2))], [np.ones((1, 2, 2, 2))], [("a", 1.0)])


def test_total_cost_rejects_non_scalars():
    with pytest.raises(ValueError, match="J_content must be a scalar"):
        total_cost(np.ones(3, np.float32), 1.0)
    with pytest.raises(ValueError, match="got None"):
        total_cost(None, 1.0)


def test_integer_inputs_are_costs_in_float():
    assert float(total_cost(3, 2, alpha=0.1)) == pytest.approx(80.3)
    assert float(total_cost(1, 2, alpha=0.5, beta=0.5)) == pytest.approx(1.5)
    G = gram_matrix([[1, 2], [3, 4]])
    assert G.dtype == tf.float32
    np.testing.assert_array_equal(G.numpy(), [[5.0, 11.0], [11.0, 25.0]])


def test_gram_matrix_refuses_booleans():
    with pytest.raises(ValueError, match="bool values"):
        gram_matrix(np.ones((2, 3), dtype=bool))


def test_an_activation_with_no_values_is_refused():
    empty = np.zeros((1, 0, 3, 2), np.float32)
    with pytest.raises(ValueError, match=r"\(1, 0, 3, 2\): an activation with no values"):
        compute_content_cost(empty, empty)
