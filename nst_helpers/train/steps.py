"""The compiled steps of the training engine and the per-scale optimiser state.

``compute_targets`` computes the fixed targets of a scale once (the content activation,
the style Gram matrices); ``make_loss_function`` builds the costs from ``nst_helpers.costs``;
``AdamRun`` holds one scale's image variable and runs a compiled (``tf.function``) Adam
step that clips to [0, 1] and tracks the best and the last finite-loss images;
``LbfgsRun`` does the same with ``nst_helpers.train.lbfgs``. Everything is float32.
The loop, progress bar and callbacks are in ``nst_helpers.train``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from nst_helpers.costs import (
    compute_content_cost,
    gram_matrix,
    layer_style_cost_from_grams,
    unroll_activation,
)
from nst_helpers.train.lbfgs import Lbfgs, LineSearchFailed


class Targets(NamedTuple):
    """The fixed targets at one scale: the content activation and each style layer's Gram."""

    content: tf.Tensor
    grams: dict


def compute_targets(feature_extractor, content, style, content_layer, style_layer_names) -> Targets:
    """The content activation and the style Gram matrices, computed once for a scale."""
    content_activation = feature_extractor(content)[content_layer]
    style_activations = feature_extractor(style)
    grams = {
        name: gram_matrix(unroll_activation(style_activations[name])) for name in style_layer_names
    }
    return Targets(content=tf.identity(content_activation), grams=grams)


def make_loss_function(feature_extractor, content_layer, style_layers, alpha, beta, tv_weight):
    """``losses(image, targets) -> {"total", "content", "style", "tv"}`` (scalar tensors)."""

    def losses(image, targets: Targets) -> dict:
        activations = feature_extractor(image)
        J_content = compute_content_cost(targets.content, activations[content_layer])
        J_style = tf.constant(0.0)
        for name, weight in style_layers:
            a_G = activations[name]
            shape = tf.shape(a_G)
            gram_G = gram_matrix(unroll_activation(a_G))
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


def _make_adam_step(loss_function, learning_rate: float, jit_compile: bool):
    """A compiled step: losses of the image, Adam update, clip to [0, 1], track best/last good."""
    import keras

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def step(image, best, best_loss, last_good, targets):
        with tf.GradientTape() as tape:
            tape.watch(image)
            losses = loss_function(image, targets)
        gradient = tape.gradient(losses["total"], image)
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
    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def value_and_gradient(image, targets):
        with tf.GradientTape() as tape:
            tape.watch(image)
            losses = loss_function(image, targets)
        return losses, tape.gradient(losses["total"], image)

    return value_and_gradient


class AdamRun:
    """The state of Adam at one scale: the image variable, best and last good images."""

    def __init__(self, start, targets, loss_function, options, jit_compile):
        self.image = tf.Variable(start, trainable=True, name="generated_image")
        self.best = tf.Variable(start, trainable=False)
        self.last_good = tf.Variable(start, trainable=False)
        self.best_loss = tf.Variable(np.float32(np.inf), trainable=False)
        self.targets = targets
        optimizer, self.compiled_step = _make_adam_step(
            loss_function, options.learning_rate, jit_compile
        )
        optimizer.build([self.image])
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

    def __init__(self, start, targets, loss_function, options, jit_compile):
        compiled = _make_value_and_gradient(loss_function, jit_compile)
        self.optimizer = Lbfgs(lambda image: compiled(image, targets), memory=options.lbfgs_memory)
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
