"""The grader on its corpus: the solution, the release, mistakes, hostile code, the attacks.

One grading run over the whole corpus (``tests/grading/corpus/make_corpus.py`` builds it
from the real notebooks in ``notebooks/``, ``attacks.py`` adds the attacks of issue 8 and
the fairness cases) with two jobs, sandboxed with bubblewrap, then assertions on its
reports: expected points, status and reason for every function of every submission; a
complete gradebook; no hidden input, expected value, seed or path in any feedback;
nothing written outside the sandbox; nothing sent over the network; and, after a bounded
wait, no process of the run alive and no file of the output or the submissions changed.

bubblewrap is required here (CI installs it): without it these tests fail, they are not
skipped.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from nst_helpers.grading.pipeline import GradeOptions, grade_submissions  # noqa: E402
from nst_helpers.grading.rubric import load_rubric  # noqa: E402
from nst_helpers.grading.runner import Limits  # noqa: E402
from tests.grading.corpus.make_corpus import NOTEBOOK_OF, build_corpus

SEED_BASE = 7_000_001


def seed_of(identifier: str) -> int:
    """A fixed secret per submission, so that the test knows the hidden cases."""
    return SEED_BASE + sum(ord(c) for c in identifier) * 131


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    outside = root / "outside" / "pwned.txt"
    outside.parent.mkdir()
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.setblocking(False)
    expected = build_corpus(root / "submissions", outside, listener.getsockname()[1])
    options = GradeOptions(
        out_dir=root / "out",
        rubric=load_rubric(),
        limits=Limits(timeout=45, memory_mb=4096, threads=1),
        jobs=2,
        html=True,
    )
    paths = sorted((root / "submissions").iterdir())
    warnings = []
    summary = grade_submissions(
        paths, options, seed_source=seed_of, progress=lambda _: None, warn=warnings.append
    )
    summary["warnings"] = warnings
    after_run = tree_digest(root)
    reports = {
        folder.name: json.loads((folder / "SUBMISSION.json").read_text())
        for folder in (root / "out" / "reports").iterdir()
        if (folder / "SUBMISSION.json").exists()
    }
    yield {"root": root, "expected": expected, "reports": reports, "summary": summary,
           "outside": outside, "listener": listener, "after_run": after_run}  # fmt: skip
    listener.close()


def tree_digest(root: Path) -> dict[str, str]:
    """{path: sha256 or link target or kind} of everything under ``root`` (FIFOs unread)."""
    found = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "link:" + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = "dir" if path.is_dir() else "special"
    return found


def processes_of_run(token: str) -> list[int]:
    """Processes whose environment carries the run's marker (its sandboxes and children)."""
    marker = f"NST_SANDBOX_RUN={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _cases():
    from tests.grading.corpus.make_corpus import MISTAKES_IN_FOLDER, all_variants

    names = ["solution", "release", *all_variants(Path("x"))]
    return [
        pytest.param(
            name,
            function,
            id=f"{name}-{function}-{MISTAKES_IN_FOLDER.get(name, {}).get(function, '')}".rstrip(
                "-"
            ),
        )
        for name in names
        for function in NOTEBOOK_OF
    ]


@pytest.mark.parametrize(("submission", "function"), _cases())
def test_expected_score_status_and_reason(graded, submission, function):
    points, statuses, phrase = graded["expected"][submission][function]
    result = graded["reports"][submission]["functions"][function]
    context = f"{submission}/{function}: {result['status']} {result['reason']!r}"
    assert result["points"] == points, context
    assert result["status"] in statuses, context
    text = " ".join([result["reason"], result["definition"], *result["notes"]])
    assert phrase in text, context


def test_every_submission_is_in_the_gradebook(graded):
    with open(graded["root"] / "out" / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["submission"] for row in rows) == sorted(graded["expected"])
    by_name = {row["submission"]: row for row in rows}
    for name, row in by_name.items():  # each row says which folder it came from
        assert row["folder"] in [str(graded["root"] / "submissions" / f"{name}{suffix}")
                                 for suffix in ("", ".ipynb")], row  # fmt: skip
        assert row["sandbox"] == "bubblewrap"
    assert by_name["solution"]["total"] == "100"
    assert by_name["release"]["total"] == "0"
    # A hostile function costs only itself: the other four keep their points.
    for name in (
        "folder_infinite_loop",
        "folder_os_exit",
        "folder_memory_bomb",
        "folder_patches_numpy_and_tf",
        "attack_forged_results",
        "attack_forged_frames",
        "attack_outliving_the_run",
        "attack_stopping_the_grader",
    ):
        assert by_name[name]["total"] == "80", name
    assert not graded["summary"]["warnings"]
    assert by_name["attack_class_patch_between_functions"]["total"] == "100"
    # A learner folder named like the gradebook, and one named _solution beside solution.
    assert by_name["grades.csv"]["gram_matrix"] == "20"
    assert by_name["_solution"]["gram_matrix"] == "0"
    assert not graded["summary"]["failed"]


def test_writing_outside_the_working_directory_was_blocked(graded):
    assert not graded["outside"].exists()


def test_reports_say_which_definition_counts(graded):
    duplicated = graded["reports"]["duplicated_wrong_last"]["functions"]["gram_matrix"]
    assert "cell 9" in duplicated["definition"] and duplicated["cell"] == "cell 9"
    assert graded["reports"]["solution"]["functions"]["train_step"]["seconds"] > 0


def _hidden_value_texts(identifier: str) -> set[str]:
    from nst_helpers.checks import GRADED_FUNCTIONS, cases

    texts = {str(seed_of(identifier))}
    for name in GRADED_FUNCTIONS:
        for case in cases(name, seed_of(identifier)):
            for array in case.values():
                for value in np.ravel(array)[:200]:
                    value = float(value)
                    if abs(value) >= 1e-3 and value != round(value):
                        texts |= {f"{value:.4f}", f"{value:.3g}", f"{value:.6g}"}
    return {text for text in texts if len(text) >= 4}


def test_feedback_never_shows_hidden_inputs_expected_values_or_seed(graded):
    decimal = re.compile(r"\d\.\d")
    out = graded["root"] / "out" / "reports"
    checked = 0
    for identifier, report in graded["reports"].items():
        hidden = _hidden_value_texts(identifier)
        feedback = [
            (out / identifier / name).read_text() for name in ("feedback.md", "feedback.html")
        ]
        learner_text = [
            " ".join([f["reason"], f["definition"], *f["notes"]])
            for f in report["functions"].values()
        ]
        for text in feedback + learner_text:
            assert not decimal.search(text), (identifier, decimal.search(text))
            leaked = [h for h in hidden if h in text]
            assert not leaked, (identifier, leaked[:5])
        assert str(seed_of(identifier)) not in json.dumps(report)
        checked += 1
    assert checked == len(graded["expected"])


def test_printed_fake_scores_do_not_count(graded):
    assert graded["reports"]["folder_mixed_hostile"]["total"] == 0
    log = (graded["root"] / "out" / "logs" / "folder_mixed_hostile.log").read_text()
    assert "score: 100" in log  # printed, and ignored


def test_child_controlled_text_never_reaches_the_feedback(graded):
    out = graded["root"] / "out" / "reports" / "folder_feedback_secrecy"
    texts = [(out / name).read_text() for name in ("feedback.md", "feedback.html")]
    functions = graded["reports"]["folder_feedback_secrecy"]["functions"]
    texts.append(json.dumps(functions))
    assert "LEAK" in (graded["root"] / "submissions" / "folder_feedback_secrecy"
                      / "1_content_cost.ipynb").read_text()  # fmt: skip
    for text in texts:
        assert "LEAK" not in text
        assert "Traceback" not in text and "/tmp" not in text
    # A blocked action repeated three times is said once.
    assert functions["total_cost"]["reason"].count("outside its working directory") == 1
    # The full message is for the instructor only: it is in the log.
    log = (graded["root"] / "out" / "logs" / "folder_feedback_secrecy.log").read_text()
    assert "LEAK" in log and "ValueError" in log


def test_feedback_hides_the_hidden_inputs_sizes_and_is_valid_markdown(graded):
    out = graded["root"] / "out" / "reports"
    integer_tuple = re.compile(r"\(\d+,\s*\d+")
    equals_number = re.compile(r"= \d")
    for identifier in graded["reports"]:
        feedback = (out / identifier / "feedback.md").read_text()
        assert not integer_tuple.search(feedback), (identifier, integer_tuple.search(feedback))
        assert not equals_number.search(feedback), (identifier, equals_number.search(feedback))
        # Each non-blank line is a heading, a table row, a list item or a known paragraph:
        # a reason broken over several lines would leave stray lines.
        for line in feedback.splitlines():
            assert not line or line.startswith(("#", "|", "- ", "**", "The hidden tests")), (
                identifier,
                line,
            )
    # The mistake is still named, its shape in symbols rather than the hidden sizes.
    wrong_order = [
        report["functions"]["gram_matrix"]["reason"]
        for report in graded["reports"].values()
        if "transpose(A)·A" in report["functions"]["gram_matrix"]["reason"]
    ]
    assert wrong_order and "shape (n_H*n_W, n_H*n_W)" in wrong_order[0]


def test_a_missing_function_names_no_notebook(graded):
    functions = graded["reports"]["missing_function"]["functions"]
    assert functions["gram_matrix"]["status"] == "missing"
    assert functions["gram_matrix"]["notebook"] is None


def test_no_process_outlives_the_run_and_nothing_changes_afterwards(graded):
    """'Still right a minute later', bounded: poll for any process of the run (its marker
    is in the environment of every sandboxed process) for up to 10 s, then compare every
    file of the output and the submissions with the state right after the run, 5 s later."""
    token = graded["summary"]["run_token"]
    deadline = time.monotonic() + 10
    while processes_of_run(token) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of_run(token) == []
    time.sleep(5)
    assert tree_digest(graded["root"]) == graded["after_run"]
    assert not graded["outside"].exists()


def test_nothing_reached_the_network(graded):
    with pytest.raises(BlockingIOError):
        graded["listener"].recv(65536)


def test_hostile_files_are_named_in_the_feedback_not_read(graded):
    problems = {name: " ".join(r["problems"]) for name, r in graded["reports"].items()}
    assert "not a regular file" in problems["supervisor_fifo_notebook"]
    assert (
        "symbolic link to a file outside the submission" in problems["supervisor_link_to_dev_zero"]
    )
    assert "symbolic link" in problems["supervisor_link_to_another_learner"]
    feedback = graded["root"] / "out" / "reports" / "supervisor_fifo_notebook" / "feedback.md"
    assert "not a regular file" in feedback.read_text()


def test_feedback_shows_no_path_of_the_grader(graded):
    for identifier in graded["reports"]:
        for name in ("feedback.md", "feedback.html"):
            text = (graded["root"] / "out" / "reports" / identifier / name).read_text()
            for secret in (str(graded["root"]), "/tmp/", "nst-grade", "/proc/"):
                assert secret not in text, (identifier, secret)


def test_the_attacks_were_stopped_by_the_sandbox_not_by_luck(graded):
    """What the logs show the hostile code met: read-only files, no processes, no network."""
    logs = graded["root"] / "out" / "logs"
    secrets_log = (logs / "attack_secrets_and_network.log").read_text()
    assert "ValueError" in secrets_log  # it ran, found what it could, and raised
    hunt = graded["reports"]["attack_delegation_at_run_time"]["functions"]["gram_matrix"]
    assert hunt["points"] == 0 and hunt["status"] != "passed"
