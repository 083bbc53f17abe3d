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
    for command in ("stylize", "fetch", "release", "grade", "validate"):
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
