"""Guards installed inside the grading child process, around the learner's code.

Defence in depth, not a security boundary (the process boundary and the grader's own
judge are what make scores trustworthy):

* ``Guard.audit``: a ``sys.addaudithook`` hook (it cannot be removed from Python) that,
  while learner code runs, blocks and records writes outside the working directory, file
  deletions and renames, new processes and threads, signals, sockets and ``ctypes``
  (native code run through C extensions, e.g. ``tf.io.write_file``, is not audited);
* ``install_sentinels``: wraps the reference functions of ``nst_helpers`` so that a call
  from the learner's function is recorded and fails (the static check in ``delegation``
  is the primary one: a determined learner can undo anything done inside the process);
* ``ModuleSnapshot``: restores the attributes of NumPy, TensorFlow, builtins, ... after
  each graded function, so that patching ``np.allclose`` or ``tf.matmul`` in one function
  does not leak into the next (and never into the verdict, which the grader computes).

Runs only in the child; the supervisor never imports TensorFlow through this module.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {
    "os.remove",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.truncate",
    "os.utime",
    "os.symlink",
    "os.link",
    "shutil.rmtree",
    "shutil.move",
    "os.rename",
}
_BLOCKED_EVENTS = {
    "os.system": "start a shell command",
    "os.exec": "replace the process (os.exec*)",
    "os.fork": "fork the process",
    "os.forkpty": "fork the process",
    "os.posix_spawn": "start a process",
    "os.spawn": "start a process",
    "subprocess.Popen": "start a process",
    "os.kill": "send a signal to a process",
    "os.killpg": "send a signal to a process group",
    "socket.connect": "open a network connection",
    "socket.bind": "open a network socket",
    "socket.getaddrinfo": "look up a network address",
    "ctypes.dlopen": "load native code with ctypes",
    "ctypes.dlsym": "load native code with ctypes",
    "_thread.start_new_thread": "start a thread",
    "os.chdir": "change the working directory",
}
#: The fixed descriptions of blocked actions (the only ones feedback may repeat verbatim).
BLOCKED_DESCRIPTIONS = frozenset(_BLOCKED_EVENTS.values())
_ALLOWED_PATHS = ("/dev/null",)


class Guard:
    """The state shared by the audit hook and the sentinels: is learner code running?"""

    def __init__(self, working_directory: str):
        self.working_directory = os.path.realpath(working_directory)
        self.active = False
        self.forbidden: frozenset[str] = frozenset()
        self.violations: list[str] = []
        self.delegated: list[str] = []

    def begin(self, forbidden) -> None:
        self.violations, self.delegated = [], []
        self.forbidden = frozenset(forbidden)
        self.active = True

    def end(self) -> None:
        self.active = False

    def _inside(self, path) -> bool:
        if isinstance(path, int):
            return True  # an already open descriptor: its opening was audited
        try:
            text = os.fsdecode(os.fspath(path))
        except TypeError:
            return False
        if text in _ALLOWED_PATHS:
            return True
        full = os.path.realpath(os.path.join(self.working_directory, text))
        return full == self.working_directory or full.startswith(self.working_directory + os.sep)

    def _block(self, description: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(description)
        raise PermissionError(f"blocked by the grader: {description}")

    def audit(self, event: str, args: tuple) -> None:
        """The audit hook (see ``sys.addaudithook``)."""
        if not self.active:
            return
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (
                any(letter in mode for letter in "wax+")
                if isinstance(mode, str)
                else bool(isinstance(flags, int) and flags & _WRITE_FLAGS)
            )
            if writing and not self._inside(path):
                self._block(
                    f"write to {os.fsdecode(os.fspath(path))!r} outside its working directory"
                )
        elif event in _PATH_EVENTS:
            paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
            for path in paths:
                if not self._inside(path):
                    self._block(
                        f"{event} on {os.fsdecode(os.fspath(path))!r} outside its working directory"
                    )
        elif event in _BLOCKED_EVENTS:
            self._block(_BLOCKED_EVENTS[event])


def _sentinel(original, qualified: str, guard: Guard):
    @functools.wraps(original)
    def sentinel(*args, **kwargs):
        if guard.active and qualified in guard.forbidden:
            guard.delegated.append(qualified)
            raise RuntimeError(
                f"{qualified} is the reference implementation; a graded function must not call it."
            )
        return original(*args, **kwargs)

    return sentinel


def install_sentinels(qualified_names, guard: Guard) -> list[str]:
    """Wrap each reference function (or every function of a reference module); return them."""
    originals: dict[int, tuple[object, str]] = {}
    for qualified in sorted(set(qualified_names)):
        module_name, _, attribute = qualified.rpartition(".")
        try:
            module = importlib.import_module(qualified)
            targets = [
                (module, name, value)
                for name, value in vars(module).items()
                if callable(value) and getattr(value, "__module__", None) == qualified
            ]
            prefix = qualified
        except ImportError:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            value = getattr(module, attribute, None)
            targets = [(module, attribute, value)] if callable(value) else []
            prefix = module_name
        for _module, name, value in targets:
            if isinstance(value, type):
                continue
            originals[id(value)] = (value, f"{prefix}.{name}")
    wrapped = []
    for module_name in [m for m in list(sys.modules) if m.split(".")[0] == "nst_helpers"]:
        if module_name.startswith(("nst_helpers.grading", "nst_helpers.checks")):
            continue
        module = sys.modules[module_name]
        for name, value in list(vars(module).items()):
            if id(value) in originals and originals[id(value)][0] is value:
                original, qualified = originals[id(value)]
                setattr(module, name, _sentinel(original, qualified, guard))
                wrapped.append(f"{module_name}.{name}")
    return wrapped


class ModuleSnapshot:
    """The attributes of some modules, to put back after learner code ran."""

    def __init__(self, module_names):
        self.saved = {}
        for name in module_names:
            module = _resolve(name)
            if module is not None:
                self.saved[name] = (module, dict(vars(module)))
        self.streams = (sys.stdout, sys.stderr, sys.stdin, sys.getrecursionlimit(), list(sys.path))

    def restore(self) -> list[str]:
        """Undo changes; return the names that had been changed (for the record)."""
        changed = []
        for name, (module, attributes) in self.saved.items():
            current = vars(module)
            for key in [k for k in list(current) if k not in attributes]:
                changed.append(f"{name}.{key}")
                try:
                    delattr(module, key)
                except (AttributeError, TypeError):
                    pass
            for key, value in attributes.items():
                if current.get(key, _MISSING) is not value:
                    changed.append(f"{name}.{key}")
                    try:
                        setattr(module, key, value)
                    except (AttributeError, TypeError):
                        pass
        sys.stdout, sys.stderr, sys.stdin, limit, path = self.streams
        sys.setrecursionlimit(limit)
        sys.path[:] = path
        return changed


_MISSING = object()


def _resolve(dotted: str):
    """The module (or API namespace such as ``tensorflow.nn``) at a dotted path, or None."""
    root, *rest = dotted.split(".")
    value = sys.modules.get(root)
    for part in rest:
        value = getattr(value, part, None) if value is not None else None
    return value if hasattr(value, "__dict__") else None


#: Modules whose attributes the learner's code could patch to influence later functions.
WATCHED_MODULES = (
    "builtins",
    "os",
    "io",
    "json",
    "time",
    "zipfile",
    "numpy",
    "numpy.linalg",
    "numpy.lib.npyio",
    "tensorflow",
    "tensorflow.math",
    "tensorflow.linalg",
    "tensorflow.nn",
    "keras",
    "keras.optimizers",
    "nst_helpers",
    "nst_helpers.costs",
    "nst_helpers.reference_step",
    "nst_helpers.checks",
    "nst_helpers.checks.common",
    "nst_helpers.checks.registry",
    "nst_helpers.checks.tiny_network",
    "nst_helpers.checks.content_cost",
    "nst_helpers.checks.gram_matrix",
    "nst_helpers.checks.layer_style_cost",
    "nst_helpers.checks.total_cost",
    "nst_helpers.checks.train_step",
)
