"""Paths and fixtures shared by every test module (import them: ``from tests.conftest import ROOT``).

The test-wide settings (the offline stand-in, CI-sized notebooks) are in the repository's
root ``conftest.py``, which nbval's notebook kernels also see; this one holds only what
the tests share: where things are.
"""

from pathlib import Path

#: The repository's root folder.
ROOT = Path(__file__).resolve().parent.parent
#: The package's source folder.
PACKAGE = ROOT / "nst_helpers"
#: The solution notebooks (the source of truth) and the generated student notebooks.
SOLUTIONS = ROOT / "notebooks" / "solutions"
STUDENT_NOTEBOOKS = ROOT / "notebooks"
#: The bundled sample images.
DATA = ROOT / "data"
