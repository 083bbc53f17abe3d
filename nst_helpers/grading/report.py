"""Write the gradebook and the per-submission reports, each file atomically.

Layout of the output folder (a learner's folder name can never collide with the
grader's own files: reports and logs each live in a folder of their own, and identifiers
never start with a dot nor contain ``~`` unless the grader put it there)::

    grades.csv                          one row per submission: its folder, one column per
                                        function, total, and the sandbox it ran in
    reports/<submission>/SUBMISSION.json  scores, statuses, reasons, timings, which definition counted
    reports/<submission>/feedback.md    for the learner (and feedback.html with --html)
    logs/<submission>.log               what the learner's code printed (instructors only)
    logs/~sandbox.log                   what the sandboxes printed while starting

Every file is written to a temporary name in the same folder and moved into place with
``os.replace``, so an interrupted run leaves either the old file or the new one. The
gradebook is rebuilt from all SUBMISSION.json files, so it is complete after any rerun.
Nothing here knows hidden inputs: reasons arrive already scrubbed (``score.scrub``).
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from nst_helpers import files
from nst_helpers.grading.learner_text import one_line
from nst_helpers.grading.score import FunctionResult

REPORT_NAME = "SUBMISSION.json"
GRADEBOOK_NAME = "grades.csv"
REPORTS_FOLDER = "reports"
LOGS_FOLDER = "logs"
FORMAT_VERSION = 2


def report_folder(out_dir, identifier: str) -> Path:
    return Path(out_dir) / REPORTS_FOLDER / identifier


def log_path(out_dir, identifier: str) -> Path:
    return Path(out_dir) / LOGS_FOLDER / f"{identifier}.log"


def sandbox_log_path(out_dir) -> Path:
    return Path(out_dir) / LOGS_FOLDER / "~sandbox.log"


def prepare_output(out_dir) -> None:
    """Make the output folders; the logs (raw learner output) are the instructor's only.

    Raises:
        ValueError: a path the grader writes is taken by something else (a file named
            like the folder ``reports``, a folder named ``grades.csv``).
    """
    out_dir = Path(out_dir)
    for folder, mode in ((out_dir, None), (out_dir / REPORTS_FOLDER, None),
                         (out_dir / LOGS_FOLDER, 0o700)):  # fmt: skip
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{str(folder)!r} is not a folder; choose another --out.")
        folder.mkdir(parents=True, exist_ok=True)
        if mode is not None:
            folder.chmod(mode)
    gradebook = out_dir / GRADEBOOK_NAME
    if gradebook.exists() and not gradebook.is_file():
        raise ValueError(f"{str(gradebook)!r} is not a file; remove it or choose another --out.")


@dataclass
class SubmissionGrade:
    """The grade of one submission."""

    identifier: str
    source: str
    fingerprint: str
    rubric_digest: str
    functions: list[FunctionResult]
    limits: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sandbox: str = "bwrap"

    @property
    def total(self) -> float:
        return round(sum(f.points for f in self.functions), 2)

    @property
    def max_total(self) -> float:
        return round(sum(f.max_points for f in self.functions), 2)

    def to_json(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "submission": self.identifier,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "rubric_digest": self.rubric_digest,
            "limits": self.limits,
            "total": self.total,
            "max_total": self.max_total,
            "seconds": round(self.seconds, 3),
            "sandbox": self.sandbox,
            "problems": self.problems,
            "notes": self.notes,
            "functions": {f.name: f.to_json() for f in self.functions},
        }


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all (``nst_helpers.files``)."""
    files.write_atomically(path, text.encode("utf-8"))


def _points(value: float) -> str:
    return f"{value:g}"


def feedback_markdown(grade: SubmissionGrade) -> str:
    lines = [
        f"# Feedback for {grade.identifier}",
        "",
        f"**Total: {_points(grade.total)} / {_points(grade.max_total)}**",
        "",
        "| function | points | result |",
        "|---|---|---|",
    ]
    for result in grade.functions:
        lines.append(
            f"| `{result.name}` | {_points(result.points)} / {_points(result.max_points)} "
            f"| {result.status} |"
        )
    # Every list item is one line: a line break inside a reason would end the item.
    for problem in grade.problems:
        lines += ["", f"- File problem: {one_line(problem)}"]
    for note in grade.notes:
        lines += ["", f"- Note: {one_line(note)}"]
    for result in grade.functions:
        lines += [
            "",
            f"## `{result.name}`: {_points(result.points)} / {_points(result.max_points)}",
        ]
        lines.append("")
        if result.notebook and result.cell:
            where = f"{result.notebook}, {result.cell}"
            lines.append(one_line(f"- Where: {where}. {result.definition}"))
        lines.append(one_line(f"- Result ({result.status}): {result.reason}"))
        for note in result.notes:
            lines.append(one_line(f"- Note: {note}"))
    lines += [
        "",
        "The hidden tests use inputs made for this grading run; their values are not shown. "
        "Run `nst validate YOUR_NOTEBOOK.ipynb` to check your notebook on the public cases.",
        "",
    ]
    return "\n".join(lines)


def feedback_html(grade: SubmissionGrade) -> str:
    escape = html.escape
    rows = "".join(
        f"<tr><td><code>{escape(r.name)}</code></td><td>{_points(r.points)} / "
        f"{_points(r.max_points)}</td><td>{escape(r.status)}</td></tr>"
        for r in grade.functions
    )
    sections = []
    for r in grade.functions:
        items = []
        if r.notebook and r.cell:
            where = f"{r.notebook}, {r.cell}"
            items.append(f"<li>Where: {escape(where)}. {escape(r.definition)}</li>")
        items.append(f"<li>Result ({escape(r.status)}): {escape(r.reason)}</li>")
        items += [f"<li>Note: {escape(n)}</li>" for n in r.notes]
        sections.append(
            f"<h2><code>{escape(r.name)}</code>: {_points(r.points)} / {_points(r.max_points)}"
            f"</h2><ul>{''.join(items)}</ul>"
        )
    extra = "".join(f"<p>File problem: {escape(p)}</p>" for p in grade.problems)
    extra += "".join(f"<p>Note: {escape(n)}</p>" for n in grade.notes)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Feedback for {escape(grade.identifier)}</title>"
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}"
        "td,th{border:1px solid #ccc;padding:.3em .6em}table{border-collapse:collapse}</style>"
        f"</head><body><h1>Feedback for {escape(grade.identifier)}</h1>"
        f"<p><strong>Total: {_points(grade.total)} / {_points(grade.max_total)}</strong></p>"
        f"<table><tr><th>function</th><th>points</th><th>result</th></tr>{rows}</table>"
        f"{extra}{''.join(sections)}</body></html>\n"
    )


def write_submission(out_dir: Path, grade: SubmissionGrade, with_html: bool) -> Path:
    """Write SUBMISSION.json and the feedback of one submission; return its folder."""
    folder = report_folder(out_dir, grade.identifier)
    write_atomically(folder / "feedback.md", feedback_markdown(grade))
    if with_html:
        write_atomically(folder / "feedback.html", feedback_html(grade))
    # The report is written last: its presence means "graded" to a rerun.
    write_atomically(folder / REPORT_NAME, json.dumps(grade.to_json(), indent=2) + "\n")
    return folder


def read_report(folder: Path) -> dict | None:
    """A submission's SUBMISSION.json, or None when absent or unreadable."""
    try:
        data = json.loads((Path(folder) / REPORT_NAME).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("format_version") == FORMAT_VERSION else None


_SANDBOX_LABELS = {"bwrap": "bubblewrap", "none": "NONE (trusted code only)"}


def write_gradebook(out_dir: Path, function_names: list[str]) -> Path:
    """Rebuild grades.csv from every report in ``out_dir/reports``.

    Each row says which folder (or notebook) it came from and which sandbox its code ran
    in; a row graded without a sandbox says so.
    """
    out_dir = Path(out_dir)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "folder", *function_names, "total", "max_total", "sandbox"])
    folders = out_dir / REPORTS_FOLDER
    for folder in sorted(p for p in folders.iterdir() if p.is_dir()) if folders.is_dir() else []:
        report = read_report(folder)
        if report is None:
            continue
        functions = report.get("functions", {})
        row = [report.get("submission", folder.name), report.get("source", "")]
        for name in function_names:
            entry = functions.get(name)
            row.append(_points(entry["points"]) if isinstance(entry, dict) else "")
        row += [_points(report.get("total", 0)), _points(report.get("max_total", 0))]
        row.append(_SANDBOX_LABELS.get(report.get("sandbox"), str(report.get("sandbox"))))
        writer.writerow(row)
    path = out_dir / GRADEBOOK_NAME
    write_atomically(path, buffer.getvalue())
    return path
