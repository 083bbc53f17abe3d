"""Where the course's own files are: the sample data and the student notebooks.

In a checkout they are the top-level ``data/`` and ``notebooks/`` folders next to the
package; ``NST_DATA_DIR`` moves the data folder. Every part of the package that needs
these files asks here, so that there is one place that knows the layout. Not for the
VGG19 weights (``nst_helpers.vgg``) nor for loading images (``nst_helpers.images``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that moves the data folder.
DATA_DIR_ENV = "NST_DATA_DIR"


def checkout_root() -> Path:
    """The folder that holds the package in a checkout (the repository's root)."""
    return Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The course's ``data/`` folder (``NST_DATA_DIR`` overrides it)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return checkout_root() / "data"


def student_notebooks_dir() -> Path:
    """The folder of the generated student notebooks."""
    return checkout_root() / "notebooks"
