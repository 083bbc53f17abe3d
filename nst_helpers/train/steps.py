"""The compiled steps of the training engine and the per-scale optimiser state.

``compute_targets`` computes the fixed targets of a scale once (the content activation,
the style Gram matrices); ``make_loss_function`` builds the costs from ``nst_helpers.costs``
with the engine's own transpose-free Gram matrix (``gram_of_activation``: the same
values as ``costs.gram_matrix(unroll_activation(a))``, without materialising a
transposed copy of the activation, and with a symmetric gradient); ``AdamRun`` holds one
scale's image variable and runs a compiled (``tf.function``) Adam step that clips to
[0, 1] and tracks the best and the last finite-loss images; ``LbfgsRun`` does the same
with ``nst_helpers.train.lbfgs``. Both compile without AutoGraph (``autograph=False``):
the engine's code has no Python control flow on tensors, and converting it took about a
second of every fresh process's first step. The feature extractor may compute in bfloat16 or
float16 (``nst_helpers.train.precision``); its activations arrive here as float32, and
the Gram matrices, costs, optimizer state and image are float32. With float16 the
gradient is computed on a scaled loss (loss scaling) so that small gradients do not
underflow. The loop, progress bar and callbacks are in ``nst_helpers.train``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from nst_helpers.costs import compute_content_cost, layer_style_cost_from_grams
from nst_helpers.train.lbfgs import Lbfgs, LineSearchFailed


class Targets(NamedTuple):
    """The fixed targets at one scale: the content activation and each style layer's Gram."""

    content: tf.Tensor
    grams: dict


@tf.custom_gradient
def gram_of_activation(activation):
    """The (n_C, n_C) Gram matrix of a (1, n_H, n_W, n_C) activation, transpose-free.

    Fᵀ·F with F the (n_H·n_W, n_C) reshape (a view: no copy), where ``costs`` computes
    A·Aᵀ with A = Fᵀ materialised by a transpose. Its gradient F·(U + Uᵀ) needs only the
    small (n_C, n_C) transpose of the upstream gradient U.
    """
    activation = tf.convert_to_tensor(activation)
    features = tf.reshape(activation, [-1, tf.shape(activation)[-1]])
    gram = tf.matmul(features, features, transpose_a=True)

    def gradient(upstream):
        symmetric = upstream + tf.transpose(upstream)
        return tf.reshape(tf.matmul(features, symmetric), tf.shape(activation))

    return gram, gradient


def compute_targets(feature_extractor, content, style, content_layer, style_layer_names) -> Targets:
    """The content activation and the style Gram matrices, computed once for a scale."""
    content_activation = tf.cast(feature_extractor(content)[content_layer], tf.float32)
    style_activations = feature_extractor(style)
    grams = {
        name: gram_of_activation(tf.cast(style_activations[name], tf.float32))
        for name in style_layer_names
    }
    return Targets(content=tf.identity(content_activation), grams=grams)


def make_loss_function(feature_extractor, content_layer, style_layers, alpha, beta, tv_weight):
    """``losses(image, targets) -> {"total", "content", "style", "tv"}`` (scalar tensors)."""

    def losses(image, targets: Targets) -> dict:
        activations = feature_extractor(image)
        a_content = tf.cast(activations[content_layer], tf.float32)
        J_content = compute_content_cost(targets.content, a_content)
        J_style = tf.constant(0.0)
        for name, weight in style_layers:
            a_G = tf.cast(activations[name], tf.float32)
            shape = tf.shape(a_G)
            gram_G = gram_of_activation(a_G)
            J_layer = layer_style_cost_from_grams(
                targets.grams[name], gram_G, shape[1], shape[2], shape[3]
            )
            J_style += weight * J_layer
        pixels = tf.cast(tf.reduce_prod(tf.shape(image)[1:3]), tf.float32)
        J_tv = tf.reduce_sum(tf.image.total_variation(image)) / (3.0 * pixels)
        total = alpha * J_content + beta * J_style + tv_weight * J_tv
        return {"total": total, "content": J_content, "style": J_style, "tv": J_tv}

    return losses


def default_jit_compile() -> bool:
    """XLA only where it is expected to help: measured slower on CPU for this step
    (docs/performance.md); on GPUs XLA usually helps (not measured here: no GPU)."""
    return bool(tf.config.list_physical_devices("GPU"))


#: What a float16 run scales its first loss to (then Keras halves the scale while the
#: gradient overflows and doubles it after a run of finite steps).
FLOAT16_SCALED_LOSS = 2.0**8


def float16_loss_scale(loss: float) -> float:
    """The first loss scale of a float16 run: a power of two bringing ``loss`` near 2⁸.

    Style-transfer losses range from about 1 to 10¹² depending on the weights and the
    network, so a fixed scale (Keras' 2¹⁵) overflows float16's 65504 in the backward
    pass; starting from the loss itself takes a few steps at most to settle.
    """
    if not (math.isfinite(loss) and loss > 0):
        return 1.0
    return 2.0 ** round(math.log2(FLOAT16_SCALED_LOSS / loss))


def _make_adam_step(loss_function, learning_rate: float, jit_compile: bool, loss_scale=None):
    """A compiled step: losses of the image, Adam update, clip to [0, 1], track best/last good.

    With a ``loss_scale`` (float16) Keras' ``LossScaleOptimizer`` scales the loss before
    the gradient, unscales the gradient, and skips a step whose gradient overflowed.
    """
    import keras

    loss_scaling = loss_scale is not None
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    if loss_scaling:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=loss_scale)

    @tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False)
    def step(image, best, best_loss, last_good, targets):
        with tf.GradientTape() as tape:
            tape.watch(image)
            losses = loss_function(image, targets)
            objective = optimizer.scale_loss(losses["total"]) if loss_scaling else losses["total"]
        gradient = tape.gradient(objective, image)
        before = image.read_value()
        finite = tf.math.is_finite(losses["total"])
        last_good.assign(tf.where(finite, before, last_good))
        improved = finite & (losses["total"] < best_loss)
        best.assign(tf.where(improved, before, best))
        best_loss.assign(tf.where(improved, losses["total"], best_loss))
        optimizer.apply_gradients([(gradient, image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return losses

    return optimizer, step


def _make_value_and_gradient(loss_function, jit_compile: bool):
    """A compiled ``(losses, gradient of losses["total"] · scale / scale)`` of an image."""

    @tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False)
    def value_and_gradient(image, targets, scale):
        with tf.GradientTape() as tape:
            tape.watch(image)
            losses = loss_function(image, targets)
            objective = losses["total"] * scale
        return losses, tape.gradient(objective, image) / scale

    return value_and_gradient


class AdamRun:
    """The state of Adam at one scale: the image variable, best and last good images."""

    def __init__(self, start, targets, loss_function, options, jit_compile, precision="float32"):
        self.image = tf.Variable(start, trainable=True, name="generated_image")
        self.best = tf.Variable(start, trainable=False)
        self.last_good = tf.Variable(start, trainable=False)
        self.best_loss = tf.Variable(np.float32(np.inf), trainable=False)
        self.targets = targets
        loss_scale = None
        if precision == "float16":
            loss_scale = float16_loss_scale(float(loss_function(start, targets)["total"]))
        self.optimizer, self.compiled_step = _make_adam_step(
            loss_function, options.learning_rate, jit_compile, loss_scale
        )
        self.optimizer.build([self.image])
        self.stop_reason = None

    def step(self) -> dict:
        losses = self.compiled_step(
            self.image, self.best, self.best_loss, self.last_good, self.targets
        )
        return {name: float(value) for name, value in losses.items()}

    def images(self):
        return (
            tf.identity(self.image),
            tf.identity(self.best),
            tf.identity(self.last_good),
            float(self.best_loss),
        )


class LbfgsRun:
    """The state of L-BFGS at one scale; each step is one quasi-Newton iteration."""

    def __init__(self, start, targets, loss_function, options, jit_compile, precision="float32"):
        compiled = _make_value_and_gradient(loss_function, jit_compile)
        self.loss_scale = None if precision == "float16" else 1.0

        def value_and_gradient(image):
            if self.loss_scale is None:  # float16: from the first loss, then halved as needed
                self.loss_scale = float16_loss_scale(float(loss_function(image, targets)["total"]))
            for _ in range(64):  # with float16, halve the loss scale while the gradient overflows
                losses, gradient = compiled(image, targets, tf.constant(self.loss_scale))
                if self.loss_scale == 1.0 or not bool(tf.math.is_finite(losses["total"])):
                    break
                if bool(tf.reduce_all(tf.math.is_finite(gradient))):
                    break
                self.loss_scale /= 2.0
            return losses, gradient

        self.optimizer = Lbfgs(value_and_gradient, memory=options.lbfgs_memory)
        self.image = self.best = self.last_good = tf.convert_to_tensor(start)
        self.losses, self.gradient = self.optimizer.evaluate(self.image)
        self.best_loss = math.inf
        self.stop_reason = None

    def step(self) -> dict:
        losses = self.losses
        if math.isfinite(losses["total"]):
            self.last_good = self.image
            if losses["total"] < self.best_loss:
                self.best, self.best_loss = self.image, losses["total"]
        else:
            return losses
        try:
            self.image, self.losses, self.gradient = self.optimizer.step(
                self.image, losses, self.gradient
            )
        except LineSearchFailed as error:
            self.stop_reason = str(error)
        return losses

    def images(self):
        return self.image, self.best, self.last_good, self.best_loss
