"""The design's layering, checked: modules have a docstring, and imports point one way.

The layering of COURSE_DESIGN.md ("Layout"), part by part (``LAYERS`` below); nothing
imports the command line; and every exercise is defined in exactly one module of
``nst_helpers.checks`` and reached through its registry.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import PACKAGE

MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_imports(path: Path) -> set[str]:
    """Every nst_helpers module imported by ``path``, at any depth of the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("nst_helpers"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("nst_helpers"):
                for alias in node.names:  # ``from nst_helpers import files`` imports a module
                    submodule = f"{node.module}.{alias.name}"
                    names.add(submodule if submodule in MODULE_NAMES else node.module)
    return names


MODULE_NAMES = {module_name(path) for path in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_module_has_a_docstring(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and len(docstring) > 20, f"{path} needs a docstring saying what it is for"


#: Which of our modules each part may import (a module may always import its own package).
#: Arrows point one way: costs and images depend on nothing of ours but small utilities;
#: vgg on images; train on costs and vgg; checks on costs (and the reference step, the
#: answer of the train_step exercise); course on checks; grading on checks and course;
#: the command line on everything, and nothing imports the command line.
UTILITIES = {"nst_helpers.files", "nst_helpers.devices", "nst_helpers.resources"}
LAYERS = {
    "nst_helpers.costs": set(),
    "nst_helpers.files": set(),
    "nst_helpers.devices": set(),
    "nst_helpers.resources": set(),
    "nst_helpers.images": UTILITIES,
    "nst_helpers.samples": UTILITIES,
    "nst_helpers.offline_features": UTILITIES | {"nst_helpers.images"},
    "nst_helpers.vgg": UTILITIES | {"nst_helpers.images", "nst_helpers.offline_features"},
    "nst_helpers.fetch": UTILITIES | {"nst_helpers", "nst_helpers.vgg"},  # __version__
    "nst_helpers.reference_step": {"nst_helpers.costs"},
    "nst_helpers.train": UTILITIES | {"nst_helpers.costs", "nst_helpers.images", "nst_helpers.vgg"},
    "nst_helpers.checks": {"nst_helpers.costs", "nst_helpers.reference_step"},
    # course.colab reads the version (``nst_helpers.__version__``) for the Colab cell.
    "nst_helpers.course": UTILITIES | {"nst_helpers", "nst_helpers.checks"},
    # The grader also reads the package's lazy API table (``nst_helpers``) to resolve names.
    "nst_helpers.grading": UTILITIES | {"nst_helpers", "nst_helpers.checks", "nst_helpers.course"},
}


def part_of(name: str) -> str | None:
    """The entry of LAYERS that ``name`` belongs to (the longest matching prefix)."""
    matches = [part for part in LAYERS if name == part or name.startswith(part + ".")]
    return max(matches, key=len) if matches else None


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_imports_point_one_way(path):
    name = module_name(path)
    imported = our_imports(path)
    part = part_of(name)
    if part is not None:
        allowed = LAYERS[part] | {part}
        wrong = {
            i
            for i in imported
            if not any(i == a or (a != "nst_helpers" and i.startswith(a + ".")) for a in allowed)
        }
        assert not wrong, f"{name} ({part}) may not import {sorted(wrong)}"
    if not (name == "nst_helpers.cli" or name.startswith("nst_helpers.commands")):
        assert not {
            i for i in imported if i.startswith(("nst_helpers.cli", "nst_helpers.commands"))
        }


def test_every_module_belongs_to_a_layer():
    """A new module must be placed in the layering (or be the command line or the API)."""
    loose = [
        module_name(path)
        for path in MODULES
        if part_of(module_name(path)) is None
        and module_name(path) not in ("nst_helpers", "nst_helpers.cli")
        and not module_name(path).startswith("nst_helpers.commands")
    ]
    assert not loose, f"place these modules in LAYERS: {loose}"


def test_every_exercise_is_defined_in_exactly_one_module_and_registered():
    """One exercise, one module: each graded function's EXERCISE is defined once, and the
    registry (which every other part reads) reaches every one of them."""
    import importlib
    import pkgutil

    import nst_helpers.checks as checks
    from nst_helpers.checks.registry import Exercise, exercises

    defining = {}
    for info in pkgutil.iter_modules(checks.__path__):
        module = importlib.import_module(f"nst_helpers.checks.{info.name}")
        exercise = vars(module).get("EXERCISE")
        if isinstance(exercise, Exercise):
            defining.setdefault(exercise.name, []).append(info.name)
    assert all(len(modules) == 1 for modules in defining.values()), defining
    registered = [exercise.name for exercise in exercises()]
    assert sorted(registered) == sorted(defining) and len(registered) == len(set(registered))
    assert registered == list(checks.GRADED_FUNCTIONS)
    for exercise in exercises():
        assert callable(getattr(checks, exercise.check_name))
        assert [e.order for e in exercises()] == sorted(e.order for e in exercises())
    # No other module spells out the list of graded functions (the public API re-exports the
    # reference costs by name, which is not a list of exercises).
    for path in MODULES:
        text = path.read_text()
        if "checks" in path.parts or module_name(path) == "nst_helpers":
            continue
        names_spelled = sum(f'"{name}"' in text for name in registered)
        assert names_spelled < len(registered), f"{path} lists the exercises itself"
