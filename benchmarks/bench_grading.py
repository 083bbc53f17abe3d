"""Benchmark ``nst grade``: submissions per minute, and the cost of starting interpreters.

Grades N copies (default 50) of the solution folder (all five notebooks, so every graded
function runs, ``train_step`` included) with ``--jobs`` (default 2), exactly as
``nst grade`` does, with fresh secret seeds. In the same run it times an empty child
(a fresh ``python -I`` that imports NumPy, TensorFlow, Keras and the checks, then exits),
and prints the share of the grading children's time that such start-ups account for.

Usage: python benchmarks/bench_grading.py [--count 50] [--jobs 2]
Target (issue 5): 50 correct submissions in under 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
_EMPTY_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); import numpy, tensorflow, keras; "
    "import nst_helpers.checks"
)


def empty_child_seconds(repeats: int) -> float:
    """Mean wall time of a child that only starts and imports what the grading child imports."""
    from nst_helpers.grading.runner import child_environment

    times = []
    with tempfile.TemporaryDirectory() as work:
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-I", "-c", _EMPTY_CHILD, str(ROOT)],
                cwd=work,
                env=child_environment(work, 1),
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - started)
    return sum(times) / len(times)


def machine() -> str:
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    from nst_helpers.grading.pipeline import GradeOptions, grade_submissions
    from nst_helpers.grading.rubric import load_rubric
    from nst_helpers.grading.runner import Limits

    print(f"Machine: {machine()}")
    startup = empty_child_seconds(repeats=3)
    print(f"Empty child (start + import NumPy/TensorFlow/Keras/checks): {startup:.2f} s")
    with tempfile.TemporaryDirectory() as temporary:
        submissions = Path(temporary) / "submissions"
        for number in range(args.count):
            shutil.copytree(SOLUTIONS, submissions / f"learner{number:03d}")
        options = GradeOptions(
            out_dir=Path(temporary) / "out",
            rubric=load_rubric(),
            limits=Limits(threads=1),
            jobs=args.jobs,
        )
        started = time.perf_counter()
        summary = grade_submissions([submissions], options, progress=lambda _: None)
        wall = time.perf_counter() - started
    grades = summary["graded"]
    full = sum(1 for g in grades if g.total == g.max_total)
    child_seconds = sum(g.seconds for g in grades)
    share = len(grades) * startup / child_seconds if child_seconds else float("nan")
    print(
        f"Graded {len(grades)} submissions (5 functions each; {full} with full marks) "
        f"with --jobs {args.jobs} in {wall:.1f} s: {60 * len(grades) / wall:.1f} submissions "
        f"per minute, {child_seconds / max(1, len(grades)):.2f} s per submission per job."
    )
    print(
        f"Share of grading time spent starting interpreters and importing TensorFlow: "
        f"{100 * share:.0f}% ({len(grades)} x {startup:.2f} s of {child_seconds:.1f} s)."
    )
    correct = full == len(grades)
    target = "met" if wall < 300 and len(grades) >= 50 and correct else "NOT met"
    print(f"Target (50 correct submissions graded in under 5 minutes): {target}.")
    if not correct:
        print(f"ERROR: {len(grades) - full} correct submission(s) lost points.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
