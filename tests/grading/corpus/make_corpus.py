"""Build the grader's test corpus from the real solution notebooks and the student release.

Each variant is a submission (a notebook, or a learner's folder of the five notebooks)
made by editing the graded cell of a solution notebook: a typical mistake named by the
checks, a hostile trick, or a change of cell structure (marker deleted, cell moved,
split, duplicated, retyped). ``build_corpus`` writes them under a folder and returns,
for each, the expected result per function: (points, allowed statuses, a phrase that
the reason or the definition note must contain).

The notebooks are read from ``notebooks/`` at test time, so the corpus follows them.
Run as a script to write the corpus to a folder and look at it:
``python -m tests.grading.corpus.make_corpus /tmp/corpus``.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SOLUTIONS = ROOT / "notebooks" / "solutions"
RELEASE = ROOT / "notebooks"
NOTEBOOK_OF = {
    "compute_content_cost": "1_content_cost.ipynb",
    "gram_matrix": "2_gram_matrix.ipynb",
    "compute_layer_style_cost": "3_style_cost.ipynb",
    "total_cost": "4_total_cost.ipynb",
    "train_step": "5_training.ipynb",
}
FULL = 20.0


def load(name: str, folder: Path = SOLUTIONS) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def graded_cell_index(notebook: dict, function: str) -> int:
    for index, cell in enumerate(notebook["cells"]):
        if f"# GRADED FUNCTION: {function}" in _source(cell):
            return index
    raise ValueError(f"no graded cell for {function}")


def code_cell(source: str) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def patched(function: str, old: str, new: str) -> dict:
    """The solution notebook of ``function`` with ``old`` replaced by ``new`` in its cell."""
    notebook = load(NOTEBOOK_OF[function])
    cell = notebook["cells"][graded_cell_index(notebook, function)]
    text = _source(cell)
    if old not in text:
        raise ValueError(f"{old!r} is not in the graded cell of {function}")
    cell["source"] = text.replace(old, new, 1)
    return notebook


def replaced(function: str, definition: str) -> dict:
    """The solution notebook of ``function`` with the graded cell holding ``definition``."""
    notebook = load(NOTEBOOK_OF[function])
    cell = notebook["cells"][graded_cell_index(notebook, function)]
    cell["source"] = f"# GRADED FUNCTION: {function}\n{definition}"
    return notebook


def expect(points: float, statuses, phrase: str = "") -> tuple:
    return (points, (statuses,) if isinstance(statuses, str) else tuple(statuses), phrase)


def _single(function: str, points, statuses, phrase="") -> dict:
    """Expectations for a one-notebook submission: the other functions are missing."""
    result = {name: expect(0, "missing") for name in NOTEBOOK_OF}
    result[function] = expect(points, statuses, phrase)
    return result


def _folder(function: str, points, statuses, phrase="") -> dict:
    """Expectations for a five-notebook folder: only ``function`` is affected."""
    result = {name: expect(FULL, "passed") for name in NOTEBOOK_OF}
    result[function] = expect(points, statuses, phrase)
    return result


def mistakes() -> dict[str, tuple[dict, dict]]:
    """Typical mistakes, each named by the checks: {variant: (notebook, expectations)}."""
    content, unrolled = "compute_content_cost", "(a_C_unrolled - a_G_unrolled)"
    gram, style, total, step = "gram_matrix", "compute_layer_style_cost", "total_cost", "train_step"
    style_cost = "tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C**2 * (n_H * n_W) ** 2)"
    return {
        "content_not_squared": (
            patched(content, f"tf.square{unrolled}", unrolled),
            _single(content, 0, "failed", "square"),
        ),
        "content_missing_quarter": (
            patched(content, "/ (4 * n_H * n_W * n_C)", "/ (n_H * n_W * n_C)"),
            _single(content, 0, "failed", "1/4"),
        ),
        "content_precedence": (
            patched(content, "/ (4 * n_H * n_W * n_C)", "/ 4 * n_H * n_W * n_C"),
            _single(content, 0, "failed", "precedence"),
        ),
        "content_numpy": (
            patched(content, "tf.reduce_sum(tf.square(", "np.sum(np.square("),
            _single(content, 0, "failed", "NumPy"),
        ),
        "gram_wrong_order": (
            patched(gram, "tf.matmul(A, tf.transpose(A))", "tf.matmul(tf.transpose(A), A)"),
            _single(gram, 0, "failed", "transpose(A)"),
        ),
        "gram_elementwise": (
            patched(gram, "tf.matmul(A, tf.transpose(A))", "A * A"),
            _single(gram, 0, "failed", "element-wise"),
        ),
        "gram_normalised": (
            patched(gram, "tf.matmul(A, tf.transpose(A))", "tf.matmul(A, tf.transpose(A)) / 7.0"),
            _single(gram, 0, "failed", "gram_matrix"),
        ),
        "style_no_transpose": (
            _style_without_transpose(),
            _single(style, 0, "failed", "transpose"),
        ),
        "style_not_squared": (
            patched(style, style_cost, style_cost.replace("tf.square(GS - GG)", "(GS - GG)")),
            _single(style, 0, "failed", "square"),
        ),
        "style_wrong_normalisation": (
            patched(style, "(4.0 * n_C**2 * (n_H * n_W) ** 2)", "(4.0 * n_C * (n_H * n_W))"),
            _single(style, 0, "failed", "normalisation"),
        ),
        "total_swapped": (
            patched(total, "alpha * J_content + beta * J_style", "beta * J_content + alpha * J_style"),
            _single(total, 0, "failed", "swapped"),
        ),
        "total_hard_coded": (
            patched(total, "alpha * J_content + beta * J_style", "10 * J_content + 40 * J_style"),
            _single(total, 0, "failed", "10 and 40"),
        ),
        "step_no_clip": (
            patched(step, "generated_image.assign(clip_0_1(generated_image))", "pass"),
            _single(step, 0, "failed", "clip"),
        ),
        "step_no_apply": (
            patched(step, "optimizer.apply_gradients([(grad, generated_image)])", "pass"),
            _single(step, 0, "failed", "did not change the image"),
        ),
        "step_gradient_ascent": (
            patched(step, "apply_gradients([(grad,", "apply_gradients([(-grad,"),
            _single(step, 0, "failed", "increased the total cost"),
        ),
        "step_swapped_weights": (
            patched(step, "alpha=alpha, beta=beta", "alpha=beta, beta=alpha"),
            _single(step, 0, "failed", "swapped"),
        ),
        "content_square_root": (
            patched(content, f"tf.reduce_sum(tf.square{unrolled})", f"tf.sqrt(tf.reduce_sum(tf.square{unrolled}))"),
            _single(content, 0, "failed", "square root"),
        ),
        "content_not_summed": (
            patched(content, f"tf.reduce_sum(tf.square{unrolled})", f"tf.square{unrolled}"),
            _single(content, 0, "failed", "expected a scalar"),
        ),
        "style_gram_of_positions": (
            _style_positions_gram(),
            _single(style, 0, "failed", "Gram matrices of positions"),
        ),
        "total_unweighted": (
            patched(total, "alpha * J_content + beta * J_style", "J_content + J_style"),
            _single(total, 0, "failed", "without their weights"),
        ),
        "step_returns_content_cost": (
            patched(step, "\n    return J", "\n    return J_content"),
            _single(step, 0, "failed", "returned J_content"),
        ),
    }  # fmt: skip


def mistake_folders() -> dict[str, tuple[dict, dict]]:
    """The mistakes packed into learner folders, one mistake per function per folder.

    Packing keeps the test fast (one child process per folder, not per mistake). The
    expectations carry the mistake's name in their phrase's place for the test ids.
    """
    by_function: dict[str, list[tuple[str, dict, tuple]]] = {name: [] for name in NOTEBOOK_OF}
    for variant, (notebook, expectations) in mistakes().items():
        function = next(n for n, e in expectations.items() if e[1] != ("missing",))
        by_function[function].append((variant, notebook, expectations[function]))
    folders = {}
    for number in range(max(len(v) for v in by_function.values())):
        notebooks, expectations, names = {}, {}, {}
        for function, variants in by_function.items():
            if number < len(variants):
                variant, notebook, expectation = variants[number]
                names[function] = variant
            else:
                notebook, expectation = load(NOTEBOOK_OF[function]), expect(FULL, "passed")
            notebooks[NOTEBOOK_OF[function]] = notebook
            expectations[function] = expectation
        folders[f"mistakes_{number + 1}"] = (notebooks, expectations)
        MISTAKES_IN_FOLDER[f"mistakes_{number + 1}"] = names
    return folders


#: Which mistakes each ``mistakes_N`` folder holds (filled by ``mistake_folders``).
MISTAKES_IN_FOLDER: dict[str, dict[str, str]] = {}


def _style_positions_gram() -> dict:
    notebook = load(NOTEBOOK_OF["compute_layer_style_cost"])
    cell = notebook["cells"][graded_cell_index(notebook, "compute_layer_style_cost")]
    for name in ("a_S", "a_G"):
        cell["source"] = _source(cell).replace(
            f"tf.transpose(tf.reshape({name}, shape=[-1, n_C]))",
            f"tf.reshape({name}, shape=[-1, n_C])",
        )
    return notebook


def _style_without_transpose() -> dict:
    notebook = patched(
        "compute_layer_style_cost",
        "tf.transpose(tf.reshape(a_S, shape=[-1, n_C]))",
        "tf.reshape(a_S, shape=[n_C, -1])",
    )
    cell = notebook["cells"][graded_cell_index(notebook, "compute_layer_style_cost")]
    cell["source"] = _source(cell).replace(
        "tf.transpose(tf.reshape(a_G, shape=[-1, n_C]))", "tf.reshape(a_G, shape=[n_C, -1])"
    )
    return notebook


def structure_variants() -> dict[str, tuple[dict, dict]]:
    """Cells moved, split, duplicated, retyped, marker deleted: still found, with a note."""
    gram = "gram_matrix"
    variants = {}

    notebook = load(NOTEBOOK_OF[gram])
    index = graded_cell_index(notebook, gram)
    cell = notebook["cells"][index]
    cell["source"] = _source(cell).replace("# GRADED FUNCTION: gram_matrix\n", "")
    variants["no_marker"] = (notebook, _single(gram, FULL, "passed", "marker is missing"))

    notebook = load(NOTEBOOK_OF[gram])
    index = graded_cell_index(notebook, gram)
    cell = notebook["cells"][index]
    cell["source"] = _source(cell).replace("# GRADED FUNCTION: gram_matrix\n", "")
    cell["metadata"] = {"nbgrader": {"grade_id": "gram_matrix", "solution": True}}
    variants["nbgrader_grade_id"] = (notebook, _single(gram, FULL, "passed", "under its graded"))

    notebook = load(NOTEBOOK_OF[gram])
    moved = notebook["cells"].pop(graded_cell_index(notebook, gram))
    notebook["cells"].append(moved)
    variants["moved_to_end"] = (notebook, _single(gram, FULL, "passed", "defined in cell"))

    notebook = load(NOTEBOOK_OF[gram])
    index = graded_cell_index(notebook, gram)
    wrong = copy.deepcopy(notebook["cells"][index])
    wrong["source"] = "def gram_matrix(A):\n    return A * A\n"
    notebook["cells"].insert(index, wrong)
    variants["duplicated_right_last"] = (notebook, _single(gram, FULL, "passed", "last one"))

    notebook = load(NOTEBOOK_OF[gram])
    index = graded_cell_index(notebook, gram)
    notebook["cells"].insert(index + 1, code_cell("def gram_matrix(A):\n    return A * A\n"))
    variants["duplicated_wrong_last"] = (notebook, _single(gram, 0, "failed", "last one"))

    notebook = load(NOTEBOOK_OF[gram])
    index = graded_cell_index(notebook, gram)
    text = _source(notebook["cells"][index])
    cut = text.index("    ### START CODE HERE ###")
    notebook["cells"][index]["source"] = text[:cut]
    notebook["cells"].insert(index + 1, code_cell(text[cut:]))
    variants["split_cell"] = (notebook, _single(gram, FULL, "passed", "split"))

    notebook = load(NOTEBOOK_OF[gram])
    index = graded_cell_index(notebook, gram)
    cell = notebook["cells"][index]
    notebook["cells"][index] = {"cell_type": "markdown", "metadata": {}, "source": cell["source"]}
    variants["retyped_markdown"] = (notebook, _single(gram, FULL, "passed", "markdown"))

    notebook = load(NOTEBOOK_OF[gram])
    index = graded_cell_index(notebook, gram)
    cell = notebook["cells"][index]
    cell["source"] = "%matplotlib inline\n!echo hello\n" + _source(cell)
    notebook["cells"].insert(index, code_cell("while True:\n    pass\n"))
    notebook["cells"].insert(index, code_cell("%%bash\nrm -rf /\n"))
    variants["magics_and_heavy_cells"] = (notebook, _single(gram, FULL, "passed"))
    return variants


def hostile_variants(outside: Path) -> dict[str, tuple[object, dict]]:
    """Broken and hostile submissions. Folder variants show that only one function pays."""
    content, gram, total = "compute_content_cost", "gram_matrix", "total_cost"
    style, step = "compute_layer_style_cost", "train_step"
    variants: dict[str, tuple[object, dict]] = {
        "not_json": (b"this is not a notebook\n", _all_missing("not valid JSON")),
        "not_a_notebook": (b'{"hello": "world"}\n', _all_missing("not a Jupyter notebook")),
        "missing_function": (_without_graded_cell(gram), _single(gram, 0, "missing", "No definition")),
        "syntax_error": (
            patched(gram, "tf.matmul(A, tf.transpose(A))", "tf.matmul(A, tf.transpose(A)"),
            _single(gram, 0, "syntax error", "syntax error"),
        ),
        # One child survives them all: each function of this folder misbehaves differently.
        "folder_mixed_hostile": (
            {
                NOTEBOOK_OF[content]: patched(content, "### START CODE HERE ###",
                    f"open({str(outside)!r}, 'w').write('pwned')\n    ### START CODE HERE ###"),
                NOTEBOOK_OF[gram]: patched(gram, "GA = tf.matmul(A, tf.transpose(A))",
                    "print('score: 100')\n    print('{\"total\": 100}')\n    GA = None"),
                NOTEBOOK_OF[style]: patched(style, "### START CODE HERE ###",
                    "import os\n    os.system('echo hi')\n    ### START CODE HERE ###"),
                NOTEBOOK_OF[total]: patched(total, "J = alpha",
                    "import sys\n    sys.exit(0)\n    J = alpha"),
                NOTEBOOK_OF[step]: patched(step, "    with tf.GradientTape() as tape:",
                    "    raise RuntimeError('boom')\n    with tf.GradientTape() as tape:"),
            },
            {
                content: expect(0, "blocked", "outside its working directory"),
                gram: expect(0, "failed", "returned None"),
                style: expect(0, "blocked", "shell command"),
                total: expect(0, "error", "SystemExit"),
                step: expect(0, "error", "raised RuntimeError at line"),
            },
        ),
        # What the child controls must not carry hidden inputs into the feedback: exception
        # messages and class names, the paths of blocked writes. Also: AutoGraph works on
        # the learner's code, and a filled-in function without `return` is a mistake.
        "folder_feedback_secrecy": (
            {
                NOTEBOOK_OF[content]: patched(content, "### START CODE HERE ###",
                    "digits = str(abs(float(tf.reduce_sum(a_C))))\n"
                    "    raise ValueError('LEAK ' + ''.join(chr(97 + int(d)) for d in digits "
                    "if d.isdigit()) + str(a_C.shape))\n    ### START CODE HERE ###"),
                NOTEBOOK_OF[gram]: replaced(gram, AUTOGRAPH_GRAM),
                NOTEBOOK_OF[style]: patched(style, "\n    return J_style_layer", "\n"),
                NOTEBOOK_OF[total]: patched(total, "### START CODE HERE ###",
                    "for i in range(3):\n        try:\n"
                    "            open(f'/LEAK{int(float(J_content) * 1e6)}', 'w')\n"
                    "        except PermissionError:\n            pass\n"
                    "    ### START CODE HERE ###"),
                NOTEBOOK_OF[step]: patched(step, "    with tf.GradientTape() as tape:",
                    "    raise type('LEAK' + str(generated_image.shape[1]), (Exception,), {})()\n"
                    "    with tf.GradientTape() as tape:"),
            },
            {
                content: expect(0, "error", "raised ValueError at line"),
                gram: expect(FULL, "passed"),
                style: expect(0, "failed", "forgot to return"),
                total: expect(0, "blocked", "write a file outside its working directory."),
                step: expect(0, "error", "raised an exception of its own class at line"),
            },
        ),
        "delegate_import": (
            patched(gram, "GA = tf.matmul(A, tf.transpose(A))",
                    "from nst_helpers import gram_matrix as reference\n    GA = reference(A)"),
            _single(gram, 0, "delegation", "nst_helpers.costs.gram_matrix"),
        ),
        "delegate_module_alias": (
            _with_setup_line(content, "import nst_helpers as nh",
                             "J_content = tf.reduce_sum(tf.square(a_C_unrolled - a_G_unrolled)) / (4 * n_H * n_W * n_C)",
                             "J_content = nh.costs.compute_content_cost(a_C, a_G)"),
            _single(content, 0, "delegation", "nst_helpers.costs.compute_content_cost"),
        ),
        "delegate_importlib": (
            patched(total, "J = alpha * J_content + beta * J_style",
                    "import importlib\n    J = importlib.import_module('nst_' + 'helpers.costs')"
                    ".total_cost(J_content, J_style, alpha, beta)"),
            _single(total, 0, "delegation", "importlib"),
        ),
        "delegate_getattr": (
            _with_setup_line(total, "import nst_helpers as nh",
                             "J = alpha * J_content + beta * J_style",
                             "J = getattr(nh, 'total' + '_cost')(J_content, J_style, alpha, beta)"),
            _single(total, 0, "delegation", "dynamically"),
        ),
        "delegate_train_step": (
            patched("train_step", "    with tf.GradientTape() as tape:",
                    "    from nst_helpers.reference_step import train_step as reference\n"
                    "    return reference(generated_image, feature_extractor, content_targets, "
                    "style_targets, optimizer, content_layer, style_layers, alpha, beta)\n"
                    "    with tf.GradientTape() as tape:"),
            _single("train_step", 0, "delegation", "nst_helpers.reference_step.train_step"),
        ),
        # Folders of all five notebooks: only the hostile function scores 0.
        "folder_infinite_loop": (
            _folder_with(gram, patched(gram, "GA = tf.matmul", "while True:\n        pass\n    GA = tf.matmul")),
            _folder(gram, 0, "timeout", "time limit"),
        ),
        "folder_memory_bomb": (
            _folder_with(content, patched(content, "### START CODE HERE ###",
                         "blocks = []\n    while True:\n        blocks.append(np.ones(10**8))\n    ### START CODE HERE ###")),
            _folder(content, 0, ("error", "crashed"), "emory"),
        ),
        "folder_os_exit": (
            _folder_with(total, patched(total, "J = alpha", "import os\n    os._exit(0)\n    J = alpha")),
            _folder(total, 0, "crashed", "exited"),
        ),
        "folder_patches_numpy_and_tf": (
            _folder_with(gram, patched(gram, "GA = tf.matmul(A, tf.transpose(A))",
                         "np.allclose = lambda *a, **k: True\n    np.isclose = lambda *a, **k: True\n"
                         "    tf.matmul = lambda a, b, **k: a * 0\n    GA = tf.zeros((A.shape[0], A.shape[0]))")),
            _folder(gram, 0, "failed", "gram_matrix"),
        ),
    }  # fmt: skip
    return variants


#: A correct gram_matrix compiled by tf.function, with Python control flow on a tensor:
#: only AutoGraph (which reads the function's source file) makes it run.
AUTOGRAPH_GRAM = """@tf.function
def gram_matrix(A):
    if tf.shape(A)[0] > 0:
        GA = tf.matmul(A, tf.transpose(A))
    else:
        GA = tf.matmul(A, tf.transpose(A)) * 0.0
    return GA
"""


def _with_setup_line(function: str, setup: str, old: str, new: str) -> dict:
    notebook = patched(function, old, new)
    notebook["cells"].insert(0, code_cell(setup + "\n"))
    return notebook


def _without_graded_cell(function: str) -> dict:
    notebook = load(NOTEBOOK_OF[function])
    notebook["cells"].pop(graded_cell_index(notebook, function))
    return notebook


def _folder_with(function: str, notebook: dict) -> dict[str, dict]:
    notebooks = {name: load(name) for name in NOTEBOOK_OF.values()}
    notebooks[NOTEBOOK_OF[function]] = notebook
    return notebooks


def _all_missing(phrase: str) -> dict:
    return {name: expect(0, "missing", phrase) for name in NOTEBOOK_OF}


def _write(path: Path, content) -> None:
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")


def all_variants(outside: Path, udp_port: int = 9) -> dict[str, tuple[object, dict]]:
    """Every variant but the solution and the release: mistakes, structure, hostile, the
    attacks of issue 8 and the fairness cases (``attacks``)."""
    from tests.grading.corpus.attacks import attack_variants, fairness_variants

    return {
        **mistake_folders(),
        **structure_variants(),
        **hostile_variants(outside),
        **attack_variants(outside, udp_port),
        **fairness_variants(),
    }


def build_corpus(destination, outside: Path, udp_port: int = 9) -> dict[str, dict]:
    """Write every submission under ``destination``; return {submission: expectations}.

    ``outside`` is a path that hostile variants try to create (it must not exist after
    grading); ``udp_port`` is where on 127.0.0.1 one of them sends what it found.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    expected = {}
    solutions = {name: load(name) for name in NOTEBOOK_OF.values()}
    release = {name: load(name, RELEASE) for name in NOTEBOOK_OF.values()}
    folders = {
        "solution": (solutions, {n: expect(FULL, "passed") for n in NOTEBOOK_OF}),
        "release": (release, {n: expect(0, "not implemented", "not filled in") for n in NOTEBOOK_OF}),
    }  # fmt: skip
    everything = all_variants(outside, udp_port)
    for name, (content, expectations) in {**folders, **everything}.items():
        if isinstance(content, dict) and all(k.endswith(".ipynb") for k in content):
            folder = destination / name
            folder.mkdir(exist_ok=True)
            for notebook_name, notebook in content.items():
                _write(folder / notebook_name, notebook)
        else:
            _write(destination / (name if callable(content) else f"{name}.ipynb"), content)
        expected[name] = expectations
    return expected


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")
    corpus = build_corpus(target, target / "outside.txt")
    print(f"Wrote {len(corpus)} submissions to {target}")
