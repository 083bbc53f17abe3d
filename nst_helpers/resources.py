"""Where the course's own files are: the student notebooks and the sample data.

Two layouts, one answer:

* **installed** (a wheel, from an index or a git URL): the build copies the top-level
  ``notebooks/*.ipynb`` and ``data/`` (images and ``SOURCES.md``) into the package, as
  ``nst_helpers/course_files/notebooks`` and ``nst_helpers/course_files/data``
  (``setup.py`` does it; the solution notebooks and the weights are never copied);
* **checkout** (a git checkout, with or without an editable install): the top-level
  ``notebooks/`` and ``data/`` folders next to the package, read in place.

The installed layout is recognised by the bundled folder inside the package, which a
checkout never has. ``NST_DATA_DIR`` moves the data folder in both. Every part of the
package that needs these files asks here, so that one place knows the layout. The
installed files are to be read, not written: ``nst start`` copies them to the learner's
own folder. Not for the VGG19 weights (``nst_helpers.vgg``) nor for loading images
(``nst_helpers.images``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that moves the data folder.
DATA_DIR_ENV = "NST_DATA_DIR"
#: The folder inside the installed package that holds the course's files.
BUNDLE_DIR_NAME = "course_files"
#: The two layouts ``layout()`` names.
INSTALLED = "installed"
CHECKOUT = "checkout"


def package_dir() -> Path:
    """The folder of the ``nst_helpers`` package itself (symbolic links resolved)."""
    return Path(__file__).resolve().parent


def bundled_dir(package=None) -> Path:
    """Where a built wheel keeps the course's files (it exists only in an installed wheel).

    Args:
        package: the ``nst_helpers`` folder; defaults to this package's own.
    """
    return Path(package or package_dir()) / BUNDLE_DIR_NAME


def layout(package=None) -> str:
    """``"installed"`` when the package carries the course's files, else ``"checkout"``."""
    return INSTALLED if bundled_dir(package).is_dir() else CHECKOUT


def checkout_root(package=None) -> Path:
    """The folder that holds the package in a checkout (the repository's root)."""
    return Path(package or package_dir()).parent


def course_root(package=None) -> Path:
    """The folder that holds ``notebooks/`` and ``data/`` in the current layout."""
    if layout(package) == INSTALLED:
        return bundled_dir(package)
    return checkout_root(package)


def data_dir(package=None) -> Path:
    """The course's ``data/`` folder (``NST_DATA_DIR`` overrides it)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return course_root(package) / "data"


def student_notebooks_dir(package=None) -> Path:
    """The folder of the generated student notebooks (never the solutions)."""
    return course_root(package) / "notebooks"


def student_notebooks(package=None) -> list[Path]:
    """The student notebooks (``*.ipynb`` directly in that folder), sorted by name.

    Raises:
        FileNotFoundError: the folder is missing (an incomplete checkout or install).
    """
    folder = student_notebooks_dir(package)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder}: the student notebooks are missing. Reinstall the course from a "
            "built wheel or its repository, or use a full checkout of the repository."
        )
    return sorted(path for path in folder.glob("*.ipynb") if path.is_file())
