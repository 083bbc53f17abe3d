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
import os
import sys
import warnings
from pathlib import Path

HELP = "Stylise a photo with a style image."
USER_ERROR = 2
GROUP_TITLES = {
    "basic": "basic options",
    "optimisation": "optimisation options",
    "layers": "layers and weights",
    "output": "output options",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags: the engine's from ``StylizeOptions``' fields (default and help), and I/O."""
    from nst_helpers.train.options import GROUPS, option_fields

    groups = {name: parser.add_argument_group(GROUP_TITLES[name]) for name in GROUPS}
    basic, output = groups["basic"], groups["output"]
    basic.add_argument("content", nargs="?", help="the photograph to stylise")
    basic.add_argument("style", nargs="?", help="the style image (a painting, a pattern)")
    basic.add_argument(
        "--demo", action="store_true",
        help="use the bundled sample images (data/content, data/style)",
    )  # fmt: skip
    basic.add_argument(
        "--weights", default=None,
        help="VGG19 weights: imagenet, random (the offline stand-in) or a path to the .h5 file "
        "(default: $NST_VGG19_WEIGHTS, else imagenet)",
    )  # fmt: skip
    output.add_argument("-o", "--output", help="where to write the result (.png, .jpg, ...)")
    output.add_argument(
        "--save-every", type=int, default=None, metavar="K",
        help="also save the image every K steps into OUTPUT_snapshots/",
    )  # fmt: skip
    output.add_argument("--quiet", action="store_true", help="no progress bar")
    for field in option_fields():
        flag = field.metadata["flag"]
        if flag is None:
            continue
        help_text = f"{field.metadata['help']} (default: {_shown(field.default)})"
        settings = {"dest": field.name, "default": field.default, "help": help_text}
        settings.update(field.metadata["cli"])
        if isinstance(field.default, bool):
            settings["action"] = "store_true"
        elif field.name == "jit_compile":
            settings["action"] = argparse.BooleanOptionalAction
        else:
            settings["type"] = PARSERS.get(field.name, type(field.default))
            settings["metavar"] = field.name.upper() if "choices" not in settings else None
        groups[field.metadata["group"]].add_argument(flag, **settings)


def _shown(default) -> str:
    if default is None:
        return "auto"
    if isinstance(default, tuple):
        return ",".join(f"{name}:{weight:g}" for name, weight in default)
    return str(default)


def _scales(text: str):
    """``--scales``: a whole number of scales, or comma-separated sizes ending at --size."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a number of scales nor sizes like 128,256,384"
        ) from None
    return sizes[0] if len(sizes) == 1 and "," not in text else sizes


def _style_layers(text: str):
    """``--style-layers``: ``layer:weight`` pairs separated by commas."""
    pairs = []
    for part in text.split(","):
        name, colon, weight = part.partition(":")
        try:
            pairs.append((name.strip(), float(weight)))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not layer:weight, e.g. block1_conv1:0.5,block2_conv1:0.5"
            ) from None
        if not colon or not name.strip():
            raise argparse.ArgumentTypeError(f"{part!r} is not layer:weight")
    return pairs


#: Fields whose command-line text needs its own parser (the others: the default's type).
PARSERS = {"scales": _scales, "style_layers": _style_layers}


def _fail(message: str) -> int:
    one_line = " ".join(str(message).split())
    print(f"nst stylize: error: {one_line}", file=sys.stderr)
    return USER_ERROR


def _inputs(args) -> tuple[Path, Path, Path]:
    """The content, style and output paths, or ValueError saying what is missing.

    Loads no TensorFlow: it runs before the command imports it.
    """
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
    for path in (content, style):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file. Check the path and the file name.")
        if output.resolve() == path.resolve():
            raise ValueError(f"-o {output} would overwrite an input image; choose another file.")
    return content, style, output


def _options(args):
    from nst_helpers.train.options import make_options, option_fields

    if args.save_every is not None and args.save_every < 1:
        raise ValueError(f"--save-every must be a whole number >= 1, got {args.save_every}.")
    fields = [field.name for field in option_fields() if field.metadata["flag"]]
    return make_options(**{name: getattr(args, name) for name in fields})


#: This process trains nothing but the image, so oneDNN may keep VGG19's weights in its
#: blocked layout. Measured: 1.12× per step on an Intel Xeon with AVX-512 (issue 10), but
#: 0.87-0.90× on this project's AMD AVX2 machine (docs/performance.md), so it is set only
#: where the CPU has AVX-512. Set before TensorFlow loads and only in the ``nst stylize``
#: process itself, never in a notebook kernel; a user's own value of the variable wins.
FROZEN_WEIGHTS = {"TF_ONEDNN_ASSUME_FROZEN_WEIGHTS": "1"}


def frozen_weights_help(cpu_flags) -> bool:
    """Whether blocked (frozen) oneDNN weights were measured faster on such a CPU."""
    return "avx512f" in cpu_flags


def before_tensorflow(args) -> int | None:
    """Check the inputs and options before TensorFlow loads (seconds saved on a typo).

    Returns the exit status of a usage error, or None to go on.
    """
    try:
        _inputs(args)
        _options(args)
    except (ValueError, FileNotFoundError) as error:
        return _fail(error)
    from nst_helpers.train.precision import cpu_flags

    # Only in the `nst` process itself (not a call from Python), where it was measured faster.
    if getattr(args, "own_process", False) and frozen_weights_help(cpu_flags()):
        for name, value in FROZEN_WEIGHTS.items():
            os.environ.setdefault(name, value)
    return None


def run(args) -> int:
    try:
        content_path, style_path, output = _inputs(args)
        options = _options(args)
        from nst_helpers.images import SAVE_FORMATS

        if output.suffix.lower() not in SAVE_FORMATS:
            raise ValueError(
                f"{output}: unknown image extension {output.suffix!r}; use one of "
                f"{', '.join(sorted(SAVE_FORMATS))}."
            )
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
    print(f"nst stylize: {result.steps_completed} steps in {seconds:.1f} s ({result.precision});"
          f" wrote {output}.", file=sys.stderr)  # fmt: skip
    return 0
