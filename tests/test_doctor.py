"""``nst doctor``: every line present, each finding true, and nothing missing makes it fail.

The CPU's flags are injected (an AVX2-only machine, and a Xeon with AVX-512, AVX512-BF16
and AMX); bubblewrap's trial is run for real where it is installed and with fakes that
stand for a missing one and one that cannot create namespaces; a broken TensorFlow is
simulated by a ``tensorflow`` package that fails to import, placed first on the path.
"""

import ast
import os
import subprocess
import sys
import textwrap

import pytest

from nst_helpers import __version__
from nst_helpers.commands import doctor
from tests.conftest import STUDENT_NOTEBOOKS

LABELS = [
    "nst-course",
    "Python",
    "Libraries",
    "CPU",
    "Devices",
    "Precision auto",
    "VGG19 weights",
    "bubblewrap",
    "Course files",
]

AVX2_ONLY = textwrap.dedent("""\
    processor\t: 0
    model name\t: AMD EPYC 7B13
    flags\t\t: fpu sse2 avx avx2 fma
    """)
XEON_WITH_AMX = textwrap.dedent("""\
    processor\t: 0
    model name\t: Intel(R) Xeon(R) Platinum 8481C
    flags\t\t: fpu avx avx2 avx512f avx512_bf16 amx_bf16 amx_tile
    """)


def run_doctor(tmp_path, **environment):
    env = {**os.environ, **environment}
    return subprocess.run(
        [sys.executable, "-m", "nst_helpers.cli", "doctor"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def lines_by_label(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines()[1:]:
        label, _, text = line.partition(":")
        found[label] = text.strip()
    return found


def test_doctor_prints_every_line_and_imports_no_more_than_it_needs(tmp_path):
    script = (
        "import sys\n"
        "from nst_helpers import cli\n"
        "status = cli.main(['doctor'])\n"
        "print('MODULES', sorted(m for m in sys.modules if m.startswith('nst_helpers')))\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    report, modules = done.stdout.rsplit("MODULES", 1)
    assert report.splitlines()[0].startswith("nst doctor: paste this block")
    found = lines_by_label(report)
    assert list(found) == LABELS
    assert found["nst-course"].startswith(f"{__version__} (checkout: ")
    assert found["Python"].startswith(sys.version.split()[0])
    assert "TensorFlow 2." in found["Libraries"] and "NOT INSTALLED" not in found["Libraries"]
    assert found["Devices"].startswith(("CPU only", "GPU: "))
    notebooks = len(list(STUDENT_NOTEBOOKS.glob("*.ipynb")))
    assert f"{notebooks} notebooks in {STUDENT_NOTEBOOKS}" in found["Course files"]
    assert "sample images" in found["Course files"]
    assert found["Precision auto"].startswith(("float32 (", "bfloat16 (", "float16 ("))
    # The precision line asks the engine's rule (nst_helpers.train.precision, which loads no
    # TensorFlow of its own); nothing of the grader, checks or course is loaded but the
    # quiet TensorFlow start-up (course.kernel, which imports nothing of the course).
    for heavy in ("grading", "checks", "course.", "train.steps", "train.lbfgs"):
        loaded = [
            m for m in ast.literal_eval(modules.strip()) if m.startswith(f"nst_helpers.{heavy}")
        ]
        assert loaded in ([], ["nst_helpers.course.kernel"]), f"doctor imported {loaded}"
    assert done.stderr == "", "TensorFlow's start-up lines stay off the report"


def test_a_broken_tensorflow_is_reported_not_fatal(tmp_path):
    broken = tmp_path / "broken" / "tensorflow"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('simulated broken TensorFlow')\n")
    done = run_doctor(tmp_path, PYTHONPATH=str(tmp_path / "broken"))
    assert done.returncode == 0, done.stderr
    found = lines_by_label(done.stdout)
    assert list(found) == LABELS
    assert "simulated broken TensorFlow" in found["Devices"]
    assert found["Devices"].startswith("unknown")
    assert found["VGG19 weights"].startswith("unknown")


def test_missing_weights_say_where_they_were_looked_for(tmp_path):
    done = run_doctor(
        tmp_path,
        KERAS_HOME=str(tmp_path / "keras"),
        NST_DATA_DIR=str(tmp_path / "data"),
        NST_VGG19_WEIGHTS="random",
    )
    assert done.returncode == 0, done.stderr
    weights = lines_by_label(done.stdout)["VGG19 weights"]
    assert weights.startswith("ImageNet weights NOT FOUND")
    assert str(tmp_path / "keras" / "models") in weights
    assert str(tmp_path / "data" / "pretrained-model") in weights
    assert "nst fetch weights" in weights and "NST_VGG19_WEIGHTS=random" in weights
    assert "sample data MISSING" in lines_by_label(done.stdout)["Course files"]


def test_present_weights_are_found_and_never_downloaded(tmp_path, monkeypatch):
    from nst_helpers import vgg

    local = tmp_path / "data" / "pretrained-model" / vgg.WEIGHTS_FILE_NAME
    local.parent.mkdir(parents=True)
    local.write_bytes(b"stand-in bytes")
    monkeypatch.setenv("NST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NST_VGG19_WEIGHTS", raising=False)
    assert doctor.weights_line() == f"ImageNet weights present: {local}"
    monkeypatch.setenv("NST_VGG19_WEIGHTS", str(tmp_path / "gone.h5"))
    line = doctor.weights_line()
    assert line.startswith("ImageNet weights NOT FOUND") and "gone.h5" in line


@pytest.mark.parametrize(
    "cpuinfo, expected, absent",
    [
        (AVX2_ONLY, "bfloat16 hardware: no (flags: avx2)", "amx"),
        (
            XEON_WITH_AMX,
            "bfloat16 hardware: yes (flags: amx_bf16, avx512_bf16, avx512f, avx2)",
            "EPYC",
        ),
    ],
)
def test_the_cpu_line_reads_the_flags_it_is_given(cpuinfo, expected, absent):
    line = doctor.cpu_line(cpuinfo, 2)
    assert expected in line and absent not in line and "2 cores" in line


def test_the_cpu_line_without_cpuinfo_says_so():
    assert "flags unknown" in doctor.cpu_line(None, None)


def test_missing_libraries_are_named():
    def version(name):
        if name == "jupyterlab":
            raise __import__("importlib").metadata.PackageNotFoundError(name)
        return "1.0"

    assert "JupyterLab NOT INSTALLED" in doctor.libraries_line(version)


def test_bubblewrap_missing_or_unable_is_reported(tmp_path):
    assert doctor.bubblewrap_line(which=lambda name: None, run=None).startswith("not installed")
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then echo "bubblewrap 9.9"; exit 0; fi\n'
        "echo 'bwrap: No permissions to create new namespace' >&2; exit 1\n"
    )
    fake.chmod(0o755)
    line = doctor.bubblewrap_line(which=lambda name: str(fake))
    assert line.startswith("installed (bubblewrap 9.9") and "No permissions" in line
    assert "user namespaces" in line


@pytest.mark.skipif(not __import__("shutil").which("bwrap"), reason="bubblewrap not installed")
def test_bubblewrap_is_tried_for_real():
    """Where bubblewrap works (CI installs it), the trial really starts a sandbox."""
    calls = []

    def recording_run(command, **options):
        calls.append(command)
        return subprocess.run(command, **options)

    line = doctor.bubblewrap_line(run=recording_run)
    assert line.startswith("usable (bubblewrap"), line
    assert calls[-1][-1] == "true" and "--unshare-all" in calls[-1]


def test_a_probe_that_raises_becomes_an_unknown_line(monkeypatch):
    def broken():
        raise RuntimeError("probe exploded")

    monkeypatch.setattr(doctor, "python_line", broken)
    monkeypatch.setattr(doctor, "devices_line", lambda: "CPU only (test)")
    monkeypatch.setattr(doctor, "weights_line", lambda: "not checked (test)")
    lines = doctor.report_lines()
    assert any(line.startswith("Python:") and "probe exploded" in line for line in lines)
    assert len(lines) == len(LABELS)
