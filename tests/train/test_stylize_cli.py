"""``nst stylize``: success, each user error as one line with a non-zero exit, Ctrl-C."""

import os
import subprocess
import sys

import pytest
from PIL import Image

from nst_helpers import cli, samples

FAST = ["--weights", "random", "--size", "48", "--steps", "4", "--scales", "1"]


def run_cli(argv, capsys):
    code = cli.main(["stylize", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, out, err, fragment):
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("nst stylize: error: ") and fragment in lines[0], lines[0]


@pytest.fixture
def images():
    return [str(path) for path in samples.sample_pair("chelsea", "waves")]


def test_stylize_writes_the_image_and_prints_its_path(images, tmp_path, capsys):
    output = tmp_path / "out.png"
    code, out, err = run_cli([*images, "-o", str(output), *FAST, "--save-every", "2"], capsys)
    assert code == 0, err
    assert out.strip() == str(output)
    with Image.open(output) as picture:
        assert picture.size == (48, 32)
    snapshots = sorted(p.name for p in (tmp_path / "out_snapshots").iterdir())
    assert snapshots == ["step_00002.png", "step_00004.png"]
    assert "OFFLINE STAND-IN" in err and "4 steps" in err


def test_missing_content_file(images, tmp_path, capsys):
    missing = str(tmp_path / "nope.jpg")
    result = run_cli([missing, images[1], "-o", str(tmp_path / "o.png"), *FAST], capsys)
    assert_one_line_error(*result, "nope.jpg: no such file")


def test_bad_image_file(images, tmp_path, capsys):
    fake = tmp_path / "fake.png"
    fake.write_text("this is not a picture\n")
    result = run_cli([images[0], str(fake), "-o", str(tmp_path / "o.png"), *FAST], capsys)
    assert_one_line_error(*result, "not an image file")


@pytest.mark.parametrize("size", ["8", "100000", "0"])
def test_impossible_size(images, tmp_path, capsys, size):
    argv = [*images, "-o", str(tmp_path / "o.png"), "--weights", "random", "--size", size]
    assert_one_line_error(*run_cli(argv, capsys), "image_size must be a whole number")


def test_missing_weights_file(images, tmp_path, capsys):
    argv = [*images, "-o", str(tmp_path / "o.png"), "--weights", str(tmp_path / "w.h5")]
    assert_one_line_error(*run_cli(argv, capsys), "does not exist")


def test_corrupt_weights_file(images, tmp_path, capsys):
    broken = tmp_path / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    argv = [*images, "-o", str(tmp_path / "o.png"), "--weights", str(broken)]
    assert_one_line_error(*run_cli(argv, capsys), "nst fetch weights")


def test_imagenet_weights_missing_offline(images, tmp_path, capsys, monkeypatch):
    import keras

    def offline(*args, **kwargs):
        print("Downloading data from https://example.invalid/weights.h5")  # as Keras does
        raise OSError("no network (simulated)")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("NST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NST_VGG19_WEIGHTS")
    argv = [*images, "-o", str(tmp_path / "o.png"), "--weights", "imagenet", "--size", "48"]
    code, out, err = run_cli(argv, capsys)
    # Keras' own download notice goes to stderr: stdout is only for the result's path.
    assert code == 2 and out == "" and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("nst stylize: error: ")]
    assert len(errors) == 1 and "run `nst fetch weights`" in errors[0]
    assert err.splitlines()[0].startswith("Downloading data from")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["only_one.jpg"], "give CONTENT and STYLE"),
        (["a.jpg", "b.jpg"], "-o OUT.png"),
        (["--demo", "-o", "out.gifx"], "unknown image extension"),
        (["--demo", "a.jpg"], "--demo uses the bundled images"),
        (["--demo", "--steps", "1", "--scales", "3"], "fewer than the 3 scales"),
        (["--demo", "--save-every", "0"], "--save-every"),
    ],
)
def test_usage_errors(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(*run_cli(argv, capsys), fragment)


def test_interrupt_saves_the_best_image_and_exits_130(images, tmp_path, capsys, monkeypatch):
    from nst_helpers import train

    real_stylize = train.stylize

    def interrupting(*args, callbacks=(), **kwargs):
        def stop(info):
            if info.step == 2:
                raise KeyboardInterrupt

        return real_stylize(*args, callbacks=[*callbacks, stop], **kwargs)

    monkeypatch.setattr(train, "stylize", interrupting)
    output = tmp_path / "partial.jpg"
    code, out, err = run_cli([*images, "-o", str(output), *FAST], capsys)
    assert code == 130
    assert out.strip() == str(output) and output.is_file()
    assert "interrupted after 2 steps" in err


def test_demo_runs_as_a_real_command(tmp_path):
    output = tmp_path / "demo.png"
    environment = dict(os.environ, NST_VGG19_WEIGHTS="random")
    completed = subprocess.run(
        [sys.executable, "-m", "nst_helpers.cli", "stylize", "--demo", "--weights", "random",
         "--size", "64", "--steps", "4", "--quiet", "-o", str(output)],
        capture_output=True, text=True, env=environment, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == str(output)
    with Image.open(output) as picture:
        assert max(picture.size) == 64


def test_non_finite_loss_saves_the_last_good_image_and_exits_1(
    images, tmp_path, capsys, monkeypatch
):
    import tensorflow as tf

    from nst_helpers import train
    from nst_helpers.vgg import make_feature_extractor

    real_stylize = train.stylize

    def with_nan_features(content, style, options, *, vgg, **kwargs):
        inner = make_feature_extractor(options.layer_names(), vgg=vgg)
        calls = tf.Variable(0)

        def extractor(image):  # NaN from the 6th call (channel probe, 2 targets, 2 steps)
            calls.assign_add(1)
            factor = tf.where(calls > 5, float("nan"), 1.0)
            return {name: value * factor for name, value in inner(image).items()}

        return real_stylize(content, style, options, feature_extractor=extractor, **kwargs)

    monkeypatch.setattr(train, "stylize", with_nan_features)
    output = tmp_path / "nan.png"
    code, out, err = run_cli([*images, "-o", str(output), *FAST], capsys)
    assert code == 1 and out.strip() == str(output) and output.is_file()
    errors = [line for line in err.splitlines() if line.startswith("nst stylize: error: ")]
    assert len(errors) == 1 and "the loss became nan at step 3" in errors[0]


def test_help_takes_groups_defaults_and_help_from_the_options(capsys):
    from nst_helpers.commands.stylize import GROUP_TITLES, _shown
    from nst_helpers.train.options import option_fields

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["stylize", "--help"])
    assert exit_info.value.code == 0
    text = "".join(capsys.readouterr().out.split())  # argparse wraps lines where it likes
    for title in GROUP_TITLES.values():
        assert "".join(title.split()) + ":" in text
    flagged = [field for field in option_fields() if field.metadata["flag"]]
    assert len(flagged) >= 17
    for field in flagged:
        assert field.metadata["flag"] in text
        assert (
            "".join(f"{field.metadata['help']} (default: {_shown(field.default)})".split()) in text
        )


def test_every_option_reaches_the_engine(monkeypatch, images, tmp_path, capsys):
    from nst_helpers import train

    seen = {}

    def recording(content, style, options, **kwargs):
        seen["options"] = options
        raise KeyboardInterrupt  # stop before any work

    monkeypatch.setattr(train, "stylize", recording)
    argv = [*images, "-o", str(tmp_path / "o.png"), "--weights", "random", "--size", "64",
            "--steps", "7", "--precision", "float32", "--scales", "32,64", "--optimizer",
            "lbfgs", "--lbfgs-memory", "4", "--init", "mix", "--noise-amount", "0.1", "--seed",
            "3", "--no-xla", "--alpha", "2", "--beta", "3", "--tv-weight", "0.5",
            "--content-layer", "block3_conv1", "--style-layers", "block1_conv1:0.5,block2_conv1:1",
            "--style-weighting", "uniform", "--preserve-color", "--learning-rate", "0.1"]  # fmt: skip
    assert cli.main(["stylize", *argv]) == 130  # the command's answer to Ctrl-C
    options = seen["options"]
    assert (options.image_size, options.steps, options.precision) == (64, 7, "float32")
    assert options.scales == [32, 64] and options.optimizer == "lbfgs"
    assert (options.lbfgs_memory, options.init, options.noise_amount, options.seed) == (
        4, "mix", 0.1, 3,
    )  # fmt: skip
    assert options.jit_compile is False and (options.alpha, options.beta) == (2.0, 3.0)
    assert options.tv_weight == 0.5 and options.content_layer == "block3_conv1"
    assert options.style_layers == (("block1_conv1", 0.5), ("block2_conv1", 1.0))
    assert options.style_layer_weighting == "uniform" and options.preserve_color
    assert options.learning_rate == 0.1


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--demo", "--style-layers", "block1_conv1"], "is not layer:weight"),
        (["--demo", "--style-layers", "block1_conv1:x"], "is not layer:weight"),
        (["--demo", "--precision", "half"], "invalid choice"),
    ],
)
def test_bad_flag_values_are_usage_errors(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["stylize", *argv])
    assert exit_info.value.code == 2 and fragment in capsys.readouterr().err


def test_inputs_and_options_are_checked_before_tensorflow_loads(tmp_path):
    """A typo costs no TensorFlow import; a fresh `nst stylize` process sets frozen weights."""
    code = (
        "import os, sys\n"
        "from nst_helpers import cli\n"
        "status = cli.main(sys.argv[1:])\n"
        "print(status, 'tensorflow' in sys.modules, "
        "os.environ.get('TF_ONEDNN_ASSUME_FROZEN_WEIGHTS'))\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS"}
    style = str(samples.sample_pair("chelsea", "waves")[1])
    for argv in (
        ["stylize", str(tmp_path / "missing.jpg"), style, "-o", str(tmp_path / "o.png")],
        ["stylize", "--demo", "--size", "8"],
        ["stylize", "--demo", "--steps", "2", "--scales", "3"],
    ):
        completed = subprocess.run(
            [sys.executable, "-c", code, *argv], capture_output=True, text=True,
            env=environment, cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert completed.stdout.split() == ["2", "False", "None"], completed.stderr[-2000:]
        assert completed.stderr.startswith("nst stylize: error: ")
    # A good command line in the `nst` process itself: frozen weights are set before
    # TensorFlow loads where they were measured faster (AVX-512 CPUs); a call of
    # cli.main([...]) from Python (below) sets nothing.
    check = (
        "import os, sys\n"
        "from nst_helpers import cli\n"
        "from nst_helpers.commands import stylize\n"
        "stylize.run = lambda args: print(os.environ.get('TF_ONEDNN_ASSUME_FROZEN_WEIGHTS'))\n"
        "sys.exit(cli.main())\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", check, "stylize", "--demo"], capture_output=True, text=True,
        env=environment, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    from nst_helpers.commands.stylize import frozen_weights_help
    from nst_helpers.train.precision import cpu_flags

    expected = "1" if frozen_weights_help(cpu_flags()) else "None"
    assert completed.stdout.split() == [expected], completed.stderr[-2000:]
    assert frozen_weights_help({"avx2", "avx512f", "amx_bf16"})
    assert not frozen_weights_help({"avx2", "fma"})


def test_a_library_call_of_the_command_sets_no_process_wide_setting(images, tmp_path, capsys):
    """In a process that already runs TensorFlow (a notebook, pytest), nothing is switched on."""
    before = os.environ.get("TF_ONEDNN_ASSUME_FROZEN_WEIGHTS")
    code, out, err = run_cli([*images, "-o", str(tmp_path / "o.png"), *FAST], capsys)
    assert code == 0, err
    assert os.environ.get("TF_ONEDNN_ASSUME_FROZEN_WEIGHTS") == before
