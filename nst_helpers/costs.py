"""Reference implementations of the costs of neural style transfer (Gatys et al., 2015).

These are the instructor's answers to the graded exercises and the costs that the
training engine optimises. They are pure TensorFlow, differentiable, and work both
eagerly and inside ``tf.function``. They are not for learners to import in their
graded cells (the grader scores such delegation as zero).

Activations are ``(1, n_H, n_W, n_C)`` tensors, channels last. Bad shapes raise
``ValueError`` naming the shapes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tensorflow as tf

#: The classic choice of style layers: the first convolution of each of VGG19's five
#: blocks, weighted equally. A list of ``(layer_name, weight)`` pairs.
STYLE_LAYERS: list[tuple[str, float]] = [
    ("block1_conv1", 0.2),
    ("block2_conv1", 0.2),
    ("block3_conv1", 0.2),
    ("block4_conv1", 0.2),
    ("block5_conv1", 0.2),
]

#: The layer whose activations represent content. Gatys et al. used conv4_2; it keeps
#: more of the photograph's structure than block5 layers, and it lets the feature
#: extractor stop at block5_conv1, the deepest style layer.
CONTENT_LAYER = "block4_conv2"


def _as_activation(tensor, name: str) -> tf.Tensor:
    """Return ``tensor`` as a float tensor of rank 4 with batch 1, or raise ValueError."""
    if tensor is None:
        raise ValueError(f"{name} is None: expected an activation of shape (1, n_H, n_W, n_C).")
    tensor = tf.convert_to_tensor(tensor)
    if not tensor.dtype.is_floating:
        tensor = tf.cast(tensor, tf.float32)
    shape = tensor.shape
    if shape.rank == 4 and 0 in shape[1:]:
        raise ValueError(
            f"{name} has shape {_shape_text(shape)}: an activation with no values. Pass one "
            "layer's output for an image of at least one pixel."
        )
    if shape.rank != 4:
        raise ValueError(
            f"{name} has shape {_shape_text(shape)} (rank {shape.rank}); expected an "
            "activation of shape (1, n_H, n_W, n_C). Pass one layer's output for one image."
        )
    if shape[0] is not None and shape[0] != 1:
        raise ValueError(
            f"{name} has shape {_shape_text(shape)}: batch size {shape[0]}, but style transfer "
            "works on one image at a time. Pass activations of shape (1, n_H, n_W, n_C)."
        )
    return tensor


def _shape_text(shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in tf.TensorShape(shape)) + ")"


def _check_same_shape(first: tf.Tensor, second: tf.Tensor, names: str) -> None:
    if not first.shape.is_compatible_with(second.shape):
        raise ValueError(
            f"{names} must have the same shape, got {_shape_text(first.shape)} and "
            f"{_shape_text(second.shape)}. Take both from the same layer of the same-sized images."
        )


def _count(shape_tensor: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    return tf.cast(tf.reduce_prod(shape_tensor), dtype)


def compute_content_cost(a_C, a_G) -> tf.Tensor:
    """Content cost J_content(C, G) = 1/(4·n_H·n_W·n_C) · Σ (a_C − a_G)².

    Args:
        a_C: activations of the content image at the content layer, shape (1, n_H, n_W, n_C).
        a_G: activations of the generated image at the same layer, same shape.

    Returns:
        A scalar ``tf.Tensor``.
    """
    a_C = _as_activation(a_C, "a_C")
    a_G = _as_activation(a_G, "a_G")
    _check_same_shape(a_C, a_G, "a_C and a_G")
    a_C = tf.cast(a_C, a_G.dtype)
    normaliser = 4.0 * _count(tf.shape(a_G)[1:], a_G.dtype)
    return tf.reduce_sum(tf.square(a_C - a_G)) / normaliser


def gram_matrix(A) -> tf.Tensor:
    """Gram matrix G_A = A·Aᵀ of a matrix A of shape (n_C, n_H·n_W).

    Args:
        A: a rank-2 tensor of shape (n_C, n_H·n_W): one row per channel.

    Returns:
        The (n_C, n_C) matrix of inner products between channels.
    """
    if A is None:
        raise ValueError("A is None: expected a matrix of shape (n_C, n_H*n_W).")
    A = tf.convert_to_tensor(A)
    if A.dtype == tf.bool or A.dtype == tf.string:
        raise ValueError(f"A holds {A.dtype.name} values; gram_matrix needs numbers.")
    if not A.dtype.is_floating:
        A = tf.cast(A, tf.float32)
    if A.shape.rank != 2:
        raise ValueError(
            f"A has shape {_shape_text(A.shape)}; gram_matrix expects a matrix of shape "
            "(n_C, n_H*n_W). Unroll the activation first (see unroll_activation)."
        )
    return tf.matmul(A, A, transpose_b=True)


def unroll_activation(activation) -> tf.Tensor:
    """Unroll a (1, n_H, n_W, n_C) activation into the (n_C, n_H·n_W) matrix of its channels.

    Each row holds one channel's values over all positions. Reshaping straight to
    (n_C, n_H·n_W) without the transpose would mix channels and positions: the classic bug.
    """
    activation = _as_activation(activation, "activation")
    n_C = tf.shape(activation)[3]
    return tf.transpose(tf.reshape(activation, [-1, n_C]))


def layer_style_cost_from_grams(gram_S, gram_G, n_H, n_W, n_C) -> tf.Tensor:
    """Style cost of one layer from its two Gram matrices: Σ(G_S − G_G)² / (4·n_C²·(n_H·n_W)²).

    The training engine uses this with Gram matrices of the style image computed once.
    """
    dtype = gram_G.dtype
    n_C = tf.cast(n_C, dtype)
    positions = tf.cast(n_H, dtype) * tf.cast(n_W, dtype)
    normaliser = 4.0 * tf.square(n_C) * tf.square(positions)
    return tf.reduce_sum(tf.square(tf.cast(gram_S, dtype) - gram_G)) / normaliser


def compute_layer_style_cost(a_S, a_G) -> tf.Tensor:
    """Style cost of one layer: 1/(4·n_C²·(n_H·n_W)²) · Σ (G_S − G_G)².

    Args:
        a_S: activations of the style image at this layer, shape (1, n_H, n_W, n_C).
        a_G: activations of the generated image at the same layer, same shape.

    Returns:
        A scalar ``tf.Tensor``.
    """
    a_S = _as_activation(a_S, "a_S")
    a_G = _as_activation(a_G, "a_G")
    _check_same_shape(a_S, a_G, "a_S and a_G")
    a_S = tf.cast(a_S, a_G.dtype)
    shape = tf.shape(a_G)
    gram_S = gram_matrix(unroll_activation(a_S))
    gram_G = gram_matrix(unroll_activation(a_G))
    return layer_style_cost_from_grams(gram_S, gram_G, shape[1], shape[2], shape[3])


def check_style_layers(style_layers: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Return ``style_layers`` as a list of (name, weight) pairs, or raise ValueError."""
    if isinstance(style_layers, (str, bytes)) or not isinstance(style_layers, Sequence):
        raise ValueError(
            f"style_layers must be a list of (layer_name, weight) pairs, got {style_layers!r}."
        )
    pairs = []
    for item in style_layers:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
            raise ValueError(
                f"style_layers must hold (layer_name, weight) pairs; {item!r} is not one. "
                "Example: [('block1_conv1', 0.2), ('block2_conv1', 0.2)]."
            )
        pairs.append((item[0], item[1]))
    if not pairs:
        raise ValueError("style_layers is empty: give at least one (layer_name, weight) pair.")
    return pairs


def compute_style_cost(
    style_activations: Mapping[str, tf.Tensor],
    generated_activations: Mapping[str, tf.Tensor],
    style_layers: Sequence[tuple[str, float]] = STYLE_LAYERS,
) -> tf.Tensor:
    """Weighted style cost over several layers: Σ_l λ_l · J_style^[l](S, G).

    Args:
        style_activations: the style image's activations, a mapping from layer name to
            a (1, n_H, n_W, n_C) tensor.
        generated_activations: the generated image's activations, same layer names.
        style_layers: (layer_name, weight) pairs; defaults to ``STYLE_LAYERS``.

    Returns:
        A scalar ``tf.Tensor``.
    """
    pairs = check_style_layers(style_layers)
    for label, activations in (
        ("style_activations", style_activations),
        ("generated_activations", generated_activations),
    ):
        if not isinstance(activations, Mapping):
            raise ValueError(
                f"{label} must map layer names to activations (a dict), got "
                f"{type(activations).__name__}."
            )
        missing = [name for name, _ in pairs if name not in activations]
        if missing:
            raise ValueError(
                f"{label} has no activations for {missing}; it has {sorted(activations)}. "
                "Extract features for every layer in style_layers."
            )
    J_style = 0.0
    for layer_name, weight in pairs:
        J_layer = compute_layer_style_cost(
            style_activations[layer_name], generated_activations[layer_name]
        )
        J_style += tf.cast(weight, J_layer.dtype) * J_layer
    return J_style


def total_cost(J_content, J_style, alpha=10, beta=40) -> tf.Tensor:
    """Total cost J(G) = α · J_content(C, G) + β · J_style(S, G).

    Args:
        J_content: the content cost, a scalar.
        J_style: the style cost, a scalar.
        alpha: weight of the content cost.
        beta: weight of the style cost.

    Returns:
        A scalar ``tf.Tensor``.
    """
    if J_content is None or J_style is None:
        raise ValueError("J_content and J_style must be scalars, got None.")
    J_content = tf.convert_to_tensor(J_content)
    if not J_content.dtype.is_floating:
        J_content = tf.cast(J_content, tf.float32)
    J_style = tf.cast(tf.convert_to_tensor(J_style), J_content.dtype)
    for name, value in (("J_content", J_content), ("J_style", J_style)):
        if value.shape.rank not in (None, 0):
            raise ValueError(f"{name} must be a scalar, got shape {_shape_text(value.shape)}.")
    dtype = J_content.dtype
    return tf.cast(alpha, dtype) * J_content + tf.cast(beta, dtype) * J_style
