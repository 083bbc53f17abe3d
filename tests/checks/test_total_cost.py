"""total_cost: each classic mistake gets its own message; correct variants pass."""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import checks
from tests.checks.helpers import expect_failure, hidden_verdicts, quoted_numbers

NAME = "total_cost"


def test_total_alpha_beta_swapped():
    def swapped(J_content, J_style, alpha=10, beta=40):
        return beta * J_content + alpha * J_style

    expect_failure(NAME, swapped, "alpha and beta are swapped")


def test_total_defaults_swapped_in_the_signature_points_at_the_signature():
    """A right body with alpha=40, beta=10 in the signature: the message must not repeat the
    line the learner wrote, but point at the defaults."""

    def defaults_swapped(J_content, J_style, alpha=40, beta=10):
        return alpha * J_content + beta * J_style

    message = expect_failure(
        NAME,
        defaults_swapped,
        "default values of alpha and beta in your signature are swapped",
        "your formula is right",
        "def total_cost(J_content, J_style, alpha=10, beta=40)",
    )
    assert "J = alpha * J_content + beta * J_style" not in message
    for seed in range(20):  # the grader, from the defaults recorded in the learner's process
        verdicts = hidden_verdicts(NAME, defaults_swapped, seed)  # default, explicit, ...
        assert all("your signature are swapped" in verdict for verdict in verdicts[0::2])
        assert verdicts[1::2] == [None, None]


def test_total_other_wrong_defaults_point_at_the_signature():
    def other_defaults(J_content, J_style, alpha=1, beta=4):
        return alpha * J_content + beta * J_style

    expect_failure(NAME, other_defaults, "are not alpha=10, beta=40", "your formula is right")


def test_total_without_default_values():
    def no_defaults(J_content, J_style, alpha, beta):
        return alpha * J_content + beta * J_style

    expect_failure(NAME, no_defaults, "no default value for alpha or beta", "alpha=10, beta=40")


def test_total_swapped_body_without_recorded_defaults_mentions_the_signature():
    """A judge that gets no recorded defaults (an older record) still points at both places."""
    case = checks.cases(NAME)[0]
    value = 40 * float(case["J_content"]) + 10 * float(case["J_style"])
    returned = checks.Returned("tf", "EagerTensor", np.asarray(value))
    message = checks.judge(NAME, case, returned)
    assert "swapped" in message and "look at the defaults" in message


@pytest.mark.parametrize(
    "forged", [np.asarray([np.nan, 10.0]), np.zeros(3), "10, 40", np.full((2, 2), 40.0)]
)
def test_total_forged_defaults_give_a_message_never_an_exception(forged):
    case = checks.cases(NAME)[0]
    value = 40 * float(case["J_content"]) + 10 * float(case["J_style"])
    returned = checks.Returned(
        "tf", "EagerTensor", np.asarray(value), {"signature_defaults": forged}
    )
    assert "swapped" in checks.judge(NAME, case, returned)


def test_total_ignores_its_arguments():
    def constants(J_content, J_style, alpha=10, beta=40):
        return 10 * J_content + 40 * J_style

    expect_failure(NAME, constants, "numbers 10 and 40 instead of the arguments")


def test_total_unweighted():
    def unweighted(J_content, J_style, alpha=10, beta=40):
        return J_content + J_style

    expect_failure(NAME, unweighted, "without their weights alpha and beta")


def test_total_content_twice_says_J_style_is_not_used():
    def content_twice(J_content, J_style, alpha=10, beta=40):
        return alpha * J_content + beta * J_content

    message = expect_failure(NAME, content_twice, "does not use J_style")
    assert "expected" not in message
    for seed in range(20):
        assert all("does not use J_style" in v for v in hidden_verdicts(NAME, content_twice, seed))


def test_total_style_twice_says_J_content_is_not_used():
    def style_twice(J_content, J_style, alpha=10, beta=40):
        return alpha * J_style + beta * J_style

    expect_failure(NAME, style_twice, "does not use J_content")


def test_total_any_formula_without_J_style_is_caught_by_the_property():
    def no_style(J_content, J_style, alpha=10, beta=40):
        return alpha * J_content * 3.0

    expect_failure(NAME, no_style, "does not use J_style: changing it does not change the result")


def test_total_subtracts_the_style_term():
    def minus(J_content, J_style, alpha=10, beta=40):
        return alpha * J_content - beta * J_style

    expect_failure(NAME, minus, "subtracted the style term")


def test_total_divided_by_the_sum_of_weights():
    def normalised(J_content, J_style, alpha=10, beta=40):
        return (alpha * J_content + beta * J_style) / (alpha + beta)

    expect_failure(NAME, normalised, "divided by alpha + beta")


def test_total_numpy():
    def with_numpy(J_content, J_style, alpha=10, beta=40):
        return np.float32(alpha * J_content.numpy() + beta * J_style.numpy())

    expect_failure(NAME, with_numpy, "NumPy float32 instead of a TensorFlow tensor")


def test_total_hidden_messages_quote_no_values():
    def off(J_content, J_style, alpha=10, beta=40):
        return 1.07 * (alpha * J_content + beta * J_style)

    assert "returned" in expect_failure(NAME, off, "expected")
    for verdict in hidden_verdicts(NAME, off, 5):
        assert "returned a wrong value" in verdict and not quoted_numbers(verdict)


@pytest.mark.parametrize(
    "variant",
    [
        lambda J_content, J_style, alpha=10, beta=40: tf.add(alpha * J_content, beta * J_style),
        lambda J_content, J_style, alpha=10.0, beta=40.0: J_style * beta + J_content * alpha,
        tf.function(
            lambda J_content, J_style, alpha=10, beta=40: alpha * J_content + beta * J_style
        ),
    ],
    ids=["tf.add", "float defaults", "tf.function"],
)
def test_correct_variants_pass_every_draw(variant, capsys):
    checks.check(NAME, variant)
    assert "All tests passed." in capsys.readouterr().out
    for seed in range(100):
        assert set(hidden_verdicts(NAME, variant, seed)) == {None}, seed
