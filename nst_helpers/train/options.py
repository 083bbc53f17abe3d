"""The settings of a style-transfer run (``StylizeOptions``): defaults, help, and checks.

One dataclass holds every setting with its default and a one-line help in its field's
metadata, so defaults and help live in one place: the engine (``nst_helpers.train``)
reads the fields, and ``nst stylize`` builds its flags, their groups, defaults and help
from them (``option_fields``). What follows from the options for a given photo (the
scales, their steps, the style-layer weights, the precision) is the run's ``Plan``
(``nst_helpers.train.plan``). This module runs nothing and imports no TensorFlow, so
``nst stylize --help`` and its checks of the options are instant.

Why these defaults: a recognisable image in a few minutes on a laptop CPU with the
ImageNet weights. Adam with learning rate 0.04 on [0, 1] pixels (anishathalye's and
jcjohnson's Adam step of 10 on 0-255 pixels; TensorFlow's tutorial and crowsonkb use
0.02): on the benchmark's shared objective it reached the tutorial's 100-step loss in 25
steps against 35 at 0.02 (0.03: 26, 0.05: 34, 0.06: 40, 0.1: not within 80), and after 150
steps at 192 px its loss was half of 0.02's, on the stand-in weights; α 10, β 40 (the
classic assignment: Adam is invariant to the loss's scale, so only their ratio matters);
content initialisation; style layers weighted towards the shallow ones (∝ 1/n_C², Gatys'
own code); one scale and 150 steps at 384 px: the benchmark (docs/performance.md) found
the coarse-to-fine scales slower to a shared loss than a single scale (48 against 28
full-size steps of work at 128 px, on the stand-in weights), so they are an option
(``scales``), not the default, until a run with the ImageNet weights says otherwise; 150
single-scale steps cost about what the former 300 steps over three scales did (131
full-size steps). Precision "auto" (bfloat16 convolutions where the hardware has bfloat16
arithmetic). No total-variation term by default: its useful weight depends on the scale of
the costs, which depends on the weights and could not be calibrated offline; too strong a
TV term gives the grey, washed-out results users report.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence

from nst_helpers.train.plan import MIN_IMAGE_SIZE, longest_sides, steps_per_scale

#: The course's default layers (``nst_helpers.costs.CONTENT_LAYER`` and ``STYLE_LAYERS``,
#: repeated here so that the options load without TensorFlow; tests/train checks they agree).
CONTENT_LAYER = "block4_conv2"
STYLE_LAYERS = tuple((f"block{block}_conv1", 0.2) for block in range(1, 6))

OPTIMIZERS = ("adam", "lbfgs")
INITS = ("content", "noise", "mix")
WEIGHTINGS = ("shallow", "uniform")
PRECISIONS = ("auto", "float32", "bfloat16", "float16")
MAX_IMAGE_SIZE = 4096
#: The groups of ``nst stylize --help`` (as jcjohnson/neural-style groups its flags).
GROUPS = ("basic", "optimisation", "layers", "output")


def _option(default, help: str, group: str, flag: str | None = None, **cli):
    """A field with its help, its group on the command line and its flag (None: no flag)."""
    metadata = {"help": help, "group": group, "flag": flag, "cli": cli}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: default, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class StylizeOptions:
    """Every setting of ``nst_helpers.train.stylize`` (each field's help: ``describe_options()``)."""

    image_size: int = _option(
        384, "longest side of the output in pixels (the photo's aspect ratio is kept)",
        "basic", "--size",
    )  # fmt: skip
    steps: int = _option(150, "optimisation steps in total, over all scales", "basic", "--steps")
    precision: str = _option(
        "auto", "number format of the VGG19 convolutions: auto = bfloat16 where the hardware "
        "has it (CPU flag amx_bf16/avx512_bf16, recent GPUs), else float32; the Gram "
        "matrices, costs, optimizer and image are always float32",
        "basic", "--precision", choices=PRECISIONS,
    )  # fmt: skip
    scales: int | Sequence[int] = _option(
        1, "coarse-to-fine: a number of scales, each coarser one half as large (1 = off), or "
        "the sizes, e.g. 128,256,384, ending at the size; each scale gets an equal share of "
        "the steps", "optimisation", "--scales",
    )  # fmt: skip
    optimizer: str = _option(
        "adam", "adam, or lbfgs (L-BFGS, quasi-Newton: a step may evaluate the loss more than "
        "once)", "optimisation", "--optimizer", choices=OPTIMIZERS,
    )  # fmt: skip
    learning_rate: float = _option(
        0.04, "Adam's learning rate on [0, 1] pixels", "optimisation", "--learning-rate"
    )
    lbfgs_memory: int = _option(10, "past steps L-BFGS remembers", "optimisation", "--lbfgs-memory")
    init: str = _option(
        "content", "start from the photo (content), uniform noise (noise) or the photo plus "
        "noise (mix, the classic assignment)", "optimisation", "--init", choices=INITS,
    )  # fmt: skip
    noise_amount: float = _option(
        0.25, "amplitude of the noise of init=mix", "optimisation", "--noise-amount"
    )
    seed: int = _option(
        0, "seed of the initial noise (NumPy's RandomState)", "optimisation", "--seed"
    )
    jit_compile: bool | None = _option(
        None, "compile the step with XLA; None (auto): only on a GPU (measured slower on "
        "CPUs)", "optimisation", "--xla",
    )  # fmt: skip
    alpha: float = _option(10.0, "weight of the content cost", "layers", "--alpha")
    beta: float = _option(40.0, "weight of the style cost", "layers", "--beta")
    tv_weight: float = _option(
        0.0, "weight of the total-variation cost (mean absolute neighbour difference; same "
        "units as the weighted content and style costs; 0 = off)", "layers", "--tv-weight",
    )  # fmt: skip
    content_layer: str = _option(
        CONTENT_LAYER, "VGG19 layer whose activations define content", "layers",
        "--content-layer",
    )  # fmt: skip
    style_layers: Sequence[tuple[str, float]] = _option(
        STYLE_LAYERS, "(layer, weight) pairs of the style cost, e.g. "
        "block1_conv1:0.5,block2_conv1:0.5", "layers", "--style-layers",
    )  # fmt: skip
    style_layer_weighting: str = _option(
        "shallow", "shallow: multiply each style layer's weight by 1/n_C² (its channels; "
        "Gatys' code), renormalised to the same total; uniform: the weights as given",
        "layers", "--style-weighting", choices=WEIGHTINGS,
    )  # fmt: skip
    preserve_color: bool = _option(
        False, "keep the photo's colours: transfer only luminance (post-processing)", "output",
        "--preserve-color",
    )  # fmt: skip

    def __post_init__(self):
        _check_whole(self.image_size, "image_size", MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)
        _check_whole(self.steps, "steps", 1, 10**7)
        _check_whole(self.lbfgs_memory, "lbfgs_memory", 1, 1000)
        _check_whole(self.seed, "seed", 0, 2**32 - 1)
        for name, allowed in (
            ("optimizer", OPTIMIZERS),
            ("init", INITS),
            ("style_layer_weighting", WEIGHTINGS),
            ("precision", PRECISIONS),
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
        rate = self.learning_rate
        if isinstance(rate, bool) or not (
            isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0
        ):
            raise ValueError(f"learning_rate must be a finite number > 0, got {rate!r}.")
        if self.jit_compile not in (None, True, False):
            raise ValueError(f"jit_compile must be True, False or None, got {self.jit_compile!r}.")
        if not isinstance(self.content_layer, str):
            raise ValueError(f"content_layer must be a layer name, got {self.content_layer!r}.")
        object.__setattr__(self, "style_layers", check_style_layers(self.style_layers))
        steps_per_scale(self.steps, len(longest_sides(self.image_size, self.scales)))

    def layer_names(self) -> list[str]:
        """Every VGG19 layer the run needs: the content layer and the style layers."""
        return list(dict.fromkeys([self.content_layer] + [n for n, _ in self.style_layers]))


def check_style_layers(style_layers) -> tuple[tuple[str, float], ...]:
    """``style_layers`` as a tuple of (name, weight) pairs, or ValueError saying what is wrong."""
    if isinstance(style_layers, (str, bytes)) or not isinstance(style_layers, Sequence):
        raise ValueError(
            f"style_layers must be a list of (layer_name, weight) pairs, got {style_layers!r}."
        )
    if not style_layers:
        raise ValueError("style_layers is empty: give at least one (layer_name, weight) pair.")
    pairs = []
    for item in style_layers:
        if not (
            isinstance(item, (tuple, list))
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], numbers.Real)
            and not isinstance(item[1], bool)
            and math.isfinite(item[1])
            and item[1] >= 0
        ):
            raise ValueError(
                f"style_layers must hold (layer_name, weight) pairs with a finite weight >= 0; "
                f"{item!r} is not one. Example: [('block1_conv1', 0.5), ('block2_conv1', 0.5)]."
            )
        pairs.append((item[0], float(item[1])))
    return tuple(pairs)


def _check_whole(value, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}.")


def option_fields() -> list[dataclasses.Field]:
    """The fields of ``StylizeOptions`` in order, each with ``metadata`` help, group and flag."""
    return list(dataclasses.fields(StylizeOptions))


def describe_options() -> str:
    """Every option with its default and help, one per line (for ``help()`` and docs)."""
    lines = []
    for field in option_fields():
        default = field.default if field.default is not dataclasses.MISSING else "..."
        lines.append(f"{field.name} (default {default!r}): {field.metadata['help']}.")
    return "\n".join(lines)


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
