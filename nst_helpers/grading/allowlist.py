"""Which ``nst_helpers`` names each graded function may use: an allow-list from the registry.

For each exercise of ``nst_helpers.checks.registry``, ``allowed_helpers`` lists the names
(qualified by their defining module) that the graded function may use, e.g.
``nst_helpers.costs.gram_matrix`` for ``compute_layer_style_cost``. Everything else in the
package is forbidden to it, whatever module or alias it is reached through: a name is
first brought back to its defining module (``canonical``: ``nst_helpers.gram_matrix`` and
``nst_helpers.reference_step.total_cost`` are ``nst_helpers.costs...``), then looked up.

The package is read from its source files with ``ast`` (no import, so the supervisor does
not load TensorFlow): every module, every module-level binding, the lazy re-exports of
``nst_helpers/__init__.py``, and the ``from nst_helpers... import`` aliases between modules.
This module decides nothing about code; ``delegation`` applies it to a learner's program
and ``stubs`` builds, from the same allow-list, the only ``nst_helpers`` a sandbox sees.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = "nst_helpers"


@dataclass(frozen=True)
class ModuleInfo:
    """What the source of one module of the package binds at its top level."""

    name: str
    path: Path
    is_package: bool
    #: name -> "def" | "class" | "assign" | "import"
    kinds: dict
    #: name -> the qualified name it is imported from, for ``from nst_helpers.x import y``
    aliases: dict


def package_root() -> Path:
    """The folder of the ``nst_helpers`` package (its source files)."""
    return Path(__file__).resolve().parents[1]


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _read_module(name: str, path: Path, is_package: bool) -> ModuleInfo:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kinds: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kinds[node.name] = "def"
        elif isinstance(node, ast.ClassDef):
            kinds[node.name] = "class"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for element in ast.walk(target):
                    if isinstance(element, ast.Name):
                        kinds[element.id] = "assign"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                kinds[alias.asname or alias.name.split(".")[0]] = "import"
                if alias.asname and alias.name.startswith(PACKAGE):
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(name, is_package, node.level, node.module)
            for alias in node.names:
                bound = alias.asname or alias.name
                kinds[bound] = "import"
                if source == PACKAGE or source.startswith(PACKAGE + "."):
                    aliases[bound] = f"{source}.{alias.name}"
    return ModuleInfo(name, path, is_package, kinds, aliases)


@cache
def modules() -> dict[str, ModuleInfo]:
    """Every module of the package, by qualified name, read from its source."""
    root = package_root()
    found = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("").parts
        is_package = relative[-1] == "__init__"
        name = ".".join(relative[:-1] if is_package else relative)
        if "__pycache__" in relative:
            continue
        found[name] = _read_module(name, path, is_package)
    return found


@cache
def lazy_exports() -> dict[str, str]:
    """The re-exports of ``nst_helpers/__init__.py``: name -> its defining module."""
    tree = ast.parse(modules()[PACKAGE].path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in node.targets
        ):
            table = ast.literal_eval(node.value)
            return {name: module for module, names in table.items() for name in names}
    return {}


def canonical(qualified: str, _depth: int = 0) -> str:
    """The name in its defining module: ``nst_helpers.gram_matrix`` ->
    ``nst_helpers.costs.gram_matrix``; a module stays itself; an unknown attribute is kept
    as written (and so is allowed to nobody)."""
    if _depth > 20 or not (qualified == PACKAGE or qualified.startswith(PACKAGE + ".")):
        return qualified
    known = modules()
    parts = qualified.split(".")
    cut = max(i for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in known)
    module, rest = ".".join(parts[:cut]), parts[cut:]
    if not rest:
        return module
    first = rest[0]
    if module == PACKAGE and first in lazy_exports():
        return canonical(".".join([lazy_exports()[first], *rest]), _depth + 1)
    alias = known[module].aliases.get(first)
    if alias is not None:
        return canonical(".".join([alias, *rest[1:]]), _depth + 1)
    return qualified


def is_module(qualified: str) -> bool:
    return canonical(qualified) in modules()


def public_names() -> list[str]:
    """Every module of the package and every public name each one binds (canonical or not)."""
    names = []
    for module_name, info in modules().items():
        names.append(module_name)
        names += [f"{module_name}.{n}" for n in info.kinds if not n.startswith("_")]
    names += [f"{PACKAGE}.{n}" for n in lazy_exports()]
    return sorted(set(names))


def _exercises():
    from nst_helpers.checks.registry import exercises

    return exercises()


@cache
def allowed(exercise_name: str) -> frozenset[str]:
    """The canonical ``nst_helpers`` names the graded function ``exercise_name`` may use.

    Raises:
        ValueError: an allowed helper of the registry names nothing in the package (a typo
            there would silently forbid or allow the wrong thing).
    """
    for exercise in _exercises():
        if exercise.name == exercise_name:
            names = frozenset(canonical(name) for name in exercise.allowed_helpers)
            for name in names:
                module, _, attribute = name.rpartition(".")
                if module not in modules() or attribute not in modules()[module].kinds:
                    raise ValueError(
                        f"the registry allows {name!r} to {exercise_name}, but the package "
                        "defines no such name; fix allowed_helpers in its checks module."
                    )
            return names
    raise ValueError(f"unknown graded function {exercise_name!r}.")


def _module_part(qualified: str) -> str:
    parts = qualified.split(".")
    known = modules()
    cut = max((i for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in known), default=0)
    return ".".join(parts[:cut])


def is_allowed(qualified: str, allowed_names) -> bool:
    """Whether ``qualified`` is an allowed name (or an attribute of one), spelled through the
    package itself (``nst_helpers.gram_matrix``) or its defining module
    (``nst_helpers.costs.gram_matrix``): the two ways the sandbox provides it. Reached
    through another module (``nst_helpers.train.steps.gram_matrix``) it is not allowed."""
    full = canonical(qualified)
    for name in allowed_names:
        if full == name or full.startswith(name + "."):
            return _module_part(qualified) in (PACKAGE, name.rpartition(".")[0])
    return False


def classification() -> dict[str, tuple[str, ...]]:
    """Every module and public name of the package -> the graded functions that may use it
    (an empty tuple: forbidden to all)."""
    result = {}
    for name in public_names():
        result[name] = tuple(e.name for e in _exercises() if is_allowed(name, allowed(e.name)))
    return result
