"""The wheel carries the course: built from the tree, installed outside the checkout, used elsewhere.

What a learner gets from ``pip install`` of a built wheel or of the git URL (Colab): the
module fixture copies the repository's files (as a clone would have them) to a temporary
folder, adds files that must NOT ship (weights, a learner's fetched painting, Jupyter's
checkpoint copies; the solution notebooks are there already), builds the wheel with
``pip wheel --no-deps``, installs it into a target folder with ``pip install --no-deps
--target`` (the dependencies are this environment's), and every test then runs from
another working directory with only that folder added to the path. A source archive is
checked the same way. About a minute on an idle 2-core machine, most of it TensorFlow's
start-up in the ``nst`` runs; the wheel's build needs setuptools from pip's index.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from nst_helpers import __version__, samples
from tests.conftest import DATA, ROOT, STUDENT_NOTEBOOKS

BUNDLE = "nst_helpers/course_files"
#: Files put into the copied tree that the wheel must leave out.
MUST_NOT_SHIP = {
    "data/pretrained-model/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5": b"not weights",
    "data/paintings/fetched_by_a_learner.jpg": b"not a sample",
    "data/content/notes.txt": b"a learner's notes",
    "notebooks/.ipynb_checkpoints/1_content_cost-checkpoint.ipynb": b"{}",
}


def _repository_files() -> list[Path]:
    """The files a clone has (tracked, or new and not ignored), relative to the root."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):  # no git: everything but build leftovers
        skip = {".git", ".ci-venv", "build", "dist", "__pycache__", ".pytest_cache"}
        return [
            path.relative_to(ROOT)
            for path in ROOT.rglob("*")
            if path.is_file()
            and not skip & set(path.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in path.parts)
            and path.suffix != ".h5"
        ]
    names = [name for name in listed.decode().split("\0") if name]
    return [Path(name) for name in names if (ROOT / name).is_file()]


def _copy_tree(destination: Path) -> Path:
    for relative in _repository_files():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, target)
    for relative, content in MUST_NOT_SHIP.items():
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        (destination / relative).write_bytes(content)
    return destination


def _pip(*arguments, cwd):
    done = subprocess.run(
        [sys.executable, "-m", "pip", *arguments, "--disable-pip-version-check", "-q"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"pip {' '.join(arguments)} failed:\n{done.stderr[-3000:]}"


def _expected_course_files() -> dict[str, Path]:
    """What the wheel must carry (path inside the bundle -> the checkout's file)."""
    expected = {f"notebooks/{path.name}": path for path in STUDENT_NOTEBOOKS.glob("*.ipynb")}
    expected["data/SOURCES.md"] = DATA / "SOURCES.md"
    for path in samples.content_images(DATA) + samples.style_images(DATA):
        expected[path.relative_to(DATA.parent).as_posix()] = path
    return expected


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The wheel built from a copy of the tree, installed into a target folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = _copy_tree(work / "source")
    _pip("wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(source), cwd=work)
    (wheel,) = (work / "dist").glob("nst_course-*.whl")
    target = work / "site"
    _pip("install", "--no-deps", "--target", str(target), str(wheel), cwd=work)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NST_DATA_DIR", "PYTHONPATH", "PYTHONSTARTUP")
    }
    environment["PYTHONPATH"] = str(target)
    return {"wheel": wheel, "target": target, "elsewhere": elsewhere, "env": environment}


def _run(built, *arguments, timeout=600):
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=built["elsewhere"],
        env=built["env"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_wheel_carries_the_student_notebooks_and_data_and_nothing_else(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
        carried = {name[len(BUNDLE) + 1 :] for name in names if name.startswith(BUNDLE + "/")}
        expected = _expected_course_files()
        assert carried == set(expected), (
            f"extra: {carried - set(expected)}, missing: {set(expected) - carried}"
        )
        for inside, checkout_file in expected.items():
            assert wheel.read(f"{BUNDLE}/{inside}") == checkout_file.read_bytes(), inside
        metadata = wheel.read(f"nst_course-{__version__}.dist-info/METADATA").decode()
    assert not [name for name in names if "solutions" in name or name.endswith(".h5")]
    assert {name.split("/")[0] for name in names} == {
        "nst_helpers",
        f"nst_course-{__version__}.dist-info",
    }, "only the package and its metadata: no tests/, benchmarks/ or top-level data"
    assert f"Version: {__version__}" in metadata
    gpu = [line for line in metadata.splitlines() if line.endswith('extra == "gpu"')]
    assert len(gpu) == 1 and gpu[0].startswith("Requires-Dist: tensorflow[and-cuda]"), gpu
    assert "Requires-Python: >=3.11" in metadata


def test_the_installed_package_finds_its_course_from_another_directory(built):
    script = (
        "import json, nst_helpers\n"
        "from nst_helpers import resources, samples\n"
        "print(json.dumps({'module': nst_helpers.__file__, 'version': nst_helpers.__version__,"
        " 'layout': resources.layout(), 'data': str(resources.data_dir()),"
        " 'notebooks': [str(p) for p in resources.student_notebooks()],"
        " 'pair': [str(p) for p in samples.sample_pair('chelsea', 'waves')]}))\n"
    )
    done = _run(built, "-c", script)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    target = built["target"].resolve()
    assert Path(found["module"]).resolve().is_relative_to(target), "imported the checkout"
    assert found["version"] == __version__ and found["layout"] == "installed"
    assert Path(found["data"]).resolve() == target / BUNDLE / "data"
    assert [Path(path).name for path in found["notebooks"]] == sorted(
        path.name for path in STUDENT_NOTEBOOKS.glob("*.ipynb")
    )
    for path in found["notebooks"] + found["pair"]:
        assert Path(path).resolve().is_relative_to(target) and Path(path).is_file(), path
    assert [Path(path).name for path in found["pair"]] == ["chelsea.jpg", "waves.jpg"]


def test_nst_version_and_stylize_demo_run_from_the_installed_wheel(built):
    nst = built["target"] / "bin" / "nst"
    version = _run(built, str(nst), "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"nst-course {__version__}"
    done = _run(
        built,
        str(nst),
        "stylize",
        "--demo",
        "--weights",
        "random",
        "--size",
        "64",
        "--steps",
        "2",
        "-o",
        "out.png",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    from PIL import Image

    with Image.open(built["elsewhere"] / "out.png") as picture:
        assert max(picture.size) == 64


def test_nst_doctor_reports_the_installed_course(built):
    done = _run(built, str(built["target"] / "bin" / "nst"), "doctor")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines()[1:])
    target = built["target"].resolve()
    assert lines["nst-course"].strip().startswith(f"{__version__} (installed: {target}")
    assert f"in {target / BUNDLE / 'notebooks'}" in lines["Course files"]
    assert "MISSING" not in lines["Course files"]


def test_nst_start_copies_the_course_from_the_installed_wheel(built):
    done = _run(built, str(built["target"] / "bin" / "nst"), "start", "my-course")
    assert done.returncode == 0, done.stderr[-3000:]
    workspace = built["elsewhere"] / "my-course"
    notebooks = sorted(path.name for path in workspace.rglob("*.ipynb"))
    assert notebooks == sorted(path.name for path in STUDENT_NOTEBOOKS.glob("*.ipynb"))
    assert not list(workspace.rglob("solutions"))
    assert any(workspace.rglob("coffee.jpg")) and any(workspace.rglob("SOURCES.md"))


def test_the_source_archive_carries_the_course_without_solutions_or_weights(tmp_path):
    source = _copy_tree(tmp_path / "source")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, setuptools.build_meta as backend; print(backend.build_sdist(sys.argv[1]))",
            str(tmp_path / "dist"),
        ],
        cwd=source,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    archive = tmp_path / "dist" / done.stdout.strip().splitlines()[-1]
    with tarfile.open(archive) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for inside in _expected_course_files():
        assert inside in names, f"the source archive lacks {inside}"
    assert {"setup.py", "pyproject.toml", "nst_helpers/resources.py"} <= names
    assert not [name for name in names if "solutions" in name or name.endswith(".h5")]
    assert not set(MUST_NOT_SHIP) & names
