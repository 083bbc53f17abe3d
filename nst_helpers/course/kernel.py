"""The first thing a course notebook does in its kernel: start TensorFlow without its noise.

TensorFlow 2.21 writes start-up lines from C++ straight to file descriptor 2 (CUDA
probing, oneDNN notices, "All log messages before absl::InitializeLog() is called ...",
``cuInit`` failures on a machine without a GPU), some of them before
``TF_CPP_MIN_LOG_LEVEL`` takes effect. Jupyter shows them in red under the imports
cell, where a learner takes them for errors. ``start_tensorflow_quietly`` imports
TensorFlow and starts its devices with descriptor 2 pointed at ``/dev/null``, so the
imports that follow (``import tensorflow as tf``, ``import keras``) print nothing; Python
exceptions still surface. ``NST_TF_LOGS=1`` shows the lines (to debug a GPU set-up).

The ``nst`` command calls it too before a subcommand that loads TensorFlow, so that the
start-up lines do not bury the command's one-line messages. Not for choosing devices
(``nst_helpers.devices``).
"""

from __future__ import annotations

import contextlib
import os
import sys

#: Set to "1" to see TensorFlow's native start-up lines.
SHOW_LOGS_ENV = "NST_TF_LOGS"


@contextlib.contextmanager
def native_stderr_silenced():
    """Point file descriptor 2 at /dev/null for the block (C++ output bypasses sys.stderr)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def start_tensorflow_quietly() -> None:
    """Import TensorFlow and start its devices without the native start-up lines.

    Call it before any other import of TensorFlow or Keras in the notebook. Later C++
    info and warning lines are quietened with ``TF_CPP_MIN_LOG_LEVEL=2`` (a value the
    user set wins). Does nothing to the output when ``NST_TF_LOGS=1``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get(SHOW_LOGS_ENV) == "1":
        import tensorflow  # noqa: F401

        return
    with native_stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
        tf.constant(0.0).numpy()
