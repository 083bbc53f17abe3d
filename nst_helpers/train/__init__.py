"""The optimisation engine: ``stylize(content, style, ...)`` makes a stylised image.

It minimises α·J_content + β·J_style + w_tv·J_tv (``nst_helpers.costs``) over the
pixels of the generated image, with these properties:

* the content activations and the style Gram matrices are computed once per scale
  (``compute_targets``), and the VGG19 feature extractor stops at the deepest layer used;
* one compiled train step (``tf.function``, XLA optional) updates the image and keeps
  the pixels in [0, 1];
* coarse-to-fine scales, shallow-weighted style layers, Adam or L-BFGS, content /
  noise / mixed initialisation and colour preservation, all set by ``StylizeOptions``
  (``nst_helpers.train.options``, which documents the defaults);
* a non-finite loss stops the run and keeps the last image whose loss was finite;
  Ctrl-C (``KeyboardInterrupt``, also from a callback) returns the best image so far;
* a tqdm progress bar with the current losses; callbacks and ``plot_history``
  (``nst_helpers.train.callbacks``).

The teaching version of the train step is ``nst_helpers.reference_step.train_step``; this module is
for making pictures quickly, not for reading first.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
import warnings

import numpy as np
import tensorflow as tf

from nst_helpers.images import resize_image
from nst_helpers.train.callbacks import (
    LossHistory,
    RecordFrames,
    SaveSnapshots,
    StepInfo,
    plot_history,
)
from nst_helpers.train.images import (
    as_image,
    cover_resize,
    initial_image,
    preserve_color,
    scaled_size,
)
from nst_helpers.train.options import (
    MIN_IMAGE_SIZE,
    StylizeOptions,
    make_options,
    weighted_style_layers,
)
from nst_helpers.train.steps import (
    AdamRun,
    LbfgsRun,
    compute_targets,
    default_jit_compile,
    make_loss_function,
)

__all__ = [
    "LossHistory",
    "RecordFrames",
    "SaveSnapshots",
    "StepInfo",
    "StylizeOptions",
    "StylizeResult",
    "compute_targets",
    "plot_history",
    "preserve_color",
    "stylize",
]


@dataclasses.dataclass
class StylizeResult:
    """What ``stylize`` returns.

    Attributes:
        image: the final image (1, H, W, 3) in [0, 1]; after a non-finite loss, the last
            image whose loss was finite.
        best_image: the image with the lowest loss at the finest scale reached.
        best_loss: that loss.
        history: the losses of every step (``LossHistory``).
        timings: seconds: ``setup`` (targets and starting images), ``optimise`` (all
            steps), ``first_steps`` (per scale: targets, tracing, compiling and the first
            step), ``seconds_per_step`` (median at the finest scale, after its first step),
            ``total``.
        interrupted: True if Ctrl-C (KeyboardInterrupt) stopped the run.
        stop_reason: why the run ended early (None if it ran all its steps).
        steps_completed: how many steps ran.
        options: the ``StylizeOptions`` used.
        weights_label: where the VGG19 weights came from (says so for the stand-in).
    """

    image: tf.Tensor
    best_image: tf.Tensor
    best_loss: float
    history: LossHistory
    timings: dict
    interrupted: bool
    stop_reason: str | None
    steps_completed: int
    options: StylizeOptions
    weights_label: str


def _feature_extractor_for(options, feature_extractor, vgg, weights):
    """The options to run with and the feature extractor.

    A network that recommends settings (the offline features' ``recommended_settings``:
    α, β, layers) gets them for every option still at its default (``StylizeOptions()``);
    an option set to anything else is kept. A given ``feature_extractor`` is used as is.
    """
    if feature_extractor is not None:
        return options, feature_extractor
    from nst_helpers.vgg import load_vgg19, make_feature_extractor

    if vgg is None:
        vgg = load_vgg19(weights, seed=options.seed)
    defaults = StylizeOptions()
    recommended = {
        name: value
        for name, value in getattr(vgg, "recommended_settings", {}).items()
        if getattr(options, name) == getattr(defaults, name)
    }
    options = dataclasses.replace(options, **recommended)
    return options, make_feature_extractor(options.layer_names(), vgg=vgg)


def _scale_plan(options: StylizeOptions, content: tf.Tensor):
    height, width = int(content.shape[1]), int(content.shape[2])
    plan = []
    for longest, steps in zip(options.scale_sizes(), options.steps_per_scale(), strict=True):
        size = scaled_size(height, width, longest)
        if min(size) < MIN_IMAGE_SIZE // 2:
            if longest == options.image_size:
                raise ValueError(
                    f"at image_size {options.image_size} the content becomes {size[0]}x{size[1]} "
                    f"px; its short side must be at least {MIN_IMAGE_SIZE // 2}. Use a larger "
                    "size or crop the photo."
                )
            continue
        plan.append((size, steps))
    # Steps of dropped coarse scales go to the first kept one.
    missing = options.steps - sum(steps for _, steps in plan)
    plan[0] = (plan[0][0], plan[0][1] + missing)
    return plan


def stylize(
    content_image,
    style_image,
    options: StylizeOptions | None = None,
    *,
    callbacks=(),
    weights=None,
    vgg=None,
    feature_extractor=None,
    progress: bool = True,
    **option_overrides,
) -> StylizeResult:
    """Make ``content_image`` look painted in the style of ``style_image``.

    Args:
        content_image: a (1, H, W, 3) image in [0, 1] (or an image file path).
        style_image: the same for the style; it is resized and centre-cropped to cover
            the generated image at each scale.
        options: a ``StylizeOptions``; keyword arguments override its fields, e.g.
            ``stylize(c, s, image_size=256, steps=200, optimizer="lbfgs")``.
        callbacks: callables receiving a ``StepInfo`` after each step.
        weights: VGG19 weights ("imagenet", "random", "offline", a path, or None for
            ``NST_VGG19_WEIGHTS``); ignored if ``vgg`` or ``feature_extractor`` is given.
            With "offline", its recommended α, β and layers replace the options left at
            their defaults (``result.options`` shows what ran).
        vgg: an already loaded VGG19 (``load_vgg19``) to reuse.
        feature_extractor: a callable mapping images to ``{layer: activation}`` for
            every layer the options use; replaces ``vgg`` and ``weights``.
        progress: show a progress bar (tqdm; on stderr in a terminal, a widget in Jupyter).

    Returns:
        A ``StylizeResult``.
    """
    from tqdm.auto import tqdm

    options = make_options(options, **option_overrides)
    callbacks = list(callbacks) if not callable(callbacks) else None
    if callbacks is None or not all(callable(callback) for callback in callbacks):
        raise ValueError("callbacks must be a list of callables, e.g. [RecordFrames(every=10)].")
    started = time.perf_counter()
    content_full = as_image(content_image, "content_image")
    style_full = as_image(style_image, "style_image")
    plan = _scale_plan(options, content_full)
    options, extractor = _feature_extractor_for(options, feature_extractor, vgg, weights)
    jit_compile = default_jit_compile() if options.jit_compile is None else options.jit_compile
    run = _Run(options, plan, history=LossHistory())
    bar = tqdm(total=run.steps_total, disable=not progress, file=sys.stderr, desc="stylize")
    try:
        for scale_index in range(len(plan)):
            scale_started = time.perf_counter()
            state = _prepare_scale(
                run, scale_index, extractor, content_full, style_full, jit_compile
            )
            _optimise_scale(run, scale_index, state, callbacks, bar, scale_started)
            if run.stop_reason:
                break
    except KeyboardInterrupt:
        run.interrupted = True
        run.stop_reason = (
            f"interrupted after {run.steps_done} steps; returning the best image so far."
        )
    finally:
        bar.close()
    if run.stop_reason and not run.interrupted:
        warnings.warn(run.stop_reason, RuntimeWarning, stacklevel=2)
    run.timings["total"] = time.perf_counter() - started
    weights_label = getattr(extractor, "weights_label", "custom feature extractor")
    return _result(run, content_full, weights_label)


@dataclasses.dataclass
class _Run:
    """The mutable state of one ``stylize`` call, across scales."""

    options: StylizeOptions
    plan: list
    history: LossHistory
    image: tf.Tensor | None = None
    best: tf.Tensor | None = None
    last_good: tf.Tensor | None = None
    best_loss: float = math.inf
    steps_done: int = 0
    stop_reason: str | None = None
    interrupted: bool = False
    optimise_started: float | None = None
    timings: dict = dataclasses.field(
        default_factory=lambda: {"setup": 0.0, "first_steps": [], "seconds_per_step": None}
    )

    @property
    def steps_total(self) -> int:
        return sum(steps for _, steps in self.plan)


def _prepare_scale(run: _Run, scale_index, extractor, content_full, style_full, jit_compile):
    """Targets, loss function and optimiser state for one scale (targets computed once here)."""
    options = run.options
    size = run.plan[scale_index][0]
    setup_started = time.perf_counter()
    content = resize_image(content_full, size)
    style_names = [name for name, _ in options.style_layers]
    style = cover_resize(style_full, size)
    targets = compute_targets(extractor, content, style, options.content_layer, style_names)
    channels = {name: int(gram.shape[0]) for name, gram in targets.grams.items()}
    layers = weighted_style_layers(options.style_layers, channels, options.style_layer_weighting)
    loss_function = make_loss_function(
        extractor, options.content_layer, layers, options.alpha, options.beta, options.tv_weight
    )
    if run.image is None:
        start = initial_image(content, options.init, options.noise_amount, options.seed)
    else:
        start = resize_image(run.image, size)
    run.timings["setup"] += time.perf_counter() - setup_started
    if run.optimise_started is None:
        run.optimise_started = time.perf_counter()
    state_class = AdamRun if options.optimizer == "adam" else LbfgsRun
    return state_class(start, targets, loss_function, options, jit_compile)


def _optimise_scale(run: _Run, scale_index: int, state, callbacks, bar, scale_started) -> None:
    """Run one scale's steps; stop on a non-finite loss or when L-BFGS has converged."""
    size, steps = run.plan[scale_index]
    for step_in_scale in range(steps):
        losses = state.step()
        run.steps_done += 1
        elapsed = time.perf_counter() - run.optimise_started
        run.history.append(losses, scale_index, size, elapsed)
        if step_in_scale == 0:  # includes the targets, tracing and compiling
            run.timings["first_steps"].append(time.perf_counter() - scale_started)
        run.image, run.best, run.last_good, run.best_loss = state.images()
        bar.update(1)
        shown = {name: f"{losses[name]:.3g}" for name in ("total", "content", "style")}
        bar.set_postfix(shown, refresh=False)
        if not math.isfinite(losses["total"]) or state.stop_reason:
            run.stop_reason = state.stop_reason or (
                f"the loss became {losses['total']} at step {run.steps_done}; stopped and kept "
                "the last image whose loss was finite. Lower the learning rate or check the "
                "input images."
            )
            run.image = run.last_good
            return
        info = StepInfo(
            run.steps_done, run.steps_total, scale_index, len(run.plan), size, losses,
            run.image, elapsed,
        )  # fmt: skip
        for callback in callbacks:
            callback(info)


def _result(run: _Run, content_full, weights_label: str) -> StylizeResult:
    options, history = run.options, run.history
    final_index = len(run.plan) - 1
    final_size = run.plan[-1][0]
    if run.optimise_started is not None:
        run.timings["optimise"] = time.perf_counter() - run.optimise_started
    final_scale_seconds = [
        later - earlier
        for earlier, later, scale_a, scale_b in zip(
            history.seconds, history.seconds[1:], history.scale, history.scale[1:], strict=False
        )
        if scale_a == scale_b == final_index
    ]
    if final_scale_seconds:
        run.timings["seconds_per_step"] = float(np.median(final_scale_seconds))
    image, best = run.image, run.best
    if image is None:  # interrupted before the first step finished
        first_content = resize_image(content_full, run.plan[0][0])
        image = initial_image(first_content, options.init, options.noise_amount, options.seed)
    if best is None or not math.isfinite(run.best_loss):
        best = image
    image, best = (
        x if tuple(x.shape[1:3]) == final_size else resize_image(x, final_size)
        for x in (image, best)
    )
    if options.preserve_color:
        content = resize_image(content_full, final_size)
        image, best = preserve_color(image, content), preserve_color(best, content)
    return StylizeResult(
        image=tf.convert_to_tensor(image),
        best_image=tf.convert_to_tensor(best),
        best_loss=float(run.best_loss),
        history=history,
        timings=run.timings,
        interrupted=run.interrupted,
        stop_reason=run.stop_reason,
        steps_completed=run.steps_done,
        options=options,
        weights_label=weights_label,
    )
