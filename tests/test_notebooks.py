"""The notebooks: small CI parameters for nbval, and the student notebooks as a learner meets them.

nbval runs the solution notebooks (``notebooks/solutions`` is in pytest's testpaths, with
``--nbval-lax``). Their kernels inherit this process's environment, so the variables set in
the root ``conftest.py`` shrink the image size and step count to CI values and send saved
images to a temporary folder. (A user's own settings win.)

The student notebooks are executed here with every error allowed: the first cell that
fails must be a check cell, and every check cell must fail with the check's "not filled
in" AssertionError, not with a traceback from deeper down.
"""

import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
STUDENT_PATHS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL_NAME = "nst-course-test-python"


@pytest.fixture(scope="module")
def kernel_in_this_environment(tmp_path_factory):
    """A kernel spec that starts this very interpreter (not whatever `python` is on PATH)."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        '{"argv": ['
        + f'"{Path(sys.executable).as_posix()}", "-m", "ipykernel_launcher", "-f", '
        + '"{connection_file}"], "display_name": "nst tests", "language": "python"}',
        encoding="utf-8",
    )
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(folder) + (os.pathsep + previous if previous else "")
    yield KERNEL_NAME
    if previous is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = previous


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and "checks.check_" in cell.source


def errors_of(cell) -> list:
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


def test_there_are_five_student_notebooks():
    assert [path.name for path in STUDENT_PATHS] == [
        "1_content_cost.ipynb",
        "2_gram_matrix.ipynb",
        "3_style_cost.ipynb",
        "4_total_cost.ipynb",
        "5_training.ipynb",
    ]


@pytest.mark.parametrize("path", STUDENT_PATHS, ids=lambda path: path.name)
def test_student_notebook_says_fill_in_the_code_at_each_check(path, kernel_in_this_environment):
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=kernel_in_this_environment,
        timeout=300,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    failing = [cell for cell in code_cells if errors_of(cell)]
    assert failing, "the untouched student notebook ran without any failing check"
    assert is_check_cell(failing[0]), (
        "the first error is not at a check cell:\n" + failing[0].source[:300]
    )
    check_cells = [cell for cell in code_cells if is_check_cell(cell)]
    assert check_cells
    for cell in check_cells:
        (error,) = errors_of(cell)
        assert error.ename == "AssertionError", (error.ename, error.evalue)
        assert "returned None" in error.evalue and "not filled in" in error.evalue, error.evalue
