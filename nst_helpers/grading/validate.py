"""``nst validate``: what the grader will find in notebooks, checked on the public cases.

For a learner before submitting: which graded functions each notebook holds, which
definition counts and why, and whether each passes the public cases (the same cases as
the notebook's own checks, never the hidden ones), run in the same sandbox as the grader
uses (bubblewrap when installed; otherwise, since it is the learner's own code on the
learner's own machine, without one, and it says so). For an instructor, ``invert``: the
untouched student release must fail every graded function it holds (a release that
passes gives points for nothing).

Each notebook lists only the graded functions it holds (each course notebook holds some);
with several notebooks a summary gives one line per graded function and a total.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nst_helpers.checks import cases
from nst_helpers.course.notebooks import read_submission
from nst_helpers.grading import sandbox
from nst_helpers.grading.pipeline import plan
from nst_helpers.grading.rubric import load_rubric
from nst_helpers.grading.runner import Limits, SandboxPool, run_tasks
from nst_helpers.grading.score import GRADER_ERROR, score

NO_SANDBOX_NOTE = (
    "(bubblewrap is not installed: the notebook's code ran without a sandbox, as you. "
    "The grader will run it in one.)"
)


@dataclass
class Checked:
    """The result of one graded function found in one notebook."""

    name: str
    where: str
    mark: str  # PASS | FAIL | ERROR


def choose_sandbox(requested: str) -> str:
    """ "auto" is bubblewrap when installed, else none (the learner's own code)."""
    if requested == "auto":
        return "bwrap" if sandbox.find_bwrap() else "none"
    sandbox.check_mode(requested)
    return requested


def validate(
    path,
    invert: bool = False,
    limits: Limits | None = None,
    log_path=None,
    pool=None,
    list_missing: bool = True,
):
    """Validate one notebook (or folder); return (lines to print, success flag, checked).

    ``list_missing``: end with one line naming the graded functions the notebook does not
    hold (off when several notebooks are validated: the summary says it once).

    What the learner's code prints goes to ``log_path`` (default: a temporary file, deleted).
    ``pool`` is a ``SandboxPool`` (default: one of its own, bubblewrap when installed).
    """
    limits = limits or Limits()
    rubric = load_rubric()
    submission = read_submission(path)
    lines = [f"{Path(path)}:"]
    for problem in submission.problems:
        lines.append(f"  ! {problem.name} {problem.reason}")
    tasks, decided, located, cases_by_name = plan(submission, rubric, lambda n: cases(n, None))
    temporary_log = log_path is None
    if temporary_log:
        handle, log_path = tempfile.mkstemp(prefix="nst-validate-", suffix=".log")
        os.close(handle)
    own_pool = pool is None
    try:
        if own_pool and tasks:
            pool = SandboxPool(choose_sandbox("auto"), limits)
        outcomes = run_tasks(tasks, limits, log_path, pool) if tasks else {}
    finally:
        if own_pool and pool is not None:
            pool.close()
        if temporary_log:
            os.unlink(log_path)
    checked: list[Checked] = []
    missing = []
    passed_count, grader_errors = 0, 0
    for rule in rubric.functions:
        where = located[rule.name]
        if rule.name in decided and decided[rule.name].status == "missing":
            missing.append(rule.name)
            continue
        if rule.name in decided:
            result = decided[rule.name]
        else:
            result = score(
                rule, where, outcomes[rule.name], cases_by_name[rule.name], False, public=True
            )
        ok = result.status == "passed"
        passed_count += ok
        grader_errors += result.status == GRADER_ERROR
        mark = "PASS" if ok else ("ERROR" if result.status == GRADER_ERROR else "FAIL")
        place = f"{where.notebook}, {where.cell}" if where.cell else str(where.notebook)
        checked.append(Checked(rule.name, place, mark))
        reason = result.reason.replace("\n", "\n       ")  # public values may span lines
        lines.append(f"  {mark} {rule.name} ({place}): {reason}")
        if where.explanation:
            lines.append(f"       {where.explanation}")
        for note in result.notes:
            lines.append(f"       note: {note}")
    if not checked:
        lines.append("  No graded function found in this notebook.")
        return lines, False, checked
    if missing and list_missing:
        lines.append(f"  Not in this notebook: {', '.join(missing)}.")
    if grader_errors:
        lines.append(
            f"  GRADER ERROR: {grader_errors} function(s) could not be run (not the notebook's "
            "fault; see the reason above). Nothing was checked for them."
        )
        return lines, False, checked
    found = len(checked)
    if invert:
        success = passed_count == 0
        verdict = (
            "OK: every graded function fails, as a release should."
            if success
            else f"PROBLEM: {passed_count} graded function(s) pass in what should be the release."
        )
    else:
        success = passed_count == found
        verdict = (
            "All graded functions pass the public cases."
            if success
            else f"{found - passed_count} of {found} graded function(s) fail."
        )
    lines.append(f"  {verdict}")
    return lines, success, checked


def summary_lines(checked_by_path: list[list[Checked]], invert: bool) -> list[str]:
    """One line per graded function over every notebook given, and a total."""
    from nst_helpers.checks import GRADED_FUNCTIONS

    last: dict[str, Checked] = {}
    for checked in checked_by_path:
        for item in checked:
            last[item.name] = item
    lines = ["Summary:"]
    for name in GRADED_FUNCTIONS:
        item = last.get(name)
        if item is None:
            lines.append(f"  -    {name}: not in the notebooks given")
        else:
            lines.append(f"  {item.mark:<4} {name} ({item.where})")
    found = len(last)
    passed = sum(item.mark == "PASS" for item in last.values())
    if invert:
        lines.append(f"Total: {passed} of {found} graded functions found pass (a release: 0).")
    else:
        lines.append(
            f"Total: {passed} of {found} graded functions found pass the public cases "
            f"({len(GRADED_FUNCTIONS) - found} not found)."
        )
    return lines
