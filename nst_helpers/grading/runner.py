"""Run graded functions in sandboxes and collect what comes back: bounded, nonce-tagged, checked.

A ``SandboxPool`` keeps up to ``jobs`` sandboxes (``sandbox``: bubblewrap, or none), each a
harness (``harness``) that imported TensorFlow once and serves one task at a time by
forking a fresh child in namespaces of its own: no child forked after learner code ran is
ever reused, and the harness itself never runs learner code, so a sandbox serves many
submissions without one seeing another.

For each task (one graded function of one submission) the supervisor (this module, in the
grader's process) makes a fresh socket pair and a log pipe, hands one end of each to the
harness with ``SCM_RIGHTS``, and draws a nonce (``secrets``). It writes the task (program,
hidden inputs, nonce, the sandbox's ``nst_helpers`` from ``stubs``) to its end, then reads,
until every copy of the other end is closed (the child and all it started are dead), at
most ``MAX_RESULT_BYTES``. It accepts exactly one "started" and one "result" frame
carrying that nonce; anything else (a second result, another nonce, a malformed frame,
too much data) costs the function its points, and nothing can arrive late on a socket
that no longer exists. The child's output goes to the learner's log (instructors only),
cut at ``MAX_LOG_MB``. Nothing here judges: ``score`` does, from the plain arrays.

Limits per function: wall clock (from the child's "started", which it sends after
warming TensorFlow up), address space, file size, no core dump, no new process (seccomp;
threads only), a size-limited scratch folder; and per submission a total time budget.
A timeout kills the whole sandbox (a new one starts for the next task). A sandbox that
cannot start, or a child that stops before "started", is a grader error (no grade).
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nst_helpers.grading import harness, sandbox

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 4096
DEFAULT_BUDGET = 240.0
STARTUP_TIMEOUT = 180.0
#: What a function may write to its scratch folder, and print to its log, in MB.
MAX_FILE_MB = 64
MAX_LOG_MB = 64
SCRATCH_MB = 64
#: At most this much comes back from one task (its arrays are far smaller).
MAX_RESULT_BYTES = 32 * 1024 * 1024
_KINDS = ("none", "tf", "numpy", "python", "other")
_INTRUSION = "its process sent data the grader did not ask for"


@dataclass
class Task:
    """One graded function to run: its name, defining code, inputs and sandbox package."""

    name: str
    program: str
    cases: list[dict[str, np.ndarray]]
    package: dict[str, str] = field(default_factory=dict)
    run_case: tuple[str, str] = ("nst_helpers.checks.common", "call_with_tensors")


@dataclass
class Outcome:
    """What the sandbox reported for one function (plain data; nothing judged yet)."""

    name: str
    #: "ran" | "timeout" | "crashed" (the learner's code stopped the child, or it sent
    #: what it should not) | "grader error" (no learner code ran: not the learner's fault)
    state: str
    detail: str = ""
    definition_error: dict | None = None
    cases: list[dict] = field(default_factory=list)  # per case: kind, type_name, error, seconds
    values: list[dict[str, np.ndarray]] = field(default_factory=list)  # per case: value, extra.*
    violations: list[str] = field(default_factory=list)
    delegated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Wall-clock seconds the grader measured (the budget counts these, not the child's).
    wall_seconds: float = 0.0


@dataclass
class Limits:
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB
    threads: int = 1
    startup_timeout: float = STARTUP_TIMEOUT
    #: Seconds all the functions of one submission may take together.
    budget: float = DEFAULT_BUDGET


class SandboxStartError(RuntimeError):
    """A sandbox did not start (the grader's problem, never the learner's)."""


def last_log_line(log_path: Path, offset: int = 0) -> str:
    """The last non-empty line written to the log after ``offset`` (for the instructor)."""
    try:
        with open(log_path, "rb") as log:
            log.seek(offset)
            tail = log.read()[-8192:]
    except OSError:
        return "(no log)"
    lines = [line.strip() for line in tail.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:500] if lines else "(the log is empty)"


def _exit_text(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code >= 128:
        try:
            return f"killed by {signal.Signals(code - 128).name}"
        except ValueError:
            return f"killed by signal {code - 128}"
    return f"exit status {code}"


def _describe_exit(code: int | None, memory_mb: int) -> str:
    if code is not None and code >= 128:
        try:
            name = signal.Signals(code - 128).name
        except ValueError:
            name = f"signal {code - 128}"
        hint = ""
        if name in ("SIGKILL", "SIGABRT", "SIGSEGV", "SIGBUS") and memory_mb:
            hint = f" (often: more memory than the {memory_mb} MB limit)"
        elif name == "SIGXFSZ":
            hint = f" (it wrote more than {MAX_FILE_MB} MB)"
        elif name == "SIGSYS":
            hint = " (a system call the sandbox does not allow)"
        return f"the process was killed by {name}{hint}"
    if code == 0:
        return "the process exited in the middle of the function (os._exit?)"
    return f"the process exited with status {code} in the middle of the function"


def _error_record(raw) -> dict | None:
    """An error record from the child, reduced to plain, bounded fields (the child may lie)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        return {"type": "Error", "message": str(raw)[:2000], "line": None}
    line = raw.get("line")
    return {
        "type": str(raw.get("type", "Error"))[:100],
        "message": str(raw.get("message", ""))[:2000],
        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
    }


def _strings(values, limit: int = 20, length: int = 300) -> list[str]:
    return [str(v)[:length] for v in values][:limit] if isinstance(values, list) else []


def parse_result(task: Task, header: dict, data: memoryview) -> Outcome:
    """The outcome in a result frame (already known to carry the task's nonce)."""
    outcome = Outcome(task.name, "ran")
    outcome.definition_error = _error_record(header.get("definition_error"))
    outcome.violations = _strings(header.get("violations"))
    outcome.delegated = _strings(header.get("delegated"))
    outcome.notes = _strings(header.get("notes"))
    seconds = header.get("seconds", 0.0)
    outcome.seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    arrays: dict[str, np.ndarray] = {}
    entries = header.get("arrays", [])
    for entry in entries if isinstance(entries, list) else []:
        try:
            key, shape, offset, length = entry
            shape = tuple(int(s) for s in shape)
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if not isinstance(key, str) or min(shape, default=0) < 0 or offset < 0:
                continue
            if length != 8 * count or offset + length > len(data):
                continue
            arrays[key] = np.frombuffer(data[offset : offset + length], "<f8").reshape(shape)
        except (TypeError, ValueError):
            continue
    records = header.get("cases", [])
    records = [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
    for index, record in enumerate(records[: len(task.cases)]):
        error = _error_record(record.get("error"))
        kind = record.get("kind")
        kind = kind if kind in _KINDS else (None if error else "other")
        seconds = record.get("seconds", 0.0)
        outcome.cases.append(
            {
                "kind": kind,
                "type_name": str(record.get("type_name"))[:100],
                "error": error,
                "seconds": float(seconds) if isinstance(seconds, (int, float)) else 0.0,
            }
        )
        prefix = f"case{index}."
        outcome.values.append(
            {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        )
    return outcome


def encode_task(task: Task, nonce: str, limits: Limits, scratch: str | None) -> bytes:
    """The task frame: the program, the inputs' bytes, the nonce, the package, the limits."""
    blobs, inputs, offset = [], [], 0
    for case in task.cases:
        entries = {}
        for key, value in case.items():
            array = np.array(value, copy=True, order="C")  # keeps 0-d arrays 0-d
            if array.dtype.kind == "f":
                array = array.astype("<f4" if array.dtype.itemsize <= 4 else "<f8")
            data = array.tobytes()
            entries[key] = [array.dtype.str, list(array.shape), offset, len(data)]
            blobs.append(data)
            offset += len(data)
        inputs.append(entries)
    header = {
        "nonce": nonce,
        "name": task.name,
        "program": task.program,
        "program_file": f"graded_{task.name}.py",
        "package": task.package,
        "run_case": list(task.run_case),
        "inputs": inputs,
        "scratch": scratch,
        "limits": {
            "memory_mb": int(limits.memory_mb),
            "file_mb": MAX_FILE_MB,
            "processes": 512,
            "no_processes": True,
        },
    }
    return harness.encode_frame(header, blobs)


class Sandbox:
    """One harness process (in bubblewrap, or not), serving one task at a time."""

    def __init__(
        self, mode: str, bwrap: str | None, limits: Limits, log_path: Path, run_token: str = ""
    ):
        self.mode, self.limits, self.log_path = mode, limits, Path(log_path)
        self.namespaces = False
        self._buffer = b""
        self._scratch = tempfile.mkdtemp(prefix="nst-grade-") if mode == "none" else None
        ours, theirs = socket.socketpair()
        self.control = ours
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed below, once the child has it
        self._log_offset = log.tell()
        try:
            if mode == "bwrap":
                command = sandbox.bwrap_command(
                    bwrap, limits.threads, SCRATCH_MB, theirs.fileno(), run_token
                )
                env = None
            else:
                command = sandbox.plain_command()
                env = sandbox.environment(limits.threads, SCRATCH_MB, False, run_token)
                env.update(
                    NST_SANDBOX_CONTROL_FD=str(theirs.fileno()),
                    HOME=self._scratch,
                    TMPDIR=self._scratch,
                    MPLCONFIGDIR=os.path.join(self._scratch, "matplotlib"),
                )
            self.process = subprocess.Popen(
                command,
                env=env if env is not None else {"PATH": os.environ.get("PATH", "/usr/bin")},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        finally:
            theirs.close()
            log.close()
        try:
            ready = self._read_control(time.monotonic() + limits.startup_timeout)
        except SandboxStartError:
            self.dispose()
            raise
        if not ready.get("ready"):
            self.dispose()
            raise SandboxStartError("the sandbox said something else than ready")
        self.namespaces = bool(ready.get("namespaces"))
        self.startup_seconds = float(ready.get("seconds", 0.0))

    def _read_control(self, deadline: float) -> dict:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxStartError(
                    f"the sandbox did not answer within {self.limits.startup_timeout:g} s; "
                    f"last line of its log: {last_log_line(self.log_path, self._log_offset)}"
                )
            self.control.settimeout(min(remaining, 1.0))
            try:
                chunk = self.control.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.process.poll()
                raise SandboxStartError(
                    f"the sandbox stopped ({_exit_text(self.process.returncode)}); last line of "
                    f"its log: {last_log_line(self.log_path, self._log_offset)}"
                )
            self._buffer += chunk
            if len(self._buffer) > 65536:
                raise SandboxStartError("the sandbox's control messages are too long")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError:
            raise SandboxStartError("the sandbox sent an unreadable control message") from None
        return message if isinstance(message, dict) else {}

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the sandbox and everything in it (its process group; bwrap takes the rest)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.kill()
        except OSError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass

    def dispose(self) -> None:
        """Kill the sandbox, close its control socket and remove its temporary folder."""
        self.kill()
        self.control.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def run(self, task: Task, timeout: float, learner_log: Path) -> tuple[Outcome, bool]:
        """Run one task; return its outcome and whether this sandbox may serve another."""
        nonce = secrets.token_hex(16)
        scratch = None
        if self._scratch:
            scratch = tempfile.mkdtemp(dir=self._scratch)
        ours, theirs = socket.socketpair()
        log_read, log_write = os.pipe()
        try:
            socket.send_fds(self.control, [b'{"run": 1}\n'], [theirs.fileno(), log_write])
        except OSError as error:
            for handle in (ours, theirs):
                handle.close()
            os.close(log_read)
            os.close(log_write)
            return Outcome(task.name, "grader error", f"the sandbox is gone ({error})"), False
        theirs.close()
        os.close(log_write)
        try:
            return self._supervise(task, timeout, nonce, ours, log_read, learner_log, scratch)
        finally:
            ours.close()
            os.close(log_read)
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)

    def _supervise(self, task, timeout, nonce, channel, log_read, learner_log, scratch):
        payload = memoryview(encode_task(task, nonce, self.limits, scratch))
        channel.setblocking(False)
        os.set_blocking(log_read, False)
        selector = selectors.DefaultSelector()
        selector.register(channel, selectors.EVENT_READ | selectors.EVENT_WRITE, "task")
        selector.register(log_read, selectors.EVENT_READ, "log")
        selector.register(self.control, selectors.EVENT_READ, "control")
        self.control.setblocking(False)
        received, log_written, log_cut = bytearray(), 0, False
        task_open, log_open, exit_code, control_open = True, True, None, True
        overflow, started_at = False, None
        frames: list[tuple[dict, memoryview] | None] = []
        dispatched = time.monotonic()
        deadline = dispatched + self.limits.startup_timeout
        state = None
        with open(learner_log, "ab") as log:
            log_start = log.tell()
            while task_open or log_open or (exit_code is None and control_open):
                now = time.monotonic()
                if now > deadline:
                    state = "timeout" if started_at is not None else "startup"
                    break
                for key, events in selector.select(timeout=min(0.5, max(0.0, deadline - now))):
                    if key.data == "task" and events & selectors.EVENT_WRITE:
                        try:
                            sent = channel.send(payload[:65536])
                            payload = payload[sent:]
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:
                            payload = payload[:0]
                        if not payload:
                            selector.modify(channel, selectors.EVENT_READ, "task")
                            try:
                                channel.shutdown(socket.SHUT_WR)
                            except OSError:
                                pass
                    if key.data == "task" and events & selectors.EVENT_READ:
                        try:
                            chunk = channel.recv(1 << 20)
                        except (BlockingIOError, InterruptedError):
                            continue
                        except OSError:
                            chunk = b""
                        if not chunk:
                            task_open = False
                            selector.unregister(channel)
                            continue
                        if len(received) + len(chunk) > MAX_RESULT_BYTES:
                            overflow = True
                            continue
                        received += chunk
                        while len(received) >= 4:
                            (length,) = struct.unpack("!I", received[:4])
                            if length > MAX_RESULT_BYTES:
                                overflow = True
                                received.clear()
                                break
                            if len(received) < 4 + length:
                                break
                            body = bytes(received[4 : 4 + length])
                            del received[: 4 + length]
                            try:
                                frames.append(harness.decode_frame_body(body))
                            except (ValueError, UnicodeDecodeError, RecursionError):
                                frames.append(None)
                            frame = frames[-1]
                            if (
                                started_at is None
                                and frame is not None
                                and frame[0].get("type") == harness.STARTED
                                and frame[0].get("nonce") == nonce
                            ):
                                started_at = time.monotonic()
                                deadline = started_at + timeout
                    elif key.data == "log":
                        try:
                            chunk = os.read(log_read, 1 << 20)
                        except (BlockingIOError, InterruptedError):
                            continue
                        if not chunk:
                            log_open = False
                            selector.unregister(log_read)
                            continue
                        room = MAX_LOG_MB * 1024 * 1024 - log_written
                        if room > 0:
                            log.write(chunk[:room])
                            log_written += min(room, len(chunk))
                        elif not log_cut:
                            log.write(b"\n[grader] the rest of the output was cut\n")
                            log_cut = True
                    elif key.data == "control":
                        try:
                            chunk = self.control.recv(4096)
                        except (BlockingIOError, InterruptedError):
                            continue
                        except OSError:
                            chunk = b""
                        if not chunk:
                            control_open = False
                            selector.unregister(self.control)
                            continue
                        self._buffer += chunk
                        while b"\n" in self._buffer:
                            line, _, self._buffer = self._buffer.partition(b"\n")
                            try:
                                message = json.loads(line)
                            except ValueError:
                                continue
                            if isinstance(message, dict) and "exited" in message:
                                exit_code = int(message["exited"])
        selector.close()
        try:
            self.control.setblocking(True)
        except OSError:
            pass
        elapsed = time.monotonic() - (started_at or dispatched)
        if state == "timeout":
            return (
                Outcome(
                    task.name,
                    "timeout",
                    f"it ran longer than the time limit of {timeout:g} s",
                    seconds=elapsed,
                    wall_seconds=elapsed,
                ),
                False,
            )
        # Without namespaces of its own per function, a bubblewrap sandbox serves one task only
        # (a fresh one is started for the next); with --sandbox none nothing is isolated anyway.
        isolated = self.namespaces or self.mode == "none"
        reusable = state is None and control_open and self.alive() and isolated
        log_line = last_log_line(learner_log, log_start)
        if state == "startup" or started_at is None:
            why = "did not start it" if state == "startup" else f"stopped ({_exit_text(exit_code)})"
            return (
                Outcome(
                    task.name,
                    "grader error",
                    f"the sandbox {why} before running any learner code; last line of its log: "
                    f"{log_line}",
                ),
                reusable,
            )
        ours = [f for f in frames if f is not None and f[0].get("nonce") == nonce]
        results = [f for f in ours if f[0].get("type") == harness.RESULT]
        extra = len(frames) - 1 - len(results)
        if overflow:
            detail = f"{_INTRUSION} (more than {MAX_RESULT_BYTES // (1024 * 1024)} MB)"
            return Outcome(task.name, "crashed", detail, seconds=elapsed), reusable
        if extra or len(results) > 1:
            return Outcome(task.name, "crashed", _INTRUSION, seconds=elapsed), reusable
        if not results:
            detail = _describe_exit(exit_code, self.limits.memory_mb)
            return Outcome(task.name, "crashed", detail, seconds=elapsed), reusable
        outcome = parse_result(task, *results[0])
        outcome.wall_seconds = elapsed
        return outcome, reusable


class SandboxPool:
    """Sandboxes shared by the grading threads; ``close`` kills every one of them."""

    def __init__(self, mode: str = "bwrap", limits: Limits | None = None, log_path=None):
        self.mode = mode
        self.bwrap = sandbox.check_mode(mode)
        self.limits = limits or Limits()
        self._temporary = None
        if log_path is None:
            self._temporary = tempfile.mkdtemp(prefix="nst-sandbox-log-")
            log_path = Path(self._temporary) / "sandbox.log"
        self.log_path = Path(log_path)
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._all: set[Sandbox] = set()
        self._lock = threading.Lock()
        self.closed = False
        #: Marks every process of this pool's sandboxes (``NST_SANDBOX_RUN``); no secret.
        self.run_token = secrets.token_hex(8)
        self.started = 0
        self.startup_seconds: list[float] = []

    def acquire(self) -> Sandbox:
        while True:
            try:
                candidate = self._idle.get_nowait()
            except queue.Empty:
                break
            if candidate.alive():
                return candidate
            self._discard(candidate)
        with self._lock:
            if self.closed:
                raise SandboxStartError("grading was stopped")
        started = time.perf_counter()
        created = Sandbox(self.mode, self.bwrap, self.limits, self.log_path, self.run_token)
        with self._lock:
            self._all.add(created)
            self.started += 1
            self.startup_seconds.append(time.perf_counter() - started)
            if self.closed:
                self._all.discard(created)
                created.dispose()
                raise SandboxStartError("grading was stopped")
        return created

    def release(self, candidate: Sandbox, reusable: bool) -> None:
        if reusable and not self.closed and candidate.alive():
            self._idle.put(candidate)
        else:
            self._discard(candidate)

    def _discard(self, candidate: Sandbox) -> None:
        with self._lock:
            self._all.discard(candidate)
        candidate.dispose()

    def close(self) -> None:
        """Kill every sandbox (also those running a task: their threads then dispose of
        them) and remove temporary folders."""
        with self._lock:
            self.closed = True
            running = list(self._all)
        for candidate in running:
            candidate.kill()
        while True:
            try:
                self._discard(self._idle.get_nowait())
            except queue.Empty:
                break
        if self._temporary:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def run_tasks(tasks: list[Task], limits: Limits, log_path, pool: SandboxPool) -> dict[str, Outcome]:
    """Run every task of one submission, in order, each in a fresh child of a sandbox.

    The submission's ``limits.budget`` is shared by its functions: a function's time limit
    is the smaller of ``limits.timeout`` and what is left of the budget. A sandbox that
    cannot start makes the functions still to run "grader error" outcomes.
    """
    log_path = Path(log_path)
    results: dict[str, Outcome] = {}
    spent = 0.0
    for position, task in enumerate(tasks):
        left = limits.budget - spent
        if left <= 0:
            results[task.name] = Outcome(
                task.name,
                "timeout",
                f"the submission used up its total time budget of {limits.budget:g} s",
            )
            continue
        try:
            current = pool.acquire()
        except SandboxStartError as error:
            for remaining in tasks[position:]:
                results[remaining.name] = Outcome(remaining.name, "grader error", str(error))
            break
        outcome, reusable = current.run(task, min(limits.timeout, left), log_path)
        pool.release(current, reusable)
        if outcome.state == "timeout" and limits.timeout > left:
            outcome.detail = f"the submission used up its total time budget of {limits.budget:g} s"
        spent += max(outcome.wall_seconds, outcome.seconds)
        results[task.name] = outcome
    return results
