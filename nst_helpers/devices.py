"""Device set-up that works the same on CPU and GPU machines.

No code in this package pins a device. On a GPU, TensorFlow would otherwise reserve
all of its memory at start; turning memory growth on lets a notebook, the grader and
another process share one GPU. Not for anything else.
"""

from __future__ import annotations

import tensorflow as tf


def enable_gpu_memory_growth() -> list[str]:
    """Turn on memory growth for every visible GPU; return their names.

    Safe to call many times and on machines without a GPU. Once TensorFlow has
    initialised a GPU the setting can no longer change; that case is skipped quietly
    because the setting was then already decided by the first call.
    """
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass
        names.append(gpu.name)
    return names
