"""VGG19 features for style transfer: weights, preprocessing, and a layer-by-name extractor.

``load_vgg19(weights)`` builds Keras' VGG19 without its classifier and loads:

* ``"imagenet"``: the real ImageNet weights, found in this order: ``NST_VGG19_WEIGHTS``
  (a path), ``data/pretrained-model/``, then Keras' cache and standard download (with
  Keras' published hash). Offline with none of these, ``WeightsNotFoundError`` says
  the three ways to provide them. There is no silent fallback.
* a path to an ``.h5`` file of the published no-top layout (as the classic course ships).
* ``"random"``: an explicit, seeded OFFLINE STAND-IN with random weights drawn with NumPy's
  legacy ``RandomState`` (identical on every TensorFlow version). It has VGG19's exact
  layers and shapes (for tests that need them), but its pictures are coloured noise over
  the photo, not style transfer; it is labelled wherever used.
* ``"offline"``: NOT VGG19 but the procedural feature network of ``offline_features``
  (seeded, no download): pictures that look like style transfer offline, answering to
  VGG19's layer names by resolution, with its own recommended α, β and layers.
* ``None``: whatever ``NST_VGG19_WEIGHTS`` says (a path, ``random`` or ``offline``), else
  ``"imagenet"``.

The stand-in and the offline features announce themselves with one ``UserWarning`` per
load (``load_vgg19``), and their ``weights_label`` says what they are; nothing falls back
to them silently.

``make_feature_extractor(layer_names, ...)`` returns a callable that takes [0, 1] RGB
images and returns activations by layer name, computing only up to the deepest layer
asked for, with VGG's own preprocessing inside. Not for the costs: see ``costs``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from nst_helpers import resources
from nst_helpers.devices import enable_gpu_memory_growth
from nst_helpers.images import image_batch
from nst_helpers.offline_features import OfflineFeatureNetwork

WEIGHTS_FILE_NAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + WEIGHTS_FILE_NAME
)
#: The hash Keras publishes for the no-top file (md5, as ``keras.applications.VGG19`` checks it).
WEIGHTS_MD5 = "253f8cb515780f3b799900260a226db6"
WEIGHTS_ENV = "NST_VGG19_WEIGHTS"
STAND_IN = "random"
STAND_IN_LABEL = "OFFLINE STAND-IN: randomly initialised VGG19 (seed {seed}), not ImageNet"
#: The procedural offline feature network (``nst_helpers.offline_features``).
OFFLINE = "offline"

#: VGG19's ImageNet channel means, in BGR order (Caffe preprocessing).
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)

VGG19_CONV_LAYERS = [
    f"block{block}_conv{index}"
    for block, count in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
    for index in range(1, count + 1)
]


class WeightsNotFoundError(FileNotFoundError):
    """The ImageNet VGG19 weights are not on this machine and could not be downloaded."""


class WeightsFileError(ValueError):
    """A weights file exists but is not a readable VGG19 no-top HDF5 file."""


def project_data_dir() -> Path:
    """The course's ``data/`` folder, where ``pretrained-model/`` may hold the weights."""
    return resources.data_dir()


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded models: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(keras_home) / "models"


def how_to_get_weights() -> str:
    """The ways to provide the ImageNet weights, plus the offline choices.

    Copying the file into ``data/pretrained-model/`` is offered only in a checkout: in an
    installed package that folder is inside site-packages, no place for a learner's file.
    """
    local = project_data_dir() / "pretrained-model" / WEIGHTS_FILE_NAME
    ways = [
        f"run `nst fetch weights` (or let Keras download them) where there is internet: "
        f"they go to {keras_cache_dir() / WEIGHTS_FILE_NAME}",
        f"set {WEIGHTS_ENV}=/path/to/{WEIGHTS_FILE_NAME} (from {WEIGHTS_URL}), or pass "
        "weights='/path/to/file.h5'",
    ]
    if resources.layout() == resources.CHECKOUT:
        ways.insert(1, f"copy {WEIGHTS_FILE_NAME} (from {WEIGHTS_URL}) to {local}")
    listed = "".join(f"  {number}. {way};\n" for number, way in enumerate(ways, start=1))
    return (
        "The ImageNet VGG19 weights (80 MB) are not on this machine and could not be "
        f"downloaded. Provide them in one of {len(ways)} ways:\n"
        f"{listed}"
        f"To run offline without them, choose on purpose: weights='offline' or "
        f"{WEIGHTS_ENV}=offline (offline features: not VGG19, made to show style transfer "
        f"without the download), or weights='random' / {WEIGHTS_ENV}=random (a random-weight "
        "VGG19: the code runs, the pictures are coloured noise)."
    )


def resolve_weights(weights="imagenet", download: bool = True):
    """Turn a ``weights`` argument into ``STAND_IN``, ``OFFLINE`` or an existing .h5 file's Path.

    Raises:
        WeightsNotFoundError: "imagenet" asked for and not found nor downloadable.
        FileNotFoundError: an explicit path (or ``NST_VGG19_WEIGHTS``) that does not exist.
    """
    if weights is None:
        weights = os.environ.get(WEIGHTS_ENV) or "imagenet"
    if isinstance(weights, str) and weights in (STAND_IN, OFFLINE):
        return weights
    if isinstance(weights, (str, os.PathLike)) and str(weights) != "imagenet":
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"VGG19 weights file {path} does not exist.\n" + how_to_get_weights()
            )
        return path
    if weights != "imagenet":
        raise ValueError(
            f"weights must be 'imagenet', 'offline', 'random' or a path, got {weights!r}."
        )
    from_env = os.environ.get(WEIGHTS_ENV)
    if from_env and from_env not in (STAND_IN, OFFLINE):
        path = Path(from_env).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"{WEIGHTS_ENV} is set to {path}, which does not exist.\n" + how_to_get_weights()
            )
        return path
    local = project_data_dir() / "pretrained-model" / WEIGHTS_FILE_NAME
    if local.is_file():
        return local
    cached = keras_cache_dir() / WEIGHTS_FILE_NAME
    if cached.is_file() or download:
        import keras

        try:
            with contextlib.redirect_stdout(sys.stderr):  # stdout stays for results
                return Path(
                    keras.utils.get_file(
                        WEIGHTS_FILE_NAME,
                        WEIGHTS_URL,
                        cache_dir=str(cached.parent.parent),
                        cache_subdir=cached.parent.name,
                        file_hash=WEIGHTS_MD5,
                    )
                )
        except Exception as error:  # network errors, hash mismatch, permissions
            raise WeightsNotFoundError(
                f"{how_to_get_weights()}\n(Download said: {error})"
            ) from None
    raise WeightsNotFoundError(how_to_get_weights())


def _stand_in_weights(model, seed: int) -> None:
    """Fill every convolution with He-normal kernels from NumPy's legacy RandomState."""
    random_state = np.random.RandomState(seed)
    for layer_name in VGG19_CONV_LAYERS:
        layer = model.get_layer(layer_name)
        kernel, bias = layer.get_weights()
        fan_in = kernel.shape[0] * kernel.shape[1] * kernel.shape[2]
        kernel = random_state.normal(0.0, np.sqrt(2.0 / fan_in), kernel.shape)
        layer.set_weights([kernel.astype(np.float32), np.zeros_like(bias)])


def load_vgg19(weights="imagenet", seed: int = 0, download: bool = True):
    """Build Keras' VGG19 without its classifier and load ``weights``.

    Args:
        weights: "imagenet", a path to a no-top .h5 file, "random" (the seeded offline
            stand-in), "offline" (the procedural offline features, not VGG19), or None
            (``NST_VGG19_WEIGHTS`` if set, else "imagenet").
        seed: the seed of the stand-in's or the offline features' weights (ignored for
            real weights).
        download: whether "imagenet" may download into Keras' cache.

    Returns:
        A frozen ``keras.Model`` taking VGG-preprocessed images of any size, or for
        "offline" an ``OfflineFeatureNetwork``. Either has ``weights_label`` (where the
        weights came from), ``is_stand_in`` (True unless they are ImageNet's or a file's),
        ``is_offline_features`` and ``recommended_settings`` (α, β and layers to use with
        it; empty for VGG19). The stand-in and the offline features warn once per load.
    """
    import keras

    enable_gpu_memory_growth()
    source = resolve_weights(weights, download=download)
    if source == OFFLINE:
        network = OfflineFeatureNetwork(seed)
        warnings.warn(
            f"Using the {network.weights_label}. For VGG19's ImageNet features, run "
            f"`nst fetch weights` where there is internet and unset {WEIGHTS_ENV}.",
            UserWarning,
            stacklevel=2,
        )
        return network
    model = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    model.trainable = False
    if source == STAND_IN:
        _stand_in_weights(model, seed)
        label = STAND_IN_LABEL.format(seed=seed)
        warnings.warn(f"Using the {label}. Results are not representative.", stacklevel=2)
    else:
        _load_h5(model, source)
        label = f"ImageNet VGG19 weights from {source}"
    model.weights_label = label
    model.is_stand_in = source == STAND_IN
    model.is_offline_features = False
    model.recommended_settings = {}
    return model


def _load_h5(model, path: Path) -> None:
    if path.suffix.lower() not in (".h5", ".hdf5"):
        raise WeightsFileError(
            f"{path}: VGG19 weights must be an HDF5 file ending in .h5 ({WEIGHTS_FILE_NAME})."
        )
    try:
        model.load_weights(str(path))
    except ValueError as error:
        hint = ""
        if "Layer count mismatch" in str(error):
            hint = " It may be the full VGG19 with its classifier: use the '_notop' file."
        raise WeightsFileError(
            f"{path}: not VGG19 no-top weights ({error}).{hint} Expected {WEIGHTS_FILE_NAME}."
        ) from None
    except OSError as error:
        raise WeightsFileError(
            f"{path}: cannot read this HDF5 file ({error}); it may be corrupt or incomplete. "
            "Download it again (`nst fetch weights`)."
        ) from None


def preprocess(images) -> tf.Tensor:
    """VGG19's Caffe preprocessing of [0, 1] RGB images: 0-255, BGR, ImageNet mean removed."""
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    bgr = images[..., ::-1] * 255.0
    return bgr - tf.constant(IMAGENET_MEAN_BGR, dtype=tf.float32)


class FeatureExtractor:
    """Maps [0, 1] RGB images of shape (1, H, W, 3) to ``{layer_name: activation}``.

    Only the layers up to the deepest one requested are computed. ``weights_label``
    says whether the weights are ImageNet's or the offline stand-in.
    """

    def __init__(self, vgg, layer_names):
        if isinstance(vgg, OfflineFeatureNetwork):
            raise ValueError(
                "this is the offline feature network, not a VGG19 model: build its extractor "
                "with make_feature_extractor(layer_names, vgg=network)."
            )
        names = list(dict.fromkeys(layer_names))
        if not names:
            raise ValueError("layer_names is empty: ask for at least one VGG19 layer.")
        known = {layer.name for layer in vgg.layers}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(
                f"unknown VGG19 layer(s) {unknown}; choose from {VGG19_CONV_LAYERS} "
                "(or a blockN_pool layer)."
            )
        import keras

        outputs = [vgg.get_layer(name).output for name in names]
        self.model = keras.Model(vgg.input, outputs, name="vgg19_features")
        self.model.trainable = False
        self.layer_names = names
        self.weights_label = getattr(vgg, "weights_label", "unknown weights")
        self.is_stand_in = getattr(vgg, "is_stand_in", False)
        self.is_offline_features = False
        self.recommended_settings = {}

    def __call__(self, images) -> dict[str, tf.Tensor]:
        images = image_batch(images)
        outputs = self.model(preprocess(images), training=False)
        if len(self.layer_names) == 1:
            outputs = [outputs]
        return dict(zip(self.layer_names, outputs, strict=True))

    def __repr__(self) -> str:
        return f"FeatureExtractor(layers={self.layer_names}, weights={self.weights_label!r})"


def make_feature_extractor(layer_names, weights="imagenet", seed: int = 0, vgg=None):
    """Build a ``FeatureExtractor`` for ``layer_names`` on VGG19 with ``weights``.

    Args:
        layer_names: the VGG19 layer names whose activations to return.
        weights: as for ``load_vgg19``; ignored when ``vgg`` is given.
        seed: the stand-in's (or the offline features') seed.
        vgg: an already loaded VGG19 model (or offline network) to reuse.

    Returns:
        A ``FeatureExtractor``, or for the offline features an ``OfflineFeatureExtractor``
        (the same interface; VGG19 names answer by resolution).
    """
    if vgg is None:
        vgg = load_vgg19(weights, seed=seed)
    if isinstance(vgg, OfflineFeatureNetwork):
        return vgg.feature_extractor(layer_names)
    return FeatureExtractor(vgg, layer_names)
