"""``nst grade`` and ``nst validate`` from the command line: options, reruns, exit codes."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from nst_helpers import cli
from tests.conftest import ROOT

SOLUTIONS = ROOT / "notebooks" / "solutions"
RELEASE_NAMES = sorted(p.name for p in SOLUTIONS.glob("*.ipynb"))


def cheap_submissions(folder: Path) -> list[Path]:
    """Submissions the grader decides without starting a child process."""
    folder.mkdir()
    (folder / "broken.ipynb").write_text("not json")
    notebook = json.loads((SOLUTIONS / "2_gram_matrix.ipynb").read_text())
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if "# GRADED FUNCTION: gram_matrix" in text:
            cell["source"] = text.replace("GA = tf.matmul(A, tf.transpose(A))", "GA = (")
    (folder / "typo.ipynb").write_text(json.dumps(notebook))
    return sorted(folder.iterdir())


def rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def test_grade_writes_gradebook_reports_and_html(tmp_path, capsys):
    submissions = cheap_submissions(tmp_path / "in")
    out = tmp_path / "out"
    assert cli.main(["grade", *map(str, submissions), "--out", str(out), "--html"]) == 0
    assert set(rows(out)) == {"broken", "typo"}
    assert rows(out)["typo"]["gram_matrix"] == "0"
    report = json.loads((out / "reports" / "typo" / "SUBMISSION.json").read_text())
    assert report["functions"]["gram_matrix"]["status"] == "syntax error"
    assert (out / "reports" / "typo" / "feedback.html").exists()
    assert (out / "reports" / "broken" / "feedback.md").exists()
    assert "Graded 2" in capsys.readouterr().out


def test_rerun_skips_graded_submissions_and_recovers_lost_files(tmp_path, capsys):
    submissions = [str(p) for p in cheap_submissions(tmp_path / "in")]
    out = tmp_path / "out"
    arguments = ["grade", *submissions, "--out", str(out)]
    assert cli.main(arguments) == 0
    capsys.readouterr()
    assert cli.main(arguments) == 0
    assert "Graded 0, skipped 2" in capsys.readouterr().out
    # An interrupted run: one report and the gradebook lost. The rerun grades only that one.
    (out / "reports" / "typo" / "SUBMISSION.json").unlink()
    (out / "grades.csv").unlink()
    assert cli.main(arguments) == 0
    assert "Graded 1, skipped 1" in capsys.readouterr().out
    assert set(rows(out)) == {"broken", "typo"}
    assert cli.main([*arguments, "--force"]) == 0
    assert "Graded 2, skipped 0" in capsys.readouterr().out
    # A changed submission is graded again without --force.
    Path(submissions[0]).write_text("still not json, but different")
    assert cli.main(arguments) == 0
    assert "Graded 1, skipped 1" in capsys.readouterr().out


def test_grade_usage_errors_exit_2(tmp_path, capsys):
    assert cli.main(["grade"]) == 2
    assert cli.main(["grade", str(tmp_path / "missing.ipynb"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    notebook = cheap_submissions(tmp_path / "in")[0]
    assert cli.main(["grade", str(notebook), "--rubric", str(tmp_path / "none.json")]) == 2
    assert cli.main(["grade", str(notebook), "--jobs", "0"]) == 2
    assert cli.main(["grade", "--show-rubric"]) == 0
    assert '"gram_matrix"' in capsys.readouterr().out


def test_a_folder_of_learner_folders_gives_one_submission_each(tmp_path):
    from nst_helpers.grading.pipeline import expand_submissions

    for learner in ("alice", "bob"):
        (tmp_path / "class" / learner).mkdir(parents=True)
        (tmp_path / "class" / learner / "1.ipynb").write_text("{}")
    (tmp_path / "single.ipynb").write_text("{}")
    found = expand_submissions([tmp_path / "class", tmp_path / "single.ipynb"])
    assert [item.identifier for item in found] == ["alice", "bob", "single"]
    # The same folder twice would share one report: refused, naming both.
    with pytest.raises(ValueError, match="would share a report"):
        expand_submissions([tmp_path / "class", tmp_path / "class" / "bob"])
    for learner in ("alice", "bob"):  # nbgrader's layout: submitted/<learner>/<assignment>
        (tmp_path / "submitted" / learner / "ps1").mkdir(parents=True)
        (tmp_path / "submitted" / learner / "ps1" / "1.ipynb").write_text("{}")
    found = expand_submissions(sorted((tmp_path / "submitted").glob("*/ps1")))
    assert [item.identifier for item in found] == ["alice~ps1", "bob~ps1"]


def test_validate_solutions_pass_and_release_fails_every_function(tmp_path, capsys):
    release = tmp_path / "release"
    release.mkdir()
    for name in RELEASE_NAMES:
        shutil.copy(ROOT / "notebooks" / name, release / name)
    assert cli.main(["validate", str(SOLUTIONS)]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 5 and "public test case" in out and "Summary" not in out
    assert cli.main(["validate", "--invert", str(release)]) == 0
    assert "every graded function fails" in capsys.readouterr().out
    # The solution is not a release: --invert must fail on it.
    assert cli.main(["validate", "--invert", str(SOLUTIONS / "4_total_cost.ipynb")]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM" in out and "Not in this notebook: compute_content_cost, gram_matrix" in out
    # Several notebooks: each lists what it holds, then one line per function and a total.
    both = [str(SOLUTIONS / "2_gram_matrix.ipynb"), str(release / "4_total_cost.ipynb")]
    assert cli.main(["validate", *both]) == 1
    out = capsys.readouterr().out
    assert "Not in this notebook" not in out and "not in this notebook" not in out
    summary = out[out.index("Summary:") :].splitlines()
    assert len(summary) == 7 and summary[2].startswith("  PASS gram_matrix")
    assert summary[4].startswith("  FAIL total_cost") and "not in the notebooks given" in summary[1]
    assert (
        summary[-1] == "Total: 1 of 2 graded functions found pass the public cases (3 not found)."
    )
    # A grader that cannot run the release has not shown that it fails.
    only = str(release / "4_total_cost.ipynb")
    assert cli.main(["validate", "--invert", "--memory-mb", "700", only]) == 1
    out = capsys.readouterr().out
    assert "GRADER ERROR" in out and "ERROR total_cost" in out


def test_partial_credit_pays_per_hidden_case(tmp_path):
    """total_cost with 10 and 40 written in passes the default-weights cases only (half)."""
    notebook = json.loads((SOLUTIONS / "4_total_cost.ipynb").read_text())
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if "# GRADED FUNCTION: total_cost" in text:
            cell["source"] = text.replace(
                "alpha * J_content + beta * J_style", "10 * J_content + 40 * J_style"
            )
    submission = tmp_path / "hard_coded.ipynb"
    submission.write_text(json.dumps(notebook))
    from nst_helpers.grading.rubric import default_rubric_text

    rubric = json.loads(default_rubric_text())
    rubric["partial_credit"] = True
    rubric_path = tmp_path / "rubric.json"
    rubric_path.write_text(json.dumps(rubric))
    out = tmp_path / "out"
    arguments = ["grade", str(submission), "--out", str(out), "--rubric", str(rubric_path)]
    assert cli.main(arguments) == 0
    result = json.loads((out / "reports" / "hard_coded" / "SUBMISSION.json").read_text())
    total = result["functions"]["total_cost"]
    assert total["status"] == "partial" and total["points"] == 10
    assert "10 and 40" in total["reason"]
    assert rows(out)["hard_coded"]["total_cost"] in ("10", "10.0")


def test_a_grader_failure_gives_no_grade_is_reported_and_is_graded_again(tmp_path, capsys):
    """A child that cannot start (TensorFlow does not load in 700 MB) is the grader's fault."""
    submission = tmp_path / "alice.ipynb"
    shutil.copy(SOLUTIONS / "4_total_cost.ipynb", submission)
    out = tmp_path / "out"
    arguments = ["grade", str(submission), "--out", str(out)]
    assert cli.main([*arguments, "--memory-mb", "700"]) == 1
    captured = capsys.readouterr()
    assert "alice: NOT GRADED, grader error" in captured.err
    assert "before running any learner code; last line of its log: " in captured.err
    assert not (out / "reports" / "alice" / "SUBMISSION.json").exists()
    assert rows(out) == {}
    # A rerun grades it (nothing was cached), and other limits mean grading again.
    assert cli.main(arguments) == 0
    assert rows(out)["alice"]["total_cost"] == "20"
    # The logs hold raw learner output: readable by the instructor only.
    assert (out / "logs").stat().st_mode & 0o777 == 0o700
    assert (out / "logs" / "alice.log").stat().st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert cli.main([*arguments, "--timeout", "30"]) == 0
    assert "Graded 1, skipped 0" in capsys.readouterr().out
    # A grader failure on a rerun keeps the earlier grade and says so.
    capsys.readouterr()
    assert cli.main([*arguments, "--memory-mb", "700"]) == 1
    assert "The earlier grade in its report was kept." in capsys.readouterr().err
    assert rows(out)["alice"]["total_cost"] == "20"
