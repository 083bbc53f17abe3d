"""The sandbox itself: what a graded function's code can see and do, the refusal without
bubblewrap, ``--sandbox none``, the frames it sends back, and SIGTERM.

The isolation tests run a probe as the graded function: it switches the in-process audit
hook off (as a hostile learner would), tries things and returns a vector of 0/1 answers,
which come back through the same channel as any result. They run
in bubblewrap (installed here and in CI); without it they fail, they are not skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nst_helpers import cli
from nst_helpers.checks import cases, exercise
from nst_helpers.grading import harness, sandbox, stubs
from nst_helpers.grading.runner import (
    Limits,
    SandboxPool,
    Task,
    encode_task,
    parse_result,
    run_tasks,
)
from tests.conftest import PACKAGE, ROOT

#: What the probe checks, in the order of its answers (1 = true).
PROBES = (
    "pid is 1 (a PID namespace of its own)",
    "the package's folder is visible",
    "the grader's worktree is visible",
    "nst_helpers.costs can be imported",
    "the sandbox's nst_helpers exports nothing",
    "a file can be written in /usr",
    "a file can be written in /",
    "a file can be written in the venv",
    "a file can be written in /tmp",
    "a file can be written in /dev/shm",
    "a file can be written in the working folder",
    "a process can be forked",
    "a UDP packet can be sent to 127.0.0.1",
    "a marker of an earlier task is visible",
    "more than 8 processes are visible in /proc",
    "the address space is limited",
    "the environment holds a grader variable",
)
PROBE = f"""
import os, resource, socket, sys

def gram_matrix(A):
    import tensorflow as tf
    frame = getattr(sys, "_get" + "frame")()  # switch the diagnostic audit hook off
    while frame is not None:
        for value in list(getattr(frame, "f_" + "locals").values()):
            if hasattr(value, "active") and hasattr(value, "violations"):
                value.active = False
        frame = getattr(frame, "f_" + "back")
    answers = [os.getpid() == 1, os.path.exists({str(PACKAGE)!r}),
               os.path.exists({str(ROOT / "tests")!r})]
    try:
        __import__("nst_helpers.costs")
        answers.append(True)
    except ImportError:
        answers.append(False)
    import nst_helpers
    answers.append(list(nst_helpers.__all__) == [])
    for folder in ("/usr", "/", {sys.prefix!r}, "/tmp", "/dev/shm", "."):
        try:
            with open(os.path.join(folder, "probe-marker"), "w") as handle:
                handle.write("x")
            answers.append(True)
        except OSError:
            answers.append(False)
    try:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        answers.append(True)
    except OSError:
        answers.append(False)
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9))
        answers.append(True)
    except OSError:
        answers.append(False)
    answers.append(os.path.exists("/dev/shm/earlier") or os.path.exists("earlier"))
    for name in ("/dev/shm/earlier", "earlier"):
        try:
            open(name, "w").close()
        except OSError:
            pass
    answers.append(len([p for p in os.listdir("/proc") if p.isdigit()]) > 8)
    answers.append(resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY)
    answers.append("GRADER_SECRET" in os.environ)
    return tf.constant([float(a) for a in answers])
"""


def _probe(pool: SandboxPool, tmp_path: Path, times: int = 2) -> list[dict[str, bool]]:
    the_exercise = exercise("gram_matrix")
    task = Task(
        "gram_matrix",
        PROBE,
        cases("gram_matrix", 1)[:1],
        stubs.sandbox_package(the_exercise),
        stubs.run_case_name(the_exercise),
    )
    # The probe's own sandbox package exports nothing (gram_matrix may use nothing).
    answers = []
    for number in range(times):
        outcome = run_tasks([task], Limits(timeout=60), tmp_path / f"log{number}", pool)
        result = outcome["gram_matrix"]
        assert result.state == "ran", (result.state, result.detail)
        assert result.cases[0]["error"] is None, result.cases[0]
        values = result.values[0]["value"]
        answers.append(dict(zip(PROBES, (bool(v) for v in values), strict=True)))
    return answers


def test_a_graded_function_sees_and_changes_nothing_outside_its_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "do-not-leak")
    with SandboxPool("bwrap", Limits(timeout=60), tmp_path / "sandbox.log") as pool:
        first, second = _probe(pool, tmp_path)
        assert pool.started == 1  # one interpreter served both tasks: forks, not restarts
        # The submission's total budget: spent by the first function, none left for the next.
        program = "def gram_matrix(A):\n    while True:\n        pass\n"
        tasks = [Task("gram_matrix", program, cases("gram_matrix", 1)[:1],
                      stubs.sandbox_package(exercise("gram_matrix"))),
                 Task("total_cost", "", cases("total_cost", 1)[:1])]  # fmt: skip
        limits = Limits(timeout=60, budget=2)
        outcomes = run_tasks(tasks, limits, tmp_path / "budget.log", pool)
        assert outcomes["gram_matrix"].state == outcomes["total_cost"].state == "timeout"
        assert "total time budget of 2 s" in outcomes["total_cost"].detail
    expected = {probe: False for probe in PROBES}
    expected["pid is 1 (a PID namespace of its own)"] = True
    expected["the sandbox's nst_helpers exports nothing"] = True
    expected["a file can be written in /dev/shm"] = True
    expected["a file can be written in the working folder"] = True
    expected["the address space is limited"] = True
    assert first == expected
    # The second task is a fresh child: nothing the first wrote is there.
    assert second == expected


def test_without_namespaces_the_code_still_runs_but_unsandboxed(tmp_path):
    """--sandbox none: trusted code; the probe shows what is not isolated."""
    with SandboxPool("none", Limits(timeout=60), tmp_path / "sandbox.log") as pool:
        (answers,) = _probe(pool, tmp_path, times=1)
        (scratch,) = [candidate._scratch for candidate in pool._all]
    assert answers["the package's folder is visible"]
    assert not answers["nst_helpers.costs can be imported"]  # the stub package still rules
    assert not answers["a process can be forked"]  # and the seccomp filter
    assert not Path(scratch).exists()  # its temporary folder is removed


def test_without_bubblewrap_nst_grade_refuses_in_one_line(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.check_mode("bwrap", search_path=str(empty))
    notebook = tmp_path / "alice.ipynb"
    shutil.copy(ROOT / "notebooks" / "solutions" / "2_gram_matrix.ipynb", notebook)
    monkeypatch.setenv("PATH", str(empty))
    assert cli.main(["grade", str(notebook), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "bubblewrap" in error and "--sandbox none" in error
    assert not (tmp_path / "out").exists()
    # nst validate (the learner's own code) runs without it, and says so.
    assert cli.main(["validate", str(tmp_path / "missing.ipynb")]) == 2


def test_sandbox_none_is_written_into_the_gradebook_and_the_report(tmp_path, capsys):
    notebook = tmp_path / "typo.ipynb"
    notebook.write_text("not a notebook")
    out = tmp_path / "out"
    assert cli.main(["grade", str(notebook), "--out", str(out), "--sandbox", "none"]) == 0
    assert "WARNING: graded with --sandbox none" in capsys.readouterr().err
    gradebook = (out / "grades.csv").read_text()
    assert gradebook.splitlines()[1].endswith(",NONE (trusted code only)")
    report = json.loads((out / "reports" / "typo" / "SUBMISSION.json").read_text())
    assert report["sandbox"] == "none" and "--sandbox none" in " ".join(report["notes"])
    assert "--sandbox none" in (out / "reports" / "typo" / "feedback.md").read_text()


def test_frames_that_lie_are_read_defensively():
    task = Task("total_cost", "", [{}, {}])
    header = {
        "cases": [{"kind": "tf", "error": "a string", "seconds": "soon"}, "junk", {}, {}],
        "violations": "not a list",
        "seconds": None,
        "arrays": [
            ["case0.value", [2], 0, 16],  # right
            ["case1.value", [1000], 16, 8],  # claims more than it holds
            ["case1.extra.x", [-1], 16, 8],
            "junk",
        ],
    }
    data = memoryview(np.asarray([1.0, 2.0, 3.0]).astype("<f8").tobytes())
    outcome = parse_result(task, header, data)
    assert outcome.state == "ran" and outcome.violations == [] and outcome.seconds == 0.0
    assert outcome.cases[0]["error"] == {"type": "Error", "message": "a string", "line": None}
    assert len(outcome.cases) == 2
    assert list(outcome.values[0]["value"]) == [1.0, 2.0]
    assert outcome.values[1] == {}
    with pytest.raises(ValueError):
        harness.decode_frame_body(b"\x00\x00\x10\x00{}")
    frame = encode_task(Task("total_cost", "x", cases("total_cost", 3)), "n" * 32, Limits(), None)
    header, rest = harness.decode_frame_body(frame[4:])
    assert header["nonce"] == "n" * 32 and header["inputs"][0]["J_content"][1] == []


def _sandbox_processes(ancestor: int) -> set[int]:
    """Processes descending from ``ancestor`` whose environment marks them as sandboxed.

    (A process that left its parent's tree, e.g. by a double fork, is found through its
    marker all the same: ``parents`` keeps every process's parent as read.)
    """
    parents, marked = {}, set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
            if b"NST_SANDBOX_RUN=" in (entry / "environ").read_bytes():
                marked.add(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    found = set()
    for pid in marked:
        current = pid
        while current in parents and current not in (0, 1):
            if current == ancestor:
                found.add(pid)
                break
            current = parents[current]
    return found


def _marked_processes(tokens_of: set[int]) -> set[int]:
    """Which of ``tokens_of`` still exist (they are never reused this quickly)."""
    return {pid for pid in tokens_of if Path(f"/proc/{pid}").exists()}


def test_sigterm_kills_every_sandbox_and_leaves_no_report(tmp_path):
    """nst grade stopped by SIGTERM while a learner's infinite loop runs: it exits 143,
    no process of its sandboxes survives, no report is written, no temporary folder left."""
    notebook = json.loads((ROOT / "notebooks" / "solutions" / "2_gram_matrix.ipynb").read_text())
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if "# GRADED FUNCTION: gram_matrix" in text:
            cell["source"] = text.replace(
                "GA = tf.matmul", "while True:\n        pass\n    GA = tf.matmul"
            )
    (tmp_path / "looping.ipynb").write_text(json.dumps(notebook))
    private = tmp_path / "tmp"  # the machine's /tmp is shared with other programs
    private.mkdir()
    grading = subprocess.Popen(
        [sys.executable, "-m", "nst_helpers.cli", "grade", str(tmp_path / "looping.ipynb"),
         "--out", str(tmp_path / "out"), "--timeout", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(private)},
    )  # fmt: skip
    log = tmp_path / "out" / "logs" / "looping.log"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(_sandbox_processes(grading.pid)) < 3:
        time.sleep(0.5)  # bwrap, its harness, and the harness's child for the function
    ours = _sandbox_processes(grading.pid)
    assert len(ours) >= 3, "the function did not start"
    time.sleep(2)
    grading.send_signal(signal.SIGTERM)
    _, error = grading.communicate(timeout=60)
    assert grading.returncode == 143, error
    assert b"interrupted" in error
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _marked_processes(ours):
        time.sleep(0.2)
    assert not _marked_processes(ours)
    assert not (tmp_path / "out" / "reports" / "looping").exists()
    assert log.parent.is_dir()
    assert list(private.iterdir()) == []
    assert os.path.exists(tmp_path / "looping.ipynb")
