"""What every exercise's check shares: the ``Returned`` record, tolerances, and message helpers.

A learner's function is called in the learner's process and what it returned is turned
into a ``Returned`` (plain NumPy, no live objects), which the exercise's judge compares
with a float64 NumPy reference. Tolerances hold with TF32 matmuls on GPUs. A wrong value
is matched against a catalogue of known mistakes and of named factors, so that the
message can say what went wrong and how to fix it. Not for any one exercise's cases or
mistakes: those live in the exercise's own module (``nst_helpers.checks.<exercise>``).
"""

from __future__ import annotations

import re
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


def _type_text(type_name) -> str:
    """A type's name as a message may quote it: a short identifier, or a neutral phrase."""
    text = str(type_name)
    return text if re.fullmatch(r"[A-Za-z_][\w.]{0,59}", text) else "value of another type"


def shown(text: str, public: bool) -> str:
    """``text`` (a value or a size) on a public case; nothing on a hidden one, whose inputs
    (values and sizes alike) no message may reveal."""
    return text if public else ""


def form_problem(
    name: str,
    returned: Returned,
    expected_shape: tuple,
    input_shape=None,
    public: bool = True,
    expected_text: str = "",
):
    """The message for a result of the wrong kind or shape, or None.

    On a hidden case (``public`` False) the message names no size and no value;
    ``expected_text`` then describes the expected shape in words, e.g. "(n_C, n_C)".
    """
    if returned.kind == "none":
        return NOT_FILLED_IN.format(name=name)
    use_tf = (
        "Compute it with TensorFlow operations (tf.reduce_sum, tf.square, tf.matmul, ...) and "
        "do not call .numpy() or NumPy functions, so that gradients can flow through it."
    )
    type_name = _type_text(returned.type_name)
    if returned.kind == "numpy":
        return f"{name} returned a NumPy {type_name} instead of a TensorFlow tensor. {use_tf}"
    if returned.kind == "python":
        return f"{name} returned a Python {type_name} instead of a TensorFlow tensor. {use_tf}"
    if returned.kind != "tf" or returned.value is None:
        return f"{name} returned a {type_name}; it must return a TensorFlow tensor."
    shape = returned.value.shape
    if shape != tuple(expected_shape):
        if expected_shape == ():
            wanted = "a scalar (shape ())"
        elif public or not expected_text:
            wanted = f"shape {shown(str(tuple(expected_shape)), public) or 'another shape'}"
        else:
            wanted = f"shape {expected_text}"
        hint = ""
        if expected_shape == () and input_shape is not None and shape == tuple(input_shape):
            hint = " It has the shape of the activations: you forgot to sum (tf.reduce_sum)."
        elif expected_shape == () and returned.value.size == 1:
            hint = (
                " It holds one number in a tensor of rank "
                f"{len(shape)}: sum over all axes (tf.reduce_sum without axis or keepdims)."
            )
        return f"{name} returned a tensor of {shown(f'shape {shape}', public) or 'another shape'}; expected {wanted}.{hint}"
    if not np.all(np.isfinite(returned.value)):
        values = shown(f" ({returned.value})", public)
        return f"{name} returned NaN or infinite values{values}: check for divisions by zero."
    return None


def named_factor(ratio: float, factors: list[tuple[float, str]], rtol: float) -> str | None:
    """The message of the factor that ``ratio`` (learner's value / right one) matches; when
    several different mistakes give the same factor on this case, all of their messages."""
    matched = []
    for factor, message in factors:
        if abs(ratio - factor) <= rtol * abs(factor) and message not in matched:
            matched.append(message)
    return _one_or_all(matched) if matched else None


def _one_or_all(messages: list[str]) -> str:
    """One message, or all of them when several mistakes give the same value on this case."""
    if len(messages) == 1:
        return messages[0]
    return "one of these mistakes (they give the same value here): " + " Or: ".join(messages)


def wrong_value(name, value, expected, mistakes, factors, rtol, where: str, public=True) -> str:
    """Name the mistake behind a wrong value: a known mistake's value, or a named factor.

    ``where`` says where in the notebook the learner finds what the function computes (the
    generic message, when no mistake matches, points there). On a hidden case (``public``
    False) the generic message quotes neither value.
    """
    matched = []
    for mistaken_value, message in mistakes:
        if close(value, mistaken_value, rtol) and message not in matched:
            matched.append(message)
    if matched:
        return f"{name} is wrong: {_one_or_all(matched)}"
    expected_scale = float(np.max(np.abs(expected)))
    if expected_scale > 0 and np.ndim(value) == 0 and float(value) != 0:
        named = named_factor(float(value) / float(expected), factors, rtol)
        if named:
            return f"{name} is wrong: {named}"
    if not public:
        return f"{name} returned a wrong value. Compare your code with {where}, term by term."
    return (
        f"{name} returned {np.round(value, 6)}, expected {np.round(expected, 6)}. Compare your "
        f"code with {where}, term by term."
    )


#: What a tensor's NumPy-only attributes and methods raise, and what to write instead.
_NUMPY_ON_A_TENSOR = re.compile(r"object has no attribute '(T|dot|transpose|reshape|sum|mean)'")


def numpy_on_a_tensor_problem(name: str, type_name: str, message: str) -> str | None:
    """A NumPy idiom used on a tensor (``A.T``, ``np.dot(A, A.T)``, ``a.transpose()``): the
    AttributeError and TensorFlow's suggestion to enable NumPy behaviour mislead, so say
    what to write instead. None for any other exception."""
    if type_name != "AttributeError":
        return None
    match = _NUMPY_ON_A_TENSOR.search(message)
    if not match:
        return None
    return (
        f"{name} used .{match[1]} on a TensorFlow tensor, a NumPy idiom tensors do not have "
        "(ignore the suggestion to enable NumPy behaviour: the function must stay TensorFlow "
        "so that gradients flow through it). Use TensorFlow operations: tf.transpose(A) for "
        "A.T, tf.matmul(A, tf.transpose(A)) for np.dot(A, A.T), tf.reshape, tf.reduce_sum."
    )


def gram64(matrix: np.ndarray) -> np.ndarray:
    """The Gram matrix A·Aᵀ in float64 NumPy (the checks' independent reference)."""
    return matrix @ matrix.T


def unroll64(activation: np.ndarray) -> np.ndarray:
    """(1, n_H, n_W, n_C) -> (n_C, n_H*n_W): reshape to (n_H*n_W, n_C), then transpose."""
    return activation.reshape(-1, activation.shape[-1]).T
