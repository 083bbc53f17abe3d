"""``nst grade``: auto-grade student notebooks into a gradebook and per-student feedback.

Argument parsing and printing only; the work is in ``nst_helpers.grading.pipeline``.
"""

from __future__ import annotations

import argparse
import signal
import sys

from nst_helpers.grading.runner import DEFAULT_BUDGET, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT

HELP = "Auto-grade student notebooks into a gradebook and feedback."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "submissions",
        nargs="*",
        metavar="SUBMISSION",
        help="a student notebook, a student's folder of notebooks, or a folder of student "
        "folders (one submission per sub-folder)",
    )
    parser.add_argument("--out", default="graded", help="output folder (default: ./graded)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds each graded function may run (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=DEFAULT_MEMORY_MB,
        help=f"address-space limit of the child process in MB (default {DEFAULT_MEMORY_MB}; "
        "0 = none, needed with CUDA)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET,
        help=f"seconds all the graded functions of one submission may take together "
        f"(default {DEFAULT_BUDGET:g})",
    )
    parser.add_argument(
        "--sandbox",
        choices=("bwrap", "none"),
        default="bwrap",
        help="bwrap (default): every graded function runs in a bubblewrap sandbox; none: no "
        "sandbox, for code you trust (the gradebook and every report say so)",
    )
    parser.add_argument("--rubric", help="rubric JSON file (default: from the course's registry)")
    parser.add_argument("--force", action="store_true", help="grade again what was graded")
    parser.add_argument("--html", action="store_true", help="also write feedback.html")
    parser.add_argument(
        "--show-rubric", action="store_true", help="print the default rubric and exit"
    )


def run(args) -> int:
    from nst_helpers.grading.pipeline import GradeOptions, grade_submissions
    from nst_helpers.grading.rubric import default_rubric_text, load_rubric
    from nst_helpers.grading.runner import Limits

    if args.show_rubric:
        print(default_rubric_text(), end="")
        return 0
    if not args.submissions:
        print("nst grade: give at least one SUBMISSION (a notebook or a folder).", file=sys.stderr)
        return 2
    checks = (
        ("--jobs", args.jobs, 1),
        ("--timeout", args.timeout, 0.1),
        ("--budget", args.budget, 0.1),
    )
    for name, value, low in checks:
        if value < low:
            print(f"nst grade: error: {name} must be at least {low}, got {value}.", file=sys.stderr)
            return 2
    if args.memory_mb < 0:
        print("nst grade: --memory-mb must be 0 (no limit) or positive.", file=sys.stderr)
        return 2
    try:
        rubric = load_rubric(args.rubric)
        options = GradeOptions(
            out_dir=args.out,
            rubric=rubric,
            limits=Limits(
                timeout=args.timeout, memory_mb=args.memory_mb, threads=1, budget=args.budget
            ),
            jobs=args.jobs,
            force=args.force,
            html=args.html,
            sandbox=args.sandbox,
        )
        with _interrupt_on_terminate():
            summary = grade_submissions(args.submissions, options)
    except ValueError as error:
        print(f"nst grade: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        code = 143 if "SIGTERM" in str(interrupt) else 130
        print(
            "nst grade: interrupted: every sandbox was stopped; the submissions being graded "
            "have no new report (a rerun grades them).",
            file=sys.stderr,
        )
        return code
    print(
        f"Graded {len(summary['graded'])}, skipped {len(summary['skipped'])} already graded. "
        f"Gradebook: {args.out}/grades.csv"
    )
    if summary["failed"]:
        print(
            f"nst grade: NOT graded because of grader errors (see above and {args.out}/logs; "
            f"they are not in the gradebook and a rerun grades them): "
            f"{', '.join(summary['failed'])}",
            file=sys.stderr,
        )
        return 1
    return 0


class _interrupt_on_terminate:
    """SIGTERM (and SIGINT) stop grading like Ctrl-C: ``KeyboardInterrupt`` in this thread,
    so that every sandbox is killed and temporary folders are removed."""

    def __enter__(self):
        def handler(number, frame):
            raise KeyboardInterrupt(signal.Signals(number).name)

        self.previous = {}
        for number in (signal.SIGTERM, signal.SIGINT):
            try:
                self.previous[number] = signal.signal(number, handler)
            except ValueError:  # not the main thread: leave the signals alone
                pass
        return self

    def __exit__(self, *exc_info):
        for number, previous in self.previous.items():
            signal.signal(number, previous)
