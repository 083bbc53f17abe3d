"""Exercise 5, ``train_step``: one optimiser step, run on a tiny network and judged.

The learner's ``train_step`` runs on the tiny deterministic network of ``tiny_network``
with an Adam optimiser; the judge looks at what the step did to the image (changed, kept
in [0, 1], lowered the cost) and at the cost it returned, and names the usual mistakes
(no clipping, the gradient's sign, swapped or ignored weights, the notebook's globals).
Registered as ``EXERCISE``.
"""

from __future__ import annotations

import re

import numpy as np

from nst_helpers.checks.common import (
    MATMUL_RTOL,
    NOT_FILLED_IN,
    close,
    describe,
    form_problem,
    wrong_value,
)
from nst_helpers.checks.registry import Exercise
from nst_helpers.checks.tiny_network import (
    TINY_CONTENT_LAYER,
    TINY_LAYERS,
    TinyFeatureExtractor,
    tiny_costs,
    tiny_style_layers,
    train_step_case,
)

NAME = "train_step"
WHERE = "the steps of the train step described in the notebook (5_training)"

#: Layer names of VGG19 (block1_conv1, ...): the tiny network of the train_step cases has none.
_VGG_LAYER_NAME = re.compile(r"block\d_(?:conv\d|pool)")


def make_cases(random_state, public: bool) -> list[dict[str, np.ndarray]]:
    """One tiny network, images and optimiser settings (16 px when public)."""
    size = 16 if public else int(random_state.choice([12, 16, 20]))
    return [train_step_case(random_state, size)]


def run_case(function, case: dict):
    """Run the learner's step once on the case's tiny network with a fresh Adam optimiser.

    ``extra["image_after"]`` records the image after the step.
    """
    import keras
    import tensorflow as tf

    extractor = TinyFeatureExtractor(case)
    style_layers = tiny_style_layers(case)
    content_targets = extractor(tf.constant(case["content_image"]))
    style_targets = extractor(tf.constant(case["style_image"]))
    image = tf.Variable(case["generated_image"])
    optimizer = keras.optimizers.Adam(learning_rate=float(case["learning_rate"]))
    optimizer.build([image])
    result = function(
        image,
        extractor,
        content_targets,
        style_targets,
        optimizer,
        content_layer=TINY_CONTENT_LAYER,
        style_layers=style_layers,
        alpha=float(case["alpha"]),
        beta=float(case["beta"]),
    )
    returned = describe(result)
    returned.extra["image_after"] = np.asarray(image.numpy(), dtype=np.float32)
    return returned


def exception_problem(type_name: str, message: str) -> str | None:
    """A train_step that reads the notebook's STYLE_LAYERS / CONTENT_LAYER instead of its
    arguments asks the tiny network for VGG19 layers it does not have (KeyError
    'block4_conv2', or ValueError "has no activations for [...]")."""
    if type_name in ("KeyError", "ValueError"):
        names = set(_VGG_LAYER_NAME.findall(message)) - set(TINY_LAYERS)
        if names:
            return (
                f"train_step raised {type_name} about the layer(s) {sorted(names)}: "
                "your train_step uses the notebook's STYLE_LAYERS/CONTENT_LAYER: use its "
                "arguments style_layers and content_layer (the check runs it on a small network "
                "whose layers have other names)."
            )
    return None


def judge(case, returned) -> str | None:
    if returned.kind == "none":
        return NOT_FILLED_IN.format(name=NAME) + " train_step must return J, the total cost."
    before = case["generated_image"]
    after = returned.extra.get("image_after")
    if after is None:
        return f"{NAME}: the image after the step was not recorded (run it with checks.run_case)."
    if not np.all(np.isfinite(after)):
        return f"{NAME} made the image NaN or infinite: check the cost you differentiate."
    if np.max(np.abs(after.astype(np.float64) - before)) < 1e-7:
        return (
            f"{NAME} did not change the image: it never applies the gradients. Compute "
            "grad = tape.gradient(J, generated_image), then "
            "optimizer.apply_gradients([(grad, generated_image)])."
        )
    if after.min() < -1e-6 or after.max() > 1.0 + 1e-6:
        return (
            f"{NAME} left pixel values outside [0, 1] (from {after.min():.4f} to {after.max():.4f}): "
            "it does not clip. After the step, write generated_image.assign(clip_0_1(generated_image))."
        )
    J_content, J_style, J_before = tiny_costs(case, before)
    _, _, J_after = tiny_costs(case, after)
    if not J_after < J_before:
        return (
            f"{NAME} increased the total cost (from {J_before:.6g} to {J_after:.6g}): apply the "
            "gradient of J itself, optimizer.apply_gradients([(grad, generated_image)]); the "
            "optimizer already subtracts it."
        )
    problem = form_problem(NAME, returned, ())
    if problem:
        if returned.value is not None and returned.value.shape == before.shape:
            return (
                f"{NAME} returned a tensor of shape {before.shape}, the shape of the image (the "
                "gradient?). It must return J, the total cost computed before the step."
            )
        return problem
    value = float(returned.value)
    if close(value, J_before, MATMUL_RTOL, atol=1e-9):
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
    return wrong_value(NAME, value, J_before, mistakes, [], MATMUL_RTOL, WHERE)


EXERCISE = Exercise(
    name=NAME,
    order=5,
    notebook="5_training",
    reference="nst_helpers.reference_step.train_step",
    where_in_notebook=WHERE,
    make_cases=make_cases,
    hidden_draws=2,
    judge=judge,
    run_case=run_case,
    exception_problem=exception_problem,
    allowed_helpers=(
        "nst_helpers.costs.CONTENT_LAYER",
        "nst_helpers.costs.STYLE_LAYERS",
        "nst_helpers.costs.compute_content_cost",
        "nst_helpers.costs.gram_matrix",
        "nst_helpers.costs.compute_layer_style_cost",
        "nst_helpers.costs.compute_style_cost",
        "nst_helpers.costs.total_cost",
        "nst_helpers.reference_step.clip_0_1",
    ),
)
