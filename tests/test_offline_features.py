"""The offline feature network: seeded and deterministic, zero-mean filters, unit scaling,
VGG19's names, the selection and its one announcement, and a short run that transfers style.

Expected values come from NumPy (legacy ``RandomState`` inputs, float64 references written
here, independently of the module), never from TensorFlow's random streams.
"""

import hashlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import offline_features, samples, train, vgg
from nst_helpers.costs import CONTENT_LAYER, STYLE_LAYERS
from nst_helpers.images import load_image
from nst_helpers.offline_features import (
    COLOUR,
    STRUCTURE_NAMES,
    OfflineFeatureNetwork,
    draw_weights,
    pink_noise_image,
)
from tests.conftest import ROOT

NOTEBOOK_LAYERS = [f"block{block}_conv{index}" for block in range(1, 6) for index in (1, 2)]


@pytest.fixture(scope="module")
def network():
    return OfflineFeatureNetwork()


def fixed_image(height=20, width=14, seed=3):
    return np.random.RandomState(seed).rand(1, height, width, 3).astype(np.float32)


# ------------------------------------------------------------------ the weights


def test_every_structure_filter_has_zero_mean_per_colour_channel(network):
    """Mean-removed filters answer to edges, spots and lines, not to colour."""
    for name in STRUCTURE_NAMES:
        kernel = network.kernels[name].astype(np.float64)
        assert kernel.shape == (7, 7, 3, 96)
        sums = kernel.sum(axis=(0, 1))  # per colour channel and filter
        assert np.all(np.abs(sums) <= 1e-5 * np.abs(kernel).sum(axis=(0, 1)))
        # 32 filters each of 3, 5 and 7 px: their supports, centred in the 7x7 kernel.
        support = (np.abs(kernel).sum(axis=2) > 0).sum(axis=(0, 1))
        assert sorted(set(support.tolist())) == [9, 25, 49]
        assert [int((support == s).sum()) for s in (9, 25, 49)] == [32, 32, 32]


def test_a_flat_image_of_any_colour_gives_no_structure_response(network):
    extractor = network.feature_extractor(STRUCTURE_NAMES + [COLOUR])
    for colour in ([0.9, 0.1, 0.2], [0.2, 0.6, 0.9], [0.5, 0.5, 0.5]):
        flat = np.ones((1, 24, 20, 3), np.float32) * np.array(colour, np.float32)
        features = extractor(flat)
        for name in STRUCTURE_NAMES:
            assert float(tf.reduce_max(tf.abs(features[name]))) < 1e-4, name
        assert float(tf.reduce_max(features[COLOUR])) > 0.1  # colour is the colour layer's


def test_each_channel_has_unit_size_on_the_seeded_pink_noise(network):
    image = pink_noise_image()[None].astype(np.float32)
    features = network.feature_extractor(STRUCTURE_NAMES + [COLOUR])(image)
    for name, activation in features.items():
        root_mean_square = np.sqrt(np.mean(np.square(activation.numpy()[0]), axis=(0, 1)))
        np.testing.assert_allclose(root_mean_square, 1.0, atol=1e-3, err_msg=name)


def test_pink_noise_is_pink():
    """The scaling image has a 1/f amplitude spectrum: power falls ~4x per octave."""
    noise = (pink_noise_image(64)[..., 0] - offline_features.IMAGENET_MEAN_RGB[0]) / 0.25
    power = np.abs(np.fft.fft2(noise)) ** 2
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(64), np.fft.fftfreq(64), indexing="ij"))
    low = power[(radius > 0.05) & (radius < 0.1)].mean()
    high = power[(radius > 0.2) & (radius < 0.4)].mean()
    assert 8 < low / high < 40  # (0.3 / 0.075)^2 = 16 for exact 1/f


def test_weights_are_seeded_and_drawn_with_numpy():
    first, again, other = draw_weights(0), draw_weights(0), draw_weights(1)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
        assert not np.array_equal(first[name], other[name])
    # The first structure filter is the first 3x3x3 draw of RandomState(0), mean removed.
    raw = np.random.RandomState(0).standard_normal((3, 3, 3, 32))[..., 0]
    raw -= raw.mean(axis=(0, 1))
    kernel = first["structure1"][2:5, 2:5, :, 0].astype(np.float64)
    np.testing.assert_allclose(kernel / raw, (kernel / raw)[0, 0, 0], rtol=1e-5)


def test_bad_seed_is_refused():
    with pytest.raises(ValueError, match="seed must be a whole number"):
        draw_weights(-1)


# ------------------------------------------------------------------ the forward pass


def blur_and_halve(image):
    """An independent float64 reference: binomial blur, replicated borders, every 2nd pixel."""
    kernel = np.array([1, 4, 6, 4, 1], np.float64) / 16
    height, width, _ = image.shape
    out = np.zeros(((height + 1) // 2, (width + 1) // 2, 3))
    for row in range(out.shape[0]):
        for column in range(out.shape[1]):
            for i in range(5):
                for j in range(5):
                    source_row = min(max(2 * row + i - 2, 0), height - 1)
                    source_column = min(max(2 * column + j - 2, 0), width - 1)
                    out[row, column] += kernel[i] * kernel[j] * image[source_row, source_column]
    return out


def convolve_at(image, kernel, row, column):
    """The replicated-border convolution of ``image`` at one pixel, float64."""
    half = kernel.shape[0] // 2
    height, width, _ = image.shape
    total = np.zeros(kernel.shape[-1])
    for i in range(kernel.shape[0]):
        for j in range(kernel.shape[1]):
            source = image[min(max(row + i - half, 0), height - 1),
                           min(max(column + j - half, 0), width - 1)]  # fmt: skip
            total += source @ kernel[i, j]
    return total


def test_layers_match_an_independent_float64_reference(network):
    image = fixed_image(13, 11)
    features = network.feature_extractor(STRUCTURE_NAMES[:3] + [COLOUR])(image)
    level = (image[0].astype(np.float64) - np.array(offline_features.IMAGENET_MEAN_RGB)) / 0.25
    colour = np.maximum(level @ network.kernels[COLOUR][0, 0].astype(np.float64), 0.0)
    np.testing.assert_allclose(features[COLOUR].numpy()[0], colour, rtol=1e-4, atol=1e-4)
    for index, name in enumerate(STRUCTURE_NAMES[:3]):
        if index:
            level = blur_and_halve(level)
        actual = features[name].numpy()[0]
        assert actual.shape == (*level.shape[:2], 96)
        kernel = network.kernels[name].astype(np.float64)
        for row, column in [(0, 0), (level.shape[0] - 1, level.shape[1] - 1), (1, 2)]:
            expected = np.maximum(convolve_at(level, kernel, row, column), 0.0)
            bound = convolve_at(np.abs(level), np.abs(kernel), row, column)
            # A TF32 convolution's rounding bound (GPUs), ample for float32 on a CPU.
            assert np.all(np.abs(actual[row, column] - expected) <= 3 * 2.0**-11 * bound + 1e-4)


ACTIVATIONS_HASH = """
import hashlib, sys
import numpy as np
from nst_helpers.offline_features import OfflineFeatureNetwork
image = np.random.RandomState(3).rand(1, 40, 28, 3).astype(np.float32)
features = OfflineFeatureNetwork(seed=SEED).feature_extractor(NAMES)(image)
digest = hashlib.sha256()
for name in NAMES:
    digest.update(features[name].numpy().tobytes())
print(digest.hexdigest())
"""


def activations_hash(network, names):
    features = network.feature_extractor(names)(fixed_image(40, 28, seed=3))
    digest = hashlib.sha256()
    for name in names:
        digest.update(features[name].numpy().tobytes())
    return digest.hexdigest()


def test_same_seed_same_activations_to_the_last_bit_across_processes(network):
    names = [*STRUCTURE_NAMES, COLOUR]
    script = ACTIVATIONS_HASH.replace("SEED", "0").replace("NAMES", repr(names))
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    here = activations_hash(network, names)
    assert completed.stdout.strip().splitlines()[-1] == here
    assert activations_hash(OfflineFeatureNetwork(seed=1), names) != here


def test_answers_to_the_notebooks_vgg19_names_by_resolution(network):
    extractor = vgg.make_feature_extractor(NOTEBOOK_LAYERS + [CONTENT_LAYER], vgg=network)
    features = extractor(fixed_image(32, 48))
    for name in NOTEBOOK_LAYERS:
        block = int(name[5])
        channels = 128 if block == 1 else 96  # block 1: colour and structure side by side
        assert features[name].shape == (1, 32 // 2 ** (block - 1), 48 // 2 ** (block - 1), channels)
    np.testing.assert_array_equal(features["block3_conv1"], features["block3_conv2"])
    own = network.feature_extractor([COLOUR, "structure1"])(fixed_image(32, 48))
    np.testing.assert_array_equal(
        features["block1_conv1"], tf.concat([own[COLOUR], own["structure1"]], axis=-1)
    )
    assert extractor.is_stand_in and "not VGG19" in extractor.weights_label
    with pytest.raises(ValueError, match=r"unknown layer 'block6_conv1'.*block1_conv1"):
        network.feature_extractor(["block6_conv1"])
    with pytest.raises(ValueError, match="shape \\(1, H, W, 3\\)"):
        extractor(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="not a VGG19 model"):
        vgg.FeatureExtractor(network, ["block1_conv1"])


def test_gradients_flow_and_it_works_inside_tf_function(network):
    extractor = network.feature_extractor(["block1_conv1", "block5_conv1"])
    image = tf.Variable(fixed_image(24, 24))

    @tf.function
    def cost():
        with tf.GradientTape() as tape:
            features = extractor(image)
            total = sum(tf.reduce_mean(tf.square(value)) for value in features.values())
        return total, tape.gradient(total, image)

    total, gradient = cost()
    assert np.isfinite(float(total)) and float(tf.reduce_max(tf.abs(gradient))) > 0
    eager = sum(tf.reduce_mean(tf.square(v)) for v in extractor(image).values())
    np.testing.assert_allclose(float(total), float(eager), rtol=1e-5)


# ------------------------------------------------------------------ selection


def test_offline_is_chosen_explicitly_and_announces_itself_once(monkeypatch):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        network = vgg.load_vgg19("offline")
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1 and "offline features: not VGG19" in messages[0], messages
    assert isinstance(network, OfflineFeatureNetwork) and network.is_offline_features
    assert network.recommended_settings["beta"] > network.recommended_settings["alpha"]
    monkeypatch.setenv(vgg.WEIGHTS_ENV, "offline")
    assert vgg.resolve_weights(None) == vgg.OFFLINE
    with pytest.raises(vgg.WeightsNotFoundError):  # imagenet asked for: no fallback
        vgg.resolve_weights("imagenet", download=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        standin = vgg.load_vgg19("random")
    assert not standin.is_offline_features and standin.recommended_settings == {}


def test_the_weights_error_names_the_offline_features(monkeypatch, tmp_path):
    monkeypatch.delenv(vgg.WEIGHTS_ENV, raising=False)
    monkeypatch.setenv("NST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(vgg.WeightsNotFoundError, match="weights='offline'"):
        vgg.resolve_weights("imagenet", download=False)


# ------------------------------------------------------------------ the engine and nst stylize


@pytest.fixture(scope="module")
def cat_and_glass():
    content_path, style_path = samples.sample_pair("chelsea", "stained_glass")
    return load_image(content_path, max_size=64), load_image(style_path, max_size=128)


def test_the_engine_takes_the_recommended_settings_left_at_their_defaults(network, cat_and_glass):
    recommended = network.recommended_settings
    fast = {"image_size": 48, "steps": 2, "scales": 1, "progress": False}
    result = train.stylize(*cat_and_glass, vgg=network, **fast)
    for name, value in recommended.items():
        expected = tuple(value) if name == "style_layers" else value
        assert getattr(result.options, name) == expected, name
    assert "offline features" in result.weights_label
    mine = train.stylize(
        *cat_and_glass, vgg=network, alpha=3.0, content_layer="block3_conv1", **fast
    )
    assert mine.options.alpha == 3.0 and mine.options.content_layer == "block3_conv1"
    assert mine.options.beta == recommended["beta"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        standin = vgg.load_vgg19("random")
    classic = train.stylize(*cat_and_glass, vgg=standin, **fast)
    assert (classic.options.alpha, classic.options.beta) == (10.0, 40.0)
    assert classic.options.content_layer == CONTENT_LAYER
    assert list(classic.options.style_layers) == STYLE_LAYERS


def grey_and_blurred(image):
    kernel = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype(np.float32) / 256.0
    return tf.nn.conv2d(tf.image.rgb_to_grayscale(image), kernel[:, :, None, None], 1, "SAME")


def colour_distance(first, second):
    """How far apart two images' colour statistics are: |Δ mean| + |Δ spread| over R, G, B."""
    first, second = (np.asarray(x, np.float64).reshape(-1, 3) for x in (first, second))
    return float(
        np.abs(first.mean(0) - second.mean(0)).sum() + np.abs(first.std(0) - second.std(0)).sum()
    )


def test_a_short_run_takes_the_style_and_keeps_the_photo(network, cat_and_glass):
    """Measured on this run (chelsea, stained glass, 64 px, 60 steps): the style cost falls to
    ~5% of its start, SSIM of blurred grey images ~0.77 (the style image against the photo:
    ~0.1), colour distance to the style ~0.2 against the photo's ~0.73."""
    content, style = cat_and_glass
    result = train.stylize(content, style, vgg=network, image_size=64, steps=60, scales=1,
                           progress=False)  # fmt: skip
    history = result.history
    assert history.style[-1] < 0.15 * history.style[0]
    size = tuple(result.image.shape[1:3])
    photo, painting = (tf.image.resize(x, size, antialias=True) for x in (content, style))
    kept = float(tf.image.ssim(grey_and_blurred(result.image), grey_and_blurred(photo), 1.0)[0])
    painted_over = float(tf.image.ssim(grey_and_blurred(painting), grey_and_blurred(photo), 1.0)[0])
    assert kept > 0.6 and painted_over < 0.3, (kept, painted_over)
    assert colour_distance(result.image, style) < 0.5 * colour_distance(content, style)


def test_nst_stylize_demo_with_offline_weights_announces_it_once(tmp_path, capsys):
    from nst_helpers import cli

    output = tmp_path / "demo.png"
    argv = ["stylize", "--demo", "--weights", "offline", "--size", "48", "--steps", "3",
            "--scales", "1", "--quiet", "-o", str(output)]  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip() == str(output) and output.is_file()
    said = captured.err.lower().count("offline features") + sum(
        "offline features" in str(warning.message) for warning in caught
    )
    assert said == 1, (captured.err, [str(w.message) for w in caught])
