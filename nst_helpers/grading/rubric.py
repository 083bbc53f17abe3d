"""The rubric: points per graded function, partial credit, and what counts as the reference.

A rubric is a JSON file; the default ships in the package (``default_rubric.json``)::

    {"partial_credit": false,
     "functions": {"gram_matrix": {"points": 20, "reference": ["nst_helpers.costs.gram_matrix"]},
                   ...}}

``reference`` lists the qualified names (modules or functions) that the function must not
use; a module name covers everything in it. With ``partial_credit`` a function earns
points in proportion to the hidden cases it passes; without it, all cases or nothing.

This module only loads and validates; ``score`` applies it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from nst_helpers.checks import GRADED_FUNCTIONS


@dataclass(frozen=True)
class FunctionRule:
    name: str
    points: float
    reference: tuple[str, ...]


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


def default_rubric_text() -> str:
    return resources.files("nst_helpers.grading").joinpath("default_rubric.json").read_text()


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
        reference = entry.get("reference", [])
        if not isinstance(reference, list) or not all(isinstance(r, str) for r in reference):
            raise ValueError(
                f"{origin}: {name}.reference must be a list of qualified names such as "
                f'"nst_helpers.costs.{name}", got {reference!r}.'
            )
        rules.append(FunctionRule(name, float(points), tuple(reference)))
    partial = data.get("partial_credit", False)
    if not isinstance(partial, bool):
        raise ValueError(f"{origin}: partial_credit must be true or false, got {partial!r}.")
    return Rubric(tuple(rules), partial, str(data.get("description", "")))


def load_rubric(path=None) -> Rubric:
    """The rubric at ``path``, or the packaged default when ``path`` is None."""
    if path is None:
        return parse_rubric(json.loads(default_rubric_text()), "default rubric")
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(
            f"cannot read the rubric {str(path)!r}: {error.strerror or error}."
        ) from None
    except json.JSONDecodeError as error:
        raise ValueError(f"the rubric {str(path)!r} is not valid JSON: {error}.") from None
    return parse_rubric(data, str(path))
