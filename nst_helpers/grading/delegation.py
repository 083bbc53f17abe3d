"""The static check that a graded function uses only what it may: the first line of defence.

A learner who writes ``from nst_helpers import gram_matrix`` (or ``nh.costs.gram_matrix``,
``importlib.import_module("nst_helpers.costs")``, ``getattr(nh, name)``, a sibling module
``nst_helpers.reference_step``, ``from nst_helpers.x import *``, ...) inside or for a
graded function would pass every test without doing the exercise. This module reads the
code that would run (the function, its helpers, and the module-level statements its names
resolve to, see ``course.extract``) and reports:

* every use of an ``nst_helpers`` name that the exercise's allow-list (``allowlist``, from
  the registry) does not contain, through any alias, attribute chain or star import;
* dynamic code the grader cannot see through: ``__import__``, ``importlib``, ``exec``,
  ``eval``, ``compile``, ``globals()``, ``vars()``, ``sys.modules``, introspection that
  reaches other code (``gc``, ``runpy``, ``ctypes``, ``builtins``, ``inspect``, frames,
  ``__wrapped__``, ``__globals__``, ``__subclasses__``, ...), a string naming
  ``nst_helpers``, or a module of the package used as a value (``getattr(nh, name)``).

The sandbox is the second line: the reference code is not even in the sandbox's view
(``stubs``). This module does not run anything.
"""

from __future__ import annotations

import ast

from nst_helpers.course.extract import Program, Statement
from nst_helpers.grading import allowlist

PACKAGE = allowlist.PACKAGE
_DYNAMIC_NAMES = {
    "__import__": "calls __import__",
    "exec": "calls exec",
    "eval": "calls eval",
    "compile": "calls compile",
    "globals": "reads globals()",
    "vars": "reads vars()",
    "__builtins__": "reads __builtins__",
    "__loader__": "reads __loader__",
    "breakpoint": "calls breakpoint",
}
#: Modules that reach code by other ways than naming it: using one is dynamic code.
_DYNAMIC_MODULES = {
    "importlib": "uses importlib",
    "imp": "uses imp",
    "gc": "uses gc (the interpreter's list of every object)",
    "runpy": "uses runpy",
    "ctypes": "uses ctypes",
    "builtins": "uses the builtins module",
    "inspect": "uses inspect",
    "marshal": "uses marshal",
    "pickle": "uses pickle",
    "code": "uses the code module",
    "codeop": "uses codeop",
    "pkgutil": "uses pkgutil",
    "zipimport": "uses zipimport",
    "_posixsubprocess": "uses _posixsubprocess",
}
#: Attributes that reach other code's internals (frames, globals, wrapped originals).
_DYNAMIC_ATTRIBUTES = frozenset(
    {
        "__wrapped__", "__globals__", "__subclasses__", "__code__", "__closure__",
        "__builtins__", "__loader__", "__spec__", "__import__", "__func__", "__self__",
        "_getframe", "f_globals", "f_locals", "f_back", "f_builtins", "gi_frame", "cr_frame",
        "ag_frame", "tb_frame", "modules", "__mro__", "__bases__", "__base__",
    }
)  # fmt: skip


def _import_aliases(node: ast.stmt) -> dict[str, str]:
    """Names an import statement binds to something inside nst_helpers, with their full name.

    A star import binds ``*`` to the module it reads.
    """
    aliases = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                # ``import nst_helpers.costs`` binds ``nst_helpers``; ``as c`` binds the submodule.
                aliases[alias.asname or PACKAGE] = alias.name if alias.asname else PACKAGE
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module == PACKAGE or node.module.startswith(PACKAGE + "."):
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _attribute_chain(node: ast.AST) -> tuple[str, list[str]] | None:
    """``a.b.c`` -> ("a", ["b", "c"]); None when the root is not a plain name."""
    attributes = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, list(reversed(attributes))
    return None


def _forbidden_text(full: str, function_name: str, allowed) -> str:
    shown = ", ".join(f"`{name.rpartition('.')[2]}`" for name in sorted(allowed))
    may = f"it may use only {shown} from nst_helpers" if shown else "it may use nothing of it"
    return f"uses `{full}`, which is not allowed in `{function_name}` ({may})"


def find_delegation(program: Program, allowed, function_name: str) -> list[tuple[str, str]]:
    """Problems found in the code that defines ``function_name``: (cell label, reason) pairs.

    ``allowed`` is the exercise's allow-list (canonical qualified names, see ``allowlist``).
    """
    allowed = frozenset(allowed)
    module_aliases: dict[str, str] = {}
    for name, binding in program.resolved.items():
        if binding.kind == "import":
            bound = _import_aliases(binding.node)
            qualified = bound.get(name)
            if qualified is None and "*" in bound:
                qualified = f"{bound['*'].rpartition('.')[0]}.{name}"
            if qualified:
                module_aliases[name] = qualified
    problems: list[tuple[str, str]] = []
    for name, binding in program.resolved.items():
        node = binding.node
        if binding.kind == "import":
            sources = (
                [a.name for a in node.names if (a.asname or a.name.split(".")[0]) == name]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for source in sources:
                if source.split(".")[0] in _DYNAMIC_MODULES:
                    text = _DYNAMIC_MODULES[source.split(".")[0]]
                    problems.append((binding.cell_label, f"`{function_name}` {text}"))
    for name, qualified in module_aliases.items():
        full = allowlist.canonical(qualified)
        if not allowlist.is_allowed(qualified, allowed) and not allowlist.is_module(full):
            where = program.resolved[name].cell_label
            problems.append(
                (where, f"`{function_name}` {_forbidden_text(full, function_name, allowed)}")
            )
    for statement in program.statements:
        if statement.kind == "import":
            continue
        problems.extend(_scan(statement, dict(module_aliases), allowed, function_name))
    seen, unique = set(), []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique


def _scan(
    statement: Statement, aliases: dict[str, str], allowed: frozenset, function_name: str
) -> list[tuple[str, str]]:
    where = statement.cell_label
    problems = []
    parents = {}
    for node in ast.walk(statement.node):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias_name, qualified in _import_aliases(node).items():
                if alias_name == "*":
                    problems.append(
                        (
                            where,
                            f"imports everything from `{qualified[:-2]}`; import the names you use",
                        )
                    )
                    continue
                aliases[alias_name] = qualified
                full = allowlist.canonical(qualified)
                if not allowlist.is_allowed(qualified, allowed) and not allowlist.is_module(full):
                    problems.append((where, _forbidden_text(full, function_name, allowed)))
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for module in modules:
                top = module.split(".")[0]
                if top in _DYNAMIC_MODULES:
                    problems.append((where, _DYNAMIC_MODULES[top]))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in _DYNAMIC_NAMES:
                problems.append((where, _DYNAMIC_NAMES[node.id]))
        elif isinstance(node, ast.Attribute) and node.attr in _DYNAMIC_ATTRIBUTES:
            problems.append((where, f"reads `.{node.attr}`"))
    for node in ast.walk(statement.node):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and PACKAGE in node.value and not isinstance(parents.get(node), ast.Expr):
            problems.append((where, f"names the package {PACKAGE!r} in a string"))
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
            continue
        if node.id not in aliases:
            continue
        top = node
        while isinstance(parents.get(top), ast.Attribute):
            top = parents[top]
        chain = _attribute_chain(top)
        qualified = ".".join([aliases[node.id], *chain[1]]) if chain else aliases[node.id]
        full = allowlist.canonical(qualified)
        if allowlist.is_allowed(qualified, allowed):
            continue
        if allowlist.is_module(full):
            problems.append(
                (where, f"uses the module `{full}` dynamically (e.g. getattr); name what you use")
            )
        else:
            problems.append((where, _forbidden_text(full, function_name, allowed)))
    return [(w, f"`{function_name}` {reason}") for w, reason in problems]
