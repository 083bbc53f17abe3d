"""The child's guards, tested directly: the audit hook's decisions, module restoration,
and the run-time catch of a call to the reference (the static check bypassed on purpose)."""

from __future__ import annotations

import json
import types

import pytest

from nst_helpers.grading.sandbox import Guard, ModuleSnapshot


def test_guard_blocks_only_while_learner_code_runs_and_only_outside(tmp_path):
    guard = Guard(str(tmp_path))
    guard.audit("open", ("/etc/passwd-copy", "w", 0))  # inactive: the worker's own writes
    guard.begin(["nst_helpers.costs.gram_matrix"])
    guard.audit("open", (str(tmp_path / "inside.txt"), "w", 0))
    guard.audit("open", ("relative.txt", "a", 0))
    guard.audit("open", ("/etc/hostname", "r", 0))  # reading is allowed
    guard.audit("open", ("/dev/null", "w", 0))
    with pytest.raises(PermissionError, match="outside its working directory"):
        guard.audit("open", (str(tmp_path / ".." / "escape.txt"), "w", 0))
    with pytest.raises(PermissionError, match="outside"):
        guard.audit("open", ("/tmp/x", None, 0o101))  # os.open(path, O_WRONLY | O_CREAT)
    with pytest.raises(PermissionError, match="outside"):
        guard.audit("os.remove", ("/tmp/somebody-elses-file", -1))
    for event in ("subprocess.Popen", "os.kill", "socket.connect", "ctypes.dlopen"):
        with pytest.raises(PermissionError):
            guard.audit(event, ())
    guard.end()
    assert len(guard.violations) == 7
    guard.audit("subprocess.Popen", ())  # inactive again


def test_module_snapshot_undoes_patches_and_additions():
    module = types.ModuleType("fake_numpy")
    module.allclose = original = object()
    import sys

    sys.modules["fake_numpy"] = module
    try:
        snapshot = ModuleSnapshot(["fake_numpy"])
        module.allclose = lambda *a, **k: True
        module.backdoor = 1
        changed = snapshot.restore()
        assert module.allclose is original and not hasattr(module, "backdoor")
        assert sorted(changed) == ["fake_numpy.allclose", "fake_numpy.backdoor"]
    finally:
        del sys.modules["fake_numpy"]


def test_a_call_to_the_reference_is_caught_at_run_time_too(tmp_path):
    from nst_helpers.checks import cases
    from nst_helpers.course.locate import Located
    from nst_helpers.grading.rubric import load_rubric
    from nst_helpers.grading.runner import Limits, Task, run_tasks
    from nst_helpers.grading.score import score

    program = "import nst_helpers\ndef gram_matrix(A):\n    return nst_helpers.gram_matrix(A)\n"
    rule = load_rubric().rule("gram_matrix")
    task = Task("gram_matrix", program, cases("gram_matrix", 3), list(rule.reference))
    outcome = run_tasks([task], Limits(timeout=30), tmp_path / "log")["gram_matrix"]
    assert outcome.delegated == ["nst_helpers.costs.gram_matrix"]
    result = score(rule, Located("gram_matrix"), outcome, task.cases, False)
    assert result.status == "delegation" and result.points == 0


def test_a_lying_or_broken_child_status_is_read_defensively(tmp_path):
    from nst_helpers.grading.runner import Task, _read_outcome

    task = Task("total_cost", "", [{}, {}])
    (tmp_path / "status0.json").write_text('"not an object"')
    assert _read_outcome(tmp_path, 0, task).state == "crashed"
    status = {
        "cases": [{"kind": "tf", "error": "a string", "seconds": "soon"}, "junk", {}, {}],
        "definition_error": None,
        "violations": "not a list",
        "seconds": None,
    }
    (tmp_path / "status0.json").write_text(json.dumps(status))
    outcome = _read_outcome(tmp_path, 0, task)
    assert outcome.state == "ran" and outcome.violations == [] and outcome.seconds == 0.0
    assert outcome.cases[0]["error"] == {"type": "Error", "message": "a string", "line": None}
    assert len(outcome.cases) == 2 and outcome.values == [{}, {}]
