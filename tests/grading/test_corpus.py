"""The grader on its corpus: the solution, the untouched release, typical mistakes, hostile code.

One grading run over the whole corpus (``tests/grading/corpus/make_corpus.py`` builds it
from the real notebooks in ``notebooks/``) with two jobs, then assertions on its reports:
expected points, status and reason for every function of every submission; a complete
gradebook; no hidden input, expected value or seed in any feedback; nothing written
outside the child's working directory.
"""

from __future__ import annotations

import csv
import json
import re
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
    expected = build_corpus(root / "submissions", outside)
    options = GradeOptions(
        out_dir=root / "out",
        rubric=load_rubric(),
        limits=Limits(timeout=12, memory_mb=4096, threads=1),
        jobs=2,
        html=True,
    )
    paths = sorted((root / "submissions").iterdir())
    summary = grade_submissions(paths, options, seed_source=seed_of, progress=lambda _: None)
    reports = {
        folder.name: json.loads((folder / "SUBMISSION.json").read_text())
        for folder in (root / "out").iterdir()
        if (folder / "SUBMISSION.json").exists()
    }
    return {"root": root, "expected": expected, "reports": reports, "summary": summary,
            "outside": outside}  # fmt: skip


def _cases():
    from tests.grading.corpus.make_corpus import (
        MISTAKES_IN_FOLDER,
        hostile_variants,
        mistake_folders,
        structure_variants,
    )

    names = ["solution", "release"]
    names += (
        list(mistake_folders()) + list(structure_variants()) + list(hostile_variants(Path("x")))
    )
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
    assert by_name["solution"]["total"] == "100"
    assert by_name["release"]["total"] == "0"
    # A hostile function costs only itself: the other four keep their points.
    for name in (
        "folder_infinite_loop",
        "folder_os_exit",
        "folder_memory_bomb",
        "folder_patches_numpy_and_tf",
    ):
        assert by_name[name]["total"] == "80", name
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
    out = graded["root"] / "out"
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
    log = (graded["root"] / "out" / ".logs" / "folder_mixed_hostile.log").read_text()
    assert "score: 100" in log  # printed, and ignored


def test_child_controlled_text_never_reaches_the_feedback(graded):
    out = graded["root"] / "out" / "folder_feedback_secrecy"
    texts = [(out / name).read_text() for name in ("feedback.md", "feedback.html")]
    functions = graded["reports"]["folder_feedback_secrecy"]["functions"]
    texts.append(json.dumps(functions))
    assert "LEAK" in (out.parent.parent / "submissions" / "folder_feedback_secrecy"
                      / "1_content_cost.ipynb").read_text()  # fmt: skip
    for text in texts:
        assert "LEAK" not in text
        assert "Traceback" not in text and "/tmp" not in text
    # A blocked action repeated three times is said once.
    assert functions["total_cost"]["reason"].count("outside its working directory") == 1
    # The full message is for the instructor only: it is in the log.
    log = (graded["root"] / "out" / ".logs" / "folder_feedback_secrecy.log").read_text()
    assert "LEAK" in log and "ValueError" in log


def test_feedback_hides_the_hidden_inputs_sizes_and_is_valid_markdown(graded):
    out = graded["root"] / "out"
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
    # The mistake is still named, without its sizes.
    wrong_order = [
        report["functions"]["gram_matrix"]["reason"]
        for report in graded["reports"].values()
        if "transpose(A)·A" in report["functions"]["gram_matrix"]["reason"]
    ]
    assert wrong_order and "(…)" in wrong_order[0]


def test_a_missing_function_names_no_notebook(graded):
    functions = graded["reports"]["missing_function"]["functions"]
    assert functions["gram_matrix"]["status"] == "missing"
    assert functions["gram_matrix"]["notebook"] is None
