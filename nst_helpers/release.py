"""Make the student notebooks from the solution notebooks (``nst release``).

In each graded cell, the code between ``### START CODE HERE ###`` and
``### END CODE HERE ###`` is blanked the way the classic assignment does it: every
comment and "(≈N lines)" hint stays, an assignment keeps its left-hand side and gets
``None`` (``GA = None``; ``m, n = None, None``), and any other statement (a call, a
``return``, a loop or an ``if`` the learner writes) becomes a bare ``None``. All other
cells are copied; every output and execution count is removed. The result is
deterministic: the same solutions always give byte-identical student notebooks.
Not for grading (see ``nst_helpers.grading``).
"""

from __future__ import annotations

import ast
import copy
import io
import textwrap
import tokenize
from pathlib import Path

import nbformat

from nst_helpers.notebook_cells import code_blocks, graded_cells


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
