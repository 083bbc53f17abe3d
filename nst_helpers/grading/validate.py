"""``nst validate``: what the grader will find in a notebook, checked on the public cases.

For a learner before submitting: which graded functions the notebook holds, which
definition counts and why, and whether each passes the public cases (the same cases as
the notebook's own checks, never the hidden ones), run in the same isolated child as
the grader uses. For an instructor, ``invert``: the untouched student release must fail
every graded function it holds (a release that passes gives points for nothing).

Functions a notebook does not hold are listed, not failed: each course notebook holds
only some of the graded functions.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nst_helpers.checks import cases
from nst_helpers.course.notebooks import read_submission
from nst_helpers.grading.pipeline import plan
from nst_helpers.grading.rubric import load_rubric
from nst_helpers.grading.runner import Limits, run_tasks
from nst_helpers.grading.score import GRADER_ERROR, score


def validate(path, invert: bool = False, limits: Limits | None = None, log_path=None):
    """Validate one notebook (or folder); return (lines of text to print, success flag).

    What the learner's code prints goes to ``log_path`` (default: a temporary file, deleted).
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
    try:
        outcomes = run_tasks(tasks, limits, log_path) if tasks else {}
    finally:
        if temporary_log:
            os.unlink(log_path)
    results_found, passed_count, grader_errors = 0, 0, 0
    for rule in rubric.functions:
        where = located[rule.name]
        if rule.name in decided and decided[rule.name].status == "missing":
            lines.append(f"  - {rule.name}: not in this notebook")
            continue
        results_found += 1
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
        reason = result.reason.replace("\n", "\n       ")  # public values may span lines
        lines.append(f"  {mark} {rule.name} ({where.notebook}, {where.cell}): {reason}")
        if where.explanation:
            lines.append(f"       {where.explanation}")
        for note in result.notes:
            lines.append(f"       note: {note}")
    if results_found == 0:
        lines.append("  No graded function found in this notebook.")
        return lines, False
    if grader_errors:
        lines.append(
            f"  GRADER ERROR: {grader_errors} function(s) could not be run (not the notebook's "
            "fault; see the reason above). Nothing was checked for them."
        )
        return lines, False
    if invert:
        success = passed_count == 0
        verdict = (
            "OK: every graded function fails, as a release should."
            if success
            else f"PROBLEM: {passed_count} graded function(s) pass in what should be the release."
        )
    else:
        success = passed_count == results_found
        verdict = (
            "All graded functions pass the public cases."
            if success
            else f"{results_found - passed_count} of {results_found} graded function(s) fail."
        )
    lines.append(f"  {verdict}")
    return lines, success
