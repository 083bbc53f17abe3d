"""Exercise 1, ``compute_content_cost``: its cases, property, judge and named mistakes.

J_content = 1/(4·n_H·n_W·n_C) · Σ(a_C − a_G)², taught in notebook 1. The judge recomputes
it in float64 NumPy and names the usual mistakes: a missing square, a norm, absolute
values, and normalisations off by a named factor. Registered as ``EXERCISE``.
"""

from __future__ import annotations

import numpy as np

from nst_helpers.checks.common import (
    RTOL,
    close,
    distinct_dims,
    form_problem,
    normal_array,
    shown,
    wrong_value,
)
from nst_helpers.checks.registry import Exercise, is_public_case

NAME = "compute_content_cost"
WHERE = "equation (1) of the notebook (1_content_cost)"


def make_cases(random_state, public: bool) -> list[dict[str, np.ndarray]]:
    """One generated pair of activations (fixed shape when public), plus a small fixed one."""
    n_H, n_W, n_C = (3, 5, 7) if public else distinct_dims(random_state)
    shape = (1, n_H, n_W, n_C)
    generated = [
        {"a_C": normal_array(random_state, shape), "a_G": normal_array(random_state, shape, 0.7)}
    ]
    if not public:
        return generated
    small = {
        "a_C": np.asarray([[[[1, 2, 3], [4, 5, 6]]]], dtype=np.float32),
        "a_G": np.asarray([[[[0, 2, 1], [4, 4, 7]]]], dtype=np.float32),
    }
    return generated + [small]


def cost_with_itself_problem(name: str, first_key: str, call, public_cases) -> str | None:
    """The cost of an activation with itself must be 0 (shared with the layer style cost)."""
    a_G = public_cases[0]["a_G"]
    returned = call({first_key: a_G, "a_G": a_G})
    problem = form_problem(name, returned, (), a_G.shape)
    if problem:
        return problem
    if abs(float(returned.value)) > 1e-5 * float(np.mean(a_G**2) + 1e-12) ** 2:
        return (
            f"{name}(a, a) returned {float(returned.value):.6g}, but the cost of an "
            "activation with itself must be 0: compare the two inputs, not one with itself "
            "or with a constant."
        )
    return None


def properties(call, public_cases) -> str | None:
    return cost_with_itself_problem(NAME, "a_C", call, public_cases)


def normaliser_factors(
    n_H: int, n_W: int, n_C: int, public: bool = True
) -> list[tuple[float, str]]:
    """(ratio of the learner's value to the right one, message) for normalisation mistakes.

    The sizes appear in the messages only on a public case.
    """
    size = n_H * n_W * n_C
    denominator = "4 * n_H * n_W * n_C"
    wrong_dimensions = (
        "you used the wrong dimensions; take n_H, n_W, n_C from a_G's shape (m, n_H, n_W, n_C) "
        f"and divide by {denominator}."
    )
    return [
        (4.0, f"the normalisation is off by a factor 4: you are missing the 1/4 in 1/({denominator})."),
        (float(size), f"the normalisation is off by a factor n_H*n_W*n_C{shown(f' = {size}', public)}: divide by {denominator}, not just 4."),
        (4.0 * size, f"the value is 4*n_H*n_W*n_C{shown(f' = {4 * size}', public)} times too large: you did not normalise; divide the sum by {denominator}."),
        (float(n_C), f"the normalisation is off by a factor n_C{shown(f' = {n_C}', public)}: {wrong_dimensions}"),
        (float(n_H), f"the normalisation is off by a factor n_H{shown(f' = {n_H}', public)}: {wrong_dimensions}"),
        (float(n_W), f"the normalisation is off by a factor n_W{shown(f' = {n_W}', public)}: {wrong_dimensions}"),
        (float(size) ** 2, f"operator precedence: '/ 4 * n_H * n_W * n_C' multiplies by n_H*n_W*n_C; write '/ ({denominator})'."),
        (0.25, "the value is 4 times too small: divide by 4 * n_H * n_W * n_C once, not by 16 or twice."),
        (1.0 / size, "the value is n_H*n_W*n_C times too small: you used tf.reduce_mean, which already divides by n_H*n_W*n_C, and then divided by 4 * n_H * n_W * n_C as well. Use tf.reduce_sum (or tf.reduce_mean divided by 4 only)."),
    ]  # fmt: skip


def judge(case, returned) -> str | None:
    a_C = case["a_C"].astype(np.float64)
    a_G = case["a_G"].astype(np.float64)
    public = is_public_case(make_cases, case)
    problem = form_problem(NAME, returned, (), a_G.shape, public=public)
    if problem:
        return problem
    _, n_H, n_W, n_C = a_G.shape
    normaliser = 4.0 * n_H * n_W * n_C
    expected = np.sum((a_C - a_G) ** 2) / normaliser
    scale = np.mean(a_C**2 + a_G**2)
    if close(returned.value, expected, RTOL, atol=1e-6 * scale):
        return None
    mistakes = [
        (np.sum(a_C - a_G) / normaliser, "you forgot to square the differences: tf.square(a_C - a_G)."),
        (np.sqrt(np.sum((a_C - a_G) ** 2)) / normaliser, "you took a square root (a norm, tf.norm): the cost is the plain sum of squared differences (tf.norm(...) ** 2 would do)."),
        (np.sum(np.abs(a_C - a_G)) / normaliser, "you summed absolute values (tf.abs): the cost sums the squared differences, tf.square(a_C - a_G)."),
        (0.0, "it returned 0, the cost of an activation with itself: subtract a_G from a_C (a_C - a_G), not a tensor from itself."),
    ]  # fmt: skip
    factors = normaliser_factors(n_H, n_W, n_C, public)
    return wrong_value(NAME, returned.value, expected, mistakes, factors, RTOL, WHERE, public)


EXERCISE = Exercise(
    name=NAME,
    order=1,
    notebook="1_content_cost",
    reference="nst_helpers.costs.compute_content_cost",
    where_in_notebook=WHERE,
    make_cases=make_cases,
    hidden_draws=3,
    judge=judge,
    properties=properties,
)
