"""Exercise 5, ``train_step``: judged by what the step does, against the reference step.

The learner's ``train_step`` runs on the tiny deterministic network of ``tiny_network``
from the case's starting image with a fresh optimizer (Keras' SGD with momentum on a
clipped gradient, settings from the case), two steps eagerly and two steps under
``tf.function`` from the same start again. ``run_case`` records the images after each
step, the costs returned, how often the optimizer was applied and how many variables the
step created. The judge recomputes the same steps in float64 NumPy (``step_reference``)
and compares: images within a tolerance that holds with TF32, costs within
``MATMUL_RTOL``. When they differ it names the mistake (``step_mistakes``). Registered as
``EXERCISE``. Not for the messages' wording (``step_mistakes``) or the reference's arithmetic
(``step_reference``).
"""

from __future__ import annotations

import numpy as np

from nst_helpers.checks import step_mistakes as mistakes
from nst_helpers.checks.common import (
    MATMUL_RTOL,
    NOT_FILLED_IN,
    close,
    describe,
    form_problem,
    scalar_array,
)
from nst_helpers.checks.registry import Exercise, is_public_case
from nst_helpers.checks.step_reference import (
    STEPS,
    first_step,
    mistaken_objectives,
    optimizer_settings,
    right_objective,
    trajectory,
)
from nst_helpers.checks.tiny_network import (
    TINY_CONTENT_LAYER,
    TinyFeatureExtractor,
    cost_parts,
    random_network_case,
    targets64,
    tiny_style_layers,
)

NAME = mistakes.NAME

#: The (alpha, beta) pairs a case chooses from: the pair that gives the content and the
#: style terms the most equal share of the gradient, so that a step missing either shows.
#: Never the defaults 10/40 (nor 40/10), so that a step that ignores its alpha and beta
#: arguments fails; alpha > 10 and beta > 40, so that 10 * J_content + 40 * J_style never
#: equals the right cost; beta / alpha far from 1 and from 4, so that swapped, unweighted or
#: default weights also change the direction of the gradient.
ALPHA_BETA = tuple(
    (alpha, beta)
    for alpha in (15.0, 20.0, 30.0, 50.0, 80.0, 150.0, 300.0, 500.0)
    for beta in (50.0, 70.0, 100.0, 150.0, 200.0, 300.0, 450.0, 700.0, 1000.0, 1500.0, 2200.0)
    if not (2 / 3 <= beta / alpha <= 1.5 or 2.9 <= beta / alpha <= 5.5)
)  # fmt: skip
#: The optimizer: momentum, and the root-mean-square size of the first step (pixel values).
MOMENTUM = 0.9
STEP_SIZE = 0.01
#: The first step of every case lowers J by at least this fraction (far above MATMUL_RTOL,
#: so that the cost after a step is never taken for the cost before it).
FIRST_STEP_DECREASE = 0.03
#: A learner's image after a step matches the reference's when every pixel is within this
#: fraction of the largest distance the reference moved a pixel so far (TF32 errors are
#: about 1e-3 of it; every named mistake is off by far more).
IMAGE_RTOL = 0.03
#: Pixel values below 0 or above 1 by more than this count as "not clipped".
CLIP_ATOL = 1e-6


def _balanced_weights(parts, style_weights) -> tuple[float, float]:
    content_norm = float(np.linalg.norm(parts.grad_content))
    style_norm = float(np.linalg.norm(parts.gradient(0.0, 1.0, style_weights)))
    ratio = content_norm / max(style_norm, 1e-30)  # the beta/alpha that balances the terms
    return min(ALPHA_BETA, key=lambda pair: abs(np.log(pair[1] / pair[0] / ratio)))


def make_cases(random_state, public: bool) -> list[dict[str, np.ndarray]]:
    """The public case (16 px), or the two hidden cases of a draw (two other sizes).

    Each case is one tiny network, images, weights and optimizer settings; ``compiled``
    says whether its second run is compiled with ``tf.function``: always on the public
    case, on the first hidden case of a draw and not the second (a trace costs most of a
    case's time; the second case runs the step eagerly twice).
    """
    if public:
        return [_case(random_state, 16, compiled=True)]
    first, second = (int(size) for size in random_state.choice([12, 16, 20], 2, replace=False))
    return [_case(random_state, first, compiled=True), _case(random_state, second, compiled=False)]


def _case(random_state, size: int, compiled: bool) -> dict[str, np.ndarray]:
    case = random_network_case(random_state, size)
    parts = cost_parts(case, case["generated_image"])
    alpha, beta = _balanced_weights(parts, case["style_weights"])
    gradient_norm = float(np.linalg.norm(parts.gradient(alpha, beta, case["style_weights"])))
    # Clip to a power of two well below the gradient's norm: every step is then normalised,
    # and the learning rate sets its size (STEP_SIZE per pixel, root mean square), halved
    # until the first step lowers J clearly (a strongly curved draw would overshoot).
    clipnorm = 2.0 ** np.floor(np.log2(gradient_norm / 8.0))
    pixels = case["generated_image"].size
    case.update(
        alpha=scalar_array(alpha),
        beta=scalar_array(beta),
        momentum=scalar_array(MOMENTUM),
        clipnorm=scalar_array(clipnorm),
        compiled=scalar_array(1.0 if compiled else 0.0),
    )
    right = right_objective(case)
    J_before = right.cost(parts)
    step_size = STEP_SIZE
    for _ in range(6):
        case["learning_rate"] = scalar_array(step_size * np.sqrt(pixels) / clipnorm)
        J_after = right.cost(cost_parts(case, first_step(case, right, parts)))
        if J_before - J_after > FIRST_STEP_DECREASE * J_before:
            break
        step_size /= 2
    return case


def make_optimizer(case: dict[str, np.ndarray]):
    """A fresh Keras optimizer with the case's settings (what the learner's step is given)."""
    import keras

    learning_rate, momentum, clipnorm = optimizer_settings(case)
    return keras.optimizers.SGD(
        learning_rate=learning_rate, momentum=momentum, global_clipnorm=clipnorm
    )


def _scalar_or_nan(returned) -> float:
    value = returned.value
    if returned.kind == "tf" and value is not None and value.shape == () and np.isfinite(value):
        return float(value)
    return float("nan")


def _eager(function):
    return function


def _compiled(function):
    """``tf.function(function)``, as notebook 5 compiles the step; traced without AutoGraph
    first (converting the step and the costs it calls costs a fresh process over a second),
    and with it when the step's Python control flow needs it (a Python ``if`` or ``for`` on
    a tensor), which is the only difference AutoGraph makes."""
    import tensorflow as tf

    plain = tf.function(function, autograph=False)
    converted = []

    def step(*arguments, **keywords):
        if converted:
            return converted[0](*arguments, **keywords)
        try:
            return plain(*arguments, **keywords)
        except tf.errors.OperatorNotAllowedInGraphError:
            converted.append(tf.function(function))
            return converted[0](*arguments, **keywords)

    return step


class _VariableCounter:
    """A variable creator (``tf.variable_creator_scope``) that counts the variables created."""

    def __init__(self):
        self.count = 0

    def __call__(self, next_creator, **keywords):
        self.count += 1
        return next_creator(**keywords)


def run_case(function, case: dict, compile_step=None):
    """Run the learner's step: STEPS steps eagerly, then STEPS under ``tf.function`` (when
    the case says ``compiled``; eagerly again otherwise), each from the case's starting
    image with a fresh optimizer.

    ``compile_step`` replaces the case's choice for the second run (tests that need many
    runs use an eager one: the judge reads the record all the same).

    The returned ``Returned`` describes the first step's return value; ``extra`` holds
    ``images`` (2 * STEPS, 1, H, W, 3) after each step, ``costs`` (2 * STEPS,) the values
    returned (NaN when not a scalar tensor), and per run the optimizer's ``iterations``
    and the number of ``variables_created`` inside the step. Exceptions propagate.
    """
    import tensorflow as tf

    extractor = TinyFeatureExtractor(case)
    content_targets = extractor(tf.constant(case["content_image"]))
    style_targets = extractor(tf.constant(case["style_image"]))
    arguments = {
        "content_layer": TINY_CONTENT_LAYER,
        "style_layers": tiny_style_layers(case),
        "alpha": float(case["alpha"]),
        "beta": float(case["beta"]),
    }
    first, images, costs, iterations, created = None, [], [], [], []
    if compile_step is None:
        compile_step = _compiled if float(case.get("compiled", 1.0)) else _eager
    for step_function in (function, compile_step(function)):
        image = tf.Variable(case["generated_image"])
        optimizer = make_optimizer(case)
        optimizer.build([image])
        counter = _VariableCounter()
        with tf.variable_creator_scope(counter):
            for _ in range(STEPS):
                result = step_function(
                    image, extractor, content_targets, style_targets, optimizer, **arguments
                )
                returned = describe(result)
                first = returned if first is None else first
                costs.append(_scalar_or_nan(returned))
                images.append(np.asarray(image.numpy(), dtype=np.float32))
        iterations.append(int(optimizer.iterations.numpy()))
        created.append(counter.count)
    first.extra.update(
        images=np.stack(images),
        costs=np.asarray(costs, dtype=np.float64),
        iterations=np.asarray(iterations, dtype=np.float64),
        variables_created=np.asarray(created, dtype=np.float64),
    )
    return first


def _record(case, returned):
    """The run's record from ``returned.extra``, validated; or None when missing or forged."""
    image_shape = np.shape(case["generated_image"])
    expected = {
        "images": (2 * STEPS, *image_shape),
        "costs": (2 * STEPS,),
        "iterations": (2,),
        "variables_created": (2,),
    }
    extra = returned.extra if isinstance(returned.extra, dict) else {}
    record = {}
    for key, shape in expected.items():
        try:
            value = np.asarray(extra[key], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            return None
        if value.shape != shape or (key != "costs" and not np.all(np.isfinite(value))):
            return None
        record[key] = value
    return record


def _distance(image, reference, index: int, start) -> float:
    """How far ``image`` is from the reference's image after step ``index``, as a fraction
    of the largest distance the reference moved a pixel so far (every pixel counts)."""
    moved = max(float(np.max(np.abs(reference.images[k] - start))) for k in range(index + 1))
    return float(np.max(np.abs(image - reference.images[index]))) / max(moved, 1e-9)


def _matches(image, reference, index: int, start) -> bool:
    return _distance(image, reference, index, start) <= IMAGE_RTOL


def judge(case, returned) -> str | None:
    """None when the learner's step does what the reference step does; else the mistake."""
    if returned.kind == "none":
        return NOT_FILLED_IN.format(name=NAME) + " train_step must return J, the total cost."
    record = _record(case, returned)
    if record is None:
        return mistakes.NO_RECORD
    start = np.asarray(case["generated_image"], dtype=np.float64)
    images = record["images"]
    if np.max(np.abs(images[0] - start)) < 1e-7:
        return mistakes.UNCHANGED
    problem = form_problem(NAME, returned, ())
    if problem:
        if returned.value is not None and returned.value.shape == start.shape:
            return mistakes.RETURNED_IMAGE_SHAPE
        return form_problem(NAME, returned, (), public=is_public_case(make_cases, case))
    if images.min() < -CLIP_ATOL or images.max() > 1.0 + CLIP_ATOL:
        return mistakes.MESSAGES["no_clip"]
    if not np.all(np.isfinite(record["costs"])):
        return mistakes.COST_NOT_A_SCALAR
    targets = targets64(case)
    reference = trajectory(case, right_objective(case), targets=targets)
    for run in range(2):
        for step in range(STEPS):
            index = run * STEPS + step
            value = record["costs"][index]
            right_cost = close(value, reference.costs[step], MATMUL_RTOL, atol=1e-9)
            if run == 1 and not (right_cost and _matches(images[index], reference, step, start)):
                return _second_run_problem(case)  # the first run was right
            if not right_cost:
                before = start if step == 0 else reference.images[step - 1]
                public = is_public_case(make_cases, case)
                return mistakes.cost_mistake(case, value, before, images[index], public)
            if not _matches(images[index], reference, step, start):
                return _image_problem(case, record, reference, step, targets)
    return None


def _second_run_problem(case) -> str:
    """The second run, from the same start with a fresh optimizer, did something else than the
    first (which was right): compiled, or run again, the step behaves otherwise."""
    compiled = float(case.get("compiled", 1.0))
    return mistakes.COMPILED_DIFFERS if compiled else mistakes.RERUN_DIFFERS


def _image_problem(case, record, reference, step: int, targets) -> str:
    """Name what differs when the image after ``step`` of the first run is not the
    reference's (every earlier image and cost of the record matched)."""
    iterations = record["iterations"][0]
    if iterations == 0:
        created = record["variables_created"][0] > 0
        return mistakes.OPTIMIZER_CREATED if created else mistakes.NO_OPTIMIZER
    if iterations != STEPS:
        return mistakes.APPLIED_TIMES
    if step > 0:
        return mistakes.STATE_LOST
    start = np.asarray(case["generated_image"], dtype=np.float64)
    parts = cost_parts(case, start, targets)
    moved = float(np.max(np.abs(reference.images[0] - start)))
    distances = {
        key: float(np.max(np.abs(record["images"][0] - first_step(case, objective, parts))))
        / max(moved, 1e-9)
        for key, objective in mistaken_objectives(case).items()
    }
    closest = min(distances, key=distances.get)
    return mistakes.MESSAGES[closest] if distances[closest] <= IMAGE_RTOL else mistakes.DIFFERS


def exception_problem(type_name: str, message: str) -> str | None:
    """The named mistake behind an exception the learner's step raised, or None."""
    return mistakes.exception_mistake(type_name, message)


EXERCISE = Exercise(
    name=NAME,
    order=5,
    notebook="5_training",
    reference="nst_helpers.reference_step.train_step",
    where_in_notebook=mistakes.WHERE,
    make_cases=make_cases,
    hidden_draws=1,  # of two cases each (see make_cases)
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
