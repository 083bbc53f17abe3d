"""VGG19 weights resolution and loading, the offline stand-in, and the feature extractor.

The real ImageNet file cannot be downloaded here, so these tests build files of the same
HDF5 layout as the published no-top weights (`layer_names` on the root, a group per layer
with `weight_names` and its datasets), filled from NumPy's RandomState.
"""

import hashlib
import warnings

import h5py
import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import vgg
from nst_helpers.vgg import (
    VGG19_CONV_LAYERS,
    WeightsFileError,
    WeightsNotFoundError,
    load_vgg19,
    make_feature_extractor,
    preprocess,
    resolve_weights,
)

CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
POOLS = [f"block{block}_pool" for block in range(1, 6)]


def conv_shapes():
    shapes, channels_in = {}, 3
    for name in VGG19_CONV_LAYERS:
        channels_out = CHANNELS[int(name[5])]
        shapes[name] = ((3, 3, channels_in, channels_out), (channels_out,))
        channels_in = channels_out
    return shapes


def write_notop_h5(path, seed=0, with_top=False):
    """Write a file laid out like vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5."""
    random_state = np.random.RandomState(seed)
    values = {}
    layer_names = ["input_1"]
    for name in VGG19_CONV_LAYERS:
        layer_names.append(name)
        if name.endswith("conv2") and name[5] in "12" or name.endswith("conv4"):
            layer_names.append(f"block{name[5]}_pool")
    extra = [("fc1", (8, 4)), ("fc2", (4, 4)), ("predictions", (4, 2))] if with_top else []
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = np.array(
            [n.encode() for n in layer_names + [e[0] for e in extra]]
        )
        for name in layer_names:
            group = handle.create_group(name)
            if name in VGG19_CONV_LAYERS:
                kernel_shape, bias_shape = conv_shapes()[name]
                kernel = (random_state.randn(*kernel_shape) * 0.05).astype(np.float32)
                bias = (random_state.randn(*bias_shape) * 0.1).astype(np.float32)
                weight_names = [f"{name}_W_1:0", f"{name}_b_1:0"]
                group.attrs["weight_names"] = np.array([w.encode() for w in weight_names])
                group.create_dataset(weight_names[0], data=kernel)
                group.create_dataset(weight_names[1], data=bias)
                values[name] = (kernel, bias)
            else:
                group.attrs["weight_names"] = np.array([], dtype="S1")
        for name, shape in extra:
            group = handle.create_group(name)
            group.attrs["weight_names"] = np.array(
                [f"{name}_W_1:0".encode(), f"{name}_b_1:0".encode()]
            )
            group.create_dataset(f"{name}_W_1:0", data=np.zeros(shape, np.float32))
            group.create_dataset(f"{name}_b_1:0", data=np.zeros(shape[1:], np.float32))
    return values


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / vgg.WEIGHTS_FILE_NAME
    return path, write_notop_h5(path, seed=3)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No env var, an empty data folder and an empty Keras cache; downloads go nowhere."""
    monkeypatch.delenv(vgg.WEIGHTS_ENV, raising=False)
    monkeypatch.setenv("NST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(vgg, "WEIGHTS_URL", "http://127.0.0.1:9/vgg19.h5")  # a closed port
    return tmp_path


def test_loads_the_published_hdf5_layout(weights_file):
    path, values = weights_file
    model = load_vgg19(path)
    for name in VGG19_CONV_LAYERS:
        kernel, bias = model.get_layer(name).get_weights()
        np.testing.assert_array_equal(kernel, values[name][0])
        np.testing.assert_array_equal(bias, values[name][1])
    assert not model.is_stand_in and str(path) in model.weights_label


def test_first_layer_activation_matches_numpy(weights_file):
    """Preprocessing and weights, checked against an independent float64 convolution."""
    path, values = weights_file
    extractor = make_feature_extractor(["block1_conv1"], weights=path)
    image = np.random.RandomState(4).rand(1, 6, 5, 3).astype(np.float32)
    actual = extractor(image)["block1_conv1"].numpy()[0]
    bgr = image[0, :, :, ::-1].astype(np.float64) * 255.0 - np.array(vgg.IMAGENET_MEAN_BGR)
    padded = np.pad(bgr, ((1, 1), (1, 1), (0, 0)))
    kernel, bias = (v.astype(np.float64) for v in values["block1_conv1"])
    expected, bound = np.zeros((6, 5, 64)), np.zeros((6, 5, 64))
    for row in range(6):
        for column in range(5):
            patch = padded[row : row + 3, column : column + 3, :]
            expected[row, column] = np.tensordot(patch, kernel, axes=3) + bias
            bound[row, column] = np.tensordot(np.abs(patch), np.abs(kernel), axes=3)
    # The rounding bound of a TF32 convolution (GPUs), ample for float32 on a CPU.
    tolerance = 3 * 2.0**-11 * bound + 1e-4
    assert np.all(np.abs(actual - np.maximum(expected, 0.0)) <= tolerance)


def test_preprocess_matches_keras():
    from keras.applications.vgg19 import preprocess_input

    image = np.random.RandomState(5).rand(1, 4, 4, 3).astype(np.float32)
    expected = preprocess_input(image.copy() * 255.0)
    np.testing.assert_allclose(
        preprocess(image).numpy(), np.asarray(expected), rtol=1e-5, atol=1e-4
    )


def test_extractor_stops_at_the_deepest_requested_layer():
    extractor = make_feature_extractor(["block2_conv1", "block1_conv1"], weights="random")
    names = [layer.name for layer in extractor.model.layers]
    assert names[-1] == "block2_conv1" and "block3_conv1" not in names
    outputs = extractor(np.zeros((1, 16, 12, 3), np.float32))
    assert list(outputs) == ["block2_conv1", "block1_conv1"]
    assert outputs["block1_conv1"].shape == (1, 16, 12, 64)
    assert outputs["block2_conv1"].shape == (1, 8, 6, 128)


def test_extractor_works_inside_tf_function():
    extractor = make_feature_extractor(["block1_conv2"], weights="random")

    @tf.function
    def mean_activation(image):
        return tf.reduce_mean(extractor(image)["block1_conv2"])

    image = np.random.RandomState(6).rand(1, 8, 8, 3).astype(np.float32)
    eager = tf.reduce_mean(extractor(image)["block1_conv2"])
    np.testing.assert_allclose(mean_activation(image), eager, rtol=1e-4)


def test_extractor_rejects_unknown_layers_and_bad_images():
    with pytest.raises(ValueError, match=r"unknown VGG19 layer\(s\) \['conv4_2'\]"):
        make_feature_extractor(["conv4_2"], weights="random")
    extractor = make_feature_extractor(["block1_conv1"], weights="random")
    with pytest.raises(ValueError, match=r"shape \(1, H, W, 3\)"):
        extractor(np.zeros((8, 8, 3), np.float32))


def test_stand_in_is_seeded_labelled_and_independent_of_tensorflow_random_streams():
    with pytest.warns(UserWarning, match="OFFLINE STAND-IN"):
        first = load_vgg19("random", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again, other = load_vgg19("random", seed=0), load_vgg19("random", seed=1)
    kernel = first.get_layer("block1_conv1").get_weights()[0]
    expected = np.random.RandomState(0).normal(0.0, np.sqrt(2.0 / 27), (3, 3, 3, 64))
    np.testing.assert_allclose(kernel, expected.astype(np.float32))
    np.testing.assert_array_equal(kernel, again.get_layer("block1_conv1").get_weights()[0])
    assert not np.array_equal(kernel, other.get_layer("block1_conv1").get_weights()[0])
    assert first.is_stand_in and "STAND-IN" in first.weights_label
    assert "STAND-IN" in make_feature_extractor(["block1_conv1"], vgg=first).weights_label


def test_none_follows_the_environment_variable(isolated, monkeypatch, weights_file):
    monkeypatch.setenv(vgg.WEIGHTS_ENV, "random")
    assert resolve_weights(None) == vgg.STAND_IN
    monkeypatch.setenv(vgg.WEIGHTS_ENV, str(weights_file[0]))
    assert resolve_weights(None) == weights_file[0]
    assert resolve_weights("imagenet") == weights_file[0]


def test_explicit_imagenet_ignores_a_stand_in_choice(isolated, monkeypatch):
    monkeypatch.setenv(vgg.WEIGHTS_ENV, "random")
    with pytest.raises(WeightsNotFoundError):
        resolve_weights("imagenet")


def test_resolution_order(isolated, monkeypatch, weights_file):
    local = isolated / "data" / "pretrained-model" / vgg.WEIGHTS_FILE_NAME
    cached = isolated / "keras" / "models" / vgg.WEIGHTS_FILE_NAME
    for path in (local, cached):
        path.parent.mkdir(parents=True)
        path.write_bytes(weights_file[0].read_bytes())
    monkeypatch.setattr(vgg, "WEIGHTS_MD5", hashlib.md5(cached.read_bytes()).hexdigest())
    explicit = isolated / "explicit.h5"
    explicit.write_bytes(b"x")
    monkeypatch.setenv(vgg.WEIGHTS_ENV, str(explicit))
    assert resolve_weights(explicit) == explicit
    assert resolve_weights("imagenet") == explicit  # 1. the environment variable
    monkeypatch.delenv(vgg.WEIGHTS_ENV)
    assert resolve_weights("imagenet") == local  # 2. data/pretrained-model/
    local.unlink()
    assert resolve_weights("imagenet") == cached  # 3. Keras' cache, hash-checked
    assert not load_vgg19("imagenet").is_stand_in


def test_offline_without_weights_says_the_three_ways(isolated):
    with pytest.raises(WeightsNotFoundError) as caught:
        load_vgg19("imagenet")
    message = str(caught.value)
    assert "nst fetch weights" in message
    assert "pretrained-model" in message
    assert vgg.WEIGHTS_ENV in message
    assert "weights='random'" in message
    with pytest.raises(WeightsNotFoundError, match="one of 3 ways"):
        resolve_weights("imagenet", download=False)


def test_cached_file_with_wrong_hash_is_not_trusted(isolated):
    cached = isolated / "keras" / "models" / vgg.WEIGHTS_FILE_NAME
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"corrupted download")
    with pytest.raises(WeightsNotFoundError):
        resolve_weights("imagenet")


def test_missing_paths_name_the_path(isolated, monkeypatch):
    with pytest.raises(FileNotFoundError, match="nowhere.h5 does not exist"):
        load_vgg19(isolated / "nowhere.h5")
    monkeypatch.setenv(vgg.WEIGHTS_ENV, str(isolated / "gone.h5"))
    with pytest.raises(FileNotFoundError, match=f"{vgg.WEIGHTS_ENV} is set to .*gone.h5"):
        load_vgg19("imagenet")


def test_full_model_file_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "vgg19_with_top.h5"
    write_notop_h5(path, with_top=True)
    with pytest.raises(WeightsFileError, match="_notop"):
        load_vgg19(path)


def test_corrupt_and_misnamed_files_are_refused(tmp_path):
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(np.random.RandomState(7).bytes(2048))
    with pytest.raises(WeightsFileError, match="corrupt.h5: cannot read this HDF5 file"):
        load_vgg19(corrupt)
    misnamed = tmp_path / "weights.bin"
    misnamed.write_bytes(b"whatever")
    with pytest.raises(WeightsFileError, match="must be an HDF5 file"):
        load_vgg19(misnamed)


def test_bad_weights_argument():
    with pytest.raises(ValueError, match="'imagenet', 'offline', 'random' or a path"):
        resolve_weights(42)


def test_an_installed_package_does_not_ask_to_copy_weights_into_site_packages(monkeypatch):
    """In an installed package ``data/pretrained-model/`` lies inside site-packages: the
    message offers the two other ways only."""
    from nst_helpers import resources

    monkeypatch.setattr(resources, "layout", lambda package=None: resources.INSTALLED)
    message = vgg.how_to_get_weights()
    assert "one of 2 ways" in message and "pretrained-model" not in message
    assert "nst fetch weights" in message and vgg.WEIGHTS_ENV in message
    monkeypatch.setattr(resources, "layout", lambda package=None: resources.CHECKOUT)
    assert "one of 3 ways" in vgg.how_to_get_weights()
