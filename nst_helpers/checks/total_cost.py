"""Exercise 4, ``total_cost``: its cases, property, judge and named mistakes.

J = α·J_content + β·J_style with defaults α = 10, β = 40, taught in notebook 4. The judge
names swapped weights, a missing term, the numbers 10 and 40 written in place of the
arguments, and a normalisation by α + β. Registered as ``EXERCISE``.
"""

from __future__ import annotations

import numpy as np

from nst_helpers.checks.common import RTOL, close, form_problem, scalar_array, wrong_value
from nst_helpers.checks.registry import Exercise

NAME = "total_cost"
WHERE = "the formula J(G) = alpha * J_content + beta * J_style of the notebook (4_total_cost)"


def make_cases(random_state, public: bool) -> list[dict[str, np.ndarray]]:
    """One call with the default alpha and beta, one with other weights."""
    if public:
        return [
            {"J_content": scalar_array(2.5), "J_style": scalar_array(0.75)},
            {"J_content": scalar_array(1.2), "J_style": scalar_array(3.4), "alpha": scalar_array(0.5),
             "beta": scalar_array(7.0)},
        ]  # fmt: skip
    J_content, J_style = random_state.uniform(0.1, 10.0, 2)
    alpha, beta = random_state.choice([0.5, 2.0, 3.0, 100.0, 1000.0], 2, replace=False)
    return [
        {"J_content": scalar_array(J_content), "J_style": scalar_array(J_style)},
        {"J_content": scalar_array(J_content), "J_style": scalar_array(J_style),
         "alpha": scalar_array(alpha), "beta": scalar_array(beta)},
    ]  # fmt: skip


def properties(call, public_cases) -> str | None:
    """Zero costs weigh zero."""
    returned = call({"J_content": np.float32(0.0), "J_style": np.float32(0.0)})
    problem = form_problem(NAME, returned, ())
    if problem:
        return problem
    if abs(float(returned.value)) > 1e-6:
        return f"{NAME}(0, 0) returned {float(returned.value)}; zero costs weigh 0."
    return None


def judge(case, returned) -> str | None:
    problem = form_problem(NAME, returned, ())
    if problem:
        return problem
    J_content = float(case["J_content"])
    J_style = float(case["J_style"])
    alpha = float(case.get("alpha", 10.0))
    beta = float(case.get("beta", 40.0))
    expected = alpha * J_content + beta * J_style
    if close(returned.value, expected, RTOL):
        return None
    mistakes = [
        (beta * J_content + alpha * J_style,
         "alpha and beta are swapped: J = alpha * J_content + beta * J_style."),
        (J_content + J_style, "you added the costs without their weights alpha and beta."),
        (alpha * J_content, "the style term beta * J_style is missing."),
        (beta * J_style, "the content term alpha * J_content is missing."),
        (alpha * J_content - beta * J_style, "you subtracted the style term: J = alpha * J_content + beta * J_style."),
        (expected / (alpha + beta), "you divided by alpha + beta: J = alpha * J_content + beta * J_style, with no normalisation."),
    ]  # fmt: skip
    if (alpha, beta) != (10.0, 40.0):
        mistakes.insert(0, (10.0 * J_content + 40.0 * J_style,
                            "you used the numbers 10 and 40 instead of the arguments alpha and "
                            "beta: J = alpha * J_content + beta * J_style."))  # fmt: skip
    return wrong_value(NAME, returned.value, expected, mistakes, [], RTOL, WHERE)


EXERCISE = Exercise(
    name=NAME,
    order=4,
    notebook="4_total_cost",
    reference="nst_helpers.costs.total_cost",
    where_in_notebook=WHERE,
    make_cases=make_cases,
    hidden_draws=2,
    judge=judge,
    properties=properties,
)
