"""``nst validate``: check a notebook before submitting; ``--invert`` for a student release.

Argument parsing and printing only; the work is in ``nst_helpers.grading.validate``.
"""

from __future__ import annotations

import argparse
import sys

from nst_helpers.grading.runner import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT

HELP = "Check a notebook before submitting (--invert: the release must fail)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="notebooks or folders")
    parser.add_argument(
        "--invert",
        action="store_true",
        help="for instructors: succeed only if every graded function FAILS (the untouched "
        "student release must not earn points)",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB)
    parser.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "none"),
        default="auto",
        help="where the notebook's code runs: bubblewrap when installed (auto), or none",
    )


def run(args) -> int:
    from nst_helpers.grading.runner import Limits, SandboxPool
    from nst_helpers.grading.sandbox import SandboxUnavailable
    from nst_helpers.grading.validate import (
        NO_SANDBOX_NOTE,
        choose_sandbox,
        summary_lines,
        validate,
    )

    limits = Limits(timeout=args.timeout, memory_mb=args.memory_mb, threads=0)
    try:
        mode = choose_sandbox(args.sandbox)
    except SandboxUnavailable as error:
        print(f"nst validate: error: {error}", file=sys.stderr)
        return 2
    all_ok, checked_by_path = True, []
    with SandboxPool(mode, limits) as pool:
        for path in args.notebooks:
            try:
                lines, ok, checked = validate(
                    path,
                    invert=args.invert,
                    limits=limits,
                    pool=pool,
                    list_missing=len(args.notebooks) == 1,
                )
            except ValueError as error:
                print(f"nst validate: {error}", file=sys.stderr)
                return 2
            print("\n".join(lines))
            all_ok = all_ok and ok
            checked_by_path.append(checked)
    if len(args.notebooks) > 1:
        print("\n".join(summary_lines(checked_by_path, args.invert)))
    if mode == "none":
        print(NO_SANDBOX_NOTE)
    return 0 if all_ok else 1
