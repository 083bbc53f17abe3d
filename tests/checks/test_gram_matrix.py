"""gram_matrix: each classic mistake gets its own message; correct variants pass."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import checks, costs
from tests.checks.helpers import expect_failure, hidden_verdicts

NAME = "gram_matrix"


def test_gram_returned_none():
    def blank(A):
        GA = None
        return GA

    expect_failure(NAME, blank, "gram_matrix returned None", "START CODE HERE")


def test_gram_transposed_the_wrong_matrix():
    def positions(A):
        return tf.matmul(tf.transpose(A), A)

    expect_failure(NAME, positions, "transpose(A)·A", "tf.matmul(A, tf.transpose(A))")


def test_gram_element_wise():
    def element_wise(A):
        return A * A

    expect_failure(NAME, element_wise, "multiplied element-wise")


def test_gram_numpy():
    def with_numpy(A):
        return np.dot(A.numpy(), A.numpy().T)

    expect_failure(NAME, with_numpy, "NumPy ndarray instead of a TensorFlow tensor")


@pytest.mark.parametrize(
    "numpy_idiom",
    [lambda A: np.dot(A, A.T), lambda A: A @ A.T, lambda A: tf.matmul(A, A.transpose())],
    ids=["np.dot(A, A.T)", "A @ A.T", "A.transpose()"],
)
def test_gram_numpy_idioms_on_a_tensor_point_to_tf_matmul(numpy_idiom):
    """A.T raises AttributeError with TensorFlow's advice to enable NumPy behaviour: the check
    says instead to use tf.matmul and tf.transpose."""
    message = expect_failure(NAME, numpy_idiom, "tf.matmul(A, tf.transpose(A))", "tf.transpose(A)")
    assert "on a TensorFlow tensor" in message and "ignore the suggestion" in message
    assert set(hidden_verdicts(NAME, numpy_idiom, 3)) == {message}


def test_gram_without_the_transpose():
    def no_transpose(A):
        return tf.matmul(A, A)

    expect_failure(NAME, no_transpose, "without the transpose", "tf.matmul(A, tf.transpose(A))")


def test_gram_without_the_transpose_on_a_square_matrix_is_told_by_its_values():
    A = np.random.RandomState(0).randn(6, 6).astype(np.float32)
    case = {"A": A}
    verdict = checks.judge(NAME, case, checks.run_case(lambda A: tf.matmul(A, A), NAME, case))
    assert "without the transpose" in verdict


def test_gram_normalised():
    def normalised(A):
        return tf.matmul(A, tf.transpose(A)) / tf.cast(tf.shape(A)[1], tf.float32)

    expect_failure(NAME, normalised, "you normalised the Gram matrix")


def test_gram_not_symmetric():
    def lopsided(A):
        gram = tf.matmul(A, tf.transpose(A))
        return gram + tf.linalg.band_part(tf.ones_like(gram), 0, -1)

    expect_failure(NAME, lopsided, "not symmetric")


def test_gram_mistakes_on_a_square_matrix_are_told_by_their_values():
    A = np.random.RandomState(0).randn(6, 6).astype(np.float32)
    case = {"A": A}

    def verdict(function):
        return checks.judge(NAME, case, checks.run_case(function, NAME, case))

    assert verdict(costs.gram_matrix) is None
    assert "element-wise" in verdict(lambda A: A * A)
    assert "transpose(A)·A" in verdict(lambda A: tf.matmul(tf.transpose(A), A))


def test_gram_wrong_values_show_arrays_only_on_public_cases():
    def off(A):
        gram = tf.matmul(A, tf.transpose(A))
        return gram + 0.5 * tf.eye(tf.shape(A)[0])

    public = expect_failure(NAME, off, "expected")
    assert "[[" in public  # the learner sees both matrices on the public case
    hidden = hidden_verdicts(NAME, off, 11)[0]
    assert "wrong matrix" in hidden and "[" not in hidden


@pytest.mark.parametrize(
    "variant",
    [
        lambda A: tf.matmul(A, A, transpose_b=True),
        lambda A: tf.linalg.matmul(A, tf.transpose(A)),
        lambda A: tf.einsum("ij,kj->ik", A, A),
        lambda A: tf.tensordot(A, A, axes=[[1], [1]]),
        lambda A: A @ tf.transpose(A),
    ],
    ids=["transpose_b", "linalg", "einsum", "tensordot", "@"],
)
def test_correct_variants_pass_every_draw(variant, capsys):
    checks.check(NAME, variant)
    assert "All tests passed." in capsys.readouterr().out
    for seed in range(100):
        assert set(hidden_verdicts(NAME, variant, seed)) == {None}, seed
