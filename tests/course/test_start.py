"""`nst start`: a learner's folder apart from the solutions; their work is never overwritten."""

import json
import os
import subprocess
import sys

import nbformat
import pytest

from nst_helpers import cli, resources
from nst_helpers.course import start
from nst_helpers.course.start import MANIFEST_NAME, fingerprint, start_course
from tests.conftest import DATA, STUDENT_NOTEBOOKS

NOTEBOOKS = sorted(path.name for path in STUDENT_NOTEBOOKS.glob("*.ipynb"))


def test_fresh_folder_gets_the_student_notebooks_and_the_data(tmp_path, capsys):
    folder = tmp_path / "my course"
    assert cli.main(["start", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"jupyter lab '{folder}'" in out  # the one command, quoted for the shell
    assert sorted(path.name for path in folder.glob("*.ipynb")) == NOTEBOOKS
    for name in NOTEBOOKS:
        assert (folder / name).read_bytes() == (STUDENT_NOTEBOOKS / name).read_bytes()
    assert not (folder / "solutions").exists()
    for image in (DATA / "content").iterdir():
        assert (folder / "data" / "content" / image.name).read_bytes() == image.read_bytes()
    assert (folder / "data" / "style").is_dir() and (folder / "data" / "SOURCES.md").is_file()
    assert not (folder / "data" / "make_samples.py").exists()
    recorded = json.loads((folder / MANIFEST_NAME).read_text())["files"]
    assert recorded[NOTEBOOKS[0]] == fingerprint(STUDENT_NOTEBOOKS / NOTEBOOKS[0])


def test_default_folder_is_nst_course_in_the_working_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["start"]) == 0
    assert (tmp_path / "nst-course" / NOTEBOOKS[0]).is_file()
    assert "jupyter lab nst-course" in capsys.readouterr().out


def edit_first_code_cell(path, text):
    notebook = nbformat.read(path, as_version=4)
    cell = next(cell for cell in notebook.cells if cell.cell_type == "code")
    cell.source += text
    nbformat.write(notebook, path)


def test_existing_work_is_never_overwritten(tmp_path, capsys):
    folder = tmp_path / "course"
    start_course(folder)
    edit_first_code_cell(folder / NOTEBOOKS[0], "\n# my work")
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    assert cli.main(["start", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "already holds the course" in err and "your work is kept" in err and "--update" in err
    assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before


def simulate_a_new_release(tmp_path, monkeypatch):
    """A course package whose notebooks 1 and 2 changed and which has a new notebook 6."""
    release = tmp_path / "new release"
    release.mkdir()
    for name in NOTEBOOKS:
        (release / name).write_bytes((STUDENT_NOTEBOOKS / name).read_bytes())
    for name in NOTEBOOKS[:2]:
        edit_first_code_cell(release / name, "\n# improved in the new release")
    (release / "6_new.ipynb").write_bytes((STUDENT_NOTEBOOKS / NOTEBOOKS[0]).read_bytes())
    monkeypatch.setattr(resources, "student_notebooks_dir", lambda: release)
    return release


def test_update_brings_new_and_untouched_notebooks_and_keeps_changed_ones(
    tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "course"
    start_course(folder)
    # The learner changed notebook 1, only opened and ran notebook 2 (Jupyter wrote outputs
    # and metadata but no cell changed), and deleted an image.
    edit_first_code_cell(folder / NOTEBOOKS[0], "\n# my work")
    opened = nbformat.read(folder / NOTEBOOKS[1], as_version=4)
    opened.metadata["widgets"] = {"state": {}}
    opened.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
    nbformat.write(opened, folder / NOTEBOOKS[1])
    deleted = next((folder / "data" / "content").iterdir())
    deleted.unlink()
    mine = (folder / NOTEBOOKS[0]).read_bytes()
    release = simulate_a_new_release(tmp_path, monkeypatch)

    assert cli.main(["start", str(folder), "--update"]) == 0
    out = capsys.readouterr().out
    assert (folder / NOTEBOOKS[0]).read_bytes() == mine  # the learner's work
    assert (folder / NOTEBOOKS[1]).read_bytes() == (release / NOTEBOOKS[1]).read_bytes()
    assert (folder / "6_new.ipynb").is_file() and deleted.is_file()
    assert f"Kept as you changed them (not updated): {NOTEBOOKS[0]}" in out
    assert f"Updated (you had not changed them): {NOTEBOOKS[1]}" in out
    assert "6_new.ipynb" in out.split("Copied into")[1].splitlines()[0]
    # The record follows: notebook 2 is now the new release's, notebook 1 still the first copy.
    recorded = start.read_manifest(folder)
    assert recorded[NOTEBOOKS[1]] == fingerprint(release / NOTEBOOKS[1])
    assert recorded[NOTEBOOKS[0]] == fingerprint(STUDENT_NOTEBOOKS / NOTEBOOKS[0])
    # A second update changes nothing.
    assert cli.main(["start", str(folder), "--update"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_update_without_a_record_keeps_every_differing_file(tmp_path, monkeypatch):
    """A folder whose record was lost (or made by hand): nothing that differs is replaced."""
    folder = tmp_path / "course"
    start_course(folder)
    (folder / MANIFEST_NAME).write_text("not json")
    release = simulate_a_new_release(tmp_path, monkeypatch)
    result = start_course(folder, update=True)
    assert sorted(result.kept) == NOTEBOOKS[:2] and result.updated == []
    assert result.copied == ["6_new.ipynb"]
    assert (folder / NOTEBOOKS[0]).read_bytes() != (release / NOTEBOOKS[0]).read_bytes()


def test_fingerprint_ignores_outputs_but_not_edits(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_bytes((STUDENT_NOTEBOOKS / NOTEBOOKS[0]).read_bytes())
    first = fingerprint(path)
    notebook = nbformat.read(path, as_version=4)
    code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    code.execution_count = 4
    nbformat.write(notebook, path)
    assert fingerprint(path) == first
    code.source += " "
    nbformat.write(notebook, path)
    assert fingerprint(path) != first
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert len(fingerprint(tmp_path / "broken.ipynb")) == 64


def test_an_interrupted_copy_leaves_no_half_file(tmp_path, monkeypatch):
    folder = tmp_path / "course"

    def fail(*arguments):
        raise OSError("disk full")

    monkeypatch.setattr(start.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        start_course(folder)
    assert [path for path in folder.rglob("*") if path.is_file()] == []


def test_a_file_in_the_way_and_missing_course_files_are_one_line_errors(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "taken").write_text("x")
    assert cli.main(["start", str(tmp_path / "taken")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(resources, "student_notebooks_dir", lambda: empty)
    assert cli.main(["start", str(tmp_path / "new")]) == 2
    err = capsys.readouterr().err
    assert "no student notebooks" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()


def test_command_runs_without_loading_tensorflow(tmp_path):
    code = (
        "import sys; from nst_helpers import cli; status = cli.main(['start', sys.argv[1]]); "
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'; sys.exit(status)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "c")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(DATA.parent)},
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""


def test_nst_help_lists_start_first(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--help"])
    listed = capsys.readouterr().out
    assert listed.index("start") < listed.index("stylize")
    assert "Copy the course notebooks" in listed
