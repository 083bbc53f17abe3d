"""Test-wide settings, for `python -m pytest` and for nbval's notebook kernels alike.

The suite runs offline on the seeded VGG19 stand-in, chosen here on purpose, and runs the
solution notebooks with CI-sized images and step counts, saving their pictures to a
temporary folder. Every setting is a default: set NST_VGG19_WEIGHTS to a weights file (or
the notebook variables to a learner's values) before running pytest to override it. The
notebooks' kernels inherit these variables.
"""

import os
import tempfile

# The notebooks only need pictures: the offline features (not VGG19) make them look like
# style transfer; tests that need VGG19's exact shapes ask for weights="random" themselves.
os.environ.setdefault("NST_VGG19_WEIGHTS", "offline")
os.environ.setdefault("NST_NOTEBOOK_IMAGE_SIZE", "64")
os.environ.setdefault("NST_NOTEBOOK_STEPS", "5")
os.environ.setdefault("NST_NOTEBOOK_OUTPUT_DIR", tempfile.mkdtemp(prefix="nst-notebook-outputs-"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
