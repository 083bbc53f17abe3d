"""Read a submission without trusting it: a notebook file or a folder of notebooks.

A notebook is read as plain JSON (not with nbformat's validator, which rejects notebooks
that Jupyter still opens); only the cells' type, source and metadata are kept. Files
that are not JSON or not notebooks become a ``NotebookProblem`` with a readable reason
instead of an exception, so one broken file costs only what it holds. Only regular files
are read, with a size cap checked before and while reading: a FIFO, a device, or a link
leading out of the submission is a problem named in the feedback, never a hang.
Identifiers are the submission's name encoded one-to-one (``encode_name``).

This module does not parse Python (see ``extract``) and does not run anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

from nst_helpers.course.cells import marker_names

#: Refuse files larger than this: a notebook of a few exercises is well under 1 MB even
#: with outputs; a huge file is a mistake or an attack on the grader's memory.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
#: At most this many notebooks are read from one learner's folder.
MAX_NOTEBOOKS = 50


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


def read_regular_file(path: Path, root: Path | None = None) -> bytes | str:
    """The bytes of ``path`` if it is a regular file of at most ``MAX_NOTEBOOK_BYTES``, else
    the reason it is not read (a string).

    Never blocks and never follows a link out of ``root`` (the submission's folder): a FIFO
    would hang the grader, ``/dev/zero`` would fill its memory, and a link to another
    learner's notebook would grade that work as this learner's. A symbolic link whose
    target stays inside ``root`` is read as its target.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        inside = root is not None and target.is_relative_to(Path(os.path.realpath(root)))
        if not inside:
            return (
                "is a symbolic link to a file outside the submission; not read (hand in the "
                "notebook itself)."
            )
        path = target
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})."
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (a FIFO, a device or a socket); not read."
        if info.st_size > MAX_NOTEBOOK_BYTES:
            return f"is {info.st_size // (1024 * 1024)} MB, larger than a notebook should be; not read."
        chunks, total = [], 0
        while total <= MAX_NOTEBOOK_BYTES:
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_NOTEBOOK_BYTES:
            return "is larger than a notebook should be; not read."
        return b"".join(chunks)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})."
    finally:
        os.close(descriptor)


def parse_notebook(path: Path, raw: bytes) -> Notebook | NotebookProblem:
    """The notebook held by ``raw`` (the bytes of ``path``), or why it is not one."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return NotebookProblem(path, "is not a text file (not UTF-8), so not a notebook.")
    except (json.JSONDecodeError, RecursionError) as error:
        return NotebookProblem(
            path, f"is not valid JSON ({error.__class__.__name__}), so not a notebook."
        )
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return NotebookProblem(
            path, "is JSON but not a Jupyter notebook (no list of cells); save it from Jupyter."
        )
    cells = []
    for index, raw_cell in enumerate(data["cells"]):
        if not isinstance(raw_cell, dict):
            continue
        metadata = raw_cell.get("metadata")
        cells.append(
            Cell(
                index=index,
                cell_type=str(raw_cell.get("cell_type", "")),
                source=_source_text(raw_cell.get("source", "")),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
        )
    return Notebook(path, tuple(cells))


def read_notebook(path: Path, root: Path | None = None) -> Notebook | NotebookProblem:
    """Read ``path`` as a notebook, or describe why it is not one (see ``read_regular_file``)."""
    path = Path(path)
    raw = read_regular_file(path, root)
    if isinstance(raw, str):
        return NotebookProblem(path, raw)
    return parse_notebook(path, raw)


def notebook_paths(folder: Path) -> list[Path]:
    """The notebooks of a learner's folder, in name order, skipping Jupyter's checkpoints.

    Links to folders are not followed; at most ``MAX_NOTEBOOKS`` paths are returned.
    """
    paths = []
    for root, directories, files in os.walk(folder):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        paths.extend(Path(root) / name for name in sorted(files) if name.endswith(".ipynb"))
        if len(paths) > MAX_NOTEBOOKS:
            break
    return sorted(paths)[: MAX_NOTEBOOKS + 1]


def _fingerprint(contents: list[tuple[str, bytes | str]]) -> str:
    digest = hashlib.sha256()
    for label, content in contents:
        digest.update(label.encode("utf-8", "replace") + b"\0")
        digest.update(content if isinstance(content, bytes) else b"<" + content.encode() + b">")
        digest.update(b"\0")
    return digest.hexdigest()


def read_submission(path, identifier: str | None = None, follow_links: bool = True) -> Submission:
    """Read one submission: a notebook file, or a folder holding a learner's notebooks.

    Only regular files are read (``read_regular_file``); what is not read is a problem of
    the submission, named in its feedback. With ``follow_links`` False, a ``path`` that is
    a symbolic link is not read at all (a learner's folder found in a class folder).

    Raises:
        ValueError: ``path`` does not exist (a mistake on the command line, not the learner's).
    """
    path = Path(path)
    if not follow_links and path.is_symlink():
        reason = "is a symbolic link; not read (hand in the folder itself)."
        return Submission(
            identifier=identifier or submission_identifier(path),
            source=path,
            notebooks=(),
            problems=(NotebookProblem(path, reason),),
            fingerprint=_fingerprint([(path.name, reason)]),
        )
    if not path.exists():
        raise ValueError(f"Submission {str(path)!r} does not exist; check the path.")
    root = path if path.is_dir() else None
    paths = notebook_paths(path) if path.is_dir() else [path]
    notebooks, problems, contents = [], [], []
    if len(paths) > MAX_NOTEBOOKS:
        problems.append(
            NotebookProblem(
                path, f"holds more than {MAX_NOTEBOOKS} notebooks; the first were read."
            )
        )
        paths = paths[:MAX_NOTEBOOKS]
    for notebook_path in paths:
        label = notebook_path.relative_to(path).as_posix() if root else notebook_path.name
        raw = read_regular_file(notebook_path, root)
        contents.append((label, raw))
        result = NotebookProblem(notebook_path, raw) if isinstance(raw, str) else None
        result = result or parse_notebook(notebook_path, raw)
        if isinstance(result, Notebook) and root is not None:
            result = replace(result, label=label)
        (notebooks if isinstance(result, Notebook) else problems).append(result)
    if path.is_dir() and not paths:
        problems.append(NotebookProblem(path, "holds no .ipynb notebook."))
    return Submission(
        identifier=identifier or submission_identifier(path),
        source=path,
        notebooks=tuple(notebooks),
        problems=tuple(problems),
        fingerprint=_fingerprint(contents),
    )


#: Characters an identifier keeps as they are; any other is written ``+XX`` (its UTF-8 bytes
#: in hexadecimal), ``+`` included, so that two different names never give one identifier.
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


def encode_name(name: str) -> str:
    """A file-system-safe, one-to-one spelling of a name: ``_alice`` and ``alice`` stay
    apart, ``a b`` becomes ``a+20b``, a leading dot is encoded (never a hidden file)."""
    encoded = []
    for position, character in enumerate(name):
        if character in _SAFE and not (position == 0 and character == "."):
            encoded.append(character)
        else:
            encoded.append("".join(f"+{byte:02X}" for byte in character.encode("utf-8")))
    return "".join(encoded) or "+"


def submission_identifier(path: Path) -> str:
    """The identifier of a submission: its folder name, or its file's stem, encoded one-to-one
    (``encode_name``), so it depends on nothing but the name itself."""
    path = Path(path)
    return encode_name(path.name if path.is_dir() else path.stem)
