"""Learner checks for the graded exercises: compare with the reference and name the mistake.

Each notebook's check cell calls ``check_<function>(function)``; pytest and the grader
call the same pieces. The pieces follow one contract:

* ``cases(name, seed)`` the inputs, as plain NumPy arrays (``seed=None``: the public
  cases; an integer: hidden cases drawn with NumPy's legacy ``RandomState``);
* ``run_case(function, name, case)`` calls a learner's function on one case, in the
  learner's process, and ``describe`` turns what it returned into a ``Returned``;
* ``judge(name, case, returned)`` decides, with the reference implementations and
  NumPy, whether the result is right, and otherwise returns a message naming the likely
  mistake and its fix (returned None, NumPy instead of TensorFlow, wrong shape,
  normalisation off by a named factor, unrolled without the transpose, ...).

Expected values never depend on TensorFlow's random streams, and tolerances hold with
TF32 matmuls on GPUs. Not for grading policy (points, isolation): see ``nst_helpers.grading``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from nst_helpers.checks_judges import (
    JUDGES,
    MATMUL_RTOL,
    NOT_FILLED_IN,
    RTOL,
    form_problem,
)
from nst_helpers.checks_tiny_network import (
    TINY_CONTENT_LAYER,
    TINY_LAYERS,
    TinyFeatureExtractor,
    normal_array,
    scalar_array,
    tiny_costs,
    tiny_style_layers,
    train_step_case,
)

__all__ = [
    "GRADED_FUNCTIONS",
    "MATMUL_RTOL",
    "NOT_FILLED_IN",
    "RTOL",
    "TINY_CONTENT_LAYER",
    "TINY_LAYERS",
    "Returned",
    "TinyFeatureExtractor",
    "cases",
    "check",
    "check_compute_content_cost",
    "check_compute_layer_style_cost",
    "check_gram_matrix",
    "check_total_cost",
    "check_train_step",
    "describe",
    "exception_problem",
    "exception_text_problem",
    "judge",
    "run_case",
    "tiny_costs",
    "tiny_style_layers",
]

GRADED_FUNCTIONS = (
    "compute_content_cost",
    "gram_matrix",
    "compute_layer_style_cost",
    "total_cost",
    "train_step",
)


@dataclass
class Returned:
    """A plain description of what a learner's function returned (no live objects)."""

    kind: str  # "none" | "tf" | "numpy" | "python" | "other"
    type_name: str
    value: np.ndarray | None
    extra: dict[str, np.ndarray] = field(default_factory=dict)


# --------------------------------------------------------------------------- cases


def _distinct_dims(random_state: np.random.RandomState) -> tuple[int, int, int]:
    """Three different sizes n_H, n_W, n_C, none equal to 4 (the factor in the costs)."""
    sizes = random_state.choice([2, 3, 5, 6, 7, 8, 9], size=3, replace=False)
    return int(sizes[0]), int(sizes[1]), int(sizes[2])


def cases(function_name: str, seed: int | None = None) -> list[dict[str, np.ndarray]]:
    """The inputs of each call, as keyword arguments of NumPy arrays.

    Args:
        function_name: one of ``GRADED_FUNCTIONS``.
        seed: None for the public cases that the learner's checks use; an integer for
            hidden cases drawn with ``np.random.RandomState(seed)`` (other shapes).

    Returns:
        A list of dicts (float32 arrays; 0-d arrays for scalars).
    """
    _check_name(function_name)
    public = seed is None
    random_state = np.random.RandomState(20151001 if public else seed)
    if public:
        return _cases(function_name, random_state, public=True)
    # Hidden: several draws of other shapes and values, so that code tuned to one shape fails.
    return [
        case
        for _ in range(HIDDEN_DRAWS[function_name])
        for case in _cases(function_name, random_state, public=False)
    ]


#: How many independent draws the hidden cases of each function make.
HIDDEN_DRAWS = {
    "compute_content_cost": 3,
    "gram_matrix": 3,
    "compute_layer_style_cost": 3,
    "total_cost": 2,
    "train_step": 2,
}


def _cases(function_name: str, random_state, public: bool) -> list[dict[str, np.ndarray]]:
    if function_name == "train_step":
        size = 16 if public else int(random_state.choice([12, 16, 20]))
        return [train_step_case(random_state, size)]
    if function_name == "total_cost":
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
    n_H, n_W, n_C = (3, 5, 7) if public else _distinct_dims(random_state)
    shape = (1, n_H, n_W, n_C)
    if function_name == "gram_matrix":
        generated = [{"A": normal_array(random_state, (n_C, n_H * n_W))}]
        small = {"A": np.asarray([[1, 2, 3], [4, 5, 6]], dtype=np.float32)}
        return generated + [small] if public else generated
    first, second = ("a_C", "a_G") if function_name == "compute_content_cost" else ("a_S", "a_G")
    generated = [
        {first: normal_array(random_state, shape), second: normal_array(random_state, shape, 0.7)}
    ]
    if not public:
        return generated
    small = {
        first: np.asarray([[[[1, 2, 3], [4, 5, 6]]]], dtype=np.float32),
        second: np.asarray([[[[0, 2, 1], [4, 4, 7]]]], dtype=np.float32),
    }
    return generated + [small]


def _check_name(function_name: str) -> None:
    if function_name not in GRADED_FUNCTIONS:
        raise ValueError(
            f"unknown graded function {function_name!r}; choose one of {GRADED_FUNCTIONS}."
        )


# ------------------------------------------------------------------ learner side


def describe(result, function_name: str, case: dict | None = None) -> Returned:
    """Turn a learner's return value into a ``Returned`` (runs in the learner's process)."""
    _check_name(function_name)
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


def run_case(function, function_name: str, case: dict) -> Returned:
    """Call a learner's function on one case, as the notebook would, and describe the result.

    Tensors are passed as ``tf.constant`` (``alpha`` and ``beta`` as Python floats). For
    ``train_step`` the tiny network, the ``tf.Variable`` image and an Adam optimiser are
    built from the case, and ``extra["image_after"]`` records the image after the step.
    Exceptions raised by ``function`` propagate.
    """
    import tensorflow as tf

    _check_name(function_name)
    if function_name != "train_step":
        arguments = {
            key: float(value) if key in ("alpha", "beta") else tf.constant(value)
            for key, value in case.items()
        }
        return describe(function(**arguments), function_name, case)
    import keras

    extractor = TinyFeatureExtractor(case)
    style_layers = tiny_style_layers(case)
    content_targets = extractor(tf.constant(case["content_image"]))
    style_targets = extractor(tf.constant(case["style_image"]))
    image = tf.Variable(case["generated_image"])
    optimizer = keras.optimizers.Adam(learning_rate=float(case["learning_rate"]))
    optimizer.build([image])
    result = function(
        image,
        extractor,
        content_targets,
        style_targets,
        optimizer,
        content_layer=TINY_CONTENT_LAYER,
        style_layers=style_layers,
        alpha=float(case["alpha"]),
        beta=float(case["beta"]),
    )
    returned = describe(result, function_name, case)
    returned.extra["image_after"] = np.asarray(image.numpy(), dtype=np.float32)
    return returned


def judge(function_name: str, case: dict, returned: Returned) -> str | None:
    """None when ``returned`` is right for ``case``; otherwise the message naming the mistake."""
    _check_name(function_name)
    return JUDGES[function_name](case, returned)


# ------------------------------------------------------------------ the checks


#: Layer names of VGG19 (block1_conv1, ...): the tiny network of the train_step cases has none.
_VGG_LAYER_NAME = re.compile(r"block\d_(?:conv\d|pool)")


def exception_problem(function_name: str, error: BaseException) -> str | None:
    """The message naming the mistake behind an exception a learner's function raised, or None.

    A train_step that reads the notebook's STYLE_LAYERS / CONTENT_LAYER instead of its
    arguments asks the tiny network of the check for VGG19 layers it does not have
    (KeyError 'block4_conv2', or ValueError "has no activations for [...]").
    """
    return exception_text_problem(function_name, type(error).__name__, str(error))


def exception_text_problem(function_name: str, type_name: str, message: str) -> str | None:
    """``exception_problem`` from an exception's type name and message (as a grader records them)."""
    _check_name(function_name)
    if function_name == "train_step" and type_name in ("KeyError", "ValueError"):
        names = set(_VGG_LAYER_NAME.findall(message)) - set(TINY_LAYERS)
        if names:
            return (
                f"train_step raised {type_name} about the layer(s) {sorted(names)}: "
                "your train_step uses the notebook's STYLE_LAYERS/CONTENT_LAYER: use its "
                "arguments style_layers and content_layer (the check runs it on a small network "
                "whose layers have other names)."
            )
    return None


def _call(function, function_name: str, case: dict) -> Returned:
    """run_case, turning an exception into an AssertionError that says what happened."""
    try:
        return run_case(function, function_name, case)
    except Exception as error:
        named = exception_problem(function_name, error)
        if named:
            raise AssertionError(named) from None
        text = f"{type(error).__name__}: {error}"
        if "Failed to convert elements of" in str(error) and "None" in str(error):
            raise AssertionError(
                f"{function_name} raised {text}. A shape it used is unknown (None) while "
                "TensorFlow traces it, e.g. inside tf.function: read the sizes with "
                "tf.shape(a_G) instead of a_G.shape, or drop the decorator."
            ) from None
        if "NoneType" in text or "None" in str(error):
            raise AssertionError(
                f"{function_name} raised {text}. Most likely its code is not filled in yet: "
                "replace each None between ### START CODE HERE ### and ### END CODE HERE ### "
                "(or a value your code computes is None)."
            ) from None
        raise AssertionError(
            f"{function_name} raised {text} (see the traceback above for the line)."
        ) from error


def _property_problem(function_name: str, function) -> str | None:
    """Check a property that needs no reference (e.g. the cost of A with itself is 0)."""
    first = cases(function_name)[0]
    if function_name in ("compute_content_cost", "compute_layer_style_cost"):
        key = "a_C" if function_name == "compute_content_cost" else "a_S"
        same = {key: first["a_G"], "a_G": first["a_G"]}
        returned = _call(function, function_name, same)
        problem = form_problem(function_name, returned, (), first["a_G"].shape)
        if problem:
            return problem
        if abs(float(returned.value)) > 1e-5 * float(np.mean(first["a_G"] ** 2) + 1e-12) ** 2:
            return (
                f"{function_name}(a, a) returned {float(returned.value):.6g}, but the cost of an "
                "activation with itself must be 0: compare the two inputs, not one with itself "
                "or with a constant."
            )
    elif function_name == "gram_matrix":
        returned = _call(function, function_name, first)
        value = returned.value
        if returned.kind == "tf" and value is not None and value.ndim == 2:
            square = value.shape[0] == value.shape[1]
            if square and not np.allclose(value, value.T, rtol=MATMUL_RTOL, atol=1e-6):
                return (
                    f"{function_name} returned a matrix that is not symmetric; G = A·Aᵀ always is."
                )
    elif function_name == "total_cost":
        zero = {"J_content": np.float32(0.0), "J_style": np.float32(0.0)}
        returned = _call(function, function_name, zero)
        problem = form_problem(function_name, returned, ())
        if problem:
            return problem
        if abs(float(returned.value)) > 1e-6:
            return f"{function_name}(0, 0) returned {float(returned.value)}; zero costs weigh 0."
    return None


def check(function_name: str, function) -> None:
    """Check a learner's graded function; raise AssertionError naming the mistake.

    Property checks come first, then every public case is compared with the reference.
    Prints "All tests passed." on success.
    """
    _check_name(function_name)
    if not callable(function):
        raise AssertionError(
            f"{function_name} is {function!r}, not a function: run the cell that defines it."
        )
    if function_name != "train_step":
        problem = _property_problem(function_name, function)
        if problem:
            raise AssertionError(problem)
    for case in cases(function_name):
        problem = judge(function_name, case, _call(function, function_name, case))
        if problem:
            raise AssertionError(problem)
    print("All tests passed.")


def check_compute_content_cost(function) -> None:
    """The check cell of notebook 1."""
    check("compute_content_cost", function)


def check_gram_matrix(function) -> None:
    """The check cell of notebook 2."""
    check("gram_matrix", function)


def check_compute_layer_style_cost(function) -> None:
    """The check cell of notebook 3."""
    check("compute_layer_style_cost", function)


def check_total_cost(function) -> None:
    """The check cell of notebook 4."""
    check("total_cost", function)


def check_train_step(function) -> None:
    """The check cell of notebook 5."""
    check("train_step", function)
