"""The static check that a graded function does not hand its work to the reference.

A learner who writes ``from nst_helpers import gram_matrix`` (or ``nh.costs.gram_matrix``,
``importlib.import_module("nst_helpers.costs")``, ``getattr(nh, name)``, ...) inside or for
a graded function would pass every test without doing the exercise. This module reads the
code that would run (the function, its helpers, and the module-level statements its names
resolve to, see ``extract``) and reports:

* uses of a forbidden reference name (per function, from the rubric; e.g.
  ``nst_helpers.costs.gram_matrix`` for ``gram_matrix``), through any alias or attribute chain;
* dynamic code that the grader cannot see through: ``__import__``, ``importlib``,
  ``exec``/``eval``/``compile``, ``globals()``/``vars()``, ``sys.modules``, a string naming
  ``nst_helpers``, or the ``nst_helpers`` module object used other than by attribute.

It is the primary defence: the child process also flags calls of the reference at run time
(``sandbox``), but a child can lie. This module does not run anything.
"""

from __future__ import annotations

import ast

from nst_helpers.course.extract import Program, Statement

PACKAGE = "nst_helpers"
_DYNAMIC_NAMES = {
    "__import__": "calls __import__",
    "importlib": "uses importlib",
    "exec": "calls exec",
    "eval": "calls eval",
    "compile": "calls compile",
    "globals": "reads globals()",
    "vars": "reads vars()",
    "__builtins__": "reads __builtins__",
    "__loader__": "reads __loader__",
}


def _package_exports() -> dict[str, str]:
    """Map the package's lazy re-exports to their modules: gram_matrix -> nst_helpers.costs."""
    import nst_helpers

    table = getattr(nst_helpers, "_MODULE_OF", {})
    return dict(table) if isinstance(table, dict) else {}


def canonical(qualified: str, exports: dict[str, str]) -> str:
    """``nst_helpers.gram_matrix`` -> ``nst_helpers.costs.gram_matrix`` (the defining module)."""
    parts = qualified.split(".")
    if len(parts) >= 2 and parts[0] == PACKAGE and parts[1] in exports:
        return ".".join([exports[parts[1]], parts[1], *parts[2:]])
    return qualified


def is_forbidden(qualified: str, forbidden: list[str]) -> bool:
    return any(qualified == f or qualified.startswith(f + ".") for f in forbidden)


def _import_aliases(node: ast.stmt) -> dict[str, str]:
    """Names an import statement binds to something inside nst_helpers, with their full name."""
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


def _is_module_path(qualified: str, exports: dict[str, str]) -> bool:
    """True when ``qualified`` names a module of the package, not a function or constant."""
    parts = qualified.split(".")
    if parts == [PACKAGE]:
        return True
    return len(parts) == 2 and parts[1] not in exports and not parts[1][:1].isupper()


def find_delegation(
    program: Program, forbidden: list[str], function_name: str
) -> list[tuple[str, str]]:
    """Problems found in the code that defines ``function_name``: (cell label, reason) pairs."""
    exports = _package_exports()
    forbidden = [canonical(f, exports) for f in forbidden]
    module_aliases: dict[str, str] = {}
    for name, binding in program.resolved.items():
        if binding.kind == "import":
            qualified = _import_aliases(binding.node).get(name)
            if qualified:
                module_aliases[name] = qualified
    problems: list[tuple[str, str]] = []
    for statement in program.statements:
        if statement.kind == "import":
            continue
        problems.extend(_scan(statement, dict(module_aliases), forbidden, exports, function_name))
    seen, unique = set(), []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique


def _scan(
    statement: Statement,
    aliases: dict[str, str],
    forbidden: list[str],
    exports: dict[str, str],
    function_name: str,
) -> list[tuple[str, str]]:
    where = statement.cell_label
    problems = []
    for node in ast.walk(statement.node):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias, qualified in _import_aliases(node).items():
                aliases[alias] = qualified
                full = canonical(qualified, exports)
                if is_forbidden(full, forbidden):
                    problems.append((where, f"imports the reference `{full}`"))
            if any(alias.name.split(".")[0] == "importlib" for alias in node.names):
                problems.append((where, "uses importlib"))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("importlib"):
                problems.append((where, "uses importlib"))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in _DYNAMIC_NAMES:
                problems.append((where, _DYNAMIC_NAMES[node.id]))
    # Second pass: uses of names bound to nst_helpers, with their attribute chains.
    parents = {}
    for node in ast.walk(statement.node):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    for node in ast.walk(statement.node):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and PACKAGE in node.value and not isinstance(parents.get(node), ast.Expr):
            problems.append((where, f"names the package {PACKAGE!r} in a string"))
        if isinstance(node, ast.Attribute) and node.attr == "modules":
            chain = _attribute_chain(node)
            if chain and chain[0] == "sys":
                problems.append((where, "reads sys.modules"))
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
            continue
        if node.id not in aliases:
            continue
        top = node
        while isinstance(parents.get(top), ast.Attribute):
            top = parents[top]
        chain = _attribute_chain(top)
        qualified = ".".join([aliases[node.id], *chain[1]]) if chain else aliases[node.id]
        full = canonical(qualified, exports)
        if is_forbidden(full, forbidden):
            problems.append((where, f"calls the reference `{full}`"))
        elif _is_module_path(full, exports):
            problems.append(
                (where, f"uses the module `{full}` dynamically (e.g. getattr); name what you use")
            )
    return [(w, f"`{function_name}` {reason}") for w, reason in problems]
