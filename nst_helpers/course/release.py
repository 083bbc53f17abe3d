"""Make the student notebooks from the solution notebooks (``nst release``).

In each graded cell, the code between ``### START CODE HERE ###`` and
``### END CODE HERE ###`` is blanked as ``course.cells`` defines it (comments and hints
stay, ``GA = None``); all other cells are copied; every output and execution count is
removed. The result is deterministic: the same solutions always give byte-identical
student notebooks. Also puts edited solution notebooks back in their committed form.
Not for grading (see ``nst_helpers.grading``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from nst_helpers.course.cells import blank_cell_source, graded_cells


def make_student_notebook(solution: nbformat.NotebookNode, where: str = "notebook"):
    """The student notebook made from a solution notebook (which is left unchanged)."""
    student = copy.deepcopy(solution)
    graded = {cell.index: cell.name for cell in graded_cells(student, where)}
    for index, cell in enumerate(student.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if index in graded:
                cell.source = blank_cell_source(cell.source, f"{where}, cell {index}")
    return student


CHECK_OUTPUT_MARK = "# NBVAL_CHECK_OUTPUT"
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def normalise_solution(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A solution notebook as it is committed, e.g. after it was edited and run in Jupyter.

    Keeps the stream output of ``# NBVAL_CHECK_OUTPUT`` cells (what nbval compares; these
    cells are numbered 1, 2, ... in order) and drops every other output and execution
    count, and all cell metadata but ``tags``; the notebook's metadata becomes the plain
    Python 3 kernel. Cell ids are kept.
    """
    normalised = copy.deepcopy(notebook)
    checked = 0
    normalised.metadata = nbformat.from_dict(copy.deepcopy(NOTEBOOK_METADATA))
    for cell in normalised.cells:
        tags = cell.metadata.get("tags")
        cell.metadata = nbformat.from_dict({"tags": tags} if tags else {})
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        if cell.source.startswith(CHECK_OUTPUT_MARK):
            checked += 1
            cell.execution_count = checked
            cell.outputs = [
                nbformat.v4.new_output("stream", name=output.name, text=output.text)
                for output in cell.outputs
                if output.output_type == "stream"
            ]
        else:
            cell.outputs = []
    return normalised


def normalise_solutions(source) -> list[Path]:
    """Rewrite the solution notebooks in ``source`` in normalised form; return those changed."""
    changed = []
    for path in _solution_paths(Path(source)):
        before = path.read_text(encoding="utf-8")
        text = notebook_text(normalise_solution(nbformat.reads(before, as_version=4)))
        if text != before:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The normalised JSON text of a notebook (sorted keys, one-space indent, final newline)."""
    nbformat.validate(notebook)
    text = nbformat.writes(notebook, version=4)
    return text if text.endswith("\n") else text + "\n"


def _solution_paths(source: Path) -> list[Path]:
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"solutions folder {source} does not exist.")
    paths = sorted(path for path in source.glob("*.ipynb") if path.is_file())
    if not paths:
        raise FileNotFoundError(f"no .ipynb files in {source}: nothing to release.")
    return paths


def student_texts(source) -> dict[str, str]:
    """{file name: student notebook text} for every solution notebook in ``source``."""
    texts = {}
    for path in _solution_paths(Path(source)):
        solution = nbformat.read(path, as_version=4)
        texts[path.name] = notebook_text(make_student_notebook(solution, str(path)))
    return texts


def release(source, out) -> list[Path]:
    """Write the student notebooks for every notebook in ``source`` into ``out``."""
    out = Path(out)
    texts = student_texts(source)
    if out.resolve() == Path(source).resolve():
        raise ValueError("the output folder is the solutions folder: choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_notebooks(source, out) -> list[str]:
    """Names of student notebooks in ``out`` that are missing or differ from a fresh release."""
    out = Path(out)
    stale = []
    for name, text in student_texts(source).items():
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
