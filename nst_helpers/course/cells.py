"""The graded-cell convention of the course notebooks, in one place: markers and blanks.

A graded cell starts with ``# GRADED FUNCTION: <name>`` and holds one or more blocks
between ``### START CODE HERE ###`` and ``### END CODE HERE ###`` lines, where the
learner writes the code. The release blanks that code the way the classic assignment
does it (``blank_cell_source``): every comment and "(≈N lines)" hint stays, an assignment
keeps its left-hand side and gets ``None`` (``GA = None``; ``m, n = None, None``), and any
other statement becomes a bare ``None``; ``is_blank_statement`` recognises such blanks
again. The release (``course.release``), the grader and the learner's-own-code loader
all read the convention from here. Not for running or judging code.
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass

import nbformat

#: A ``# GRADED FUNCTION: name`` line (anywhere in a cell, with ``re.M``).
GRADED_PATTERN = re.compile(
    r"^[ \t]*#[ \t]*GRADED[ \t]+FUNCTION[ \t]*:[ \t]*([A-Za-z_][A-Za-z0-9_]*)", re.M
)
START_MARKER = "### START CODE HERE ###"
END_MARKER = "### END CODE HERE ###"


@dataclass(frozen=True)
class GradedCell:
    """A graded cell: its index in the notebook, the function's name and its code blocks."""

    index: int
    name: str
    blocks: tuple[tuple[int, int], ...]  # (start marker line, end marker line), 0-based


def graded_function_name(source: str) -> str | None:
    """The name after ``# GRADED FUNCTION:`` on the cell's first non-blank line, or None."""
    for line in source.splitlines():
        if line.strip():
            match = GRADED_PATTERN.match(line)
            return match.group(1) if match else None
    return None


def marker_names(source: str) -> list[str]:
    """Every name a cell declares graded with a ``# GRADED FUNCTION:`` line, anywhere in it."""
    return GRADED_PATTERN.findall(source)


def _is_marker(line: str, marker: str) -> bool:
    return line.strip().startswith(marker.rstrip("#").strip())


def code_blocks(source: str, where: str = "cell") -> list[tuple[int, int]]:
    """The (start, end) line numbers of each START/END CODE HERE pair, in order.

    Raises:
        ValueError: a START without its END, an END without a START, or nested pairs.
    """
    blocks, start = [], None
    for number, line in enumerate(source.splitlines()):
        if _is_marker(line, START_MARKER):
            if start is not None:
                raise ValueError(
                    f"{where}, line {number + 1}: a second '{START_MARKER}' before the "
                    f"'{END_MARKER}' of line {start + 1}. Close each block before opening another."
                )
            start = number
        elif _is_marker(line, END_MARKER):
            if start is None:
                raise ValueError(
                    f"{where}, line {number + 1}: '{END_MARKER}' without a '{START_MARKER}' "
                    "above it. Add the START line or remove this one."
                )
            blocks.append((start, number))
            start = None
    if start is not None:
        raise ValueError(
            f"{where}, line {start + 1}: '{START_MARKER}' is never closed. "
            f"Add '{END_MARKER}' after the learner's code."
        )
    return blocks


def graded_cells(notebook: nbformat.NotebookNode, where: str = "notebook") -> list[GradedCell]:
    """Every graded code cell of ``notebook``, in order.

    Raises:
        ValueError: a graded cell without a START/END block, or with broken markers.
    """
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        name = graded_function_name(cell.source)
        if name is None:
            continue
        label = f"{where}, cell {index} ({name})"
        blocks = code_blocks(cell.source, label)
        if not blocks:
            raise ValueError(
                f"{label}: a graded cell needs a '{START_MARKER}' ... '{END_MARKER}' block "
                "around the code the learner writes."
            )
        found.append(GradedCell(index, name, tuple(blocks)))
    return found


def _blank_statement(statement: ast.stmt, lines: list[str]) -> str:
    """The student's version of one statement (its first line, without indentation)."""
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        parts = []
        for target in targets:
            text = ast.get_source_segment("\n".join(lines), target)
            if isinstance(statement, ast.AnnAssign):
                text += ": " + ast.get_source_segment("\n".join(lines), statement.annotation)
            parts.append(text)
        last = targets[-1]
        value = ", ".join(["None"] * len(last.elts)) if isinstance(last, ast.Tuple) else "None"
        return " = ".join(parts) + " = " + value
    if isinstance(statement, ast.Return):
        return "return None"
    return "None"


def _comments_by_line(code: str) -> dict[int, tuple[int, str]]:
    """{0-based line: (column, comment text)} for every comment in ``code``."""
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0] - 1] = (token.start[1], token.string)
    return comments


def blank_block(lines: list[str], where: str = "block") -> list[str]:
    """Blank the learner's code in ``lines`` (the lines between the START and END markers)."""
    text = "\n".join(lines)
    dedented = textwrap.dedent(text)
    indent = ""
    for line in lines:
        if line.strip():
            indent = line[: len(line) - len(line.lstrip())]
            break
    dedented_lines = dedented.splitlines()
    try:
        tree = ast.parse(dedented)
    except SyntaxError as error:
        raise ValueError(
            f"{where}: the code between the markers is not valid Python on its own "
            f"(line {error.lineno}: {error.msg}). Put whole statements inside the block."
        ) from None
    if not tree.body:
        raise ValueError(f"{where}: there is no code between the markers to blank.")
    comments = _comments_by_line(dedented)
    result = list(lines)
    # Replace statements from the last to the first so that line numbers stay valid.
    for statement in reversed(tree.body):
        first, last = statement.lineno - 1, statement.end_lineno - 1
        replacement = indent + _blank_statement(statement, dedented_lines)
        if last in comments and comments[last][0] >= statement.end_col_offset:
            replacement += "  " + comments[last][1]  # a hint at the end of the statement
        kept = []  # comments inside the statement stay, as comment lines
        for number in range(first + 1, last + 1):
            line = lines[number]
            if number in comments and not (
                number == last and replacement.endswith(comments[number][1])
            ):
                kept.append(line[: len(line) - len(line.lstrip())] + comments[number][1])
        result[first : last + 1] = [replacement] + kept
    return result


def blank_cell_source(source: str, where: str = "cell") -> str:
    """The student's version of a graded cell's source."""
    lines = source.splitlines()
    for start, end in reversed(code_blocks(source, where)):
        lines[start + 1 : end] = blank_block(lines[start + 1 : end], f"{where}, line {start + 2}")
    return "\n".join(lines)


def is_blank_statement(node: ast.stmt) -> bool:
    """A statement of the release's template: ``x = None``, ``a, b = None, None``, ``None``,
    a string, ``pass``, ``return name``, or a ``with`` block of such statements."""
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant)
    if isinstance(node, ast.Assign):
        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
        return all(isinstance(v, ast.Constant) and v.value is None for v in values)
    if isinstance(node, ast.Return):
        return node.value is None or isinstance(node.value, (ast.Name, ast.Constant))
    if isinstance(node, ast.With):
        return all(is_blank_statement(child) for child in node.body)
    return False
