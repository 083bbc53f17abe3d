"""Benchmark ``nst grade``: submissions per minute in the sandbox, and what the sandbox costs.

In one run, on the same machine:

1. Start-up, interleaved (``--repeats`` times each): ``bwrap`` alone running ``/bin/true``
   with the grader's mounts; a sandboxed harness until it is ready (bubblewrap + Python +
   NumPy/TensorFlow/Keras); the same harness without a sandbox (``--sandbox none``).
2. One graded function in a warm sandbox: the fork into fresh namespaces, the limits and
   the seccomp filter, TensorFlow's warm-up, the function, the result (median of 10).
3. Throughput: ``--count`` copies (default 50) of the solution folder (all five functions,
   ``train_step`` included, the registry's hidden draws) graded with ``--jobs`` (default 2)
   exactly as ``nst grade`` does; then, as the baseline, ``--baseline-count`` copies graded
   with a fresh sandbox per submission (a fresh interpreter importing TensorFlow per
   submission, the cost structure of the grader before the sandbox), and the ratio of the
   two rates.

Usage: python benchmarks/bench_grading.py [--count 50] [--jobs 2] [--baseline-count 4]
Targets (issues 8 and 10): at least 38, and 100, correct submissions per minute on 2 cores.
Exits non-zero if any correct submission loses a point.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
sys.path.insert(0, str(ROOT))


def machine() -> str:
    import tensorflow as tf

    from nst_helpers.commands.doctor import this_cpu_line

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{this_cpu_line()}; {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, load {load:.1f}"
    )


def startup_seconds(repeats: int) -> dict[str, list[float]]:
    """Start-up times of bwrap alone, a sandboxed harness and a plain one, interleaved."""
    from nst_helpers.grading import sandbox
    from nst_helpers.grading.runner import Limits, Sandbox

    bwrap = sandbox.find_bwrap()
    command = sandbox.bwrap_command(bwrap, 1, 64, 0)
    bare = [*command[: command.index("--")], "--", "/bin/true"]
    times: dict[str, list[float]] = {
        "bwrap /bin/true": [],
        "bwrap harness": [],
        "plain harness": [],
    }
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "log"
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run(bare, check=True)
            times["bwrap /bin/true"].append(time.perf_counter() - started)
            for mode, key in (("bwrap", "bwrap harness"), ("none", "plain harness")):
                started = time.perf_counter()
                box = Sandbox(mode, bwrap if mode == "bwrap" else None, Limits(), log)
                times[key].append(time.perf_counter() - started)
                box.dispose()
    return times


def analysis_seconds(length: int) -> float:
    """Seconds to find a graded function that needs a chain of ``length`` assignments."""
    from nst_helpers.course.extract import NotebookIndex
    from nst_helpers.course.locate import locate
    from nst_helpers.course.notebooks import Cell, Notebook, Submission
    from nst_helpers.grading.allowlist import allowed
    from nst_helpers.grading.delegation import find_delegation

    chain = "c0 = 1.0\n" + "".join(f"c{i} = c{i - 1}\n" for i in range(1, length))
    function = f"def gram_matrix(A):\n    return tf.matmul(A, tf.transpose(A)) * c{length - 1}\n"
    cells = (Cell(0, "code", "import tensorflow as tf\n"), Cell(1, "code", chain),
             Cell(2, "code", function))  # fmt: skip
    notebook = Notebook(Path("chain.ipynb"), cells)
    submission = Submission("chain", Path("chain.ipynb"), (notebook,), (), "")
    started = time.perf_counter()
    located = locate(submission, "gram_matrix", [NotebookIndex(notebook)])
    find_delegation(located.program, allowed("gram_matrix"), "gram_matrix")
    return time.perf_counter() - started


def one_function_seconds(count: int) -> list[float]:
    """Wall time of one tiny graded function in a warm sandbox, ``count`` times."""
    from nst_helpers.checks import cases, exercise
    from nst_helpers.grading import stubs
    from nst_helpers.grading.runner import Limits, SandboxPool, Task, run_tasks

    program = (
        "import tensorflow as tf\ndef gram_matrix(A):\n    return tf.matmul(A, tf.transpose(A))\n"
    )
    the_exercise = exercise("gram_matrix")
    task = Task(
        "gram_matrix",
        program,
        cases("gram_matrix", 1),
        stubs.sandbox_package(the_exercise),
        stubs.run_case_name(the_exercise),
    )
    times = []
    with tempfile.TemporaryDirectory() as folder, SandboxPool("bwrap", Limits()) as pool:
        pool.release(pool.acquire(), True)  # warm: the harness has imported TensorFlow
        for number in range(count):
            started = time.perf_counter()
            outcome = run_tasks([task], Limits(), Path(folder) / f"{number}.log", pool)
            times.append(time.perf_counter() - started)
            assert outcome["gram_matrix"].state == "ran", outcome["gram_matrix"].detail
    return times


def grade_copies(count: int, jobs: int, per_submission: bool) -> tuple[float, int, int, dict]:
    """(seconds, graded, with full marks, summary) for ``count`` copies of the solutions.

    ``per_submission``: the baseline, a fresh sandbox (so a fresh interpreter importing
    TensorFlow) for every submission, as the grader before the sandbox started a fresh
    interpreter per submission.
    """
    from nst_helpers.grading import pipeline
    from nst_helpers.grading.pipeline import GradeOptions, grade_submissions
    from nst_helpers.grading.rubric import load_rubric
    from nst_helpers.grading.runner import Limits

    original = pipeline.run_tasks

    def fresh_sandbox_per_submission(tasks, limits, log_path, pool):
        outcomes = original(tasks, limits, log_path, pool)
        while not pool._idle.empty():
            pool._discard(pool._idle.get())
        return outcomes

    with tempfile.TemporaryDirectory() as temporary:
        submissions = Path(temporary) / "submissions"
        for number in range(count):
            shutil.copytree(SOLUTIONS, submissions / f"learner{number:03d}")
        options = GradeOptions(
            out_dir=Path(temporary) / "out", rubric=load_rubric(), limits=Limits(), jobs=jobs
        )
        if per_submission:
            pipeline.run_tasks = fresh_sandbox_per_submission
        try:
            started = time.perf_counter()
            summary = grade_submissions([submissions], options, progress=lambda _: None)
            wall = time.perf_counter() - started
        finally:
            pipeline.run_tasks = original
    grades = summary["graded"]
    full = sum(1 for g in grades if g.total == g.max_total)
    return wall, len(grades), full, summary


def where_the_time_goes(summary: dict, wall: float, jobs: int, floor: float) -> None:
    """Print a submission's time per job, the learner code's share, and the ceiling that
    one fresh child per function sets: ``floor`` (a tiny function in a warm sandbox) is
    the fixed cost of a child (fork, namespaces, TensorFlow's start in the child, exit)."""
    grades = summary["graded"]
    per_job = wall * jobs / max(len(grades), 1)
    runs: dict[str, list[float]] = {}
    for grade in grades:
        for function in grade.functions:
            runs.setdefault(function.name, []).append(function.seconds)
    medians = {name: statistics.median(values) for name, values in runs.items()}
    learner = sum(medians.values())
    print(
        f"Per submission and job: {per_job:.2f} s. The checks' own runs inside the children "
        f"(median): "
        + ", ".join(f"{name} {value:.3f} s" for name, value in medians.items())
        + f"; {learner:.2f} s in all."
    )
    ceiling = len(medians) * floor + max(medians.values(), default=0.0)
    print(
        f"Fixed cost of a child (the tiny function above): {floor:.2f} s, {len(medians)} per "
        f"submission. {len(medians)} children plus the slowest check alone take {ceiling:.2f} s "
        f"per submission and job: with nothing else, at most {60 * jobs / ceiling:.0f} "
        f"submissions per minute with --jobs {jobs} on this machine."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--baseline-count", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"Machine: {machine()}")
    startup = startup_seconds(args.repeats)
    for key, values in startup.items():
        print(f"Start-up, {key}: median {statistics.median(values):.2f} s of {values}")
    extra = statistics.median(startup["bwrap harness"]) - statistics.median(
        startup["plain harness"]
    )
    print(
        f"The sandbox adds {extra:+.2f} s to a harness start-up "
        f"(bubblewrap alone: {statistics.median(startup['bwrap /bin/true']) * 1000:.0f} ms); "
        "a grading run pays it once per job, not per submission."
    )
    analysis_seconds(50)  # loads the registry and the package's sources once
    short, long = analysis_seconds(500), analysis_seconds(5000)
    print(
        f"Static analysis of a function needing 500 and 5,000 chained assignments: "
        f"{short:.2f} s and {long:.2f} s ({long / short:.1f}x for 10x the code)."
    )
    functions = one_function_seconds(10)
    print(
        f"One graded function in a warm sandbox (fork, namespaces, limits, TensorFlow warm-up, "
        f"run, result): median {statistics.median(functions):.2f} s, min {min(functions):.2f} s."
    )
    wall, graded, full, summary = grade_copies(args.count, args.jobs, per_submission=False)
    rate = 60 * graded / wall
    print(
        f"Graded {graded} submissions (5 functions each; {full} with full marks) with --jobs "
        f"{args.jobs} in {wall:.1f} s: {rate:.1f} submissions per minute "
        f"({summary['sandboxes_started']} sandboxes started)."
    )
    where_the_time_goes(summary, wall, args.jobs, statistics.median(functions))
    base_wall, base_graded, base_full, _ = grade_copies(
        args.baseline_count, args.jobs, per_submission=True
    )
    base_rate = 60 * base_graded / base_wall
    print(
        f"Baseline, a fresh sandbox (a fresh interpreter importing TensorFlow) per submission: "
        f"{base_graded} submissions in {base_wall:.1f} s: {base_rate:.1f} per minute. One warm "
        f"sandbox per job forking per function is {rate / base_rate:.1f}x faster."
    )
    correct = full == graded and base_full == base_graded
    for target in (38, 100):
        print(
            f"Target ({target} correct submissions per minute): {'met' if rate >= target and correct else 'NOT met'}."
        )
    if not correct:
        print("ERROR: a correct submission lost points.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
