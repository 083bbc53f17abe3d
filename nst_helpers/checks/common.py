"""What every exercise's check shares: the ``Returned`` record, tolerances, and message helpers.

A learner's function is called in the learner's process and what it returned is turned
into a ``Returned`` (plain NumPy, no live objects), which the exercise's judge compares
with a float64 NumPy reference. Tolerances hold with TF32 matmuls on GPUs. A wrong value
is matched against a catalogue of known mistakes and of named factors, so that the
message can say what went wrong and how to fix it. Not for any one exercise's cases or
mistakes: those live in the exercise's own module (``nst_helpers.checks.<exercise>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Relative tolerance for element-wise results (content cost, total cost).
RTOL = 1e-3
#: Relative tolerance for matmul- and convolution-heavy results (TF32 on GPUs rounds inputs
#: to 10-bit mantissas); every mistake the checks name is off by far more than this.
MATMUL_RTOL = 5e-3

NOT_FILLED_IN = (
    "{name} returned None: the code between ### START CODE HERE ### and ### END CODE HERE ### "
    "is not filled in yet (or the function does not return its result). Write the code, run "
    "the cell that defines {name} again, then run this check."
)


@dataclass
class Returned:
    """A plain description of what a learner's function returned (no live objects)."""

    kind: str  # "none" | "tf" | "numpy" | "python" | "other"
    type_name: str
    value: np.ndarray | None
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def describe(result) -> Returned:
    """Turn a learner's return value into a ``Returned`` (runs in the learner's process)."""
    if result is None:
        return Returned("none", "NoneType", None)
    type_name = type(result).__name__
    if hasattr(result, "numpy") and type(result).__module__.startswith("tensorflow"):
        kind = "tf"
        raw = result.numpy()
    elif isinstance(result, (np.ndarray, np.generic)):
        kind, raw = "numpy", result
    elif isinstance(result, (float, int)) and not isinstance(result, bool):
        kind, raw = "python", result
    else:
        kind, raw = "other", result
    try:
        value = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        value = None
    return Returned(kind, type_name, value)


def call_with_tensors(function, case: dict) -> Returned:
    """Call ``function(**case)`` as a notebook would: tensors as ``tf.constant``, and
    ``alpha``/``beta`` as Python floats; describe what it returned."""
    import tensorflow as tf

    arguments = {
        key: float(value) if key in ("alpha", "beta") else tf.constant(value)
        for key, value in case.items()
    }
    return describe(function(**arguments))


def normal_array(random_state, shape, scale=1.0) -> np.ndarray:
    """Normal float32 values of ``shape`` drawn from a NumPy ``RandomState``."""
    return (random_state.standard_normal(shape) * scale).astype(np.float32)


def scalar_array(value) -> np.ndarray:
    """A 0-d float32 array: the form of scalars in the check cases."""
    return np.asarray(value, dtype=np.float32)


def distinct_dims(random_state: np.random.RandomState) -> tuple[int, int, int]:
    """Three different sizes n_H, n_W, n_C, none equal to 4 (the factor in the costs)."""
    sizes = random_state.choice([2, 3, 5, 6, 7, 8, 9], size=3, replace=False)
    return int(sizes[0]), int(sizes[1]), int(sizes[2])


def close(value, expected, rtol: float, atol: float = 0.0) -> bool:
    """Same shape, and every entry within ``rtol`` of the largest expected magnitude (+ atol)."""
    value = np.asarray(value, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape:
        return False
    scale = np.max(np.abs(expected)) if expected.size else 0.0
    return bool(np.all(np.abs(value - expected) <= rtol * scale + atol))


def form_problem(name: str, returned: Returned, expected_shape: tuple, input_shape=None):
    """The message for a result of the wrong kind or shape, or None."""
    if returned.kind == "none":
        return NOT_FILLED_IN.format(name=name)
    use_tf = (
        "Compute it with TensorFlow operations (tf.reduce_sum, tf.square, tf.matmul, ...) and "
        "do not call .numpy() or NumPy functions, so that gradients can flow through it."
    )
    if returned.kind == "numpy":
        return (
            f"{name} returned a NumPy {returned.type_name} instead of a TensorFlow tensor. {use_tf}"
        )
    if returned.kind == "python":
        return f"{name} returned a Python {returned.type_name} instead of a TensorFlow tensor. {use_tf}"
    if returned.kind == "other" or returned.value is None:
        return f"{name} returned a {returned.type_name}; it must return a TensorFlow tensor."
    shape = returned.value.shape
    if shape != tuple(expected_shape):
        wanted = "a scalar (shape ())" if expected_shape == () else f"shape {tuple(expected_shape)}"
        hint = ""
        if expected_shape == () and input_shape is not None and shape == tuple(input_shape):
            hint = " It has the shape of the activations: you forgot to sum (tf.reduce_sum)."
        elif expected_shape == () and returned.value.size == 1:
            hint = (
                " It holds one number in a tensor of rank "
                f"{len(shape)}: sum over all axes (tf.reduce_sum without axis or keepdims)."
            )
        return f"{name} returned a tensor of shape {shape}; expected {wanted}.{hint}"
    if not np.all(np.isfinite(returned.value)):
        return f"{name} returned NaN or infinite values ({returned.value}): check for divisions by zero."
    return None


def named_factor(ratio: float, factors: list[tuple[float, str]], rtol: float) -> str | None:
    """The message of the first factor that ``ratio`` (learner's value / right one) matches."""
    for factor, message in factors:
        if abs(ratio - factor) <= rtol * abs(factor):
            return message
    return None


def wrong_value(name, value, expected, mistakes, factors, rtol, where: str) -> str:
    """Name the mistake behind a wrong value: a known mistake's value, or a named factor.

    ``where`` says where in the notebook the learner finds what the function computes (the
    generic message, when no mistake matches, points there).
    """
    for mistaken_value, message in mistakes:
        if close(value, mistaken_value, rtol):
            return f"{name} is wrong: {message}"
    expected_scale = float(np.max(np.abs(expected)))
    if expected_scale > 0 and np.ndim(value) == 0 and float(value) != 0:
        named = named_factor(float(value) / float(expected), factors, rtol)
        if named:
            return f"{name} is wrong: {named}"
    return (
        f"{name} returned {np.round(value, 6)}, expected {np.round(expected, 6)}. Compare your "
        f"code with {where}, term by term."
    )


def gram64(matrix: np.ndarray) -> np.ndarray:
    """The Gram matrix A·Aᵀ in float64 NumPy (the checks' independent reference)."""
    return matrix @ matrix.T


def unroll64(activation: np.ndarray) -> np.ndarray:
    """(1, n_H, n_W, n_C) -> (n_C, n_H*n_W): reshape to (n_H*n_W, n_C), then transpose."""
    return activation.reshape(-1, activation.shape[-1]).T
