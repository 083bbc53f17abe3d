"""The settings of a style-transfer run (``StylizeOptions``), checked, and what follows from them.

One dataclass holds every setting with its default, so defaults live in one place; the
engine (``nst_helpers.train``) and the ``nst stylize`` command both build on it. This
module also turns options into the schedule of scales and steps and into the per-layer
style weights. It does not run anything and does not import TensorFlow.

Defaults: a recognisable image in a few minutes on a laptop CPU with the ImageNet
weights. 384 px, 300 Adam steps split over three scales (96, 192, 384 px): about 131
full-size steps of work, ~2-4 minutes on a 2-4 core laptop (docs/performance.md).
Adam with learning rate 0.02 (TensorFlow's tutorial and crowsonkb's implementation) on
[0, 1] pixels; α 10, β 40 (the classic assignment: Adam is invariant to the loss's
scale, so only their ratio matters); content initialisation; style layers weighted
towards the shallow ones (∝ 1/n_C², Gatys' own code). No total-variation term by
default: its useful weight depends on the scale of the costs, which depends on the
weights (ImageNet costs are many orders larger than the stand-in's) and could not be
calibrated offline; too strong a TV term gives the grey, washed-out results users report.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from nst_helpers.costs import CONTENT_LAYER, STYLE_LAYERS, check_style_layers

OPTIMIZERS = ("adam", "lbfgs")
INITS = ("content", "noise", "mix")
WEIGHTINGS = ("shallow", "uniform")
#: VGG19 halves the image four times before block5; smaller images lose the deep layers.
MIN_IMAGE_SIZE = 32
MAX_IMAGE_SIZE = 4096


@dataclasses.dataclass(frozen=True)
class StylizeOptions:
    """Every setting of ``nst_helpers.train.stylize``.

    Attributes:
        image_size: longest side of the output in pixels (the content's aspect ratio is kept).
        steps: optimisation steps in total, over all scales.
        scales: number of scales of the coarse-to-fine schedule (each coarser one is half
            as large, none smaller than 32 px; 1 = single scale), or an explicit ascending
            list of longest sides ending at ``image_size``.
        content_layer: VGG19 layer whose activations define content.
        style_layers: ``(layer_name, weight)`` pairs; weights are rescaled by
            ``style_layer_weighting``.
        style_layer_weighting: "shallow" multiplies each layer's weight by 1/n_C² (its
            channel count; Gatys' code), renormalised to the same total: shallow layers,
            which carry brush strokes and colour, count more. "uniform" keeps the given weights
            (the classic assignment).
        alpha, beta: weights of the content and style costs.
        tv_weight: weight of the total-variation cost (mean absolute difference between
            neighbouring pixels in [0, 1] units; independent of the image size). 0 (the
            default) turns it off; it is in the same units as α·J_content + β·J_style,
            so choose it relative to the losses printed in the progress bar.
        optimizer: "adam" or "lbfgs" (L-BFGS, a quasi-Newton method; each step may
            evaluate the loss more than once).
        learning_rate: Adam's learning rate on [0, 1] pixels (ignored by L-BFGS).
        lbfgs_memory: number of past steps L-BFGS remembers.
        init: "content" (start from the photo), "noise" (uniform noise), or "mix" (the
            photo plus uniform noise in ±``noise_amount``, as the classic assignment).
        noise_amount: the amplitude of the noise for "mix".
        seed: seed of the initial noise (NumPy's RandomState; TF's streams are not used).
        preserve_color: keep the content's colours: transfer only luminance (post-processing).
        jit_compile: compile the train step with XLA. None picks the faster choice for
            the device (measured: off on CPU, see docs/performance.md; on on a GPU).
    """

    image_size: int = 384
    steps: int = 300
    scales: int | Sequence[int] = 3
    content_layer: str = CONTENT_LAYER
    style_layers: Sequence[tuple[str, float]] = tuple(STYLE_LAYERS)
    style_layer_weighting: str = "shallow"
    alpha: float = 10.0
    beta: float = 40.0
    tv_weight: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 0.02
    lbfgs_memory: int = 10
    init: str = "content"
    noise_amount: float = 0.25
    seed: int = 0
    preserve_color: bool = False
    jit_compile: bool | None = None

    def __post_init__(self):
        _check_whole(self.image_size, "image_size", MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
        _check_whole(self.steps, "steps", 1, 10**7)
        _check_whole(self.lbfgs_memory, "lbfgs_memory", 1, 1000)
        _check_whole(self.seed, "seed", 0, 2**32 - 1)
        for name, allowed in (
            ("optimizer", OPTIMIZERS),
            ("init", INITS),
            ("style_layer_weighting", WEIGHTINGS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}.")
        for name in ("alpha", "beta", "tv_weight", "noise_amount"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(value) and value >= 0)
            ):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}.")
        if not isinstance(self.content_layer, str):
            raise ValueError(f"content_layer must be a layer name, got {self.content_layer!r}.")
        object.__setattr__(self, "style_layers", tuple(check_style_layers(self.style_layers)))
        self.steps_per_scale()  # validates ``scales`` and that every scale gets a step

    def scale_sizes(self) -> list[int]:
        """The longest side of each scale, coarse to fine, ending at ``image_size``."""
        scales = self.scales
        if isinstance(scales, bool):
            raise ValueError(f"scales must be a whole number or a list of sizes, got {scales!r}.")
        if isinstance(scales, int):
            _check_whole(scales, "scales", 1, 10)
            sizes = [round(self.image_size / 2**k) for k in range(scales - 1, -1, -1)]
            return [size for size in sizes if size >= MIN_IMAGE_SIZE] or [self.image_size]
        sizes = list(scales) if isinstance(scales, Sequence) else None
        if not sizes or not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
            raise ValueError(f"scales must be a whole number or a list of sizes, got {scales!r}.")
        if sizes != sorted(set(sizes)) or sizes[-1] != self.image_size:
            raise ValueError(
                f"scales {sizes} must be strictly increasing and end at image_size "
                f"({self.image_size})."
            )
        if sizes[0] < MIN_IMAGE_SIZE:
            raise ValueError(f"scales {sizes}: the smallest must be >= {MIN_IMAGE_SIZE} px.")
        return sizes

    def steps_per_scale(self) -> list[int]:
        """How many of ``steps`` each scale gets: an equal share, the rest to the finest.

        Coarse steps are cheap (a step's cost grows with the pixel count), so an equal
        share puts most of the iterations where they cost least.
        """
        count = len(self.scale_sizes())
        if self.steps < count:
            raise ValueError(
                f"steps={self.steps} is fewer than the {count} scales; give at least one "
                "step per scale or use fewer scales."
            )
        share = self.steps // count
        return [share] * (count - 1) + [self.steps - share * (count - 1)]

    def layer_names(self) -> list[str]:
        """Every VGG19 layer the run needs: the content layer and the style layers."""
        return list(dict.fromkeys([self.content_layer] + [n for n, _ in self.style_layers]))


def _check_whole(value, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}.")


def make_options(options: StylizeOptions | None = None, **overrides) -> StylizeOptions:
    """``options`` (or the defaults) with ``overrides`` applied; unknown names raise ValueError."""
    if options is not None and not isinstance(options, StylizeOptions):
        raise ValueError(
            f"options must be a StylizeOptions (or None), got {type(options).__name__}; pass "
            "settings as keyword arguments, e.g. stylize(content, style, steps=200)."
        )
    known = {field.name for field in dataclasses.fields(StylizeOptions)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; the options are: {sorted(known)}.")
    return dataclasses.replace(options or StylizeOptions(), **overrides)


def weighted_style_layers(
    style_layers: Sequence[tuple[str, float]], channels: dict[str, int], weighting: str
) -> list[tuple[str, float]]:
    """Apply ``weighting`` to ``style_layers``, given each layer's channel count.

    "uniform" returns the pairs unchanged. "shallow" multiplies each weight by
    1/n_C² and rescales so that the weights keep their sum: with VGG19's 64, 128, 256,
    512, 512 channels and equal weights this gives 64:16:4:1:1.
    """
    pairs = check_style_layers(style_layers)
    if weighting == "uniform":
        return pairs
    if weighting != "shallow":
        raise ValueError(f"style_layer_weighting must be one of {WEIGHTINGS}, got {weighting!r}.")
    raw = [(name, weight / channels[name] ** 2) for name, weight in pairs]
    total, raw_total = sum(w for _, w in pairs), sum(w for _, w in raw)
    if raw_total == 0:
        return pairs
    return [(name, weight * total / raw_total) for name, weight in raw]
