"""The grading child's entry point: define each graded function, run it on the hidden cases.

Started by ``runner`` in a fresh interpreter (``python -I``), in an empty working
directory, with a time and memory limit. It reads a job description (JSON) naming, for
each graded function, the code that defines it, an ``.npz`` of inputs (the hidden cases,
made by the grader) and where to put the results. For each function in turn it

1. marks the function started (a file the supervisor watches for its time limit);
2. writes the definition to a ``.py`` file (so that ``inspect`` and AutoGraph can read
   its source), runs it in a fresh namespace and calls ``checks.run_case`` on each case,
   with the guards of ``sandbox`` active;
3. puts patched modules back, then writes plain arrays (``.npz``, no pickle) and a small
   JSON status, each atomically. The status file is written last: it means "done".

Anything the learner prints goes to a log the grader ignores. This process never judges:
the verdict is computed by the grader in its own process from these arrays.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback

_MESSAGE_LIMIT = 2000


def _exception_record(error: BaseException, program_path: str) -> dict:
    """Type, message and the last line of the learner's program in the traceback.

    The message is for the instructor's log only: the grader never shows it to the learner.
    """
    frames = traceback.extract_tb(error.__traceback__)
    learner_lines = [f.lineno for f in frames if f.filename == program_path]
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 - a hostile __str__ must not stop the worker
        message = "<unprintable>"
    record = {
        "type": type(error).__name__,
        "message": message[:_MESSAGE_LIMIT],
        "line": learner_lines[-1] if learner_lines else None,
    }
    _log(f"[grader] the learner's code raised {record['type']}: {record['message']}")
    return record


def _log(text: str) -> None:
    """A line for the instructor's log (the child's standard error, whatever the learner did)."""
    try:
        os.write(2, (text.rstrip("\n") + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def _plain_arrays(returned, index: int, numpy) -> dict:
    arrays = {}
    if returned.value is not None:
        arrays[f"case{index}.value"] = numpy.asarray(returned.value, dtype=numpy.float64)
    for key, value in dict(returned.extra).items():
        if isinstance(key, str) and key.isidentifier():
            try:
                arrays[f"case{index}.extra.{key}"] = numpy.asarray(value, dtype=numpy.float64)
            except (TypeError, ValueError):
                pass
    return arrays


def run_task(task: dict, io_directory: str, tools: dict) -> None:
    """Run one graded function on its cases and write its results."""
    numpy, run_case, guard, snapshot = (
        tools["numpy"],
        tools["run_case"],
        tools["guard"],
        tools["snapshot"],
    )
    savez, replace, dumps, clock = tools["savez"], tools["replace"], tools["dumps"], tools["clock"]
    name = task["name"]
    with open(os.path.join(io_directory, task["started"]), "w") as handle:
        handle.write(name)
    with numpy.load(os.path.join(io_directory, task["inputs"]), allow_pickle=False) as data:
        cases = [{} for _ in range(task["n_cases"])]
        for key in data.files:
            index, _, argument = key.partition(".")
            cases[int(index[len("case") :])][argument] = data[key]
    status = {"name": name, "definition_error": None, "cases": [], "changed_modules": []}
    arrays = {}
    started = clock()
    # A real file, so that inspect.getsource works (AutoGraph needs it for @tf.function).
    program_path = os.path.join(io_directory, task["program_file"])
    with open(program_path, "w", encoding="utf-8") as handle:
        handle.write(task["program"])
    namespace = {"__name__": "__main__", "__file__": program_path, "__builtins__": __builtins__}
    guard.begin(task["reference"])
    try:
        try:
            code = compile(task["program"], program_path, "exec")
            exec(code, namespace)  # noqa: S102
            function = namespace.get(name)
            if not callable(function):
                raise NameError(f"the code does not define a function named {name}")
        except BaseException as error:  # noqa: BLE001 - SystemExit and friends included
            status["definition_error"] = _exception_record(error, program_path)
            function = None
        for index, case in enumerate(cases if function is not None else []):
            case_started = clock()
            record = {"error": None, "kind": None, "type_name": None}
            try:
                returned = run_case(function, name, case)
                record["kind"] = str(returned.kind)
                record["type_name"] = str(returned.type_name)[:100]
                arrays.update(_plain_arrays(returned, index, numpy))
            except BaseException as error:  # noqa: BLE001
                record["error"] = _exception_record(error, program_path)
            record["seconds"] = clock() - case_started
            status["cases"].append(record)
    finally:
        guard.end()
    status["violations"] = list(guard.violations)
    status["delegated"] = sorted(set(guard.delegated))
    status["changed_modules"] = snapshot.restore()[:50]
    status["seconds"] = clock() - started
    namespace.clear()
    gc.collect()
    output = os.path.join(io_directory, task["output"])
    savez(output + ".tmp.npz", **arrays)
    replace(output + ".tmp.npz", output)
    status_path = os.path.join(io_directory, task["status"])
    with open(status_path + ".tmp", "w") as handle:
        handle.write(dumps(status))
    replace(status_path + ".tmp", status_path)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job_path = argv[0]
    with open(job_path) as handle:
        job = json.load(handle)
    io_directory = os.path.dirname(os.path.abspath(job_path))
    sys.dont_write_bytecode = True
    os.chdir(job["working_directory"])
    import numpy
    import tensorflow as tf

    from nst_helpers import checks
    from nst_helpers.devices import enable_gpu_memory_growth
    from nst_helpers.grading import sandbox

    enable_gpu_memory_growth()
    if job.get("threads"):
        tf.config.threading.set_intra_op_parallelism_threads(int(job["threads"]))
        tf.config.threading.set_inter_op_parallelism_threads(int(job["threads"]))
    import keras  # noqa: F401 - imported now so that its start-up is not timed per function

    guard = sandbox.Guard(job["working_directory"])
    references = [r for task in job["tasks"] for r in task["reference"]]
    sandbox.install_sentinels(references, guard)
    tools = {
        "numpy": numpy,
        "run_case": checks.run_case,
        "guard": guard,
        "snapshot": sandbox.ModuleSnapshot(sandbox.WATCHED_MODULES),
        "savez": numpy.savez,
        "replace": os.replace,
        "dumps": json.dumps,
        "clock": time.perf_counter,
    }
    sys.addaudithook(guard.audit)
    with open(os.path.join(io_directory, "ready"), "w") as handle:
        handle.write("ready")
    for task in job["tasks"]:
        run_task(task, io_directory, tools)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no atexit handlers: the learner may have registered some


if __name__ == "__main__":
    main()
