"""The allow-list from the registry, and the only nst_helpers a sandbox sees (no child process).

Every module and public name of the package is classified: allowed to some graded
functions (exactly their registry's ``allowed_helpers``, spelled through the package or
the defining module), or forbidden to all. A use of any other name is found statically,
and the sandbox's package holds no reference, judge or NumPy answer it may not use.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil

import pytest

import nst_helpers
from nst_helpers.checks import exercises
from nst_helpers.course.extract import NotebookIndex, build_program
from nst_helpers.course.notebooks import Cell, Notebook
from nst_helpers.grading import allowlist, stubs
from nst_helpers.grading.delegation import find_delegation
from nst_helpers.grading.rubric import default_rubric_data, load_rubric
from tests.conftest import PACKAGE


def _imported_public_names() -> set[str]:
    """Every module of the package and every public name in it, found by importing them."""
    names = set()
    for info in pkgutil.walk_packages(nst_helpers.__path__, "nst_helpers."):
        names.add(info.name)
        module = importlib.import_module(info.name)
        names |= {f"{info.name}.{n}" for n in vars(module) if not n.startswith("_")}
    names |= {f"nst_helpers.{n}" for n in nst_helpers.__all__}
    return names


def test_every_module_and_public_name_is_classified():
    classified = allowlist.classification()
    imported = _imported_public_names()
    # Names the import finds but the source does not bind (a module's own submodules, or
    # check_<function> made on demand) resolve to a module or an unknown attribute.
    unclassified = sorted(
        name
        for name in imported - set(classified)
        if not allowlist.is_module(name) and not name.startswith("nst_helpers.checks.")
    )
    assert not unclassified, unclassified
    modules_found = {i.name for i in pkgutil.walk_packages(nst_helpers.__path__, "nst_helpers.")}
    assert modules_found <= set(classified)
    for name, functions in classified.items():
        for exercise in exercises():
            expected = allowlist.canonical(name) in allowlist.allowed(exercise.name) and (
                allowlist._module_part(name)
                in ("nst_helpers", allowlist.canonical(name).rpartition(".")[0])
            )
            assert (exercise.name in functions) == expected, (name, exercise.name)
    # Allowed to some exercise: only the registry's helpers, in their two spellings.
    allowed_anywhere = {n for n, functions in classified.items() if functions}
    registry = {allowlist.canonical(h) for e in exercises() for h in e.allowed_helpers}
    assert {allowlist.canonical(n) for n in allowed_anywhere} == registry
    # Every module (the checks, the engine, the grader, ...) is forbidden to all.
    assert all(not classified[m] for m in modules_found | {"nst_helpers"})


def _program(source: str, name: str):
    notebook = Notebook(PACKAGE, (Cell(0, "code", source),))
    index = NotebookIndex(notebook)
    return build_program(index, index.definitions(name)[-1], name)


@pytest.mark.parametrize("exercise", exercises(), ids=lambda e: e.name)
def test_every_forbidden_name_is_found_statically(exercise):
    """Each public name of the package, used by each graded function, is flagged unless
    the allow-list holds it."""
    name = exercise.name
    for qualified, functions in allowlist.classification().items():
        if "." not in qualified:
            continue
        module, _, attribute = qualified.rpartition(".")
        source = f"import {module} as m\ndef {name}(*a, **k):\n    return m.{attribute}(*a)\n"
        problems = find_delegation(_program(source, name), allowlist.allowed(name), name)
        assert bool(problems) == (name not in functions), (qualified, problems)


def test_allowed_helpers_name_real_things_and_the_rubric_comes_from_the_registry():
    for exercise in exercises():
        allowlist.allowed(exercise.name)  # raises for a typo in the registry
        assert allowlist.canonical(exercise.reference) not in allowlist.allowed(exercise.name)
    data = default_rubric_data()
    assert list(data["functions"]) == [e.name for e in exercises()]
    assert [v["points"] for v in data["functions"].values()] == [e.points for e in exercises()]
    rubric = load_rubric()
    assert [r.allowed for r in rubric.functions] == [
        tuple(sorted(allowlist.allowed(e.name))) for e in exercises()
    ]
    assert not list((PACKAGE / "grading").glob("*.json"))  # no second, hand-written list


@pytest.mark.parametrize("exercise", exercises(), ids=lambda e: e.name)
def test_the_sandbox_package_holds_no_answer(exercise):
    package = stubs.sandbox_package(exercise)
    defined = stubs.defined_names(package)
    assert not defined & stubs.forbidden_definitions(exercise)
    assert allowlist.canonical(exercise.reference) not in defined
    for name in allowlist.allowed(exercise.name):
        assert name in defined
    module, function = stubs.run_case_name(exercise)
    assert f"{module}.{function}" in defined
    for text in package.values():
        ast.parse(text)
    root = package["nst_helpers"]
    assert sorted(ast.literal_eval(root.rpartition("__all__ = ")[2])) == sorted(
        n.rpartition(".")[2] for n in allowlist.allowed(exercise.name)
    )


def test_the_harness_imports_nothing_of_the_package():
    """The sandbox's interpreter runs harness.py without nst_helpers in its view."""
    tree = ast.parse((PACKAGE / "grading" / "harness.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("nst_helpers") for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("nst_helpers") and node.level == 0
