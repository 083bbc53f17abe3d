"""Test-wide settings, for `python -m pytest` and for nbval's notebook kernels alike.

The suite runs offline: the notebooks on the offline features (not VGG19), chosen here on
purpose; tests that need VGG19's exact shapes ask for the seeded random stand-in
themselves. It runs the solution notebooks with CI-sized images and step counts, saving
their pictures to a temporary folder. Every setting is a default: set NST_VGG19_WEIGHTS to a weights file (or
the notebook variables to a learner's values) before running pytest to override it. The
notebooks' kernels inherit these variables.

Temporary files: the session gets its own temporary folder (``TMPDIR`` and
``tempfile.tempdir`` point into it, so the notebook kernels, the grader's children and
TensorFlow's AutoGraph, which leaves ``__autograph_generated_file*.py`` files behind, all
write there), removed when the session ends. Set ``NST_KEEP_TEST_TMP=1`` to keep it.
"""

import os
import shutil
import tempfile

#: This session's temporary folder, inside the temporary folder the session started with.
SESSION_TMP = tempfile.mkdtemp(prefix="nst-test-session-")
os.environ["TMPDIR"] = SESSION_TMP
tempfile.tempdir = SESSION_TMP

# The notebooks only need pictures: the offline features (not VGG19) make them look like
# style transfer; tests that need VGG19's exact shapes ask for weights="random" themselves.
os.environ.setdefault("NST_VGG19_WEIGHTS", "offline")
os.environ.setdefault("NST_NOTEBOOK_IMAGE_SIZE", "64")
os.environ.setdefault("NST_NOTEBOOK_STEPS", "5")
os.environ.setdefault(
    "NST_NOTEBOOK_OUTPUT_DIR", tempfile.mkdtemp(prefix="nst-notebook-outputs-", dir=SESSION_TMP)
)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_unconfigure(config):
    """Remove the session's temporary folder, and with it everything the tests left there."""
    if os.environ.get("NST_KEEP_TEST_TMP") != "1":
        shutil.rmtree(SESSION_TMP, ignore_errors=True)
