"""Learner checks for the graded exercises: compare with the reference and name the mistake.

Each notebook's check cell calls ``check_<function>(function)`` (``problem`` gives the
same verdict without printing); pytest and the grader call the same pieces. Every exercise
is one module of this package (``content_cost``, ``gram_matrix``, ``layer_style_cost``,
``total_cost``, ``train_step``), found through ``registry``; the functions here dispatch
to it:

* ``cases(name, seed)`` the inputs, as plain NumPy arrays (``seed=None``: the public
  cases; an integer: hidden cases drawn with NumPy's legacy ``RandomState``);
* ``run_case(function, name, case)`` calls a learner's function on one case, in the
  learner's process, and describes what it returned as a ``Returned``;
* ``judge(name, case, returned)`` decides, with the reference implementations and
  NumPy, whether the result is right, and otherwise returns a message naming the likely
  mistake and its fix.

Expected values never depend on TensorFlow's random streams, and tolerances hold with
TF32 matmuls on GPUs. Not for grading policy (points, isolation): see ``nst_helpers.grading``.
"""

from __future__ import annotations

from nst_helpers.checks.common import (
    MATMUL_RTOL,
    NOT_FILLED_IN,
    RTOL,
    Returned,
    form_problem,
)
from nst_helpers.checks.common import describe as _describe
from nst_helpers.checks.registry import Exercise, exercise, exercises, graded_function_names
from nst_helpers.checks.tiny_network import (
    TINY_CONTENT_LAYER,
    TINY_LAYERS,
    TinyFeatureExtractor,
    tiny_costs,
    tiny_style_layers,
)

__all__ = [  # and check_<function> for every exercise (module __getattr__)
    "GRADED_FUNCTIONS",
    "MATMUL_RTOL",
    "NOT_FILLED_IN",
    "RTOL",
    "TINY_CONTENT_LAYER",
    "TINY_LAYERS",
    "Exercise",
    "Returned",
    "TinyFeatureExtractor",
    "cases",
    "check",
    "describe",
    "exception_problem",
    "exception_text_problem",
    "exercise",
    "exercises",
    "form_problem",
    "judge",
    "problem",
    "run_case",
    "tiny_costs",
    "tiny_style_layers",
]

#: The graded functions, in course order (from the registry).
GRADED_FUNCTIONS = graded_function_names()


def cases(function_name: str, seed: int | None = None) -> list[dict]:
    """The inputs of each call, as keyword arguments of NumPy arrays.

    Args:
        function_name: one of ``GRADED_FUNCTIONS``.
        seed: None for the public cases that the learner's checks use; an integer for
            hidden cases drawn with ``np.random.RandomState(seed)`` (other shapes).

    Returns:
        A list of dicts (float32 arrays; 0-d arrays for scalars).
    """
    return exercise(function_name).cases(seed)


def describe(result, function_name: str, case: dict | None = None) -> Returned:
    """Turn a learner's return value into a ``Returned`` (runs in the learner's process)."""
    exercise(function_name)
    return _describe(result)


def run_case(function, function_name: str, case: dict, **options) -> Returned:
    """Call a learner's function on one case, as the notebook would, and describe the result.

    Exceptions raised by ``function`` propagate. ``options`` go to the exercise's own
    ``run_case`` (train_step's ``compile_step``, for tests).
    """
    return exercise(function_name).run_case(function, case, **options)


def judge(function_name: str, case: dict, returned: Returned) -> str | None:
    """None when ``returned`` is right for ``case``; otherwise the message naming the mistake."""
    return exercise(function_name).judge(case, returned)


def exception_text_problem(function_name: str, type_name: str, message: str) -> str | None:
    """The message naming the mistake behind an exception (from its type name and message,
    as a grader records them), or None."""
    named = exercise(function_name).exception_problem
    return named(type_name, message) if named else None


def exception_problem(function_name: str, error: BaseException) -> str | None:
    """The message naming the mistake behind an exception a learner's function raised, or None."""
    return exception_text_problem(function_name, type(error).__name__, str(error))


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


def problem(function_name: str, function) -> str | None:
    """The message ``check`` would raise for ``function``, or None when it passes; prints
    nothing (for notebooks that use a learner's function only once it passes its check).

    Exceptions that are not a named mistake still propagate as an ``AssertionError`` whose
    message says what was raised.
    """
    the_exercise = exercise(function_name)
    if not callable(function):
        return f"{function_name} is {function!r}, not a function: run the cell that defines it."
    public_cases = the_exercise.cases()
    if the_exercise.properties is not None:
        found = the_exercise.properties(
            lambda case: _call(function, function_name, case), public_cases
        )
        if found:
            return found
    for case in public_cases:
        found = the_exercise.judge(case, _call(function, function_name, case))
        if found:
            return found
    return None


def check(function_name: str, function) -> None:
    """Check a learner's graded function; raise AssertionError naming the mistake.

    Property checks come first, then every public case is compared with the reference.
    Prints "All tests passed." on success.
    """
    found = problem(function_name, function)
    if found:
        raise AssertionError(found)
    print("All tests passed.")


def _check_function(the_exercise: Exercise):
    def check_function(function) -> None:
        check(the_exercise.name, function)

    check_function.__name__ = check_function.__qualname__ = the_exercise.check_name
    check_function.__doc__ = f"The check cell of notebook {the_exercise.notebook}."
    return check_function


def __getattr__(name: str):
    """``check_<function>`` for every registered exercise (``checks.check_gram_matrix``)."""
    for the_exercise in exercises():
        if name == the_exercise.check_name:
            return _check_function(the_exercise)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {e.check_name for e in exercises()})
