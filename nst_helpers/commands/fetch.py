"""``nst fetch weights|images``: download the VGG19 weights or pinned paintings, hash-checked.

``nst fetch weights [--to DIR] [--sha256 HEX]`` puts the ImageNet VGG19 no-top weights
into Keras' cache (``$KERAS_HOME/models`` or ``~/.keras/models``) or DIR, checked
against Keras' published md5 (and the sha256 if you pin one). ``nst fetch images
[--to DIR] [--list FILE]`` downloads sha256-pinned public-domain paintings (none are
pinned in this release: see ``nst_helpers.fetch``). The downloaded paths go to stdout;
a failure prints one line on stderr and exits with status 1 (2 for a usage error).
The download code itself is ``nst_helpers.fetch``.
"""

from __future__ import annotations

import argparse
import sys

HELP = "Download the ImageNet VGG19 weights or the optional paintings (hash-checked)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=("weights", "images"), help="what to download")
    parser.add_argument("--to", default=None, metavar="DIR", help="the folder to download into")
    parser.add_argument(
        "--sha256", default=None, help="weights: also require this sha256 (Keras publishes none)"
    )
    parser.add_argument("--url", default=None, help="weights: download from this URL instead")
    parser.add_argument(
        "--list", default=None, metavar="FILE",
        help="images: a JSON list of {url, file_name, sha256, licence, description}",
    )  # fmt: skip


def _fail(message, status: int) -> int:
    print(f"nst fetch: error: {' '.join(str(message).split())}", file=sys.stderr)
    return status


def run(args) -> int:
    from nst_helpers import fetch
    from nst_helpers.vgg import project_data_dir

    try:
        if args.what == "weights":
            if args.list:
                raise ValueError("--list is for `nst fetch images`.")
            options = {"sha256": args.sha256}
            if args.url:
                options["url"] = args.url
            paths = [fetch.fetch_weights(args.to, **options)]
        else:
            if args.sha256 or args.url:
                raise ValueError("--sha256 and --url are for `nst fetch weights`.")
            pinned = fetch.read_pinned_list(args.list) if args.list else fetch.PAINTINGS
            if not pinned:
                print(
                    "nst fetch: no paintings are pinned in this release (their sha256 hashes "
                    "could not be verified when it was made); pass --list FILE with your own "
                    "sha256-pinned entries. The bundled images are in data/.",
                    file=sys.stderr,
                )
                return 0
            paths = fetch.fetch_images(args.to or project_data_dir() / "paintings", pinned)
    except ValueError as error:
        return _fail(error, 2)
    except (fetch.DownloadError, OSError) as error:
        return _fail(error, 1)
    for path in paths:
        print(path)
    return 0
