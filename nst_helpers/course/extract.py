"""Find a graded function's definition in a notebook and cut out the little code it needs.

The grader never runs a whole notebook (no training cells, no shell magics, no file
downloads): for each graded function it sends the child process only the function's
``def`` plus the module-level statements that the function's free names resolve to
(imports, simple assignments such as constants, helper functions and classes), found by
parsing every code cell with ``ast``. Names resolve as Jupyter's "Run All" would leave
them: the last module-level binding in notebook order wins, so a duplicated cell's last
definition counts. IPython magics are turned into ``get_ipython()`` calls by IPython's
own transformer (or commented out when IPython is absent), so they never run.

This module decides *what* runs; ``delegation`` decides whether it may, and
``runner`` runs it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from nst_helpers.course.notebooks import Notebook

_FENCE = re.compile(r"^\s*```.*$", re.M)
_MAGIC_LINE = re.compile(r"^(\s*)([%!].*)$", re.M)
_MAX_JOINED_CELLS = 4


def strip_magics(source: str) -> str:
    """Turn IPython magics and shell escapes into code that does nothing when not run.

    IPython's transformer rewrites ``%time x = f()`` into ``get_ipython().run_line_magic(...)``,
    a call the extractor never includes. Without IPython, magic lines become comments.
    """
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


@dataclass
class Statement:
    """One module-level statement of a notebook: where it is and which names it binds."""

    node: ast.stmt
    cell_index: int
    order: int
    names: tuple[str, ...]
    kind: str  # "import" | "def" | "class" | "assign" | "other"
    simple: bool = True
    note: str = ""
    text: str = ""  # the source the statement was parsed from (for its exact lines)

    @property
    def cell_label(self) -> str:
        return f"cell {self.cell_index + 1}"


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
    """The nodes of an expression that run when it is evaluated (not lambda bodies)."""
    yield node
    if isinstance(node, ast.Lambda):
        yield from _evaluated_nodes(node.args)
        return
    for child in ast.iter_child_nodes(node):
        yield from _evaluated_nodes(child)


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


def describe_statement(node: ast.stmt, cell_index: int, order: int) -> Statement:
    """Classify a module-level statement and list the names it binds."""
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
        return Statement(node, cell_index, order, tuple(names), "assign", simple=simple)
    return Statement(node, cell_index, order, (), "other", simple=False)


def free_names(node: ast.AST) -> set[str]:
    """Names a statement reads from the module namespace (an over-approximation is fine)."""
    loaded, stored = set(), set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            (loaded if isinstance(child.ctx, ast.Load) else stored).add(child.id)
        elif isinstance(child, ast.arg):
            stored.add(child.arg)
        elif isinstance(child, (ast.Import, ast.ImportFrom)) and child is not node:
            for alias in child.names:
                stored.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if child is not node:
                stored.add(child.name)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        # Defaults and decorators are evaluated in the module namespace.
        outer = set()
        for expression in [*node.args.defaults, *node.args.kw_defaults, *node.decorator_list]:
            if expression is not None:
                outer |= {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
        return (loaded - stored) | outer
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return loaded
    return loaded - stored


class NotebookIndex:
    """Every code cell of one notebook parsed, with the module-level bindings in order."""

    def __init__(self, notebook: Notebook):
        self.notebook = notebook
        self.cells: list[ParsedCell] = []
        self.statements: list[Statement] = []
        order = 0
        for cell in notebook.cells:
            if cell.cell_type != "code":
                self.cells.append(ParsedCell(cell.index, cell.cell_type, None, None))
                continue
            text = strip_magics(cell.source)
            tree, error = _parse(text)
            self.cells.append(ParsedCell(cell.index, "code", tree, error))
            for node in tree.body if tree else []:
                statement = describe_statement(node, cell.index, order)
                statement.text = text
                self.statements.append(statement)
                order += 1

    def bindings(self, name: str) -> list[Statement]:
        """The module-level statements binding ``name``, in notebook order."""
        found = [s for s in self.statements if name in s.names]
        if not found:
            found = [s for s in self.statements if "*" in s.names]
        return found

    def definitions(self, name: str) -> list[Statement]:
        return [s for s in self.statements if s.kind == "def" and s.names == (name,)]

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
    """The code the child runs to define one graded function, and how it was assembled."""

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


def _statement_lines(statement: Statement) -> list[str] | None:
    """The statement's own source lines (decorators included) as written, or None."""
    node = statement.node
    if not statement.text:
        return None
    if getattr(node, "decorator_list", None):
        if node.col_offset != 0 or node.end_lineno is None:
            return None
        return statement.text.splitlines()[_first_line(node) - 1 : node.end_lineno]
    segment = ast.get_source_segment(statement.text, node)
    return segment.splitlines() if segment else None


def _program_text(statements: list[Statement]) -> tuple[str, list]:
    lines: list[str] = []
    line_map: list = [None]
    for statement in statements:
        own = _statement_lines(statement)
        if own is None:
            own = ast.unparse(statement.node).splitlines()
            line_map += [None] * len(own)
        else:
            first = _first_line(statement.node)
            line_map += [(statement.cell_label, first + i) for i in range(len(own))]
        lines += own
    source = "\n".join(lines) + "\n"
    try:
        ast.parse(source)
    except SyntaxError:
        source = ast.unparse(ast.Module(body=[s.node for s in statements], type_ignores=[]))
        line_map = []
    return source, line_map


def build_program(index: NotebookIndex, definition: Statement, name: str) -> Program:
    """The definition plus, transitively, the module-level statements its free names need."""
    included: dict[int, Statement] = {id(definition): definition}
    resolved: dict[str, Statement] = {}
    notes: list[str] = []
    pending = [definition]
    while pending:
        statement = pending.pop()
        for free in sorted(free_names(statement.node)):
            if free == name or free in resolved:
                continue
            candidates = index.bindings(free)
            if not candidates:
                continue
            binding = candidates[-1]
            if binding.kind in ("def", "class", "import") or (
                binding.kind == "assign" and binding.simple
            ):
                resolved[free] = binding
                if id(binding) not in included:
                    included[id(binding)] = binding
                    pending.append(binding)
            else:
                notes.append(
                    f"`{name}` reads the notebook variable `{free}` ({binding.cell_label}), which "
                    "is computed by code the grader does not run (it calls the notebook's own "
                    "functions or state); compute it inside the function instead."
                )
    ordered = sorted(included.values(), key=lambda s: (s.order < 0, s.order))
    source, line_map = _program_text(ordered)
    return Program(source, ordered, resolved, notes, line_map)
