"""Read a submission without trusting it: a notebook file or a folder of notebooks.

A notebook is read as plain JSON (not with nbformat's validator, which rejects notebooks
that Jupyter still opens); only the cells' type, source and metadata are kept. Files
that are not JSON or not notebooks become a ``NotebookProblem`` with a readable reason
instead of an exception, so one broken file costs only what it holds.

This module does not parse Python (see ``extract``) and does not run anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from nst_helpers.course.cells import marker_names

#: Refuse files larger than this: a notebook of a few exercises is well under 1 MB even
#: with outputs; a huge file is a mistake or an attack on the grader's memory.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Cell:
    """One cell: its position in the notebook (0-based), type, source text and metadata."""

    index: int
    cell_type: str
    source: str
    metadata: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The 1-based cell number a person sees when counting cells."""
        return f"cell {self.index + 1}"

    def graded_names(self) -> list[str]:
        """Names this cell declares graded: its markers and its nbgrader ``grade_id``."""
        names = marker_names(self.source)
        grade_id = self.metadata.get("nbgrader", {}) if isinstance(self.metadata, dict) else {}
        grade_id = grade_id.get("grade_id") if isinstance(grade_id, dict) else None
        if isinstance(grade_id, str) and grade_id.isidentifier():
            names.append(grade_id)
        return names


@dataclass(frozen=True)
class Notebook:
    """A readable notebook: its path and cells."""

    path: Path
    cells: tuple[Cell, ...]
    label: str = ""  # the path inside the submission's folder, for feedback

    @property
    def name(self) -> str:
        return self.label or self.path.name


@dataclass(frozen=True)
class NotebookProblem:
    """A file that could not be read as a notebook, and why."""

    path: Path
    reason: str

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Submission:
    """What one learner handed in: readable notebooks, unreadable files, a fingerprint."""

    identifier: str
    source: Path
    notebooks: tuple[Notebook, ...]
    problems: tuple[NotebookProblem, ...]
    fingerprint: str


def _source_text(source) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return ""


def read_notebook(path: Path) -> Notebook | NotebookProblem:
    """Read ``path`` as a notebook, or describe why it is not one."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        return NotebookProblem(path, f"cannot be read ({error.strerror or error}).")
    if size > MAX_NOTEBOOK_BYTES:
        return NotebookProblem(
            path, f"is {size // (1024 * 1024)} MB, larger than a notebook should be; not read."
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        return NotebookProblem(path, "is not a text file (not UTF-8), so not a notebook.")
    except (json.JSONDecodeError, RecursionError) as error:
        return NotebookProblem(
            path, f"is not valid JSON ({error.__class__.__name__}), so not a notebook."
        )
    except OSError as error:
        return NotebookProblem(path, f"cannot be read ({error.strerror or error}).")
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return NotebookProblem(
            path, "is JSON but not a Jupyter notebook (no list of cells); save it from Jupyter."
        )
    cells = []
    for index, raw in enumerate(data["cells"]):
        if not isinstance(raw, dict):
            continue
        metadata = raw.get("metadata")
        cells.append(
            Cell(
                index=index,
                cell_type=str(raw.get("cell_type", "")),
                source=_source_text(raw.get("source", "")),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
        )
    return Notebook(path, tuple(cells))


def notebook_paths(folder: Path) -> list[Path]:
    """The notebooks of a learner's folder, in name order, skipping Jupyter's checkpoints."""
    paths = []
    for root, directories, files in os.walk(folder):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        paths.extend(Path(root) / name for name in sorted(files) if name.endswith(".ipynb"))
    return sorted(paths)


def _fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.name).encode())
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()


def read_submission(path, identifier: str | None = None) -> Submission:
    """Read one submission: a notebook file, or a folder holding a learner's notebooks.

    Raises:
        ValueError: ``path`` does not exist (a mistake on the command line, not the learner's).
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"Submission {str(path)!r} does not exist; check the path.")
    paths = notebook_paths(path) if path.is_dir() else [path]
    notebooks, problems = [], []
    for notebook_path in paths:
        result = read_notebook(notebook_path)
        if isinstance(result, Notebook) and path.is_dir():
            result = replace(result, label=notebook_path.relative_to(path).as_posix())
        (notebooks if isinstance(result, Notebook) else problems).append(result)
    if path.is_dir() and not paths:
        problems.append(NotebookProblem(path, "holds no .ipynb notebook."))
    return Submission(
        identifier=identifier or submission_identifier(path),
        source=path,
        notebooks=tuple(notebooks),
        problems=tuple(problems),
        fingerprint=_fingerprint(paths),
    )


def submission_identifier(path: Path) -> str:
    """A file-system-safe name for a submission: the folder name or the file's stem."""
    stem = Path(path).name if Path(path).is_dir() else Path(path).stem
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")
    return safe or "submission"
