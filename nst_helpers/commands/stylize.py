"""``nst stylize CONTENT STYLE -o OUT.png``: stylise a photo from the command line.

Progress goes to stderr, the path of the written image to stdout; the exit status is 0
only when the image was made. Problems a user can fix (a missing or unreadable image,
an impossible size, missing weights, a bad option) give one line on stderr and exit
status 2, without a traceback. Ctrl-C saves the best image so far and exits with 130;
a run stopped by a non-finite loss saves the last good image and exits with 1.
The engine itself is ``nst_helpers.train``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from pathlib import Path

HELP = "Stylise a photo with a style image."
USER_ERROR = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("content", nargs="?", help="the photograph to stylise")
    parser.add_argument("style", nargs="?", help="the style image (a painting, a pattern)")
    parser.add_argument("-o", "--output", help="where to write the result (.png, .jpg, ...)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the bundled sample images (data/content, data/style)",
    )
    parser.add_argument("--size", type=int, default=None, help="longest side in pixels (384)")
    parser.add_argument("--steps", type=int, default=None, help="steps in total, all scales (300)")
    parser.add_argument(
        "--weights", default=None,
        help="VGG19 weights: imagenet, random (the offline stand-in) or a path to the .h5 file "
        "(default: $NST_VGG19_WEIGHTS, else imagenet)",
    )  # fmt: skip
    parser.add_argument(
        "--save-every", type=int, default=None, metavar="K",
        help="also save the image every K steps into OUTPUT_snapshots/",
    )  # fmt: skip
    parser.add_argument(
        "--scales", type=_scales, default=None,
        help="coarse-to-fine: a number of scales (3; 1=off) or sizes, e.g. 128,256,384",
    )  # fmt: skip
    parser.add_argument("--optimizer", choices=("adam", "lbfgs"), default=None)
    parser.add_argument("--learning-rate", type=float, default=None, help="Adam's (0.02)")
    parser.add_argument("--init", choices=("content", "noise", "mix"), default=None)
    parser.add_argument("--seed", type=int, default=None, help="seed of the initial noise")
    parser.add_argument("--alpha", type=float, default=None, help="content weight (10)")
    parser.add_argument("--beta", type=float, default=None, help="style weight (40)")
    parser.add_argument("--tv-weight", type=float, default=None, help="total variation (0)")
    parser.add_argument(
        "--style-weighting", choices=("shallow", "uniform"), default=None,
        help="shallow: favour the shallow style layers (default); uniform: the classic 0.2 each",
    )  # fmt: skip
    parser.add_argument("--content-layer", default=None, help="VGG19 layer (block4_conv2)")
    parser.add_argument(
        "--preserve-color", action="store_true", help="keep the photo's colours (luminance only)"
    )
    parser.add_argument("--xla", action=argparse.BooleanOptionalAction, default=None,
                        help="compile the step with XLA (default: only on a GPU)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _scales(text: str):
    """``--scales``: a whole number of scales, or comma-separated sizes ending at --size."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a number of scales nor sizes like 128,256,384"
        ) from None
    return sizes[0] if len(sizes) == 1 and "," not in text else sizes


#: command-line name -> StylizeOptions field
OPTION_FIELDS = {
    "size": "image_size", "steps": "steps", "scales": "scales", "optimizer": "optimizer",
    "learning_rate": "learning_rate", "init": "init", "seed": "seed", "alpha": "alpha",
    "beta": "beta", "tv_weight": "tv_weight", "style_weighting": "style_layer_weighting",
    "content_layer": "content_layer", "xla": "jit_compile",
}  # fmt: skip


def _fail(message: str) -> int:
    one_line = " ".join(str(message).split())
    print(f"nst stylize: error: {one_line}", file=sys.stderr)
    return USER_ERROR


def _inputs(args) -> tuple[Path, Path, Path]:
    """The content, style and output paths, or ValueError saying what is missing."""
    from nst_helpers.images import SAVE_FORMATS

    if args.demo:
        from nst_helpers.samples import sample_pair

        content, style = sample_pair()
        if args.content or args.style:
            raise ValueError("--demo uses the bundled images: give no CONTENT or STYLE with it.")
        output = Path(args.output or "stylized_demo.png")
    else:
        if not (args.content and args.style):
            raise ValueError("give CONTENT and STYLE image files (or --demo for the samples).")
        if not args.output:
            raise ValueError("give the output file with -o OUT.png.")
        content, style, output = Path(args.content), Path(args.style), Path(args.output)
    if output.suffix.lower() not in SAVE_FORMATS:
        raise ValueError(
            f"{output}: unknown image extension {output.suffix!r}; use one of "
            f"{', '.join(sorted(SAVE_FORMATS))}."
        )
    for path in (content, style):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file. Check the path and the file name.")
        if output.resolve() == path.resolve():
            raise ValueError(f"-o {output} would overwrite an input image; choose another file.")
    return content, style, output


def run(args) -> int:
    try:
        content_path, style_path, output = _inputs(args)
        from nst_helpers.train.options import make_options

        overrides = {
            field: getattr(args, name)
            for name, field in OPTION_FIELDS.items()
            if getattr(args, name) is not None
        }
        options = make_options(preserve_color=args.preserve_color, **overrides)
        if args.save_every is not None and args.save_every < 1:
            raise ValueError(f"--save-every must be a whole number >= 1, got {args.save_every}.")
    except (ValueError, FileNotFoundError) as error:
        return _fail(error)
    return _stylize(args, options, content_path, style_path, output)


def _stylize(args, options, content_path, style_path, output) -> int:
    from nst_helpers.images import ImageError, load_image, save_image
    from nst_helpers.train import SaveSnapshots, stylize
    from nst_helpers.vgg import WeightsFileError, WeightsNotFoundError, load_vgg19

    try:
        content = load_image(content_path, max_size=options.image_size)
        style = load_image(style_path, max_size=2 * options.image_size)
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            # Keras reports downloads on stdout; stdout is kept for the result's path.
            warnings.simplefilter("ignore", UserWarning)  # the stand-in's warning: said below
            vgg = load_vgg19(args.weights, seed=0)
    except WeightsNotFoundError:
        return _fail(
            "the ImageNet VGG19 weights are not on this machine and could not be downloaded: "
            "run `nst fetch weights` where there is internet, or pass --weights "
            "/path/to/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, or --weights random "
            "for the offline stand-in."
        )
    except (ImageError, WeightsFileError, FileNotFoundError, ValueError) as error:
        return _fail(error)
    if getattr(vgg, "is_stand_in", False):
        print(f"nst stylize: note: {vgg.weights_label}; the picture is not ImageNet quality.",
              file=sys.stderr)  # fmt: skip
    callbacks = []
    if args.save_every:
        snapshots = output.with_name(output.stem + "_snapshots")
        callbacks.append(SaveSnapshots(snapshots, every=args.save_every))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the stop reason is printed below
            result = stylize(content, style, options, vgg=vgg, callbacks=callbacks,
                             progress=not args.quiet)  # fmt: skip
    except ValueError as error:
        return _fail(error)
    picture = result.best_image if result.interrupted else result.image
    try:
        save_image(picture, output)
    except (OSError, ValueError) as error:
        return _fail(f"{output}: could not save the image ({error}).")
    print(str(output))
    if result.interrupted:
        print(f"nst stylize: {result.stop_reason} Saved it to {output}.", file=sys.stderr)
        return 130
    if result.stop_reason and result.steps_completed < options.steps:
        if not result.stop_reason.startswith("L-BFGS"):
            print(f"nst stylize: error: {result.stop_reason}", file=sys.stderr)
            return 1
    seconds = result.timings["total"]
    print(f"nst stylize: {result.steps_completed} steps in {seconds:.1f} s; wrote {output}.",
          file=sys.stderr)  # fmt: skip
    return 0
