"""The learner checks: the reference passes, and each classic mistake gets its own message.

Every wrong implementation below is a mistake learners make; the test asserts the exact
words of the message the check gives it, so that a check that stops naming a mistake fails.
"""

import re

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import checks, costs, reference_step
from nst_helpers.reference_step import clip_0_1

REFERENCES = {
    "compute_content_cost": costs.compute_content_cost,
    "gram_matrix": costs.gram_matrix,
    "compute_layer_style_cost": costs.compute_layer_style_cost,
    "total_cost": costs.total_cost,
    "train_step": reference_step.train_step,
}


def expect_failure(function_name, function, *words):
    """Run the check on ``function`` and assert that its message contains every phrase."""
    with pytest.raises(AssertionError) as raised:
        checks.check(function_name, function)
    message = str(raised.value)
    for phrase in words:
        assert phrase in message, f"{phrase!r} not in the message:\n{message}"
    return message


# ------------------------------------------------------------------ the contract


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
def test_reference_passes_the_learner_check(function_name, capsys):
    checks.check(function_name, REFERENCES[function_name])
    assert "All tests passed." in capsys.readouterr().out


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
@pytest.mark.parametrize("seed", [0, 7, 123])
def test_reference_passes_hidden_cases(function_name, seed):
    for case in checks.cases(function_name, seed):
        returned = checks.run_case(REFERENCES[function_name], function_name, case)
        assert checks.judge(function_name, case, returned) is None


@pytest.mark.parametrize(
    "function_name",
    ["compute_content_cost", "gram_matrix", "compute_layer_style_cost", "total_cost"],
)
def test_reference_never_fails_a_hidden_draw(function_name):
    """A correct submission must score on every seed the grader may draw (it once did not:
    a square A, n_H*n_W == n_C, was taken for an element-wise product)."""
    for seed in range(300):
        for case in checks.cases(function_name, seed):
            returned = checks.run_case(REFERENCES[function_name], function_name, case)
            assert checks.judge(function_name, case, returned) is None, (seed, case.keys())


def test_gram_mistakes_on_a_square_matrix_are_told_by_their_values():
    A = np.random.RandomState(0).randn(6, 6).astype(np.float32)
    case = {"A": A}

    def verdict(function):
        return checks.judge("gram_matrix", case, checks.run_case(function, "gram_matrix", case))

    assert verdict(costs.gram_matrix) is None
    assert "element-wise" in verdict(lambda A: A * A)
    assert "transpose(A)·A" in verdict(lambda A: tf.matmul(tf.transpose(A), A))


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
def test_cases_are_reproducible_float32_numpy(function_name):
    for seed in (None, 3):
        first, second = checks.cases(function_name, seed), checks.cases(function_name, seed)
        assert len(first) == len(second) >= 1
        for one, other in zip(first, second, strict=True):
            assert one.keys() == other.keys()
            for key in one:
                assert isinstance(one[key], np.ndarray) and one[key].dtype == np.float32
                np.testing.assert_array_equal(one[key], other[key])


@pytest.mark.parametrize("function_name", ["compute_content_cost", "compute_layer_style_cost"])
def test_activation_cases_have_three_different_sizes(function_name):
    for seed in (None, 0, 1, 2):
        activation = checks.cases(function_name, seed)[0]["a_G"]
        _, n_H, n_W, n_C = activation.shape
        assert len({n_H, n_W, n_C}) == 3


def test_hidden_cases_differ_from_public_ones():
    public = checks.cases("compute_layer_style_cost")[0]["a_S"]
    hidden = checks.cases("compute_layer_style_cost", 5)[0]["a_S"]
    assert public.shape != hidden.shape or not np.array_equal(public, hidden)


def test_unknown_function_name_is_a_value_error():
    with pytest.raises(ValueError, match="unknown graded function 'gram'"):
        checks.cases("gram")


def test_describe_kinds():
    assert checks.describe(None, "total_cost").kind == "none"
    assert checks.describe(tf.constant(1.0), "total_cost").kind == "tf"
    assert checks.describe(tf.Variable(1.0), "total_cost").kind == "tf"
    assert checks.describe(np.float32(1.0), "total_cost").kind == "numpy"
    assert checks.describe(np.ones(2), "total_cost").kind == "numpy"
    assert checks.describe(1.5, "total_cost").kind == "python"
    other = checks.describe("1.5", "total_cost")
    assert other.kind == "other" and other.type_name == "str"


def test_judge_accepts_tf32_sized_errors_and_rejects_larger_ones():
    case = checks.cases("compute_layer_style_cost")[0]
    exact = float(costs.compute_layer_style_cost(case["a_S"], case["a_G"]))
    near = checks.Returned("tf", "EagerTensor", np.asarray(exact * (1 + 2e-3)))
    far = checks.Returned("tf", "EagerTensor", np.asarray(exact * 1.1))
    assert checks.judge("compute_layer_style_cost", case, near) is None
    assert checks.judge("compute_layer_style_cost", case, far) is not None


# ------------------------------------------------------------- compute_content_cost


def content_dims(a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    return n_H, n_W, n_C


def test_content_returned_none():
    def blank(a_C, a_G):
        J_content = None
        return J_content

    expect_failure("compute_content_cost", blank, "returned None", "not filled in")


def test_content_untouched_release_unpacking_none_says_fill_in():
    def blank(a_C, a_G):
        _, n_H, n_W, n_C = None
        return None

    expect_failure("compute_content_cost", blank, "raised TypeError", "not filled in")


def test_content_numpy_result():
    def with_numpy(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return np.sum((a_C.numpy() - a_G.numpy()) ** 2) / (4 * n_H * n_W * n_C)

    expect_failure("compute_content_cost", with_numpy, "NumPy", "instead of a TensorFlow tensor")


def test_content_python_float_result():
    def as_float(a_C, a_G):
        return float(costs.compute_content_cost(a_C, a_G))

    expect_failure("compute_content_cost", as_float, "Python float", "do not call .numpy()")


def test_content_wrong_shape():
    def kept_dims(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.reduce_sum(tf.square(a_C - a_G), keepdims=True) / (4 * n_H * n_W * n_C)

    expect_failure("compute_content_cost", kept_dims, "shape (1, 1, 1, 1)", "expected a scalar")


def test_content_forgot_to_sum():
    def no_sum(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.square(a_C - a_G) / (4 * n_H * n_W * n_C)

    expect_failure("compute_content_cost", no_sum, "you forgot to sum (tf.reduce_sum)")


def test_content_missing_quarter():
    def no_quarter(a_C, a_G):
        return tf.reduce_mean(tf.square(a_C - a_G))

    expect_failure("compute_content_cost", no_quarter, "off by a factor 4", "missing the 1/4")


def test_content_wrong_dimensions():
    def wrong_axes(a_C, a_G):
        n_H, n_W, n_C = a_G.get_shape().as_list()[:3]  # the batch axis m taken as n_H
        return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)

    expect_failure(
        "compute_content_cost", wrong_axes, "off by a factor n_C = 7", "wrong dimensions"
    )


def test_content_operator_precedence():
    def precedence(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.reduce_sum(tf.square(a_C - a_G)) / 4 * n_H * n_W * n_C

    expect_failure("compute_content_cost", precedence, "operator precedence", "/ (4 * n_H")


def test_content_not_squared():
    def not_squared(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.reduce_sum(a_C - a_G) / (4 * n_H * n_W * n_C)

    expect_failure("compute_content_cost", not_squared, "forgot to square the differences")


def test_content_absolute_values_instead_of_squares():
    def absolute(a_C, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_sum(tf.abs(a_C - a_G)) / (4 * n_H * n_W * n_C)

    expect_failure("compute_content_cost", absolute, "absolute values (tf.abs)", "tf.square")


def test_content_reduce_mean_and_the_full_normaliser():
    def mean_then_divide(a_C, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_mean(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)

    expect_failure("compute_content_cost", mean_then_divide, "tf.reduce_mean", "tf.reduce_sum")


def test_content_subtracts_a_tensor_from_itself():
    def self_difference(a_C, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_sum(tf.square(a_C - a_C)) / (4 * n_H * n_W * n_C)

    expect_failure("compute_content_cost", self_difference, "returned 0", "a_C - a_G")


def test_content_unnamed_mistake_points_to_equation_1():
    def cubed(a_C, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        return tf.reduce_sum(tf.abs(a_C - a_G) ** 3) / (4 * n_H * n_W * n_C)

    message = expect_failure("compute_content_cost", cubed, "equation (1) of the notebook")
    assert "equation above" not in message


def test_content_property_cost_with_itself_is_zero():
    def ignores_a_G(a_C, a_G):
        n_H, n_W, n_C = content_dims(a_G)
        return tf.reduce_sum(tf.square(a_C)) / (4 * n_H * n_W * n_C)

    expect_failure("compute_content_cost", ignores_a_G, "with itself must be 0")


def test_content_other_error_keeps_its_traceback():
    def broken(a_C, a_G):
        return tf.reduce_sum(tf.square(a_C - a_G)) / undefined_name  # noqa: F821

    with pytest.raises(AssertionError, match="raised NameError") as raised:
        checks.check("compute_content_cost", broken)
    assert isinstance(raised.value.__cause__, NameError)


# ------------------------------------------------------------------- gram_matrix


def test_gram_returned_none():
    def blank(A):
        GA = None
        return GA

    expect_failure("gram_matrix", blank, "gram_matrix returned None", "START CODE HERE")


def test_gram_transposed_the_wrong_matrix():
    def positions(A):
        return tf.matmul(tf.transpose(A), A)

    expect_failure("gram_matrix", positions, "transpose(A)·A", "tf.matmul(A, tf.transpose(A))")


def test_gram_element_wise():
    def element_wise(A):
        return A * A

    expect_failure("gram_matrix", element_wise, "multiplied element-wise")


def test_gram_numpy():
    def with_numpy(A):
        return np.dot(A.numpy(), A.numpy().T)

    expect_failure("gram_matrix", with_numpy, "NumPy ndarray instead of a TensorFlow tensor")


def test_gram_normalised():
    def normalised(A):
        return tf.matmul(A, tf.transpose(A)) / tf.cast(tf.shape(A)[1], tf.float32)

    expect_failure("gram_matrix", normalised, "you normalised the Gram matrix")


def test_gram_not_symmetric():
    def lopsided(A):
        gram = tf.matmul(A, tf.transpose(A))
        return gram + tf.linalg.band_part(tf.ones_like(gram), 0, -1)

    expect_failure("gram_matrix", lopsided, "not symmetric")


# ------------------------------------------------------ compute_layer_style_cost


def style_cost_with(a_S, a_G, unroll, denominator):
    GS = tf.matmul(unroll(a_S), tf.transpose(unroll(a_S)))
    GG = tf.matmul(unroll(a_G), tf.transpose(unroll(a_G)))
    return tf.reduce_sum(tf.square(GS - GG)) / denominator


def dims(a_G):
    _, n_H, n_W, n_C = a_G.get_shape().as_list()
    return n_H, n_W, n_C


def good_unroll(a):
    return tf.transpose(tf.reshape(a, [-1, a.shape[-1]]))


def test_style_reshape_without_transpose():
    def no_transpose(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)

        def unroll(a):
            return tf.reshape(a, [n_C, n_H * n_W])

        return style_cost_with(a_S, a_G, unroll, 4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure(
        "compute_layer_style_cost", no_transpose, "unrolled without the transpose", "tf.transpose"
    )


def test_style_grams_of_positions():
    def positions(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)

        def unroll(a):
            return tf.reshape(a, [n_H * n_W, n_C])

        return style_cost_with(a_S, a_G, unroll, 4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure("compute_layer_style_cost", positions, "Gram matrices of positions")


def test_style_divided_by_n_C_instead_of_its_square():
    def n_C_once(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        return style_cost_with(a_S, a_G, good_unroll, 4 * n_C * (n_H * n_W) ** 2)

    expect_failure(
        "compute_layer_style_cost", n_C_once, "off by a factor n_C = 7", "instead of n_C**2"
    )


def test_style_missing_quarter():
    def no_quarter(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        return style_cost_with(a_S, a_G, good_unroll, n_C**2 * (n_H * n_W) ** 2)

    expect_failure("compute_layer_style_cost", no_quarter, "missing the 1/4")


def test_style_wrong_tensors_dimensions():
    def gram_size(a_S, a_G):
        _, _, n_C = dims(a_G)
        GS = tf.matmul(good_unroll(a_S), tf.transpose(good_unroll(a_S)))
        positions = GS.shape[1]  # n_C, the Gram matrix's size, not n_H * n_W
        return style_cost_with(a_S, a_G, good_unroll, 4 * n_C**2 * positions**2)

    expect_failure("compute_layer_style_cost", gram_size, "wrong tensor's dimensions")


def test_style_reduce_mean_instead_of_reduce_sum():
    """The mean over the n_C x n_C Gram difference divides by n_C**2 once more."""

    def with_mean(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        GS = tf.matmul(good_unroll(a_S), tf.transpose(good_unroll(a_S)))
        GG = tf.matmul(good_unroll(a_G), tf.transpose(good_unroll(a_G)))
        return tf.reduce_mean(tf.square(GS - GG)) / (4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure(
        "compute_layer_style_cost",
        with_mean,
        "n_C**2 times too small",
        "tf.reduce_mean instead of tf.reduce_sum",
    )


def test_style_absolute_values_instead_of_squares():
    def absolute(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        GS = tf.matmul(good_unroll(a_S), tf.transpose(good_unroll(a_S)))
        GG = tf.matmul(good_unroll(a_G), tf.transpose(good_unroll(a_G)))
        return tf.reduce_sum(tf.abs(GS - GG)) / (4 * n_C**2 * (n_H * n_W) ** 2)

    expect_failure(
        "compute_layer_style_cost", absolute, "absolute values (tf.abs)", "tf.square(GS - GG)"
    )


def test_style_unnamed_mistake_points_to_equation_2():
    def cubed(a_S, a_G):
        n_H, n_W, n_C = dims(a_G)
        GS = tf.matmul(good_unroll(a_S), tf.transpose(good_unroll(a_S)))
        GG = tf.matmul(good_unroll(a_G), tf.transpose(good_unroll(a_G)))
        return tf.reduce_sum(tf.abs(GS - GG) ** 3) / (4 * n_C**2 * (n_H * n_W) ** 2)

    message = expect_failure("compute_layer_style_cost", cubed, "equation (2) of the notebook")
    assert "equation above" not in message


def test_style_python_float():
    def as_float(a_S, a_G):
        return costs.compute_layer_style_cost(a_S, a_G).numpy().item()

    expect_failure("compute_layer_style_cost", as_float, "Python float")


def test_style_returned_none():
    def blank(a_S, a_G):
        J_style_layer = None
        return J_style_layer

    expect_failure("compute_layer_style_cost", blank, "compute_layer_style_cost returned None")


# -------------------------------------------------------------------- total_cost


def test_total_alpha_beta_swapped():
    def swapped(J_content, J_style, alpha=10, beta=40):
        return beta * J_content + alpha * J_style

    expect_failure("total_cost", swapped, "alpha and beta are swapped")


def test_total_ignores_its_arguments():
    def constants(J_content, J_style, alpha=10, beta=40):
        return 10 * J_content + 40 * J_style

    expect_failure("total_cost", constants, "numbers 10 and 40 instead of the arguments")


def test_total_unweighted():
    def unweighted(J_content, J_style, alpha=10, beta=40):
        return J_content + J_style

    expect_failure("total_cost", unweighted, "without their weights alpha and beta")


def test_total_subtracts_the_style_term():
    def minus(J_content, J_style, alpha=10, beta=40):
        return alpha * J_content - beta * J_style

    expect_failure("total_cost", minus, "subtracted the style term")


def test_total_divided_by_the_sum_of_weights():
    def normalised(J_content, J_style, alpha=10, beta=40):
        return (alpha * J_content + beta * J_style) / (alpha + beta)

    expect_failure("total_cost", normalised, "divided by alpha + beta")


def test_total_numpy():
    def with_numpy(J_content, J_style, alpha=10, beta=40):
        return np.float32(alpha * J_content.numpy() + beta * J_style.numpy())

    expect_failure("total_cost", with_numpy, "NumPy float32 instead of a TensorFlow tensor")


# -------------------------------------------------------------------- train_step


def make_step(
    apply=True,
    clip=True,
    sign=1.0,
    result="J",
    swap=False,
    defaults=False,
    style_weights=None,
    notebook_globals=(),
):
    """A train_step with one deliberate mistake, chosen by the arguments.

    ``defaults``: total_cost without alpha=alpha, beta=beta; ``style_weights``: the same weight
    (a number) for every style layer instead of the given ones; ``notebook_globals``: which of
    "content", "style" read the notebook's CONTENT_LAYER / STYLE_LAYERS instead of the arguments.
    """

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
        weights = (beta, alpha) if swap else (alpha, beta)
        if "content" in notebook_globals:
            content_layer = costs.CONTENT_LAYER
        if "style" in notebook_globals:
            style_layers = costs.STYLE_LAYERS
        if style_weights is not None:
            style_layers = [(name, style_weights) for name, _ in style_layers]
        with tf.GradientTape() as tape:
            activations = feature_extractor(generated_image)
            J_style = costs.compute_style_cost(style_targets, activations, style_layers)
            J_content = costs.compute_content_cost(
                content_targets[content_layer], activations[content_layer]
            )
            if defaults:
                J = costs.total_cost(J_content, J_style)
            else:
                J = costs.total_cost(J_content, J_style, alpha=weights[0], beta=weights[1])
        grad = tape.gradient(J, generated_image)
        if apply:
            optimizer.apply_gradients([(sign * grad, generated_image)])
        if clip:
            generated_image.assign(clip_0_1(generated_image))
        return {"J": J, "none": None, "grad": grad, "J_content": J_content}[result]

    return train_step


def test_train_step_returned_none():
    expect_failure("train_step", make_step(result="none"), "train_step returned None", "return J")


def test_train_step_never_applies_gradients():
    expect_failure(
        "train_step",
        make_step(apply=False),
        "did not change the image: it never applies the gradients",
        "optimizer.apply_gradients([(grad, generated_image)])",
    )


def test_train_step_does_not_clip():
    expect_failure(
        "train_step",
        make_step(clip=False),
        "outside [0, 1]",
        "does not clip",
        "generated_image.assign(clip_0_1(generated_image))",
    )


def test_train_step_goes_uphill():
    expect_failure("train_step", make_step(sign=-1.0), "increased the total cost")


def test_train_step_returns_the_gradient():
    expect_failure("train_step", make_step(result="grad"), "shape of the image", "must return J")


def test_train_step_returns_content_cost():
    expect_failure("train_step", make_step(result="J_content"), "it returned J_content")


def test_train_step_alpha_beta_swapped():
    expect_failure("train_step", make_step(swap=True), "alpha and beta are swapped")


def test_train_step_ignores_alpha_and_beta():
    """total_cost(J_content, J_style) without alpha=alpha, beta=beta: the public case shows it."""
    expect_failure("train_step", make_step(defaults=True), "ignores the alpha and beta arguments")


def test_train_step_ignoring_alpha_and_beta_fails_hidden_cases_too():
    mistaken = make_step(defaults=True)
    for seed in (0, 7, 123):
        for case in checks.cases("train_step", seed):
            verdict = checks.judge(
                "train_step", case, checks.run_case(mistaken, "train_step", case)
            )
            assert verdict is not None and "ignores the alpha and beta arguments" in verdict


def test_train_step_cases_never_use_the_default_weights():
    """If a case used alpha=10, beta=40 (or 40/10, or alpha == beta), ignoring the arguments
    (or swapping them) would go unnoticed on it."""
    for seed in [None, *range(300)]:
        for case in checks.cases("train_step", seed):
            alpha, beta = float(case["alpha"]), float(case["beta"])
            assert (alpha, beta) not in {(10.0, 40.0), (40.0, 10.0)}, seed
            assert alpha != beta, seed
            assert alpha != 10.0 and beta != 40.0, seed


@pytest.mark.parametrize("weight", [1.0 / 3.0, 1.0])
def test_train_step_ignores_the_style_weights(weight):
    expect_failure(
        "train_step", make_step(style_weights=weight), "ignores the weights of style_layers"
    )


@pytest.mark.parametrize("which", [("content",), ("style",), ("content", "style")])
def test_train_step_uses_the_notebook_globals(which):
    message = expect_failure(
        "train_step",
        make_step(notebook_globals=which),
        "your train_step uses the notebook's STYLE_LAYERS/CONTENT_LAYER: use its arguments "
        "style_layers and content_layer",
    )
    assert "block" in message  # names the VGG layer the tiny network lacks


def test_exception_problem_only_names_vgg_layers_missing_from_the_case():
    assert checks.exception_problem("train_step", KeyError("block4_conv2")) is not None
    assert checks.exception_problem("train_step", KeyError("conv2")) is None
    assert checks.exception_problem("train_step", TypeError("block4_conv2")) is None
    assert checks.exception_problem("gram_matrix", KeyError("block4_conv2")) is None
    recorded = (
        "train_step",
        "ValueError",
        "generated_activations has no activations for ['block1_conv1']",
    )
    assert "style_layers and content_layer" in checks.exception_text_problem(*recorded)


def test_train_step_judge_names_the_cost_after_the_step():
    case = checks.cases("train_step")[0]
    returned = checks.run_case(reference_step.train_step, "train_step", case)
    _, _, J_after = checks.tiny_costs(case, returned.extra["image_after"])
    returned.value = np.asarray(J_after)
    assert "cost after the step" in checks.judge("train_step", case, returned)


def test_not_a_function():
    with pytest.raises(AssertionError, match=re.escape("is None, not a function")):
        checks.check_gram_matrix(None)


@pytest.mark.parametrize("function_name", checks.GRADED_FUNCTIONS)
def test_reference_compiled_with_tf_function_passes(function_name, capsys):
    """Learners may decorate their function with @tf.function; the check must still work."""
    checks.check(function_name, tf.function(REFERENCES[function_name]))
    assert "All tests passed." in capsys.readouterr().out


def test_unknown_static_shapes_inside_tf_function_get_their_own_hint():
    spec = tf.TensorSpec([1, None, None, None], tf.float32)

    @tf.function(input_signature=[spec, spec])
    def compute_layer_style_cost(a_S, a_G):
        _, n_H, n_W, n_C = a_G.shape
        a_S = tf.transpose(tf.reshape(a_S, [-1, n_C]))
        a_G = tf.transpose(tf.reshape(a_G, [-1, n_C]))
        difference = tf.matmul(a_S, a_S, transpose_b=True) - tf.matmul(a_G, a_G, transpose_b=True)
        return tf.reduce_sum(difference**2) / (4.0 * n_C**2 * (n_H * n_W) ** 2)

    message = expect_failure("compute_layer_style_cost", compute_layer_style_cost, "tf.shape(a_G)")
    assert "not filled in" not in message
