"""Decide which definition of a graded function counts, and explain the choice to the learner.

Rules, in order (each is said in the feedback):

1. Among the submission's notebooks, prefer the one whose cell carries the function's
   ``# GRADED FUNCTION: name`` marker (or nbgrader ``grade_id``); otherwise any notebook
   that defines it (the last one in name order if several do).
2. Within the notebook, the last top-level ``def name(`` in notebook order counts, as
   Jupyter's "Run All" would leave it, wherever the marker is (deleted, moved, duplicated).
3. A definition whose cell was split mid-function is recovered by joining the cell with
   the following ones; one left in a Markdown or raw cell (retyped cell) is used too.
   Both are graded, with a note that Run All would not have defined the function.
4. ``name = lambda ...`` is a definition like ``def name(...)``.

Code too deeply nested to analyse is the learner's problem (status "too complex"), never
a failure of the grader.

This module does not run code and does not judge delegation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nst_helpers.course.extract import NotebookIndex, Program, Statement, build_program
from nst_helpers.course.notebooks import Submission

#: The learner's problem (never a grader failure): code nested too deeply to be analysed.
TOO_COMPLEX = (
    "`{name}` ({cell}) or the code it uses is too complex for the grader to analyse (an "
    "expression or nesting thousands of levels deep): write it in simpler steps."
)


@dataclass
class Located:
    """Where a graded function was found and the program that defines it."""

    name: str
    notebook: str | None = None
    cell: str | None = None
    explanation: str = ""
    program: Program | None = None
    index: NotebookIndex | None = None
    problem: str | None = None  # set when nothing can be run: the reason
    status: str = "found"  # "found" | "missing" | "syntax error" | "too complex"
    notes: list[str] = field(default_factory=list)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _explain(index: NotebookIndex, name: str, definitions: list[Statement]) -> str:
    counted = definitions[-1]
    markers = index.marker_cells(name)
    marker_labels = ", ".join(f"cell {i + 1}" for i in markers)
    if len(definitions) > 1:
        cells = ", ".join(d.cell_label for d in definitions)
        text = (
            f"`{name}` is defined {_plural(len(definitions), 'time')} ({cells}); the last one "
            f"({counted.cell_label}) counts, as Run All would leave it."
        )
    elif counted.cell_index in markers:
        text = f"`{name}` is defined in {counted.cell_label}, under its graded-function marker."
    else:
        text = f"`{name}` is defined in {counted.cell_label}."
    if not markers:
        text += " Its `# GRADED FUNCTION` marker is missing; the definition was found by its name."
    elif counted.cell_index not in markers:
        text += f" The marker is in {marker_labels}, not in the cell that counts."
    return text


def _choose_index(indexes: list[NotebookIndex], name: str) -> tuple[NotebookIndex | None, str]:
    marked = [i for i in indexes if i.marker_cells(name)]
    defining = [i for i in indexes if i.definitions(name)]
    mentioning = [
        i for i in indexes if any(f"def {name}" in cell.source for cell in i.notebook.cells)
    ]
    for group in (
        [i for i in marked if i.definitions(name)],
        defining,
        marked,
        mentioning,
    ):
        if group:
            chosen = group[-1]
            note = ""
            if len(group) > 1:
                names = ", ".join(i.notebook.name for i in group)
                note = f"Several notebooks ({names}) hold `{name}`; {chosen.notebook.name} counts."
            return chosen, note
    return (indexes[-1] if indexes else None), ""


def locate(submission: Submission, name: str, indexes: list[NotebookIndex]) -> Located:
    """Find ``name`` in a submission whose notebooks are already indexed (``indexes``)."""
    located = Located(name=name)
    index, note = _choose_index(indexes, name)
    if note:
        located.notes.append(note)
    if index is None:
        located.status = "missing"
        located.problem = "No readable notebook in this submission. " + " ".join(
            f"{p.name} {p.reason}" for p in submission.problems
        )
        return located
    located.notebook = index.notebook.name
    located.index = index
    definitions = index.definitions(name)
    if definitions:
        located.explanation = _explain(index, name, definitions)
        for broken in index.broken_cells_mentioning(name):
            located.notes.append(
                f"cell {broken.index + 1} also mentions `def {name}` but has a syntax error "
                f"({broken.error}); it was skipped."
            )
        definition = definitions[-1]
        continued = index.recover_split_definition(name, from_cell=definition.cell_index)
        if continued is not None:
            definition, labels = continued
            located.explanation += (
                f" The function continues in the next cell ({labels} joined): the cell was "
                "split. Run All would define it without the rest of its body: put it back in "
                "one cell."
            )
    else:
        recovered = index.recover_split_definition(name)
        text_cell = index.definition_in_text_cells(name)
        if recovered is not None:
            definition, labels = recovered
            located.explanation = (
                f"`{name}` is split across {labels}; they were joined to read it. Run All would "
                "fail on the split cell: put the function back in one cell."
            )
        elif text_cell is not None:
            definition = text_cell
            located.explanation = (
                f"`{name}` is in {definition.cell_label}, a {definition.note} cell, so Run All "
                "would not define it; it was graded anyway. Change the cell type back to Code."
            )
        else:
            broken = index.broken_cells_mentioning(name)
            if broken and broken[-1].error in ("RecursionError", "MemoryError"):
                located.status = "too complex"
                located.cell = f"cell {broken[-1].index + 1}"
                located.problem = TOO_COMPLEX.format(name=name, cell=located.cell)
            elif broken:
                located.status = "syntax error"
                located.cell = f"cell {broken[-1].index + 1}"
                located.problem = (
                    f"`{name}` in cell {broken[-1].index + 1} has a syntax error "
                    f"({broken[-1].error}). Fix it so that the cell runs."
                )
            else:
                located.status = "missing"
                located.notebook = None  # no notebook holds it: none is named in the report
                located.problem = (
                    f"No definition of `{name}` was found (looked for its marker and for "
                    f"`def {name}(` in every cell of "
                    + ", ".join(i.notebook.name for i in indexes)
                    + ")."
                )
            return located
    located.cell = definition.cell_label
    try:
        located.program = build_program(index, definition, name)
    except (RecursionError, MemoryError):
        located.status = "too complex"
        located.problem = TOO_COMPLEX.format(name=name, cell=definition.cell_label)
        return located
    located.notes.extend(located.program.notes)
    return located
