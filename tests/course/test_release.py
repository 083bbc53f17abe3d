"""`nst release`: the committed student notebooks are what it makes, and hold no solution line."""

import ast
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nst_helpers import checks, cli
from nst_helpers.course import colab
from nst_helpers.course.cells import (
    blank_block,
    blank_cell_source,
    code_blocks,
    graded_cells,
    graded_function_name,
)
from nst_helpers.course.release import (
    GENERATED_FIELD,
    generated_header,
    make_student_notebook,
    release,
)
from tests.conftest import ROOT

SOLUTIONS = ROOT / "notebooks" / "solutions"
STUDENT = ROOT / "notebooks"
SOLUTION_PATHS = sorted(SOLUTIONS.glob("*.ipynb"))


def solution_lines(source: str) -> list[str]:
    """The code lines the learner writes in a graded cell (stripped, no comments)."""
    lines = source.splitlines()
    found = []
    for start, end in code_blocks(source):
        for line in lines[start + 1 : end]:
            if line.strip() and not line.strip().startswith("#"):
                found.append(line.strip())
    return found


# ------------------------------------------------------- the committed notebooks


def test_there_are_five_solution_notebooks_one_per_graded_function():
    assert [path.name for path in SOLUTION_PATHS] == [
        "1_content_cost.ipynb",
        "2_gram_matrix.ipynb",
        "3_style_cost.ipynb",
        "4_total_cost.ipynb",
        "5_training.ipynb",
    ]
    names = []
    for path in SOLUTION_PATHS:
        names += [cell.name for cell in graded_cells(nbformat.read(path, as_version=4))]
    assert tuple(names) == checks.GRADED_FUNCTIONS


def test_committed_student_notebooks_are_what_release_makes(tmp_path):
    release(SOLUTIONS, tmp_path)
    for path in SOLUTION_PATHS:
        fresh = (tmp_path / path.name).read_text(encoding="utf-8")
        committed = STUDENT / path.name
        assert committed.is_file(), f"{committed} is missing: run `nst release`."
        assert committed.read_text(encoding="utf-8") == fresh, (
            f"{committed} differs from what `nst release` makes: run `nst release`."
        )
    assert cli.main(["release", "--source", str(SOLUTIONS), "--out", str(STUDENT), "--check"]) == 0


@pytest.mark.parametrize("path", SOLUTION_PATHS, ids=lambda path: path.name)
def test_no_solution_line_survives_in_the_student_notebook(path):
    solution = nbformat.read(path, as_version=4)
    student_text = "\n".join(
        cell.source for cell in nbformat.read(STUDENT / path.name, as_version=4).cells
    )
    lines = [
        line
        for cell in graded_cells(solution)
        for line in solution_lines(solution.cells[cell.index].source)
    ]
    assert lines, "a graded cell without solution code"
    survivors = [line for line in lines if line in student_text]
    assert survivors == []


@pytest.mark.parametrize("path", SOLUTION_PATHS, ids=lambda path: path.name)
def test_student_notebook_keeps_everything_but_the_answers(path):
    solution = nbformat.read(path, as_version=4)
    student = nbformat.read(STUDENT / path.name, as_version=4)
    # The release adds the Colab set-up cell before the first code cell, and nothing else.
    ids = [cell.id for cell in solution.cells]
    first_code = next(i for i, cell in enumerate(solution.cells) if cell.cell_type == "code")
    ids.insert(first_code, "colab-set-up")
    assert [cell.id for cell in student.cells] == ids
    assert student.cells.pop(first_code).source == colab.setup_cell_source()
    graded = {cell.index for cell in graded_cells(solution)}
    # The first cell gets the generated line, then the Colab badge, then its own text.
    header = f"<!-- {generated_header('solutions/' + path.name)} -->\n"
    badge = colab.colab_badge(path.name) + "\n\n"
    assert student.cells[0].source.startswith(header + badge)
    student.cells[0].source = student.cells[0].source[len(header + badge) :]
    for index, (ours, theirs) in enumerate(zip(solution.cells, student.cells, strict=True)):
        if theirs.cell_type == "code":
            assert theirs.outputs == [] and theirs.execution_count is None
        if index not in graded:
            assert theirs.source == ours.source
            continue
        comments = [line for line in ours.source.splitlines() if line.strip().startswith("#")]
        assert [
            line for line in theirs.source.splitlines() if line.strip().startswith("#")
        ] == comments
        assert "(≈" in theirs.source
        ast.parse(theirs.source)  # the student's cell is valid Python


@pytest.mark.parametrize("path", SOLUTION_PATHS, ids=lambda path: path.name)
def test_student_notebook_is_marked_generated_and_names_its_source(path):
    student = nbformat.read(STUDENT / path.name, as_version=4)
    source_name = f"solutions/{path.name}"
    assert student.metadata[GENERATED_FIELD] == {
        "generated_by": "nst release",
        "source": source_name,
    }
    first_line = student.cells[0].source.splitlines()[0]
    assert first_line.startswith("<!-- GENERATED by") and source_name in first_line
    assert "never this file" in first_line
    # The solution notebook itself is not marked.
    solution = nbformat.read(path, as_version=4)
    assert GENERATED_FIELD not in solution.metadata
    assert "GENERATED" not in solution.cells[0].source


def test_generated_line_goes_to_the_first_cell_that_is_not_graded():
    graded = new_code_cell(
        "# GRADED FUNCTION: double\ndef double(x):\n    ### START CODE HERE ###\n"
        "    y = 2 * x\n    ### END CODE HERE ###\n    return y"
    )
    notebook = new_notebook(cells=[graded, new_code_cell("print(double(2))")])
    student = make_student_notebook(notebook, source_name="solutions/x.ipynb")
    # No Markdown cell: the Colab badge gets a first cell of its own, which takes the line;
    # the set-up cell comes before the first code cell, and the graded cell keeps its marker.
    badge, set_up, graded_cell, last = student.cells
    assert badge.cell_type == "markdown" and badge.source.startswith("<!-- GENERATED by")
    assert badge.source.endswith(colab.colab_badge("x.ipynb"))
    assert set_up.source == colab.setup_cell_source()
    assert graded_function_name(graded_cell.source) == "double"
    assert "GENERATED" not in graded_cell.source and "GENERATED" not in last.source
    assert GENERATED_FIELD not in make_student_notebook(notebook).metadata


@pytest.mark.parametrize("path", SOLUTION_PATHS, ids=lambda path: path.name)
def test_solution_notebooks_are_normalised(path):
    text = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    assert text == nbformat.writes(notebook) + "\n"
    assert all(cell.get("id") for cell in notebook.cells)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.outputs:
            # Only the expected output of deterministic check cells is stored.
            assert cell.source.startswith("# NBVAL_CHECK_OUTPUT"), cell.source[:60]
            assert [output.output_type for output in cell.outputs] == ["stream"]
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1


# ------------------------------------------------------------------- blanking


def blank(code: str) -> str:
    return "\n".join(blank_block(code.splitlines()))


def test_assignment_keeps_its_left_hand_side():
    assert blank("    GA = tf.matmul(A, tf.transpose(A))") == "    GA = None"


def test_tuple_target_gets_one_none_per_name():
    assert (
        blank("_, n_H, n_W, n_C = a_G.get_shape().as_list()")
        == "_, n_H, n_W, n_C = None, None, None, None"
    )


def test_chained_and_annotated_assignments():
    assert blank("a = b = f(x)") == "a = b = None"
    assert blank("J: float = f(x)") == "J: float = None"


def test_bare_expression_and_return_become_none():
    code = "optimizer.apply_gradients([(grad, image)])\nreturn J"
    assert blank(code) == "None\nreturn None"


def test_multi_line_statement_becomes_one_line_and_keeps_inner_comments():
    code = "J = total_cost(\n    J_content,  # the content\n    J_style,\n)  # hint"
    assert blank(code) == "J = None  # hint\n    # the content"


def test_control_flow_is_left_for_the_learner_with_its_comments():
    code = (
        "        # Loop over the layers (≈3 lines)\n"
        "        for name, weight in layers:\n"
        "            # add this layer's cost\n"
        "            J += weight * cost(name)\n"
        "        # Done (≈1 line)\n"
        "        total = J"
    )
    assert blank(code) == (
        "        # Loop over the layers (≈3 lines)\n"
        "        None\n"
        "            # add this layer's cost\n"
        "        # Done (≈1 line)\n"
        "        total = None"
    )


def test_blank_lines_and_hints_are_kept():
    code = "    # (≈1 line)\n\n    J = alpha * J_content + beta * J_style\n"
    assert blank(code) == "    # (≈1 line)\n\n    J = None"


def test_cell_with_two_blocks():
    source = (
        "# GRADED FUNCTION: f\n"
        "def f(x):\n"
        "    with tape:\n"
        "        ### START CODE HERE ###\n"
        "        y = x * 2\n"
        "        ### END CODE HERE ###\n"
        "    ### START CODE HERE ###\n"
        "    z = y + 1\n"
        "    ### END CODE HERE ###\n"
        "    return z"
    )
    student = blank_cell_source(source)
    assert "y = None" in student and "z = None" in student
    assert "x * 2" not in student and "y + 1" not in student
    assert student.splitlines()[0] == "# GRADED FUNCTION: f"
    assert graded_function_name(source) == "f"


@pytest.mark.parametrize(
    "source, words",
    [
        ("# GRADED FUNCTION: f\n### START CODE HERE ###\nx = 1\n", "never closed"),
        ("# GRADED FUNCTION: f\nx = 1\n### END CODE HERE ###\n", "without a"),
        (
            "# GRADED FUNCTION: f\n### START CODE HERE ###\n### START CODE HERE ###\n"
            "### END CODE HERE ###\n",
            "a second",
        ),
        (
            "# GRADED FUNCTION: f\n### START CODE HERE ###\n# only a hint\n### END CODE HERE ###\n",
            "no code between the markers",
        ),  # fmt: skip
        (
            "# GRADED FUNCTION: f\n### START CODE HERE ###\nif x:\n### END CODE HERE ###\n",
            "not valid Python on its own",
        ),  # fmt: skip
    ],
)
def test_broken_markers_are_value_errors(source, words):
    with pytest.raises(ValueError, match=words):
        blank_cell_source(source)


def test_graded_cell_without_a_block_is_a_value_error():
    notebook = new_notebook(cells=[new_code_cell("# GRADED FUNCTION: f\ndef f():\n    return 1")])
    with pytest.raises(ValueError, match="needs a '### START CODE HERE ###'"):
        make_student_notebook(notebook)


# ------------------------------------------------------------------ the command


def small_solutions(folder: Path) -> Path:
    folder.mkdir()
    graded = new_code_cell(
        "# GRADED FUNCTION: double\ndef double(x):\n    ### START CODE HERE ###\n"
        "    # (≈1 line)\n    y = 2 * x\n    ### END CODE HERE ###\n    return y"
    )
    graded.outputs = [new_output("stream", name="stdout", text="hello\n")]
    graded.execution_count = 3
    notebook = new_notebook(cells=[new_markdown_cell("# Title"), graded])
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    nbformat.write(notebook, folder / "1_double.ipynb")
    return folder


def test_command_writes_deterministic_student_notebooks(tmp_path, capsys):
    source = small_solutions(tmp_path / "solutions")
    out = tmp_path / "student"
    assert cli.main(["release", "--source", str(source), "--out", str(out)]) == 0
    first = (out / "1_double.ipynb").read_bytes()
    assert cli.main(["release", "--source", str(source), "--out", str(out)]) == 0
    assert (out / "1_double.ipynb").read_bytes() == first
    student = json.loads(first)
    cells = {cell["id"]: cell for cell in student["cells"]}
    assert "    y = None" in "".join(cells["cell-1"]["source"])
    assert cells["cell-1"]["outputs"] == [] and cells["cell-1"]["execution_count"] is None
    assert "wrote" in capsys.readouterr().out


def test_command_check_fails_when_a_student_notebook_is_stale(tmp_path, capsys):
    source = small_solutions(tmp_path / "solutions")
    out = tmp_path / "student"
    assert cli.main(["release", "--source", str(source), "--out", str(out), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    release(source, out)
    assert cli.main(["release", "--source", str(source), "--out", str(out), "--check"]) == 0
    (out / "1_double.ipynb").write_text("{}", encoding="utf-8")
    assert cli.main(["release", "--source", str(source), "--out", str(out), "--check"]) == 1


def test_command_reports_a_missing_source_folder(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert cli.main(["release", "--source", str(missing), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    # --check tells a usage problem (2) from an out-of-date release (1).
    assert cli.main(["release", "--check", "--source", str(missing), "--out", str(tmp_path)]) == 2


def test_release_refuses_to_overwrite_the_solutions(tmp_path):
    source = small_solutions(tmp_path / "solutions")
    with pytest.raises(ValueError, match="the output folder is the solutions folder"):
        release(source, source)


@pytest.mark.parametrize("path", SOLUTION_PATHS, ids=lambda path: path.name)
def test_normalise_undoes_a_jupyter_run(path, tmp_path):
    """After an edit and a run in Jupyter, `nst release --normalise-solutions` restores the file."""
    from nst_helpers.course.release import normalise_solutions

    committed = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(committed, as_version=4)
    notebook.metadata["widgets"] = {"state": {}}
    for count, cell in enumerate(notebook.cells):
        cell.metadata["execution"] = {"iopub.status.busy": "2026-11-26T10:00:00"}
        if cell.cell_type == "code":
            cell.execution_count = count
            cell.outputs = list(cell.outputs) + [
                nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"}),
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": "1"}, execution_count=count
                ),
            ]
    run_copy = tmp_path / path.name
    run_copy.write_text(nbformat.writes(notebook), encoding="utf-8")
    assert normalise_solutions(tmp_path) == [run_copy]
    assert run_copy.read_text(encoding="utf-8") == committed
    assert normalise_solutions(tmp_path) == []  # idempotent
