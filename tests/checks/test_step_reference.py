"""The train_step judge's reference: the NumPy twin of the tiny network, the optimizer written
out by hand, and the margins every draw leaves between a right step and each named mistake.

The twin is compared with TensorFlow's float64 autodiff, and the hand-written optimizer
with Keras' own; then, over 300 seeds, every hidden draw is shown to keep each named mistake
and the cost after a step far outside the judge's tolerances.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from nst_helpers import checks
from nst_helpers.checks.common import MATMUL_RTOL
from nst_helpers.checks.step_reference import (
    first_step,
    mistaken_objectives,
    optimizer_settings,
    optimizer_step,
    right_objective,
    trajectory,
)
from nst_helpers.checks.tiny_network import (
    TINY_CONTENT_LAYER,
    TINY_LAYERS,
    TINY_STRIDES,
    cost_parts,
    random_network_case,
    targets64,
)
from nst_helpers.checks.train_step import IMAGE_RTOL, STEP_SIZE, make_optimizer
from nst_helpers.costs import compute_content_cost, compute_layer_style_cost


def tensorflow_parts(case, image):
    """Costs and their gradients by TensorFlow's autodiff in float64 (the twin's check)."""
    kernels = {name: tf.constant(case[f"kernel_{name}"].astype(np.float64)) for name in TINY_LAYERS}

    def extract(images):
        x = tf.cast(images, tf.float64) - 0.5
        outputs = {}
        for name in TINY_LAYERS:
            x = tf.nn.softplus(
                tf.nn.conv2d(x, kernels[name], strides=TINY_STRIDES[name], padding="SAME")
            )
            outputs[name] = x
        return outputs

    variable = tf.Variable(image.astype(np.float64))
    content, style = extract(case["content_image"]), extract(case["style_image"])
    with tf.GradientTape(persistent=True) as tape:
        generated = extract(variable)
        J_content = compute_content_cost(content[TINY_CONTENT_LAYER], generated[TINY_CONTENT_LAYER])
        J_layers = [compute_layer_style_cost(style[name], generated[name]) for name in TINY_LAYERS]
    gradients = [tape.gradient(J, variable).numpy() for J in [J_content, *J_layers]]
    return [float(J_content), *map(float, J_layers)], gradients


@pytest.mark.parametrize("size", [7, 12, 13, 16])
def test_the_numpy_twin_matches_tensorflow(size):
    case = random_network_case(np.random.RandomState(size), size)
    image = np.random.RandomState(1).uniform(0, 1, case["generated_image"].shape)
    parts = cost_parts(case, image)
    costs, gradients = tensorflow_parts(case, image)
    np.testing.assert_allclose([parts.J_content, *parts.J_layers], costs, rtol=1e-10)
    for twin, expected in zip([parts.grad_content, *parts.grad_layers], gradients, strict=True):
        np.testing.assert_allclose(twin, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("norm_scale", [100.0, 0.01], ids=["clipped", "not clipped"])
def test_the_hand_written_optimizer_is_keras_sgd_with_momentum_and_global_clipnorm(norm_scale):
    case = checks.cases("train_step")[0]
    settings = optimizer_settings(case)
    random_state = np.random.RandomState(0)
    start = random_state.uniform(0, 1, case["generated_image"].shape)
    gradients = [random_state.randn(*start.shape) for _ in range(3)]
    gradients = [g * norm_scale * settings[2] / np.linalg.norm(g) for g in gradients]
    variable = tf.Variable(start)  # float64: the comparison is of formulas, not of rounding
    optimizer = make_optimizer(case)
    image, velocity = start, np.zeros_like(start)
    for gradient in gradients:
        optimizer.apply_gradients([(tf.constant(gradient), variable)])
        image, velocity = optimizer_step(image, velocity, gradient, settings, clip=False)
        np.testing.assert_allclose(variable.numpy(), image, rtol=1e-12, atol=1e-12)
    assert isinstance(optimizer, keras.optimizers.SGD)


def test_the_reference_trajectory_is_what_tensorflow_does():
    from nst_helpers.checks.tiny_network import TinyFeatureExtractor, tiny_style_layers
    from nst_helpers.reference_step import train_step

    case = checks.cases("train_step", 3)[0]
    extractor = TinyFeatureExtractor(case)
    image = tf.Variable(case["generated_image"])
    optimizer = make_optimizer(case)
    expected = trajectory(case, right_objective(case))
    for step in range(2):
        J = train_step(image, extractor, extractor(case["content_image"]),
                       extractor(case["style_image"]), optimizer, TINY_CONTENT_LAYER,
                       tiny_style_layers(case), float(case["alpha"]), float(case["beta"]))  # fmt: skip
        assert float(J) == pytest.approx(expected.costs[step], rel=1e-5)
        np.testing.assert_allclose(image.numpy(), expected.images[step], atol=1e-5)


def test_every_draw_keeps_the_mistakes_and_the_cost_after_a_step_far_from_the_right_step():
    """Over 300 seeds: the first step is normalised (the gradient's norm exceeds the clip
    norm); each named mistake's image is several tolerances away from the right one (the
    mistakes a wrong cost also shows by at least 1.5 tolerances); a step that loses the
    optimizer's state is too; and J changes by far more than the cost tolerance at each
    step (the first one lowers it; momentum may overshoot in the second), so that the cost
    after a step is never taken for the cost before it."""
    image_only = {"uphill", "no_clip", "no_style", "no_content", "swapped", "unweighted"}
    closest = {}
    for seed in range(300):
        for case in checks.cases("train_step", seed):
            targets = targets64(case)
            start = case["generated_image"].astype(np.float64)
            parts = cost_parts(case, start, targets)
            right = right_objective(case)
            assert np.linalg.norm(right.gradient(parts)) >= 8 * float(case["clipnorm"])
            reference = trajectory(case, right, targets=targets)
            moved = np.abs(reference.images[0] - start).max()
            rms = np.sqrt(np.mean((reference.images[0] - start) ** 2))
            assert STEP_SIZE / 64 < rms <= STEP_SIZE, seed  # clipping only shortens it
            for key, objective in mistaken_objectives(case).items():
                distance = np.abs(first_step(case, objective, parts) - reference.images[0]).max()
                closest[key] = min(closest.get(key, np.inf), distance / moved)
            fresh, _ = optimizer_step(
                reference.images[0],
                np.zeros_like(start),
                right.gradient(cost_parts(case, reference.images[0], targets)),
                optimizer_settings(case),
            )
            moved_twice = max(moved, np.abs(reference.images[1] - start).max())
            state_lost = np.abs(fresh - reference.images[1]).max() / moved_twice
            closest["state_lost"] = min(closest.get("state_lost", np.inf), state_lost)
            costs = reference.costs
            assert all(np.isfinite(costs)), seed
            assert (costs[0] - costs[1]) / costs[0] > 3 * MATMUL_RTOL, seed  # a descent step
            for before, after in zip(costs, costs[1:], strict=False):
                assert abs(before - after) / before > 3 * MATMUL_RTOL, seed
    for key, distance in closest.items():
        margin = 3.0 if key in image_only or key == "state_lost" else 1.5
        assert distance > margin * IMAGE_RTOL, (key, distance)
