"""The design's layering, checked: modules have a docstring, and imports point one way.

costs, files and devices depend on nothing of ours, images only on files; vgg only on
devices and images;
nothing imports the command line; the learner checks and the grader never import the
training engine. (COURSE_DESIGN.md, "Layout".)
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nst_helpers"
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
                names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_module_has_a_docstring(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and len(docstring) > 20, f"{path} needs a docstring saying what it is for"


ALLOWED = {
    "nst_helpers.costs": set(),
    "nst_helpers.files": set(),
    "nst_helpers.images": {"nst_helpers.files"},
    "nst_helpers.devices": set(),
    "nst_helpers.vgg": {"nst_helpers.devices", "nst_helpers.images"},
    "nst_helpers.step": {"nst_helpers.costs"},
}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_imports_point_one_way(path):
    name = module_name(path)
    imported = our_imports(path)
    if name in ALLOWED:
        assert imported <= ALLOWED[name], f"{name} may not import {imported - ALLOWED[name]}"
    if not (name == "nst_helpers.cli" or name.startswith("nst_helpers.commands")):
        assert not {
            i for i in imported if i.startswith(("nst_helpers.cli", "nst_helpers.commands"))
        }
    if name.startswith(("nst_helpers.checks", "nst_helpers.grading")):
        assert not {i for i in imported if i.startswith("nst_helpers.train")}, name
