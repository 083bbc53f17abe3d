"""Atomic file writes, shared by the image saver and the grader's reports.

A reader never sees a half-written file: the bytes go to a temporary file in the same
folder, which then replaces the target in one ``os.replace``. The result gets the
permissions an ordinary ``open(path, "w")`` would give (the old file's, or 0666 less
the umask), not the 0600 of ``mkstemp``. Not for streaming downloads (see ``fetch``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def new_file_mode(path: Path) -> int:
    """The permissions a plain ``open(path, "w")`` would give: the old file's, or 0666 & ~umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` (creating its folder) so that it appears whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, new_file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
