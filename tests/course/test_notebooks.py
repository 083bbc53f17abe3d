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
import re
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT

STUDENT_PATHS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTION_PATHS_FOR_IMPORTS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
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
    client.execute(env=learner_kernel_environment())
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
    # A learner who opens a later notebook first: each earlier function is the reference,
    # said in one line, and the notebook goes on.
    for cell in code_cells:
        if "use_own_functions(" in cell.source:
            assert not errors_of(cell)
            lines = stream_text(cell, "stdout").splitlines()[1:]
            assert lines and all(
                "REFERENCE from nst_helpers" in line
                and ("is not filled in yet" in line or "calls the library's own" in line)
                or "provided code" in line
                for line in lines
            ), lines
    # No cell writes TensorFlow's native start-up lines.
    for cell in code_cells:
        assert not TENSORFLOW_START_UP.search(stream_text(cell, "stderr")), cell.source[:200]


#: TensorFlow's native start-up lines (CUDA probing, oneDNN, CPU features, absl).
TENSORFLOW_START_UP = re.compile(
    r"absl::InitializeLog|cuda|cuInit|oneDNN|cpu_feature_guard|TensorFlow binary is optimized",
    re.IGNORECASE,
)


def stream_text(cell, name: str) -> str:
    return "".join(
        output.text
        for output in cell.get("outputs", [])
        if output.output_type == "stream" and output.name == name
    )


#: Run after a notebook's first cells: the first convolution and gradient, which start
#: TensorFlow's devices and kernels (and print, when anything does).
FIRST_WORK = """import keras
x = tf.Variable(tf.ones((1, 8, 8, 3)))
with tf.GradientTape() as tape:
    y = tf.reduce_sum(tf.nn.conv2d(x, tf.ones((3, 3, 3, 4)), 1, "SAME"))
print(float(y), float(tf.reduce_sum(tape.gradient(y, x))))
"""


def first_cells(path) -> list:
    """The notebook's cells up to its parameters cell, then FIRST_WORK."""
    notebook = nbformat.read(path, as_version=4)
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cells.append(cell)
            if "parameters" in cell.metadata.get("tags", []):
                break
    return cells


def learner_kernel_environment(*removed: str) -> dict:
    """This process's environment as a learner's kernel would have it.

    ipykernel forwards what C++ code writes to file descriptors 1 and 2 into the notebook,
    except when ``PYTEST_CURRENT_TEST`` is set: without removing it, native lines would
    never reach the outputs and a test for their absence could not fail.
    """
    environment = dict(os.environ)
    for name in ("PYTEST_CURRENT_TEST", *removed):
        environment.pop(name, None)
    return environment


def run_cells(sources, kernel_name, folder, environment):
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in sources]
    )
    NotebookClient(
        notebook, kernel_name=kernel_name, timeout=300, resources={"metadata": {"path": folder}}
    ).execute(env=environment)
    return notebook.cells


@pytest.mark.parametrize("path", STUDENT_PATHS, ids=lambda path: path.name)
def test_first_cells_write_nothing_to_stderr(path, kernel_in_this_environment):
    """As in a learner's JupyterLab: no TF_CPP_MIN_LOG_LEVEL in the kernel's environment."""
    environment = learner_kernel_environment("TF_CPP_MIN_LOG_LEVEL", "NST_TF_LOGS")
    sources = [cell.source for cell in first_cells(path)] + [FIRST_WORK]
    assert "start_tensorflow_quietly()" in "\n".join(sources)  # (a Colab cell may come first)
    cells = run_cells(sources, kernel_in_this_environment, str(path.parent), environment)
    for cell in cells:
        assert stream_text(cell, "stderr") == "", (cell.source[:200], stream_text(cell, "stderr"))
    assert len(stream_text(cells[-1], "stdout").split()) == 2  # the work was done


def test_tensorflow_does_print_start_up_lines_without_the_quiet_start(kernel_in_this_environment):
    """The control of the test above: a plain import does write them, and they are caught."""
    environment = learner_kernel_environment("TF_CPP_MIN_LOG_LEVEL", "NST_TF_LOGS")
    sources = ["import tensorflow as tf", FIRST_WORK]
    cells = run_cells(sources, kernel_in_this_environment, ".", environment)
    assert TENSORFLOW_START_UP.search("".join(stream_text(cell, "stderr") for cell in cells))


@pytest.mark.parametrize("path", SOLUTION_PATHS_FOR_IMPORTS, ids=lambda path: path.name)
def test_the_quiet_start_comes_before_any_tensorflow_import(path):
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    quiet = code.index("start_tensorflow_quietly()")
    for module in ("import tensorflow", "import keras", "from nst_helpers import"):
        assert code.find(module) == -1 or code.index(module) > quiet, module
    assert code.index("import tensorflow") > quiet


SOLUTION_PATHS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))


def code_without_magics(source: str) -> str:
    """A cell's source with IPython magics and shell lines commented out, for ast.parse."""
    return "\n".join(
        "# " + line if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


@pytest.mark.parametrize("path", SOLUTION_PATHS, ids=lambda path: path.name)
def test_every_notebook_assert_says_what_to_fix(path):
    """A bare `AssertionError:` after a wrong graded function leaves the learner lost: every
    assert in the notebooks' own cells carries a message (naming the function to go back to)."""
    import ast

    notebook = nbformat.read(path, as_version=4)
    bare = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(code_without_magics(cell.source))):
            if isinstance(node, ast.Assert) and node.msg is None:
                bare.append((index, ast.unparse(node)))
        assert "assert_allclose" not in cell.source, (index, "raw NumPy output, no hint")
    assert bare == []


def property_cell(notebook_name: str, marker: str) -> str:
    notebook = nbformat.read(ROOT / "notebooks" / "solutions" / notebook_name, as_version=4)
    sources = [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code"
        and "# NBVAL_CHECK_OUTPUT" in cell.source
        and marker in cell.source
    ]
    assert len(sources) == 1, (notebook_name, marker)
    return sources[0]


def test_training_property_cell_blames_a_train_step_without_clipping():
    import numpy as np
    import tensorflow as tf

    source = property_cell("5_training.ipynb", "final_image")
    content_image = tf.constant(np.full((1, 4, 4, 3), 0.5, dtype=np.float32))
    unclipped = np.full((1, 4, 4, 3), 0.5, dtype=np.float32)
    unclipped[0, 0, 0, 0] = 1.2
    namespace = {
        "tf": tf,
        "np": np,
        "content_image": content_image,
        "generated_image": tf.Variable(unclipped),
        "costs": [3.0, 2.0],
    }
    with pytest.raises(AssertionError, match=r"go back to your train_step: does it clip"):
        exec(source, namespace)
    namespace.update(generated_image=tf.Variable(np.clip(unclipped, 0, 1)), costs=[2.0, 3.0])
    with pytest.raises(AssertionError, match=r"the total cost did not fall.*train_step"):
        exec(source, namespace)


def test_style_property_cell_blames_compute_layer_style_cost():
    import numpy as np

    source = property_cell("3_style_cost.ipynb", "library")
    activations = {"block1_conv1": np.ones((1, 2, 2, 3), dtype=np.float32)}

    class Library:
        @staticmethod
        def compute_style_cost(style, generated, layers=None):
            return 1.0

    namespace = {
        "np": np,
        "nst_helpers": Library,
        "style_activations": activations,
        "content_activations": activations,
        "MY_STYLE_LAYERS": [("block1_conv1", 1.0)],
        "compute_style_cost": lambda style, generated, layers=None: 2.0,
    }
    with pytest.raises(AssertionError, match=r"go back to your compute_layer_style_cost"):
        exec(source, namespace)


def test_notebook_1_lists_the_five_parts_as_one_list():
    mistune = pytest.importorskip("mistune")
    notebook = nbformat.read(ROOT / "notebooks" / "solutions" / "1_content_cost.ipynb", 4)
    html = mistune.html(notebook.cells[0].source)
    assert html.count("<ol") == 1 and html.count("<li>") == 5, html
