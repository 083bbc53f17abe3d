"""The plan of one run, built once from the options and the photo: scales, steps, weights.

``make_plan`` turns ``StylizeOptions`` and the content image's size into a ``Plan``: the
(height, width) and the number of steps of each scale, coarse to fine; the style-layer
weights after ``style_layer_weighting`` (computed once: the channel counts do not change
with the scale); the precision and why it was chosen; and the work of each step relative
to a full-size step (a step's cost grows with its pixel count), which the progress bar
and its ETA count in. The helpers ``longest_sides``, ``steps_per_scale`` and
``scaled_size`` are the schedule's arithmetic. Nothing here runs TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

#: VGG19 halves the image four times before block5; smaller images lose the deep layers.
MIN_IMAGE_SIZE = 32


def longest_sides(image_size: int, scales) -> list[int]:
    """The longest side of each scale, coarse to fine, ending at ``image_size``.

    ``scales`` is a number of scales (each coarser one half as large, none below
    ``MIN_IMAGE_SIZE``) or an explicit strictly increasing list ending at ``image_size``.
    """
    if isinstance(scales, bool):
        raise ValueError(f"scales must be a whole number or a list of sizes, got {scales!r}.")
    if isinstance(scales, int):
        if not 1 <= scales <= 10:
            raise ValueError(f"scales must be a whole number from 1 to 10, got {scales!r}.")
        sizes = [round(image_size / 2**k) for k in range(scales - 1, -1, -1)]
        return [size for size in sizes if size >= MIN_IMAGE_SIZE] or [image_size]
    sizes = list(scales) if isinstance(scales, Sequence) and not isinstance(scales, str) else None
    if not sizes or not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
        raise ValueError(f"scales must be a whole number or a list of sizes, got {scales!r}.")
    if sizes != sorted(set(sizes)) or sizes[-1] != image_size:
        raise ValueError(
            f"scales {sizes} must be strictly increasing and end at image_size ({image_size})."
        )
    if sizes[0] < MIN_IMAGE_SIZE:
        raise ValueError(f"scales {sizes}: the smallest must be >= {MIN_IMAGE_SIZE} px.")
    return sizes


def steps_per_scale(steps: int, count: int) -> list[int]:
    """An equal share of ``steps`` for each of ``count`` scales, the rest to the finest."""
    if steps < count:
        raise ValueError(
            f"steps={steps} is fewer than the {count} scales; give at least one step per "
            "scale or use fewer scales."
        )
    share = steps // count
    return [share] * (count - 1) + [steps - share * (count - 1)]


def scaled_size(height: int, width: int, longest: int) -> tuple[int, int]:
    """(height, width) with the longest side ``longest`` and the aspect ratio kept."""
    scale = longest / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def weighted_style_layers(
    style_layers: Sequence[tuple[str, float]], channels: dict[str, int], weighting: str
) -> tuple[tuple[str, float], ...]:
    """Apply ``weighting`` to ``style_layers``, given each layer's channel count.

    "uniform" returns the pairs unchanged. "shallow" multiplies each weight by 1/n_C²
    and rescales so that the weights keep their sum: with VGG19's 64, 128, 256, 512, 512
    channels and equal weights this gives 64:16:4:1:1.
    """
    pairs = tuple((name, float(weight)) for name, weight in style_layers)
    if weighting == "uniform":
        return pairs
    if weighting != "shallow":
        raise ValueError(f"style_layer_weighting must be shallow or uniform, got {weighting!r}.")
    missing = [name for name, _ in pairs if name not in channels]
    if missing:
        raise ValueError(f"no channel count for style layer(s) {missing}.")
    raw = [(name, weight / channels[name] ** 2) for name, weight in pairs]
    total, raw_total = sum(w for _, w in pairs), sum(w for _, w in raw)
    if raw_total == 0:
        return pairs
    return tuple((name, weight * total / raw_total) for name, weight in raw)


@dataclasses.dataclass(frozen=True)
class Scale:
    """One scale of the schedule: its image size (height, width) and its number of steps."""

    size: tuple[int, int]
    steps: int

    @property
    def pixels(self) -> int:
        return self.size[0] * self.size[1]


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything a run does, decided before its first step.

    Attributes:
        scales: the ``Scale`` s, coarse to fine.
        style_layers: the (layer, weight) pairs after ``style_layer_weighting``.
        precision: "float32", "bfloat16" or "float16": the number format of the network.
        precision_reason: why (e.g. "auto: CPU with amx_bf16", or "asked for").
    """

    scales: tuple[Scale, ...]
    style_layers: tuple[tuple[str, float], ...]
    precision: str = "float32"
    precision_reason: str = "asked for"

    @property
    def steps_total(self) -> int:
        return sum(scale.steps for scale in self.scales)

    def step_work(self, scale_index: int) -> float:
        """The work of one step at that scale, in full-size steps (pixels / final pixels)."""
        return self.scales[scale_index].pixels / self.scales[-1].pixels

    @property
    def work_total(self) -> float:
        """The work of the whole run in full-size steps: what the progress bar counts."""
        return sum(scale.steps * self.step_work(index) for index, scale in enumerate(self.scales))


def make_plan(
    options,
    content_size: tuple[int, int],
    channels: dict[str, int],
    precision: str = "float32",
    precision_reason: str = "asked for",
) -> Plan:
    """The ``Plan`` for ``options`` (``StylizeOptions``) on a photo of ``content_size`` (h, w).

    Coarse scales whose short side would fall below ``MIN_IMAGE_SIZE // 2`` are dropped
    and their steps go to the first scale kept. ``channels`` maps each style layer to its
    channel count (for the "shallow" weighting).

    Raises:
        ValueError: even the full size would be too small.
    """
    height, width = content_size
    sides = longest_sides(options.image_size, options.scales)
    scales = []
    for longest, steps in zip(sides, steps_per_scale(options.steps, len(sides)), strict=True):
        size = scaled_size(height, width, longest)
        if min(size) < MIN_IMAGE_SIZE // 2:
            if longest == options.image_size:
                raise ValueError(
                    f"at image_size {options.image_size} the content becomes {size[0]}x{size[1]} "
                    f"px; its short side must be at least {MIN_IMAGE_SIZE // 2}. Use a larger "
                    "size or crop the photo."
                )
            continue
        scales.append(Scale(size, steps))
    missing = options.steps - sum(scale.steps for scale in scales)
    scales[0] = Scale(scales[0].size, scales[0].steps + missing)
    layers = weighted_style_layers(options.style_layers, channels, options.style_layer_weighting)
    return Plan(tuple(scales), layers, precision, precision_reason)
