"""The training engine against the peers users would otherwise run, measured in one run.

Contenders (faithful re-implementations of the peers' own step code, on the same VGG19):

* ``engine``: ``nst_helpers.train``'s compiled step at ``precision="auto"`` (what the
  machine gets by default; plus ``engine float32`` when auto picks a lower precision);
* ``tutorial``: TensorFlow's "Neural style transfer" tutorial: a ``tf.function`` step,
  the einsum Gram divided by the number of locations, recomputed from the model's
  outputs, style weight 1e-2, content 1e4, content layer block5_conv2, Adam(0.02,
  beta_1=0.99, epsilon=0.1), starting from the photo;
* ``assignment``: the classic deeplearning.ai assignment's TF2 step: a ``tf.function``
  step over VGG19 outputs through block5_conv4, the style image's Gram matrices
  recomputed every step (transpose, reshape, matmul), α 10, β 40, Adam(0.01), the photo
  plus uniform noise;
* ``eager reference`` (a row, not the headline): the course's teaching ``train_step``
  run eagerly;
* PyTorch's tutorial is not re-implemented here; it is reported as not measured.

Printed: the machine (CPU model, its bf16-relevant flags, cores, load); the measured
matmul peak for each precision used; seconds per step at each size (contenders
interleaved in one process, so they share the load; median and the median of the
pairwise ratios), GFLOP per step and % of the peak; oneDNN's frozen (blocked) weights,
A/B in alternating processes; time to a shared loss threshold on one shared objective;
the coarse-to-fine schedule against a single scale on that objective; bfloat16's
quality cost against float32; peak memory (max RSS of a fresh process).

    python benchmarks/bench_train.py                              # see below for the time
    python benchmarks/bench_train.py --markdown docs/performance.md   # also write the page
    python benchmarks/bench_train.py --quick                      # smoke test, tiny sizes

On 2 quiet AVX2 cores the sections before bfloat16's quality take 20-25 minutes (the
shared-threshold section alone took 15.5 minutes in the latest run); that
section emulates bfloat16 on a CPU without it and took over 14 minutes more at 256 px
(``--only steps,frozen,shared,memory`` leaves it out; ``--sizes 128 --quality-steps 30`` is
quicker).

The arithmetic does not depend on the weights, so the seeded stand-in VGG19 is used
unless ``NST_VGG19_WEIGHTS`` names a weights file; loss trajectories (time to the
threshold, the coarse-to-fine verdict) do depend on them: re-run with the real weights.
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

CONTENT, STYLE = "astronaut", "brush_strokes"  # square photo: "256 px" is 256x256
SECTIONS = ("steps", "frozen", "shared", "quality", "memory")
BF16_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")

# VGG19 convolutions: (name, input channels, output channels, poolings before it).
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
STYLE_NAMES = [f"block{block}_conv1" for block in range(1, 6)]
DEEPEST = {"engine": "block5_conv1", "engine float32": "block5_conv1",
           "tutorial": "block5_conv2", "assignment": "block5_conv4",
           "eager reference": "block5_conv1"}  # fmt: skip


def step_gflop(size: int, deepest: str) -> float:
    """GFLOP of one step: convolutions forward + input gradient (≈ twice) + Gram matrices."""
    total = 0.0
    for name, c_in, c_out, pools in VGG19_CONVS:
        positions = (size // 2**pools) ** 2
        total += 2 * 2.0 * positions * 9 * c_in * c_out
        if name in STYLE_NAMES:
            total += 3 * 2.0 * positions * c_out * c_out
        if name == deepest:
            break
    return total / 1e9


# ----------------------------------------------------------------------------- machine


def machine() -> dict:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name") and model in ("", "unknown CPU", "x86_64"):
                    model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    import tensorflow as tf

    from nst_helpers.train.precision import cpu_flags, explain_precision

    flags = cpu_flags()

    precision, reason = explain_precision()
    return {
        "cpu": model,
        "flags": {flag: flag in flags for flag in BF16_FLAGS},
        "cores": len(os.sched_getaffinity(0)),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
        "auto": precision,
        "auto_reason": reason,
        "load": os.getloadavg(),
    }


def matmul_peak(dtype_name: str, sizes=(2048, 4096), repeats: int = 5) -> dict:
    """The best matmul rate TensorFlow reaches here in ``dtype_name``: GFLOP per second of
    wall time (``wall``) and per CPU-second of the process (``cpu``, robust to other load)."""
    import tensorflow as tf

    dtype = getattr(tf, dtype_name)
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    best = {"wall": 0.0, "cpu": 0.0}
    for size in sizes:
        a = tf.cast(tf.random.stateless_uniform((size, size), seed=(1, 2)), dtype)
        b = tf.cast(tf.random.stateless_uniform((size, size), seed=(3, 4)), dtype)
        matmul(a, b).numpy()
        for _ in range(repeats):
            wall, cpu = _timed(lambda a=a, b=b: matmul(a, b).numpy())
            best["wall"] = max(best["wall"], 2.0 * size**3 / wall / 1e9)
            best["cpu"] = max(best["cpu"], 2.0 * size**3 / max(cpu, 1e-9) / 1e9)
    return best


# -------------------------------------------------------------------------- contenders


def _images(size: int):
    from nst_helpers.images import load_image, resize_image
    from nst_helpers.samples import sample_pair

    content_path, style_path = sample_pair(CONTENT, STYLE)
    content = resize_image(load_image(content_path, max_size=None), (size, size))
    style = resize_image(load_image(style_path, max_size=None), (size, size))
    return content, style


def _vgg():
    import warnings

    from nst_helpers.vgg import load_vgg19

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_vgg19(None)


def _noise(shape, amount=0.25, seed=0):
    import numpy as np

    return np.random.RandomState(seed).uniform(-amount, amount, shape).astype("float32")


class Engine:
    """``nst_helpers.train``'s compiled Adam step (``steps.AdamRun``) at one scale."""

    def __init__(self, content, style, vgg, precision="auto", weighting="shallow"):
        from nst_helpers.train import _at_precision
        from nst_helpers.train.options import StylizeOptions
        from nst_helpers.train.plan import make_plan
        from nst_helpers.train.steps import AdamRun, compute_targets, make_loss_function
        from nst_helpers.vgg import make_feature_extractor

        options = StylizeOptions(image_size=int(content.shape[2]), scales=1, precision=precision,
                                 style_layer_weighting=weighting)  # fmt: skip
        extractor = make_feature_extractor(options.layer_names(), vgg=vgg)
        extractor, self.precision, _ = _at_precision(extractor, precision)
        channels = dict(zip(STYLE_NAMES, (64, 128, 256, 512, 512), strict=True))
        plan = make_plan(options, tuple(content.shape[1:3]), channels, self.precision)
        targets = compute_targets(extractor, content, style, options.content_layer, STYLE_NAMES)
        loss_function = make_loss_function(extractor, options.content_layer, plan.style_layers,
                                           options.alpha, options.beta, 0.0)  # fmt: skip
        self.run = AdamRun(content, targets, loss_function, options, False, self.precision)

    def step(self) -> float:
        return self.run.step()["total"]


class Tutorial:
    """TensorFlow's NST tutorial step (its own model, Gram, loss and optimizer settings).

    With ``shared=True`` its loss is the shared objective (content block4_conv2, weights
    2.5 and 10 in its mean-based normalisation = 10·J_content + 40·Σ0.2·J_style^l).
    """

    def __init__(self, content, style, vgg, shared=False):
        import keras
        import tensorflow as tf

        content_layers = ["block4_conv2"] if shared else ["block5_conv2"]
        style_weight, content_weight = (10.0, 2.5) if shared else (1e-2, 1e4)
        outputs = [vgg.get_layer(name).output for name in STYLE_NAMES + content_layers]
        model = keras.Model([vgg.input], outputs)
        model.trainable = False

        def gram_matrix(input_tensor):
            result = tf.linalg.einsum("bijc,bijd->bcd", input_tensor, input_tensor)
            input_shape = tf.shape(input_tensor)
            return result / tf.cast(input_shape[1] * input_shape[2], tf.float32)

        def extractor(inputs):
            inputs = inputs * 255.0
            preprocessed = keras.applications.vgg19.preprocess_input(inputs)
            outputs = model(preprocessed)
            style_outputs = [gram_matrix(output) for output in outputs[: len(STYLE_NAMES)]]
            return {"style": dict(zip(STYLE_NAMES, style_outputs, strict=True)),
                    "content": dict(zip(content_layers, outputs[len(STYLE_NAMES):],
                                        strict=True))}  # fmt: skip

        style_targets = extractor(style)["style"]
        content_targets = extractor(content)["content"]

        def style_content_loss(outputs):
            style_outputs, content_outputs = outputs["style"], outputs["content"]
            style_loss = tf.add_n([tf.reduce_mean((style_outputs[name] - style_targets[name]) ** 2)
                                   for name in style_outputs])  # fmt: skip
            style_loss *= style_weight / len(STYLE_NAMES)
            content_loss = tf.add_n(
                [tf.reduce_mean((content_outputs[name] - content_targets[name]) ** 2)
                 for name in content_outputs])  # fmt: skip
            content_loss *= content_weight / len(content_layers)
            return style_loss + content_loss

        self.image = tf.Variable(content)
        optimizer = keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=1e-1)

        @tf.function()
        def train_step(image):
            with tf.GradientTape() as tape:
                outputs = extractor(image)
                loss = style_content_loss(outputs)
            grad = tape.gradient(loss, image)
            optimizer.apply_gradients([(grad, image)])
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
            return loss

        self.train_step = train_step

    def step(self) -> float:
        return float(self.train_step(self.image))


class Assignment:
    """The classic assignment's TF2 step (its costs, Grams recomputed, Adam 0.01, noise init).

    Faithful to its input convention (no VGG preprocessing) unless ``shared=True``, which
    adds the preprocessing and uses the shared objective's content layer (block4_conv2).
    """

    def __init__(self, content, style, vgg, shared=False):
        import keras
        import tensorflow as tf

        from nst_helpers.vgg import preprocess

        layers = [(name, 0.2) for name in STYLE_NAMES]
        content_layer = "block4_conv2" if shared else "block5_conv4"
        model = keras.Model(vgg.input, [vgg.get_layer(n).output for n, _ in layers]
                            + [vgg.get_layer(content_layer).output])  # fmt: skip
        vgg_model_outputs = (lambda image: model(preprocess(image))) if shared else model

        def gram_matrix(A):
            return tf.matmul(A, tf.transpose(A))

        def compute_layer_style_cost(a_S, a_G):
            _, n_H, n_W, n_C = a_G.get_shape().as_list()
            a_S = tf.transpose(tf.reshape(a_S, shape=[-1, n_C]))
            a_G = tf.transpose(tf.reshape(a_G, shape=[-1, n_C]))
            GS, GG = gram_matrix(a_S), gram_matrix(a_G)
            return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * ((n_H * n_W * n_C) ** 2))

        def compute_style_cost(style_image_output, generated_image_output):
            J_style = 0
            a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
            for i, weight in zip(range(len(a_S)), layers, strict=True):
                J_style += weight[1] * compute_layer_style_cost(a_S[i], a_G[i])
            return J_style

        def compute_content_cost(content_output, generated_output):
            a_C, a_G = content_output[-1], generated_output[-1]
            m, n_H, n_W, n_C = a_G.get_shape().as_list()
            a_C_unrolled = tf.reshape(a_C, shape=[m, -1, n_C])
            a_G_unrolled = tf.reshape(a_G, shape=[m, -1, n_C])
            return tf.reduce_sum(tf.square(a_C_unrolled - a_G_unrolled)) / (4.0 * n_H * n_W * n_C)

        a_C, a_S = vgg_model_outputs(content), vgg_model_outputs(style)
        optimizer = keras.optimizers.Adam(learning_rate=0.01)
        self.image = tf.Variable(tf.clip_by_value(content + _noise(content.shape), 0.0, 1.0))

        @tf.function()
        def train_step(generated_image):
            with tf.GradientTape() as tape:
                a_G = vgg_model_outputs(generated_image)
                J_style = compute_style_cost(a_S, a_G)
                J_content = compute_content_cost(a_C, a_G)
                J = 10 * J_content + 40 * J_style
            grad = tape.gradient(J, generated_image)
            optimizer.apply_gradients([(grad, generated_image)])
            generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
            return J

        self.train_step = train_step

    def step(self) -> float:
        return float(self.train_step(self.image))


class EagerReference:
    """The course's teaching step run eagerly (the README's old baseline: a row only)."""

    def __init__(self, content, style, vgg):
        import keras
        import tensorflow as tf

        from nst_helpers.vgg import make_feature_extractor

        self.extract = make_feature_extractor(STYLE_NAMES + ["block4_conv2"], vgg=vgg)
        self.targets = self.extract(content), self.extract(style)
        self.image = tf.Variable(tf.clip_by_value(content + _noise(content.shape), 0.0, 1.0))
        self.optimizer = keras.optimizers.Adam(learning_rate=0.01)

    def step(self) -> float:
        from nst_helpers.reference_step import train_step

        return float(train_step(self.image, self.extract, *self.targets, self.optimizer))


# ----------------------------------------------------------------------- measurements


def _timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def per_step(size: int, steps: int, eager: bool) -> dict:
    """Seconds per step of every contender, interleaved in this one process."""
    import numpy as np

    content, style = _images(size)
    vgg = _vgg()
    contenders = {"engine": Engine(content, style, vgg)}
    if contenders["engine"].precision != "float32":
        contenders["engine float32"] = Engine(content, style, vgg, precision="float32")
    contenders["tutorial"] = Tutorial(content, style, vgg)
    contenders["assignment"] = Assignment(content, style, vgg)
    if eager:
        contenders["eager reference"] = EagerReference(content, style, vgg)
    for contender in contenders.values():
        contender.step()  # tracing, compiling
    times = {name: [] for name in contenders}
    for _ in range(steps):
        for name, contender in contenders.items():
            times[name].append(_timed(contender.step))
    output = {"precision": contenders["engine"].precision, "rows": {}}
    engine_wall = np.array(times["engine"])[:, 0]
    for name, measured in times.items():
        wall, cpu = np.array(measured).T
        output["rows"][name] = {"wall": float(np.median(wall)), "cpu": float(np.median(cpu)),
                                "ratio": float(np.median(wall / engine_wall))}  # fmt: skip
    return output


def frozen_ab(size: int, steps: int) -> dict:
    """Engine steps with and without TF_ONEDNN_ASSUME_FROZEN_WEIGHTS (one process each)."""
    import numpy as np

    content, style = _images(size)
    engine = Engine(content, style, _vgg(), precision="float32")
    losses = [engine.step() for _ in range(3)]
    seconds = [_timed(engine.step)[0] for _ in range(steps)]
    return {"seconds": float(np.median(seconds)), "losses": losses}


def _shared_objective_runs(size: int, reference_steps: int, budget: int) -> dict:
    """Time to the loss the tutorial's step reaches in ``reference_steps``, on one objective.

    The shared objective J = 10·J_content(block4_conv2) + 40·Σ 0.2·J_style(block1..5_conv1)
    (the course's costs, VGG preprocessing). The tutorial's and the assignment's steps
    minimise it with their own code and optimizer settings; the engine with its own
    (uniform style weights so that it minimises the same J; precision auto). Each run
    stops when its J at full size falls to the threshold.
    """
    from nst_helpers.train import stylize

    content, style = _images(size)
    vgg = _vgg()
    results = {}
    tutorial = Tutorial(content, style, vgg, shared=True)
    started, cpu = time.perf_counter(), time.process_time()
    curve = [tutorial.step() for _ in range(reference_steps)]
    results["tutorial"] = {"seconds": time.perf_counter() - started,
                           "cpu": time.process_time() - cpu, "steps": reference_steps,
                           "work": reference_steps}  # fmt: skip
    threshold = min(curve)
    assignment = Assignment(content, style, vgg, shared=True)
    started, cpu = time.perf_counter(), time.process_time()
    for index in range(budget):
        if assignment.step() <= threshold:
            results["assignment"] = {"seconds": time.perf_counter() - started,
                                     "cpu": time.process_time() - cpu, "steps": index + 1,
                                     "work": index + 1}  # fmt: skip
            break
    else:
        results["assignment"] = {"reached": False, "steps": budget,
                                 "seconds": time.perf_counter() - started}  # fmt: skip
    variants = {
        "engine, 3 scales": {"scales": 3},
        "engine, 2 scales": {"scales": 2},
        "engine, 1 scale (default)": {"scales": 1},
        "engine, 1 scale, learning rate 0.02 (the earlier default)": {
            "scales": 1,
            "learning_rate": 0.02,
        },
        "engine, L-BFGS, 1 scale": {"scales": 1, "optimizer": "lbfgs"},
        "engine, L-BFGS, 3 scales": {"scales": 3, "optimizer": "lbfgs"},
    }
    for name, settings in variants.items():
        reached = {}
        clock = {}

        def stop(info, reached=reached, clock=clock):
            if info.scale == info.scale_count - 1 and info.losses["total"] <= threshold:
                reached.update(seconds=time.perf_counter() - clock["wall"],
                               cpu=time.process_time() - clock["cpu"], steps=info.step)  # fmt: skip
                raise KeyboardInterrupt

        steps = budget if settings["scales"] == 1 else 2 * budget
        clock.update(wall=time.perf_counter(), cpu=time.process_time())
        result = stylize(content, style, vgg=vgg, image_size=size, steps=steps,
                         style_layer_weighting="uniform", callbacks=[stop], progress=False,
                         **settings)  # fmt: skip
        work = result.history.work[reached["steps"] - 1] if reached else result.history.work[-1]
        results[name] = {"reached": bool(reached), "work": work, "precision": result.precision,
                         "final": result.history.total[-1], **reached}  # fmt: skip
        if not reached:
            results[name]["seconds"] = time.perf_counter() - clock["wall"]
    return {"threshold": threshold, "start": curve[0], "runs": results}


def quality(size: int, steps: int, figure: str | None) -> dict:
    """bfloat16 against float32: the same run's losses at checkpoints, and the pictures."""
    import numpy as np

    from nst_helpers.train import stylize

    content, style = _images(size)
    vgg = _vgg()
    runs = {precision: stylize(content, style, vgg=vgg, image_size=size, steps=steps, scales=1,
                               precision=precision, progress=False)
            for precision in ("float32", "bfloat16")}  # fmt: skip
    exact, low = (np.array(runs[p].history.total) for p in ("float32", "bfloat16"))
    checkpoints = sorted({0, steps // 4, steps // 2, 3 * steps // 4, steps - 1})
    difference = np.abs(runs["bfloat16"].image.numpy() - runs["float32"].image.numpy())
    if figure:
        from nst_helpers.images import save_image

        side_by_side = np.concatenate([runs["float32"].image.numpy()[0],
                                       np.ones((size, 8, 3), "float32"),
                                       runs["bfloat16"].image.numpy()[0]], axis=1)  # fmt: skip
        save_image(side_by_side[None], figure)
    return {"checkpoints": checkpoints, "float32": exact[checkpoints].tolist(),
            "bfloat16": low[checkpoints].tolist(),
            "ratio": (low[checkpoints] / exact[checkpoints]).tolist(),
            "pixel_mean_abs": float(difference.mean()),
            "pixel_max_abs": float(difference.max())}  # fmt: skip


def memory(size: int, which: str) -> dict:
    content, style = _images(size)
    vgg = _vgg()
    contender = {"engine": Engine, "tutorial": Tutorial}[which](content, style, vgg)
    for _ in range(3):
        contender.step()
    return {}


def _peak_memory_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(config: dict) -> None:
    kind = config.pop("kind")
    function = {"steps": per_step, "frozen": frozen_ab, "shared": _shared_objective_runs,
                "quality": quality, "memory": memory}[kind]  # fmt: skip
    output = function(**config)
    output["peak_memory_mb"] = _peak_memory_mb()
    print("RESULT " + json.dumps(output), flush=True)


def in_subprocess(config: dict, timeout: float = 3600, environment=None) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--worker", json.dumps(config)],
                               capture_output=True, text=True, timeout=timeout,
                               env={**os.environ, **(environment or {})})  # fmt: skip
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"worker {config} failed:\n{completed.stderr[-3000:]}")


# ---------------------------------------------------------------------------- report


class Report:
    """Prints lines and keeps them for the markdown page."""

    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The engine against its peers, in one run.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per contender")
    parser.add_argument("--reference-steps", type=int, default=100,
                        help="tutorial steps that set the shared threshold")  # fmt: skip
    parser.add_argument("--shared-size", type=int, default=256)
    parser.add_argument("--quality-steps", type=int, default=100)
    parser.add_argument("--memory-sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--markdown", help="also write the performance page here")
    parser.add_argument("--figure", help="save the float32 | bfloat16 pictures side by side")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few steps")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default: all of {SECTIONS})")  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if args.quick:
        args.sizes, args.steps, args.reference_steps, args.shared_size = [64, 96], 2, 10, 64
        args.quality_steps, args.memory_sizes = 8, [96]
    sections = set(args.only.split(","))
    if not sections <= set(SECTIONS):
        parser.error(f"--only takes sections from {SECTIONS}, got {args.only!r}")
    started = time.perf_counter()
    say = Report()
    facts = machine()
    flags = ", ".join(f"{flag} {'yes' if has else 'no'}" for flag, has in facts["flags"].items())
    say(f"machine: {facts['cpu']}; {facts['cores']} cores; flags: {flags}; GPUs: "
        f"{facts['gpus'] or 'none'}; TensorFlow {facts['tensorflow']}, Python {facts['python']}")  # fmt: skip
    say(f"load average at the start: {facts['load'][0]:.1f} (1 min), {facts['load'][1]:.1f} "
        "(5 min): ratios are measured in the same process; absolute seconds are not "
        "comparable across runs")  # fmt: skip
    say(f"precision auto: {facts['auto']} ({facts['auto_reason']})")
    say(f"weights: {os.environ.get('NST_VGG19_WEIGHTS')} (the arithmetic does not depend on them)")
    peaks = {"float32": matmul_peak("float32")}
    if facts["auto"] != "float32":
        peaks[facts["auto"]] = matmul_peak(facts["auto"])
    say("matmul peak (2048² and 4096², best of 5): " + ", ".join(
        f"{name} {rate['wall']:.0f} GFLOP/s of wall time, {rate['cpu']:.0f} GFLOP per CPU-second"
        for name, rate in peaks.items()))  # fmt: skip

    if "steps" in sections:
        say("\n## Seconds per step (median; contenders interleaved in one process)\n")
        say("| size | contender | precision | s/step (wall) | CPU s/step | engine faster by "
            "(median of pairs) | GFLOP | % of peak (wall) | % of peak (CPU) |")  # fmt: skip
        say("|---|---|---|---|---|---|---|---|---|")
        verdicts = []
        for size in args.sizes:
            timing = in_subprocess({"kind": "steps", "size": size, "steps": args.steps,
                                    "eager": size == args.sizes[0]})  # fmt: skip
            for name, row in timing["rows"].items():
                precision = timing["precision"] if name == "engine" else "float32"
                work = step_gflop(size, DEEPEST[name])
                peak = peaks.get(precision, peaks["float32"])
                if name == "tutorial":
                    verdicts.append((size, row["ratio"]))
                if name == "engine":
                    engine_cpu_fraction = work / row["cpu"] / peak["cpu"]
                say(f"| {size} | {name} | {precision} | {row['wall']:.3f} | {row['cpu']:.2f} | "
                    f"{row['ratio']:.2f}× | {work:.0f} | {100 * work / row['wall'] / peak['wall']:.0f}% "
                    f"| {100 * work / row['cpu'] / peak['cpu']:.0f}% |")  # fmt: skip
        say("\nGFLOP: convolutions forward and input gradient up to the deepest layer the "
            "contender uses (engine block5_conv1, tutorial block5_conv2, assignment block5_conv4)"
            " plus the Gram matrices; % of peak: that work per second against the matmul peak of"
            " the precision used. PyTorch's tutorial: not measured (torch is not a dependency).")  # fmt: skip

    if "frozen" in sections:
        say("\n## oneDNN frozen (blocked) weights, as `nst stylize` sets them\n")
        ab_size = args.sizes[0]
        rounds = {"0": [], "1": []}
        losses = {}
        for _ in range(2):
            for value in ("0", "1"):
                result = in_subprocess({"kind": "frozen", "size": ab_size, "steps": args.steps},
                                       environment={"TF_ONEDNN_ASSUME_FROZEN_WEIGHTS": value})  # fmt: skip
                rounds[value].append(result["seconds"])
                losses[value] = result["losses"]
        ratios = [off / on for off, on in zip(rounds["0"], rounds["1"], strict=True)]
        say(f"{ab_size} px, engine float32, alternating processes (not interleaved: the setting "
            f"is read once per process): off {rounds['0']} s, on {rounds['1']} s per step; "
            f"speed-up per round {', '.join(f'{r:.2f}×' for r in ratios)}; first losses "
            f"identical: {losses['0'] == losses['1']}")  # fmt: skip

    if "shared" in sections:
        say(f"\n## Time to a shared loss threshold ({args.shared_size} px, one objective)\n")
        shared = in_subprocess({"kind": "shared", "size": args.shared_size,
                                "reference_steps": args.reference_steps,
                                "budget": 3 * args.reference_steps})  # fmt: skip
        say(f"objective: 10·J_content(block4_conv2) + 40·Σ 0.2·J_style(block1..5_conv1), the "
            f"course's costs; threshold: the lowest loss of the tutorial's first "
            f"{args.reference_steps} steps ({shared['threshold']:.4g}; start {shared['start']:.4g})")  # fmt: skip
        say("\n| contender | reached | steps | work (full-size steps) | seconds (wall) | "
            "CPU s | tutorial's time ÷ this |")  # fmt: skip
        say("|---|---|---|---|---|---|---|")
        reference = shared["runs"]["tutorial"]
        for name, run in shared["runs"].items():
            reached = run.get("reached", True)
            seconds = run.get("seconds", float("nan"))
            speedup = f"{reference['seconds'] / seconds:.1f}×" if reached else "-"
            say(f"| {name} | {'yes' if reached else 'no'} | {run['steps'] if 'steps' in run else '-'}"
                f" | {run['work']:.1f} | {seconds:.1f} | {run.get('cpu', float('nan')):.0f} | "
                f"{speedup} |")  # fmt: skip

    if {"steps", "shared"} <= sections:
        say("\n## Against the targets of issue 10\n")
        low_precision = facts["auto"] != "float32"
        goal = 3.0 if low_precision else 1.0
        where = "with bf16 hardware" if low_precision else "on a CPU without bf16 hardware"
        for size, ratio in verdicts:
            say(f"- per step at {size} px, engine ({facts['auto']}) against the tutorial: "
                f"{ratio:.2f}× (target ≥{goal:.1f}× {where}): {'met' if ratio >= goal else 'NOT met'}")  # fmt: skip
        if not low_precision:
            say(f"- engine at {args.sizes[-1]} px: {100 * engine_cpu_fraction:.0f}% of the float32 "
                f"matmul peak per CPU-second (target ≥80%): "
                f"{'met' if engine_cpu_fraction >= 0.8 else 'NOT met'}")  # fmt: skip
        reached = [name for name, run in shared["runs"].items()
                   if name.startswith("engine") and run.get("reached", True)]  # fmt: skip
        fastest = min(reached, key=lambda name: shared["runs"][name]["seconds"], default=None)
        for name in dict.fromkeys(["engine, 1 scale (default)", fastest]):
            if name not in shared["runs"]:
                continue
            run = shared["runs"][name]
            speedup = reference["seconds"] / run["seconds"] if run.get("reached", True) else 0.0
            say(f"- time to the shared threshold, {name}: {speedup:.1f}× faster than the tutorial's "
                f"step (target ≥5×): {'met' if speedup >= 5 else 'NOT met'}")  # fmt: skip

    if "quality" in sections:
        say(
            f"\n## bfloat16's quality cost ({args.sizes[0]} px, {args.quality_steps} Adam steps, "
            "1 scale)\n"
        )
        q = in_subprocess({"kind": "quality", "size": args.sizes[0], "steps": args.quality_steps,
                           "figure": args.figure})  # fmt: skip
        say("| step | loss float32 | loss bfloat16 | ratio |")
        say("|---|---|---|---|")
        for step, exact, low, ratio in zip(q["checkpoints"], q["float32"], q["bfloat16"], q["ratio"],
                                           strict=True):  # fmt: skip
            say(f"| {step + 1} | {exact:.4g} | {low:.4g} | {ratio:.3f} |")
        say(f"\nfinal images: mean |difference| {q['pixel_mean_abs']:.4f}, max "
            f"{q['pixel_max_abs']:.3f} (pixels in [0, 1])")  # fmt: skip

    if "memory" in sections:
        say("\n## Peak memory (max RSS of a fresh process: TensorFlow, VGG19, 3 steps)\n")
        for size in args.memory_sizes:
            rows = []
            for which in ("engine", "tutorial") if size == args.memory_sizes[0] else ("engine",):
                result = in_subprocess({"kind": "memory", "size": size, "which": which})
                rows.append(f"{which} {result['peak_memory_mb']:.0f} MB")
            say(f"- {size} px: " + ", ".join(rows))
    end_load = os.getloadavg()
    say(f"\nbenchmark wall time: {time.perf_counter() - started:.0f} s; load average at the "
        f"end: {end_load[0]:.1f} (1 min)")  # fmt: skip
    if args.markdown:
        write_markdown(args.markdown, say.lines, facts)
    return 0


def write_markdown(path: str, lines: list[str], facts: dict) -> None:
    header = f"""# Performance

Generated by `python benchmarks/bench_train.py --markdown docs/performance.md` (do not edit
by hand: re-run it). Machine: **{facts["cpu"]}**, {facts["cores"]} cores, TensorFlow
{facts["tensorflow"]}. The contenders are faithful re-implementations of the steps users
would otherwise run (TensorFlow's tutorial, the classic assignment's TF2 step), on the
same VGG19; `benchmarks/bench_train.py`'s docstring says what each one does. Steps are
interleaved in one process, so ratios hold under load even when absolute seconds do not.

"""
    body = (
        "\n".join(lines)
        + """

## Reading these figures

- Seconds per step are medians of steps interleaved in one process: every contender sees
  the same load, so the ratios hold on a busy machine; absolute seconds do not.
- The shared-threshold runs are sequential (each runs until it reaches the threshold), so
  their seconds are exposed to changes of load during the run; the work column (in
  full-size steps; a step at half the size counts a quarter) does not depend on load.
- Loss trajectories depend on the weights: with the seeded stand-in, the time-to-threshold
  and coarse-to-fine rows are indicative only. Re-run with the ImageNet weights
  (`NST_VGG19_WEIGHTS=/path/to/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`).
- On a GPU machine the same command runs everything on the GPU (nothing pins a device);
  `precision auto` then follows the GPU's compute capability.
"""
    )
    from pathlib import Path

    Path(path).write_text(header + body + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
