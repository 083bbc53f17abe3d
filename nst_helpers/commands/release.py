"""``nst release``: write the student notebooks from the solution notebooks.

``--check`` writes nothing and fails when a student notebook in ``--out`` is missing or
differs from what a release would write (for CI).
"""

from __future__ import annotations

import argparse
import sys

HELP = "Make the student notebooks from the solution notebooks."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        default="notebooks/solutions",
        help="folder of solution notebooks (default: notebooks/solutions)",
    )
    parser.add_argument(
        "--out", default="notebooks", help="folder for the student notebooks (default: notebooks)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the student notebooks are not what a release makes",
    )


def run(args) -> int:
    from nst_helpers.release import release, stale_notebooks

    try:
        if args.check:
            stale = stale_notebooks(args.source, args.out)
            if stale:
                print(
                    f"nst release: out of date in {args.out}: {', '.join(stale)}. "
                    f"Run `nst release --source {args.source} --out {args.out}`.",
                    file=sys.stderr,
                )
                return 1
            print(f"Student notebooks in {args.out} are up to date.")
            return 0
        written = release(args.source, args.out)
    except (OSError, ValueError) as error:
        print(f"nst release: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0
