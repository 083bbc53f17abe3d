"""Packaging: the public API, the `nst` entry point, and pyproject/environment.yml/README in sync."""

import re
import subprocess
import sys
import tomllib

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
