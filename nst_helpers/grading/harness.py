"""The program that runs inside the sandbox: a zygote that forks one namespaced child per function.

Started by ``runner`` as ``python -I -B harness.py`` inside bubblewrap (``bwrap``), with a
control socket on file descriptor 3. It imports NumPy, TensorFlow and Keras once, never
runs learner code itself, and never imports ``nst_helpers`` (the package is not in the
sandbox's view). For each graded function the grader sends, on the control socket, two
fresh file descriptors (``SCM_RIGHTS``): a socket for that task alone, and the write end
of its log pipe. The zygote then forks:

1. a middle child that closes the control socket and unshares new user, mount, PID,
   network, IPC and UTS namespaces (so that nothing of one function's run can see or
   outlive into another's), mounts a fresh size-limited tmpfs on ``/tmp`` and
   ``/dev/shm`` (the only writable places), and forks
2. the runner, PID 1 of the new PID namespace: when it ends, the kernel kills every
   process it left. It sets the limits (address space, file size, no core dumps,
   processes; and a seccomp filter that refuses new processes, only threads), reads its
   task from its socket (the program, the hidden inputs, the nonce, and the source of the
   only ``nst_helpers`` it may import, see ``stubs``), warms TensorFlow up, says
   "started", runs the learner's code on each case and sends back plain arrays, tagged
   with the task's nonce, on the same socket. Everything the learner prints goes to the
   log pipe, which only the instructor reads.

Nothing here decides a grade: the grader reads what comes back, bounded, and judges in
its own process. The frame format (``encode_frame``) and the names of the messages are
shared with ``runner``, which imports this module for them (its top level imports only
the standard library). An audit hook (``Guard``) names some actions the learner's code
tried (writes outside its scratch folder, new processes, sockets): diagnostics for the
feedback, not a boundary.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time

CONTROL_FD = 3
#: Largest frame accepted by either side (the grader also caps what it reads in total).
MAX_FRAME_BYTES = 64 * 1024 * 1024
#: Largest array the runner sends back (elements); larger ones are reported as too large.
MAX_ARRAY_ELEMENTS = 1024 * 1024
STARTED, RESULT, SETUP_FAILED = "started", "result", "setup failed"
#: The function's own writable folder (a fresh tmpfs per function); ``/tmp`` is read-only.
SCRATCH = "/nst-scratch"
_KINDS = ("none", "tf", "numpy", "python", "other")
_INPUT_DTYPES = ("<f4", "<f8", "<i4", "<i8", "|b1")


def encode_frame(header: dict, blobs: list[bytes] = ()) -> bytes:
    """One frame: a 4-byte length, a 4-byte header length, the JSON header, then the blobs."""
    text = json.dumps(header).encode("utf-8")
    body = struct.pack("!I", len(text)) + text + b"".join(blobs)
    return struct.pack("!I", len(body)) + body


def decode_frame_body(body: bytes) -> tuple[dict, memoryview]:
    """(header, the bytes after it) of a frame's body; ValueError when malformed."""
    if len(body) < 4:
        raise ValueError("a frame shorter than its header length")
    (length,) = struct.unpack("!I", body[:4])
    if length > len(body) - 4:
        raise ValueError("a frame whose header is longer than the frame")
    header = json.loads(bytes(body[4 : 4 + length]).decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("a frame whose header is not an object")
    return header, memoryview(body)[4 + length :]


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def _read_exactly(descriptor: int, count: int) -> bytes:
    chunks, remaining = [], count
    while remaining:
        chunk = os.read(descriptor, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the task's socket closed early")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_frame(descriptor: int) -> bytes:
    (length,) = struct.unpack("!I", _read_exactly(descriptor, 4))
    if length > MAX_FRAME_BYTES:
        raise ValueError("the task is larger than a frame may be")
    return _read_exactly(descriptor, length)


# ----------------------------------------------------------------------------------------
# Namespaces, mounts, limits and the seccomp filter (Linux only; through libc with ctypes).

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
NAMESPACES = (
    _CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
)
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REC, _MS_PRIVATE = 0x4000, 0x40000
_MS_REMOUNT, _MS_BIND = 0x20, 0x1000


def _locked_flags(path: str) -> int:
    """The mount flags of ``path`` that a remount must keep (as ``statvfs`` reports them)."""
    flags = os.statvfs(path).f_flag
    pairs = ((2, _MS_NOSUID), (4, _MS_NODEV), (8, _MS_NOEXEC), (1024, 1024), (2048, 2048),
             (4096, 1 << 21))  # fmt: skip
    return sum(ms for st, ms in pairs if flags & st)


def _libc():
    import ctypes

    return ctypes, ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def enter_namespaces(scratch_mb: int) -> None:
    """Unshare the namespaces, map our user, and mount fresh private scratch folders."""
    ctypes, libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(NAMESPACES), "unshare")
    with open("/proc/self/setgroups", "w") as handle:
        handle.write("deny")
    with open("/proc/self/uid_map", "w") as handle:
        handle.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid} {gid} 1")

    def mount(source, target, kind, flags, data):
        _check(
            libc.mount(
                source.encode() if source else None,
                target.encode(),
                kind.encode() if kind else None,
                ctypes.c_ulong(flags),
                data.encode() if data else None,
            ),
            f"mount {target}",
        )

    mount(None, "/", None, _MS_REC | _MS_PRIVATE, None)
    secure = _MS_NOSUID | _MS_NODEV
    mount("tmpfs", SCRATCH, "tmpfs", secure, f"size={int(scratch_mb)}m,mode=0755")
    if os.path.isdir("/dev/shm"):
        mount("tmpfs", "/dev/shm", "tmpfs", secure | _MS_NOEXEC, "size=1m,mode=0755")
    # The harness's /tmp (shared by every function's child) becomes read-only here; it is
    # not covered, since the Python environment may live under it.
    if os.path.ismount("/tmp"):
        mount(None, "/tmp", None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _locked_flags("/tmp"), None)


def namespaces_available() -> bool:
    """Whether a forked child can enter new namespaces here (probed in a throw-away child)."""
    if not sys.platform.startswith("linux"):
        return False
    pid = os.fork()
    if pid == 0:
        try:
            enter_namespaces(1)
            os._exit(0)
        except BaseException:  # noqa: BLE001 - any failure means "not available"
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


#: seccomp: the architecture's audit number, and its fork, vfork, clone, clone3 numbers.
_SECCOMP_ARCHES = {
    "x86_64": (0xC000003E, (57, 58), 56, 435),
    "aarch64": (0xC00000B7, (), 220, 435),
}


def refuse_new_processes() -> bool:
    """Install a seccomp filter: threads may start, processes may not. Returns whether it did.

    fork and vfork fail with EPERM, clone without CLONE_THREAD too, and clone3 with ENOSYS
    (so that the C library falls back to clone); a system call of another architecture
    (the 32-bit ABI on x86_64) kills the process.
    """
    import platform

    arch = _SECCOMP_ARCHES.get(platform.machine())
    if arch is None or not sys.platform.startswith("linux"):
        return False
    audit_arch, forks, clone, clone3 = arch
    ctypes, libc = _libc()
    load, jump_eq, jump_set, ret = 0x20, 0x15, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    errno_eperm, errno_enosys = 0x00050000 | 1, 0x00050000 | 38
    program = [(load, 0, 0, 4), (jump_eq, 1, 0, audit_arch), (ret, 0, 0, kill), (load, 0, 0, 0)]
    if audit_arch == 0xC000003E:  # x32 system calls (nr >= 0x40000000) on x86_64
        program += [(0x35, 0, 1, 0x40000000), (ret, 0, 0, kill)]
    program += [(jump_eq, 0, 1, clone3), (ret, 0, 0, errno_enosys)]
    for number in forks:
        program += [(jump_eq, 0, 1, number), (ret, 0, 0, errno_eperm)]
    program += [
        (jump_eq, 0, 3, clone),
        (load, 0, 0, 16),  # the low half of clone's flags
        (jump_set, 1, 0, 0x00010000),  # CLONE_THREAD
        (ret, 0, 0, errno_eperm),
        (ret, 0, 0, allow),
    ]

    class Filter(ctypes.Structure):
        _fields_ = [
            ("code", ctypes.c_ushort),
            ("jt", ctypes.c_ubyte),
            ("jf", ctypes.c_ubyte),
            ("k", ctypes.c_uint32),
        ]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]

    filters = (Filter * len(program))(*[Filter(*entry) for entry in program])
    prog = Program(len(program), filters)
    _check(libc.prctl(38, 1, 0, 0, 0), "no_new_privs")  # PR_SET_NO_NEW_PRIVS
    _check(libc.prctl(22, 2, ctypes.byref(prog), 0, 0), "seccomp")  # PR_SET_SECCOMP, FILTER
    return True


def apply_limits(limits: dict) -> None:
    import resource

    megabyte = 1024 * 1024
    settings = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, int(limits.get("file_mb", 64)) * megabyte),
        (resource.RLIMIT_NPROC, int(limits.get("processes", 256))),
    ]
    if limits.get("memory_mb"):
        settings.append((resource.RLIMIT_AS, int(limits["memory_mb"]) * megabyte))
    for kind, value in settings:
        try:
            resource.setrlimit(kind, (value, value))
        except (OSError, ValueError):
            pass


# ----------------------------------------------------------------------------------------
# The audit hook: names what the learner's code tried (diagnostics for the feedback).

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
    "socket.sendto": "open a network connection",
    "socket.getaddrinfo": "look up a network address",
    "ctypes.dlopen": "load native code with ctypes",
    "ctypes.dlsym": "load native code with ctypes",
    "_thread.start_new_thread": "start a thread",
    "os.chdir": "change the working directory",
}
_WRITE_OUTSIDE = "write a file outside its working directory"
_CHANGE_OUTSIDE = "change files outside its working directory"
#: The fixed descriptions of blocked actions (the only ones feedback may repeat verbatim).
BLOCKED_DESCRIPTIONS = frozenset(_BLOCKED_EVENTS.values()) | {_WRITE_OUTSIDE, _CHANGE_OUTSIDE}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {
    "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate", "os.utime",
    "os.symlink", "os.link", "shutil.rmtree", "shutil.move", "os.rename",
}  # fmt: skip


class Guard:
    """The audit hook's state: is learner code running, and what did it try?"""

    def __init__(self, working_directory: str):
        self.working_directory = os.path.realpath(working_directory)
        self.active = False
        self.violations: list[str] = []

    def _inside(self, path) -> bool:
        if isinstance(path, int):
            return True
        try:
            text = os.fsdecode(os.fspath(path))
        except TypeError:
            return False
        if text == "/dev/null":
            return True
        full = os.path.realpath(os.path.join(self.working_directory, text))
        return full == self.working_directory or full.startswith(self.working_directory + os.sep)

    def _block(self, description: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(description)
        raise PermissionError(f"blocked by the grader: {description}")

    def audit(self, event: str, args: tuple) -> None:
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
                self._block(_WRITE_OUTSIDE)
        elif event in _PATH_EVENTS:
            paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
            if any(not self._inside(path) for path in paths):
                self._block(_CHANGE_OUTSIDE)
        elif event in _BLOCKED_EVENTS:
            self._block(_BLOCKED_EVENTS[event])


# ----------------------------------------------------------------------------------------
# The runner: the child that runs one graded function.


class _SandboxFinder:
    """Imports ``nst_helpers`` from the task's package only; any other of its modules fails."""

    def __init__(self, sources: dict[str, str], folder: str, record: list):
        self.sources, self.folder, self.record = sources, folder, record

    def find_spec(self, name, path=None, target=None):
        import importlib.util

        if name != "nst_helpers" and not name.startswith("nst_helpers."):
            return None
        if name not in self.sources:
            if len(self.record) < 20:
                self.record.append(name)
            raise ModuleNotFoundError(f"{name} is not available to this graded function", name=name)
        is_package = any(other.startswith(name + ".") for other in self.sources)
        parts = name.split(".")
        folder = os.path.join(self.folder, *parts[:-1] if not is_package else parts)
        os.makedirs(folder, exist_ok=True)
        file_name = "__init__.py" if is_package else parts[-1] + ".py"
        location = os.path.join(folder, file_name)
        if not os.path.exists(location):
            with open(location, "w", encoding="utf-8") as handle:
                handle.write(self.sources[name])
        locations = [folder] if is_package else None
        return importlib.util.spec_from_file_location(
            name, location, submodule_search_locations=locations
        )


def _genuine_tensor_types(tf) -> frozenset:
    """TensorFlow's own tensor and variable classes, collected before learner code runs: a
    class the learner's code makes later (one that only claims to be TensorFlow's) is not
    among them."""
    found = {type(tf.constant(0.0))}
    pending = [tf.Tensor, tf.Variable, type(tf.constant(0.0))]
    while pending:
        cls = pending.pop()
        if cls not in found or cls in (tf.Tensor, tf.Variable):
            found.add(cls)
            pending.extend(c for c in type.__subclasses__(cls) if c not in found)
    return frozenset(found)


def _exception_record(error: BaseException, program_path: str) -> dict:
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    learner_lines = [f.lineno for f in frames if f.filename == program_path]
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 - a hostile __str__ must not stop the runner
        message = "<unprintable>"
    record = {
        "type": type(error).__name__,
        "message": message[:2000],
        "line": learner_lines[-1] if learner_lines else None,
    }
    _log(f"[grader] the learner's code raised {record['type']}: {record['message']}")
    return record


def _log(text: str) -> None:
    try:
        os.write(2, (text.rstrip("\n") + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def _read_task(descriptor: int) -> tuple[dict, list[dict]]:
    import numpy

    header, rest = decode_frame_body(_read_frame(descriptor))
    cases = []
    for entries in header.pop("inputs"):
        case = {}
        for key, (dtype, shape, offset, length) in entries.items():
            if dtype not in _INPUT_DTYPES or offset < 0 or offset + length > len(rest):
                raise ValueError("a malformed input")
            array = numpy.frombuffer(rest[offset : offset + length], dtype=numpy.dtype(dtype))
            case[key] = array.reshape(shape).copy()
        cases.append(case)
    return header, cases


def _plain(returned, index: int, numpy, arrays: dict, notes: list) -> None:
    candidates = []
    if returned.value is not None:
        candidates.append((f"case{index}.value", returned.value))
    for key, value in dict(returned.extra).items():
        if isinstance(key, str) and key.isidentifier():
            candidates.append((f"case{index}.extra.{key}", value))
    for key, value in candidates:
        try:
            array = numpy.asarray(value, dtype=numpy.float64)
        except (TypeError, ValueError):
            continue
        if array.size > MAX_ARRAY_ELEMENTS:
            notes.append(f"{key} too large")
            continue
        arrays[key] = array


def _observe(function, observed: list):
    import functools

    @functools.wraps(function)
    def observing(*args, **kwargs):
        result = function(*args, **kwargs)
        if len(observed) < 100:
            observed.append(type(result))
        return result

    return observing


def run_one(task_fd: int, namespaces: bool) -> None:
    """The runner's whole life: read the task, run it, send the result, exit."""
    started_clock = time.perf_counter()
    header, cases = _read_task(task_fd)
    nonce, name = str(header["nonce"]), str(header["name"])
    limits = header.get("limits", {})
    scratch = header.get("scratch") or SCRATCH
    library = os.path.join(scratch, "_nst_sandbox_lib")
    work = os.path.join(scratch, "work")
    os.makedirs(work, exist_ok=True)
    os.makedirs(library, exist_ok=True)
    os.chdir(work)
    os.environ.update(HOME=work, TMPDIR=work)
    import tempfile

    tempfile.tempdir = work  # AutoGraph writes its generated modules there
    apply_limits(limits)
    no_processes = refuse_new_processes() if limits.get("no_processes", True) else False

    import numpy
    import tensorflow as tf

    imported: list[str] = []
    sys.meta_path.insert(0, _SandboxFinder(dict(header["package"]), library, imported))
    module_name, function_name = header["run_case"]
    import importlib

    run_case = getattr(importlib.import_module(module_name), function_name)
    importlib.import_module("nst_helpers")
    imported.clear()
    # Warm TensorFlow up under the limits: a failure here is the grader's, not the learner's.
    genuine = _genuine_tensor_types(tf)
    float(tf.reduce_sum(tf.matmul(tf.ones((2, 2)), tf.ones((2, 2)))))
    _write_all(task_fd, encode_frame({"type": STARTED, "nonce": nonce, "seconds": 0.0}))

    program_path = os.path.join(work, str(header["program_file"]))
    with open(program_path, "w", encoding="utf-8") as handle:
        handle.write(header["program"])
    guard = Guard(scratch)
    sys.addaudithook(guard.audit)
    status = {"type": RESULT, "nonce": nonce, "name": name, "definition_error": None, "cases": []}
    arrays: dict = {}
    notes: list[str] = []
    namespace = {"__name__": "__main__", "__file__": program_path, "__builtins__": __builtins__}
    clock = time.perf_counter
    begin = clock()
    guard.active = True
    try:
        try:
            exec(compile(header["program"], program_path, "exec"), namespace)  # noqa: S102
            function = namespace.get(name)
            if not callable(function):
                raise NameError(f"the code does not define a function named {name}")
        except BaseException as error:  # noqa: BLE001 - SystemExit and friends included
            status["definition_error"] = _exception_record(error, program_path)
            function = None
        for index, case in enumerate(cases if function is not None else []):
            case_started = clock()
            record = {"error": None, "kind": None, "type_name": None}
            observed: list = []
            try:
                returned = run_case(_observe(function, observed), case)
                kind, type_name = str(returned.kind), str(returned.type_name)[:100]
                forged = [t for t in observed if t is not type(None) and t not in genuine]
                if kind == "tf" and forged:
                    kind, type_name = "other", "a class that imitates a TensorFlow type"
                record["kind"], record["type_name"] = kind, type_name
                _plain(returned, index, numpy, arrays, notes)
            except BaseException as error:  # noqa: BLE001
                record["error"] = _exception_record(error, program_path)
            record["seconds"] = clock() - case_started
            status["cases"].append(record)
    finally:
        guard.active = False
    status["violations"] = list(guard.violations)
    status["delegated"] = sorted(set(imported))[:20]
    status["notes"] = notes[:20]
    status["seconds"] = clock() - begin
    status["setup_seconds"] = begin - started_clock
    status["no_processes"] = no_processes
    blobs, offset, entries = [], 0, []
    for key, array in arrays.items():
        data = numpy.ascontiguousarray(array, dtype="<f8").tobytes()
        entries.append([key, list(array.shape), offset, len(data)])
        blobs.append(data)
        offset += len(data)
    status["arrays"] = entries
    _write_all(task_fd, encode_frame(status, blobs))


def _runner(task_fd: int, log_fd: int, namespaces: bool) -> None:
    """Become the runner: standard streams to the log, nothing else open but the task."""
    import ctypes

    try:
        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    keep = sorted({0, 1, 2, task_fd})
    for low, high in zip(keep, keep[1:] + [65536], strict=True):
        os.closerange(low + 1, high)
    try:
        run_one(task_fd, namespaces)
    except BaseException as error:  # noqa: BLE001 - reported in the log; no result means failure
        _log(f"[grader] the runner failed before or after the learner's code: {error!r}")
        sys.stderr.flush()
        os._exit(70)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no atexit handlers: the learner may have registered some


def _middle(task_fd: int, log_fd: int, namespaces: bool, scratch_mb: int) -> None:
    """Enter fresh namespaces, then fork the runner (PID 1 there) and wait for it."""
    try:
        if namespaces:
            enter_namespaces(scratch_mb)
        pid = os.fork() if namespaces else 0
    except BaseException as error:  # noqa: BLE001
        os.write(log_fd, f"[grader] could not enter the sandbox's namespaces: {error!r}\n".encode())
        os._exit(71)
    if pid == 0:
        _runner(task_fd, log_fd, namespaces)
    os.close(task_fd)
    os.close(log_fd)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            os._exit(72)
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


def zygote() -> None:
    """Import TensorFlow once, then serve tasks from the control socket until it closes."""
    import socket

    control = socket.socket(fileno=int(os.environ.get("NST_SANDBOX_CONTROL_FD", CONTROL_FD)))
    began = time.perf_counter()
    sys.dont_write_bytecode = True
    threads = int(os.environ.get("NST_SANDBOX_THREADS", "1"))
    import numpy  # noqa: F401
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras  # noqa: F401 - imported now so that no task pays for it

    namespaces = os.environ.get("NST_SANDBOX_NAMESPACES") == "1" and namespaces_available()
    scratch_mb = int(os.environ.get("NST_SANDBOX_SCRATCH_MB", "64"))
    ready = {"ready": True, "namespaces": namespaces, "seconds": time.perf_counter() - began}
    control.sendall(json.dumps(ready).encode() + b"\n")
    while True:
        try:
            message, descriptors, _, _ = socket.recv_fds(control, 4096, 2)
        except OSError:
            break
        if not message:
            break
        if len(descriptors) != 2:
            for descriptor in descriptors:
                os.close(descriptor)
            continue
        task_fd, log_fd = descriptors
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            control.close()
            _middle(task_fd, log_fd, namespaces, scratch_mb)
        os.close(task_fd)
        os.close(log_fd)
        control.sendall(json.dumps({"forked": pid}).encode() + b"\n")
        _, status = os.waitpid(pid, 0)
        code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        control.sendall(json.dumps({"exited": code}).encode() + b"\n")
    os._exit(0)


if __name__ == "__main__":
    zygote()
