"""``nst start [DIR] [--update]``: make a learner's own course folder, then say how to open it.

Copies the student notebooks and the sample images into DIR (default ``./nst-course``),
apart from the solutions, and prints the one command that opens it (``jupyter lab DIR``).
A folder that already holds course files is left alone (exit status 1, with a message);
``--update`` copies what is missing and replaces only files the learner has not changed
since they were copied. The work is ``nst_helpers.course.start``.
"""

from __future__ import annotations

import argparse
import shlex
import sys

HELP = "Copy the course notebooks and sample images into your own folder (default ./nst-course)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", nargs="?", default="nst-course", metavar="DIR", help="default: ./nst-course"
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="bring new notebooks and images into an existing folder; your changed files stay",
    )


def _listing(names: list[str]) -> str:
    notebooks = [name for name in names if name.endswith(".ipynb")]
    others = len(names) - len(notebooks)
    parts = notebooks + ([f"{others} sample file{'s' if others != 1 else ''}"] if others else [])
    return ", ".join(parts)


def run(args) -> int:
    from nst_helpers.course.start import start_course

    try:
        result = start_course(args.folder, update=args.update)
    except (OSError, ValueError) as error:
        print(f"nst start: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    folder = str(result.folder)
    open_command = f"jupyter lab {shlex.quote(folder)}"
    if result.refused:
        print(
            f"nst start: {folder} already holds the course ({_listing(result.kept)}): nothing "
            f"was changed, your work is kept. Open it with `{open_command}`; "
            f"`nst start {shlex.quote(folder)} --update` brings new notebooks without "
            "touching the ones you changed.",
            file=sys.stderr,
        )
        return 1
    if result.copied:
        print(f"Copied into {folder}: {_listing(result.copied)}.")
    if result.updated:
        print(f"Updated (you had not changed them): {_listing(result.updated)}.")
    if result.kept:
        print(
            f"Kept as you changed them (not updated): {_listing(result.kept)}. To get a new "
            "version of one, rename yours and run this command again."
        )
    if args.update and not (result.copied or result.updated):
        print(f"{folder} is up to date.")
    print(f"Open it with:\n\n    {open_command}\n")
    return 0
