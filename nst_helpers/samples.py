"""Paths of the bundled sample images in ``data/`` (content photographs and style images).

The files themselves, their origin and licence are described in ``data/SOURCES.md``;
``data/make_samples.py`` makes them. This module only lists them: it does not load
images (see ``nst_helpers.images``) and does not download anything (see
``nst_helpers.fetch``). Where the data folder is (a checkout's ``data/``, the installed
package's copy, or ``NST_DATA_DIR``) is ``nst_helpers.resources``' concern.
"""

from __future__ import annotations

import os
from pathlib import Path

from nst_helpers import resources

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
#: The pair ``sample_pair()`` returns by default (and ``nst stylize --demo`` uses).
DEFAULT_CONTENT = "coffee.jpg"
DEFAULT_STYLE = "brush_strokes.jpg"


def _images_in(kind: str, data_dir=None) -> list[Path]:
    folder = Path(data_dir or resources.data_dir()) / kind
    if not folder.is_dir():
        if data_dir is None and os.environ.get(resources.DATA_DIR_ENV):
            cause = f"{resources.DATA_DIR_ENV} points to a folder without it"
        else:
            cause = "reinstall the course (its wheel carries the images) or use a full checkout"
        raise FileNotFoundError(
            f"{folder}: the sample-image folder is missing: {cause}. "
            f"{resources.DATA_DIR_ENV} may name a folder with content/ and style/ subfolders."
        )
    return sorted(path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)


def content_images(data_dir=None) -> list[Path]:
    """The bundled content photographs (``data/content/*``), sorted by name."""
    return _images_in("content", data_dir)


def style_images(data_dir=None) -> list[Path]:
    """The bundled style images (``data/style/*``), sorted by name."""
    return _images_in("style", data_dir)


def _pick(paths: list[Path], name: str, kind: str) -> Path:
    for path in paths:
        if path.name == name or path.stem == name:
            return path
    names = ", ".join(path.name for path in paths) or "none"
    raise ValueError(f"no bundled {kind} image called {name!r}; choose one of: {names}.")


def sample_pair(
    content: str = DEFAULT_CONTENT, style: str = DEFAULT_STYLE, data_dir=None
) -> tuple[Path, Path]:
    """Return ``(content_path, style_path)`` of two bundled images, chosen by file name or stem.

    Args:
        content: a file name (or stem) in ``data/content/``, e.g. ``"coffee"``.
        style: a file name (or stem) in ``data/style/``, e.g. ``"waves.jpg"``.
        data_dir: the data folder; defaults to ``resources.data_dir()``.
    """
    return (
        _pick(content_images(data_dir), content, "content"),
        _pick(style_images(data_dir), style, "style"),
    )
