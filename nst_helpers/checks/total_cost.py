"""Exercise 4, ``total_cost``: its cases, property, judge and named mistakes.

J = α·J_content + β·J_style with defaults α = 10, β = 40, taught in notebook 4. The judge
names swapped weights, a missing term, the numbers 10 and 40 written in place of the
arguments, and a normalisation by α + β. Registered as ``EXERCISE``.
"""

from __future__ import annotations

import inspect
import re

import numpy as np

from nst_helpers.checks.common import (
    RTOL,
    call_with_tensors,
    close,
    form_problem,
    scalar_array,
    wrong_value,
)
from nst_helpers.checks.registry import Exercise, is_public_case

NAME = "total_cost"
WHERE = "the formula J(G) = alpha * J_content + beta * J_style of the notebook (4_total_cost)"


#: How far every named mistake's value is from the right one on a hidden case (relative):
#: hidden draws are redrawn until it holds, so that no named mistake passes by chance.
MISTAKE_MARGIN = 0.05


def make_cases(random_state, public: bool) -> list[dict[str, np.ndarray]]:
    """One call with the default alpha and beta, one with other weights."""
    if public:
        return [
            {"J_content": scalar_array(2.5), "J_style": scalar_array(0.75)},
            {"J_content": scalar_array(1.2), "J_style": scalar_array(3.4), "alpha": scalar_array(0.5),
             "beta": scalar_array(7.0)},
        ]  # fmt: skip
    while True:
        J_content, J_style = (float(x) for x in random_state.uniform(0.1, 10.0, 2))
        alpha, beta = (
            float(x) for x in random_state.choice([0.5, 2.0, 3.0, 100.0, 1000.0], 2, replace=False)
        )
        if all(_apart(J_content, J_style, a, b) for a, b in ((10.0, 40.0), (alpha, beta))):
            break
    return [
        {"J_content": scalar_array(J_content), "J_style": scalar_array(J_style)},
        {"J_content": scalar_array(J_content), "J_style": scalar_array(J_style),
         "alpha": scalar_array(alpha), "beta": scalar_array(beta)},
    ]  # fmt: skip


def _apart(J_content, J_style, alpha, beta) -> bool:
    """Whether every named mistake's value is MISTAKE_MARGIN away from the right value."""
    J_content, J_style = float(np.float32(J_content)), float(np.float32(J_style))
    expected = alpha * J_content + beta * J_style
    return all(
        abs(value - expected) > MISTAKE_MARGIN * abs(expected)
        for value, _ in named_mistakes(J_content, J_style, alpha, beta)
    )


def named_mistakes(J_content, J_style, alpha, beta, swapped_hint=""):
    """(the value a mistake returns, its message) for the named mistakes of a case."""
    total = "J = alpha * J_content + beta * J_style"
    mistakes = [
        (beta * J_content + alpha * J_style, f"alpha and beta are swapped: {total}.{swapped_hint}"),
        (J_content + J_style, "you added the costs without their weights alpha and beta."),
        (alpha * J_content, "the style term beta * J_style is missing."),
        (beta * J_style, "the content term alpha * J_content is missing."),
        ((alpha + beta) * J_content, _unused("J_style")),
        ((alpha + beta) * J_style, _unused("J_content")),
        (alpha * J_content - beta * J_style, f"you subtracted the style term: {total}."),
        ((alpha * J_content + beta * J_style) / (alpha + beta),
         f"you divided by alpha + beta: {total}, with no normalisation."),
    ]  # fmt: skip
    if (alpha, beta) != (10.0, 40.0):
        mistakes.insert(0, (10.0 * J_content + 40.0 * J_style,
                            "you used the numbers 10 and 40 instead of the arguments alpha and "
                            f"beta: {total}."))  # fmt: skip
    return mistakes


def properties(call, public_cases) -> str | None:
    """Zero costs weigh zero; the result depends on both J_content and J_style."""
    returned = call({"J_content": np.float32(0.0), "J_style": np.float32(0.0)})
    problem = form_problem(NAME, returned, ())
    if problem:
        return problem
    if abs(float(returned.value)) > 1e-6:
        return f"{NAME}(0, 0) returned {float(returned.value)}; zero costs weigh 0."
    for changed, unused in (("J_style", "J_style"), ("J_content", "J_content")):
        values = []
        for value in (1.0, 2.0):
            costs = {
                "J_content": np.float32(1.0),
                "J_style": np.float32(1.0),
                changed: np.float32(value),
            }
            returned = call(costs)
            problem = form_problem(NAME, returned, ())
            if problem:
                return problem
            values.append(float(returned.value))
        if values[0] == values[1]:
            return f"{NAME} is wrong: {_unused(unused)}"
    return None


def _unused(name: str) -> str:
    other = "J_content" if name == "J_style" else "J_style"
    return (
        f"it does not use {name}: changing it does not change the result (did you write "
        f"{other} in both terms?). J = alpha * J_content + beta * J_style."
    )


_SIGNATURE = "def total_cost(J_content, J_style, alpha=10, beta=40)"


def signature_defaults(function) -> np.ndarray:
    """The default values of ``alpha`` and ``beta`` in the signature of ``function`` (NaN
    where there is none, or it is not a number): run in the learner's process, so that the
    judge, which sees only arrays, can point at a wrong default."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        parameters = {}
    values = []
    for name in ("alpha", "beta"):
        default = getattr(parameters.get(name), "default", inspect.Parameter.empty)
        try:
            number = float(default) if isinstance(default, (int, float, np.number)) else np.nan
        except (TypeError, ValueError, OverflowError):
            number = np.nan
        values.append(number)
    return np.asarray(values, dtype=np.float64)


def run_case(function, case: dict):
    """Call the learner's function on the case; ``extra["signature_defaults"]`` records the
    default alpha and beta of its signature."""
    returned = call_with_tensors(function, case)
    returned.extra["signature_defaults"] = signature_defaults(function)
    return returned


def _recorded_defaults(returned) -> tuple[float, float] | None:
    """The learner's default (alpha, beta) from ``returned.extra``, or None when not recorded
    (or forged: anything but two finite numbers)."""
    try:
        defaults = np.asarray(returned.extra["signature_defaults"], dtype=np.float64)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if defaults.shape != (2,) or not np.all(np.isfinite(defaults)):
        return None
    return float(defaults[0]), float(defaults[1])


def judge(case, returned) -> str | None:
    problem = form_problem(NAME, returned, ())
    if problem:
        return problem
    J_content = float(case["J_content"])
    J_style = float(case["J_style"])
    uses_defaults = "alpha" not in case and "beta" not in case
    alpha = float(case.get("alpha", 10.0))
    beta = float(case.get("beta", 40.0))
    expected = alpha * J_content + beta * J_style
    if close(returned.value, expected, RTOL):
        return None
    defaults = _recorded_defaults(returned)
    if uses_defaults and defaults is not None and defaults != (10.0, 40.0):
        with_defaults = defaults[0] * J_content + defaults[1] * J_style
        if close(returned.value, with_defaults, RTOL):
            which = "swapped" if defaults == (40.0, 10.0) else "not alpha=10, beta=40"
            return (
                f"{NAME} is wrong: the default values of alpha and beta in your signature are "
                f"{which}; your formula is right. The signature must read: {_SIGNATURE}."
            )
    hint = ""
    if uses_defaults and defaults is None:
        hint = f" If your line already reads so, look at the defaults: {_SIGNATURE}."
    mistakes = named_mistakes(J_content, J_style, alpha, beta, hint)
    public = is_public_case(make_cases, case)
    return wrong_value(NAME, returned.value, expected, mistakes, [], RTOL, WHERE, public)


def exception_problem(type_name: str, message: str) -> str | None:
    """A signature without default values: the call with the defaults raises TypeError."""
    if type_name == "TypeError" and "missing" in message and re.search(r"'(alpha|beta)'", message):
        return (
            f"{NAME} has no default value for alpha or beta: the notebook calls it as "
            f"total_cost(J_content, J_style). Give them their defaults: {_SIGNATURE}."
        )
    return None


EXERCISE = Exercise(
    name=NAME,
    order=4,
    notebook="4_total_cost",
    reference="nst_helpers.costs.total_cost",
    where_in_notebook=WHERE,
    make_cases=make_cases,
    hidden_draws=2,
    judge=judge,
    run_case=run_case,
    properties=properties,
    exception_problem=exception_problem,
)
