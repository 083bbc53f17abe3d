"""Make the before/after figures of README section "stylize" (docs/*.jpg).

    python docs/make_figures.py                       # the offline stand-in (as committed)
    python docs/make_figures.py --weights imagenet    # the real thing (needs the weights)

Each figure compares one option of ``nst_helpers.train.stylize`` with it off and on, at
the same number of steps, and says which weights made it. With the stand-in (random
VGG19 features) the pictures show what each option does mechanically (sizes, speed,
loss, colour), not what ImageNet-quality style transfer looks like.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def _panel_figure(panels, suptitle, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 3.0))
    for axis, (title, image) in zip(axes, panels, strict=True):
        if hasattr(image, "plot_lines"):
            image.plot_lines(axis)
            axis.set_title(title, fontsize=8)
            continue
        axis.imshow(np.clip(np.asarray(image)[0], 0, 1))
        axis.set_title(title, fontsize=8)
        axis.axis("off")
    figure.suptitle(suptitle, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=80, pil_kwargs={"quality": 80})
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", default="random")
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args(argv)

    from nst_helpers.images import load_image
    from nst_helpers.samples import sample_pair
    from nst_helpers.train import stylize
    from nst_helpers.vgg import load_vgg19

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vgg = load_vgg19(args.weights)
    label = "stand-in VGG19 (random weights), NOT ImageNet quality" if vgg.is_stand_in else (
        "ImageNet VGG19")  # fmt: skip
    content_path, style_path = sample_pair("chelsea", "brush_strokes")
    content, style = load_image(content_path), load_image(style_path)

    def run(**options):
        settings = {"image_size": args.size, "steps": args.steps, "progress": False}
        settings.update(options)
        return stylize(content, style, vgg=vgg, **settings)

    def caption(name, result):
        return f"{name}\n{result.timings['total']:.0f} s, final loss {result.history.total[-1]:.3g}"

    single, multi = run(scales=1), run(scales=3)
    _panel_figure(
        [("content", content), ("style", style), (caption("single scale", single), single.image),
         (caption("3 scales, coarse to fine", multi), multi.image)],
        f"Coarse-to-fine: same {args.steps} steps, most of them at low resolution ({label})",
        DOCS / "multiscale.jpg",
    )  # fmt: skip
    uniform, shallow = run(style_layer_weighting="uniform"), run(style_layer_weighting="shallow")
    _panel_figure(
        [("content", content), ("style", style),
         (caption("uniform style weights (0.2 each)", uniform), uniform.image),
         (caption("shallow-weighted (∝ 1/n_C²)", shallow), shallow.image)],
        f"Style-layer weighting ({label})",
        DOCS / "shallow_weighting.jpg",
    )  # fmt: skip
    adam, lbfgs = run(scales=1, steps=60), run(scales=1, steps=60, optimizer="lbfgs")
    _panel_figure(
        [("content", content), (caption("Adam, 60 steps", adam), adam.image),
         (caption("L-BFGS, 60 steps", lbfgs), lbfgs.image),
         ("total loss", _Curves([("Adam", adam.history.total), ("L-BFGS", lbfgs.history.total)]))],
        f"L-BFGS beside Adam, single scale ({label})",
        DOCS / "lbfgs_vs_adam.jpg",
    )  # fmt: skip
    plain, kept = run(), run(preserve_color=True)
    _panel_figure(
        [("content", content), ("style", style), ("stylised", plain.image),
         ("colour preserved (luminance only)", kept.image)],
        f"Colour preservation, a post-processing step ({label})",
        DOCS / "preserve_color.jpg",
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
