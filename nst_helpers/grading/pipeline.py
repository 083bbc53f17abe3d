"""Grade many submissions, in parallel, into a gradebook: the work behind ``nst grade``.

For each submission: read it (``notebook``), find each graded function (``locate``),
refuse delegation to the reference (``delegation``), draw a secret seed and make the hidden
cases (``checks.cases``), run the functions in one isolated child (``runner``), judge and
score them here (``score``), and write the reports (``report``). Submissions run in a
thread pool of ``jobs`` threads, each supervising its own child process. A submission
whose report already exists for the same files, rubric and limits is skipped unless
``force``.

Nothing a submission does can stop the run: every failure of the learner's code becomes
a reason in a report. A failure of the grader itself (the child could not start, e.g.
TensorFlow cannot load under the memory limit; an internal exception) is not the
learner's: that submission gets no report and no gradebook row (an older report of it is
removed), the instructor is told on standard error, and the run ends with ``failed`` set.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nst_helpers.checks import cases
from nst_helpers.course.extract import NotebookIndex
from nst_helpers.course.locate import locate
from nst_helpers.course.notebooks import (
    Submission,
    notebook_paths,
    read_submission,
    submission_identifier,
)
from nst_helpers.grading import report as reports
from nst_helpers.grading.delegation import find_delegation
from nst_helpers.grading.rubric import Rubric
from nst_helpers.grading.runner import Limits, Task, run_tasks
from nst_helpers.grading.score import GRADER_ERROR, FunctionResult, not_run, score


@dataclass
class GradeOptions:
    out_dir: Path
    rubric: Rubric
    limits: Limits
    jobs: int = 1
    force: bool = False
    html: bool = False


def rubric_digest(rubric: Rubric) -> str:
    text = json.dumps(
        [[r.name, r.points, list(r.reference)] for r in rubric.functions] + [rubric.partial_credit]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def limits_key(limits: Limits) -> dict:
    """The limits a grade depends on (a rerun with other limits grades again)."""
    return {"timeout": float(limits.timeout), "memory_mb": int(limits.memory_mb)}


class GraderError(Exception):
    """The grader, not the learner's code, failed on a submission: it gets no grade."""


def expand_submissions(paths) -> list[tuple[Path, str]]:
    """(path, identifier) for each submission; a folder of learner folders is expanded.

    A file or a folder holding notebooks is one submission. A folder that holds no notebook
    at its top level but has sub-folders (one per learner) gives one submission per sub-folder.
    Identifiers are the folder or file names; clashing ones are prefixed with their parent
    folder's name (nbgrader's ``submitted/<learner>/<assignment>``), then numbered.
    """
    expanded: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ValueError(f"{str(path)!r} does not exist; give notebooks or folders of them.")
        top_notebooks = list(path.glob("*.ipynb")) if path.is_dir() else []
        children = (
            sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
            if path.is_dir()
            else []
        )
        if path.is_dir() and not top_notebooks and children:
            expanded.extend(child for child in children if notebook_paths(child))
        else:
            expanded.append(path)
    bases = [submission_identifier(path) for path in expanded]
    # Learners' folders that share a name (nbgrader: submitted/<learner>/<assignment>) are
    # told apart by their parent folder's name; any remaining clash gets a number.
    bases = [
        f"{submission_identifier(path.resolve().parent)}_{base}" if bases.count(base) > 1 else base
        for path, base in zip(expanded, bases, strict=True)
    ]
    result, used = [], set()
    for path, base in zip(expanded, bases, strict=True):
        identifier, counter = base, 2
        while identifier in used:
            identifier, counter = f"{base}-{counter}", counter + 1
        used.add(identifier)
        result.append((path, identifier))
    return result


def plan(submission: Submission, rubric: Rubric, case_source):
    """Locate every function; return tasks to run, results already decided, and locations.

    ``case_source(name)`` gives a function's cases (hidden ones when grading).
    """
    indexes = [NotebookIndex(notebook) for notebook in submission.notebooks]
    tasks, decided, located_by_name, cases_by_name = [], {}, {}, {}
    for rule in rubric.functions:
        located = locate(submission, rule.name, indexes)
        located_by_name[rule.name] = located
        if located.program is None:
            decided[rule.name] = not_run(rule, located, located.status, located.problem or "")
            continue
        problems = find_delegation(located.program, list(rule.reference), rule.name)
        if problems:
            reason = "; ".join(f"{text} ({where})" for where, text in problems)
            decided[rule.name] = not_run(
                rule,
                located,
                "delegation",
                f"{reason}. A graded function must be your own code, without the reference "
                "implementation or dynamic imports: 0 points.",
            )
            continue
        cases_by_name[rule.name] = case_source(rule.name)
        tasks.append(
            Task(rule.name, located.program.source, cases_by_name[rule.name], list(rule.reference))
        )
    return tasks, decided, located_by_name, cases_by_name


def grade_one(path: Path, identifier: str, options: GradeOptions, seed: int):
    """Grade one submission and write its reports. Returns the SubmissionGrade."""
    started = time.perf_counter()
    submission = read_submission(path, identifier)
    tasks, decided, located, cases_by_name = plan(
        submission, options.rubric, lambda name: cases(name, seed)
    )
    log_path = Path(options.out_dir) / ".logs" / f"{identifier}.log"
    # The logs hold the learners' raw output and messages: the instructor's eyes only.
    log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    log_path.parent.chmod(0o700)
    log_path.write_bytes(b"")
    log_path.chmod(0o600)
    outcomes = run_tasks(tasks, options.limits, log_path) if tasks else {}
    failures = [o for o in outcomes.values() if o.state == GRADER_ERROR]
    if failures:
        raise GraderError(f"{failures[0].detail} (full log: {log_path})")
    results: list[FunctionResult] = []
    for rule in options.rubric.functions:
        if rule.name in decided:
            results.append(decided[rule.name])
        else:
            results.append(
                score(
                    rule,
                    located[rule.name],
                    outcomes[rule.name],
                    cases_by_name[rule.name],
                    options.rubric.partial_credit,
                )
            )
    notes = []
    if read_submission(path, identifier).fingerprint != submission.fingerprint:
        notes.append(
            "The submission's files changed while it was being graded (did its code write to "
            "them?). It was graded as it was when grading started."
        )
    grade = reports.SubmissionGrade(
        identifier=identifier,
        source=str(path),
        fingerprint=submission.fingerprint,
        rubric_digest=rubric_digest(options.rubric),
        limits=limits_key(options.limits),
        functions=results,
        problems=[f"{p.name} {p.reason}" for p in submission.problems],
        notes=notes,
        seconds=time.perf_counter() - started,
    )
    reports.write_submission(options.out_dir, grade, options.html)
    return grade


def already_graded(path: Path, identifier: str, options: GradeOptions) -> bool:
    existing = reports.read_report(Path(options.out_dir) / identifier)
    if existing is None:
        return False
    fingerprint = read_submission(path, identifier).fingerprint
    return (
        existing.get("fingerprint") == fingerprint
        and existing.get("rubric_digest") == rubric_digest(options.rubric)
        and existing.get("limits") == limits_key(options.limits)
        and not any(
            isinstance(f, dict) and f.get("status") == GRADER_ERROR
            for f in (existing.get("functions") or {}).values()
        )
    )


def _report_grader_error(identifier: str, options: GradeOptions, text: str, warn) -> None:
    """No new grade for this submission: keep an earlier valid report, tell the instructor.

    A failed regrade (a mistyped limit, a broken environment) must not erase a grade that
    was made before; the earlier report stays in the gradebook and the instructor is told.
    """
    folder = Path(options.out_dir) / identifier
    earlier = folder / reports.REPORT_NAME
    kept = " The earlier grade in its report was kept." if earlier.is_file() else ""
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    warn(f"nst grade: {identifier}: NOT GRADED, grader error (not the learner's): {text}{kept}")


def _print_to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def grade_submissions(
    paths, options: GradeOptions, seed_source=None, progress=print, warn=_print_to_stderr
) -> dict:
    """Grade every submission under ``paths``; return {"graded", "skipped", "failed"}.

    ``seed_source(identifier)`` gives each submission's secret seed (default: a fresh
    ``secrets.randbits(32)``, never stored); tests pass their own to know the hidden cases.
    ``failed`` lists the submissions the grader failed on (no grade; told to ``warn``).
    """
    seed_source = seed_source or (lambda identifier: secrets.randbits(32))
    out_dir = Path(options.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    submissions = expand_submissions(paths)
    names = [rule.name for rule in options.rubric.functions]
    lock = threading.Lock()
    summary = {"graded": [], "skipped": [], "failed": []}

    def work(item):
        path, identifier = item
        if not options.force and already_graded(path, identifier, options):
            with lock:
                summary["skipped"].append(identifier)
                progress(f"{identifier}: already graded (use --force to grade again)")
            return
        try:
            grade = grade_one(path, identifier, options, seed_source(identifier))
        except Exception as error:  # noqa: BLE001 - one submission never stops the run
            text = str(error) if isinstance(error, GraderError) else traceback.format_exc()
            with lock:
                _report_grader_error(identifier, options, text, warn)
                summary["failed"].append(identifier)
                reports.write_gradebook(out_dir, names)
            return
        with lock:
            summary["graded"].append(grade)
            reports.write_gradebook(out_dir, names)
            progress(f"{identifier}: {grade.total:g} / {grade.max_total:g} ({grade.seconds:.1f} s)")

    pool = ThreadPoolExecutor(max_workers=max(1, options.jobs))
    try:
        list(pool.map(work, submissions))
    except KeyboardInterrupt:
        # Submissions being graded finish; queued ones wait for the next run.
        pool.shutdown(wait=True, cancel_futures=True)
        reports.write_gradebook(out_dir, names)
        raise
    pool.shutdown(wait=True)
    reports.write_gradebook(out_dir, names)
    return summary
