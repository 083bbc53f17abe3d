"""The registry of graded exercises: one ``Exercise`` per module of ``nst_helpers.checks``.

Every other part reads an exercise from here and nowhere else: the learner checks
(``checks.check``), the release tool and the grader (which functions are graded, their
hidden cases, points and judge), the default rubric, and the delegation allow-list (which
``nst_helpers`` names a graded function may use). Adding an exercise means adding one
module to ``nst_helpers/checks/`` that defines ``EXERCISE = Exercise(...)``
(CONTRIBUTING.md says how); the registry finds it. Not for the exercises' logic.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from nst_helpers.checks.common import Returned, call_with_tensors

#: The seed of every exercise's public cases (the ones the notebooks' checks use).
PUBLIC_SEED = 20151001


def is_public_case(make_cases, case: dict) -> bool:
    """Whether ``case`` is one of the public cases that ``make_cases`` draws (the cases the
    notebooks' checks use, whose values a message may show), compared array by array."""
    for public in make_cases(np.random.RandomState(PUBLIC_SEED), True):
        if public.keys() == case.keys() and all(
            np.shape(case[key]) == np.shape(value) and np.array_equal(case[key], value)
            for key, value in public.items()
        ):
            return True
    return False


@dataclass(frozen=True)
class Exercise:
    """One graded function: where it is taught, how it is checked, what it may use.

    Attributes:
        name: the graded function's name (``# GRADED FUNCTION: <name>``).
        order: its position in the course (sorts the registry).
        notebook: the stem of the solution notebook that teaches it, e.g. "2_gram_matrix".
        reference: the qualified name of the reference implementation in ``nst_helpers``.
        where_in_notebook: where the learner reads what the function computes (messages
            point there when no named mistake matches).
        make_cases: ``make_cases(random_state, public)`` -> the cases of one draw, each a
            dict of keyword arguments as NumPy arrays (0-d for scalars).
        hidden_draws: how many independent draws the hidden cases make.
        judge: ``judge(case, returned)`` -> None when right, else the message naming the
            mistake (computed with NumPy and the reference, in the grader's process).
        run_case: ``run_case(function, case)`` -> ``Returned``; calls the learner's
            function in the learner's process (default: tensors as ``tf.constant``).
        properties: ``properties(call, public_cases)`` -> a message or None, for checks
            that need no reference (the cost of an activation with itself is 0); ``call``
            runs the function on one case and returns its ``Returned``.
        exception_problem: ``exception_problem(type_name, message)`` -> the message for an
            exception that reveals a known mistake, or None.
        allowed_helpers: the ``nst_helpers`` names (qualified by their defining module) the
            graded function may use; everything else in the package is forbidden to it.
        points: the default rubric's points.
    """

    name: str
    order: int
    notebook: str
    reference: str
    where_in_notebook: str
    make_cases: Callable[[np.random.RandomState, bool], list[dict]]
    hidden_draws: int
    judge: Callable[[dict, Returned], str | None]
    run_case: Callable = call_with_tensors
    properties: Callable | None = None
    exception_problem: Callable[[str, str], str | None] | None = None
    allowed_helpers: tuple[str, ...] = ()
    points: float = 20.0

    @property
    def check_name(self) -> str:
        """The name of its check function in ``nst_helpers.checks``: ``check_<name>``."""
        return f"check_{self.name}"

    def cases(self, seed: int | None = None) -> list[dict[str, np.ndarray]]:
        """The public cases (``seed=None``) or ``hidden_draws`` draws of hidden ones."""
        random_state = np.random.RandomState(PUBLIC_SEED if seed is None else seed)
        if seed is None:
            return self.make_cases(random_state, True)
        return [
            case for _ in range(self.hidden_draws) for case in self.make_cases(random_state, False)
        ]


@cache
def exercises() -> tuple[Exercise, ...]:
    """Every exercise, in course order: the ``EXERCISE`` of each module of this package."""
    import nst_helpers.checks as package

    found = []
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        exercise = getattr(module, "EXERCISE", None)
        if isinstance(exercise, Exercise):
            found.append(exercise)
    return tuple(sorted(found, key=lambda exercise: exercise.order))


def exercise(name: str) -> Exercise:
    """The exercise called ``name``; ValueError naming the known ones otherwise."""
    for candidate in exercises():
        if candidate.name == name:
            return candidate
    names = tuple(candidate.name for candidate in exercises())
    raise ValueError(f"unknown graded function {name!r}; choose one of {names}.")


def graded_function_names() -> tuple[str, ...]:
    """The graded functions' names, in course order."""
    return tuple(candidate.name for candidate in exercises())
