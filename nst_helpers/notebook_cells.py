"""The graded-cell convention of the course notebooks, parsed in one place.

A graded cell starts with ``# GRADED FUNCTION: <name>`` and holds one or more blocks
between ``### START CODE HERE ###`` and ``### END CODE HERE ###`` lines, where the
learner writes the code. The release tool (``nst_helpers.release``) and the grader use
these helpers to find graded cells and their blocks. Not for blanking or grading itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

GRADED_PATTERN = re.compile(r"^#\s*GRADED FUNCTION:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
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
            match = GRADED_PATTERN.match(line.strip())
            return match.group(1) if match else None
    return None


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
