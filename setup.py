"""Build hook: the wheel carries the course (the student notebooks and the sample data).

Everything else about the package is in ``pyproject.toml``. The top-level ``notebooks/``
and ``data/`` folders stay the single source; building a wheel (``pip wheel .``, ``pip
install .`` or ``pip install git+URL``) copies the files named in ``COURSE_FILES`` into
the package as ``nst_helpers/course_files/``, where ``nst_helpers.resources`` finds
them. Never copied: the solution notebooks (``notebooks/solutions/``), the VGG19 weights
(``data/pretrained-model/``), anything else a learner left in ``data/``. An editable
install copies nothing: it reads the checkout in place. Not for runtime code.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Where the copies go, inside the package (``nst_helpers.resources.BUNDLE_DIR_NAME``).
BUNDLE = Path("nst_helpers") / "course_files"
#: What the wheel carries, as glob patterns relative to the repository's root. Each must
#: match at least one file: a build from an incomplete tree fails instead of shipping a
#: course without its notebooks. ``MANIFEST.in`` puts the same files in a source archive.
COURSE_FILES = (
    "notebooks/*.ipynb",
    "data/SOURCES.md",
    "data/content/*.jpg",
    "data/style/*.jpg",
)


def course_files(root: Path) -> list[Path]:
    """The files of ``COURSE_FILES`` under ``root``, relative to it, sorted."""
    found = []
    for pattern in COURSE_FILES:
        matched = sorted(path for path in root.glob(pattern) if path.is_file())
        if not matched:
            raise FileNotFoundError(
                f"{root / pattern}: no such file. The wheel must carry the course; build it "
                "from a full checkout of the repository (or from its source archive)."
            )
        found.extend(path.relative_to(root) for path in matched)
    return found


class BuildPyWithCourse(build_py):
    """setuptools' ``build_py``, then a fresh copy of the course's files into the package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads notebooks/ and data/ in the checkout
        target = Path(self.build_lib) / BUNDLE
        shutil.rmtree(target, ignore_errors=True)  # no stale file from an earlier build
        for relative in course_files(ROOT):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, destination)


setup(cmdclass={"build_py": BuildPyWithCourse})
