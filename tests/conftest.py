"""Test-wide settings: the suite runs offline on the seeded VGG19 stand-in, on purpose.

Set NST_VGG19_WEIGHTS to a weights file before running pytest to use real weights
instead (the notebooks' kernels inherit the variable).
"""

import os

os.environ.setdefault("NST_VGG19_WEIGHTS", "random")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
