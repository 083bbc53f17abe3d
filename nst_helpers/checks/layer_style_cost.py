"""Exercise 3, ``compute_layer_style_cost``: its cases, property, judge and named mistakes.

J_style^[l] = 1/(4·n_C²·(n_H·n_W)²) · Σ(G_S − G_G)², taught in notebook 3. The judge
recomputes it in float64 NumPy and names unrolling without the transpose, Gram matrices
of positions, a missing square, absolute values, and normalisations off by a named factor.
The learner's function may call ``gram_matrix`` (exercise 2). Registered as ``EXERCISE``.
"""

from __future__ import annotations

import numpy as np

from nst_helpers.checks.common import (
    MATMUL_RTOL,
    close,
    form_problem,
    gram64,
    numpy_on_a_tensor_problem,
    shown,
    unroll64,
    wrong_value,
)
from nst_helpers.checks.content_cost import cost_with_itself_problem
from nst_helpers.checks.content_cost import make_cases as content_cases
from nst_helpers.checks.registry import Exercise, is_public_case

NAME = "compute_layer_style_cost"
WHERE = "equation (2) of the notebook (3_style_cost)"


def make_cases(random_state, public: bool) -> list[dict[str, np.ndarray]]:
    """The content cost's cases, with the first activation named a_S."""
    return [
        {"a_S": case["a_C"], "a_G": case["a_G"]} for case in content_cases(random_state, public)
    ]


def properties(call, public_cases) -> str | None:
    return cost_with_itself_problem(NAME, "a_S", call, public_cases)


def layer_style64(a_S: np.ndarray, a_G: np.ndarray, unroll) -> float:
    """The layer style cost in float64 NumPy, with ``unroll`` turning an activation into A."""
    _, n_H, n_W, n_C = a_G.shape
    difference = gram64(unroll(a_S)) - gram64(unroll(a_G))
    return float(np.sum(difference**2) / (4.0 * n_C**2 * (n_H * n_W) ** 2))


def normaliser_factors(
    n_H: int, n_W: int, n_C: int, public: bool = True
) -> list[tuple[float, str]]:
    """(ratio of the learner's value to the right one, message) for normalisation mistakes.

    The sizes appear in the messages only on a public case.
    """
    positions = n_H * n_W
    denominator = "4 * n_C**2 * (n_H*n_W)**2"
    full = float(n_C * n_C * positions * positions)
    return [
        (4.0, f"the normalisation is off by a factor 4: you are missing the 1/4 in 1/({denominator})."),
        (float(n_C), f"the normalisation is off by a factor n_C{shown(f' = {n_C}', public)}: you divided by n_C instead of n_C**2; the denominator is {denominator}."),
        (float(positions), f"the normalisation is off by a factor n_H*n_W{shown(f' = {positions}', public)}: you divided by n_H*n_W instead of (n_H*n_W)**2; the denominator is {denominator}."),
        (float(n_C * positions), f"the normalisation is off by a factor n_C*n_H*n_W{shown(f' = {n_C * positions}', public)}: square both n_C and n_H*n_W; the denominator is {denominator}."),
        (full, f"the normalisation is off by a factor n_C**2*(n_H*n_W)**2{shown(f' = {int(full)}', public)}: only the 4 is there; the denominator is {denominator}."),
        (4.0 * full, f"the value is 4*n_C**2*(n_H*n_W)**2{shown(f' = {int(4 * full)}', public)} times too large: you did not normalise; divide by {denominator}."),
        ((positions / n_C) ** 2, f"you used the wrong tensor's dimensions: your denominator is 4 * n_C**4, as if n_H*n_W were the Gram matrix's size n_C. Take n_H, n_W, n_C from a_G's shape (m, n_H, n_W, n_C): {denominator}."),
        ((positions / (n_H + n_W)) ** 2, f"you wrote (n_H + n_W) where the denominator has n_H * n_W, the number of positions: {denominator}."),
        (positions**2 / float(n_H + n_W), f"you wrote (n_H + n_W) where the denominator has (n_H * n_W)**2, the number of positions squared: {denominator}."),
        (full**2, f"operator precedence: '/ 4 * n_C**2 * ...' multiplies by n_C**2*(n_H*n_W)**2; write '/ ({denominator})'."),
        (1.0 / (n_C * n_C), f"the value is n_C**2 times too small: you used tf.reduce_mean instead of tf.reduce_sum. The mean over the n_C x n_C Gram matrix already divides by n_C**2, and the denominator {denominator} divides by it again: use tf.reduce_sum."),
        (4.0 * positions**2, f"you used tf.reduce_mean in place of the sum and its normalisation: the mean over the n_C x n_C Gram matrix divides by n_C**2 only. Write tf.reduce_sum(tf.square(GS - GG)) / ({denominator})."),
        (float(positions) ** 2, f"the normalisation is off by a factor (n_H*n_W)**2: the denominator is {denominator} (tf.reduce_mean over the Gram matrices divides by n_C**2 only: the 4 and (n_H*n_W)**2 are still needed)."),
    ]  # fmt: skip


def judge(case, returned) -> str | None:
    a_S = case["a_S"].astype(np.float64)
    a_G = case["a_G"].astype(np.float64)
    public = is_public_case(make_cases, case)
    problem = form_problem(NAME, returned, (), a_G.shape, public=public)
    if problem:
        return problem
    _, n_H, n_W, n_C = a_G.shape
    expected = layer_style64(a_S, a_G, unroll64)
    scale = float(np.mean(a_S**2 + a_G**2)) ** 2
    if close(returned.value, expected, MATMUL_RTOL, atol=1e-6 * scale):
        return None
    normaliser = 4.0 * n_C**2 * (n_H * n_W) ** 2
    gram_difference = gram64(unroll64(a_S)) - gram64(unroll64(a_G))
    mistakes = [
        (layer_style64(a_S, a_G, lambda a: a.reshape(a.shape[-1], -1)),
         "you unrolled without the transpose: tf.reshape(a, [n_C, n_H*n_W]) mixes channels and "
         "positions. Reshape to [n_H*n_W, n_C] first, then tf.transpose."),
        (layer_style64(a_S, a_G, lambda a: a.reshape(-1, a.shape[-1])),
         "you compared Gram matrices of positions, shape (n_H*n_W, n_H*n_W): the unrolled "
         "activations must have one row per channel, shape (n_C, n_H*n_W) (transpose after reshape)."),
        (np.sum(gram_difference) / normaliser,
         "you forgot to square the differences of the Gram matrices: tf.square(GS - GG)."),
        (np.sum(np.abs(gram_difference)) / normaliser,
         "you summed absolute values (tf.abs): the cost sums the squared differences of the Gram "
         "matrices, tf.square(GS - GG)."),
        (np.sqrt(np.sum(gram_difference**2)) / normaliser,
         "you took a norm (tf.norm) of GS - GG without squaring it: the cost sums the squared "
         "differences, tf.reduce_sum(tf.square(GS - GG)) (or tf.norm(GS - GG) ** 2)."),
        (0.0, "it returned 0, the cost of an activation with itself: compare the style image's "
              "Gram matrix GS with the generated image's GG, not a Gram matrix with itself."),
    ]  # fmt: skip
    factors = normaliser_factors(n_H, n_W, n_C, public)
    return wrong_value(
        NAME, returned.value, expected, mistakes, factors, MATMUL_RTOL, WHERE, public
    )


def exception_problem(type_name: str, message: str) -> str | None:
    """NumPy idioms on a tensor (``a.T``, ``np.dot``), named with their TensorFlow fix."""
    return numpy_on_a_tensor_problem(NAME, type_name, message)


EXERCISE = Exercise(
    name=NAME,
    order=3,
    notebook="3_style_cost",
    reference="nst_helpers.costs.compute_layer_style_cost",
    where_in_notebook=WHERE,
    make_cases=make_cases,
    hidden_draws=3,
    judge=judge,
    properties=properties,
    exception_problem=exception_problem,
    allowed_helpers=("nst_helpers.costs.gram_matrix",),
)
