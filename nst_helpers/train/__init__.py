"""The optimisation engine: ``stylize(content, style, ...)`` makes a stylised image.

The method on one screen. Gatys et al. describe an image by a frozen VGG19: its
activations at a middle-deep layer stand for the *content*, the Gram matrices of its
activations (which channels fire together) at several layers for the *style*. We look
for the image G whose content is the photo's and whose style is the painting's, by
gradient descent on G's pixels:

    J(G) = α·J_content(C, G) + β·Σ_l λ_l·J_style^l(S, G) + w_tv·J_tv(G)

``stylize`` does it in this order:

1. **Options** (``options.StylizeOptions``: every setting, its default and its help)
   and the two images, checked.
2. **The feature extractor** (``_feature_extractor_for``): VGG19 cut after the deepest
   layer used, with VGG's preprocessing inside; in bfloat16 or float16 where the
   precision asks for it (``precision.with_precision``; ``"auto"`` asks the machine,
   ``precision.choose_precision``), its activations returned as float32.
3. **The plan** (``plan.make_plan``), built once: the scales of the coarse-to-fine
   schedule with their sizes and steps, the style-layer weights (shallow layers
   weighted up, ∝ 1/n_C²), the precision and why, the work of a step at each scale.
4. **For each scale, coarse to fine**: resize the photo and cover-crop the painting;
   compute the targets once (the content activation, the style Gram matrices:
   ``steps.compute_targets``); start from the photo (or noise) at the first scale,
   from the previous scale's result upsampled at the others; then run the compiled
   step (``steps.AdamRun`` or ``steps.LbfgsRun``): losses, gradient, optimiser
   update, clip to [0, 1], remember the best and the last finite-loss image.
5. **Watch**: a progress bar that counts work (pixels × steps), so its ETA holds
   across scales, and shows the loss relative to the starting image's at the same
   scale; callbacks (``callbacks``) after every step; a non-finite loss stops the run
   and keeps the last good image; Ctrl-C returns the best image so far.
6. **Result** (``StylizeResult``): the image (colour-preserved if asked), the best one,
   the history, timings, the plan and the precision chosen.

The teaching version of the step is ``nst_helpers.reference_step.train_step``; this
package is for making pictures quickly, not for reading first. Importing it (or its
``options`` and ``plan``) loads no TensorFlow: ``nst stylize`` checks its inputs first.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import sys
import time
import warnings
from typing import TYPE_CHECKING

import numpy as np

from nst_helpers.train.callbacks import (
    LossHistory,
    RecordFrames,
    SaveSnapshots,
    StepInfo,
    plot_history,
)
from nst_helpers.train.options import StylizeOptions, make_options
from nst_helpers.train.plan import Plan, make_plan
from nst_helpers.train.precision import choose_precision, resolve_precision, with_precision

if TYPE_CHECKING:  # TensorFlow is imported when the engine runs
    import tensorflow as tf

#: Names re-exported from the modules that import TensorFlow, loaded on first use.
_LAZY = {"compute_targets": "steps", "preserve_color": "images", "initial_image": "images"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'nst_helpers.train' has no attribute {name!r}")
    return getattr(importlib.import_module(f"nst_helpers.train.{_LAZY[name]}"), name)


__all__ = [
    "LossHistory",
    "Plan",
    "RecordFrames",
    "SaveSnapshots",
    "StepInfo",
    "StylizeOptions",
    "StylizeResult",
    "choose_precision",
    "compute_targets",
    "plot_history",
    "preserve_color",
    "stylize",
    "with_precision",
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
        plan: the ``Plan`` the run followed (scales, steps, style-layer weights).
        precision: the number format the network computed in ("float32", "bfloat16",
            "float16"); ``precision_reason`` says why (e.g. "auto: CPU with amx_bf16").
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
    plan: Plan
    precision: str
    precision_reason: str


def _feature_extractor_for(options, feature_extractor, vgg, weights):
    """The options to run with and the feature extractor, at full precision (one place).

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


def _at_precision(extractor, requested: str):
    """``(extractor at the chosen precision, precision, reason)``."""
    precision, reason = resolve_precision(requested)
    if precision != "float32" and getattr(extractor, "model", None) is None:
        if requested == "auto":  # a custom extractor: keep it as it is
            return extractor, "float32", "auto: custom feature extractor, run as given"
        raise ValueError(
            f"precision={requested!r} needs a Keras-based feature extractor (with .model); "
            "use precision='float32' or 'auto' with a custom one."
        )
    try:
        return with_precision(extractor, precision), precision, reason
    except (ValueError, TypeError, NotImplementedError) as error:
        if requested != "auto":
            raise ValueError(f"precision={requested!r}: {error}") from None
        # e.g. a network with custom layers that Keras cannot clone: run it as given
        return extractor, "float32", f"auto: this feature extractor stays float32 ({error})"


def _style_channels(extractor, style_names) -> dict[str, int]:
    """Each style layer's channel count: from the Keras model, else from a tiny probe image."""
    import tensorflow as tf

    model = getattr(extractor, "model", None)
    names = getattr(extractor, "layer_names", None)
    if model is not None and names is not None:
        outputs = dict(zip(names, model.outputs, strict=True))
        if all(name in outputs for name in style_names):
            return {name: int(outputs[name].shape[-1]) for name in style_names}
    activations = extractor(tf.fill((1, 32, 32, 3), 0.5))
    return {name: int(activations[name].shape[-1]) for name in style_names}


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

    from nst_helpers.train.images import as_image
    from nst_helpers.train.steps import default_jit_compile

    options = make_options(options, **option_overrides)
    callbacks = list(callbacks) if not callable(callbacks) else None
    if callbacks is None or not all(callable(callback) for callback in callbacks):
        raise ValueError("callbacks must be a list of callables, e.g. [RecordFrames(every=10)].")
    started = time.perf_counter()
    content_full = as_image(content_image, "content_image")
    style_full = as_image(style_image, "style_image")
    options, extractor = _feature_extractor_for(options, feature_extractor, vgg, weights)
    extractor, precision, reason = _at_precision(extractor, options.precision)
    style_names = [name for name, _ in options.style_layers]
    plan = make_plan(
        options, tuple(int(d) for d in content_full.shape[1:3]),
        _style_channels(extractor, style_names), precision, reason,
    )  # fmt: skip
    jit_compile = default_jit_compile() if options.jit_compile is None else options.jit_compile
    run = _Run(options, plan, history=LossHistory())
    bar = _progress_bar(tqdm, plan, progress)
    try:
        for scale_index in range(len(plan.scales)):
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


def _progress_bar(tqdm, plan: Plan, progress: bool):
    """A bar counting work in full-size steps (its ETA holds across scales); says the precision."""
    sizes = " → ".join(f"{s.size[1]}x{s.size[0]}" for s in plan.scales)
    bar = tqdm(
        total=round(plan.work_total, 2), disable=not progress, file=sys.stderr,
        desc=f"stylize [{plan.precision}]",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}",
    )  # fmt: skip
    if progress:
        bar.write(
            f"stylize: precision {plan.precision} ({plan.precision_reason}); {plan.steps_total} "
            f"steps at {sizes} px = {plan.work_total:.0f} full-size steps of work",
            file=sys.stderr,
        )
    return bar


@dataclasses.dataclass
class _Run:
    """The mutable state of one ``stylize`` call, across scales."""

    options: StylizeOptions
    plan: Plan
    history: LossHistory
    image: object = None  # tf.Tensor
    best: object = None
    last_good: object = None
    best_loss: float = math.inf
    steps_done: int = 0
    work_done: float = 0.0
    reference_total: float = math.nan
    stop_reason: str | None = None
    interrupted: bool = False
    optimise_started: float | None = None
    timings: dict = dataclasses.field(
        default_factory=lambda: {"setup": 0.0, "first_steps": [], "seconds_per_step": None}
    )


def _prepare_scale(run: _Run, scale_index, extractor, content_full, style_full, jit_compile):
    """Targets, loss function and optimiser state for one scale (targets computed once here)."""
    from nst_helpers.images import resize_image
    from nst_helpers.train import steps
    from nst_helpers.train.images import cover_resize, initial_image

    options, plan = run.options, run.plan
    size = plan.scales[scale_index].size
    setup_started = time.perf_counter()
    content = resize_image(content_full, size)
    style_names = [name for name, _ in plan.style_layers]
    style = cover_resize(style_full, size)
    targets = steps.compute_targets(extractor, content, style, options.content_layer, style_names)
    loss_function = steps.make_loss_function(
        extractor, options.content_layer, plan.style_layers, options.alpha, options.beta,
        options.tv_weight,
    )  # fmt: skip
    first_image = initial_image(content, options.init, options.noise_amount, options.seed)
    if run.image is None:
        start = first_image
        run.reference_total = math.nan  # the first step measures it
    else:
        start = resize_image(run.image, size)
        run.reference_total = float(loss_function(first_image, targets)["total"])
    run.timings["setup"] += time.perf_counter() - setup_started
    if run.optimise_started is None:
        run.optimise_started = time.perf_counter()
    state_class = steps.AdamRun if options.optimizer == "adam" else steps.LbfgsRun
    return state_class(start, targets, loss_function, options, jit_compile, plan.precision)


def _relative(losses: dict, options: StylizeOptions, reference_total: float) -> dict:
    """The weighted costs over the starting image's total at this scale (NaN if it is 0)."""
    usable = math.isfinite(reference_total) and reference_total > 0
    weighted = {
        "content": options.alpha * losses["content"],
        "style": options.beta * losses["style"],
        "tv": options.tv_weight * losses["tv"],
        "total": losses["total"],
    }
    return {
        name: value / reference_total if usable else math.nan for name, value in weighted.items()
    }


def _optimise_scale(run: _Run, scale_index: int, state, callbacks, bar, scale_started) -> None:
    """Run one scale's steps; stop on a non-finite loss or when L-BFGS has converged."""
    scale = run.plan.scales[scale_index]
    step_work = run.plan.step_work(scale_index)
    for step_in_scale in range(scale.steps):
        losses = state.step()
        if step_in_scale == 0 and math.isnan(run.reference_total):
            run.reference_total = losses["total"]  # the loss of the starting image itself
        run.steps_done += 1
        run.work_done += step_work
        elapsed = time.perf_counter() - run.optimise_started
        relative = _relative(losses, run.options, run.reference_total)
        run.history.append(losses, scale_index, scale.size, elapsed, relative, run.work_done)
        if step_in_scale == 0:  # includes the targets, tracing and compiling
            run.timings["first_steps"].append(time.perf_counter() - scale_started)
        run.image, run.best, run.last_good, run.best_loss = state.images()
        bar.update(min(step_work, bar.total - bar.n) if bar.total else step_work)
        bar.set_postfix_str(
            f"step {run.steps_done}/{run.plan.steps_total} at {scale.size[1]}x{scale.size[0]}, "
            f"loss {100 * relative['total']:.1f}% of start",
            refresh=False,
        )
        if not math.isfinite(losses["total"]) or state.stop_reason:
            run.stop_reason = state.stop_reason or (
                f"the loss became {losses['total']} at step {run.steps_done}; stopped and kept "
                "the last image whose loss was finite. Lower the learning rate or check the "
                "input images."
            )
            run.image = run.last_good
            return
        info = StepInfo(
            run.steps_done, run.plan.steps_total, scale_index, len(run.plan.scales), scale.size,
            losses, run.image, elapsed,
        )  # fmt: skip
        for callback in callbacks:
            callback(info)


def _result(run: _Run, content_full, weights_label: str) -> StylizeResult:
    import tensorflow as tf

    from nst_helpers.images import resize_image
    from nst_helpers.train.images import initial_image, preserve_color

    options, history, plan = run.options, run.history, run.plan
    final_index = len(plan.scales) - 1
    final_size = plan.scales[-1].size
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
        first_content = resize_image(content_full, plan.scales[0].size)
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
        plan=plan,
        precision=plan.precision,
        precision_reason=plan.precision_reason,
    )
