"""The training engine on tiny images with the seeded stand-in VGG19 (fast, offline).

Expected values come from the engine's own recorded history and NumPy float64
references, never from TensorFlow's random streams.
"""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import train
from nst_helpers.train.callbacks import LossHistory, RecordFrames, SaveSnapshots, plot_history

# TensorFlow's rgb_to_yuv matrix, written out independently (float64).
RGB_TO_YUV = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.14714119, -0.28886916, 0.43601035],
        [0.61497538, -0.51496512, -0.10001026],
    ]
)


def run(pair, vgg, **options):
    settings = {"image_size": 48, "steps": 8, "scales": 1, "progress": False}
    settings.update(options)
    return train.stylize(pair[0], pair[1], vgg=vgg, **settings)


def test_adam_lowers_the_loss_and_keeps_pixels_in_range(pair, vgg):
    result = run(pair, vgg, steps=15)
    assert len(result.history) == result.steps_completed == 15
    assert result.history.total[-1] < 0.7 * result.history.total[0]
    for image in (result.image, result.best_image):
        values = image.numpy()
        assert values.shape == (1, 32, 48, 3)  # coffee is 3:2
        assert values.min() >= 0.0 and values.max() <= 1.0
    assert result.best_loss == pytest.approx(min(result.history.total), rel=1e-6)
    assert not result.interrupted and result.stop_reason is None
    assert "STAND-IN" in result.weights_label
    assert result.timings["seconds_per_step"] > 0


def test_targets_are_computed_once_per_scale(pair, vgg, monkeypatch):
    from nst_helpers.train import steps

    calls = []
    original = steps.compute_targets

    def counting(*args, **kwargs):
        calls.append(args[1].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(steps, "compute_targets", counting)
    result = run(pair, vgg, image_size=64, steps=6, scales=2)
    assert len(calls) == 2  # one per scale, not one per step
    assert [tuple(shape[1:3]) for shape in calls] == [(22, 32), (43, 64)]
    assert result.history.size == [(22, 32)] * 3 + [(43, 64)] * 3


class NanAfterCalls:
    """Wraps a feature extractor; its outputs become NaN after ``calls_ok`` calls."""

    def __init__(self, inner, calls_ok):
        self.inner = inner
        self.calls_ok = calls_ok
        self.calls = tf.Variable(0)

    def __call__(self, images):
        self.calls.assign_add(1)
        factor = tf.where(self.calls > self.calls_ok, float("nan"), 1.0)
        return {name: value * factor for name, value in self.inner(images).items()}


def test_non_finite_loss_stops_and_keeps_the_last_good_image(pair, vgg):
    from nst_helpers.vgg import make_feature_extractor

    options = train.StylizeOptions(image_size=48, steps=10, scales=1)
    inner = make_feature_extractor(options.layer_names(), vgg=vgg)
    # 1 call for the style layers' channel counts, 2 for the targets, then 3 good steps
    extractor = NanAfterCalls(inner, calls_ok=1 + 2 + 3)
    frames = RecordFrames(every=1)
    with pytest.warns(RuntimeWarning, match="loss became nan"):
        result = train.stylize(
            pair[0], pair[1], options, feature_extractor=extractor, callbacks=[frames],
            progress=False,
        )  # fmt: skip
    assert result.steps_completed == 4
    assert np.all(np.isfinite(result.history.total[:3])) and np.isnan(result.history.total[3])
    assert "last image whose loss was finite" in result.stop_reason
    # Step 3 measured the loss of the image after step 2: the last image with a finite loss.
    np.testing.assert_array_equal(result.image.numpy()[0], frames.frames[1])
    assert np.all(np.isfinite(result.image.numpy()))


def test_keyboard_interrupt_from_a_callback_returns_the_best_image(pair, vgg):
    frames = RecordFrames(every=1)

    def interrupt(info):
        if info.step == 5:
            raise KeyboardInterrupt

    result = run(pair, vgg, steps=20, callbacks=[frames, interrupt])
    assert result.interrupted and "interrupted after 5 steps" in result.stop_reason
    assert result.steps_completed == 5 and len(result.history) == 5
    best_step = int(np.argmin(result.history.total))  # loss of the image after step best_step
    assert best_step > 0
    np.testing.assert_array_equal(result.best_image.numpy()[0], frames.frames[best_step - 1])
    assert result.best_loss == pytest.approx(result.history.total[best_step], rel=1e-6)


def test_callbacks_save_snapshots_and_record_frames(pair, vgg, tmp_path):
    snapshots = SaveSnapshots(tmp_path / "snaps", every=4)
    frames = RecordFrames(every=3)
    seen = []
    run(pair, vgg, steps=10, callbacks=[snapshots, frames, seen.append])
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == [
        "step_00004.png", "step_00008.png", "step_00010.png",
    ]  # fmt: skip
    assert frames.steps == [3, 6, 9] and frames.frames[0].shape == (32, 48, 3)
    assert [info.step for info in seen] == list(range(1, 11))
    assert seen[-1].steps_total == 10 and set(seen[0].losses) == {"total", "content", "style", "tv"}


def test_callbacks_must_be_a_list_of_callables(pair, vgg):
    with pytest.raises(ValueError, match="list of callables"):
        run(pair, vgg, callbacks=RecordFrames(every=1))
    with pytest.raises(ValueError, match="list of callables"):
        run(pair, vgg, callbacks=["not callable"])


def test_callback_intervals_are_checked(tmp_path):
    with pytest.raises(ValueError, match="every"):
        SaveSnapshots(tmp_path, every=0)
    with pytest.raises(ValueError, match="every"):
        RecordFrames(every=1.5)


@pytest.mark.parametrize("scales", [2, [32, 48, 64]])
def test_multi_scale_output_has_the_requested_size(pair, vgg, scales):
    result = run(pair, vgg, image_size=64, steps=6, scales=scales)
    assert result.image.shape == (1, 43, 64, 3) and result.best_image.shape == (1, 43, 64, 3)
    assert result.history.size[-1] == (43, 64)
    assert len(set(result.history.scale)) == (2 if scales == 2 else 3)


def test_colour_preservation_keeps_the_contents_chroma(pair, vgg):
    result = run(pair, vgg, steps=6, preserve_color=True)
    content = tf.image.resize(pair[0], (32, 48), method="bicubic", antialias=True)
    content = np.clip(content.numpy()[0].astype(np.float64), 0, 1)
    output = result.image.numpy()[0].astype(np.float64)
    chroma_out = (output @ RGB_TO_YUV.T)[..., 1:]
    chroma_content = (content @ RGB_TO_YUV.T)[..., 1:]
    unclipped = np.all((output > 0.01) & (output < 0.99), axis=-1)
    assert unclipped.mean() > 0.5
    np.testing.assert_allclose(chroma_out[unclipped], chroma_content[unclipped], atol=2e-3)


def test_preserve_color_takes_luminance_from_the_stylised_image():
    random_state = np.random.RandomState(3)
    stylized = random_state.uniform(0.3, 0.7, (1, 6, 5, 3)).astype(np.float32)
    content = random_state.uniform(0.4, 0.6, (1, 6, 5, 3)).astype(np.float32)
    output = train.preserve_color(stylized, content).numpy().astype(np.float64)
    yuv_out = output[0] @ RGB_TO_YUV.T
    np.testing.assert_allclose(yuv_out[..., 0], stylized[0] @ RGB_TO_YUV[0], atol=1e-5)
    np.testing.assert_allclose(yuv_out[..., 1:], (content[0] @ RGB_TO_YUV.T)[..., 1:], atol=1e-5)


def test_lbfgs_lowers_the_loss(pair, vgg):
    result = run(pair, vgg, steps=10, optimizer="lbfgs")
    assert result.best_loss < 0.3 * result.history.total[0]
    values = result.image.numpy()
    assert values.min() >= 0.0 and values.max() <= 1.0


def test_lbfgs_solves_a_box_constrained_quadratic():
    from nst_helpers.train.lbfgs import Lbfgs, LineSearchFailed

    random_state = np.random.RandomState(0)
    target = random_state.uniform(-0.2, 1.2, (1, 4, 4, 3)).astype(np.float32)
    scales = random_state.uniform(1.0, 50.0, target.shape).astype(np.float32)

    def value_and_gradient(image):
        difference = image - target
        return {"total": tf.reduce_sum(scales * difference**2)}, 2.0 * scales * difference

    optimizer = Lbfgs(value_and_gradient, memory=5)
    image = tf.fill(target.shape, 0.5)
    losses, gradient = optimizer.evaluate(image)
    for _ in range(60):
        try:
            image, losses, gradient = optimizer.step(image, losses, gradient)
        except LineSearchFailed:
            break
    np.testing.assert_allclose(image.numpy(), np.clip(target, 0, 1), atol=1e-3)


def test_initial_images_use_numpy_seeds():
    content = tf.fill((1, 8, 8, 3), 0.5)
    noise_a = train.initial_image(content, "noise", 0.25, seed=1).numpy()
    expected = np.random.RandomState(1).uniform(0, 1, (1, 8, 8, 3)).astype(np.float32)
    np.testing.assert_array_equal(noise_a, expected)
    mix = train.initial_image(content, "mix", 0.1, seed=2).numpy()
    assert np.all(np.abs(mix - 0.5) <= 0.1 + 1e-6) and mix.std() > 0.01
    np.testing.assert_array_equal(train.initial_image(content, "content", 0.1, 0), content)


def test_shallow_weighting_follows_channel_counts():
    from nst_helpers.costs import STYLE_LAYERS
    from nst_helpers.train.plan import weighted_style_layers

    channels = dict(zip([name for name, _ in STYLE_LAYERS], [64, 128, 256, 512, 512], strict=True))
    weights = [w for _, w in weighted_style_layers(STYLE_LAYERS, channels, "shallow")]
    np.testing.assert_allclose(np.array(weights) / weights[-1], [64, 16, 4, 1, 1])
    assert sum(weights) == pytest.approx(1.0)
    assert weighted_style_layers(STYLE_LAYERS, channels, "uniform") == tuple(STYLE_LAYERS)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"init": "zeros"}, "init must be one of"),
        ({"image_size": 8}, "image_size must be a whole number from 32"),
        ({"steps": 0}, "steps must be"),
        ({"alpha": float("nan")}, "alpha must be a finite number"),
        ({"scales": [32, 40]}, "end at image_size"),
        ({"scales": 3, "steps": 2}, "fewer than the 3 scales"),
        ({"learning_rate": -1}, "learning_rate must be a finite number > 0"),
        ({"learning_rate": float("inf")}, "learning_rate must be a finite number > 0"),
        ({"precision": "half"}, "precision must be one of"),
        ({"style_layers": [("block1_conv1", -1.0)]}, "finite weight >= 0"),
        ({"jit_compile": "yes"}, "jit_compile must be"),
        ({"no_such_option": 1}, "unknown option"),
    ],
)
def test_bad_options_raise_value_error(overrides, message):
    from nst_helpers.train.options import make_options

    with pytest.raises(ValueError, match=message):
        make_options(**overrides)


def test_bad_images_raise_value_error(pair, vgg):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        train.stylize(pair[0] * 255.0, pair[1], vgg=vgg, image_size=48, steps=1, progress=False)
    thin = tf.fill((1, 4, 400, 3), 0.5)
    with pytest.raises(ValueError, match="short side"):
        train.stylize(thin, pair[1], vgg=vgg, image_size=64, steps=1, scales=1, progress=False)


def test_plot_history_draws_the_losses_and_scale_changes(pair, vgg):
    result = run(pair, vgg, image_size=64, steps=6, scales=2, tv_weight=1.0)
    figure = plot_history(result.history)
    axes = figure.axes[0]
    labels = [line.get_label() for line in axes.get_lines()]
    assert {"total", "content", "style", "tv"} <= set(labels)
    assert len(axes.get_lines()) == 5  # four curves and one scale marker
    with pytest.raises(ValueError, match="empty"):
        plot_history(LossHistory())


def test_progress_bar_shows_the_precision_work_and_relative_losses_on_stderr(pair, vgg, capsys):
    run(pair, vgg, image_size=64, steps=4, scales=2, progress=True, precision="float32")
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.replace("\r", "\n").splitlines()
    # 2 steps at 32x22 (704 px, 0.256 of 64x43's 2752) and 2 at 64x43: 2.5 full-size steps
    assert [line for line in lines if line.startswith("stylize: precision")] == [
        "stylize: precision float32 (asked for); 4 steps at 32x22 → 64x43 px = 3 full-size "
        "steps of work"
    ]
    assert "stylize [float32]" in captured.err and "100%" in captured.err
    assert "step 4/4 at 64x43" in captured.err and "% of start" in captured.err


def test_xla_compiled_step_computes_the_same_losses(pair, vgg):
    plain = run(pair, vgg, image_size=32, steps=3, jit_compile=False)
    compiled = run(pair, vgg, image_size=32, steps=3, jit_compile=True)
    # The first loss is of the same starting image; later ones also carry the steps' rounding.
    np.testing.assert_allclose(compiled.history.total[0], plain.history.total[0], rtol=2e-3)
    np.testing.assert_allclose(compiled.history.total, plain.history.total, rtol=2e-2)


def test_the_options_default_layers_are_the_courses():
    from nst_helpers import costs

    assert train.StylizeOptions().content_layer == costs.CONTENT_LAYER
    assert list(train.StylizeOptions().style_layers) == [
        (name, float(weight)) for name, weight in costs.STYLE_LAYERS
    ]


def test_importing_the_engine_and_its_options_loads_no_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, nst_helpers.train, nst_helpers.train.options, nst_helpers.train.plan; "
        "nst_helpers.train.make_options(steps=5); print('tensorflow' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.stdout.strip() == "False", completed.stderr[-2000:]
