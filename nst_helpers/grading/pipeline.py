"""Grade many submissions, in parallel, into a gradebook: the work behind ``nst grade``.

For each submission: read it (``course.notebooks``: regular files only, size-capped),
find each graded function (``course.locate``), refuse what its allow-list does not permit
(``delegation``), draw a secret seed and make the hidden cases (``checks.cases``), run
each function in a fresh namespaced child of a sandbox (``runner``), judge and score it
here (``score``), and write the reports (``report``). Submissions run in ``jobs`` threads
sharing a pool of sandboxes. A submission whose report already exists for the same
files, rubric and limits is skipped unless ``force``.

Nothing a submission does can stop the run: every failure of the learner's code, code
too complex to analyse included, becomes a reason in a report. A failure of the grader
itself (a sandbox that does not start; an internal exception) is not the learner's: that
submission gets no new report (an earlier one is kept), the instructor is told on
standard error, and the run ends with ``failed`` set. Interrupted (SIGINT, SIGTERM: the
command turns both into ``KeyboardInterrupt``), the run kills every sandbox, writes no
report for the submissions being graded, and removes its temporary folders.
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
from functools import cache
from pathlib import Path

from nst_helpers.checks import cases, exercise
from nst_helpers.course.extract import NotebookIndex
from nst_helpers.course.locate import TOO_COMPLEX, Located, locate
from nst_helpers.course.notebooks import (
    NotebookProblem,
    Submission,
    encode_name,
    notebook_paths,
    read_submission,
    submission_identifier,
)
from nst_helpers.grading import report as reports
from nst_helpers.grading import sandbox, stubs
from nst_helpers.grading.delegation import find_delegation
from nst_helpers.grading.rubric import Rubric
from nst_helpers.grading.runner import Limits, SandboxPool, Task, run_tasks
from nst_helpers.grading.score import GRADER_ERROR, FunctionResult, not_run, score


@dataclass
class GradeOptions:
    out_dir: Path
    rubric: Rubric
    limits: Limits
    jobs: int = 1
    force: bool = False
    html: bool = False
    #: "bwrap" (bubblewrap) or "none" (trusted code only; a warning goes into every report)
    sandbox: str = "bwrap"


def rubric_digest(rubric: Rubric) -> str:
    text = json.dumps(
        [[r.name, r.points, list(r.allowed)] for r in rubric.functions] + [rubric.partial_credit]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def limits_key(limits: Limits, mode: str = "bwrap") -> dict:
    """The limits a grade depends on (a rerun with other limits grades again)."""
    return {
        "timeout": float(limits.timeout),
        "memory_mb": int(limits.memory_mb),
        "budget": float(limits.budget),
        "sandbox": mode,
    }


class GraderError(Exception):
    """The grader, not the learner's code, failed on a submission: it gets no grade."""


@dataclass(frozen=True)
class SubmissionPath:
    """A submission to grade: where it is, its identifier, and whether links are followed."""

    path: Path
    identifier: str
    follow_links: bool = True


def expand_submissions(paths) -> list[SubmissionPath]:
    """The submissions under ``paths``; a folder of learner folders is expanded.

    A file or a folder holding notebooks is one submission. A folder that holds no notebook
    at its top level but has sub-folders (one per learner) gives one submission per
    sub-folder; a sub-folder that is a symbolic link is not followed (its row says so).
    Identifiers are the names encoded one-to-one (``encode_name``), so ``_alice`` and
    ``alice`` never meet; submissions of the same name from different folders (nbgrader's
    ``submitted/<learner>/<assignment>``) get their parent folder's name in front
    (``alice~ps1``). The same arguments always give the same identifiers.

    Raises:
        ValueError: a path does not exist, or two submissions would still share an
            identifier (the message names them).
    """
    found: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise ValueError(f"{str(path)!r} does not exist; give notebooks or folders of them.")
        is_class = False
        if path.is_dir():
            top_notebooks = [p for p in path.iterdir() if p.name.endswith(".ipynb")]
            children = sorted(
                p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")
            )
            if not top_notebooks and children:
                is_class = True
                for child in children:
                    if child.is_symlink():
                        found.append((child, False))
                    elif notebook_paths(child):
                        found.append((child, True))
        if not is_class:
            found.append((path, True))
    bases = [submission_identifier(path) for path, _ in found]
    identifiers = [
        f"{encode_name(path.absolute().parent.name)}~{base}" if bases.count(base) > 1 else base
        for (path, _), base in zip(found, bases, strict=True)
    ]
    clashes = sorted({i for i in identifiers if identifiers.count(i) > 1})
    if clashes:
        clashing = [
            str(path) for (path, _), i in zip(found, identifiers, strict=True) if i in clashes
        ]
        raise ValueError(
            f"these submissions would share a report ({', '.join(clashes)}): "
            f"{', '.join(clashing)}. Grade them in separate runs with separate --out folders, "
            "or rename them."
        )
    return [
        SubmissionPath(path, identifier, follow)
        for (path, follow), identifier in zip(found, identifiers, strict=True)
    ]


@cache
def _sandbox_package(name: str) -> tuple[dict, tuple[str, str]]:
    the_exercise = exercise(name)
    return stubs.sandbox_package(the_exercise), stubs.run_case_name(the_exercise)


def _locate(submission: Submission, name: str, indexes) -> Located:
    try:
        return locate(submission, name, indexes)
    except (RecursionError, MemoryError):
        located = Located(name=name, status="too complex")
        located.problem = TOO_COMPLEX.format(name=name, cell="its cell")
        return located


def _indexes(submission: Submission) -> tuple[list[NotebookIndex], list[NotebookProblem]]:
    indexes, problems = [], []
    for notebook in submission.notebooks:
        try:
            indexes.append(NotebookIndex(notebook))
        except (RecursionError, MemoryError):
            problems.append(
                NotebookProblem(notebook.path, "is too complex for the grader to analyse.")
            )
    return indexes, problems


def plan(submission: Submission, rubric: Rubric, case_source):
    """Locate every function; return tasks to run, results already decided, and locations.

    ``case_source(name)`` gives a function's cases (hidden ones when grading).
    """
    indexes, _ = _indexes(submission)
    tasks, decided, located_by_name, cases_by_name = [], {}, {}, {}
    for rule in rubric.functions:
        located = _locate(submission, rule.name, indexes)
        located_by_name[rule.name] = located
        if located.program is None:
            decided[rule.name] = not_run(rule, located, located.status, located.problem or "")
            continue
        try:
            problems = find_delegation(located.program, rule.allowed, rule.name)
        except (RecursionError, MemoryError):
            problem = TOO_COMPLEX.format(name=rule.name, cell=located.cell)
            decided[rule.name] = not_run(rule, located, "too complex", problem)
            continue
        if problems:
            reason = "; ".join(f"{text} ({where})" for where, text in problems[:5])
            decided[rule.name] = not_run(
                rule,
                located,
                "delegation",
                f"{reason}. A graded function must be your own code, using only the helpers "
                "the exercise allows and no dynamic imports or introspection: 0 points.",
            )
            continue
        cases_by_name[rule.name] = case_source(rule.name)
        package, run_case = _sandbox_package(rule.name)
        tasks.append(
            Task(rule.name, located.program.source, cases_by_name[rule.name], package, run_case)
        )
    return tasks, decided, located_by_name, cases_by_name


def _read(item: SubmissionPath) -> Submission:
    return read_submission(item.path, item.identifier, follow_links=item.follow_links)


def grade_one(item: SubmissionPath, options: GradeOptions, seed: int, pool: SandboxPool, stop=None):
    """Grade one submission and write its reports. Returns the SubmissionGrade, or None
    when ``stop`` was set meanwhile (nothing written)."""
    started = time.perf_counter()
    identifier = item.identifier
    submission = _read(item)
    tasks, decided, located, cases_by_name = plan(
        submission, options.rubric, lambda name: cases(name, seed)
    )
    log_path = reports.log_path(options.out_dir, identifier)
    log_path.write_bytes(b"")
    log_path.chmod(0o600)
    outcomes = run_tasks(tasks, options.limits, log_path, pool) if tasks else {}
    if stop is not None and stop.is_set():
        return None
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
    if options.sandbox == "none":
        notes.append(sandbox.NO_SANDBOX_WARNING)
    if _read(item).fingerprint != submission.fingerprint:
        notes.append(
            "The submission's files changed while it was being graded. It was graded as it "
            "was when grading started."
        )
    grade = reports.SubmissionGrade(
        identifier=identifier,
        source=str(item.path),
        fingerprint=submission.fingerprint,
        rubric_digest=rubric_digest(options.rubric),
        limits=limits_key(options.limits, options.sandbox),
        functions=results,
        problems=[f"{p.name} {p.reason}" for p in submission.problems],
        notes=notes,
        seconds=time.perf_counter() - started,
        sandbox=options.sandbox,
    )
    reports.write_submission(options.out_dir, grade, options.html)
    return grade


def already_graded(item: SubmissionPath, options: GradeOptions) -> bool:
    existing = reports.read_report(reports.report_folder(options.out_dir, item.identifier))
    if existing is None:
        return False
    return (
        existing.get("fingerprint") == _read(item).fingerprint
        and existing.get("source") == str(item.path)
        and existing.get("rubric_digest") == rubric_digest(options.rubric)
        and existing.get("limits") == limits_key(options.limits, options.sandbox)
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
    earlier = reports.report_folder(options.out_dir, identifier) / reports.REPORT_NAME
    kept = " The earlier grade in its report was kept." if earlier.is_file() else ""
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

    Raises:
        ValueError: a path does not exist, identifiers clash, or the sandbox is unavailable
            (``sandbox.INSTALL_HINT``).
    """
    seed_source = seed_source or (lambda identifier: secrets.randbits(32))
    out_dir = Path(options.out_dir)
    sandbox.check_mode(options.sandbox)
    submissions = expand_submissions(paths)
    reports.prepare_output(out_dir)
    names = [rule.name for rule in options.rubric.functions]
    lock = threading.Lock()
    stop = threading.Event()
    summary = {"graded": [], "skipped": [], "failed": []}
    if options.sandbox == "none":
        warn(f"nst grade: {sandbox.NO_SANDBOX_WARNING}")
    pool = SandboxPool(options.sandbox, options.limits, reports.sandbox_log_path(out_dir))

    def work(item: SubmissionPath):
        if stop.is_set():
            return
        if not options.force and already_graded(item, options):
            with lock:
                summary["skipped"].append(item.identifier)
                progress(f"{item.identifier}: already graded (use --force to grade again)")
            return
        try:
            grade = grade_one(item, options, seed_source(item.identifier), pool, stop)
        except Exception as error:  # noqa: BLE001 - one submission never stops the run
            if stop.is_set():
                return
            text = str(error) if isinstance(error, GraderError) else traceback.format_exc()
            with lock:
                _report_grader_error(item.identifier, options, text, warn)
                summary["failed"].append(item.identifier)
                reports.write_gradebook(out_dir, names)
            return
        if grade is None:
            return
        with lock:
            summary["graded"].append(grade)
            reports.write_gradebook(out_dir, names)
            progress(
                f"{item.identifier}: {grade.total:g} / {grade.max_total:g} ({grade.seconds:.1f} s)"
            )

    executor = ThreadPoolExecutor(max_workers=max(1, options.jobs))
    try:
        futures = [executor.submit(work, item) for item in submissions]
        for future in futures:
            while not future.done():
                time.sleep(0.05)
            future.result()
    except BaseException:
        stop.set()
        pool.close()
        executor.shutdown(wait=True, cancel_futures=True)
        reports.write_gradebook(out_dir, names)
        raise
    finally:
        pool.close()
    executor.shutdown(wait=True)
    summary["run_token"] = pool.run_token
    summary["sandboxes_started"] = pool.started
    summary["sandbox_startup_seconds"] = list(pool.startup_seconds)
    reports.write_gradebook(out_dir, names)
    return summary
