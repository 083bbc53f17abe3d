"""CPU cost of the learner checks: ``run_case`` and ``judge`` per exercise, on hidden draws.

What the grader pays per submission for each graded function, without the grader's own
process and sandbox costs: the learner's function (here the reference) run on every hidden
case of one draw, and the judge's verdict in the grader's process. Figures are CPU seconds
of this process (``time.process_time``), the median of ``--repeats`` interleaved rounds,
so that other load on the machine shifts them less than wall time would. For train_step,
the baseline measured in the same rounds is one eager step of the reference on the same
tiny network (what the check ran before it judged two eager and two compiled steps), and
the ratio is printed.

    python benchmarks/bench_checks.py [--repeats 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cpu_seconds(action) -> float:
    started = time.process_time()
    action()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()

    import keras
    import tensorflow as tf

    from nst_helpers import checks, costs, reference_step
    from nst_helpers.checks.tiny_network import TinyFeatureExtractor, tiny_style_layers
    from nst_helpers.commands.doctor import this_cpu_line

    references = {
        "compute_content_cost": costs.compute_content_cost,
        "gram_matrix": costs.gram_matrix,
        "compute_layer_style_cost": costs.compute_layer_style_cost,
        "total_cost": costs.total_cost,
        "train_step": reference_step.train_step,
    }
    cases = {name: checks.cases(name, options.seed) for name in checks.GRADED_FUNCTIONS}
    step_case = cases["train_step"][0]

    def one_eager_step():
        extractor = TinyFeatureExtractor(step_case)
        image = tf.Variable(step_case["generated_image"])
        optimizer = keras.optimizers.Adam(learning_rate=0.01)
        optimizer.build([image])
        reference_step.train_step(
            image, extractor, extractor(step_case["content_image"]),
            extractor(step_case["style_image"]), optimizer, "conv2",
            tiny_style_layers(step_case), float(step_case["alpha"]), float(step_case["beta"]),
        )  # fmt: skip

    for name in checks.GRADED_FUNCTIONS:  # warm up: imports, first traces, AutoGraph's cache
        for case in cases[name]:
            checks.judge(name, case, checks.run_case(references[name], name, case))
    one_eager_step()

    run, judged, baseline = {n: [] for n in cases}, {n: [] for n in cases}, []
    for _ in range(options.repeats):
        baseline.append(cpu_seconds(one_eager_step))
        for name in checks.GRADED_FUNCTIONS:
            returned = []
            run[name].append(
                cpu_seconds(
                    lambda name=name, returned=returned: returned.extend(
                        checks.run_case(references[name], name, case) for case in cases[name]
                    )
                )
            )
            verdicts = []
            judged[name].append(
                cpu_seconds(
                    lambda name=name, returned=returned, verdicts=verdicts: verdicts.extend(
                        checks.judge(name, case, r)
                        for case, r in zip(cases[name], returned, strict=True)
                    )
                )
            )
            assert verdicts == [None] * len(verdicts), (name, verdicts)

    print(
        f"Machine: {this_cpu_line()}; "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )
    print(f"CPU seconds, median of {options.repeats} rounds, hidden draw of seed {options.seed}:")
    total = 0.0
    for name in checks.GRADED_FUNCTIONS:
        count = len(cases[name])
        run_median, judge_median = statistics.median(run[name]), statistics.median(judged[name])
        total += run_median + judge_median
        print(
            f"  {name:<25} {count} case(s): run_case {run_median:.3f} s "
            f"({run_median / count:.3f} per case), judge {judge_median:.4f} s "
            f"({judge_median / count:.4f} per case)"
        )
    step_per_case = statistics.median(run["train_step"]) / len(cases["train_step"])
    one_step = statistics.median(baseline)
    print(
        f"  train_step run_case per case / one eager reference step (same rounds): "
        f"{step_per_case:.3f} s / {one_step:.3f} s = {step_per_case / one_step:.1f}x"
    )
    print(f"  all five functions, every hidden case, run and judged: {total:.2f} s")
    fresh = [_fresh_process_seconds(options.seed) for _ in range(3)]
    print(
        "  the same in a fresh process, after its imports (as in a grading child), "
        f"median of 3: {statistics.median(fresh):.2f} s"
    )


_FRESH = """
import os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras, tensorflow
from nst_helpers import checks, costs, reference_step
references = {"compute_content_cost": costs.compute_content_cost,
              "gram_matrix": costs.gram_matrix,
              "compute_layer_style_cost": costs.compute_layer_style_cost,
              "total_cost": costs.total_cost, "train_step": reference_step.train_step}
started = time.process_time()
for name in checks.GRADED_FUNCTIONS:
    for case in checks.cases(name, int(sys.argv[1])):
        assert checks.judge(name, case, checks.run_case(references[name], name, case)) is None
print(time.process_time() - started)
"""


def _fresh_process_seconds(seed: int) -> float:
    """CPU seconds of the five functions' hidden cases, run and judged, in a new interpreter
    (first traces and first calls included; interpreter start and imports excluded)."""
    import subprocess
    import sys

    output = subprocess.run(
        [sys.executable, "-c", _FRESH, str(seed)], capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
