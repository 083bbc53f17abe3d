"""``nst release``: write the student notebooks from the solution notebooks.

``--check`` writes nothing and exits 1 when a student notebook in ``--out`` is missing or
differs from what a release would write (for CI); a usage problem, such as a missing
solutions folder, exits 2. ``--normalise-solutions`` first puts
the solution notebooks back in their committed form after an edit in Jupyter (only the
expected outputs of ``# NBVAL_CHECK_OUTPUT`` cells kept), then releases.
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
    parser.add_argument(
        "--normalise-solutions",
        action="store_true",
        help="first strip the solution notebooks to their committed form (after editing them)",
    )


def run(args) -> int:
    from nst_helpers.course.release import normalise_solutions, release, stale_notebooks

    try:
        if args.normalise_solutions and not args.check:
            for path in normalise_solutions(args.source):
                print(f"normalised {path}")
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
    except (OSError, ValueError) as error:  # a usage problem, not a stale release: exit 2
        print(f"nst release: error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0
