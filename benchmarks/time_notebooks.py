"""How long each course notebook takes to run at its defaults: the figures README quotes.

Runs every notebook of a folder (default: the solution notebooks, which are the student
notebooks filled in) from top to bottom in a fresh Jupyter kernel of this interpreter,
at the notebook's own default parameters (the ``NST_NOTEBOOK_*`` variables are removed,
so the CI sizes of the test suite do not apply), and prints for each notebook:

* the kernel's CPU time (user + system, all its threads) and the wall time, start-up
  and imports included;
* the costliest cells, so that a notebook's parts can be told apart (notebook 5: the
  learner's training loop and the engine section).

CPU time is the figure to quote on a shared machine: wall time depends on what else
runs, CPU time much less (it still grows somewhat when the cores are contended). The
computation does not depend on the weights' values, so the seeded VGG19 stand-in is used
unless ``NST_VGG19_WEIGHTS`` names other weights. The machine (CPU model, cores, load
average before and after) is printed with the figures.

    python benchmarks/time_notebooks.py                      # all five, ~10 minutes on 2 cores
    python benchmarks/time_notebooks.py --only 5_training    # one notebook
    python benchmarks/time_notebooks.py --markdown           # also a table for README
    python benchmarks/time_notebooks.py --only 5_training --baseline NST_NOTEBOOK_IMAGE_SIZE=256 \
        --baseline NST_NOTEBOOK_STEPS=500      # also the old defaults, interleaved: a ratio

With ``--baseline``, each notebook also runs with those variables set, right after its run
at the defaults, and the ratio of the two CPU times is printed: a figure that holds on a
shared machine, where absolute times are inflated by what else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "nst-time-notebooks-python"


def machine_description() -> str:
    from nst_helpers.commands.doctor import this_cpu_line

    return f"{this_cpu_line()}; Python {platform.python_version()}"


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def make_kernel_spec(folder: Path) -> None:
    """A kernel spec that starts this very interpreter, found through JUPYTER_PATH."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "timing", "language": "python"})
    )
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(folder) + (os.pathsep + previous if previous else "")


def first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip() and not line.startswith("# NBVAL"):
            return line.strip()[:70]
    return ""


def time_notebook(path: Path, timeout: float) -> dict:
    """Run one notebook; return its CPU and wall seconds and each code cell's."""
    import nbformat
    import psutil
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
    )
    cells, marks = [], {}

    def cpu_seconds() -> float:
        process = psutil.Process(client.km.provisioner.pid)
        times = process.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def on_execute(cell, cell_index, **_):
        marks[cell_index] = (cpu_seconds(), time.perf_counter())

    def on_executed(cell, cell_index, **_):
        cpu, wall = marks[cell_index]
        cells.append(
            {
                "index": cell_index,
                "first_line": first_line(cell.source),
                "cpu": cpu_seconds() - cpu,
                "wall": time.perf_counter() - wall,
            }
        )

    client.on_cell_execute = on_execute
    client.on_cell_executed = on_executed
    started = time.perf_counter()
    client.reset_execution_trackers()
    # Cell by cell inside one set-up (``execute()`` would shut the kernel down before its
    # CPU time could be read).
    with client.setup_kernel():
        kernel_started_cpu = cpu_seconds()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        total_cpu = cpu_seconds()
    return {
        "name": path.stem,
        "cpu": total_cpu,
        "startup_cpu": kernel_started_cpu,
        "wall": time.perf_counter() - started,
        "cells": cells,
    }


def print_result(result: dict, label: str, top: int) -> None:
    print(
        f"\n{result['name']} {label}: CPU {result['cpu']:.0f} s, wall {result['wall']:.0f} s "
        f"(kernel start {result['startup_cpu']:.1f} s CPU)"
    )
    for cell in sorted(result["cells"], key=lambda c: -c["cpu"])[:top]:
        print(
            f"    cell {cell['index'] + 1:>2}: CPU {cell['cpu']:6.1f} s, "
            f"wall {cell['wall']:6.1f} s   {cell['first_line']}"
        )
    sys.stdout.flush()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default=str(ROOT / "notebooks" / "solutions"))
    parser.add_argument("--only", nargs="*", help="notebook stems to run, e.g. 5_training")
    parser.add_argument("--top", type=int, default=3, help="costliest cells to list")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also run each notebook with this variable set (repeatable), for a ratio",
    )
    args = parser.parse_args(argv)

    for name in list(os.environ):
        if name.startswith("NST_NOTEBOOK_"):
            del os.environ[name]
    os.environ.setdefault("NST_VGG19_WEIGHTS", "random")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    paths = sorted(Path(args.notebooks).glob("*.ipynb"))
    if args.only:
        paths = [path for path in paths if path.stem in args.only]
    if not paths:
        parser.error(f"no notebooks to run in {args.notebooks}")
    if any("=" not in item for item in args.baseline):
        parser.error("--baseline takes NAME=VALUE")

    results = []
    with tempfile.TemporaryDirectory(prefix="nst-time-notebooks-") as scratch:
        os.environ["NST_NOTEBOOK_OUTPUT_DIR"] = str(Path(scratch) / "outputs")
        make_kernel_spec(Path(scratch) / "jupyter")
        print(f"machine: {machine_description()}")
        print(f"weights: NST_VGG19_WEIGHTS={os.environ['NST_VGG19_WEIGHTS']}")
        print(f"load average before: {load_average()}", flush=True)
        baseline = dict(item.split("=", 1) for item in args.baseline)
        for path in paths:
            result = time_notebook(path, args.timeout)
            results.append(result)
            print_result(result, "at its defaults", args.top)
            if baseline:
                os.environ.update(baseline)
                try:
                    before = time_notebook(path, args.timeout)
                finally:
                    for name in baseline:
                        del os.environ[name]
                print_result(before, f"with {' '.join(args.baseline)}", args.top)
                print(
                    f"  ratio of CPU times, defaults / baseline: {result['cpu'] / before['cpu']:.2f}"
                )
        print(f"\nload average after: {load_average()}")
    total_cpu = sum(result["cpu"] for result in results)
    total_wall = sum(result["wall"] for result in results)
    print(f"all: CPU {total_cpu:.0f} s, wall {total_wall:.0f} s")
    if args.markdown:
        print("\n| notebook | CPU time | wall time |\n|---|---|---|")
        for result in results:
            print(
                f"| `{result['name']}.ipynb` | {result['cpu'] / 60:.1f} min "
                f"| {result['wall'] / 60:.1f} min |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
