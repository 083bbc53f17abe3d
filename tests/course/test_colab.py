"""The Colab set-up cell, run by simulation, and the Colab and Binder links.

The cell's source is executed as a notebook would (``exec`` in a fresh namespace) with a
fake ``google.colab`` module, a fake command runner in place of ``subprocess.run`` (it
records each command and runs nothing: no network), a fake installed-version lookup and
a fake ``tensorflow`` that reports a GPU or none. Outside Colab the cell must do nothing.
"""

import ast
import importlib.metadata
import re
import subprocess
import sys
import types

import pytest

from nst_helpers import __version__, vgg
from nst_helpers.course import colab

REQUIREMENT = f"nst-course @ git+{colab.REPOSITORY_URL}@v{__version__}"
#: What the installed course's metadata lists (its dependencies and its extras').
COURSE_REQUIRES = tuple(importlib.metadata.requires("nst-course"))
#: What a fresh Colab runtime without any of them must get: no extra's, none of Colab's own.
MISSING_ON_COLAB = [
    spec
    for spec in COURSE_REQUIRES
    if ";" not in spec and not spec.startswith(("jupyterlab", "ipykernel", "ipywidgets"))
]


class FakeRunner:
    """Records commands; answers with the given exit status and stderr."""

    def __init__(self, returncode=0, stderr=""):
        self.commands, self.returncode, self.stderr = [], returncode, stderr

    def __call__(self, command, **options):
        self.commands.append((list(command), options))
        return subprocess.CompletedProcess(command, self.returncode, "", self.stderr)


def fake_tensorflow(gpus):
    module = types.ModuleType("tensorflow")
    module.__version__ = "2.99.0"
    module.config = types.SimpleNamespace(
        list_physical_devices=lambda kind: list(gpus) if kind == "GPU" else []
    )
    return module


@pytest.fixture
def colab_runtime(monkeypatch, tmp_path):
    """A simulated fresh Colab runtime: google.colab loaded, the course not installed,
    no weights in Keras' cache, no GPU; returns the fake runner."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setitem(sys.modules, "tensorflow", fake_tensorflow([]))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    monkeypatch.setattr(importlib.metadata, "requires", lambda name: list(COURSE_REQUIRES))
    runner = FakeRunner()
    monkeypatch.setattr(subprocess, "run", runner)
    return runner


def run_cell(source=None):
    namespace = {"__name__": "__main__"}
    exec(compile(source or colab.setup_cell_source(), "<setup cell>", "exec"), namespace)
    return namespace


def test_in_colab_the_cell_installs_the_matching_version_then_fetches_the_weights(
    colab_runtime, capsys
):
    namespace = run_cell()
    (install, install_options), (dependencies, _), (fetch, _) = colab_runtime.commands
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    assert install == [*pip, "--no-deps", REQUIREMENT]
    assert install_options["env"]["GIT_TERMINAL_PROMPT"] == "0"  # fails, never asks
    assert dependencies == [*pip, *MISSING_ON_COLAB]
    assert any(spec.startswith("tensorflow") for spec in MISSING_ON_COLAB)
    assert fetch == [sys.executable, "-m", "nst_helpers.cli", "fetch", "weights"]
    said = capsys.readouterr().out
    assert f"nst-course {__version__}" in said and "no GPU" in said
    assert "Runtime > Change runtime type" in said
    assert "_nst_colab_set_up" not in namespace, "the cell leaves no helper behind"


def test_in_colab_the_cell_says_when_a_gpu_is_on(colab_runtime, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorflow", fake_tensorflow(["/physical_device:GPU:0"]))
    run_cell()
    said = capsys.readouterr().out
    assert "GPU on" in said and "no GPU" not in said


def test_run_again_it_neither_reinstalls_nor_fetches_twice(colab_runtime, monkeypatch, tmp_path):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: __version__)
    weights = tmp_path / "keras" / "models" / vgg.WEIGHTS_FILE_NAME
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"weights")
    run_cell()
    assert colab_runtime.commands == []


def test_another_installed_version_is_replaced_by_the_matching_one(colab_runtime, monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1")
    run_cell()
    assert colab_runtime.commands[0][0][-2:] == ["--no-deps", REQUIREMENT]
    assert "pip" not in colab_runtime.commands[1][0], "nothing else is missing"


def test_colab_keeps_its_own_jupyter_and_installs_only_what_it_lacks(colab_runtime, monkeypatch):
    """Colab has TensorFlow, Keras, NumPy... in its own versions, and its own Jupyter
    packages, which a newer ipykernel would break: only the missing library is installed."""
    lacking = {"nst-course", "nbclient", "jupyterlab", "ipykernel", "pytest", "ruff"}

    def colab_version(name):
        if name in lacking:
            raise importlib.metadata.PackageNotFoundError(name)
        return "1.0"

    monkeypatch.setattr(importlib.metadata, "version", colab_version)
    run_cell()
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    nbclient = [spec for spec in COURSE_REQUIRES if spec.startswith("nbclient")]
    assert colab_runtime.commands[1][0] == [*pip, *nbclient] and len(nbclient) == 1


def test_a_failed_install_stops_with_what_pip_said(colab_runtime, monkeypatch):
    failing = FakeRunner(returncode=1, stderr="ERROR: could not resolve host github.com")
    monkeypatch.setattr(subprocess, "run", failing)
    with pytest.raises(RuntimeError, match="could not resolve host") as raised:
        run_cell()
    assert REQUIREMENT in str(raised.value) and "run this cell again" in str(raised.value)
    assert len(failing.commands) == 1, "no weights fetch after a failed install"


def test_outside_colab_the_cell_does_nothing(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    runner = FakeRunner()
    monkeypatch.setattr(subprocess, "run", runner)
    untouchable = types.ModuleType("tensorflow")  # any use of it would raise AttributeError
    monkeypatch.setitem(sys.modules, "tensorflow", untouchable)
    namespace = run_cell()
    assert runner.commands == [] and capsys.readouterr() == ("", "")
    assert set(namespace) - {"__name__", "__builtins__"} == {"sys"}


def test_the_cell_is_self_contained_and_names_one_version():
    source = colab.setup_cell_source()
    assert source.splitlines()[0] == colab.SETUP_CELL_FIRST_LINE
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"sys", "importlib", "os", "re", "subprocess", "tensorflow"}, imported
    assert source.count(f'"{__version__}"') == 1 and REQUIREMENT in source
    assert colab.WEIGHTS_FILE_NAME == vgg.WEIGHTS_FILE_NAME


def test_the_cell_and_links_follow_the_version_and_repository_given():
    source = colab.setup_cell_source("1.2.3", "https://github.com/someone/nst")
    assert (
        '"1.2.3"' in source and "nst-course @ git+https://github.com/someone/nst@v1.2.3" in source
    )
    assert colab.colab_url("2_gram_matrix.ipynb", "1.2.3", "https://github.com/someone/nst") == (
        "https://colab.research.google.com/github/someone/nst/blob/v1.2.3/notebooks/2_gram_matrix.ipynb"
    )
    assert colab.binder_url("1.2.3", "https://github.com/someone/nst.git") == (
        "https://mybinder.org/v2/gh/someone/nst/v1.2.3?urlpath=lab/tree/notebooks"
    )
    badge = colab.colab_badge("1_content_cost.ipynb")
    assert (
        badge.startswith("[![Open in Colab](") and colab.colab_url("1_content_cost.ipynb") in badge
    )


@pytest.mark.parametrize(
    "version, repository",
    [
        ('1.0"); import os; os.system("x"); ("', colab.REPOSITORY_URL),
        ("latest", colab.REPOSITORY_URL),
        (__version__, 'https://github.com/a/b"; import os; #'),
        (__version__, "https://gitlab.com/a/b"),
        (__version__, "http://github.com/a/b"),
    ],
)
def test_a_hostile_or_wrong_version_or_address_is_refused(version, repository):
    with pytest.raises(ValueError, match="version|repository_url"):
        colab.setup_cell_source(version, repository)


@pytest.mark.parametrize(
    "notebook", ["solutions/1_content_cost.ipynb", "../x.ipynb", "notes.txt", ".hidden.ipynb"]
)
def test_links_open_only_student_notebooks(notebook):
    with pytest.raises(ValueError, match="student notebook"):
        colab.colab_url(notebook)


def test_the_repository_is_a_real_account_or_one_no_one_can_own():
    """Until the address is known, the placeholder owner must be impossible on GitHub (whose
    account names are letters, digits and single inner hyphens), so that no notebook can
    install a stranger's code; once replaced, it must be a well-formed account name."""
    owner = colab.REPOSITORY_URL.split("/")[3]
    if owner == "REPLACE_WITH_OWNER":
        assert "_" in owner
    else:
        assert re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}", owner), owner


def test_a_fresh_runtime_is_not_told_to_restart(colab_runtime, monkeypatch, capsys):
    for name in [name for name in sys.modules if name.split(".")[0] == "nst_helpers"]:
        monkeypatch.delitem(sys.modules, name)
    run_cell()
    assert "Restart" not in capsys.readouterr().out


def test_a_runtime_that_had_loaded_an_older_course_is_told_to_restart(colab_runtime, capsys):
    run_cell()  # nst_helpers is loaded in this test process
    assert "Restart the session" in capsys.readouterr().out
