"""The only ``nst_helpers`` a sandbox sees: per exercise, the allowed helpers and the case runner.

A graded function's sandbox does not mount the package: the reference code must not even
be in the process, where ``gc.get_objects()``, ``runpy`` or a frame could reach it. Instead
the grader sends, with each task, the source of a small package made for that exercise
(``sandbox_package``):

* ``nst_helpers/__init__.py`` re-exports exactly the exercise's allowed helpers
  (``allowlist.allowed``), e.g. ``gram_matrix`` for ``compute_layer_style_cost``;
* each module that defines an allowed helper, or the exercise's ``run_case`` (which calls
  the learner's function on a case, in the sandbox), holds only the top-level statements
  that these names need, found by following names and ``from nst_helpers... import``
  statements (at module level and inside function bodies) from module to module. The
  other statements are blank lines, so line numbers stay those of the real files.

``forbidden_definitions`` lists, for the tests, what must never be in such a package: the
reference implementations the exercise may not use, and the checks' judges and NumPy
references. This module reads source files with ``ast``; it runs and imports nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache

from nst_helpers.course.extract import free_names
from nst_helpers.grading import allowlist

PACKAGE = allowlist.PACKAGE
_ROOT_DOCSTRING = (
    '"""The part of nst_helpers this graded function may use (made by the grader\'s sandbox)."""\n'
)


@dataclass(frozen=True)
class _Parsed:
    lines: tuple[str, ...]
    statements: tuple[ast.stmt, ...]
    #: name -> indices of the top-level statements binding it
    bindings: dict


@cache
def _parsed(module: str) -> _Parsed:
    info = allowlist.modules()[module]
    text = info.path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    bindings: dict[str, list[int]] = {}
    for index, node in enumerate(tree.body):
        for name in _bound_names(node):
            bindings.setdefault(name, []).append(index)
    return _Parsed(tuple(text.splitlines()), tuple(tree.body), bindings)


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Import):
        return [alias.asname or alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [alias.asname or alias.name for alias in node.names]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno] + [d.lineno for d in decorators])


def _source_module(module: str, node: ast.ImportFrom) -> str:
    is_package = allowlist.modules()[module].is_package
    return allowlist._absolute(module, is_package, node.level, node.module)


def _is_ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _closure(roots: list[tuple[str, str]]) -> dict[str, dict[int, set[str] | None]]:
    """{module: {statement index: the import aliases needed (None: the whole statement)}}."""
    chosen: dict[str, dict[int, set[str] | None]] = {}
    pending = list(roots)
    seen: set[tuple[str, str]] = set()
    while pending:
        module, name = pending.pop()
        if (module, name) in seen:
            continue
        seen.add((module, name))
        if module not in allowlist.modules():
            raise ValueError(f"{module} is not a module of {PACKAGE}.")
        parsed = _parsed(module)
        statements = chosen.setdefault(module, {})
        for position, node in enumerate(parsed.statements):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                statements[position] = None
        if name not in parsed.bindings:
            if allowlist.modules()[module].is_package and f"{module}.{name}" in allowlist.modules():
                continue  # a submodule, imported on its own
            raise ValueError(f"{module} binds no name {name!r}.")
        for position in parsed.bindings[name]:
            node = parsed.statements[position]
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                needed = statements.get(position, set())
                if needed is not None:
                    needed.add(name)
                    statements[position] = needed
                if isinstance(node, ast.ImportFrom):
                    source = _source_module(module, node)
                    if _is_ours(source):
                        original = next(a.name for a in node.names if (a.asname or a.name) == name)
                        pending.append((source, original))
                elif any(_is_ours(a.name) for a in node.names):
                    raise ValueError(f"{module}: `import {PACKAGE}...` is not supported in a stub.")
                continue
            statements[position] = None
            segment = "\n".join(parsed.lines[_first_line(node) - 1 : node.end_lineno]) + "\n"
            for free in free_names(node, segment):
                if free in parsed.bindings and free != name:
                    pending.append((module, free))
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner is not node:
                    source = _source_module(module, inner)
                    if _is_ours(source):
                        pending += [(source, alias.name) for alias in inner.names]
                elif isinstance(inner, ast.Import) and inner is not node:
                    if any(_is_ours(alias.name) for alias in inner.names):
                        raise ValueError(f"{module}: `import {PACKAGE}...` in a function body.")
    return chosen


def _module_text(module: str, statements: dict[int, set[str] | None]) -> str:
    parsed = _parsed(module)
    lines = [""] * len(parsed.lines)
    for position, needed in statements.items():
        node = parsed.statements[position]
        first, last = _first_line(node), node.end_lineno
        if needed is None:
            lines[first - 1 : last] = parsed.lines[first - 1 : last]
            continue
        names = [alias for alias in node.names if (alias.asname or alias.name) in needed]
        if isinstance(node, ast.ImportFrom):
            reduced = ast.ImportFrom(module=node.module, names=names, level=node.level)
        else:
            reduced = ast.Import(names=names)
        lines[first - 1] = ast.unparse(reduced)
    return "\n".join(lines) + "\n"


def sandbox_package(exercise) -> dict[str, str]:
    """{module name: source} of the package a sandbox of ``exercise`` imports as ``nst_helpers``.

    Raises:
        ValueError: the allowed helpers or the case runner need a form of import the stub
            cannot follow (a test runs this for every exercise).
    """
    allowed = sorted(allowlist.allowed(exercise.name))
    roots = [tuple(name.rsplit(".", 1)) for name in allowed]
    runner = exercise.run_case
    roots.append((runner.__module__, runner.__name__))
    chosen = _closure(roots)
    package = {module: _module_text(module, statements) for module, statements in chosen.items()}
    for module in list(package):
        parts = module.split(".")
        for cut in range(1, len(parts)):
            parent = ".".join(parts[:cut])
            package.setdefault(parent, f'"""{parent} (only what the sandbox needs)."""\n')
    exports = "".join(
        f"from {name.rpartition('.')[0]} import {name.rpartition('.')[2]}\n" for name in allowed
    )
    names = [name.rpartition(".")[2] for name in allowed]
    package[PACKAGE] = _ROOT_DOCSTRING + exports + f"__all__ = {names!r}\n"
    return package


def run_case_name(exercise) -> tuple[str, str]:
    """(module, function) of the exercise's case runner, imported from the sandbox's package."""
    return exercise.run_case.__module__, exercise.run_case.__name__


def forbidden_definitions(exercise) -> set[str]:
    """Qualified names that must not be defined in ``exercise``'s sandbox package: the
    references it may not use and what the checks use to compute right answers."""
    from nst_helpers.checks import exercises

    allowed = allowlist.allowed(exercise.name)
    names = {allowlist.canonical(e.reference) for e in exercises()} - set(allowed)
    for other in exercises():
        for function in (other.judge, other.properties, other.make_cases):
            if function is not None:
                names.add(f"{function.__module__}.{function.__name__}")
    names |= {
        "nst_helpers.checks.common.gram64",
        "nst_helpers.checks.common.unroll64",
        "nst_helpers.checks.common.wrong_value",
        "nst_helpers.checks.tiny_network.tiny_costs",
        "nst_helpers.reference_step.train_step",
    }
    # What the exercise's own reference needs beyond what its allowed helpers need.
    reference = tuple(allowlist.canonical(exercise.reference).rsplit(".", 1))
    own = _closure_definitions([reference])
    names |= own - _closure_definitions([tuple(n.rsplit(".", 1)) for n in allowed])
    return names - set(allowed)


def _closure_definitions(roots) -> set[str]:
    found = set()
    for module, statements in _closure(list(roots)).items() if roots else []:
        nodes = _parsed(module).statements
        for position in statements:
            if not isinstance(nodes[position], (ast.Import, ast.ImportFrom)):
                found |= {f"{module}.{name}" for name in _bound_names(nodes[position])}
    return found


def defined_names(package: dict[str, str]) -> set[str]:
    """Every qualified name a sandbox package defines (def, class, assignment)."""
    found = set()
    for module, text in package.items():
        for node in ast.parse(text).body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                found |= {f"{module}.{name}" for name in _bound_names(node)}
    return found
