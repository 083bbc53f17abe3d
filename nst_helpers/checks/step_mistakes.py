"""The train_step exercise's named mistakes: each message says what went wrong and the fix.

``nst_helpers.checks.train_step`` decides which one applies (from the images and costs a
learner's step produced, or from an exception it raised); this module holds the words,
the catalogue of wrong costs a step may return, and the exceptions that reveal a known
mistake. No message quotes a hidden input. Not for deciding anything else.
"""

from __future__ import annotations

import re

from nst_helpers.checks.common import MATMUL_RTOL, wrong_value
from nst_helpers.checks.step_reference import right_objective
from nst_helpers.checks.tiny_network import TINY_LAYERS, cost_parts

NAME = "train_step"
WHERE = "the steps of the train step described in the notebook (5_training)"

_TOTAL = "J = total_cost(J_content, J_style, alpha=alpha, beta=beta)"
_APPLY = "optimizer.apply_gradients([(grad, generated_image)])"
_CLIP = "generated_image.assign(clip_0_1(generated_image))"
_GRADIENT = "grad = tape.gradient(J, generated_image)"
_STYLE_WEIGHTS = (
    "it ignores the weights of style_layers (every layer weighs the same): pass style_layers "
    "to compute_style_cost(style_targets, generated_activations, style_layers), or multiply "
    "each layer's cost by its weight."
)

NO_RECORD = (
    f"{NAME}: the check could not read what the step did to the image (its record is missing "
    "or malformed): run it with checks.run_case."
)
UNCHANGED = (
    f"{NAME} did not change the image: it never applies the gradients. Compute {_GRADIENT}, "
    f"then {_APPLY}."
)
RETURNED_IMAGE_SHAPE = (
    f"{NAME} returned a tensor of the image's shape (1, H, W, 3) (the gradient?). It must "
    "return J, the total cost computed before the step."
)
COST_NOT_A_SCALAR = (
    f"{NAME} returned a scalar tensor on its first call, but not on a later call or under "
    "tf.function (as notebook 5 runs it): return J, the total cost computed inside the tape, "
    "at every step."
)
NO_OPTIMIZER = (
    f"{NAME} does not use the optimizer it is given: the image changed, but the optimizer "
    "never applied a step (did you change generated_image yourself, e.g. "
    "generated_image.assign_sub(learning_rate * grad)?). Let the optimizer apply the "
    f"gradient: {_APPLY}; it keeps the state (momentum, Adam's averages) that makes the "
    "steps work."
)
OPTIMIZER_CREATED = (
    f"{NAME} does not use the optimizer it is given: it creates an optimizer (or another "
    "tf.Variable) inside the step, or uses one made elsewhere in the notebook. A new optimizer "
    "at every step forgets its state, and under tf.function (as notebook 5 runs the step) "
    "creating one fails with 'tf.function only supports singleton tf.Variables'. Use the "
    f"argument: {_APPLY}; the optimizer is created once, outside train_step."
)
APPLIED_TIMES = (
    f"{NAME} did not make the optimizer take exactly one step per call (it applied gradients "
    f"more than once, or not at every call): call {_APPLY} exactly once per call."
)
STATE_LOST = (
    f"{NAME}'s first step matches the reference step, but its second does not: the "
    "optimizer's state (its momentum) does not carry over from one call to the next. Use the "
    "optimizer passed as the argument at every call; do not create, rebuild or reset one "
    "inside train_step, and keep no state of your own between calls."
)
COMPILED_DIFFERS = (
    f"{NAME} does something else under tf.function (as notebook 5 runs it) than when run "
    "eagerly: Python code in the step (a Python counter or list, random numbers, .numpy(), a "
    "global variable) runs only while TensorFlow traces it. Keep the step to TensorFlow "
    "operations on its arguments."
)
RERUN_DIFFERS = (
    f"{NAME} did something else when run again from the same image with a fresh optimizer: "
    "it keeps state of its own from one run to the next (a global variable, list or counter, "
    "or an optimizer made outside the call). Use only its arguments."
)
DIFFERS = (
    f"{NAME} changed the image, but not as one step of the given optimizer on the gradient "
    "of J does (the check compares it with the reference step, from the same image with the "
    f"same kind of optimizer). Compare your code with {WHERE}: {_TOTAL} inside the tape; "
    f"{_GRADIENT}; {_APPLY}, once; then {_CLIP}."
)

#: The mistakes whose images ``step_reference.mistaken_objectives`` computes, by key.
MESSAGES = {
    "uphill": (
        f"{NAME} increased the total cost: it moves the image up the gradient. Apply the "
        f"gradient of J itself, {_APPLY}: the optimizer already subtracts it (no minus sign)."
    ),
    "no_clip": (
        f"{NAME} left pixel values outside [0, 1]: it does not clip. After the optimizer's "
        f"step, write {_CLIP} (generated_image = clip_0_1(generated_image) only names a new "
        "tensor: the variable keeps its values)."
    ),
    "no_style": (
        f"{NAME} is wrong: the style term is missing from the gradient: the image moved as if "
        f"J were alpha * J_content alone. Take the gradient of the total cost: {_TOTAL} inside "
        f"the tape, then {_GRADIENT}."
    ),
    "no_content": (
        f"{NAME} is wrong: the content term is missing from the gradient: the image moved as "
        f"if J were beta * J_style alone. Take the gradient of the total cost: {_TOTAL} inside "
        f"the tape, then {_GRADIENT}."
    ),
    "swapped": f"{NAME} is wrong: alpha and beta are swapped: {_TOTAL}.",
    "default_weights": (
        f"{NAME} is wrong: it ignores the alpha and beta arguments: pass alpha=alpha, "
        "beta=beta to total_cost."
    ),
    "unweighted": (
        f"{NAME} is wrong: it adds the costs without their weights alpha and beta: {_TOTAL}."
    ),
    "uniform_style_weights": f"{NAME} is wrong: {_STYLE_WEIGHTS}",
    "unit_style_weights": f"{NAME} is wrong: {_STYLE_WEIGHTS}",
}


def cost_mistake(case, value: float, image_before, image_after, public: bool = True) -> str:
    """The message for a step that returned ``value`` instead of J of ``image_before``
    (quoting values only on the public case)."""
    parts = cost_parts(case, image_before)
    right = right_objective(case)
    alpha, beta, weights = right.alpha, right.beta, right.style_weights
    J_content, J_style = parts.J_content, parts.cost(0.0, 1.0, weights)
    J_after = right.cost(cost_parts(case, image_after))
    n_layers = len(weights)
    named = [
        (beta * J_content + alpha * J_style, f"alpha and beta are swapped: {_TOTAL}."),
        (J_content, "it returned J_content; it must return J, the total cost."),
        (J_style, "it returned J_style; it must return J, the total cost."),
        (J_after, "it returned the cost after the step; return J computed inside the tape."),
        (10.0 * J_content + 40.0 * J_style,
         "it ignores the alpha and beta arguments: pass alpha=alpha, beta=beta to total_cost."),
        (J_content + J_style, f"it adds the costs without their weights alpha and beta: {_TOTAL}."),
        (alpha * J_content, f"the style term beta * J_style is missing from J: {_TOTAL}."),
        (beta * J_style, f"the content term alpha * J_content is missing from J: {_TOTAL}."),
        (parts.cost(alpha, beta, (1.0 / n_layers,) * n_layers), _STYLE_WEIGHTS),
        (parts.cost(alpha, beta, (1.0,) * n_layers), _STYLE_WEIGHTS),
    ]  # fmt: skip
    expected = right.cost(parts)
    return wrong_value(NAME, value, expected, named, [], MATMUL_RTOL, WHERE, public)


#: Layer names of VGG19 (block1_conv1, ...): the tiny network of the train_step cases has none.
_VGG_LAYER_NAME = re.compile(r"block\d_(?:conv\d|pool)")
#: A shape like an image's, (1, H, W, 3) or [1,H,W,3], in an error message.
_IMAGE_SHAPE = re.compile(r"[\[(]1, ?\d+, ?\d+, ?3[\])]")
_SHAPE_WORDS = re.compile(
    r"Incompatible shapes|Dimensions must be equal|Shape mismatch|incompatible"
)

_NOTEBOOK_LAYERS = (
    "your train_step uses the notebook's STYLE_LAYERS/CONTENT_LAYER: use its arguments "
    "style_layers and content_layer (the check runs it on a small network whose layers have "
    "other names)."
)
NO_GRADIENT = (
    f"{NAME} gave the optimizer no gradient: the gradient of J with respect to generated_image "
    "is None. Compute the activations and J inside `with tf.GradientTape() as tape:` from "
    "generated_image itself (not a copy, a tf.constant or .numpy()), then take "
    f"{_GRADIENT}: with respect to the variable, not the activations or the targets."
)
GRADIENT_NOT_A_TENSOR = (
    f"{NAME} gave the optimizer a gradient that is not one tensor (a dict of activations' "
    "gradients?): take the gradient with respect to the image, "
    f"{_GRADIENT}, not the activations or the targets, and pass {_APPLY}."
)
GRADIENT_SHAPE = (
    f"{NAME} raised a shape error where the image of shape (1, H, W, 3) is updated: the "
    f"gradient must be {_GRADIENT} (with respect to the variable itself: not a list "
    "[generated_image], not an activation), and what you assign to generated_image must be "
    "an image of its shape, clip_0_1(generated_image)."
)
NUMPY_IN_STEP = (
    f"{NAME} calls .numpy(), which works only eagerly; notebook 5 runs the step under "
    "tf.function, and .numpy() also cuts the gradient. Keep the step in TensorFlow "
    "operations: no .numpy() and no NumPy functions inside it."
)


def exception_mistake(type_name: str, message: str) -> str | None:
    """The message naming the mistake behind an exception (type name and message), or None.

    The words are fixed: nothing of ``message`` is repeated but VGG19 layer names.
    """
    if type_name in ("KeyError", "ValueError"):
        names = set(_VGG_LAYER_NAME.findall(message)) - set(TINY_LAYERS)
        if names:
            return (
                f"{NAME} raised {type_name} about the layer(s) {sorted(names)}: {_NOTEBOOK_LAYERS}"
            )
    if "singleton tf.Variables" in message:
        return OPTIMIZER_CREATED
    if "No gradients provided" in message:
        return NO_GRADIENT
    if "only available when eager execution is enabled" in message:
        return NUMPY_IN_STEP
    if re.search(r"convert (?:a value |elements of )\(?\{'", message) or (
        "Expected any non-tensor type, but got a tensor instead" in message
    ):
        return GRADIENT_NOT_A_TENSOR
    if _SHAPE_WORDS.search(message) and _IMAGE_SHAPE.search(message):
        return GRADIENT_SHAPE
    return None
