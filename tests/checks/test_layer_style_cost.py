"""compute_layer_style_cost: each classic mistake gets its own message; correct variants pass."""

import pytest
import tensorflow as tf

from nst_helpers import checks, costs
from tests.checks.helpers import expect_failure, hidden_verdicts, quoted_numbers

NAME = "compute_layer_style_cost"
DENOMINATOR = "4 * n_C**2 * (n_H*n_W)**2"


def style_cost_with(a_S, a_G, unroll, denominator, reduce=tf.reduce_sum):
    GS = tf.matmul(unroll(a_S), tf.transpose(unroll(a_S)))
    GG = tf.matmul(unroll(a_G), tf.transpose(unroll(a_G)))
    return reduce(tf.square(GS - GG)) / denominator


def dims(a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    return n_H, n_W, n_C


def good_unroll(a):
    return tf.transpose(tf.reshape(a, [-1, a.shape[-1]]))


def test_style_reshape_without_transpose():
    def no_transpose(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)

        def unroll(a):
            return tf.reshape(a, [n_C, n_H * n_W])

        return style_cost_with(a_S, a_G, unroll, 4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure(NAME, no_transpose, "unrolled without the transpose", "tf.transpose")


def test_style_reshape_to_channels_first_with_minus_one_without_transpose():
    def minus_one(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        return style_cost_with(
            a_S, a_G, lambda a: tf.reshape(a, [n_C, -1]), 4 * n_C**2 * (n_H * n_W) ** 2
        )

    expect_failure(NAME, minus_one, "unrolled without the transpose")


def test_style_grams_of_positions():
    def positions(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)

        def unroll(a):
            return tf.reshape(a, [n_H * n_W, n_C])

        return style_cost_with(a_S, a_G, unroll, 4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure(NAME, positions, "Gram matrices of positions")


def test_style_divided_by_n_C_instead_of_its_square():
    def n_C_once(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        return style_cost_with(a_S, a_G, good_unroll, 4 * n_C * (n_H * n_W) ** 2)

    expect_failure(NAME, n_C_once, "off by a factor n_C = 7", "instead of n_C**2")


def test_style_missing_quarter():
    def no_quarter(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        return style_cost_with(a_S, a_G, good_unroll, n_C**2 * (n_H * n_W) ** 2)

    expect_failure(NAME, no_quarter, "missing the 1/4")


def test_style_wrong_tensors_dimensions():
    def gram_size(a_S, a_G):
        _, _, n_C = dims(a_G)
        GS = tf.matmul(good_unroll(a_S), tf.transpose(good_unroll(a_S)))
        positions = GS.shape[1]  # n_C, the Gram matrix's size, not n_H * n_W
        return style_cost_with(a_S, a_G, good_unroll, 4 * n_C**2 * positions**2)

    expect_failure(NAME, gram_size, "wrong tensor's dimensions")


def test_style_sum_of_sizes_instead_of_their_product():
    """(n_H + n_W) where the denominator has n_H * n_W: named, not 'compare term by term'."""

    def plus(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        return style_cost_with(a_S, a_G, good_unroll, 4 * n_C**2 * (n_H + n_W) ** 2)

    message = expect_failure(NAME, plus, "(n_H + n_W)", "n_H * n_W", DENOMINATOR)
    assert "term by term" not in message
    for seed in range(30):
        for verdict in hidden_verdicts(NAME, plus, seed):
            assert "(n_H + n_W)" in verdict and not quoted_numbers(verdict), seed


def test_style_hidden_messages_quote_no_size():
    def n_C_once(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        return style_cost_with(a_S, a_G, good_unroll, 4 * n_C * (n_H * n_W) ** 2)

    expect_failure(NAME, n_C_once, "n_C = 7")  # the public case shows the size
    for verdict in hidden_verdicts(NAME, n_C_once, 8):
        assert "off by a factor n_C:" in verdict and not quoted_numbers(verdict)


def test_style_reduce_mean_instead_of_reduce_sum():
    """The mean over the n_C x n_C Gram difference divides by n_C**2 once more."""

    def with_mean(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        return style_cost_with(
            a_S, a_G, good_unroll, 4 * n_C**2 * (n_H * n_W) ** 2, reduce=tf.reduce_mean
        )

    expect_failure(
        NAME, with_mean, "n_C**2 times too small", "tf.reduce_mean instead of tf.reduce_sum"
    )


def test_style_reduce_mean_in_place_of_the_sum_and_its_normalisation():
    def mean_alone(a_S, a_G):
        return style_cost_with(a_S, a_G, good_unroll, 1.0, reduce=tf.reduce_mean)

    message = expect_failure(
        NAME, mean_alone, "tf.reduce_mean in place of the sum and its normalisation", DENOMINATOR
    )
    assert "term by term" not in message
    for seed in range(30):
        for verdict in hidden_verdicts(NAME, mean_alone, seed):
            assert "tf.reduce_mean" in verdict, seed


def test_style_absolute_values_instead_of_squares():
    def absolute(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        GS = tf.matmul(good_unroll(a_S), tf.transpose(good_unroll(a_S)))
        GG = tf.matmul(good_unroll(a_G), tf.transpose(good_unroll(a_G)))
        return tf.reduce_sum(tf.abs(GS - GG)) / (4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure(NAME, absolute, "absolute values (tf.abs)", "tf.square(GS - GG)")


def test_style_norm_without_square():
    def norm(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        GS = tf.matmul(good_unroll(a_S), tf.transpose(good_unroll(a_S)))
        GG = tf.matmul(good_unroll(a_G), tf.transpose(good_unroll(a_G)))
        return tf.norm(GS - GG) / (4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure(NAME, norm, "norm (tf.norm) of GS - GG without squaring")


def test_style_numpy_transpose_on_a_tensor():
    def dot_T(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        S = tf.reshape(a_S, [-1, n_C]).T
        G = tf.reshape(a_G, [-1, n_C]).T
        return tf.reduce_sum(tf.square(S @ S.T - G @ G.T)) / (4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure(NAME, dot_T, "used .T on a TensorFlow tensor", "tf.transpose(A)")


def test_style_unnamed_mistake_points_to_equation_2():
    def cubed(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        GS = tf.matmul(good_unroll(a_S), tf.transpose(good_unroll(a_S)))
        GG = tf.matmul(good_unroll(a_G), tf.transpose(good_unroll(a_G)))
        return tf.reduce_sum(tf.abs(GS - GG) ** 3) / (4 * n_C**2 * (n_H * n_W) ** 2)

    message = expect_failure(NAME, cubed, "equation (2) of the notebook")
    assert "equation above" not in message


def test_style_python_float():
    def as_float(a_S, a_G):
        return costs.compute_layer_style_cost(a_S, a_G).numpy().item()

    expect_failure(NAME, as_float, "Python float")


def test_style_returned_none():
    def blank(a_S, a_G):
        J_style_layer = None
        return J_style_layer

    expect_failure(NAME, blank, "compute_layer_style_cost returned None")


def _channels_first(a_S, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()

    def unroll(a):  # channels first, then flatten: the same rows as reshape-then-transpose
        return tf.reshape(tf.transpose(a, [0, 3, 1, 2]), [n_C, n_H * n_W])

    return style_cost_with(a_S, a_G, unroll, 4 * n_C**2 * (n_H * n_W) ** 2)


def _full_transpose(a_S, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()

    def unroll(a):  # positions in another order: the Gram matrix is the same
        return tf.reshape(tf.transpose(a), [n_C, -1])

    return style_cost_with(a_S, a_G, unroll, (2 * n_C * n_H * n_W) ** 2)


def _norm_squared(a_S, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    GS = tf.matmul(good_unroll(a_S), good_unroll(a_S), transpose_b=True)
    GG = tf.matmul(good_unroll(a_G), good_unroll(a_G), transpose_b=True)
    return tf.norm(GS - GG) ** 2 / (4 * n_C**2 * (n_H * n_W) ** 2)


def _mean_then_rest(a_S, a_G):
    _, n_H, n_W, _ = a_G.get_shape().as_list()
    return style_cost_with(a_S, a_G, good_unroll, 4 * (n_H * n_W) ** 2, reduce=tf.reduce_mean)


def _with_course_gram(a_S, a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    GS, GG = costs.gram_matrix(good_unroll(a_S)), costs.gram_matrix(good_unroll(a_G))
    return 1 / (4 * n_C**2 * (n_H * n_W) ** 2) * tf.reduce_sum((GS - GG) ** 2)


@pytest.mark.parametrize(
    "variant", [_channels_first, _full_transpose, _norm_squared, _mean_then_rest, _with_course_gram]
)
def test_correct_variants_pass_every_draw(variant, capsys):
    checks.check(NAME, variant)
    assert "All tests passed." in capsys.readouterr().out
    for seed in range(100):
        assert set(hidden_verdicts(NAME, variant, seed)) == {None}, seed
