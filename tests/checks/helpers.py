"""What the learner-check tests share: the reference of each exercise, and running a check
(or a hidden case) on a function to get its message."""

import re

import pytest

from nst_helpers import checks, costs, reference_step

REFERENCES = {
    "compute_content_cost": costs.compute_content_cost,
    "gram_matrix": costs.gram_matrix,
    "compute_layer_style_cost": costs.compute_layer_style_cost,
    "total_cost": costs.total_cost,
    "train_step": reference_step.train_step,
}

#: A number standing alone in a message ("7", "0.25", "1e-3"), not part of a name such as
#: "4_total_cost", "block4_conv2" or "n_C**2".
NUMBER = re.compile(r"(?<![\w*.])\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])")
#: Numbers that the fixed words of messages hold (they reveal no input).
FIXED_NUMBERS = (
    "(1, H, W, 3)",
    "[0, 1]",
    "1/4",
    "1/(4",
    "factor 4",
    "alpha=10, beta=40",
    "10 and 40",
    "4 *",
    "/ 4",
)


def quoted_numbers(message: str) -> list[str]:
    """The numbers a message quotes, beyond those of its fixed words."""
    for phrase in FIXED_NUMBERS:
        message = message.replace(phrase, "")
    return NUMBER.findall(message)


def expect_failure(function_name, function, *words):
    """Run the check on ``function`` and assert that its message contains every phrase."""
    with pytest.raises(AssertionError) as raised:
        checks.check(function_name, function)
    message = str(raised.value)
    for phrase in words:
        assert phrase in message, f"{phrase!r} not in the message:\n{message}"
    return message


def hidden_verdicts(function_name, function, seed, **run_options):
    """What the grader would say of ``function`` on each hidden case of ``seed``: the judge's
    message (None: right), or the named exception's message, or "raised <type>"."""
    verdicts = []
    for case in checks.cases(function_name, seed):
        try:
            returned = checks.exercise(function_name).run_case(function, case, **run_options)
        except Exception as error:  # noqa: BLE001 - the grader records any exception
            named = checks.exception_problem(function_name, error)
            verdicts.append(named or f"raised {type(error).__name__}")
            continue
        verdicts.append(checks.judge(function_name, case, returned))
    return verdicts
