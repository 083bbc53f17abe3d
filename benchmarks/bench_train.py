"""Speed and memory of the training engine against a plain baseline, measured in one run.

Prints, for each image size (256 and 400 px by default):
  * seconds per step of the engine's compiled train step (``nst_helpers.train``) and of a
    plain baseline (the classic assignment / TensorFlow tutorial approach: Keras' VGG19
    through block5_conv4 (the assignment's model outputs: nothing truncated after the
    deepest loss layer), the course's reference ``train_step`` run eagerly, so every
    step recomputes the losses in Python and the style image's Gram matrices), and the
    ratio; the engine with and without XLA;
  * peak memory (max RSS of a fresh process per configuration, which includes
    TensorFlow's own ~0.5-1 GB) and the engine at 512 px;
  * the fraction of this machine's measured float32 matmul throughput that the step
    reaches (VGG19 forward + input-gradient FLOPs up to the deepest layer used);
  * time to quality: wall time for the engine (its speed features: content
    initialisation, coarse-to-fine scales, lr 0.02, compiled step) to reach the loss that
    the baseline reaches after 200 Adam steps (lr 0.01, content + noise initialisation,
    as in the assignment), on the same objective (α 10, β 40, uniform style weights, no
    TV: the engine's shallow weighting is switched off so that the losses compare).

The computation does not depend on the weights' values, so the seeded stand-in VGG19
is used (``NST_VGG19_WEIGHTS``, or ImageNet weights if you set it to a file); the
loss trajectories, and so the time-to-quality figure, do depend on them.

    python benchmarks/bench_train.py            # about 5-8 minutes on 2 CPU cores
    python benchmarks/bench_train.py --quick    # fewer steps, smaller sizes: a smoke test

On a GPU machine the same command runs on the GPU (nothing pins a device).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NST_VGG19_WEIGHTS", "random")

CONTENT = "astronaut"  # square, so "256 px" means 256x256 as in the FLOP figures
STYLE = "brush_strokes"
BASELINE_LAYERS_THROUGH = "block5_conv4"

# VGG19 convolutions: (name, input channels, output channels, pooling steps before it).
VGG19_CONVS = [
    ("block1_conv1", 3, 64, 0), ("block1_conv2", 64, 64, 0),
    ("block2_conv1", 64, 128, 1), ("block2_conv2", 128, 128, 1),
    ("block3_conv1", 128, 256, 2), ("block3_conv2", 256, 256, 2),
    ("block3_conv3", 256, 256, 2), ("block3_conv4", 256, 256, 2),
    ("block4_conv1", 256, 512, 3), ("block4_conv2", 512, 512, 3),
    ("block4_conv3", 512, 512, 3), ("block4_conv4", 512, 512, 3),
    ("block5_conv1", 512, 512, 4), ("block5_conv2", 512, 512, 4),
    ("block5_conv3", 512, 512, 4), ("block5_conv4", 512, 512, 4),
]  # fmt: skip


def step_gflop(height: int, width: int, deepest: str, style_layers) -> float:
    """GFLOP of one step: conv forward + input gradient (≈ the same again) + Gram matrices."""
    total = 0.0
    for name, c_in, c_out, pools in VGG19_CONVS:
        positions = (height // 2**pools) * (width // 2**pools)
        total += 2 * 2.0 * positions * 9 * c_in * c_out  # forward and input gradient
        if name in style_layers:
            total += 3 * 2.0 * positions * c_out * c_out  # Gram forward and backward
        if name == deepest:
            break
    return total / 1e9


def measure_matmul_gflops(sizes=(2048, 4096), repeats: int = 6) -> float:
    """The best float32 matmul rate TensorFlow reaches here (GFLOP/s), over a few sizes."""
    import tensorflow as tf

    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    best_rate = 0.0
    for size in sizes:
        a = tf.random.stateless_uniform((size, size), seed=(1, 2))
        b = tf.random.stateless_uniform((size, size), seed=(3, 4))
        matmul(a, b).numpy()
        for _ in range(repeats):
            started = time.perf_counter()
            matmul(a, b).numpy()
            best_rate = max(best_rate, 2.0 * size**3 / (time.perf_counter() - started) / 1e9)
    return best_rate


def _peak_memory_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 1024.0**2


def _images(size: int):
    from nst_helpers.images import load_image
    from nst_helpers.samples import sample_pair

    content_path, style_path = sample_pair(CONTENT, STYLE)
    return load_image(content_path, max_size=size), load_image(style_path, max_size=size)


def _vgg():
    import warnings

    from nst_helpers.vgg import load_vgg19

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_vgg19(None)


class EngineStep:
    """The engine's own compiled train step (``nst_helpers.train.steps.AdamRun``) at one size."""

    def __init__(self, content, style, vgg, jit: bool):
        from nst_helpers.train.options import StylizeOptions, weighted_style_layers
        from nst_helpers.train.steps import AdamRun, compute_targets, make_loss_function
        from nst_helpers.vgg import make_feature_extractor

        options = StylizeOptions(image_size=int(max(content.shape[1:3])), scales=1)
        extractor = make_feature_extractor(options.layer_names(), vgg=vgg)
        names = [name for name, _ in options.style_layers]
        targets = compute_targets(extractor, content, style, options.content_layer, names)
        channels = {name: int(gram.shape[0]) for name, gram in targets.grams.items()}
        layers = weighted_style_layers(options.style_layers, channels, "shallow")
        loss_function = make_loss_function(extractor, options.content_layer, layers, 10, 40, 0)
        self.run = AdamRun(content, targets, loss_function, options, jit)

    def step(self) -> float:
        return self.run.step()["total"]


def _timed(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def _interleaved(size: int, steps: int, xla: bool) -> dict:
    """Alternate engine and baseline steps in one process, so both see the same load."""
    import numpy as np

    content, style = _images(size)
    vgg = _vgg()
    contenders = {"engine": EngineStep(content, style, vgg, jit=False),
                  "baseline": Baseline(content, style, vgg)}  # fmt: skip
    if xla:
        contenders["xla"] = EngineStep(content, style, vgg, jit=True)
    times = {name: [] for name in contenders}
    for name, contender in contenders.items():
        times[name + "_first"] = _timed(contender.step)[0]  # tracing, compiling
    for _ in range(steps):
        for name, contender in contenders.items():
            times[name].append(_timed(contender.step))
    output = {}
    for name in contenders:
        wall, cpu = np.array(times[name]).T
        output[name] = {"wall": float(np.median(wall)), "cpu": float(np.median(cpu)),
                        "first": times[name + "_first"]}  # fmt: skip
    ratios = [b[0] / e[0] for b, e in zip(times["baseline"], times["engine"], strict=True)]
    output["pairwise_ratio"] = float(np.median(ratios))
    return output


def _memory(size: int, which: str) -> dict:
    """Peak memory of a fresh process running three steps of ``which`` at ``size``."""
    content, style = _images(size)
    vgg = _vgg()
    contender = EngineStep(content, style, vgg, False) if which == "engine" else Baseline(
        content, style, vgg)  # fmt: skip
    before_steps = _current_memory_mb()
    seconds = [_timed(contender.step)[0] for _ in range(3)]
    return {"seconds_per_step": min(seconds[1:]), "before_steps_mb": before_steps}


def _current_memory_mb() -> float:
    """Resident memory now (Linux /proc; NaN elsewhere)."""
    try:
        with open("/proc/self/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


class Baseline:
    """The plain approach: full model outputs, eager reference step, Grams recomputed."""

    def __init__(self, content, style, vgg, noise_seed: int = 0):
        import keras
        import numpy as np
        import tensorflow as tf

        from nst_helpers.costs import CONTENT_LAYER, STYLE_LAYERS
        from nst_helpers.vgg import preprocess

        self.names = [name for name, _ in STYLE_LAYERS] + [CONTENT_LAYER, BASELINE_LAYERS_THROUGH]
        model = keras.Model(vgg.input, [vgg.get_layer(name).output for name in self.names])
        self.extract = lambda image: dict(zip(self.names, model(preprocess(image)), strict=True))
        self.content_targets = self.extract(content)
        self.style_targets = self.extract(style)
        noise = np.random.RandomState(noise_seed).uniform(-0.25, 0.25, content.shape)
        self.image = tf.Variable(tf.clip_by_value(content + noise.astype("float32"), 0.0, 1.0))
        self.optimizer = keras.optimizers.Adam(learning_rate=0.01)

    def step(self) -> float:
        from nst_helpers.reference_step import train_step

        return float(train_step(self.image, self.extract, self.content_targets,
                                self.style_targets, self.optimizer))  # fmt: skip


def _time_to_quality(size: int, baseline_steps: int, engine_steps: int) -> dict:
    """Baseline: ``baseline_steps`` steps; engine: until its full-size loss is as low."""
    import tensorflow as tf

    from nst_helpers.costs import (
        CONTENT_LAYER,
        STYLE_LAYERS,
        compute_content_cost,
        compute_style_cost,
        total_cost,
    )
    from nst_helpers.train import stylize

    content, style = _images(size)
    vgg = _vgg()
    baseline = Baseline(content, style, vgg)
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(baseline_steps):
        baseline.step()
    baseline_seconds = time.perf_counter() - started
    baseline_cpu = time.process_time() - cpu_started

    def objective(image) -> float:  # the common yardstick, evaluated eagerly for both
        activations = baseline.extract(image)
        J_content = compute_content_cost(baseline.content_targets[CONTENT_LAYER],
                                         activations[CONTENT_LAYER])  # fmt: skip
        J_style = compute_style_cost(baseline.style_targets, activations, STYLE_LAYERS)
        return float(total_cost(J_content, J_style, 10, 40))

    target = objective(tf.identity(baseline.image))
    reached = {}

    def stop_when_reached(info):
        if info.scale == info.scale_count - 1 and info.losses["total"] <= target:
            reached.update(step=info.step, seconds=time.perf_counter() - engine_started,
                           cpu=time.process_time() - engine_cpu_started)  # fmt: skip
            raise KeyboardInterrupt

    engine_started, engine_cpu_started = time.perf_counter(), time.process_time()
    result = stylize(content, style, vgg=vgg, image_size=size, steps=engine_steps, scales=3,
                     style_layer_weighting="uniform", callbacks=[stop_when_reached],
                     progress=False)  # fmt: skip
    final_scale = [i for i, s in enumerate(result.history.scale) if s == max(result.history.scale)]
    return {
        "target": target,
        "baseline_seconds": baseline_seconds,
        "baseline_cpu": baseline_cpu,
        "engine_seconds": reached.get("seconds"),
        "engine_cpu": reached.get("cpu"),
        "engine_steps": reached.get("step"),
        "engine_steps_per_scale": [
            result.history.scale.count(s) for s in sorted(set(result.history.scale))
        ],
        "engine_final_loss": result.history.total[final_scale[-1]],
        "engine_total_seconds": time.perf_counter() - engine_started,
        "check_engine_loss": objective(result.best_image) if reached else None,
    }


def worker(config: dict) -> None:
    kind = config.pop("kind")
    function = {"steps": _interleaved, "memory": _memory, "ttq": _time_to_quality}[kind]
    output = function(**config)
    output["peak_memory_mb"] = _peak_memory_mb()
    print("RESULT " + json.dumps(output), flush=True)


def in_subprocess(config: dict, timeout: float) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--worker", json.dumps(config)],
                               capture_output=True, text=True, timeout=timeout)  # fmt: skip
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"worker {config} failed:\n{completed.stderr[-3000:]}")


def machine_description() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import tensorflow as tf

    gpus = [device.name for device in tf.config.list_physical_devices("GPU")]
    return (f"{os.cpu_count()} logical CPUs (nproc {len(os.sched_getaffinity(0))}), {model}; "
            f"GPUs: {gpus or 'none'}; TensorFlow {tf.__version__}; Python {platform.python_version()}")  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Engine vs baseline: speed, memory, quality.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 400])
    parser.add_argument("--steps", type=int, default=6, help="timed steps per configuration")
    parser.add_argument("--memory-size", type=int, default=512)
    parser.add_argument("--ttq-size", type=int, default=256, help="size of the time-to-quality run")
    parser.add_argument("--baseline-steps", type=int, default=200)
    parser.add_argument("--engine-steps", type=int, default=300, help="engine budget (3 scales)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few steps")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if args.quick:
        args.sizes, args.steps, args.memory_size = [64, 96], 3, 128
        args.ttq_size, args.baseline_steps, args.engine_steps = 64, 20, 60
    started = time.perf_counter()
    from nst_helpers.costs import STYLE_LAYERS

    style_names = [name for name, _ in STYLE_LAYERS]
    print("machine:", machine_description())
    print(f"weights: {os.environ.get('NST_VGG19_WEIGHTS')} (compute does not depend on them)")
    print("note: ratios are measured in the same run; absolute seconds are noisy when other "
          "work shares the machine.")  # fmt: skip
    gflops = measure_matmul_gflops()
    print(f"float32 matmul (2048 and 4096 square, best of 6 each): {gflops:.0f} GFLOP/s")
    print(f"\nseconds per step: median of {args.steps} steps, engine and baseline steps alternating "
          "in one process (wall clock; CPU seconds of the process in brackets)")  # fmt: skip
    print(f"{'size':>5} {'engine':>14} {'baseline':>14} {'ratio':>6} {'ratio (pairs)':>13} "
          f"{'engine XLA':>14} {'GFLOP':>6} {'% matmul':>8}")  # fmt: skip
    first_ratio = None
    for size in args.sizes:
        timing = in_subprocess({"kind": "steps", "size": size, "steps": args.steps,
                                "xla": size == args.sizes[0]}, 900)  # fmt: skip
        engine, base = timing["engine"], timing["baseline"]
        ratio = base["wall"] / engine["wall"]
        first_ratio = first_ratio or ratio
        work = step_gflop(size, size, "block5_conv1", style_names)
        fraction = work / engine["wall"] / gflops
        xla = timing.get("xla")
        xla_text = f"{xla['wall']:>6.3f} ({xla['cpu']:>5.2f})" if xla else f"{'-':>14}"
        print(f"{size:>5} {engine['wall']:>6.3f} ({engine['cpu']:>5.2f}) "
              f"{base['wall']:>6.3f} ({base['cpu']:>5.2f}) {ratio:>5.2f}x "
              f"{timing['pairwise_ratio']:>12.2f}x {xla_text} {work:>6.1f} {100 * fraction:>7.0f}%")  # fmt: skip
    print(f"  GFLOP: the engine's step (VGG19 to block5_conv1, forward + input gradient + Grams);"
          f" the baseline computes through {BASELINE_LAYERS_THROUGH} "
          f"({step_gflop(args.sizes[0], args.sizes[0], BASELINE_LAYERS_THROUGH, style_names):.1f}"
          f" GFLOP at {args.sizes[0]} px). % matmul above 100% would mean the convolutions do "
          "fewer multiply-adds than the direct count (e.g. Winograd).")  # fmt: skip
    print(
        "\npeak memory (max RSS of a fresh process: TensorFlow itself (~0.6 GB), VGG19 and its"
        " weights, 3 steps)"
    )
    for size in [*args.sizes, args.memory_size]:
        rows = []
        for which in ("engine", "baseline") if size != args.memory_size else ("engine",):
            memory = in_subprocess({"kind": "memory", "size": size, "which": which}, 600)
            rows.append(f"{which} {memory['peak_memory_mb']:.0f} MB (resident before the "
                        f"steps {memory['before_steps_mb']:.0f} MB; "
                        f"{memory['seconds_per_step']:.2f} s/step)")  # fmt: skip
        print(f"  {size:>4} px: " + ", ".join(rows))
    ttq = in_subprocess({"kind": "ttq", "size": args.ttq_size, "baseline_steps": args.baseline_steps,
                         "engine_steps": args.engine_steps}, 1200)  # fmt: skip
    print(f"\ntime to quality at {args.ttq_size} px (same objective; weights as above):")
    print(f"  baseline: {args.baseline_steps} Adam steps in {ttq['baseline_seconds']:.1f} s "
          f"({ttq['baseline_cpu']:.0f} CPU s) -> loss {ttq['target']:.4g}")  # fmt: skip
    if ttq["engine_seconds"] is None:
        print(f"  engine: did NOT reach that loss within {args.engine_steps} steps "
              f"({ttq['engine_total_seconds']:.1f} s; final loss {ttq['engine_final_loss']:.4g})")  # fmt: skip
    else:
        print(f"  engine: reached it after {ttq['engine_steps']} steps (per scale "
              f"{ttq['engine_steps_per_scale']}) in {ttq['engine_seconds']:.1f} s "
              f"({ttq['engine_cpu']:.0f} CPU s), compilation included; the baseline's own "
              f"evaluation of that image: {ttq['check_engine_loss']:.4g}")  # fmt: skip
        print(f"  time to the same loss: {ttq['baseline_seconds'] / ttq['engine_seconds']:.1f}x "
              f"faster (wall clock), {ttq['baseline_cpu'] / ttq['engine_cpu']:.1f}x (CPU time)")  # fmt: skip
        equivalents = sum(count / 4 ** (len(ttq["engine_steps_per_scale"]) - 1 - index)
                          for index, count in enumerate(ttq["engine_steps_per_scale"]))  # fmt: skip
        print(f"  load-independent estimate: the engine used {equivalents:.0f} full-size step "
              f"equivalents (a step costs ~pixels) against the baseline's {args.baseline_steps}; "
              f"times the per-step ratio at {args.sizes[0]} px ({first_ratio:.2f}x): "
              f"{args.baseline_steps / equivalents * first_ratio:.1f}x")  # fmt: skip
    print(f"\nbenchmark wall time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
