"""Make the figures of docs/stylize.md ("Before and after"): docs/*.jpg.

    python docs/make_figures.py                       # offline features (as committed)
    python docs/make_figures.py --weights imagenet    # the real thing (needs the weights)
    python docs/make_figures.py --only offline        # just the offline-features panel

``offline_features.jpg`` puts, for two styles, the content, the style, the random-weight
VGG19 stand-in and the offline features side by side (the same engine, image size, steps
and scales; each network with its recommended settings), and prints each run's time per
step, measured interleaved in the same run, with the ratio. The other figures compare
one option of ``nst_helpers.train.stylize`` with it off and on, at the same number of
steps, and say which network made them. Neither the stand-in nor the offline features
is VGG19 with ImageNet weights: the captions say so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
FIGURES = ("offline", "multiscale", "shallow_weighting", "lbfgs_vs_adam", "preserve_color")


def _panel_figure(panels, suptitle, path, columns=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    columns = columns or len(panels)
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 3.0 * rows), squeeze=False)
    for axis, (title, image) in zip(axes.flat, panels, strict=True):
        if hasattr(image, "plot_lines"):
            image.plot_lines(axis)
            axis.set_title(title, fontsize=8)
            continue
        axis.imshow(np.clip(np.asarray(image)[0], 0, 1))
        axis.set_title(title, fontsize=8)
        axis.axis("off")
    figure.suptitle(suptitle, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=80, pil_kwargs={"quality": 85})
    plt.close(figure)
    print(path)


class _Curves:
    """A panel that plots loss curves instead of an image."""

    def __init__(self, curves):
        self.curves = curves

    def plot_lines(self, axis):
        for label, values in self.curves:
            axis.plot(range(1, len(values) + 1), values, label=label)
        axis.set_yscale("log")
        axis.set_xlabel("step", fontsize=8)
        axis.legend(fontsize=7)
        axis.tick_params(labelsize=7)


def _quiet_load(weights):
    from nst_helpers.vgg import load_vgg19

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the label below says which network it is
        return load_vgg19(weights)


def _network_label(network) -> str:
    if getattr(network, "is_offline_features", False):
        return "offline features: not VGG19, NOT ImageNet quality"
    if network.is_stand_in:
        return "stand-in VGG19 (random weights), NOT ImageNet quality"
    return "ImageNet VGG19"


def offline_panel(content_name, styles, size, steps, scales, repeats):
    """Content, style, random stand-in and offline features for each style; interleaved timing."""
    from nst_helpers.images import load_image
    from nst_helpers.samples import sample_pair
    from nst_helpers.train import stylize

    networks = {"random": _quiet_load("random"), "offline": _quiet_load("offline")}
    seconds_per_step = {name: [] for name in networks}
    panels = []
    for style_name in styles:
        content_path, style_path = sample_pair(content_name, style_name)
        content, style = load_image(content_path), load_image(style_path)
        results = {}
        for repeat in range(repeats):
            for name, network in networks.items():  # interleaved: same load on both
                started = time.perf_counter()
                result = stylize(content, style, vgg=network, image_size=size, steps=steps,
                                 scales=scales, progress=False)  # fmt: skip
                total = time.perf_counter() - started
                per_step = result.timings["seconds_per_step"]
                seconds_per_step[name].append(per_step)
                print(f"{style_name} {name} run {repeat + 1}: {total:.1f} s in all, "
                      f"{per_step:.3f} s per step at {size} px "
                      f"(alpha {result.options.alpha:g}, beta {result.options.beta:g}, "
                      f"content {result.options.content_layer})", flush=True)  # fmt: skip
                results[name] = (result, total)
        (random_result, random_seconds), (offline_result, offline_seconds) = (
            results["random"], results["offline"])  # fmt: skip
        panels += [
            (f"content ({content_path.stem})", content),
            (f"style ({style_path.stem})", style),
            (f"random VGG19 stand-in\n{random_seconds:.0f} s", random_result.image),
            (f"offline features\n{offline_seconds:.0f} s", offline_result.image),
        ]
    median = {name: statistics.median(values) for name, values in seconds_per_step.items()}
    ratio = median["offline"] / median["random"]
    print(f"median seconds per step at {size} px, interleaved: random stand-in "
          f"{median['random']:.3f}, offline features {median['offline']:.3f} "
          f"(ratio {ratio:.2f})")  # fmt: skip
    _panel_figure(
        panels,
        f"Without ImageNet weights: the random VGG19 stand-in against the offline features "
        f"(not VGG19)\n{size} px, {steps} steps, {scales} scale{'s' if scales != 1 else ''}, each with its recommended "
        f"settings; offline takes {ratio:.2f}x the stand-in's time per step",
        DOCS / "offline_features.jpg",
        columns=4,
    )


def option_figures(weights, size, steps, only):
    from nst_helpers.images import load_image
    from nst_helpers.samples import sample_pair
    from nst_helpers.train import stylize

    network = _quiet_load(weights)
    label = _network_label(network)
    content_path, style_path = sample_pair("chelsea", "stained_glass")
    content, style = load_image(content_path), load_image(style_path)

    def run(**options):
        settings = {"image_size": size, "steps": steps, "progress": False}
        settings.update(options)
        return stylize(content, style, vgg=network, **settings)

    def caption(name, result):
        return f"{name}\n{result.timings['total']:.0f} s, final loss {result.history.total[-1]:.3g}"

    if "multiscale" in only:
        single, multi = run(scales=1), run(scales=3)
        _panel_figure(
            [("content", content), ("style", style),
             (caption("single scale", single), single.image),
             (caption("3 scales, coarse to fine", multi), multi.image)],
            f"Coarse-to-fine: same {steps} steps, most of them at low resolution ({label})",
            DOCS / "multiscale.jpg",
        )  # fmt: skip
    if "shallow_weighting" in only:
        uniform = run(style_layer_weighting="uniform")
        shallow = run(style_layer_weighting="shallow")
        _panel_figure(
            [("content", content), ("style", style),
             (caption("uniform style weights (0.2 each)", uniform), uniform.image),
             (caption("shallow-weighted (∝ 1/n_C²)", shallow), shallow.image)],
            f"Style-layer weighting ({label})",
            DOCS / "shallow_weighting.jpg",
        )  # fmt: skip
    if "lbfgs_vs_adam" in only:
        adam, lbfgs = run(scales=1, steps=60), run(scales=1, steps=60, optimizer="lbfgs")
        _panel_figure(
            [("content", content), (caption("Adam, 60 steps", adam), adam.image),
             (caption("L-BFGS, 60 steps", lbfgs), lbfgs.image),
             ("total loss", _Curves([("Adam", adam.history.total),
                                     ("L-BFGS", lbfgs.history.total)]))],
            f"L-BFGS beside Adam, single scale ({label})",
            DOCS / "lbfgs_vs_adam.jpg",
        )  # fmt: skip
    if "preserve_color" in only:
        plain, kept = run(), run(preserve_color=True)
        _panel_figure(
            [("content", content), ("style", style), ("stylised", plain.image),
             ("colour preserved (luminance only)", kept.image)],
            f"Colour preservation, a post-processing step ({label})",
            DOCS / "preserve_color.jpg",
        )  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", default="offline", help="for the option figures")
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--panel-size", type=int, default=192)
    parser.add_argument("--panel-steps", type=int, default=200)
    parser.add_argument("--panel-scales", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per network and style")
    parser.add_argument("--only", nargs="+", choices=FIGURES, default=list(FIGURES))
    args = parser.parse_args(argv)
    if "offline" in args.only:
        offline_panel("chelsea", ("stained_glass", "swirls"), args.panel_size,
                      args.panel_steps, args.panel_scales, args.repeats)  # fmt: skip
    option_figures(args.weights, args.size, args.steps, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
