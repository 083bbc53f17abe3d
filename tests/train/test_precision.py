"""Precision: what "auto" chooses (flags injected), and the bfloat16/float16 paths.

The choice is tested on injected CPU flags and GPU descriptions, so both the AVX2 path
(this machine) and the bf16-hardware path are covered anywhere. The lower-precision runs
are tested on tiny images with the seeded stand-in: they run here even without bf16
hardware (oneDNN emulates it), compute the convolutions in bfloat16 and everything else
(Gram matrices, costs, optimizer state, image) in float32, and leave the process's
settings as they were, so a learner's own train_step stays float32.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import train
from nst_helpers.train.precision import (
    choose_precision,
    cpu_flags,
    explain_precision,
    resolve_precision,
    with_precision,
)

AVX2_ONLY = {"fpu", "sse2", "avx", "avx2", "fma"}
SAPPHIRE_RAPIDS = AVX2_ONLY | {"avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"}
ZEN4 = AVX2_ONLY | {"avx512f", "avx512_bf16"}
AVX512_WITHOUT_BF16 = AVX2_ONLY | {"avx512f", "avx512bw", "avx512_vnni"}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (AVX2_ONLY, "float32"),
        (AVX512_WITHOUT_BF16, "float32"),
        (SAPPHIRE_RAPIDS, "bfloat16"),
        (ZEN4, "bfloat16"),
        (AVX2_ONLY | {"amx_bf16"}, "bfloat16"),
        (set(), "float32"),
    ],
)
def test_auto_follows_the_cpu_flags(flags, expected):
    assert choose_precision(cpu_flags=flags, gpus=[]) == expected


@pytest.mark.parametrize(
    ("gpus", "expected"),
    [
        ([("NVIDIA A100-SXM4-40GB", (8, 0))], "bfloat16"),
        ([("NVIDIA H100", (9, 0))], "bfloat16"),
        ([("Tesla V100-SXM2-16GB", (7, 0))], "float16"),
        ([("Tesla T4", (7, 5))], "float16"),
        ([("Tesla K80", (3, 7))], "float32"),
        ([("unknown GPU", None)], "float32"),
    ],
)
def test_auto_on_gpus_follows_the_compute_capability_not_the_cpu(gpus, expected):
    assert choose_precision(cpu_flags=SAPPHIRE_RAPIDS, gpus=gpus) == expected
    assert choose_precision(cpu_flags=AVX2_ONLY, gpus=gpus) == expected


def test_the_reason_names_what_was_found():
    assert explain_precision(SAPPHIRE_RAPIDS, [])[1] == "CPU with amx_bf16 and avx512_bf16"
    assert "no amx_bf16 or avx512_bf16" in explain_precision(AVX2_ONLY, [])[1]
    assert resolve_precision("auto", cpu_flags=ZEN4, gpus=[]) == (
        "bfloat16",
        "auto: CPU with avx512_bf16",
    )
    assert resolve_precision("float16") == ("float16", "asked for")
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp8")


def test_cpu_flags_reads_a_cpuinfo_file(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 amx_bf16 avx512_bf16\n\n"
        "processor\t: 1\nflags\t\t: fpu avx2 amx_bf16 avx512_bf16\n"
    )
    assert cpu_flags(cpuinfo) == frozenset({"fpu", "avx2", "amx_bf16", "avx512_bf16"})
    assert choose_precision(cpu_flags(cpuinfo), gpus=[]) == "bfloat16"
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_auto_on_this_machine_agrees_with_its_flags():
    text = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    has_bf16 = " amx_bf16" in text or " avx512_bf16" in text
    assert choose_precision(gpus=[]) == ("bfloat16" if has_bf16 else "float32")


def test_with_precision_computes_in_bfloat16_and_returns_float32(vgg):
    from nst_helpers.vgg import make_feature_extractor

    names = ["block1_conv1", "block3_conv1", "block4_conv2"]
    extractor = make_feature_extractor(names, vgg=vgg)
    low = with_precision(extractor, "bfloat16")
    assert with_precision(extractor, "float32") is extractor
    conv = low.model.get_layer("block1_conv1")
    assert conv.kernel.dtype == "bfloat16" and conv.compute_dtype == "bfloat16"
    assert extractor.model.get_layer("block1_conv1").kernel.dtype == "float32"  # untouched
    image = np.random.RandomState(0).uniform(0, 1, (1, 32, 32, 3)).astype(np.float32)
    exact, rounded = extractor(image), low(image)
    for name in names:
        assert rounded[name].dtype == tf.float32
        scale = float(tf.reduce_max(tf.abs(exact[name])))
        error = float(tf.reduce_max(tf.abs(exact[name] - rounded[name])))
        # bfloat16 keeps 8 significant bits (2^-8 relative); errors add up over the layers
        assert 0 < error < 0.05 * scale, (name, error, scale)
    with pytest.raises(ValueError, match=r"\.model"):
        with_precision(lambda images: {}, "bfloat16")
    with pytest.raises(ValueError, match="precision must be one of"):
        with_precision(extractor, "auto")


def test_a_bfloat16_run_tracks_float32_and_keeps_costs_and_state_float32(pair, vgg):
    settings = {"image_size": 48, "steps": 12, "scales": 1, "progress": False, "vgg": vgg}
    exact = train.stylize(*pair, precision="float32", **settings)
    low = train.stylize(*pair, precision="bfloat16", **settings)
    assert (low.precision, low.precision_reason) == ("bfloat16", "asked for")
    assert exact.precision == "float32"
    totals_exact, totals_low = np.array(exact.history.total), np.array(low.history.total)
    assert totals_low[-1] < 0.7 * totals_low[0]  # it optimises
    # The loss curves: same start (within bfloat16 rounding), and they stay together.
    np.testing.assert_allclose(totals_low, totals_exact, rtol=0.05)
    assert low.image.dtype == tf.float32


def test_the_bfloat16_step_graph_runs_convolutions_in_bfloat16_and_the_rest_in_float32(vgg):
    from nst_helpers.train.options import StylizeOptions
    from nst_helpers.train.steps import AdamRun, compute_targets, make_loss_function
    from nst_helpers.vgg import make_feature_extractor

    layers = [("block1_conv1", 0.5), ("block2_conv1", 0.5)]
    names = ["block2_conv2"] + [name for name, _ in layers]
    extractor = with_precision(make_feature_extractor(names, vgg=vgg), "bfloat16")
    random_state = np.random.RandomState(0)
    content = tf.constant(random_state.rand(1, 16, 16, 3).astype(np.float32))
    style = tf.constant(random_state.rand(1, 16, 16, 3).astype(np.float32))
    targets = compute_targets(extractor, content, style, "block2_conv2", [n for n, _ in layers])
    assert all(gram.dtype == tf.float32 for gram in targets.grams.values())
    loss_function = make_loss_function(extractor, "block2_conv2", layers, 10.0, 40.0, 1.0)
    run = AdamRun(content, targets, loss_function, StylizeOptions(), False, "bfloat16")
    losses = run.step()
    assert all(np.isfinite(value) for value in losses.values())
    graph = run.compiled_step.get_concrete_function(
        run.image, run.best, run.best_loss, run.last_good, run.targets
    ).graph
    operations = graph.get_operations()
    convolutions = [op for op in operations if op.type.startswith("Conv2D")]
    assert convolutions and all(op.outputs[0].dtype == tf.bfloat16 for op in convolutions)
    products = [op for op in operations if op.type in ("MatMul", "BatchMatMulV2")]
    assert products and all(op.outputs[0].dtype == tf.float32 for op in products)  # Grams
    assert all(value.dtype == tf.float32 for value in graph.structured_outputs.values())
    assert run.image.dtype == tf.float32
    moments = [v for v in run.optimizer.variables if tuple(v.shape) == tuple(run.image.shape)]
    assert len(moments) == 2 and all(variable.dtype == "float32" for variable in moments)


def test_float16_uses_loss_scaling_and_optimises(pair, vgg):
    import keras

    result = train.stylize(
        *pair, vgg=vgg, image_size=48, steps=8, scales=1, progress=False, precision="float16"
    )
    assert result.precision == "float16"
    assert np.all(np.isfinite(result.history.total))
    assert result.history.total[-1] < result.history.total[0]
    from nst_helpers.train.options import StylizeOptions
    from nst_helpers.train.steps import _make_adam_step, float16_loss_scale

    optimizer, _ = _make_adam_step(lambda image, targets: {}, 0.02, False, loss_scale=2.0**-10)
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    assert float16_loss_scale(2.0**20) == 2.0**-12 and float16_loss_scale(1.0) == 2.0**8
    assert float16_loss_scale(float("nan")) == 1.0 and float16_loss_scale(0.0) == 1.0
    assert StylizeOptions().precision == "auto"


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_lbfgs_in_lower_precision_lowers_the_loss(pair, vgg, precision):
    result = train.stylize(
        *pair, vgg=vgg, image_size=48, steps=5, scales=1, progress=False,
        precision=precision, optimizer="lbfgs",
    )  # fmt: skip
    assert result.best_loss < 0.9 * result.history.total[0]


def test_a_lower_precision_run_changes_nothing_process_wide(pair, vgg):
    """The learner's own train_step stays float32 after the engine ran in bfloat16."""
    import keras

    from nst_helpers.reference_step import train_step
    from nst_helpers.vgg import make_feature_extractor

    grappler_before = tf.config.optimizer.get_experimental_options()
    environment_before = dict(os.environ)
    train.stylize(
        *pair, vgg=vgg, image_size=32, steps=2, scales=1, progress=False, precision="bfloat16"
    )
    assert keras.config.dtype_policy().name == "float32"
    assert tf.config.optimizer.get_experimental_options() == grappler_before
    assert "auto_mixed_precision_onednn_bfloat16" not in grappler_before
    assert dict(os.environ) == environment_before
    names = ["block1_conv1", "block2_conv1"]
    extractor = make_feature_extractor(names, vgg=vgg)
    image = tf.Variable(tf.fill((1, 16, 16, 3), 0.5))
    targets = extractor(tf.fill((1, 16, 16, 3), 0.25))
    optimizer = keras.optimizers.Adam(0.02)
    optimizer.build([image])
    step = tf.function(train_step)
    arguments = (image, extractor, targets, targets, optimizer, "block2_conv1", [(names[0], 1.0)])
    step(*arguments)
    graph = step.get_concrete_function(*arguments).graph
    dtypes = {output.dtype for op in graph.get_operations() for output in op.outputs}
    assert tf.float32 in dtypes and tf.bfloat16 not in dtypes and tf.float16 not in dtypes


def test_auto_keeps_a_custom_extractor_as_it_is_and_an_explicit_request_is_refused(pair, vgg):
    from nst_helpers.vgg import make_feature_extractor

    inner = make_feature_extractor(train.StylizeOptions().layer_names(), vgg=vgg)

    def custom(images):
        return inner(images)

    result = train.stylize(
        *pair, feature_extractor=custom, image_size=32, steps=1, scales=1, progress=False
    )
    assert result.precision == "float32"
    with pytest.raises(ValueError, match="Keras-based feature extractor"):
        train.stylize(
            *pair, feature_extractor=custom, image_size=32, steps=1, scales=1, progress=False,
            precision="bfloat16",
        )  # fmt: skip


def test_auto_on_a_machine_with_bf16_hardware_runs_in_bfloat16(pair, vgg, monkeypatch):
    """The bf16-hardware path end to end, on any machine: the flags are injected."""
    monkeypatch.setattr(
        train, "resolve_precision", lambda requested: resolve_precision(
            requested, cpu_flags=SAPPHIRE_RAPIDS, gpus=[])
    )  # fmt: skip
    result = train.stylize(*pair, vgg=vgg, image_size=32, steps=3, scales=1, progress=False)
    assert result.precision == "bfloat16"
    assert result.precision_reason == "auto: CPU with amx_bf16 and avx512_bf16"
    assert result.plan.precision == "bfloat16" and result.image.dtype == tf.float32


def test_auto_falls_back_to_float32_when_the_network_cannot_be_lowered(pair, vgg, monkeypatch):
    monkeypatch.setattr(
        train, "resolve_precision", lambda requested: resolve_precision(
            requested, cpu_flags=SAPPHIRE_RAPIDS, gpus=[])
    )  # fmt: skip

    def refuse(extractor, precision):
        raise TypeError("custom layer cannot be cloned")

    monkeypatch.setattr(train, "with_precision", refuse)
    result = train.stylize(*pair, vgg=vgg, image_size=32, steps=1, scales=1, progress=False)
    assert result.precision == "float32" and "cannot be cloned" in result.precision_reason
    with pytest.raises(ValueError, match="cannot be cloned"):
        train.stylize(
            *pair, vgg=vgg, image_size=32, steps=1, scales=1, progress=False,
            precision="bfloat16",
        )  # fmt: skip
