"""The judges of the learner checks: is a result right, and if not, which mistake is it?

Each judge recomputes the expected value in float64 NumPy (or, for ``train_step``, with
the reference costs on the tiny network) and compares with relative tolerances that hold
with TF32 on GPUs. A wrong value is matched against a catalogue of known mistakes (their
values computed on the same inputs) and of named normalisation factors, so that the
message can say what went wrong and how to fix it. Used through ``nst_helpers.checks.judge``.
"""

from __future__ import annotations

import numpy as np

from nst_helpers.checks_tiny_network import tiny_costs

#: Relative tolerance for element-wise results (content cost, total cost).
RTOL = 1e-3
#: Relative tolerance for matmul- and convolution-heavy results (TF32 on GPUs rounds inputs
#: to 10-bit mantissas); every mistake the checks name is off by far more than this.
MATMUL_RTOL = 5e-3

NOT_FILLED_IN = (
    "{name} returned None: the code between ### START CODE HERE ### and ### END CODE HERE ### "
    "is not filled in yet (or the function does not return its result). Write the code, run "
    "the cell that defines {name} again, then run this check."
)


def _close(value, expected, rtol: float, atol: float = 0.0) -> bool:
    value = np.asarray(value, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape:
        return False
    scale = np.max(np.abs(expected)) if expected.size else 0.0
    return bool(np.all(np.abs(value - expected) <= rtol * scale + atol))


def form_problem(name: str, returned, expected_shape: tuple, input_shape=None):
    """The message for a result of the wrong kind or shape, or None."""
    if returned.kind == "none":
        return NOT_FILLED_IN.format(name=name)
    use_tf = (
        "Compute it with TensorFlow operations (tf.reduce_sum, tf.square, tf.matmul, ...) and "
        "do not call .numpy() or NumPy functions, so that gradients can flow through it."
    )
    if returned.kind == "numpy":
        return (
            f"{name} returned a NumPy {returned.type_name} instead of a TensorFlow tensor. {use_tf}"
        )
    if returned.kind == "python":
        return f"{name} returned a Python {returned.type_name} instead of a TensorFlow tensor. {use_tf}"
    if returned.kind == "other" or returned.value is None:
        return f"{name} returned a {returned.type_name}; it must return a TensorFlow tensor."
    shape = returned.value.shape
    if shape != tuple(expected_shape):
        wanted = "a scalar (shape ())" if expected_shape == () else f"shape {tuple(expected_shape)}"
        hint = ""
        if expected_shape == () and input_shape is not None and shape == tuple(input_shape):
            hint = " It has the shape of the activations: you forgot to sum (tf.reduce_sum)."
        elif expected_shape == () and returned.value.size == 1:
            hint = (
                " It holds one number in a tensor of rank "
                f"{len(shape)}: sum over all axes (tf.reduce_sum without axis or keepdims)."
            )
        return f"{name} returned a tensor of shape {shape}; expected {wanted}.{hint}"
    if not np.all(np.isfinite(returned.value)):
        return f"{name} returned NaN or infinite values ({returned.value}): check for divisions by zero."
    return None


def _named_factor(ratio: float, factors: list[tuple[float, str]], rtol: float) -> str | None:
    for factor, message in factors:
        if abs(ratio - factor) <= rtol * abs(factor):
            return message
    return None


#: Where the learner finds what each graded function computes (the generic message points there).
REFERENCE_IN_NOTEBOOK = {
    "compute_content_cost": "equation (1) of the notebook (1_content_cost)",
    "compute_layer_style_cost": "equation (2) of the notebook (3_style_cost)",
    "total_cost": "the formula J(G) = alpha * J_content + beta * J_style of the notebook (4_total_cost)",
    "train_step": "the steps of the train step described in the notebook (5_training)",
}


def _wrong_value(name, value, expected, mistakes, factors, rtol) -> str:
    """Name the mistake behind a wrong value: a known mistake's value, or a named factor."""
    for mistaken_value, message in mistakes:
        if _close(value, mistaken_value, rtol):
            return f"{name} is wrong: {message}"
    expected_scale = float(np.max(np.abs(expected)))
    if expected_scale > 0 and np.ndim(value) == 0 and float(value) != 0:
        named = _named_factor(float(value) / float(expected), factors, rtol)
        if named:
            return f"{name} is wrong: {named}"
    where = REFERENCE_IN_NOTEBOOK.get(name, "the notebook's description of the exercise")
    return (
        f"{name} returned {np.round(value, 6)}, expected {np.round(expected, 6)}. Compare your "
        f"code with {where}, term by term."
    )


def _normaliser_factors(n_H: int, n_W: int, n_C: int, style: bool) -> list[tuple[float, str]]:
    """(ratio of the learner's value to the right one, message) for normalisation mistakes."""
    positions = n_H * n_W
    if not style:
        size = positions * n_C
        denominator = "4 * n_H * n_W * n_C"
        return [
            (4.0, f"the normalisation is off by a factor 4: you are missing the 1/4 in 1/({denominator})."),
            (float(size), f"the normalisation is off by a factor n_H*n_W*n_C = {size}: divide by {denominator}, not just 4."),
            (4.0 * size, f"the value is {4 * size} times too large: you did not normalise; divide the sum by {denominator}."),
            (float(n_C), f"the normalisation is off by a factor n_C = {n_C}: you used the wrong dimensions; take n_H, n_W, n_C from a_G's shape (m, n_H, n_W, n_C) and divide by {denominator}."),
            (float(n_H), f"the normalisation is off by a factor n_H = {n_H}: you used the wrong dimensions; take n_H, n_W, n_C from a_G's shape (m, n_H, n_W, n_C) and divide by {denominator}."),
            (float(n_W), f"the normalisation is off by a factor n_W = {n_W}: you used the wrong dimensions; take n_H, n_W, n_C from a_G's shape (m, n_H, n_W, n_C) and divide by {denominator}."),
            (float(size) ** 2, f"operator precedence: '/ 4 * n_H * n_W * n_C' multiplies by n_H*n_W*n_C; write '/ ({denominator})'."),
            (0.25, "the value is 4 times too small: divide by 4 * n_H * n_W * n_C once, not by 16 or twice."),
            (1.0 / size, "the value is n_H*n_W*n_C times too small: you used tf.reduce_mean, which already divides by n_H*n_W*n_C, and then divided by 4 * n_H * n_W * n_C as well. Use tf.reduce_sum (or tf.reduce_mean divided by 4 only)."),
        ]  # fmt: skip
    denominator = "4 * n_C**2 * (n_H*n_W)**2"
    full = float(n_C * n_C * positions * positions)
    return [
        (4.0, f"the normalisation is off by a factor 4: you are missing the 1/4 in 1/({denominator})."),
        (float(n_C), f"the normalisation is off by a factor n_C = {n_C}: you divided by n_C instead of n_C**2; the denominator is {denominator}."),
        (float(positions), f"the normalisation is off by a factor n_H*n_W = {positions}: you divided by n_H*n_W instead of (n_H*n_W)**2; the denominator is {denominator}."),
        (float(n_C * positions), f"the normalisation is off by a factor n_C*n_H*n_W = {n_C * positions}: square both n_C and n_H*n_W; the denominator is {denominator}."),
        (full, f"the normalisation is off by a factor n_C**2*(n_H*n_W)**2 = {int(full)}: only the 4 is there; the denominator is {denominator}."),
        (4.0 * full, f"the value is {int(4 * full)} times too large: you did not normalise; divide by {denominator}."),
        ((positions / n_C) ** 2, f"you used the wrong tensor's dimensions: your denominator is 4 * n_C**4, as if n_H*n_W were the Gram matrix's size n_C. Take n_H, n_W, n_C from a_G's shape (m, n_H, n_W, n_C): {denominator}."),
        (full**2, f"operator precedence: '/ 4 * n_C**2 * ...' multiplies by n_C**2*(n_H*n_W)**2; write '/ ({denominator})'."),
        (1.0 / (n_C * n_C), f"the value is n_C**2 times too small: you used tf.reduce_mean instead of tf.reduce_sum. The mean over the n_C x n_C Gram matrix already divides by n_C**2, and the denominator {denominator} divides by it again: use tf.reduce_sum."),
        (float(positions) ** 2, f"the normalisation is off by a factor (n_H*n_W)**2: the denominator is {denominator}."),
    ]  # fmt: skip


def _gram64(matrix: np.ndarray) -> np.ndarray:
    return matrix @ matrix.T


def _layer_style64(a_S: np.ndarray, a_G: np.ndarray, unroll) -> float:
    _, n_H, n_W, n_C = a_G.shape
    difference = _gram64(unroll(a_S)) - _gram64(unroll(a_G))
    return float(np.sum(difference**2) / (4.0 * n_C**2 * (n_H * n_W) ** 2))


def _unroll64(activation: np.ndarray) -> np.ndarray:
    """(1, n_H, n_W, n_C) -> (n_C, n_H*n_W): reshape to (n_H*n_W, n_C), then transpose."""
    return activation.reshape(-1, activation.shape[-1]).T


def _judge_content(case, returned) -> str | None:
    name = "compute_content_cost"
    a_C = case["a_C"].astype(np.float64)
    a_G = case["a_G"].astype(np.float64)
    problem = form_problem(name, returned, (), a_G.shape)
    if problem:
        return problem
    _, n_H, n_W, n_C = a_G.shape
    normaliser = 4.0 * n_H * n_W * n_C
    expected = np.sum((a_C - a_G) ** 2) / normaliser
    scale = np.mean(a_C**2 + a_G**2)
    if _close(returned.value, expected, RTOL, atol=1e-6 * scale):
        return None
    mistakes = [
        (np.sum(a_C - a_G) / normaliser, "you forgot to square the differences: tf.square(a_C - a_G)."),
        (np.sqrt(np.sum((a_C - a_G) ** 2)) / normaliser, "you took a square root (a norm): the cost is the plain sum of squared differences."),
        (np.sum(np.abs(a_C - a_G)) / normaliser, "you summed absolute values (tf.abs): the cost sums the squared differences, tf.square(a_C - a_G)."),
        (0.0, "it returned 0, the cost of an activation with itself: subtract a_G from a_C (a_C - a_G), not a tensor from itself."),
    ]  # fmt: skip
    factors = _normaliser_factors(n_H, n_W, n_C, style=False)
    return _wrong_value(name, returned.value, expected, mistakes, factors, RTOL)


def _judge_gram(case, returned) -> str | None:
    name = "gram_matrix"
    A = case["A"].astype(np.float64)
    n_C, positions = A.shape
    transposed = (
        f"{name} returned shape {{shape}}: you computed transpose(A)·A, the products of "
        f"positions. The Gram matrix is A·transpose(A), of shape ({n_C}, {n_C}): "
        "tf.matmul(A, tf.transpose(A))."
    )
    element_wise = (
        f"{name} returned shape {{shape}}, the shape of A: you multiplied element-wise. "
        "Use the matrix product tf.matmul(A, tf.transpose(A))."
    )
    square = n_C == positions  # then only the values can tell these mistakes apart
    value = returned.value
    if value is not None and not square and value.shape == (positions, positions):
        return transposed.format(shape=value.shape)
    if value is not None and not square and value.shape == A.shape:
        return element_wise.format(shape=value.shape)
    problem = form_problem(name, returned, (n_C, n_C))
    if problem:
        return problem
    expected = _gram64(A)
    if _close(returned.value, expected, MATMUL_RTOL):
        return None
    if square and _close(returned.value, A.T @ A, MATMUL_RTOL):
        return transposed.format(shape=value.shape)
    if square and _close(returned.value, A * A, MATMUL_RTOL):
        return element_wise.format(shape=value.shape)
    if _close(returned.value, expected / positions, MATMUL_RTOL) or _close(
        returned.value, expected / (positions * n_C), MATMUL_RTOL
    ):
        return (
            f"{name} is wrong: you normalised the Gram matrix. In this exercise G = A·Aᵀ with no "
            "division; the normalisation belongs to the style cost."
        )
    if not np.allclose(returned.value, returned.value.T, rtol=MATMUL_RTOL, atol=1e-6):
        return f"{name} returned a matrix that is not symmetric; G = A·Aᵀ always is."
    return (
        f"{name} returned\n{np.round(returned.value, 4)}\nexpected\n{np.round(expected, 4)}\n"
        "The Gram matrix is tf.matmul(A, tf.transpose(A))."
    )


def _judge_layer_style(case, returned) -> str | None:
    name = "compute_layer_style_cost"
    a_S = case["a_S"].astype(np.float64)
    a_G = case["a_G"].astype(np.float64)
    problem = form_problem(name, returned, (), a_G.shape)
    if problem:
        return problem
    _, n_H, n_W, n_C = a_G.shape
    expected = _layer_style64(a_S, a_G, _unroll64)
    scale = float(np.mean(a_S**2 + a_G**2)) ** 2
    if _close(returned.value, expected, MATMUL_RTOL, atol=1e-6 * scale):
        return None
    normaliser = 4.0 * n_C**2 * (n_H * n_W) ** 2
    gram_difference = _gram64(_unroll64(a_S)) - _gram64(_unroll64(a_G))
    mistakes = [
        (_layer_style64(a_S, a_G, lambda a: a.reshape(a.shape[-1], -1)),
         "you unrolled without the transpose: tf.reshape(a, [n_C, n_H*n_W]) mixes channels and "
         "positions. Reshape to [n_H*n_W, n_C] first, then tf.transpose."),
        (_layer_style64(a_S, a_G, lambda a: a.reshape(-1, a.shape[-1])),
         "you compared Gram matrices of positions, shape (n_H*n_W, n_H*n_W): the unrolled "
         "activations must have one row per channel, shape (n_C, n_H*n_W) (transpose after reshape)."),
        (np.sum(gram_difference) / normaliser,
         "you forgot to square the differences of the Gram matrices: tf.square(GS - GG)."),
        (np.sum(np.abs(gram_difference)) / normaliser,
         "you summed absolute values (tf.abs): the cost sums the squared differences of the Gram "
         "matrices, tf.square(GS - GG)."),
        (0.0, "it returned 0, the cost of an activation with itself: compare the style image's "
              "Gram matrix GS with the generated image's GG, not a Gram matrix with itself."),
    ]  # fmt: skip
    factors = _normaliser_factors(n_H, n_W, n_C, style=True)
    return _wrong_value(name, returned.value, expected, mistakes, factors, MATMUL_RTOL)


def _judge_total(case, returned) -> str | None:
    name = "total_cost"
    problem = form_problem(name, returned, ())
    if problem:
        return problem
    J_content = float(case["J_content"])
    J_style = float(case["J_style"])
    alpha = float(case.get("alpha", 10.0))
    beta = float(case.get("beta", 40.0))
    expected = alpha * J_content + beta * J_style
    if _close(returned.value, expected, RTOL):
        return None
    mistakes = [
        (beta * J_content + alpha * J_style,
         "alpha and beta are swapped: J = alpha * J_content + beta * J_style."),
        (J_content + J_style, "you added the costs without their weights alpha and beta."),
        (alpha * J_content, "the style term beta * J_style is missing."),
        (beta * J_style, "the content term alpha * J_content is missing."),
        (alpha * J_content - beta * J_style, "you subtracted the style term: J = alpha * J_content + beta * J_style."),
        (expected / (alpha + beta), "you divided by alpha + beta: J = alpha * J_content + beta * J_style, with no normalisation."),
    ]  # fmt: skip
    if (alpha, beta) != (10.0, 40.0):
        mistakes.insert(0, (10.0 * J_content + 40.0 * J_style,
                            "you used the numbers 10 and 40 instead of the arguments alpha and "
                            "beta: J = alpha * J_content + beta * J_style."))  # fmt: skip
    return _wrong_value(name, returned.value, expected, mistakes, [], RTOL)


def _judge_train_step(case, returned) -> str | None:
    name = "train_step"
    if returned.kind == "none":
        return NOT_FILLED_IN.format(name=name) + " train_step must return J, the total cost."
    before = case["generated_image"]
    after = returned.extra.get("image_after")
    if after is None:
        return f"{name}: the image after the step was not recorded (run it with checks.run_case)."
    if not np.all(np.isfinite(after)):
        return f"{name} made the image NaN or infinite: check the cost you differentiate."
    if np.max(np.abs(after.astype(np.float64) - before)) < 1e-7:
        return (
            f"{name} did not change the image: it never applies the gradients. Compute "
            "grad = tape.gradient(J, generated_image), then "
            "optimizer.apply_gradients([(grad, generated_image)])."
        )
    if after.min() < -1e-6 or after.max() > 1.0 + 1e-6:
        return (
            f"{name} left pixel values outside [0, 1] (from {after.min():.4f} to {after.max():.4f}): "
            "it does not clip. After the step, write generated_image.assign(clip_0_1(generated_image))."
        )
    J_content, J_style, J_before = tiny_costs(case, before)
    _, _, J_after = tiny_costs(case, after)
    if not J_after < J_before:
        return (
            f"{name} increased the total cost (from {J_before:.6g} to {J_after:.6g}): apply the "
            "gradient of J itself, optimizer.apply_gradients([(grad, generated_image)]); the "
            "optimizer already subtracts it."
        )
    problem = form_problem(name, returned, ())
    if problem:
        if returned.value is not None and returned.value.shape == before.shape:
            return (
                f"{name} returned a tensor of shape {before.shape}, the shape of the image (the "
                "gradient?). It must return J, the total cost computed before the step."
            )
        return problem
    value = float(returned.value)
    if _close(value, J_before, MATMUL_RTOL, atol=1e-9):
        return None
    alpha, beta = float(case["alpha"]), float(case["beta"])
    mistakes = [
        (beta * J_content + alpha * J_style,
         "alpha and beta are swapped: J = total_cost(J_content, J_style, alpha=alpha, beta=beta)."),
        (J_content, "it returned J_content; it must return J, the total cost."),
        (J_style, "it returned J_style; it must return J, the total cost."),
        (J_after, "it returned the cost after the step; return J computed inside the tape."),
        (10.0 * J_content + 40.0 * J_style,
         "it ignores the alpha and beta arguments: pass alpha=alpha, beta=beta to total_cost."),
    ]  # fmt: skip
    n_layers = len(case["style_weights"])
    for weight in (1.0 / n_layers, 1.0):
        _, _, J_uniform = tiny_costs(case, before, style_weights=[weight] * n_layers)
        mistakes.append((J_uniform,
                         "it ignores the weights of style_layers (every layer weighs the same): pass "
                         "style_layers to compute_style_cost(style_targets, generated_activations, "
                         "style_layers), or multiply each layer's cost by its weight."))  # fmt: skip
    return _wrong_value(name, value, J_before, mistakes, [], MATMUL_RTOL)


JUDGES = {
    "compute_content_cost": _judge_content,
    "gram_matrix": _judge_gram,
    "compute_layer_style_cost": _judge_layer_style,
    "total_cost": _judge_total,
    "train_step": _judge_train_step,
}
