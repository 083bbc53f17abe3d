"""Packaging: the public API, the `nst` entry point, and pyproject/environment.yml/README in sync.

Also where the course's files are found (``resources``: a checkout or an installed wheel),
one version everywhere, the GPU extra, Binder's recipe and the supported Python versions.
The wheel itself is built and used from outside the checkout in ``test_wheel.py``.
"""

import re
import subprocess
import sys
import tomllib

import pytest

import nst_helpers
from tests.conftest import ROOT


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def environment_pip_requirements():
    """The `- pip:` list of environment.yml (read without a YAML library)."""
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    requirements = []
    for line in lines[start + 1 :]:
        match = re.match(r"^\s+- (.+)$", line)
        if not match:
            break
        requirements.append(match.group(1).strip())
    return requirements


def test_environment_yml_installs_the_same_dependencies_as_pyproject():
    project = pyproject()["project"]
    expected = project["dependencies"] + project["optional-dependencies"]["dev"]
    from_conda = environment_pip_requirements()
    assert "-e ." in from_conda, "environment.yml must install the package itself"
    assert sorted(r for r in from_conda if r != "-e .") == sorted(expected)


def test_public_api():
    for name in [
        "compute_content_cost",
        "gram_matrix",
        "compute_layer_style_cost",
        "compute_style_cost",
        "total_cost",
        "STYLE_LAYERS",
    ]:
        assert name in nst_helpers.__all__
        assert getattr(nst_helpers, name) is not None
    assert callable(nst_helpers.total_cost)


def test_console_script_and_help():
    assert pyproject()["project"]["scripts"]["nst"] == "nst_helpers.cli:main"
    done = subprocess.run(
        [sys.executable, "-m", "nst_helpers.cli", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    for command in ("start", "stylize", "fetch", "release", "grade", "validate"):
        assert command in done.stdout


def test_unknown_command_fails():
    done = subprocess.run(
        [sys.executable, "-m", "nst_helpers.cli", "paint"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_readme_set_up_is_two_commands_that_ci_runs():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Set up.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert commands == ['python -m pip install -e ".[dev]"', "python -m pytest"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci and "python3 -m venv" in ci and "ruff check" in ci


def test_a_command_error_is_one_line_without_tensorflow_chatter(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nst_helpers.cli",
            "stylize",
            "missing.jpg",
            "gone.jpg",
            "-o",
            "o.png",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "nst stylize: error: missing.jpg: no such file. Check the path and the file name."
    ]
    assert done.stdout == ""


def test_stylize_refuses_to_overwrite_an_input(tmp_path):
    from PIL import Image

    from nst_helpers import cli

    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 40), (200, 100, 50)).save(photo)
    before = photo.read_bytes()
    assert cli.main(["stylize", str(photo), str(photo), "-o", str(photo), "--steps", "1"]) == 2
    assert photo.read_bytes() == before


def test_usage_errors_are_one_line(capsys):
    from nst_helpers import cli

    try:
        cli.main(["stylize", "a.jpg", "b.jpg", "-o", "c.png", "--scales", "x"])
    except SystemExit as exit:
        assert exit.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("nst stylize: error: argument --scales")


def test_scales_accepts_a_count_or_sizes():
    from nst_helpers.commands.stylize import _scales

    assert _scales("3") == 3
    assert _scales("128,256,384") == [128, 256, 384]


DOCUMENTS = [
    "README.md",
    "CONTRIBUTING.md",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
]


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", markdown, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_readme_fits_on_two_screens():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 150


def test_every_relative_link_in_the_documentation_works():
    for document in DOCUMENTS:
        path = ROOT / document
        text = path.read_text()
        text_without_code = re.sub(r"```.*?```", "", text, flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text_without_code):
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            assert linked.exists(), f"{document}: link to missing {target}"
            if anchor:
                assert anchor in _anchors(linked.read_text()), f"{document}: no anchor {target}"


def test_a_checkout_reads_its_own_notebooks_and_data():
    from nst_helpers import resources

    assert not (ROOT / "nst_helpers" / resources.BUNDLE_DIR_NAME).exists(), (
        "a checkout must not hold a built copy of the course (it would shadow notebooks/ "
        "and data/): delete nst_helpers/course_files"
    )
    assert resources.layout() == "checkout"
    assert resources.student_notebooks_dir() == ROOT / "notebooks"
    assert resources.student_notebooks() == sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert not [path for path in resources.student_notebooks() if "solutions" in path.parts]


def test_an_installed_package_reads_its_bundled_copy(tmp_path, monkeypatch):
    from nst_helpers import resources

    monkeypatch.delenv(resources.DATA_DIR_ENV, raising=False)
    package = tmp_path / "site-packages" / "nst_helpers"
    bundle = package / resources.BUNDLE_DIR_NAME
    (bundle / "notebooks").mkdir(parents=True)
    (bundle / "notebooks" / "1_a.ipynb").write_text("{}")
    (bundle / "data").mkdir()
    # Another distribution's stray top-level folders in site-packages must not be taken.
    (tmp_path / "site-packages" / "notebooks").mkdir()
    (tmp_path / "site-packages" / "data").mkdir()
    assert resources.layout(package) == "installed"
    assert resources.data_dir(package) == bundle / "data"
    assert resources.student_notebooks(package) == [bundle / "notebooks" / "1_a.ipynb"]
    monkeypatch.setenv(resources.DATA_DIR_ENV, str(tmp_path / "mine"))
    assert resources.data_dir(package) == tmp_path / "mine"


def test_missing_notebooks_say_what_to_do(tmp_path):
    from nst_helpers import resources

    with pytest.raises(FileNotFoundError, match="student notebooks are missing"):
        resources.student_notebooks(tmp_path / "nst_helpers")


def test_the_wheel_and_the_source_archive_name_the_same_course_files():
    """setup.py copies COURSE_FILES into the wheel; MANIFEST.in must put them in the source
    archive, or a wheel built from it would fail (test_wheel.py builds both)."""
    manifest = (ROOT / "MANIFEST.in").read_text()
    setup_text = (ROOT / "setup.py").read_text()
    patterns = re.search(r"COURSE_FILES = \((.*?)\)", setup_text, re.S).group(1)
    for pattern in re.findall(r'"([^"]+)"', patterns):
        assert pattern in manifest, f"MANIFEST.in must include {pattern}"
    assert "prune notebooks/solutions" in manifest


def _readme_set_up_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return re.search(r"^## Set up.*?(?=^## )", readme, re.S | re.M).group(0)


def test_one_version_everywhere():
    """The package, its metadata, `nst --version`, the Colab cell, README's links and the
    CHANGELOG name the same version, written once in nst_helpers/__init__.py."""
    import importlib.metadata

    from nst_helpers.course import colab

    version = nst_helpers.__version__
    assert pyproject()["project"]["dynamic"] == ["version"]
    assert pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "nst_helpers.__version__"
    }
    assert importlib.metadata.version("nst-course") == version, (
        "the installed metadata is older than nst_helpers.__version__: pip install -e ."
    )
    done = subprocess.run(
        [sys.executable, "-m", "nst_helpers.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == f"nst-course {version}"
    assert f'_nst_colab_set_up("{version}", ' in colab.setup_cell_source()
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## \[(.+?)\]", changelog, re.M).group(1) == version
    tags = re.findall(r"[@/]v(\d+\.\d+[0-9a-z.]*?)(?=[\"/?)\s])", _readme_set_up_section())
    assert tags and set(tags) == {version}, tags


def test_readme_set_up_shows_the_three_ways_with_links_made_in_one_place():
    from nst_helpers.course import colab

    section = _readme_set_up_section()
    assert f'python -m pip install "{colab.install_requirement()}"' in section
    assert colab.colab_badge("1_content_cost.ipynb") in section
    assert colab.binder_badge() in section
    assert "Binder" in section and "CPU only" in section and "slow" in section
    assert '".[dev,gpu]"' in section and "nst doctor" in section
    readme = (ROOT / "README.md").read_text()
    for address in re.findall(r"https://github\.com/[^/\s]+/[^/\s@)]+", readme):
        assert address == colab.REPOSITORY_URL, f"README names another repository: {address}"


def test_the_gpu_extra_is_tensorflow_with_cuda_at_the_same_versions():
    project = pyproject()["project"]
    tensorflow = next(r for r in project["dependencies"] if r.startswith("tensorflow"))
    assert project["optional-dependencies"]["gpu"] == [
        tensorflow.replace("tensorflow", "tensorflow[and-cuda]", 1)
    ]
    assert not [r for r in environment_pip_requirements() if "and-cuda" in r], "conda is CPU only"


def _stated_versions() -> list[str]:
    return sorted(
        classifier.rsplit(" ", 1)[1]
        for classifier in pyproject()["project"]["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", classifier)
    )


def test_supported_python_versions_are_stated_once_and_all_tested():
    stated = _stated_versions()
    assert stated[:2] == ["3.11", "3.12"], "3.11 and Colab's 3.12 at least"
    assert pyproject()["project"]["requires-python"] == f">={stated[0]}"
    ci = (ROOT / ".ci" / "run").read_text()
    extra = re.search(r'extra_pythons="\$\{NST_CI_EXTRA_PYTHONS-([^}]*)\}"', ci).group(1).split()
    main = re.search(r"^python3 -m venv \.ci-venv$", ci, re.M)
    assert main, "CI's full suite runs on python3"
    assert sorted(extra) == stated[1:], "CI must run every stated version besides the main one"
    environment = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- python=(\d\.\d+)$", environment, re.M).group(1) in stated
    readme = _readme_set_up_section()
    assert f"Python {', '.join(stated[:-1])} or {stated[-1]}" in readme


def test_ci_runs_each_extra_version_on_a_fast_part_that_exists():
    ci = (ROOT / ".ci" / "run").read_text()
    slow = re.search(r"slow_tests=\((.*?)\)", ci, re.S).group(1).split()
    assert slow and all((ROOT / path).is_file() for path in slow), slow
    assert "python -m pytest tests" in ci and '"${slow_tests[@]/#/--ignore=}"' in ci


def test_environment_yml_is_binders_recipe():
    """What repo2docker needs: an exact python=X.Y it can read (its own pattern), the
    repository as a local pip requirement (so it is copied in before the install), no
    binder/ folder that would hide the root files, and an executable postBuild."""
    text = (ROOT / "environment.yml").read_text()
    pins = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- python")]
    assert len(pins) == 1 and re.match(r"python\s*=+\s*(\d+\.\d+)$", pins[0]), pins
    assert "-e ." in environment_pip_requirements()
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    post_build = ROOT / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    script = post_build.read_text()
    assert script.startswith("#!/bin/bash") and "nst fetch weights ||" in script


def test_every_student_notebook_opens_with_its_colab_badge_and_the_set_up_cell():
    import nbformat

    from nst_helpers import resources
    from nst_helpers.course import colab

    for path in resources.student_notebooks():
        notebook = nbformat.read(path, as_version=4)
        markdown = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
        assert colab.colab_badge(path.name) in markdown.source, path.name
        code = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert code.source == colab.setup_cell_source(), f"{path.name}: regenerate the cell"


def test_readme_course_map_links_each_notebook_to_colab():
    from nst_helpers import resources
    from nst_helpers.course import colab

    readme = (ROOT / "README.md").read_text()
    for path in resources.student_notebooks():
        assert colab.colab_url(path.name) in readme, path.name
