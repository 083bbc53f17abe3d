"""A learner's own course folder, apart from the solutions: the work behind ``nst start``.

``start_course(folder)`` copies the student notebooks and the sample data (found through
``nst_helpers.resources``, in a checkout or an installed package alike) into ``folder``
and records, in ``folder/.nst-course.json``, a fingerprint of each file as it was
copied. A learner's work is never overwritten:

* a fresh or empty folder gets everything;
* a folder that already holds course files is left alone unless ``update=True``; then
  files that are missing are copied, files the learner has not touched since they were
  copied (same fingerprint as recorded) are replaced by the new version, and files the
  learner changed are kept, each named in the result.

A notebook's fingerprint covers its cells' types and sources only, so that opening and
running a notebook (outputs, execution counts, metadata written by Jupyter) does not count
as changing it; any edit of a cell does. Other files are fingerprinted byte for byte.
Not for releasing notebooks (``course.release``) nor for reading a learner's work for
grading (``course.notebooks``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nst_helpers import resources

#: The default folder of ``nst start``.
DEFAULT_FOLDER = "nst-course"
#: The record of what was copied, inside the learner's folder.
MANIFEST_NAME = ".nst-course.json"
#: Sample data copied next to the notebooks (sub-folders of the course's data folder).
DATA_FOLDERS = ("content", "style")
DATA_FILES = ("SOURCES.md",)


@dataclass
class StartResult:
    """What ``start_course`` did, file by file (paths relative to the folder)."""

    folder: Path
    copied: list[str] = field(default_factory=list)  # new in the folder
    updated: list[str] = field(default_factory=list)  # untouched by the learner, replaced
    kept: list[str] = field(default_factory=list)  # changed by the learner, left alone
    unchanged: list[str] = field(default_factory=list)  # already the current version
    refused: bool = False  # the folder holds course files and update was not asked


class CourseFilesMissing(ValueError):
    """The package's student notebooks or sample data cannot be found."""


def fingerprint(path: Path) -> str:
    """A notebook's cell types and sources, or any other file's bytes, hashed (SHA-256)."""
    data = Path(path).read_bytes()
    if Path(path).suffix == ".ipynb":
        try:
            cells = json.loads(data.decode("utf-8")).get("cells", [])
            parts = [
                [
                    cell.get("cell_type", ""),
                    "".join(cell.get("source", ""))
                    if isinstance(cell.get("source"), list)
                    else cell.get("source", ""),
                ]
                for cell in cells
                if isinstance(cell, dict)
            ]
            data = json.dumps(parts, ensure_ascii=False).encode("utf-8")
        except (ValueError, AttributeError, UnicodeDecodeError):
            pass  # not a readable notebook: its bytes are its fingerprint
    return hashlib.sha256(data).hexdigest()


def course_files() -> dict[str, Path]:
    """{path in the learner's folder: source file} for every file ``nst start`` copies."""
    notebooks_dir, data_dir = resources.student_notebooks_dir(), resources.data_dir()
    notebooks = sorted(p for p in Path(notebooks_dir).glob("*.ipynb") if p.is_file())
    if not notebooks:
        raise CourseFilesMissing(
            f"no student notebooks in {notebooks_dir}: the installation is incomplete; "
            "reinstall the course package (README: 'Set up')."
        )
    files = {path.name: path for path in notebooks}
    for folder in DATA_FOLDERS:
        source = Path(data_dir) / folder
        if not source.is_dir():
            raise CourseFilesMissing(
                f"the sample images folder {source} is missing: reinstall the course package, "
                "or set NST_DATA_DIR to a folder holding content/ and style/."
            )
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                files[f"data/{path.relative_to(data_dir).as_posix()}"] = path
    for name in DATA_FILES:
        if (Path(data_dir) / name).is_file():
            files[f"data/{name}"] = Path(data_dir) / name
    return files


def read_manifest(folder: Path) -> dict[str, str]:
    """{relative path: fingerprint as copied} from the folder's record ({} if none)."""
    try:
        data = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_manifest(folder: Path, files: dict[str, str]) -> None:
    text = json.dumps({"about": "written by nst start", "files": files}, indent=1, sort_keys=True)
    _copy_bytes((text + "\n").encode("utf-8"), folder / MANIFEST_NAME)


def _copy_bytes(data: bytes, target: Path) -> None:
    """Write ``data`` to ``target`` atomically (a half-copied notebook is never left)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def start_course(folder=DEFAULT_FOLDER, update: bool = False) -> StartResult:
    """Copy the course into ``folder`` without overwriting a learner's work.

    Raises:
        ValueError: ``folder`` is a file, or the course's own files cannot be found.
    """
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a folder: choose another name for the course.")
    files = course_files()
    manifest = read_manifest(folder)
    result = StartResult(folder)
    present = [name for name in files if (folder / name).exists()]
    if present and not update:
        result.refused = True
        result.kept = present
        return result
    for name, source in files.items():
        target = folder / name
        new_print = fingerprint(source)
        if not target.exists():
            _copy_bytes(source.read_bytes(), target)
            result.copied.append(name)
            manifest[name] = new_print
            continue
        current = fingerprint(target)
        if current == new_print:
            result.unchanged.append(name)
            manifest[name] = new_print
        elif manifest.get(name) == current:
            _copy_bytes(source.read_bytes(), target)
            result.updated.append(name)
            manifest[name] = new_print
        else:
            result.kept.append(name)
    _write_manifest(folder, manifest)
    return result
