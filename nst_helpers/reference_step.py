"""The reference ``train_step``: one gradient step on the generated image.

This is the answer to the training notebook's graded exercise, written as the TF2
edition of the classic assignment writes it, but taking everything it needs as
arguments instead of reading notebook globals. The training engine
(``nst_helpers.train``) builds its faster compiled step on the same costs.
"""

from __future__ import annotations

import tensorflow as tf

from nst_helpers.costs import (
    CONTENT_LAYER,
    STYLE_LAYERS,
    compute_content_cost,
    compute_style_cost,
    total_cost,
)


def clip_0_1(image) -> tf.Tensor:
    """Clip pixel values to [0, 1]."""
    if not isinstance(image, (tf.Tensor, tf.Variable)) or not image.dtype.is_floating:
        image = tf.convert_to_tensor(image, dtype_hint=tf.float32)
        if not image.dtype.is_floating:
            image = tf.cast(image, tf.float32)
    return tf.clip_by_value(image, clip_value_min=0.0, clip_value_max=1.0)


def train_step(
    generated_image: tf.Variable,
    feature_extractor,
    content_targets,
    style_targets,
    optimizer,
    content_layer: str = CONTENT_LAYER,
    style_layers=STYLE_LAYERS,
    alpha=10,
    beta=40,
) -> tf.Tensor:
    """Take one optimiser step on ``generated_image`` and return the total cost before it.

    Args:
        generated_image: a ``tf.Variable`` of shape (1, H, W, 3) in [0, 1]; updated in place.
        feature_extractor: a callable mapping images to ``{layer_name: activation}``.
        content_targets: the content image's activations, ``{layer_name: activation}``.
        style_targets: the style image's activations, ``{layer_name: activation}``.
        optimizer: a Keras optimizer, e.g. ``keras.optimizers.Adam(learning_rate=0.01)``.
        content_layer: the layer whose activations define content.
        style_layers: (layer_name, weight) pairs.
        alpha: weight of the content cost.
        beta: weight of the style cost.

    Returns:
        The total cost J (a scalar tensor) computed for the image before the step.
    """
    if not isinstance(generated_image, tf.Variable):
        raise ValueError(
            "generated_image must be a tf.Variable (the step changes it in place), got "
            f"{type(generated_image).__name__}: use tf.Variable(image)."
        )
    if generated_image.dtype != tf.float32:
        raise ValueError(
            f"generated_image must be float32, got {generated_image.dtype.name}: "
            "use tf.Variable(tf.cast(image, tf.float32))."
        )
    with tf.GradientTape() as tape:
        generated_activations = feature_extractor(generated_image)
        J_style = compute_style_cost(style_targets, generated_activations, style_layers)
        J_content = compute_content_cost(
            content_targets[content_layer], generated_activations[content_layer]
        )
        J = total_cost(J_content, J_style, alpha=alpha, beta=beta)
    grad = tape.gradient(J, generated_image)
    optimizer.apply_gradients([(grad, generated_image)])
    generated_image.assign(clip_0_1(generated_image))
    return J
