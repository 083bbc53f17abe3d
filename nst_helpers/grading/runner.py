"""Run graded functions in an isolated child process and collect plain arrays.

One child per submission runs the functions one after another (TensorFlow's import,
about 3 s, is paid once). The supervisor (this module, in the grader's process) gives
each function its own wall-clock limit, counted from the moment the child marks it
started; on a timeout it kills the child's whole process group, and on a crash or an
early exit (``os._exit``, a native abort, the memory limit) it records the reason for the
function that was running and starts a new child for the functions still to run.

What the child gets: a fresh interpreter (``python -I``: no user site, no ``PYTHON*``
variables), an almost empty environment, an empty temporary working directory (also its
``HOME`` and ``TMPDIR``), no standard input, its output sent to a log the grader ignores,
and resource limits set with ``prlimit`` right after it starts (address space, file size,
no core dumps). TensorFlow reserves about 1.5-2 GB of virtual address space on import
(measured on a 2-core CPU machine: VmPeak 1.9 GB after a small Keras step), so the
default address-space limit is 4096 MB. The child runs on the CPU even on a GPU machine
(``CUDA_VISIBLE_DEVICES`` is empty): the graded functions run on tiny inputs, CUDA would
reserve far more address space than the limit allows, and parallel children would
compete for the GPU's memory.

What it does not give: no network or file-system isolation beyond what ``sandbox``'s
audit hook blocks; that needs a container (see docs/instructors.md).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 4096
STARTUP_TIMEOUT = 180.0
#: Largest file the child may write (results are far smaller; this caps its printed log too).
MAX_FILE_MB = 64
_MAX_RESULT_BYTES = 64 * 1024 * 1024
_POLL_SECONDS = 0.05
_KINDS = ("none", "tf", "numpy", "python", "other")


@dataclass
class Task:
    """One graded function to run: its name, defining code, inputs and forbidden references."""

    name: str
    program: str
    cases: list[dict[str, np.ndarray]]
    reference: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What the child reported for one function (plain data; nothing judged yet)."""

    name: str
    #: "ran" | "timeout" | "crashed" (the learner's code stopped the child) | "grader error"
    #: (the child failed before any learner code ran: not the learner's fault, no grade)
    state: str
    detail: str = ""
    definition_error: dict | None = None
    cases: list[dict] = field(default_factory=list)  # per case: kind, type_name, error, seconds
    values: list[dict[str, np.ndarray]] = field(default_factory=list)  # per case: value, extra.*
    violations: list[str] = field(default_factory=list)
    delegated: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Limits:
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB
    threads: int = 1
    startup_timeout: float = STARTUP_TIMEOUT


_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[2]); "
    "from nst_helpers.grading.worker import main; main(sys.argv[1:2])"
)


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def child_environment(working_directory: str, threads: int) -> dict[str, str]:
    """The few variables the child needs; nothing of the grader's environment leaks in."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": working_directory,
        "TMPDIR": working_directory,
        "LANG": "C.UTF-8",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "OMP_NUM_THREADS": str(threads),
        "MPLBACKEND": "Agg",
        "CUDA_VISIBLE_DEVICES": "",  # CPU only: see the module docstring
    }
    for name in ("LD_LIBRARY_PATH", "SYSTEMROOT"):
        if name in os.environ:
            environment[name] = os.environ[name]
    return environment


def _apply_limits(pid: int, memory_mb: int) -> None:
    import resource

    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, MAX_FILE_MB * 1024 * 1024)]
    if memory_mb:
        limits.append((resource.RLIMIT_AS, int(memory_mb) * 1024 * 1024))
    for kind, value in limits:
        try:
            resource.prlimit(pid, kind, (value, value))
        except (OSError, ValueError, AttributeError):
            pass


def _write_job(directory: Path, tasks: list[Task], threads: int) -> Path:
    work = directory / "work"
    work.mkdir()
    entries = []
    for number, task in enumerate(tasks):
        inputs = {
            f"case{i}.{key}": np.asarray(value) for i, case in enumerate(task.cases)
            for key, value in case.items()
        }  # fmt: skip
        np.savez(directory / f"inputs{number}.npz", **inputs)
        entries.append(
            {
                "name": task.name,
                "program": task.program,
                "inputs": f"inputs{number}.npz",
                "n_cases": len(task.cases),
                "reference": list(task.reference),
                "program_file": f"graded_{number}_{task.name}.py",
                "output": f"result{number}.npz",
                "status": f"status{number}.json",
                "started": f"started{number}",
            }
        )
    job = {"working_directory": str(work), "threads": threads, "tasks": entries}
    path = directory / "job.json"
    path.write_text(json.dumps(job))
    return path


def _error_record(raw) -> dict | None:
    """An error record from the child, reduced to plain, bounded fields (the child may lie)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        return {"type": "Error", "message": str(raw)[:2000], "line": None}
    line = raw.get("line")
    return {
        "type": str(raw.get("type", "Error"))[:100],
        "message": str(raw.get("message", ""))[:2000],
        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
    }


def _read_outcome(directory: Path, number: int, task: Task) -> Outcome:
    try:
        status = json.loads((directory / f"status{number}.json").read_text())
        if not isinstance(status, dict):
            raise ValueError("status is not an object")
        cases = status.get("cases", [])
        cases = [c for c in cases if isinstance(c, dict)] if isinstance(cases, list) else []
    except (OSError, ValueError, RecursionError):
        return Outcome(task.name, "crashed", "the grading process left an unreadable status")
    outcome = Outcome(task.name, "ran")
    outcome.definition_error = _error_record(status.get("definition_error"))
    for key in ("violations", "delegated"):
        values = status.get(key, [])
        setattr(
            outcome, key, [str(v)[:300] for v in values][:20] if isinstance(values, list) else []
        )
    seconds = status.get("seconds", 0.0)
    outcome.seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    result = directory / f"result{number}.npz"
    arrays: dict[str, np.ndarray] = {}
    try:
        if result.exists() and result.stat().st_size <= _MAX_RESULT_BYTES:
            with np.load(result, allow_pickle=False) as data:
                arrays = {key: np.asarray(data[key], dtype=np.float64) for key in data.files}
    except (OSError, ValueError, TypeError):
        arrays = {}
    for index, record in enumerate(cases[: len(task.cases)]):
        error = _error_record(record.get("error"))
        kind = record.get("kind")
        kind = kind if kind in _KINDS else (None if error else "other")
        seconds = record.get("seconds", 0.0)
        outcome.cases.append(
            {
                "kind": kind,
                "type_name": str(record.get("type_name"))[:100],
                "error": error,
                "seconds": float(seconds) if isinstance(seconds, (int, float)) else 0.0,
            }
        )
        prefix = f"case{index}."
        outcome.values.append(
            {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}
        )
    return outcome


def _exit_status(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def _describe_exit(returncode: int, memory_mb: int) -> str:
    if returncode < 0:
        try:
            signal_name = signal.Signals(-returncode).name
        except ValueError:
            signal_name = f"signal {-returncode}"
        hint = ""
        if signal_name in ("SIGKILL", "SIGABRT", "SIGSEGV") and memory_mb:
            hint = f" (often: more memory than the {memory_mb} MB limit)"
        elif signal_name == "SIGXFSZ":
            hint = f" (it wrote or printed more than {MAX_FILE_MB} MB)"
        return f"the process was killed by {signal_name}{hint}"
    if returncode == 0:
        return "the process exited in the middle of the function (os._exit?)"
    return f"the process exited with status {returncode} in the middle of the function"


def last_log_line(log_path: Path, offset: int = 0) -> str:
    """The last non-empty line written to the log after ``offset`` (for the instructor)."""
    try:
        with open(log_path, "rb") as log:
            log.seek(offset)
            tail = log.read()[-8192:]
    except OSError:
        return "(no log)"
    lines = [line.strip() for line in tail.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:500] if lines else "(the log is empty)"


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _run_child(tasks: list[Task], limits: Limits, log_path: Path) -> tuple[dict, str | None]:
    """Run tasks in one child; return finished outcomes by name, and why it stopped early.

    The reason is None, or a description of a grader failure: the child stopped or hung
    before learner code ran (it never wrote its "ready" mark, or never started the next
    function), so the functions still to run cannot be blamed on the learner.
    """
    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="nst-grade-") as temporary:
        directory = Path(temporary)
        job_path = _write_job(directory, tasks, limits.threads)
        work = str(directory / "work")
        with open(log_path, "ab") as log:
            log_offset = log.tell()
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOT, str(job_path), _package_root()],
                cwd=work,
                env=child_environment(work, limits.threads),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        _apply_limits(process.pid, limits.memory_mb)
        waiting_since = time.monotonic()  # the child's start, then each function's end
        position, started_at, stop_reason = 0, None, None
        try:
            while position < len(tasks):
                task = tasks[position]
                if (directory / f"status{position}.json").exists():
                    outcomes[task.name] = _read_outcome(directory, position, task)
                    position, started_at = position + 1, None
                    waiting_since = time.monotonic()
                    continue
                now = time.monotonic()
                if started_at is None and (directory / f"started{position}").exists():
                    started_at = now
                exited = process.poll() is not None
                if exited and (directory / f"status{position}.json").exists():
                    continue
                if exited:
                    if not (directory / "ready").exists():
                        stop_reason = (
                            "the grading process stopped before running any learner code "
                            f"({_exit_status(process.returncode)}); "
                            f"last line of its log: {last_log_line(log_path, log_offset)}"
                        )
                    elif not (directory / f"started{position}").exists():
                        stop_reason = (
                            f"the grading process stopped between two functions "
                            f"({_exit_status(process.returncode)}); "
                            f"last line of its log: {last_log_line(log_path, log_offset)}"
                        )
                    else:
                        outcomes[task.name] = Outcome(
                            task.name,
                            "crashed",
                            _describe_exit(process.returncode, limits.memory_mb),
                        )
                    break
                if started_at is not None and now - started_at > limits.timeout:
                    _kill(process)
                    outcomes[task.name] = Outcome(
                        task.name,
                        "timeout",
                        f"it ran longer than the time limit of {limits.timeout:g} s",
                        seconds=now - started_at,
                    )
                    break
                if started_at is None and now - waiting_since > limits.startup_timeout:
                    _kill(process)
                    stop_reason = (
                        f"the grading process did not start the function within "
                        f"{limits.startup_timeout:g} s; last line of its log: "
                        f"{last_log_line(log_path, log_offset)}"
                    )
                    break
                time.sleep(_POLL_SECONDS)
        finally:
            if process.poll() is None:
                _kill(process)
    return outcomes, stop_reason


def run_tasks(tasks: list[Task], limits: Limits, log_path) -> dict[str, Outcome]:
    """Run every task, in order, restarting the child after a crash or timeout.

    A child that fails before learner code runs makes the functions still to run
    "grader error" outcomes (with the reason and the log's last line, for the instructor).
    """
    log_path = Path(log_path)
    results: dict[str, Outcome] = {}
    remaining = list(tasks)
    for _attempt in range(len(tasks) + 2):
        if not remaining:
            break
        outcomes, stop_reason = _run_child(remaining, limits, log_path)
        results.update(outcomes)
        remaining = [task for task in remaining if task.name not in results]
        if stop_reason is not None:
            for task in remaining:
                results[task.name] = Outcome(task.name, "grader error", stop_reason)
            remaining = []
    for task in remaining:
        results[task.name] = Outcome(task.name, "grader error", "the grading process kept stopping")
    return results
