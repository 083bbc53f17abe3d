"""Watching a style-transfer run: the loss history, per-step callbacks, and the loss plot.

``stylize`` calls each callback after every step with a ``StepInfo``. Two callbacks
come ready: ``SaveSnapshots`` (write the image every k steps) and ``RecordFrames``
(keep every k-th image in memory, e.g. for an animation). A callback may raise
``KeyboardInterrupt`` to stop the run early; the engine then returns the best image
so far. ``plot_history`` draws the loss curves. Nothing here runs the optimisation.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

LOSS_NAMES = ("total", "content", "style", "tv")


@dataclasses.dataclass
class LossHistory:
    """The losses of each step, measured on the image before that step.

    ``total``, ``content``, ``style``, ``tv``: the raw costs (``content`` and ``style``
    unweighted). Raw costs of different scales are not comparable: a finer scale starts
    from an upsampled image that lacks the fine detail its style target has. So each step
    also has ``relative``: the weighted costs (α·J_content, β·J_style, w_tv·J_tv and their
    sum) divided by the total cost of the run's starting image at the same scale (for
    ``init="content"``, the photo): 1.0 is "no better than the photo", and a value that
    carries over from one scale to the next shows the coarse scale's work was kept.
    ``scale[i]`` is the index of the scale step ``i`` ran at, ``size[i]`` its (height,
    width), ``work[i]`` the work done after it in full-size steps (a step costs in
    proportion to its pixels), and ``seconds[i]`` the wall time since the optimisation
    started.
    """

    total: list[float] = dataclasses.field(default_factory=list)
    content: list[float] = dataclasses.field(default_factory=list)
    style: list[float] = dataclasses.field(default_factory=list)
    tv: list[float] = dataclasses.field(default_factory=list)
    relative: dict = dataclasses.field(default_factory=lambda: {n: [] for n in LOSS_NAMES})
    scale: list[int] = dataclasses.field(default_factory=list)
    size: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    work: list[float] = dataclasses.field(default_factory=list)
    seconds: list[float] = dataclasses.field(default_factory=list)

    def append(
        self,
        losses: dict,
        scale: int,
        size: tuple[int, int],
        seconds: float,
        relative: dict | None = None,
        work: float = float("nan"),
    ) -> None:
        for name in LOSS_NAMES:
            getattr(self, name).append(float(losses[name]))
            self.relative[name].append(float((relative or {}).get(name, float("nan"))))
        self.scale.append(scale)
        self.size.append(tuple(size))
        self.work.append(float(work))
        self.seconds.append(seconds)

    def __len__(self) -> int:
        return len(self.total)


@dataclasses.dataclass
class StepInfo:
    """What a callback sees after a step.

    Attributes:
        step: the number of steps done so far (1-based), over all scales.
        steps_total: the steps planned in total.
        scale: index of the current scale (0 = coarsest); ``scale_count`` scales in all.
        size: (height, width) of the image at this scale.
        losses: the losses of the image before this step (``total``, ``content``,
            ``style``, ``tv``).
        image: the image after this step, a (1, H, W, 3) tensor in [0, 1].
        seconds: wall time since the optimisation started.
    """

    step: int
    steps_total: int
    scale: int
    scale_count: int
    size: tuple[int, int]
    losses: dict
    image: object
    seconds: float


class SaveSnapshots:
    """Save the image every ``every`` steps (and after the last step) as numbered PNGs.

    Args:
        folder: where to write ``step_00010.png``, ...; created if missing.
        every: the interval in steps.
    """

    def __init__(self, folder, every: int = 50):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number of steps >= 1, got {every!r}.")
        self.folder = Path(folder)
        self.every = every
        self.saved: list[Path] = []

    def __call__(self, info: StepInfo) -> None:
        if info.step % self.every == 0 or info.step == info.steps_total:
            from nst_helpers.images import save_image

            path = self.folder / f"step_{info.step:05d}.png"
            self.saved.append(save_image(info.image, path))


class RecordFrames:
    """Keep a copy of the image every ``every`` steps: ``frames`` (NumPy arrays) and ``steps``."""

    def __init__(self, every: int = 10):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number of steps >= 1, got {every!r}.")
        self.every = every
        self.frames: list[np.ndarray] = []
        self.steps: list[int] = []

    def __call__(self, info: StepInfo) -> None:
        if info.step % self.every == 0:
            self.frames.append(np.array(info.image[0]))
            self.steps.append(info.step)


def plot_history(history: LossHistory, axes=None, log_scale: bool = True, relative: bool = True):
    """Plot the total, content, style and TV losses against the step; return the figure.

    By default the losses are ``history.relative`` (weighted, divided by the starting
    image's total at the same scale), which do not jump only because the scale changed;
    ``relative=False`` plots the raw costs. Vertical dotted lines mark where a new (finer)
    scale starts.
    """
    import matplotlib.pyplot as plt

    if not isinstance(history, LossHistory):
        raise ValueError(f"plot_history expects a LossHistory, got {type(history).__name__}.")
    if len(history) == 0:
        raise ValueError("the history is empty: run at least one step before plotting.")
    if axes is None:
        figure, axes = plt.subplots(figsize=(7, 4))
    else:
        figure = axes.figure
    steps = np.arange(1, len(history) + 1)
    relative = relative and np.all(np.isfinite(history.relative["total"]))
    for name in LOSS_NAMES:
        source = history.relative[name] if relative else getattr(history, name)
        values = np.asarray(source, dtype=np.float64)
        if log_scale and not np.any(values > 0):
            continue
        axes.plot(steps, values, label=name)
    for index in range(1, len(history)):
        if history.scale[index] != history.scale[index - 1]:
            axes.axvline(index + 0.5, color="grey", linestyle=":", linewidth=1)
    if log_scale:
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("loss / starting image's loss at this scale" if relative else "loss")
    axes.legend()
    axes.set_title("losses (dotted: a finer scale starts)")
    figure.tight_layout()
    return figure
