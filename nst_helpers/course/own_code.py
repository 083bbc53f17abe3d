"""The learner's own graded functions, taken from their earlier notebooks for the later ones.

Notebooks 3 to 5 build on the functions the learner wrote before (notebook 5 trains with
them). ``load_own_functions`` reads the notebooks saved in the learner's folder (only its
top level, so a ``solutions/`` folder next to the exercises is never read), finds each
function the way the grader does (``course.locate``: one implementation, shared), defines
it from exactly the code the grader would run (``located.program.source``) in a fresh
namespace, and runs its learner check (``checks.check``) with the output captured and a
time limit. A function that passes is used; one that is missing, does not define, fails
or runs too long is replaced by the course library's reference, and the report says so
in one line, with the check's message shortened. Graded functions that an own function
calls (``gram_matrix`` inside ``compute_layer_style_cost``) are wired to the chosen
version too, so that each name means one thing everywhere.

The learner's code runs in the learner's own kernel: it is their code, there is no
sandbox. Not for grading (``nst_helpers.grading`` isolates and scores) and not for
judging (``nst_helpers.checks``).
"""

from __future__ import annotations

import _thread
import builtins
import contextlib
import importlib
import io
import linecache
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from nst_helpers import checks
from nst_helpers.course.extract import NotebookIndex
from nst_helpers.course.locate import locate
from nst_helpers.course.notebooks import read_submission

#: Seconds one function may take to be defined and checked (a correct one takes < 2 s).
DEFAULT_TIME_LIMIT = 20.0
#: The longest reason shown in a report line.
REASON_LENGTH = 150


class TimeLimitExceeded(BaseException):
    """A learner's function ran past its time limit (a BaseException, so that a learner's
    ``except Exception`` cannot swallow it)."""


@dataclass(frozen=True)
class Choice:
    """Which implementation of one function the later notebook uses, and why."""

    name: str
    function: Callable
    own: bool
    where: str  # "1_content_cost.ipynb, cell 13", or "" when not found
    reason: str

    def line(self, width: int = 25) -> str:
        """One line for the learner: the name, whose function it is, and why."""
        if self.own:
            return f"{self.name:<{width}} yours, from {self.where}: {self.reason}"
        return f"{self.name:<{width}} REFERENCE from nst_helpers: {self.reason}"


@dataclass(frozen=True)
class OwnFunctions:
    """The chosen implementation of each requested function, in course order."""

    folder: Path
    choices: tuple[Choice, ...]

    @property
    def functions(self) -> dict[str, Callable]:
        """{name: the function to use}, ready for ``globals().update(...)``."""
        return {choice.name: choice.function for choice in self.choices}

    def __getitem__(self, name: str) -> Callable:
        return self.functions[name]

    def report(self) -> str:
        """The lines a notebook prints: one per function, saying which one is used."""
        width = max([len(choice.name) for choice in self.choices] + [0]) + 2
        lines = [
            "The functions used below (read from the notebooks saved in this folder: save a "
            "notebook after changing it, then run this cell again):"
        ]
        lines += ["  " + choice.line(width) for choice in self.choices]
        return "\n".join(lines)


def shorten(text: str, length: int = REASON_LENGTH) -> str:
    """The first line of ``text``, cut to ``length`` characters with an ellipsis."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    first = lines[0] if lines else ""
    return first if len(first) <= length else first[: length - 3].rstrip() + "..."


@contextlib.contextmanager
def _alarm_limit(seconds: float):
    """Raise TimeLimitExceeded in this (main) thread after ``seconds``, and every half
    second after that until the block ends (in case the learner's code catches it)."""
    active = True

    def on_alarm(signum, frame):
        if active:
            raise TimeLimitExceeded(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        active = False
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _interrupt_limit(seconds: float):
    """The same where there is no SIGALRM (Windows) or off the main thread: a timer
    interrupts the main thread, and the KeyboardInterrupt it raises becomes the limit."""
    fired = threading.Event()
    done = threading.Event()

    def interrupt():
        while not done.wait(0.5 if fired.is_set() else seconds):
            fired.set()
            _thread.interrupt_main()

    timer = threading.Thread(target=interrupt, daemon=True)
    timer.start()
    try:
        yield
    except KeyboardInterrupt:
        if fired.is_set():
            raise TimeLimitExceeded(f"took longer than {seconds:g} s") from None
        raise
    finally:
        done.set()
        timer.join()


def time_limit(seconds: float):
    """A context manager that stops its block with TimeLimitExceeded after ``seconds``."""
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _alarm_limit(seconds)
    return _interrupt_limit(seconds)


def _reference(name: str) -> Callable:
    """The course library's function ``name``: a graded function's reference, or the
    public API's function of that name."""
    if name in checks.GRADED_FUNCTIONS:
        module, _, attribute = checks.exercise(name).reference.rpartition(".")
        return getattr(importlib.import_module(module), attribute)
    return getattr(importlib.import_module("nst_helpers"), name)


def _indexes(folder: Path):
    """The submission made of the notebooks at the top level of ``folder``, and their indexes."""
    paths = sorted(path for path in folder.glob("*.ipynb") if path.is_file())
    parts = [read_submission(path) for path in paths]
    if not parts:
        return None, []
    submission = replace(
        parts[0],
        source=folder,
        notebooks=tuple(notebook for part in parts for notebook in part.notebooks),
        problems=tuple(problem for part in parts for problem in part.problems),
    )
    return submission, [NotebookIndex(notebook) for notebook in submission.notebooks]


def _define(name: str, source: str, where: str, chosen: dict[str, Choice], seconds: float):
    """Run ``source`` in a fresh namespace and return the function ``name`` it defines,
    with the graded functions it calls wired to the versions already chosen."""
    filename = f"<your {name}: {where}>"
    # Registered like IPython's cells, so that tracebacks, inspect and AutoGraph read it.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": f"own_code.{name}", "__builtins__": builtins}
    quiet = io.StringIO()
    with time_limit(seconds), contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the learner's own code
    function = namespace.get(name)
    if not callable(function):
        raise NameError(f"the code found does not define a function named {name}")
    for other, choice in chosen.items():
        if other != name and other in namespace:
            namespace[other] = choice.function
    return function


def _checked(name: str, function: Callable, seconds: float) -> str | None:
    """None when ``function`` passes its learner check within the time limit, else why not."""
    quiet = io.StringIO()
    try:
        with (
            time_limit(seconds),
            contextlib.redirect_stdout(quiet),
            contextlib.redirect_stderr(quiet),
        ):
            checks.check(name, function)
    except AssertionError as error:
        # The traceback is not shown here: the check's pointer to it would mislead.
        message = str(error).replace(" (see the traceback above for the line)", "")
        if message.startswith(f"{name} returned None") and "not filled in" in message:
            return "is not filled in yet"
        if message.startswith(name + " "):
            message = message[len(name) + 1 :]
        return "fails its check: " + shorten(message, 100)
    except TimeLimitExceeded as error:
        return f"its check stopped: it {error} (an endless loop?)"
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - the learner's code may raise anything
        return f"raised {type(error).__name__} in its check: {shorten(str(error), 80)}"
    return None


def _choose(name, submission, indexes, chosen, seconds, graded: bool) -> Choice:
    reference = _reference(name)
    # A ready-made function's reference calls the library's versions, not the ones above.
    calls = "" if graded else "; it calls the library's own functions"
    if submission is None:
        return Choice(name, reference, False, "", "no notebook in this folder" + calls)
    located = locate(submission, name, indexes)
    if located.program is None:
        reason = "not found in this folder's notebooks"
        if located.status != "missing":
            reason = shorten(located.problem or located.status, 100)
        return Choice(name, reference, False, "", reason + calls)
    where = f"{located.notebook} ({located.cell})"
    try:
        function = _define(name, located.program.source, where, chosen, seconds)
    except KeyboardInterrupt:
        raise
    except TimeLimitExceeded as error:
        reason = f"yours in {where} {error} to be defined"
        return Choice(name, reference, False, where, reason + calls)
    except BaseException as error:  # noqa: BLE001 - the learner's own code
        text = f"{type(error).__name__}: {shorten(str(error), 80)}"
        return Choice(name, reference, False, where, f"yours in {where} raised {text}" + calls)
    if not graded:
        return Choice(name, function, True, where, "provided code, calling the functions above")
    problem = _checked(name, function, seconds)
    if problem:
        return Choice(name, reference, False, where, f"yours in {where} {problem}")
    return Choice(name, function, True, where, "passes its check")


def load_own_functions(
    names: Iterable[str],
    folder=".",
    provided: Iterable[str] = (),
    time_limit_seconds: float = DEFAULT_TIME_LIMIT,
) -> OwnFunctions:
    """The learner's own versions of ``names`` from the notebooks in ``folder``, checked.

    Args:
        names: graded functions (``checks.GRADED_FUNCTIONS``), taken in course order.
        folder: the learner's notebook folder (default: the kernel's working folder, which
            Jupyter sets to the notebook's own folder).
        provided: functions the notebooks give the learner ready-made (not graded, so not
            checked), such as ``compute_style_cost``; they are taken from the notebooks too,
            after the graded ones, so that they call the chosen graded functions.
        time_limit_seconds: how long one function may take to be defined and checked.

    Returns:
        An ``OwnFunctions``: ``.functions`` maps each name to the function to use, and
        ``.report()`` says in one line per function which one it is and why.

    Raises:
        ValueError: an unknown graded name, a provided name the library does not have, a
            missing folder or a time limit that is not positive.
    """
    names, provided = list(names), list(provided)
    unknown = [name for name in names if name not in checks.GRADED_FUNCTIONS]
    if unknown:
        raise ValueError(
            f"not graded functions: {unknown}; choose among {list(checks.GRADED_FUNCTIONS)} "
            "(give ready-made functions as provided=[...])."
        )
    for name in provided:
        try:
            _reference(name)
        except AttributeError:
            raise ValueError(
                f"provided={name!r}: the course library has no function {name!r} to fall "
                "back on; give only names of nst_helpers' public API."
            ) from None
    if not time_limit_seconds > 0:
        raise ValueError(f"time_limit_seconds must be positive, got {time_limit_seconds!r}.")
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} does not exist: give the notebooks' folder.")
    submission, indexes = _indexes(folder)
    chosen: dict[str, Choice] = {}
    for name in [n for n in checks.GRADED_FUNCTIONS if n in names]:
        chosen[name] = _choose(name, submission, indexes, chosen, time_limit_seconds, True)
    for name in dict.fromkeys(provided):
        chosen[name] = _choose(name, submission, indexes, chosen, time_limit_seconds, False)
    return OwnFunctions(folder.resolve(), tuple(chosen.values()))


def use_own_functions(
    names: Iterable[str],
    folder=".",
    provided: Iterable[str] = (),
    time_limit_seconds: float = DEFAULT_TIME_LIMIT,
) -> OwnFunctions:
    """``load_own_functions``, then print its report: the call a notebook makes."""
    own = load_own_functions(names, folder, provided, time_limit_seconds)
    print(own.report())
    return own
