"""Find a graded function's definition in a notebook and cut out the little code it needs.

The grader never runs a whole notebook (no training cells, no shell magics, no file
downloads): for each graded function it sends the sandbox only the function's ``def``
(or ``name = lambda ...``) plus the module-level statements that its global names
resolve to (imports, reduced to the names used; constants, with the subscript and
augmented assignments that complete them; helper functions and classes), found by
parsing every code cell with ``ast`` and reading each statement's scopes with
``symtable`` (so an inner parameter named ``tf`` does not hide the module's ``tf``).
Names resolve as Jupyter's "Run All" would leave them: the last module-level binding in
notebook order wins. IPython magics are turned into ``get_ipython()`` calls by IPython's
own transformer, so they never run; the cell magics that run their body as ordinary
Python in the notebook's namespace (``%%time``, ``%%capture``, ``%%prun``) are removed
and their body is read like any cell, as Jupyter would run it.

The work is linear in the notebook's size: bindings are indexed by name once, and each
statement's source is cut from its cell's lines without rescanning the cell. Deeply
nested code may raise ``RecursionError`` here; the caller reports it as the learner's
"too complex to analyse", never as a grader failure.

This module decides *what* runs; ``grading.delegation`` decides whether it may, and
``grading.runner`` runs it.
"""

from __future__ import annotations

import ast
import re
import symtable
from dataclasses import dataclass, field

from nst_helpers.course.notebooks import Notebook

_FENCE = re.compile(r"^\s*```.*$", re.M)
_MAGIC_LINE = re.compile(r"^(\s*)([%!].*)$", re.M)
_CELL_MAGIC = re.compile(r"^%%([A-Za-z_][A-Za-z0-9_]*)\b.*$")
_MAX_JOINED_CELLS = 4
#: What IPython's transformer may change: a magic or a shell escape at the start of a line
#: or after ``=``, or a help request (``obj?``). Cells without any are plain Python.
_IPYTHON_SYNTAX = re.compile(r"^\s*[%!?]|=\s*[%!]|\?\s*$", re.M)
#: Cell magics whose body Jupyter runs as ordinary Python in the notebook's namespace.
TRANSPARENT_CELL_MAGICS = frozenset({"time", "capture", "prun"})


def _transform(source: str) -> str:
    if not _IPYTHON_SYNTAX.search(source):
        return source  # plain Python: IPython's transformer would leave it as it is
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        if source.lstrip().startswith("%%"):
            return "\n".join("# " + line for line in source.splitlines())
        return _MAGIC_LINE.sub(lambda match: match.group(1) + "# " + match.group(2), source)
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - a transformer failure leaves the source as written
        return source


def strip_magics(source: str) -> str:
    """Turn IPython magics and shell escapes into code that does nothing when not run.

    IPython's transformer rewrites ``%time x = f()`` into ``get_ipython().run_line_magic(...)``,
    a call the extractor never includes. A cell that starts with ``%%time``, ``%%capture``
    or ``%%prun`` runs its body as Python: the magic's line becomes blank (so line numbers
    stay those of the cell) and the body is read as code. Any other cell magic (``%%bash``,
    ``%%writefile``, ...) leaves no code.
    """
    first, newline, rest = source.partition("\n")
    match = _CELL_MAGIC.match(first)
    if match and match.group(1) in TRANSPARENT_CELL_MAGICS:
        return "\n" + _transform(rest) if newline else ""
    return _transform(source)


@dataclass
class Statement:
    """One module-level statement of a notebook: where it is and which names it binds."""

    node: ast.stmt
    cell_index: int
    order: int
    names: tuple[str, ...]
    kind: str  # "import" | "def" | "class" | "assign" | "update" | "other"
    simple: bool = True
    note: str = ""
    text: str = ""  # the source the statement was parsed from (for its exact lines)
    #: The lines of ``text`` (shared by every statement of a cell: cut once, not per statement).
    lines: list[str] | None = None

    @property
    def cell_label(self) -> str:
        return f"cell {self.cell_index + 1}"

    def source_lines(self) -> list[str] | None:
        """The statement's own source lines (decorators included) as written, or None."""
        node = self.node
        if not self.text or getattr(node, "end_lineno", None) is None:
            return None
        if self.lines is None:
            self.lines = self.text.splitlines()
        first = _first_line(node)
        if first != node.lineno and node.col_offset != 0:
            return None
        selected = self.lines[first - 1 : node.end_lineno]
        if not selected:
            return None
        selected = list(selected)
        # Column offsets are UTF-8 byte offsets (two statements may share a line: a = 1; b = 2).
        last = selected[-1].encode("utf-8")[: node.end_col_offset].decode("utf-8", "replace")
        selected[-1] = last
        if first == node.lineno and node.col_offset:
            selected[0] = selected[0].encode("utf-8")[node.col_offset :].decode("utf-8", "replace")
        return selected


@dataclass
class ParsedCell:
    index: int
    cell_type: str
    tree: ast.Module | None
    error: str | None


def _parse(source: str) -> tuple[ast.Module | None, str | None]:
    try:
        return ast.parse(source), None
    except SyntaxError as error:
        return None, f"line {error.lineno}: {error.msg}"
    except (ValueError, RecursionError, MemoryError) as error:
        return None, error.__class__.__name__


#: Builtins that a constant's definition may call (cheap, no side effects).
_SAFE_BUILTINS = frozenset(
    "abs bool complex dict float frozenset int len list max min pow range round set sorted "
    "str sum tuple".split()
)


def _evaluated_nodes(node: ast.AST):
    """The nodes of an expression that run when it is evaluated (not lambda bodies).

    Iterative, so that a very long expression cannot exhaust the interpreter's stack.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, ast.Lambda):
            stack.append(current.args)
            continue
        stack.extend(ast.iter_child_nodes(current))


def _is_safe_call(call: ast.Call) -> bool:
    """A builtin like ``int(...)`` or a library function like ``np.float32(...)``,
    ``tf.constant(...)`` or ``functools.partial(...)``: an attribute of an imported name.
    A call of a bare name the notebook defines (``build_model()``) is not."""
    function = call.func
    if isinstance(function, ast.Name):
        return function.id in _SAFE_BUILTINS
    while isinstance(function, ast.Attribute):
        function = function.value
    return isinstance(function, ast.Name)


def _is_simple_expression(node: ast.AST) -> bool:
    """True for values that are cheap and harmless to evaluate: literals, names, lambdas,
    and calls of builtins or library attributes; no calls of the notebook's own functions."""
    forbidden = (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)
    for child in _evaluated_nodes(node):
        if isinstance(child, forbidden):
            return False
        if isinstance(child, ast.Call) and not _is_safe_call(child):
            return False
    return True


def _target_names(target: ast.AST) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names = []
        for element in target.elts:
            inner = _target_names(element)
            if inner is None:
                return None
            names.extend(inner)
        return names
    return None


def _updated_root(target: ast.AST) -> ast.Name | None:
    """``X`` for targets ``X[...]``, ``X.a``, ``X[...].b[...]``: the module name being changed."""
    node = target
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node if isinstance(node, ast.Name) and node is not target else None


def _update_statement(node: ast.stmt, cell_index: int, order: int) -> Statement | None:
    """A statement that changes an existing module name: ``X["k"] = v``, ``N *= 4``,
    ``X.append(v)``; None for anything else."""
    if isinstance(node, ast.AugAssign):
        root = node.target if isinstance(node.target, ast.Name) else _updated_root(node.target)
        if root is None:
            return None
        simple = _is_simple_expression(node.value) and _is_simple_expression(node.target)
        return Statement(node, cell_index, order, (root.id,), "update", simple=simple)
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        root = _updated_root(node.targets[0])
        if root is None:
            return None
        simple = _is_simple_expression(node.value) and _is_simple_expression(node.targets[0])
        return Statement(node, cell_index, order, (root.id,), "update", simple=simple)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        function = node.value.func
        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
            call = node.value
            simple = all(_is_simple_expression(a) for a in [*call.args, *call.keywords])
            return Statement(node, cell_index, order, (function.value.id,), "update", simple)
    return None


def describe_statement(node: ast.stmt, cell_index: int, order: int) -> Statement:
    """Classify a module-level statement and list the names it binds (or changes)."""
    if isinstance(node, ast.Import):
        names = tuple((alias.asname or alias.name.split(".")[0]) for alias in node.names)
        return Statement(node, cell_index, order, names, "import")
    if isinstance(node, ast.ImportFrom):
        names = tuple((alias.asname or alias.name) for alias in node.names)
        return Statement(node, cell_index, order, names, "import")
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return Statement(node, cell_index, order, (node.name,), "def")
    if isinstance(node, ast.ClassDef):
        return Statement(node, cell_index, order, (node.name,), "class")
    update = _update_statement(node, cell_index, order)
    if update is not None:
        return update
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names: list[str] = []
        for target in targets:
            found = _target_names(target)
            if found is None:
                return Statement(node, cell_index, order, (), "other", simple=False)
            names.extend(found)
        value = node.value
        simple = value is not None and _is_simple_expression(value)
        if value is None:  # ``x: int`` binds nothing
            return Statement(node, cell_index, order, (), "other", simple=False)
        return Statement(node, cell_index, order, tuple(names), "assign", simple=simple)
    return Statement(node, cell_index, order, (), "other", simple=False)


def is_lambda_definition(statement: Statement, name: str) -> bool:
    """``name = lambda ...``: a graded function written as a lambda."""
    node = statement.node
    return (
        statement.kind == "assign"
        and statement.names == (name,)
        and isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Lambda)
    )


def _global_names(table: symtable.SymbolTable, found: set[str]) -> None:
    """Names that ``table``'s nested scopes read from the module namespace (iteratively)."""
    pending = list(table.get_children())
    while pending:
        scope = pending.pop()
        for symbol in scope.get_symbols():
            if symbol.is_global() and symbol.is_referenced():
                found.add(symbol.get_name())
        pending.extend(scope.get_children())


def _free_names_by_ast(node: ast.AST) -> set[str]:
    """An over-approximation used when ``symtable`` cannot read a statement."""
    loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        loaded.discard(node.name)
    return loaded


def free_names(node: ast.AST, source: str | None = None) -> set[str]:
    """Names a module-level statement reads from the module namespace.

    Scopes are read with ``symtable``: a name bound in a function (a parameter, a local,
    an inner function) is not a module name there, even if the module has one of the
    same name. ``source`` is the statement's own text (``ast.unparse`` when not given).
    An augmented assignment (``N *= 4``) reads the name it changes.
    """
    text = source if source is not None else ast.unparse(node)
    try:
        table = symtable.symtable(text, "<statement>", "exec")
    except (SyntaxError, ValueError):
        return _free_names_by_ast(node)
    found = {
        symbol.get_name()
        for symbol in table.get_symbols()
        if symbol.is_referenced() or (symbol.is_assigned() and isinstance(node, ast.AugAssign))
    }
    if isinstance(node, ast.AugAssign):
        root = node.target if isinstance(node.target, ast.Name) else _updated_root(node.target)
        if root is not None:
            found.add(root.id)
    _global_names(table, found)
    return found


class NotebookIndex:
    """Every code cell of one notebook parsed, with the module-level bindings in order."""

    def __init__(self, notebook: Notebook):
        self.notebook = notebook
        self.cells: list[ParsedCell] = []
        self.statements: list[Statement] = []
        self._by_name: dict[str, list[Statement]] = {}
        self._updates: dict[str, list[Statement]] = {}
        self._star_imports: list[Statement] = []
        order = 0
        for cell in notebook.cells:
            if cell.cell_type != "code":
                self.cells.append(ParsedCell(cell.index, cell.cell_type, None, None))
                continue
            text = strip_magics(cell.source)
            tree, error = _parse(text)
            self.cells.append(ParsedCell(cell.index, "code", tree, error))
            lines = text.splitlines()
            for node in tree.body if tree else []:
                statement = describe_statement(node, cell.index, order)
                statement.text, statement.lines = text, lines
                self._add(statement)
                order += 1

    def _add(self, statement: Statement) -> None:
        self.statements.append(statement)
        if statement.kind == "update":
            self._updates.setdefault(statement.names[0], []).append(statement)
            return
        for name in statement.names:
            if name == "*":
                self._star_imports.append(statement)
            else:
                self._by_name.setdefault(name, []).append(statement)

    def bindings(self, name: str) -> list[Statement]:
        """The module-level statements binding ``name``, in notebook order."""
        return self._by_name.get(name) or list(self._star_imports)

    def updates_after(self, name: str, binding: Statement) -> list[Statement]:
        """Statements that change ``name`` after ``binding`` (``X["k"] = v``, ``N *= 4``)."""
        return [s for s in self._updates.get(name, []) if s.order > binding.order]

    def definitions(self, name: str) -> list[Statement]:
        """``def name(`` statements and ``name = lambda ...``, in notebook order."""
        return [
            s
            for s in self._by_name.get(name, [])
            if (s.kind == "def" and s.names == (name,)) or is_lambda_definition(s, name)
        ]

    def marker_cells(self, name: str) -> list[int]:
        return [cell.index for cell in self.notebook.cells if name in cell.graded_names()]

    def broken_cells_mentioning(self, name: str) -> list[ParsedCell]:
        pattern = re.compile(rf"\bdef\s+{re.escape(name)}\s*\(")
        return [
            parsed
            for parsed, cell in zip(self.cells, self.notebook.cells, strict=True)
            if parsed.error and pattern.search(cell.source)
        ]

    def recover_split_definition(
        self, name: str, from_cell: int | None = None
    ) -> tuple[Statement, str] | None:
        """A definition whose cell was split: join the cell with the next ones.

        With ``from_cell``, only a split after that cell is tried, and only when the next
        code cell starts indented (the rest of a function body).
        """
        code_cells = [c for c in self.notebook.cells if c.cell_type == "code"]
        pattern = re.compile(rf"\bdef\s+{re.escape(name)}\s*\(")
        for position, cell in enumerate(code_cells):
            if not pattern.search(cell.source):
                continue
            if from_cell is not None:
                following = code_cells[position + 1 : position + 2]
                if cell.index != from_cell or not following:
                    continue
                if not _starts_indented(following[0].source):
                    return None
            for count in range(2, _MAX_JOINED_CELLS + 1):
                group = code_cells[position : position + count]
                text = strip_magics("\n".join(c.source for c in group))
                tree, error = _parse(text)
                if tree is None:
                    continue
                for node in tree.body:
                    if isinstance(node, ast.FunctionDef) and node.name == name:
                        labels = ", ".join(f"cell {c.index + 1}" for c in group)
                        statement = describe_statement(node, cell.index, -1)
                        statement.text = text
                        return statement, labels
        return None

    def definition_in_text_cells(self, name: str) -> Statement | None:
        """A definition left in a Markdown or raw cell (the cell type was changed)."""
        for cell in self.notebook.cells:
            if cell.cell_type == "code" or f"def {name}" not in cell.source:
                continue
            text = _FENCE.sub("", cell.source)
            tree, _ = _parse(text)
            for node in tree.body if tree else []:
                if isinstance(node, ast.FunctionDef) and node.name == name:
                    statement = describe_statement(node, cell.index, -1)
                    statement.text = text
                    statement.note = cell.cell_type
                    return statement
        return None


def _starts_indented(source: str) -> bool:
    """True when the first line of code (not blank, not a comment) is indented."""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return line[:1] in (" ", "\t")
    return False


@dataclass
class Program:
    """The code the sandbox runs to define one graded function, and how it was assembled."""

    source: str
    statements: list[Statement]
    resolved: dict[str, Statement] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: For each line of ``source`` (1-based, index 0 unused): (cell label, line in that cell).
    line_map: list[tuple[str, int] | None] = field(default_factory=list)

    def where(self, line: int | None) -> str | None:
        """'cell 13, line 7' for a line of the program, when known."""
        if line is None or not 0 < line < len(self.line_map) or self.line_map[line] is None:
            return None
        label, number = self.line_map[line]
        return f"{label}, line {number}"


def _first_line(node: ast.stmt) -> int:
    """The statement's first line, its decorators included."""
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno] + [d.lineno for d in decorators])


def _reduced_import(node: ast.stmt, needed: set[str]) -> ast.stmt:
    """An import statement keeping only the aliases that bind ``needed`` names."""

    def bound(alias: ast.alias) -> str:
        if isinstance(node, ast.Import):
            return alias.asname or alias.name.split(".")[0]
        return alias.asname or alias.name

    names = [alias for alias in node.names if alias.name == "*" or bound(alias) in needed]
    if isinstance(node, ast.Import):
        return ast.Import(names=names)
    return ast.ImportFrom(module=node.module, names=names, level=node.level)


def _program_text(statements: list[Statement], needed_aliases: dict[int, set[str]]) -> tuple:
    lines: list[str] = []
    line_map: list = [None]
    nodes = []
    for statement in statements:
        node = statement.node
        needed = needed_aliases.get(id(statement))
        reduced = None
        if isinstance(node, (ast.Import, ast.ImportFrom)) and needed is not None:
            reduced = _reduced_import(node, needed)
            if len(reduced.names) == len(node.names):
                reduced = None
        own = None if reduced is not None else statement.source_lines()
        if own is None:
            own = ast.unparse(reduced or node).splitlines()
            line_map += [None] * len(own)
        else:
            first = _first_line(node)
            line_map += [(statement.cell_label, first + i) for i in range(len(own))]
        nodes.append(reduced or node)
        lines += own
    source = "\n".join(lines) + "\n"
    try:
        ast.parse(source)
    except SyntaxError:
        source = ast.unparse(ast.Module(body=nodes, type_ignores=[]))
        line_map = []
    return source, line_map


def _statement_free_names(statement: Statement) -> set[str]:
    own = statement.source_lines()
    return free_names(statement.node, "\n".join(own) + "\n" if own else None)


def build_program(index: NotebookIndex, definition: Statement, name: str) -> Program:
    """The definition plus, transitively, the module-level statements its global names need.

    A constant is taken with the statements that complete it later in the notebook
    (``WEIGHTS["b"] = 0.3``, ``N *= 4``), as Run All would leave it; an import is taken
    with only the names the program uses.
    """
    included: dict[int, Statement] = {id(definition): definition}
    needed_aliases: dict[int, set[str]] = {}
    resolved: dict[str, Statement] = {}
    notes: list[str] = []
    pending = [definition]

    def include(statement: Statement) -> None:
        if id(statement) not in included:
            included[id(statement)] = statement
            pending.append(statement)

    while pending:
        statement = pending.pop()
        for free in sorted(_statement_free_names(statement)):
            if free == name:
                continue
            if free in resolved:
                if resolved[free].kind == "import":
                    needed_aliases.setdefault(id(resolved[free]), set()).add(free)
                continue
            candidates = index.bindings(free)
            if not candidates:
                continue
            binding = candidates[-1]
            if binding.kind in ("def", "class", "import") or (
                binding.kind == "assign" and binding.simple
            ):
                resolved[free] = binding
                if binding.kind == "import":
                    needed_aliases.setdefault(id(binding), set()).add(free)
                include(binding)
                if binding.kind != "assign":
                    continue
                for update in index.updates_after(free, binding):
                    if update.simple:
                        include(update)
                    else:
                        notes.append(
                            f"`{name}` reads the notebook variable `{free}`, which "
                            f"{update.cell_label} changes with code the grader does not run "
                            "(it calls the notebook's own functions or state); compute it "
                            "inside the function instead."
                        )
            else:
                notes.append(
                    f"`{name}` reads the notebook variable `{free}` ({binding.cell_label}), which "
                    "is computed by code the grader does not run (it calls the notebook's own "
                    "functions or state); compute it inside the function instead."
                )
    ordered = sorted(included.values(), key=lambda s: (s.order < 0, s.order))
    source, line_map = _program_text(ordered, needed_aliases)
    return Program(source, ordered, resolved, notes, line_map)
