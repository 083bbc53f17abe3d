"""The learner's own functions for the later notebooks: found as the grader finds them,
checked, wired together, and replaced by the reference (labelled) when missing or failing."""

import time

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import nst_helpers
from nst_helpers.course import own_code
from nst_helpers.course.own_code import load_own_functions, time_limit, use_own_functions
from tests.conftest import SOLUTIONS, STUDENT_NOTEBOOKS

EARLIER = ["compute_content_cost", "gram_matrix", "compute_layer_style_cost", "total_cost"]
IMPORTS = "import time\n\nimport numpy as np\nimport tensorflow as tf\n"

CONTENT_COST = """# GRADED FUNCTION: compute_content_cost
def compute_content_cost(a_C, a_G):
    ### START CODE HERE ###
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    J_content = tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)
    ### END CODE HERE ###
    return J_content
"""
GRAM = """# GRADED FUNCTION: gram_matrix
def gram_matrix(A):
    ### START CODE HERE ###
    GA = tf.matmul(A, tf.transpose(A))
    ### END CODE HERE ###
    return GA
"""
LAYER_STYLE_COST = """# GRADED FUNCTION: compute_layer_style_cost
def compute_layer_style_cost(a_S, a_G):
    ### START CODE HERE ###
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    GS = gram_matrix(tf.transpose(tf.reshape(a_S, [-1, n_C])))
    GG = gram_matrix(tf.transpose(tf.reshape(a_G, [-1, n_C])))
    J_style_layer = tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C**2 * (n_H * n_W) ** 2)
    ### END CODE HERE ###
    return J_style_layer
"""
STYLE_COST = """def compute_style_cost(style_activations, generated_activations, style_layers=STYLE_LAYERS):
    J_style = 0.0
    for layer_name, weight in style_layers:
        J_style += weight * compute_layer_style_cost(style_activations[layer_name], generated_activations[layer_name])
    return J_style
"""
TOTAL_COST = """# GRADED FUNCTION: total_cost
def total_cost(J_content, J_style, alpha=10, beta=40):
    ### START CODE HERE ###
    J = alpha * J_content + beta * J_style
    ### END CODE HERE ###
    return J
"""


def write_notebook(path, *sources):
    notebook = new_notebook(cells=[new_markdown_cell("# A notebook")])
    notebook.cells += [new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def line_of(own, name) -> str:
    (line,) = [line for line in own.report().splitlines() if line.split()[0] == name]
    return line


def is_reference(function, name) -> bool:
    return function is getattr(nst_helpers, name)


@pytest.fixture(scope="module")
def solutions_own():
    return load_own_functions(EARLIER, SOLUTIONS, provided=["compute_style_cost"])


def test_solution_folder_gives_the_learners_functions_each_checked(solutions_own):
    for name in EARLIER:
        function = solutions_own[name]
        assert not is_reference(function, name)
        assert function.__code__.co_filename.startswith(f"<your {name}:")
        assert "yours, from" in line_of(solutions_own, name)
        assert "passes its check" in line_of(solutions_own, name)
    assert "3_style_cost.ipynb" in line_of(solutions_own, "compute_layer_style_cost")


def test_own_functions_call_each_other(solutions_own):
    """compute_layer_style_cost uses the learner's gram_matrix (not the library's, which the
    notebook imports for the grader), and the provided compute_style_cost the learner's
    compute_layer_style_cost: one name, one function, everywhere."""
    layer_cost = solutions_own["compute_layer_style_cost"]
    assert layer_cost.__globals__["gram_matrix"] is solutions_own["gram_matrix"]
    style_cost = solutions_own["compute_style_cost"]
    assert style_cost.__globals__["compute_layer_style_cost"] is layer_cost
    assert "provided code" in line_of(solutions_own, "compute_style_cost")
    import tensorflow as tf

    activations = {
        "block1_conv1": tf.constant(np.random.RandomState(0).rand(1, 4, 4, 3), tf.float32)
    }
    other = {"block1_conv1": tf.constant(np.random.RandomState(1).rand(1, 4, 4, 3), tf.float32)}
    layers = [("block1_conv1", 1.0)]
    ours = float(style_cost(activations, other, layers))
    library = float(nst_helpers.compute_style_cost(activations, other, layers))
    assert ours == pytest.approx(library, rel=1e-3)


def test_untouched_student_notebooks_give_the_reference_labelled():
    own = load_own_functions(EARLIER, STUDENT_NOTEBOOKS, provided=["compute_style_cost"])
    for name in EARLIER:
        assert is_reference(own[name], name)
        line = line_of(own, name)
        assert "REFERENCE from nst_helpers" in line and "is not filled in yet" in line
    # The student folder's solutions/ sub-folder is never read.
    assert "solutions" not in own.report()
    # The provided function is the learner's notebook code, calling the references.
    assert own["compute_style_cost"].__globals__["compute_layer_style_cost"] is (
        nst_helpers.compute_layer_style_cost
    )


def test_empty_folder_gives_every_reference_in_one_line_each(tmp_path, capsys):
    own = use_own_functions(["gram_matrix"], tmp_path, provided=["compute_style_cost"])
    printed = capsys.readouterr().out
    assert printed.strip() == own.report()
    assert len(printed.strip().splitlines()) == 3
    assert is_reference(own["gram_matrix"], "gram_matrix")
    assert "no notebook in this folder" in line_of(own, "gram_matrix")
    assert "it calls the library's own functions" in line_of(own, "compute_style_cost")


def test_renamed_notebook_is_found_by_its_marker(tmp_path):
    write_notebook(tmp_path / "my copy of notebook two.ipynb", IMPORTS, GRAM)
    own = load_own_functions(["gram_matrix", "compute_content_cost"], tmp_path)
    assert not is_reference(own["gram_matrix"], "gram_matrix")
    assert "my copy of notebook two.ipynb" in line_of(own, "gram_matrix")
    assert "not found in this folder's notebooks" in line_of(own, "compute_content_cost")


@pytest.mark.parametrize(
    "body, words",
    [
        ("    return tf.matmul(tf.transpose(A), A)", "fails its check"),
        ("    return np.dot(A, A.T)", "fails its check"),
        ("    raise RuntimeError('my bug')", "fails its check: raised RuntimeError: my bug."),
        ("    raise SystemExit(3)", "raised SystemExit in its check"),
    ],
)
def test_a_failing_function_is_replaced_and_named(tmp_path, body, words):
    write_notebook(
        tmp_path / "2_gram_matrix.ipynb",
        IMPORTS,
        f"# GRADED FUNCTION: gram_matrix\ndef gram_matrix(A):\n{body}\n",
    )
    own = load_own_functions(["gram_matrix"], tmp_path)
    assert is_reference(own["gram_matrix"], "gram_matrix")
    line = line_of(own, "gram_matrix")
    assert "REFERENCE from nst_helpers: yours in 2_gram_matrix.ipynb (cell 3)" in line
    assert words in line
    assert len(line) < 250 and "traceback above" not in line


def test_a_looping_function_is_stopped_by_the_time_limit(tmp_path):
    looping = (
        "# GRADED FUNCTION: total_cost\ndef total_cost(J_content, J_style, alpha=10, beta=40):\n"
        "    while True:\n        try:\n            time.sleep(0.01)\n"
        "        except Exception:\n            pass\n"
    )
    write_notebook(tmp_path / "4_total_cost.ipynb", IMPORTS, looping)
    started = time.perf_counter()
    own = load_own_functions(["total_cost"], tmp_path, time_limit_seconds=1.0)
    assert time.perf_counter() - started < 10
    assert is_reference(own["total_cost"], "total_cost")
    assert "took longer than 1 s (an endless loop?)" in line_of(own, "total_cost")


def test_a_definition_that_raises_or_has_a_syntax_error_is_replaced(tmp_path):
    write_notebook(
        tmp_path / "1_content_cost.ipynb",
        IMPORTS,
        "def broken(function):\n    raise ValueError('decorator bug')\n",
        "# GRADED FUNCTION: compute_content_cost\n@broken\ndef compute_content_cost(a_C, a_G):\n"
        "    return 0\n",
    )
    write_notebook(tmp_path / "2_gram_matrix.ipynb", IMPORTS, "def gram_matrix(A:\n    pass\n")
    own = load_own_functions(["compute_content_cost", "gram_matrix"], tmp_path)
    assert "raised ValueError: decorator bug" in line_of(own, "compute_content_cost")
    assert "syntax error" in line_of(own, "gram_matrix")
    assert is_reference(own["gram_matrix"], "gram_matrix")


def test_a_failing_dependency_is_replaced_inside_a_passing_function(tmp_path):
    """A correct compute_layer_style_cost whose notebook's gram_matrix is wrong: the
    layer cost calls the reference gram_matrix, so the learner's picture is not spoiled."""
    wrong_gram = GRAM.replace("tf.matmul(A, tf.transpose(A))", "tf.matmul(tf.transpose(A), A)")
    write_notebook(tmp_path / "2_gram_matrix.ipynb", IMPORTS, wrong_gram)
    write_notebook(tmp_path / "3_style_cost.ipynb", IMPORTS, wrong_gram, LAYER_STYLE_COST)
    own = load_own_functions(["gram_matrix", "compute_layer_style_cost"], tmp_path)
    assert is_reference(own["gram_matrix"], "gram_matrix")
    layer_cost = own["compute_layer_style_cost"]
    assert not is_reference(layer_cost, "compute_layer_style_cost")
    assert layer_cost.__globals__["gram_matrix"] is nst_helpers.gram_matrix


def test_what_the_learners_code_prints_while_loading_is_captured(tmp_path, capsys):
    noisy = CONTENT_COST.replace(
        "    ### START", "    print('hello from my cost')\n    ### START", 1
    )
    write_notebook(tmp_path / "1.ipynb", IMPORTS, "print('module level')", noisy, TOTAL_COST)
    own = use_own_functions(["compute_content_cost", "total_cost"], tmp_path)
    printed = capsys.readouterr().out
    assert "hello from my cost" not in printed and "All tests passed" not in printed
    assert "passes its check" in line_of(own, "compute_content_cost")
    assert "passes its check" in line_of(own, "total_cost")


@pytest.mark.parametrize("limit", [own_code._alarm_limit, own_code._interrupt_limit])
def test_time_limit_stops_a_python_loop_with_either_mechanism(limit):
    started = time.perf_counter()
    with pytest.raises(own_code.TimeLimitExceeded, match="took longer than 0.3 s"):
        with limit(0.3):
            while True:
                try:
                    sum(range(1000))
                except Exception:  # a learner's handler does not swallow it
                    pass
    assert time.perf_counter() - started < 5
    with limit(5):  # a quick block is not interrupted, and nothing fires afterwards
        pass
    time.sleep(0.8)


def test_time_limit_picks_the_alarm_on_the_main_thread():
    assert time_limit(1).func is own_code._alarm_limit.__wrapped__


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"names": ["train_stepp"]}, "not graded functions"),
        ({"names": ["compute_style_cost"]}, "provided="),
        ({"names": [], "provided": ["no_such_function"]}, "no function 'no_such_function'"),
        ({"names": [], "time_limit_seconds": 0}, "must be positive"),
        ({"names": [], "folder": "/no/such/folder"}, "does not exist"),
    ],
)
def test_bad_arguments_are_value_errors(arguments, words):
    with pytest.raises(ValueError, match=words):
        load_own_functions(**arguments)
