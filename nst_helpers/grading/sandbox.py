"""How a grading sandbox is started: bubblewrap's command line, or none for trusted code.

``bwrap`` (bubblewrap, the sandbox of Flatpak) starts the harness (``harness.py``) with
every namespace of its own (``--unshare-all``: user, PID, network, IPC, UTS, cgroup),
``--die-with-parent`` and ``--new-session``, an empty root in which only these are
mounted, read-only: the system (``/usr`` and its links), the few files of ``/etc`` the
dynamic loader reads, the Python installation and the virtual environment (with the
``nst_helpers`` package hidden under an empty folder when it lies inside them), and the
harness file. ``/proc`` is the sandbox's own, ``/dev`` a minimal read-only one, ``/tmp`` a
size-limited tmpfs for the harness (read-only to each function), and ``/nst-scratch`` the
mount point of each function's own scratch tmpfs; the environment is cleared. The grader's files, the
output folder, the submissions and the home folders are not there. Each graded function
then runs in further namespaces of its own made by the harness (see ``harness``).

``--sandbox none`` runs the same harness as a plain child process, for trusted code only.
Without ``bwrap`` on the PATH, ``nst grade`` refuses with ``INSTALL_HINT``. This module
starts nothing itself; ``runner`` does.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

MODES = ("bwrap", "none")
INSTALL_HINT = (
    "bubblewrap (bwrap) is not installed, and nst grade runs every learner's code in its "
    "sandbox: install it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf "
    "install bubblewrap), or pass --sandbox none to grade code you trust without a sandbox."
)
NO_SANDBOX_WARNING = (
    "WARNING: graded with --sandbox none: the learners' code ran without a sandbox, as the "
    "instructor's user. Use it for trusted code only."
)
HARNESS_INSIDE = "/nst-harness/harness.py"
#: Where each function's child mounts its own scratch tmpfs (see ``harness.SCRATCH``).
SCRATCH_INSIDE = "/nst-scratch"
#: The user and group the harness runs as inside the sandbox (mapped to the grader's own).
SANDBOX_UID = 1000
_SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")


class SandboxUnavailable(ValueError):
    """The sandbox the instructor asked for cannot run here (the message says how to fix it)."""


def find_bwrap(search_path: str | None = None) -> str | None:
    """The path of ``bwrap`` on ``search_path`` (default: the PATH), or None."""
    return shutil.which("bwrap", path=search_path)


def harness_path() -> Path:
    return Path(__file__).resolve().with_name("harness.py")


def package_folder() -> Path:
    """The folder of the installed ``nst_helpers`` (hidden from the sandbox)."""
    return Path(__file__).resolve().parents[1]


def python_folders() -> list[str]:
    """The folders the interpreter and its packages live in (mounted read-only)."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        candidates.add(sysconfig.get_paths()[key])
    candidates.add(str(Path(os.path.realpath(sys.executable)).parent))
    folders = sorted({os.path.realpath(c) for c in candidates if c and os.path.isdir(c)})
    kept: list[str] = []
    for folder in folders:
        if folder == "/usr" or folder.startswith("/usr/"):
            continue
        if not any(folder == k or folder.startswith(k + os.sep) for k in kept):
            kept.append(folder)
    return kept


def environment(
    threads: int, scratch_mb: int, namespaces: bool, run_token: str = ""
) -> dict[str, str]:
    """The harness's whole environment (nothing of the grader's leaks in).

    ``run_token`` marks every process of one grading run (``NST_SANDBOX_RUN``), so that a
    test can check that none outlives it; it is no secret.
    """
    variables = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "OMP_NUM_THREADS": str(max(1, threads)),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "CUDA_VISIBLE_DEVICES": "",  # CPU only: tiny inputs, and GPUs stay free
        "NST_SANDBOX_THREADS": str(threads),
        "NST_SANDBOX_SCRATCH_MB": str(scratch_mb),
        "NST_SANDBOX_RUN": run_token,
    }
    if namespaces:
        variables["NST_SANDBOX_NAMESPACES"] = "1"
    return variables


def bwrap_command(
    bwrap: str, threads: int, scratch_mb: int, control_fd: int, run_token: str = ""
) -> list[str]:
    """The command that starts the harness inside bubblewrap."""
    command = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
    # Not uid 0 inside: a child may then map its own user into the namespaces it makes
    # for each function (mapping uid 0 would need a capability the sandbox drops).
    command += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    if os.geteuid() == 0:
        command += ["--cap-drop", "ALL"]
    # /tmp first: a Python environment under /tmp is then mounted on top of it, not hidden.
    command += ["--size", str((scratch_mb + 64) * 1024 * 1024), "--tmpfs", "/tmp"]
    command += ["--hostname", "nst-sandbox", "--ro-bind", "/usr", "/usr"]
    for link in _SYSTEM_LINKS:
        if os.path.islink(link):
            command += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            command += ["--ro-bind", link, link]
    for path in _ETC_FILES:
        command += ["--ro-bind-try", path, path]
    folders = python_folders()
    for folder in folders:
        command += ["--ro-bind", folder, folder]
    package = str(package_folder())
    if any(package == f or package.startswith(f + os.sep) for f in folders):
        command += ["--tmpfs", package, "--remount-ro", package]
    command += ["--ro-bind", str(harness_path()), HARNESS_INSIDE]
    command += ["--proc", "/proc", "--dev", "/dev", "--dir", SCRATCH_INSIDE]
    command += ["--remount-ro", "/dev", "--remount-ro", "/", "--clearenv"]
    variables = environment(threads, scratch_mb, namespaces=True, run_token=run_token)
    variables["NST_SANDBOX_CONTROL_FD"] = str(control_fd)
    for name, value in variables.items():
        command += ["--setenv", name, value]
    command += ["--chdir", "/tmp", "--", sys.executable, "-I", "-B", HARNESS_INSIDE]
    return command


def plain_command() -> list[str]:
    """The command that starts the harness without a sandbox (``--sandbox none``)."""
    return [sys.executable, "-I", "-B", str(harness_path())]


def check_mode(mode: str, search_path: str | None = None) -> str | None:
    """The ``bwrap`` path for ``mode`` "bwrap" (None for "none").

    Raises:
        SandboxUnavailable: ``bwrap`` is not installed (``INSTALL_HINT``), or an unknown mode.
    """
    if mode not in MODES:
        raise SandboxUnavailable(f"unknown sandbox {mode!r}; choose one of {', '.join(MODES)}.")
    if mode == "none":
        return None
    found = find_bwrap(search_path)
    if found is None:
        raise SandboxUnavailable(INSTALL_HINT)
    return found
