"""Which number format the VGG19 convolutions run in, and a feature extractor that uses it.

``choose_precision()`` answers what ``precision="auto"`` picks on this machine:

* a GPU: "bfloat16" from compute capability 8.0 (Ampere) on, "float16" (with loss
  scaling in the engine) on 7.x tensor-core GPUs, "float32" on older ones;
* no GPU: "bfloat16" when the CPU has bfloat16 arithmetic (``/proc/cpuinfo`` flags
  ``amx_bf16`` or ``avx512_bf16``: Intel Sapphire Rapids and later, AMD Zen 4), else
  "float32" (on an AVX2-only CPU bfloat16 is emulated and gains nothing).

``with_precision(feature_extractor, precision)`` returns a copy of a Keras-based feature
extractor whose layers compute in that format and whose activations come back as
float32, so that the Gram matrices, the costs, the optimizer and the image stay float32.
It changes nothing process-wide: no Keras global dtype policy, no grappler option, no
environment variable, so a notebook kernel that trains something else is not affected.
Not here: the train step (``steps``) and the loss scaling (``steps``, for float16).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from pathlib import Path

PRECISIONS = ("auto", "float32", "bfloat16", "float16")
#: CPU flags (as /proc/cpuinfo spells them) of hardware bfloat16 arithmetic.
BFLOAT16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where there is no such file)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    return flags_in(text)


def flags_in(cpuinfo_text: str) -> frozenset[str]:
    """The feature flags of the first CPU listed in the text of a ``/proc/cpuinfo``."""
    for line in cpuinfo_text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, ARM
            return frozenset(value.split())
    return frozenset()


_this_cpus_flags = cpu_flags


def visible_gpus() -> list[tuple[str, tuple[int, int] | None]]:
    """The GPUs TensorFlow sees: ``(name, (major, minor) compute capability or None)``."""
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(device)
        except (ValueError, RuntimeError):  # pragma: no cover - depends on the driver
            details = {}
        name = details.get("device_name", device.name)
        found.append((name, details.get("compute_capability")))
    return found


def explain_precision(
    cpu_flags: Iterable[str] | None = None,
    gpus: Sequence[tuple[str, tuple[int, int] | None]] | None = None,
) -> tuple[str, str]:
    """``(precision, reason)`` that ``precision="auto"`` chooses; see ``choose_precision``."""
    if gpus is None:
        gpus = visible_gpus()
    if gpus:
        name, capability = gpus[0]
        if capability is not None and tuple(capability) >= (8, 0):
            return "bfloat16", f"GPU {name} (compute capability {capability[0]}.{capability[1]})"
        if capability is not None and tuple(capability) >= (7, 0):
            return "float16", (
                f"GPU {name} (compute capability {capability[0]}.{capability[1]}: tensor cores "
                "without bfloat16; float16 with loss scaling)"
            )
        return "float32", f"GPU {name} without tensor cores"
    flags = frozenset(_this_cpus_flags() if cpu_flags is None else cpu_flags)
    found = [flag for flag in BFLOAT16_CPU_FLAGS if flag in flags]
    if found:
        return "bfloat16", f"CPU with {' and '.join(found)}"
    return "float32", "CPU without bfloat16 arithmetic (no amx_bf16 or avx512_bf16 flag)"


def choose_precision(
    cpu_flags: Iterable[str] | None = None,
    gpus: Sequence[tuple[str, tuple[int, int] | None]] | None = None,
) -> str:
    """What ``precision="auto"`` chooses: "bfloat16", "float16" or "float32".

    Args:
        cpu_flags: the CPU's flags (default: read ``/proc/cpuinfo``).
        gpus: ``(name, compute_capability)`` pairs (default: the GPUs TensorFlow sees;
            pass ``[]`` to ask about the CPU alone without importing TensorFlow).
    """
    return explain_precision(cpu_flags, gpus)[0]


def resolve_precision(requested: str, **machine) -> tuple[str, str]:
    """``(precision, reason)`` for a requested precision ("auto" asks the machine)."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {requested!r}.")
    if requested == "auto":
        precision, reason = explain_precision(**machine)
        return precision, f"auto: {reason}"
    return requested, "asked for"


def with_precision(feature_extractor, precision: str):
    """A feature extractor like ``feature_extractor`` whose layers compute in ``precision``.

    The returned callable maps images to ``{layer: float32 activation}`` like the
    original; only the convolutions (and their ReLUs and poolings) run in the lower
    precision, with the weights rounded to it once. ``feature_extractor`` must hold its
    Keras model in ``.model`` (as ``nst_helpers.vgg.FeatureExtractor`` does); it is not
    changed. For "float32" the extractor itself is returned.

    Example (a learner's own loop in bfloat16, on hardware that has it)::

        fast_extractor = with_precision(feature_extractor, "bfloat16")
        J = train_step(generated_image, fast_extractor, content_targets, style_targets, optimizer)
    """
    if precision not in PRECISIONS[1:]:
        raise ValueError(f"precision must be one of {PRECISIONS[1:]}, got {precision!r}.")
    if precision == "float32":
        return feature_extractor
    model = getattr(feature_extractor, "model", None)
    if model is None or not hasattr(model, "layers"):
        raise ValueError(
            f"with_precision needs a feature extractor that holds its Keras model in .model "
            f"(like make_feature_extractor's), got {type(feature_extractor).__name__}; use "
            "precision='float32' for a custom extractor."
        )
    return LowerPrecisionExtractor(feature_extractor, _clone_in(model, precision), precision)


def _clone_in(model, precision: str):
    """A copy of the Keras model ``model`` whose layers hold and compute in ``precision``."""
    import keras

    def clone_layer(layer):
        config = layer.get_config()
        if layer.__class__.__name__ != "InputLayer":
            config["dtype"] = keras.DTypePolicy(precision)
        return layer.__class__.from_config(config)

    clone = keras.models.clone_model(model, clone_function=clone_layer)
    for original, copied in zip(model.layers, clone.layers, strict=True):
        copied.set_weights(original.get_weights())  # rounded once to the layer's dtype
    clone.trainable = False
    return clone


class LowerPrecisionExtractor:
    """A feature extractor computing in bfloat16 or float16 and returning float32 activations."""

    def __init__(self, feature_extractor, model, precision: str):
        self.inner = copy.copy(feature_extractor)
        self.inner.model = model
        self.model = model
        self.precision = precision
        self.layer_names = getattr(feature_extractor, "layer_names", None)
        self.weights_label = getattr(feature_extractor, "weights_label", "custom feature extractor")
        self.is_stand_in = getattr(feature_extractor, "is_stand_in", False)

    def __call__(self, images) -> dict:
        import tensorflow as tf

        return {name: tf.cast(value, tf.float32) for name, value in self.inner(images).items()}

    def __repr__(self) -> str:
        return f"LowerPrecisionExtractor({self.precision}, {self.inner!r})"
