"""train_step: judged by what it does against the reference step; each mistake is named.

A correct step written in the usual ways passes (with or without @tf.function, clip_0_1 or
tf.clip_by_value, apply_gradients with a list or zip, tape.watch, ...); each mistake of
issue 9 (a term missing from the gradient, the optimizer not used or made inside the
step, the gradient of something else than the image, no clipping, the cost after the
step) and each mistake named before gets its message, on the public case and on hidden
draws. The judge is also fed forged records: a message, never an exception or a pass.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import checks, costs, reference_step
from nst_helpers.checks import step_mistakes, train_step
from nst_helpers.reference_step import clip_0_1
from tests.checks.helpers import expect_failure, hidden_verdicts, quoted_numbers

NAME = "train_step"
#: Run the second run eagerly too, where a test needs many runs (a compiled run costs a
#: trace per case); the tests of right steps and of compiled-only mistakes compile it.
EAGER = {"compile_step": lambda function: function}


def make_step(
    gradient_of="J",
    apply="optimizer",
    clip="clip_0_1",
    result="J",
    swap=False,
    defaults=False,
    style_weights=None,
    notebook_globals=(),
    watch=False,
    compiled=False,
):
    """A train_step written one way, chosen by the arguments (the defaults make it right).

    ``gradient_of``: "J", "content" (alpha * J_content), "style" (beta * J_style), "minus J",
    "activations", "targets", "list" ([generated_image]), "outside the tape", "a copy";
    ``apply``: "optimizer", "zip", "apply", "none", "assign_sub", "own adam", "twice";
    ``clip``: "clip_0_1", "clip_by_value", "none", "rebind", "before";
    ``result``: "J", "none", "grad", "J_content", "after"; ``swap``: alpha and beta swapped;
    ``defaults``: total_cost without alpha=alpha, beta=beta; ``style_weights``: the same
    weight for every style layer; ``notebook_globals``: which of "content", "style" read the
    notebook's CONTENT_LAYER / STYLE_LAYERS; ``compiled``: decorated with @tf.function.
    """

    def step(
        generated_image,
        feature_extractor,
        content_targets,
        style_targets,
        optimizer,
        content_layer="block4_conv2",
        style_layers=costs.STYLE_LAYERS,
        alpha=10,
        beta=40,
    ):
        weights = (beta, alpha) if swap else (alpha, beta)
        if "content" in notebook_globals:
            content_layer = costs.CONTENT_LAYER
        if "style" in notebook_globals:
            style_layers = costs.STYLE_LAYERS
        if style_weights is not None:
            style_layers = [(name, style_weights) for name, _ in style_layers]
        image = generated_image
        if gradient_of == "a copy":
            image = tf.convert_to_tensor(generated_image)
        if gradient_of == "outside the tape":
            activations = feature_extractor(image)
        with tf.GradientTape() as tape:
            if watch:
                tape.watch(generated_image)
            if gradient_of != "outside the tape":
                activations = feature_extractor(image)
            J_style = costs.compute_style_cost(style_targets, activations, style_layers)
            J_content = costs.compute_content_cost(
                content_targets[content_layer], activations[content_layer]
            )
            if defaults:
                J = costs.total_cost(J_content, J_style)
            else:
                J = costs.total_cost(J_content, J_style, alpha=weights[0], beta=weights[1])
            differentiated = {
                "content": alpha * J_content,
                "style": beta * J_style,
                "minus J": -J,
            }.get(gradient_of, J)
        target = {
            "activations": activations,
            "targets": content_targets,
            "list": [generated_image],
        }.get(gradient_of, generated_image)
        grad = tape.gradient(differentiated, target)
        if clip == "before":
            generated_image.assign(clip_0_1(generated_image))
        if apply == "optimizer":
            optimizer.apply_gradients([(grad, generated_image)])
        elif apply == "zip":
            optimizer.apply_gradients(zip([grad], [generated_image], strict=True))
        elif apply == "apply":
            optimizer.apply([grad], [generated_image])
        elif apply == "assign_sub":
            generated_image.assign_sub(0.02 * grad)
        elif apply == "own adam":
            keras.optimizers.Adam(learning_rate=0.02).apply_gradients([(grad, generated_image)])
        elif apply == "twice":
            optimizer.apply_gradients([(grad, generated_image)])
            optimizer.apply_gradients([(grad, generated_image)])
        if clip == "clip_0_1":
            generated_image.assign(clip_0_1(generated_image))
        elif clip == "clip_by_value":
            generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
        elif clip == "rebind":
            generated_image = clip_0_1(generated_image)  # noqa: F841 - the mistake itself
        if result == "after":
            after = feature_extractor(generated_image)
            J_content = costs.compute_content_cost(
                content_targets[content_layer], after[content_layer]
            )
            J_style = costs.compute_style_cost(style_targets, after, style_layers)
            return costs.total_cost(J_content, J_style, alpha=alpha, beta=beta)
        return {"J": J, "none": None, "grad": grad, "J_content": J_content}[result]

    return tf.function(step) if compiled else step


# ------------------------------------------------------------------ right steps pass

RIGHT_WAYS = {
    "as in the notebook": {},
    "@tf.function": {"compiled": True},
    "tf.clip_by_value": {"clip": "clip_by_value"},
    "zip": {"apply": "zip"},
    "optimizer.apply": {"apply": "apply"},
    "tape.watch": {"watch": True},
    "@tf.function, zip, clip_by_value": {
        "compiled": True,
        "apply": "zip",
        "clip": "clip_by_value",
    },
}


@pytest.mark.parametrize("way", RIGHT_WAYS, ids=list(RIGHT_WAYS))
def test_a_right_step_written_in_the_usual_ways_passes(way, capsys):
    step = make_step(**RIGHT_WAYS[way])
    checks.check(NAME, step)
    assert "All tests passed." in capsys.readouterr().out
    assert set(hidden_verdicts(NAME, step, 1)) == {None}


def test_a_right_step_with_its_own_weighted_sums_passes(capsys):
    """No course helper but the costs of one layer: the style sum and J written out."""

    def train_step(
        generated_image,
        feature_extractor,
        content_targets,
        style_targets,
        optimizer,
        content_layer="block4_conv2",
        style_layers=costs.STYLE_LAYERS,
        alpha=10,
        beta=40,
    ):
        with tf.GradientTape() as tape:
            tape.watch(generated_image)
            activations = feature_extractor(generated_image)
            J_style = 0
            for layer_name, weight in style_layers:
                J_style += weight * costs.compute_layer_style_cost(
                    style_targets[layer_name], activations[layer_name]
                )
            J_content = costs.compute_content_cost(
                content_targets[content_layer], activations[content_layer]
            )
            J = alpha * J_content + beta * J_style
        (grad,) = tape.gradient(J, [generated_image])
        optimizer.apply_gradients(zip([grad], [generated_image], strict=True))
        generated_image.assign(tf.clip_by_value(generated_image, 0, 1))
        return J

    checks.check(NAME, train_step)
    assert "All tests passed." in capsys.readouterr().out


def test_a_right_step_with_python_control_flow_on_tensors_passes(capsys):
    """An ``if`` on a tensor needs AutoGraph under tf.function, as notebook 5 compiles the
    step: the check's compiled run falls back to it."""

    def train_step(generated_image, feature_extractor, content_targets, style_targets,
                   optimizer, content_layer="block4_conv2", style_layers=costs.STYLE_LAYERS,
                   alpha=10, beta=40):  # fmt: skip
        with tf.GradientTape() as tape:
            activations = feature_extractor(generated_image)
            J_style = costs.compute_style_cost(style_targets, activations, style_layers)
            J_content = costs.compute_content_cost(
                content_targets[content_layer], activations[content_layer]
            )
            J = costs.total_cost(J_content, J_style, alpha=alpha, beta=beta)
        grad = tape.gradient(J, generated_image)
        optimizer.apply_gradients([(grad, generated_image)])
        if tf.reduce_max(generated_image) > 1.0 or tf.reduce_min(generated_image) < 0.0:
            generated_image.assign(clip_0_1(generated_image))
        return J

    checks.check(NAME, train_step)
    assert "All tests passed." in capsys.readouterr().out


def test_the_reference_never_fails_a_hidden_draw():
    """The reference, run by TensorFlow, passes every hidden draw of these seeds (eagerly:
    its compiled run is tested above); tests/checks/test_step_reference.py shows over 300
    seeds that every draw leaves the judge's tolerance a wide margin."""
    for seed in range(20):
        verdicts = hidden_verdicts(NAME, reference_step.train_step, seed, **EAGER)
        assert set(verdicts) == {None}, (seed, verdicts)


# ------------------------------------------------------------- issue 9's mistakes


@pytest.mark.parametrize(
    ("gradient_of", "phrase"),
    [
        ("content", "the style term is missing from the gradient"),
        ("style", "the content term is missing from the gradient"),
    ],
)
def test_a_term_missing_from_the_gradient(gradient_of, phrase):
    step = make_step(gradient_of=gradient_of)
    expect_failure(NAME, step, phrase, "tape.gradient(J, generated_image)")
    for seed in (0, 5):
        assert all(phrase in verdict for verdict in hidden_verdicts(NAME, step, seed, **EAGER))


def test_the_optimizer_not_used():
    """generated_image.assign_sub(0.02 * grad): notebook 5's cost then diverges, and the old
    check blamed the gradient's sign."""
    message = expect_failure(
        NAME,
        make_step(apply="assign_sub"),
        "does not use the optimizer it is given",
        "optimizer.apply_gradients([(grad, generated_image)])",
    )
    assert "gradient's sign" not in message and "increased the total cost" not in message


def test_an_optimizer_created_inside_the_step():
    """The check used to pass it, then notebook 5's training cell failed with a 110-line
    traceback ("tf.function only supports singleton tf.Variables")."""
    expect_failure(
        NAME,
        make_step(apply="own adam"),
        "creates an optimizer (or another tf.Variable) inside the step",
        "created once, outside train_step",
    )


def test_an_optimizer_created_inside_the_step_is_named_from_the_eager_run_too():
    """Eagerly it raises nothing: the judge tells it from the optimizer's idle counter and the
    variables created during the step."""
    case = checks.cases(NAME)[0]
    returned = train_step.run_case(make_step(apply="own adam"), case, **EAGER)
    assert list(returned.extra["iterations"]) == [0, 0]
    assert min(returned.extra["variables_created"]) > 0
    assert checks.judge(NAME, case, returned) == step_mistakes.OPTIMIZER_CREATED


def test_the_optimizer_applied_twice_per_call():
    expect_failure(NAME, make_step(apply="twice"), "exactly once per call")


@pytest.mark.parametrize(
    ("gradient_of", "phrase"),
    [
        ("activations", "not one tensor (a dict of activations' gradients?)"),
        ("targets", "not one tensor (a dict of activations' gradients?)"),
        ("list", "not a list [generated_image]"),
        ("outside the tape", "the gradient of J with respect to generated_image is None"),
        ("a copy", "the gradient of J with respect to generated_image is None"),
    ],
)
def test_the_gradient_of_something_else_than_the_image(gradient_of, phrase):
    """Today a raw "No gradients provided" or "Incompatible shapes" under a long traceback."""
    message = expect_failure(NAME, make_step(gradient_of=gradient_of), phrase)
    assert "grad = tape.gradient(J, generated_image)" in message
    assert "Traceback" not in message


def test_the_gradient_of_the_activations_of_one_layer():
    def step(generated_image, feature_extractor, content_targets, style_targets, optimizer,
             content_layer="block4_conv2", style_layers=costs.STYLE_LAYERS, alpha=10, beta=40):  # fmt: skip
        with tf.GradientTape() as tape:
            activations = feature_extractor(generated_image)
            J_style = costs.compute_style_cost(style_targets, activations, style_layers)
            J_content = costs.compute_content_cost(
                content_targets[content_layer], activations[content_layer]
            )
            J = costs.total_cost(J_content, J_style, alpha=alpha, beta=beta)
        grad = tape.gradient(J, activations[content_layer])
        optimizer.apply_gradients([(grad, generated_image)])
        generated_image.assign(clip_0_1(generated_image))
        return J

    expect_failure(NAME, step, "shape error where the image of shape (1, H, W, 3) is updated")


@pytest.mark.parametrize("clip", ["none", "rebind", "before"])
def test_not_clipped(clip):
    message = expect_failure(
        NAME,
        make_step(clip=clip),
        "outside [0, 1]",
        "does not clip",
        "generated_image.assign(clip_0_1(generated_image))",
    )
    assert "only names a new tensor" in message  # the rebinding mistake, explained


def test_the_cost_after_the_step():
    expect_failure(NAME, make_step(result="after"), "returned the cost after the step")
    for seed in (0, 3):
        verdicts = hidden_verdicts(NAME, make_step(result="after"), seed, **EAGER)
        assert all("cost after the step" in verdict for verdict in verdicts)


def test_the_judge_names_the_cost_after_the_step_from_the_record():
    case = checks.cases(NAME)[0]
    returned = checks.run_case(reference_step.train_step, NAME, case)
    costs_after = [
        checks.tiny_costs(case, returned.extra["images"][index])[2] for index in range(4)
    ]
    returned.value = np.asarray(costs_after[0])
    returned.extra["costs"] = np.asarray(costs_after)
    assert "cost after the step" in checks.judge(NAME, case, returned)


# ---------------------------------------------------------- mistakes named before


def test_train_step_returned_none():
    expect_failure(NAME, make_step(result="none"), "train_step returned None", "return J")


def test_train_step_never_applies_gradients():
    expect_failure(
        NAME,
        make_step(apply="none"),
        "did not change the image: it never applies the gradients",
        "optimizer.apply_gradients([(grad, generated_image)])",
    )


def test_train_step_goes_uphill():
    expect_failure(NAME, make_step(gradient_of="minus J"), "increased the total cost")


def test_train_step_returns_the_gradient():
    expect_failure(NAME, make_step(result="grad"), "the image's shape", "must return J")


def test_train_step_returns_content_cost():
    expect_failure(NAME, make_step(result="J_content"), "it returned J_content")


def test_train_step_alpha_beta_swapped():
    expect_failure(NAME, make_step(swap=True), "alpha and beta are swapped")


def test_train_step_ignores_alpha_and_beta():
    """total_cost(J_content, J_style) without alpha=alpha, beta=beta."""
    mistaken = make_step(defaults=True)
    expect_failure(NAME, mistaken, "ignores the alpha and beta arguments")
    for seed in (0, 7):
        verdicts = hidden_verdicts(NAME, mistaken, seed, **EAGER)
        assert all("ignores the alpha and beta arguments" in verdict for verdict in verdicts)


@pytest.mark.parametrize("weight", [1.0 / 3.0, 1.0])
def test_train_step_ignores_the_style_weights(weight):
    expect_failure(NAME, make_step(style_weights=weight), "ignores the weights of style_layers")


@pytest.mark.parametrize("which", [("content",), ("style",), ("content", "style")])
def test_train_step_uses_the_notebook_globals(which):
    message = expect_failure(
        NAME,
        make_step(notebook_globals=which),
        "your train_step uses the notebook's STYLE_LAYERS/CONTENT_LAYER: use its arguments "
        "style_layers and content_layer",
    )
    assert "block" in message  # names the VGG layer the tiny network lacks


def test_exception_problem_only_names_vgg_layers_missing_from_the_case():
    assert checks.exception_problem(NAME, KeyError("block4_conv2")) is not None
    assert checks.exception_problem(NAME, KeyError("conv2")) is None
    assert checks.exception_problem(NAME, TypeError("block4_conv2")) is None
    assert checks.exception_problem("gram_matrix", KeyError("block4_conv2")) is None
    recorded = (NAME, "ValueError", "generated_activations has no activations for ['block1_conv1']")
    assert "style_layers and content_layer" in checks.exception_text_problem(*recorded)


def test_a_step_that_differs_only_under_tf_function_is_named():
    """Python state in the step: right eagerly, something else once traced."""
    calls = []

    def step(generated_image, feature_extractor, content_targets, style_targets, optimizer,
             content_layer="block4_conv2", style_layers=costs.STYLE_LAYERS, alpha=10, beta=40):  # fmt: skip
        calls.append(1)  # runs at every eager call, only once while tracing
        sign = 1.0 if len(calls) <= 2 else -1.0
        with tf.GradientTape() as tape:
            activations = feature_extractor(generated_image)
            J_style = costs.compute_style_cost(style_targets, activations, style_layers)
            J_content = costs.compute_content_cost(
                content_targets[content_layer], activations[content_layer]
            )
            J = costs.total_cost(J_content, J_style, alpha=alpha, beta=beta)
        grad = tape.gradient(J, generated_image)
        optimizer.apply_gradients([(sign * grad, generated_image)])
        generated_image.assign(clip_0_1(generated_image))
        return J

    case = checks.cases(NAME)[0]
    verdict = checks.judge(NAME, case, checks.run_case(step, NAME, case))
    assert verdict == step_mistakes.COMPILED_DIFFERS


def test_a_step_that_keeps_state_of_its_own_between_runs_is_named():
    """The second hidden case runs the step eagerly twice from the same start: a step that
    behaves otherwise the second time is named (a global counter here)."""
    calls = []

    def step(generated_image, feature_extractor, content_targets, style_targets, optimizer,
             content_layer="block4_conv2", style_layers=costs.STYLE_LAYERS, alpha=10, beta=40):  # fmt: skip
        calls.append(1)
        if len(calls) > 2:
            generated_image.assign_add(tf.fill(generated_image.shape, 0.01))
        return reference_step.train_step(generated_image, feature_extractor, content_targets,
                                         style_targets, optimizer, content_layer, style_layers,
                                         alpha, beta)  # fmt: skip

    case = checks.cases(NAME, 4)[1]
    assert float(case["compiled"]) == 0.0
    verdict = checks.judge(NAME, case, checks.run_case(step, NAME, case))
    assert verdict == step_mistakes.RERUN_DIFFERS


def test_the_public_case_and_the_first_hidden_case_of_a_draw_are_compiled():
    assert float(checks.cases(NAME)[0]["compiled"]) == 1.0
    for seed in range(20):
        first, second = checks.cases(NAME, seed)
        assert (float(first["compiled"]), float(second["compiled"])) == (1.0, 0.0)
        assert first["generated_image"].shape != second["generated_image"].shape


def test_a_step_that_loses_the_optimizers_state_is_named():
    def step(generated_image, feature_extractor, content_targets, style_targets, optimizer,
             content_layer="block4_conv2", style_layers=costs.STYLE_LAYERS, alpha=10, beta=40):  # fmt: skip
        for variable in optimizer.variables:  # resets the state the optimizer keeps
            if variable.shape == generated_image.shape:
                variable.assign(tf.zeros_like(variable))
        return reference_step.train_step(generated_image, feature_extractor, content_targets,
                                         style_targets, optimizer, content_layer, style_layers,
                                         alpha, beta)  # fmt: skip

    expect_failure(NAME, step, "first step matches the reference step, but its second does not")


# ---------------------------------------------------------------- the judge itself


def reference_record():
    case = checks.cases(NAME)[0]
    returned = checks.run_case(reference_step.train_step, NAME, case)
    assert checks.judge(NAME, case, returned) is None
    return case, returned


def with_extra(returned, **changes):
    extra = {key: np.array(value) for key, value in returned.extra.items()}
    for key, value in changes.items():
        if value is None:
            extra.pop(key)
        else:
            extra[key] = value
    return checks.Returned(returned.kind, returned.type_name, returned.value, extra)


def test_forged_or_broken_records_give_a_message_never_an_exception_or_a_pass():
    case, returned = reference_record()
    images = returned.extra["images"]
    forged = {
        "missing images": {"images": None},
        "missing costs": {"costs": None},
        "images of another shape": {"images": images[:, :, :-1]},
        "a huge array": {"images": np.zeros((4_000_000,))},
        "NaN images": {"images": np.full_like(images, np.nan)},
        "text": {"images": "the right images"},
        "NaN costs": {"costs": np.full(4, np.nan)},
        "negative iterations with wrong images": {"images": images[::-1], "iterations": [-1, -1]},
        "counts of another shape": {"iterations": np.zeros(5)},
        "infinite counts": {"variables_created": [np.inf, 0]},
    }
    for label, changes in forged.items():
        verdict = checks.judge(NAME, case, with_extra(returned, **changes))
        assert isinstance(verdict, str) and verdict, label
    huge_value = checks.Returned("tf", "EagerTensor", np.zeros((3000, 3000)), returned.extra)
    assert "expected a scalar" in checks.judge(NAME, case, huge_value)


def test_the_judge_computes_what_it_compares_with():
    """Nothing in the record is trusted: start images, images of another run, or a shifted
    image are wrong, even with forged counters that say the optimizer ran."""
    case, returned = reference_record()
    images = returned.extra["images"]
    start = np.broadcast_to(case["generated_image"], images.shape)
    shifted = np.clip(images + 0.02, 0.0, 1.0)
    for forged_images in (start, shifted, images[[1, 0, 3, 2]]):
        verdict = checks.judge(NAME, case, with_extra(returned, images=forged_images))
        assert verdict is not None


def test_hidden_messages_quote_no_number():
    """No message on a hidden case reveals a size or a value (the grader also scrubs them)."""
    mistakes = [
        make_step(result="J_content"),
        make_step(result="grad"),
        make_step(gradient_of="content"),
        make_step(apply="assign_sub"),
        make_step(clip="none"),
        make_step(result="after"),
    ]
    for step in mistakes:
        for verdict in hidden_verdicts(NAME, step, 2, **EAGER):
            assert verdict and not quoted_numbers(verdict), verdict
    case = checks.cases(NAME, 2)[0]
    returned = checks.run_case(reference_step.train_step, NAME, case, **EAGER)
    returned.value = returned.value * 1.3  # an unnamed wrong cost
    returned.extra["costs"] = returned.extra["costs"] * 1.3
    verdict = checks.judge(NAME, case, returned)
    assert "returned a wrong value" in verdict and not quoted_numbers(verdict)


def test_cases_never_use_the_default_weights():
    """If a case used alpha=10, beta=40 (or 40/10, or alpha == beta), ignoring the arguments
    (or swapping them) would go unnoticed on it."""
    for seed in [None, *range(300)]:
        for case in checks.cases(NAME, seed):
            alpha, beta = float(case["alpha"]), float(case["beta"])
            assert (alpha, beta) not in {(10.0, 40.0), (40.0, 10.0)}, seed
            assert alpha > 10.0 and beta > 40.0, seed
            assert not (2 / 3 <= beta / alpha <= 1.5 or 2.9 <= beta / alpha <= 5.5), seed
