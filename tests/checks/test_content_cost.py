"""compute_content_cost: each classic mistake gets its own message; correct variants pass.

Every wrong implementation below is a mistake learners make; the test asserts the words of
the message the check gives it, so that a check that stops naming a mistake fails.
"""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import checks, costs
from tests.checks.helpers import expect_failure, hidden_verdicts, quoted_numbers

NAME = "compute_content_cost"


def content_dims(a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    return n_H, n_W, n_C


def test_content_returned_none():
    def blank(a_C, a_G):
        J_content = None
        return J_content

    expect_failure(NAME, blank, "returned None", "not filled in")


def test_content_untouched_release_unpacking_none_says_fill_in():
    def blank(a_C, a_G):
        _, n_H, n_W, n_C = None
        return None

    expect_failure(NAME, blank, "raised TypeError", "not filled in")


def test_content_numpy_result():
    def with_numpy(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return np.sum((a_C.numpy() - a_G.numpy()) ** 2) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, with_numpy, "NumPy", "instead of a TensorFlow tensor")


def test_content_python_float_result():
    def as_float(a_C, a_G):
        return float(costs.compute_content_cost(a_C, a_G))

    expect_failure(NAME, as_float, "Python float", "do not call .numpy()")


def test_content_wrong_shape():
    def kept_dims(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.reduce_sum(tf.square(a_C - a_G), keepdims=True) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, kept_dims, "shape (1, 1, 1, 1)", "expected a scalar")


def test_content_forgot_to_sum():
    def no_sum(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.square(a_C - a_G) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, no_sum, "you forgot to sum (tf.reduce_sum)")


def test_content_missing_quarter():
    def no_quarter(a_C, a_G):
        return tf.reduce_mean(tf.square(a_C - a_G))

    expect_failure(NAME, no_quarter, "off by a factor 4", "missing the 1/4")


def test_content_wrong_dimensions():
    def wrong_axes(a_C, a_G):
        n_H, n_W, n_C = a_G.get_shape().as_list()[:3]  # the batch axis m taken as n_H
        return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, wrong_axes, "off by a factor n_C = 7", "wrong dimensions")
    for verdict in hidden_verdicts(NAME, wrong_axes, 4):  # no size of a hidden case
        assert "off by a factor n_C:" in verdict and not quoted_numbers(verdict)


def test_content_operator_precedence():
    def precedence(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.reduce_sum(tf.square(a_C - a_G)) / 4 * n_H * n_W * n_C

    expect_failure(NAME, precedence, "operator precedence", "/ (4 * n_H")


def test_content_not_squared():
    def not_squared(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.reduce_sum(a_C - a_G) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, not_squared, "forgot to square the differences")


def test_content_norm_without_square():
    def norm(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.norm(a_C - a_G) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, norm, "square root (a norm, tf.norm)", "tf.norm(...) ** 2")


def test_content_absolute_values_instead_of_squares():
    def absolute(a_C, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_sum(tf.abs(a_C - a_G)) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, absolute, "absolute values (tf.abs)", "tf.square")


def test_content_reduce_mean_and_the_full_normaliser():
    def mean_then_divide(a_C, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_mean(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, mean_then_divide, "tf.reduce_mean", "tf.reduce_sum")


def test_content_subtracts_a_tensor_from_itself():
    def self_difference(a_C, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_sum(tf.square(a_C - a_C)) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, self_difference, "returned 0", "a_C - a_G")


def test_content_unnamed_mistake_points_to_equation_1():
    def cubed(a_C, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_sum(tf.abs(a_C - a_G) ** 3) / (4 * n_H * n_W * n_C)

    message = expect_failure(NAME, cubed, "equation (1) of the notebook")
    assert "equation above" not in message


def test_content_property_cost_with_itself_is_zero():
    def ignores_a_G(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.reduce_sum(tf.square(a_C)) / (4 * n_H * n_W * n_C)

    expect_failure(NAME, ignores_a_G, "with itself must be 0")


def test_content_other_error_keeps_its_traceback():
    def broken(a_C, a_G):
        return tf.reduce_sum(tf.square(a_C - a_G)) / undefined_name  # noqa: F821

    with pytest.raises(AssertionError, match="raised NameError") as raised:
        checks.check(NAME, broken)
    assert isinstance(raised.value.__cause__, NameError)


def _norm_squared(a_C, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    return tf.norm(a_C - a_G) ** 2 / (4 * n_H * n_W * n_C)


def _mean_over_four(a_C, a_G):
    return tf.reduce_mean(tf.square(a_C - a_G)) / 4


def _unrolled(a_C, a_G):
    m, n_H, n_W, n_C = a_G.get_shape().as_list()
    a_C_unrolled = tf.reshape(a_C, shape=[m, -1, n_C])
    a_G_unrolled = tf.reshape(a_G, shape=[m, -1, n_C])
    return tf.reduce_sum(tf.square(a_C_unrolled - a_G_unrolled)) / (4 * n_H * n_W * n_C)


def _dynamic_shapes(a_C, a_G):
    shape = tf.cast(tf.shape(a_G), tf.float32)
    return tf.reduce_sum((a_G - a_C) ** 2) / (4.0 * shape[1] * shape[2] * shape[3])


@pytest.mark.parametrize("variant", [_norm_squared, _mean_over_four, _unrolled, _dynamic_shapes])
def test_correct_variants_pass_every_draw(variant, capsys):
    """Right answers written otherwise (a squared norm, a mean divided by 4, unrolled first,
    dynamic shapes) are never misnamed: the check passes, and so does every hidden draw."""
    checks.check(NAME, variant)
    assert "All tests passed." in capsys.readouterr().out
    for seed in range(100):
        assert set(hidden_verdicts(NAME, variant, seed)) == {None}, seed
