"""Exercise 2, ``gram_matrix``: its cases, property, judge and named mistakes.

G = A·Aᵀ for A of shape (n_C, n_H·n_W), taught in notebook 2. The judge compares with
float64 NumPy and names Aᵀ·A, an element-wise product, and a normalised Gram matrix; a
square A (n_H·n_W = n_C) is judged by its values, since shapes cannot tell those apart.
Registered as ``EXERCISE``.
"""

from __future__ import annotations

import numpy as np

from nst_helpers.checks.common import (
    MATMUL_RTOL,
    close,
    distinct_dims,
    form_problem,
    gram64,
    normal_array,
    numpy_on_a_tensor_problem,
    shown,
)
from nst_helpers.checks.registry import Exercise, is_public_case

NAME = "gram_matrix"


def make_cases(random_state, public: bool) -> list[dict[str, np.ndarray]]:
    """One generated matrix A (fixed shape when public), plus a small fixed one."""
    n_H, n_W, n_C = (3, 5, 7) if public else distinct_dims(random_state)
    generated = [{"A": normal_array(random_state, (n_C, n_H * n_W))}]
    small = {"A": np.asarray([[1, 2, 3], [4, 5, 6]], dtype=np.float32)}
    return generated + [small] if public else generated


def properties(call, public_cases) -> str | None:
    """A square result must be symmetric (G = A·Aᵀ always is)."""
    returned = call(public_cases[0])
    value = returned.value
    if returned.kind == "tf" and value is not None and value.ndim == 2:
        square = value.shape[0] == value.shape[1]
        if square and not np.allclose(value, value.T, rtol=MATMUL_RTOL, atol=1e-6):
            return f"{NAME} returned a matrix that is not symmetric; G = A·Aᵀ always is."
    return None


def judge(case, returned) -> str | None:
    A = case["A"].astype(np.float64)
    n_C, positions = A.shape
    public = is_public_case(make_cases, case)
    positions_shape = "{shape}" if public else "(n_H*n_W, n_H*n_W)"
    a_shape = "{shape}" if public else "(n_C, n_H*n_W)"
    transposed = (
        f"{NAME} returned shape {positions_shape}: you computed transpose(A)·A, the products of "
        f"positions. The Gram matrix is A·transpose(A), of shape "
        f"{shown(f'({n_C}, {n_C})', public) or '(n_C, n_C)'}: tf.matmul(A, tf.transpose(A))."
    )
    element_wise = (
        f"{NAME} returned shape {a_shape}, the shape of A: you multiplied element-wise. "
        "Use the matrix product tf.matmul(A, tf.transpose(A))."
    )
    square = n_C == positions  # then only the values can tell these mistakes apart
    value = returned.value
    if value is not None and not square and value.shape == (positions, positions):
        return transposed.format(shape=value.shape)
    if value is not None and not square and value.shape == A.shape:
        return element_wise.format(shape=value.shape)
    problem = form_problem(NAME, returned, (n_C, n_C), public=public, expected_text="(n_C, n_C)")
    if problem:
        return problem
    expected = gram64(A)
    if close(returned.value, expected, MATMUL_RTOL):
        return None
    if square and close(returned.value, A.T @ A, MATMUL_RTOL):
        return transposed.format(shape=value.shape)
    if square and close(returned.value, A * A, MATMUL_RTOL):
        return element_wise.format(shape=value.shape)
    if square and close(returned.value, A @ A, MATMUL_RTOL):
        return f"{NAME} is wrong: {_NO_TRANSPOSE}"
    if close(returned.value, expected / positions, MATMUL_RTOL) or close(
        returned.value, expected / (positions * n_C), MATMUL_RTOL
    ):
        return (
            f"{NAME} is wrong: you normalised the Gram matrix. In this exercise G = A·Aᵀ with no "
            "division; the normalisation belongs to the style cost."
        )
    if not np.allclose(returned.value, returned.value.T, rtol=MATMUL_RTOL, atol=1e-6):
        return f"{NAME} returned a matrix that is not symmetric; G = A·Aᵀ always is."
    if not public:
        return f"{NAME} returned a wrong matrix. The Gram matrix is tf.matmul(A, tf.transpose(A))."
    return (
        f"{NAME} returned\n{np.round(returned.value, 4)}\nexpected\n{np.round(expected, 4)}\n"
        "The Gram matrix is tf.matmul(A, tf.transpose(A))."
    )


_NO_TRANSPOSE = (
    "you multiplied A by itself without the transpose: the Gram matrix is A·Aᵀ, "
    "tf.matmul(A, tf.transpose(A)) (or tf.matmul(A, A, transpose_b=True))."
)


def exception_problem(type_name: str, message: str) -> str | None:
    """NumPy idioms on a tensor (``np.dot(A, A.T)``), and tf.matmul(A, A) without the
    transpose (the shapes of A and A do not chain), named with their fix."""
    named = numpy_on_a_tensor_problem(NAME, type_name, message)
    if named:
        return named
    if "Matrix size-incompatible" in message or "must be equal, but are" in message:
        return f"{NAME} raised {type_name}: {_NO_TRANSPOSE}"
    return None


EXERCISE = Exercise(
    name=NAME,
    order=2,
    notebook="2_gram_matrix",
    reference="nst_helpers.costs.gram_matrix",
    where_in_notebook="the definition G = A·Aᵀ of the notebook (2_gram_matrix)",
    make_cases=make_cases,
    hidden_draws=3,
    judge=judge,
    properties=properties,
    exception_problem=exception_problem,
)
