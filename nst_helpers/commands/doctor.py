"""``nst doctor``: the block of facts a learner pastes when asking for help.

One line each: the course's version and where it is installed, Python, the libraries'
versions, the CPU and its bfloat16 hardware, the devices TensorFlow sees, the precision
``auto`` would choose, the ImageNet VGG19 weights (present, and where; never downloaded
here), whether bubblewrap can run a sandbox (a real trial), and where the notebooks and
sample data are. Every line is found by its own small function that reports a problem
instead of raising: a missing or broken piece is a finding, and the command still exits
with status 0. It imports TensorFlow (for the devices and the weights) and nothing of
the course beyond ``resources`` and ``vgg``. Not a test of the course (``pytest``), and
not a fix for anything it finds.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

HELP = "Print what to paste when asking for help: versions, devices, weights, sandbox."

#: CPU flags that decide the precision: bfloat16 units (oneDNN uses them) and wider vectors.
CPU_FLAGS = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")
LIBRARIES = (
    ("tensorflow", "TensorFlow"),
    ("keras", "Keras"),
    ("numpy", "NumPy"),
    ("pillow", "Pillow"),
    ("jupyterlab", "JupyterLab"),
)
#: The harmless command a bubblewrap trial runs: the namespaces the grader's sandbox asks for.
BWRAP_TRIAL = (
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    "--ro-bind", "/", "/",
    "--proc", "/proc",
    "--dev", "/dev",
    "true",
)  # fmt: skip
TRIAL_SECONDS = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``nst doctor`` takes no arguments."""


def _problem(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text[:300]}"


def course_line() -> str:
    """The course's version, the installed metadata's if it differs, and the layout."""
    from nst_helpers import __version__, resources

    text = f"{__version__} ({resources.layout()}: {resources.package_dir()})"
    try:
        recorded = importlib.metadata.version("nst-course")
    except importlib.metadata.PackageNotFoundError:
        return text + "; not installed as a distribution (run from a source folder)"
    if recorded != __version__:
        text += f"; the installed metadata says {recorded}: reinstall (pip install -e .)"
    return text


def python_line() -> str:
    """The interpreter's version and path, and the operating system."""
    return (
        f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable}) "
        f"on {platform.system()} {platform.release()} {platform.machine()}"
    )


def libraries_line(version=importlib.metadata.version) -> str:
    """The installed versions of the libraries the course needs (read, not imported)."""
    found = []
    for distribution, label in LIBRARIES:
        try:
            found.append(f"{label} {version(distribution)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{label} NOT INSTALLED")
    return ", ".join(found)


def cpu_line(cpuinfo_text: str | None, cores: int | None) -> str:
    """The CPU's model, cores, and the flags that decide the precision, from /proc/cpuinfo.

    Args:
        cpuinfo_text: the text of ``/proc/cpuinfo`` (None where there is none).
        cores: the number of cores this process may use.
    """
    from nst_helpers.train.precision import BFLOAT16_CPU_FLAGS, flags_in

    model = platform.processor() or platform.machine()
    for line in (cpuinfo_text or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            model = value.strip()
            break
    if cpuinfo_text is None:
        hardware = "flags unknown (no /proc/cpuinfo)"
    else:
        flags = flags_in(cpuinfo_text)
        present = [flag for flag in CPU_FLAGS if flag in flags]
        bf16 = [flag for flag in BFLOAT16_CPU_FLAGS if flag in flags]
        hardware = (
            f"bfloat16 hardware: {'yes' if bf16 else 'no'} "
            f"(flags: {', '.join(present) or 'none of ' + ', '.join(CPU_FLAGS)})"
        )
    return f"{model}, {cores or '?'} cores; {hardware}"


def devices_line() -> str:
    """The GPUs TensorFlow sees (importing it quietly), or that it runs on the CPU only."""
    try:
        from nst_helpers.course.kernel import start_tensorflow_quietly

        start_tensorflow_quietly()
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        names = []
        for gpu in gpus:
            try:
                details = tf.config.experimental.get_device_details(gpu)
            except Exception:  # the details are a nicety
                details = {}
            names.append(details.get("device_name") or gpu.name)
    except Exception as error:  # a broken TensorFlow is a finding
        return f"unknown: TensorFlow could not start ({_problem(error)})"
    if not names:
        hint = ""
        if shutil.which("nvidia-smi"):
            hint = (
                ' although an NVIDIA driver is installed: pip install "nst-course[gpu]" '
                "(TensorFlow with its CUDA libraries)"
            )
        return f"CPU only: TensorFlow sees no GPU{hint}"
    return f"GPU: {', '.join(names)}"


def precision_line() -> str:
    """What ``precision="auto"`` would choose on this machine, and why (the engine's rule)."""
    from nst_helpers.train.precision import explain_precision

    precision, reason = explain_precision()
    return f"{precision} ({reason})"


# ---------------------------------------------------------------------------------------


def weights_line() -> str:
    """Whether the ImageNet VGG19 weights are on this machine, and where (no download)."""
    choice = os.environ.get("NST_VGG19_WEIGHTS")
    note = (
        f"; NST_VGG19_WEIGHTS={choice} chooses the offline stand-in" if choice == "random" else ""
    )
    try:
        from nst_helpers import vgg

        path = vgg.resolve_weights("imagenet", download=False)
    except FileNotFoundError as error:
        if isinstance(error, vgg.WeightsNotFoundError):
            places = f"{vgg.project_data_dir() / 'pretrained-model'}, {vgg.keras_cache_dir()}"
            where = f"looked in {places}"
        else:  # NST_VGG19_WEIGHTS names a file that is not there
            where = (str(error).splitlines() or [type(error).__name__])[0]
        return f"ImageNet weights NOT FOUND ({where}); get them: `nst fetch weights`{note}"
    except Exception as error:  # a broken install is a finding
        return f"unknown ({_problem(error)}){note}"
    return f"ImageNet weights present: {path}{note}"


def bubblewrap_line(which=shutil.which, run=subprocess.run) -> str:
    """Whether bubblewrap can start a sandbox here: a real trial with a harmless command.

    Args:
        which: finds an executable on ``PATH`` (``shutil.which``; tests pass a fake).
        run: the command runner (``subprocess.run``; tests pass a fake).
    """
    bwrap = which("bwrap")
    if not bwrap:
        return "not installed (needed only by `nst grade`: apt-get install bubblewrap)"
    try:
        version = run([bwrap, "--version"], capture_output=True, text=True, timeout=TRIAL_SECONDS)
        trial = run([bwrap, *BWRAP_TRIAL], capture_output=True, text=True, timeout=TRIAL_SECONDS)
    except (OSError, subprocess.SubprocessError) as error:
        return f"installed at {bwrap} but cannot run ({_problem(error)})"
    label = (version.stdout or "").strip() or "bubblewrap"
    if trial.returncode == 0:
        return f"usable ({label}, {bwrap})"
    said = " ".join((trial.stderr or trial.stdout or "").split())[:300] or "no message"
    return (
        f"installed ({label}, {bwrap}) but cannot start a sandbox here (exit "
        f"{trial.returncode}: {said}); `nst grade` needs user namespaces"
    )


def course_files_line() -> str:
    """Where the student notebooks and the sample data are, and whether they are there."""
    from nst_helpers import resources

    notebooks_folder = resources.student_notebooks_dir()
    try:
        notebooks = f"{len(resources.student_notebooks())} notebooks in {notebooks_folder}"
    except FileNotFoundError:
        notebooks = f"notebooks MISSING ({notebooks_folder})"
    data = resources.data_dir()
    images = [
        path
        for kind in ("content", "style")
        if (data / kind).is_dir()
        for path in (data / kind).iterdir()
    ]
    data_text = (
        f"{len(images)} sample images in {data}" if images else f"sample data MISSING ({data})"
    )
    return f"{notebooks}; {data_text}"


def _read_cpuinfo(path=Path("/proc/cpuinfo")) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _cores() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def this_cpu_line() -> str:
    """``cpu_line`` of this machine: what ``nst doctor`` and the benchmarks print."""
    return cpu_line(_read_cpuinfo(), _cores())


def report_lines() -> list[str]:
    """Every line of the report, each found on its own (a failure is written in its line)."""
    probes = [
        ("nst-course", course_line),
        ("Python", python_line),
        ("Libraries", libraries_line),
        ("CPU", this_cpu_line),
        ("Devices", devices_line),
        ("Precision auto", precision_line),
        ("VGG19 weights", weights_line),
        ("bubblewrap", bubblewrap_line),
        ("Course files", course_files_line),
    ]
    lines = []
    for label, probe in probes:
        try:
            text = probe()
        except Exception as error:  # never fail: report it
            text = f"unknown ({_problem(error)})"
        lines.append(f"{label + ':':<16}{text}")
    return lines


def run(args) -> int:
    print("nst doctor: paste this block when you ask for help")
    for line in report_lines():
        print(line, flush=True)
    return 0
