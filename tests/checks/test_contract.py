"""The learner checks' contract, for every exercise: the reference passes its check and every
hidden draw, cases are reproducible NumPy, and a result is described as plain arrays."""

import re

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import checks, costs
from nst_helpers.checks.registry import is_public_case
from tests.checks.helpers import REFERENCES


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
def test_reference_passes_the_learner_check(function_name, capsys):
    checks.check(function_name, REFERENCES[function_name])
    assert "All tests passed." in capsys.readouterr().out


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
def test_reference_compiled_with_tf_function_passes(function_name, capsys):
    """Learners may decorate their function with @tf.function; the check must still work."""
    checks.check(function_name, tf.function(REFERENCES[function_name]))
    assert "All tests passed." in capsys.readouterr().out


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
@pytest.mark.parametrize("seed", [0, 7, 123])
def test_reference_passes_hidden_cases(function_name, seed):
    for case in checks.cases(function_name, seed):
        returned = checks.run_case(REFERENCES[function_name], function_name, case)
        assert checks.judge(function_name, case, returned) is None


@pytest.mark.parametrize(
    "function_name",
    ["compute_content_cost", "gram_matrix", "compute_layer_style_cost", "total_cost"],
)
def test_reference_never_fails_a_hidden_draw(function_name):
    """A correct submission must score on every seed the grader may draw (it once did not:
    a square A, n_H*n_W == n_C, was taken for an element-wise product). train_step has its
    own, in test_train_step.py."""
    for seed in range(300):
        for case in checks.cases(function_name, seed):
            returned = checks.run_case(REFERENCES[function_name], function_name, case)
            assert checks.judge(function_name, case, returned) is None, (seed, case.keys())


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
def test_cases_are_reproducible_float32_numpy(function_name):
    for seed in (None, 3):
        first, second = checks.cases(function_name, seed), checks.cases(function_name, seed)
        assert len(first) == len(second) >= 1
        for one, other in zip(first, second, strict=True):
            assert one.keys() == other.keys()
            for key in one:
                assert isinstance(one[key], np.ndarray) and one[key].dtype == np.float32
                np.testing.assert_array_equal(one[key], other[key])


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
def test_public_cases_are_told_from_hidden_ones(function_name):
    make_cases = checks.exercise(function_name).make_cases
    assert all(is_public_case(make_cases, case) for case in checks.cases(function_name))
    assert not any(is_public_case(make_cases, case) for case in checks.cases(function_name, 4))
    case = dict(checks.cases(function_name)[0])
    key = sorted(case)[0]
    case[key] = case[key] + np.float32(1.0)  # one value changed: no longer the public case
    assert not is_public_case(make_cases, case)


@pytest.mark.parametrize("function_name", ["compute_content_cost", "compute_layer_style_cost"])
def test_activation_cases_have_three_different_sizes(function_name):
    for seed in (None, 0, 1, 2):
        activation = checks.cases(function_name, seed)[0]["a_G"]
        _, n_H, n_W, n_C = activation.shape
        assert len({n_H, n_W, n_C}) == 3


def test_hidden_cases_differ_from_public_ones():
    public = checks.cases("compute_layer_style_cost")[0]["a_S"]
    hidden = checks.cases("compute_layer_style_cost", 5)[0]["a_S"]
    assert public.shape != hidden.shape or not np.array_equal(public, hidden)


def test_unknown_function_name_is_a_value_error():
    with pytest.raises(ValueError, match="unknown graded function 'gram'"):
        checks.cases("gram")


def test_describe_kinds():
    assert checks.describe(None, "total_cost").kind == "none"
    assert checks.describe(tf.constant(1.0), "total_cost").kind == "tf"
    assert checks.describe(tf.Variable(1.0), "total_cost").kind == "tf"
    assert checks.describe(np.float32(1.0), "total_cost").kind == "numpy"
    assert checks.describe(np.ones(2), "total_cost").kind == "numpy"
    assert checks.describe(1.5, "total_cost").kind == "python"
    other = checks.describe("1.5", "total_cost")
    assert other.kind == "other" and other.type_name == "str"


def test_judge_accepts_tf32_sized_errors_and_rejects_larger_ones():
    case = checks.cases("compute_layer_style_cost")[0]
    exact = float(costs.compute_layer_style_cost(case["a_S"], case["a_G"]))
    near = checks.Returned("tf", "EagerTensor", np.asarray(exact * (1 + 2e-3)))
    far = checks.Returned("tf", "EagerTensor", np.asarray(exact * 1.1))
    assert checks.judge("compute_layer_style_cost", case, near) is None
    assert checks.judge("compute_layer_style_cost", case, far) is not None


def test_not_a_function():
    with pytest.raises(AssertionError, match=re.escape("is None, not a function")):
        checks.check_gram_matrix(None)


def test_unknown_static_shapes_inside_tf_function_get_their_own_hint():
    spec = tf.TensorSpec([1, None, None, None], tf.float32)

    @tf.function(input_signature=[spec, spec])
    def compute_layer_style_cost(a_S, a_G):
        _, n_H, n_W, n_C = a_G.shape
        a_S = tf.transpose(tf.reshape(a_S, [-1, n_C]))
        a_G = tf.transpose(tf.reshape(a_G, [-1, n_C]))
        difference = tf.matmul(a_S, a_S, transpose_b=True) - tf.matmul(a_G, a_G, transpose_b=True)
        return tf.reduce_sum(difference**2) / (4.0 * n_C**2 * (n_H * n_W) ** 2)

    with pytest.raises(AssertionError, match=re.escape("tf.shape(a_G)")) as raised:
        checks.check("compute_layer_style_cost", compute_layer_style_cost)
    assert "not filled in" not in str(raised.value)


FORGED = {
    "NaN": lambda shape: checks.Returned("tf", "EagerTensor", np.full(shape, np.nan)),
    "infinite": lambda shape: checks.Returned("tf", "EagerTensor", np.full(shape, np.inf)),
    "huge": lambda shape: checks.Returned("tf", "EagerTensor", np.zeros((2000, 2000))),
    "no value": lambda shape: checks.Returned("tf", "EagerTensor", None),
    "unknown kind": lambda shape: checks.Returned("forged", "x" * 10_000, np.zeros(shape)),
    "garbage extra": lambda shape: checks.Returned(
        "tf", "EagerTensor", np.full(shape, 1e300), {"images": "x", "signature_defaults": None}
    ),
}


@pytest.mark.parametrize("forgery", FORGED)
@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
def test_a_forged_result_gets_a_message_never_an_exception_or_a_pass(function_name, forgery):
    """The grader's judge sees only what the child sent back: a forged kind, shape, NaN,
    missing or huge value gives a message (train_step's records: test_train_step.py)."""
    for seed in (None, 2):
        for case in checks.cases(function_name, seed):
            reference = checks.run_case(REFERENCES[function_name], function_name, case)
            shape = () if reference.value is None else reference.value.shape
            verdict = checks.judge(function_name, case, FORGED[forgery](shape))
            assert isinstance(verdict, str) and verdict, (seed, verdict)
            assert len(verdict) < 2000


def test_problem_is_the_check_without_printing(capsys):
    """checks.problem gives the check's message (None when it passes) and prints nothing: the
    way for a notebook to use a learner's function only once it passes its check."""
    assert checks.problem("gram_matrix", costs.gram_matrix) is None
    message = checks.problem("gram_matrix", lambda A: A * A)
    assert "element-wise" in message
    assert "not a function" in checks.problem("gram_matrix", None)
    assert capsys.readouterr().out == ""
    with pytest.raises(AssertionError, match="element-wise"):
        checks.check_gram_matrix(lambda A: A * A)
