"""The rubric: points per graded function and partial credit; defaults from the registry.

The default rubric is made from ``nst_helpers.checks.registry`` (each exercise's
``points``), so the list of graded functions and their points have one source;
``nst grade --show-rubric`` prints it as JSON. A rubric file changes points and partial
credit::

    {"partial_credit": false,
     "functions": {"gram_matrix": {"points": 20}, ...}}

A function left out of the file is not graded. With ``partial_credit`` a function earns
points in proportion to the hidden cases it passes; without it, all cases or nothing.
What each function may use of ``nst_helpers`` is not a rubric setting: it is the
exercise's allow-list (``allowlist``), the same for every rubric (a ``reference`` entry,
from the former format, is accepted and ignored).

This module only loads and validates; ``score`` applies it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nst_helpers.checks import GRADED_FUNCTIONS, exercises
from nst_helpers.grading import allowlist


@dataclass(frozen=True)
class FunctionRule:
    name: str
    points: float
    #: The canonical ``nst_helpers`` names the function may use (from the registry).
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rubric:
    functions: tuple[FunctionRule, ...]
    partial_credit: bool
    description: str = ""

    @property
    def total(self) -> float:
        return sum(rule.points for rule in self.functions)

    def rule(self, name: str) -> FunctionRule:
        for rule in self.functions:
            if rule.name == name:
                return rule
        raise ValueError(f"the rubric has no function {name!r}.")


def default_rubric_data() -> dict:
    """The default rubric as JSON data, made from the registry."""
    return {
        "description": "Neural Style Transfer course: the graded functions of the registry "
        "(nst_helpers.checks), with their default points. What each may use of nst_helpers is "
        "its allow-list in the registry, not a rubric setting.",
        "partial_credit": False,
        "functions": {exercise.name: {"points": exercise.points} for exercise in exercises()},
    }


def default_rubric_text() -> str:
    return json.dumps(default_rubric_data(), indent=2) + "\n"


def parse_rubric(data, origin: str = "rubric") -> Rubric:
    """Validate a rubric's JSON data; raise ValueError naming the problem and the fix."""
    if not isinstance(data, dict) or not isinstance(data.get("functions"), dict):
        raise ValueError(
            f'{origin}: expected a JSON object with a "functions" object mapping each graded '
            f'function to {{"points": ...}}; see the default with `nst grade --show-rubric`.'
        )
    unknown = sorted(set(data["functions"]) - set(GRADED_FUNCTIONS))
    if unknown:
        raise ValueError(
            f"{origin}: unknown graded function(s) {unknown}; the graded functions are "
            f"{list(GRADED_FUNCTIONS)}."
        )
    if not data["functions"]:
        raise ValueError(f'{origin}: "functions" is empty; give at least one graded function.')
    rules = []
    for name in GRADED_FUNCTIONS:
        if name not in data["functions"]:
            continue
        entry = data["functions"][name]
        if not isinstance(entry, dict):
            raise ValueError(
                f'{origin}: the entry for {name} must be an object like {{"points": 20}}.'
            )
        points = entry.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise ValueError(f"{origin}: {name}.points must be a number >= 0, got {points!r}.")
        if points != points or points == float("inf"):
            raise ValueError(f"{origin}: {name}.points must be a finite number, got {points!r}.")
        reference = entry.get("reference", [])
        if not isinstance(reference, list) or not all(isinstance(r, str) for r in reference):
            raise ValueError(
                f"{origin}: {name}.reference must be a list of qualified names (it is ignored: "
                f"the allow-list comes from the registry), got {reference!r}."
            )
        rules.append(FunctionRule(name, float(points), tuple(sorted(allowlist.allowed(name)))))
    partial = data.get("partial_credit", False)
    if not isinstance(partial, bool):
        raise ValueError(f"{origin}: partial_credit must be true or false, got {partial!r}.")
    return Rubric(tuple(rules), partial, str(data.get("description", "")))


def load_rubric(path=None) -> Rubric:
    """The rubric at ``path``, or the default (from the registry) when ``path`` is None."""
    if path is None:
        return parse_rubric(default_rubric_data(), "default rubric")
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(
            f"cannot read the rubric {str(path)!r}: {error.strerror or error}."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ValueError(f"the rubric {str(path)!r} is not valid JSON: {error}.") from None
    return parse_rubric(data, str(path))
