"""The grader's parts that run no child process: reading, extraction, delegation, scrubbing,
rubric, reports. Fast; the end-to-end behaviour is in test_corpus.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nst_helpers.course.extract import NotebookIndex, build_program
from nst_helpers.course.locate import locate
from nst_helpers.course.notebooks import read_notebook, read_submission
from nst_helpers.grading.allowlist import allowed
from nst_helpers.grading.delegation import find_delegation
from nst_helpers.grading.report import SubmissionGrade, write_atomically, write_gradebook
from nst_helpers.grading.rubric import load_rubric, parse_rubric
from nst_helpers.grading.score import FunctionResult, scrub
from tests.conftest import ROOT

SOLUTIONS = ROOT / "notebooks" / "solutions"


def make_notebook(path: Path, cells) -> Path:
    """Write a notebook whose cells are sources (code) or (cell_type, source[, metadata])."""
    raw = []
    for cell in cells:
        cell_type, source, metadata = (
            ("code", cell, {}) if isinstance(cell, str) else (*cell, {})[:3]
        )
        entry = {"cell_type": cell_type, "metadata": metadata, "source": source.splitlines(True)}
        if cell_type == "code":
            entry.update(outputs=[], execution_count=None)
        raw.append(entry)
    notebook = {"cells": raw, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook))
    return path


def located(tmp_path, cells, name="gram_matrix"):
    submission = read_submission(make_notebook(tmp_path / "n.ipynb", cells))
    indexes = [NotebookIndex(nb) for nb in submission.notebooks]
    return locate(submission, name, indexes)


GRAM = "# GRADED FUNCTION: gram_matrix\ndef gram_matrix(A):\n    return tf.matmul(A, tf.transpose(A))\n"


def test_files_that_are_not_notebooks_are_described_not_raised(tmp_path):
    (tmp_path / "a.ipynb").write_bytes(b"\xff\xfe not text")
    (tmp_path / "b.ipynb").write_text("{not json")
    (tmp_path / "c.ipynb").write_text('["a list"]')
    reasons = [read_notebook(tmp_path / f"{n}.ipynb").reason for n in "abc"]
    assert "not UTF-8" in reasons[0]
    assert "not valid JSON" in reasons[1]
    assert "not a Jupyter notebook" in reasons[2]
    with pytest.raises(ValueError, match="does not exist"):
        read_submission(tmp_path / "nowhere")


def test_program_holds_the_def_and_what_it_needs_only(tmp_path):
    result = located(
        tmp_path,
        [
            "import tensorflow as tf\nimport numpy as np\n%matplotlib inline\n",
            "SCALE = 2.0\nmodel = build_a_huge_model()\n!pip install something\n",
            "while True:\n    pass\n",
            "def helper(x):\n    return x * SCALE / SCALE\n",
            GRAM.replace(
                "return tf.matmul(A, tf.transpose(A))",
                "return helper(tf.matmul(A, tf.transpose(A)))",
            ),
        ],
    )
    source = result.program.source
    assert "import tensorflow as tf" in source and "SCALE = 2.0" in source
    assert "def helper" in source and "def gram_matrix" in source
    for absent in ("numpy", "while True", "build_a_huge_model", "pip", "matplotlib"):
        assert absent not in source, absent


def test_a_notebook_variable_computed_by_code_is_not_run_and_is_named(tmp_path):
    result = located(
        tmp_path,
        ["model = build()\n", GRAM.replace("tf.transpose(A))", "tf.transpose(A)) + model")],
    )
    assert "build()" not in result.program.source
    assert any("`model`" in note for note in result.notes)


def test_the_last_definition_counts_and_the_feedback_says_why(tmp_path):
    result = located(tmp_path, [GRAM, "def gram_matrix(A):\n    return A\n"])
    assert result.cell == "cell 2" and "last one (cell 2) counts" in result.explanation
    assert "return A\n" in result.program.source + "\n"


def test_grade_id_metadata_and_split_and_markdown_cells(tmp_path):
    plain = GRAM.replace("# GRADED FUNCTION: gram_matrix\n", "")
    with_id = located(tmp_path, [("code", plain, {"nbgrader": {"grade_id": "gram_matrix"}})])
    assert "under its graded-function marker" in with_id.explanation
    split = located(
        tmp_path, ["def gram_matrix(A):\n    B = A\n", "    return tf.matmul(B, tf.transpose(B))\n"]
    )
    assert "split" in split.explanation and "tf.matmul" in split.program.source
    markdown = located(tmp_path, [("markdown", "```python\n" + GRAM + "```\n")])
    assert "markdown cell" in markdown.explanation and markdown.program is not None


def test_missing_and_syntax_error(tmp_path):
    assert located(tmp_path, ["x = 1\n"]).status == "missing"
    broken = located(tmp_path, [GRAM.replace("A))", "A)")])
    assert broken.status == "syntax error" and "syntax error" in broken.problem


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["from nst_helpers import gram_matrix as g\n", "def gram_matrix(A):\n    return g(A)\n"],
         "nst_helpers.costs.gram_matrix"),
        (["import nst_helpers.costs as c\n", "def gram_matrix(A):\n    return c.gram_matrix(A)\n"],
         "nst_helpers.costs.gram_matrix"),
        (["import nst_helpers\n", "def gram_matrix(A):\n    return nst_helpers.gram_matrix(A)\n"],
         "nst_helpers.costs.gram_matrix"),
        (["import nst_helpers as nh\nreference = nh.costs.gram_matrix\n",
          "def gram_matrix(A):\n    return reference(A)\n"], "nst_helpers.costs.gram_matrix"),
        (["def gram_matrix(A):\n    from nst_helpers.costs import gram_matrix as g\n    return g(A)\n"],
         "uses `nst_helpers.costs.gram_matrix`"),
        (["def gram_matrix(A):\n    return __import__('nst_helpers').gram_matrix(A)\n"], "__import__"),
        (["import sys\n", "def gram_matrix(A):\n    return sys.modules['x'].gram_matrix(A)\n"], "reads `.modules`"),
        (["def gram_matrix(A):\n    return eval('1')\n"], "eval"),
        (["import nst_helpers as nh\n", "def helper(A):\n    return getattr(nh, 'gram_matrix')(A)\n",
          "def gram_matrix(A):\n    return helper(A)\n"], "dynamically"),
    ],
)  # fmt: skip
def test_delegation_is_found_through_aliases_helpers_and_tricks(tmp_path, cells, reason):
    result = located(tmp_path, cells)
    problems = find_delegation(result.program, allowed("gram_matrix"), "gram_matrix")
    assert problems, cells
    assert any(reason in text for _, text in problems), problems


def test_allowed_uses_of_the_package_are_not_delegation(tmp_path):
    name = "compute_layer_style_cost"
    result = located(
        tmp_path,
        [
            "import nst_helpers\nfrom nst_helpers import STYLE_LAYERS, load_image, gram_matrix as g\n",
            f'def {name}(a_S, a_G):\n    """Not nst_helpers.{name}: mine."""\n'
            "    return g(a_S) + nst_helpers.gram_matrix(a_G) + nst_helpers.costs.gram_matrix(a_G)\n",
        ],
        name,
    )
    assert find_delegation(result.program, allowed(name), name) == []
    # The same helper is forbidden to the exercise that writes it, and so is the rest.
    for cells in (
        ["from nst_helpers import STYLE_LAYERS\n", f"def {name}(a_S, a_G):\n    return STYLE_LAYERS\n"],
        ["from nst_helpers.train.steps import gram_matrix\n",
         f"def {name}(a_S, a_G):\n    return gram_matrix(a_S)\n"],
        ["from nst_helpers.costs import *\n", f"def {name}(a_S, a_G):\n    return unroll_activation(a_S)\n"],
    ):  # fmt: skip
        program = located(tmp_path, cells, name).program
        assert find_delegation(program, allowed(name), name), cells


def test_the_real_solution_notebooks_do_not_delegate():
    rubric = load_rubric()
    submission = read_submission(SOLUTIONS)
    indexes = [NotebookIndex(nb) for nb in submission.notebooks]
    for rule in rubric.functions:
        result = locate(submission, rule.name, indexes)
        assert result.program is not None, rule.name
        assert find_delegation(result.program, rule.allowed, rule.name) == [], rule.name
        assert result.notes == [], (rule.name, result.notes)  # no notebook globals read


def test_build_program_orders_statements_as_in_the_notebook(tmp_path):
    submission = read_submission(
        make_notebook(tmp_path / "n.ipynb", ["import tensorflow as tf\n", GRAM])
    )
    index = NotebookIndex(submission.notebooks[0])
    program = build_program(index, index.definitions("gram_matrix")[-1], "gram_matrix")
    assert program.source.index("import tensorflow") < program.source.index("def gram_matrix")


def test_scrub_hides_values_and_sizes_keeps_words_on_one_line():
    text = "returned\n[[ 1.5  2. ]\n [ 3. -4.25]]\nexpected 0.123, shape (9, 10), seed 123456789, 1e-05."
    cleaned = scrub(text)
    for hidden in ("1.5", "4.25", "0.123", "123456789", "1e-05", "(9, 10)"):
        assert hidden not in cleaned
    assert "shape (…)" in cleaned and "expected" in cleaned and "\n" not in cleaned
    assert scrub("the denominator is 4 * n_C**2.") == "the denominator is 4 * n_C**2."
    assert scrub("off by a factor n_C = 2: divide") == "off by a factor n_C: divide"
    assert scrub("the value is 960 times too large") == "the value is … times too large"
    assert scrub("the value is 4 times too small, shape (5,)") == (
        "the value is 4 times too small, shape (…)"
    )


def test_learner_text_shows_no_child_controlled_words(tmp_path):
    from nst_helpers.grading import learner_text

    where = located(tmp_path, ["import tensorflow as tf\n", GRAM])
    line = where.program.source.splitlines().index("    return tf.matmul(A, tf.transpose(A))") + 1
    error = {"type": "ValueError", "message": "LEAK abc /home/grader", "line": line}
    text = learner_text.exception_text(error, where, "gram_matrix", filled_in=True)
    assert text == "raised ValueError at line 2 of your gram_matrix (cell 2, line 3)."
    custom = {"type": "LEAK123", "message": "", "line": None}
    assert learner_text.exception_text(custom, where, "gram_matrix", True) == (
        "raised an exception of its own class."
    )
    # A NameError names the missing name only when the learner's code contains it.
    unknown = {"type": "NameError", "message": "name 'LEAKabc' is not defined", "line": None}
    assert "LEAK" not in learner_text.exception_text(unknown, where, "gram_matrix", True)
    known = {"type": "NameError", "message": "name 'tf' is not defined", "line": None}
    assert "`tf` is not defined" in learner_text.exception_text(known, where, "gram_matrix", True)
    assert learner_text.value_type_name("LEAK_42") == "value of another type"
    assert learner_text.value_type_name("ndarray") == "ndarray"
    violations = ["write to '/LEAK1' outside its working directory"] * 3 + [
        "start a shell command",
        "os.remove on '/LEAK2' outside its working directory",
    ]
    from nst_helpers.grading.harness import BLOCKED_DESCRIPTIONS

    assert learner_text.violation_texts(violations, BLOCKED_DESCRIPTIONS) == [
        "write a file outside its working directory",
        "start a shell command",
        "change files outside its working directory",
    ]
    from nst_helpers.grading.allowlist import modules

    delegated = ["nst_helpers.costs", "LEAK 1.5", "nst_helpers.LEAK", "nst_helpers.reference_step"]
    assert learner_text.delegated_names(delegated, modules()) == [
        "nst_helpers.costs",
        "nst_helpers.reference_step",
    ]


def test_filled_in_tells_the_release_blank_from_learner_code(tmp_path):
    from nst_helpers.grading import learner_text

    release = json.loads((ROOT / "notebooks" / "5_training.ipynb").read_text())
    release_cells = [("code", "".join(c["source"])) for c in release["cells"]]
    release_cells = [c for c in release_cells if "GRADED FUNCTION: train_step" in c[1]]
    blank = located(tmp_path, ["import tensorflow as tf\n", *release_cells], "train_step")
    assert not learner_text.is_filled_in(blank, "train_step")
    no_return = "def gram_matrix(A):\n    GA = tf.matmul(A, tf.transpose(A))\n"
    assert learner_text.is_filled_in(located(tmp_path, [no_return]), "gram_matrix")
    template = "def gram_matrix(A):\n    a, b = None, None\n    GA = None\n    return GA\n"
    assert not learner_text.is_filled_in(located(tmp_path, [template]), "gram_matrix")


def test_a_decorated_function_keeps_its_lines(tmp_path):
    decorated = "@tf.function\ndef gram_matrix(A):\n    return tf.matmul(A, tf.transpose(A))\n"
    program = located(tmp_path, ["import tensorflow as tf\n", decorated]).program
    assert "@tf.function\ndef gram_matrix(A):" in program.source
    line = program.source.splitlines().index("    return tf.matmul(A, tf.transpose(A))") + 1
    assert program.where(line) == "cell 2, line 3"


def test_rubric_validation_names_the_problem(tmp_path):
    rubric = load_rubric()
    assert rubric.total == 100 and len(rubric.functions) == 5
    with pytest.raises(ValueError, match="unknown graded function"):
        parse_rubric({"functions": {"gram": {"points": 1}}})
    with pytest.raises(ValueError, match="points must be a number"):
        parse_rubric({"functions": {"gram_matrix": {"points": -1}}})
    with pytest.raises(ValueError, match="reference must be a list"):
        parse_rubric({"functions": {"gram_matrix": {"points": 1, "reference": "x"}}})
    bad = tmp_path / "r.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_rubric(bad)


def test_gradebook_is_rebuilt_from_reports(tmp_path):
    from nst_helpers.grading.report import write_submission

    for identifier, points in (("bob", 20.0), ("alice", 0.0)):
        result = FunctionResult("gram_matrix", points, 20.0, "passed", "ok")
        grade = SubmissionGrade(identifier, f"class/{identifier}", "f", "d", [result])
        write_submission(tmp_path, grade, with_html=True)
    (tmp_path / "reports" / "stray").mkdir()
    text = write_gradebook(tmp_path, ["gram_matrix"]).read_text()
    assert text.splitlines() == [
        "submission,folder,gram_matrix,total,max_total,sandbox",
        "alice,class/alice,0,0,20,bubblewrap",
        "bob,class/bob,20,20,20,bubblewrap",
    ]
    assert "<table>" in (tmp_path / "reports" / "bob" / "feedback.html").read_text()
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporary files left


def test_write_atomically_replaces_whole_files(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    write_atomically(target, "first")
    write_atomically(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_program_keeps_the_learners_lines_and_maps_them_back_to_cells(tmp_path):
    result = located(
        tmp_path, ["import tensorflow as tf; import numpy as np\n", "x = 1\n\n" + GRAM]
    )
    program = result.program
    assert program.source.splitlines()[0] == "import tensorflow as tf"
    line = program.source.splitlines().index("    return tf.matmul(A, tf.transpose(A))") + 1
    assert program.where(line) == "cell 2, line 5"
    assert program.where(None) is None and program.where(999) is None


def test_sandbox_environment_is_minimal_and_cpu_only(monkeypatch):
    from nst_helpers.grading.sandbox import bwrap_command, environment

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setenv("GRADER_SECRET", "do-not-leak")
    variables = environment(threads=1, scratch_mb=64, namespaces=True)
    assert variables["CUDA_VISIBLE_DEVICES"] == ""
    assert variables["HOME"] == variables["TMPDIR"] == "/tmp"
    assert "GRADER_SECRET" not in variables
    command = bwrap_command("bwrap", 1, 64, 3)
    assert "--clearenv" in command and "do-not-leak" not in " ".join(command)
    # /tmp is mounted before the Python environment, which may live under it (CI's clone).
    from nst_helpers.grading.sandbox import python_folders

    tmpfs = command.index("/tmp", command.index("--tmpfs"))
    assert all(command.index(folder) > tmpfs for folder in python_folders())


def test_a_train_step_reading_the_notebook_layers_is_named_in_fixed_words(tmp_path):
    from nst_helpers.grading import learner_text

    where = located(tmp_path, ["import tensorflow as tf\n", GRAM])
    error = {"type": "KeyError", "message": "'block4_conv2' LEAK", "line": None}
    text = learner_text.exception_text(error, where, "train_step", filled_in=True)
    assert "use its arguments style_layers and content_layer" in text
    assert "LEAK" not in text and "block4_conv2" not in text
    other = {"type": "KeyError", "message": "'something'", "line": None}
    assert "style_layers" not in learner_text.exception_text(other, where, "train_step", True)


def test_constants_and_lambdas_made_by_library_calls_are_taken_along(tmp_path):
    cells = [
        "import functools\nimport numpy as np\nimport tensorflow as tf\n",
        "NORM = np.float32(4)\nFOUR = int('4')\nmm = functools.partial(tf.matmul, transpose_b=True)\n",
        "square = lambda a: helper_that_is_not_run_yet(a)\n",
        "model = build_model()\n",
        "# GRADED FUNCTION: gram_matrix\ndef gram_matrix(A):\n"
        "    return mm(A, A) * NORM / FOUR + 0 * square\n",
        "# GRADED FUNCTION: total_cost\ndef total_cost(J_content, J_style, alpha=10, beta=40):\n"
        "    return model(J_content)\n",
    ]
    submission = read_submission(make_notebook(tmp_path / "n.ipynb", cells))
    index = NotebookIndex(submission.notebooks[0])
    program = build_program(index, index.definitions("gram_matrix")[-1], "gram_matrix")
    for line in ("NORM = np.float32(4)", "FOUR = int('4')", "mm = functools.partial", "square ="):
        assert line in program.source
    assert program.notes == []
    calls_own_code = build_program(index, index.definitions("total_cost")[-1], "total_cost")
    assert "build_model" not in calls_own_code.source
    assert "compute it inside the function" in calls_own_code.notes[0]


def test_cell_magics_that_run_python_are_read_like_jupyter(tmp_path):
    for magic in ("%%time", "%%capture output", "%%prun -q"):
        result = located(tmp_path, ["import tensorflow as tf\n", f"{magic}\n{GRAM}"])
        assert result.status == "found" and "tf.matmul" in result.program.source, magic
        assert result.program.where(result.program.source.splitlines().index(
            "    return tf.matmul(A, tf.transpose(A))") + 1) == "cell 2, line 4"  # fmt: skip
    assert located(tmp_path, [f"%%writefile x.py\n{GRAM}"]).status == "missing"
    assert located(tmp_path, [f"%%bash\n{GRAM}"]).status == "missing"


def test_constants_completed_later_inner_names_and_lambdas_are_taken_along(tmp_path):
    cells = [
        "import tensorflow as tf\n",
        "FACTORS = {}\nN = 1\n",
        "FACTORS['quarter'] = 4\nN *= 4\nFACTORS.update(half=2)\nUNUSED = 3\n",
        "def gram_matrix(A):\n    def identity(tf):\n        return tf\n"
        "    return identity(tf.matmul(A, tf.transpose(A))) * N / FACTORS['quarter']\n",
    ]
    source = located(tmp_path, cells).program.source
    for line in ("FACTORS = {}", "FACTORS['quarter'] = 4", "N *= 4", "FACTORS.update(half=2)",
                 "import tensorflow as tf"):  # fmt: skip
        assert line in source, line
    assert "UNUSED" not in source
    namespace = {}
    exec(compile(source, "program", "exec"), namespace)  # noqa: S102
    assert namespace["N"] == 4 and namespace["FACTORS"] == {"quarter": 4, "half": 2}
    lam = located(
        tmp_path,
        ["SCALE = 1\n", "total_cost = lambda J_content, J_style, alpha=10, beta=40: "
         "SCALE * (alpha * J_content + beta * J_style)\n"],
        "total_cost",
    )  # fmt: skip
    assert lam.status == "found" and "SCALE = 1" in lam.program.source
    from nst_helpers.grading import learner_text

    assert learner_text.is_filled_in(lam, "total_cost")


def test_imports_are_reduced_to_the_names_used(tmp_path):
    cells = [
        "from nst_helpers import STYLE_LAYERS, checks, gram_matrix, load_image\nimport numpy as np, tensorflow as tf\n",
        "def compute_layer_style_cost(a_S, a_G):\n    return tf.reduce_sum(gram_matrix(a_S))\n",
    ]  # fmt: skip
    source = located(tmp_path, cells, "compute_layer_style_cost").program.source
    assert "from nst_helpers import gram_matrix" in source and "checks" not in source
    assert "import tensorflow as tf" in source and "numpy" not in source


def test_static_analysis_survives_long_chains_and_deep_expressions(tmp_path):
    chain = "c0 = 1.0\n" + "".join(f"c{i} = c{i - 1}\n" for i in range(1, 5000))
    result = located(tmp_path, ["import tensorflow as tf\n", chain, GRAM.replace(
        "tf.transpose(A))", "tf.transpose(A)) * c4999")])  # fmt: skip
    assert result.status == "found" and result.program.source.count("\n") > 5000
    deep = "def gram_matrix(A):\n    return A * (" + " + ".join(["1"] * 3000) + ")\n"
    result = located(tmp_path, [deep])
    assert result.status in ("found", "too complex")
    nested = "def gram_matrix(A):\n    x = " + "[" * 90 + "A" + "]" * 90 + "\n    return x\n"
    assert located(tmp_path, [nested]).status in ("found", "too complex", "syntax error")


def test_only_regular_files_inside_the_submission_are_read(tmp_path):
    import os

    folder = tmp_path / "alice"
    folder.mkdir()
    make_notebook(folder / "a.ipynb", [GRAM])
    os.mkfifo(folder / "b.ipynb")
    os.symlink("/dev/zero", folder / "c.ipynb")
    os.symlink(folder / "a.ipynb", folder / "d.ipynb")  # inside: read as its target
    (tmp_path / "bob.ipynb").write_text("{}")
    os.symlink(tmp_path / "bob.ipynb", folder / "e.ipynb")
    submission = read_submission(folder)
    reasons = {p.name: p.reason for p in submission.problems}
    assert "not a regular file" in reasons["b.ipynb"]
    assert "outside the submission" in reasons["c.ipynb"]
    assert "outside the submission" in reasons["e.ipynb"]
    assert sorted(n.name for n in submission.notebooks) == ["a.ipynb", "d.ipynb"]
    link = tmp_path / "linked"
    link.symlink_to(folder)
    refused = read_submission(link, follow_links=False)
    assert not refused.notebooks and "symbolic link" in refused.problems[0].reason


def test_identifiers_are_one_to_one_and_never_the_graders_own_names():
    from nst_helpers.course.notebooks import encode_name

    names = ["alice", "_alice", "alice_", ".alice", "a b", "a+20b", "grades.csv", "~sandbox", "é"]
    encoded = [encode_name(n) for n in names]
    assert len(set(encoded)) == len(names)
    assert encoded[:2] == ["alice", "_alice"] and encode_name("a b") == "a+20b"
    assert all(not e.startswith(".") and "~" not in e and "/" not in e for e in encoded)


def test_validate_summary_gives_one_line_per_function_and_a_total():
    from nst_helpers.grading.validate import Checked, summary_lines

    lines = summary_lines(
        [[Checked("gram_matrix", "2_gram_matrix.ipynb, cell 8", "PASS")],
         [Checked("total_cost", "4_total_cost.ipynb, cell 6", "FAIL")]],
        invert=False,
    )  # fmt: skip
    assert lines[0] == "Summary:" and len(lines) == 7
    assert "PASS gram_matrix (2_gram_matrix.ipynb, cell 8)" in lines[2]
    assert "compute_content_cost: not in the notebooks given" in lines[1]
    assert lines[-1] == "Total: 1 of 2 graded functions found pass the public cases (3 not found)."
