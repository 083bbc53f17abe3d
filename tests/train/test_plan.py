"""The run's plan (scales, steps, work, style-layer weights) and the engine's own Gram matrix.

The Gram matrix and its gradient are compared with an independent float64 NumPy
reference on fixed arrays (NumPy's legacy RandomState), with tolerances that hold with
TF32 matrix products.
"""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.costs import STYLE_LAYERS
from nst_helpers.train.options import StylizeOptions
from nst_helpers.train.plan import (
    Plan,
    Scale,
    longest_sides,
    make_plan,
    scaled_size,
    steps_per_scale,
)
from nst_helpers.train.steps import gram_of_activation

CHANNELS = {"block1_conv1": 64, "block2_conv1": 128, "block3_conv1": 256,
            "block4_conv1": 512, "block5_conv1": 512}  # fmt: skip


def test_the_default_plan_is_one_scale():
    plan = make_plan(StylizeOptions(), (400, 600), CHANNELS)
    assert [(scale.size, scale.steps) for scale in plan.scales] == [((256, 384), 150)]
    assert plan.work_total == 150


def test_a_three_scale_plan_for_a_3_by_2_photo():
    plan = make_plan(
        StylizeOptions(steps=300, scales=3), (400, 600), CHANNELS, "float32", "asked for"
    )
    assert [scale.size for scale in plan.scales] == [(64, 96), (128, 192), (256, 384)]
    assert [scale.steps for scale in plan.scales] == [100, 100, 100]
    assert plan.steps_total == 300
    # a step at half the size costs a quarter: 100/16 + 100/4 + 100
    assert plan.work_total == pytest.approx(100 / 16 + 100 / 4 + 100)
    assert plan.step_work(0) == pytest.approx(1 / 16) and plan.step_work(2) == 1.0
    weights = [weight for _, weight in plan.style_layers]
    np.testing.assert_allclose(np.array(weights) / weights[-1], [64, 16, 4, 1, 1])
    assert (plan.precision, plan.precision_reason) == ("float32", "asked for")


def test_uniform_weighting_keeps_the_weights():
    plan = make_plan(StylizeOptions(style_layer_weighting="uniform"), (64, 64), CHANNELS)
    assert plan.style_layers == tuple(STYLE_LAYERS)


def test_too_small_coarse_scales_are_dropped_and_their_steps_kept():
    options = StylizeOptions(image_size=64, steps=30, scales=[32, 48, 64])
    with pytest.raises(ValueError, match="short side must be at least 16"):
        make_plan(StylizeOptions(image_size=64, steps=3, scales=1), (10, 100), CHANNELS)
    plan = make_plan(options, (25, 100), CHANNELS)  # 8, 12 then 16 px high
    assert [scale.size for scale in plan.scales] == [(16, 64)]
    assert plan.steps_total == 30


def test_schedule_arithmetic():
    assert longest_sides(384, 3) == [96, 192, 384]
    assert longest_sides(64, 3) == [32, 64]  # none below 32 px
    assert longest_sides(384, [128, 384]) == [128, 384]
    for bad in (True, 0, 11, [384, 128], [16, 384], "3", []):
        with pytest.raises(ValueError, match="scales"):
            longest_sides(384, bad)
    assert steps_per_scale(10, 3) == [3, 3, 4]
    with pytest.raises(ValueError, match="fewer than the 3 scales"):
        steps_per_scale(2, 3)
    assert scaled_size(400, 600, 384) == (256, 384)


def test_plan_work_with_unequal_scales():
    plan = Plan((Scale((10, 10), 4), Scale((20, 20), 2)), (("block1_conv1", 1.0),))
    assert plan.work_total == pytest.approx(4 * 0.25 + 2)


def test_the_plan_is_made_once_per_run(monkeypatch):
    import warnings

    from nst_helpers import train
    from nst_helpers.vgg import load_vgg19

    made = []
    original = train.make_plan

    def counting(*args, **kwargs):
        made.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(train, "make_plan", counting)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vgg = load_vgg19("random")
    image = tf.fill((1, 64, 64, 3), 0.5)
    result = train.stylize(image, image, vgg=vgg, image_size=64, steps=4, scales=2, progress=False)
    assert made == [1] and result.plan.steps_total == 4
    assert result.history.work == pytest.approx([0.25, 0.5, 1.5, 2.5])


@pytest.mark.parametrize("shape", [(1, 5, 7, 4), (1, 3, 3, 9), (1, 1, 1, 2)])
def test_gram_of_activation_matches_a_float64_reference(shape):
    random_state = np.random.RandomState(sum(shape))
    activation = random_state.uniform(-1, 1, shape).astype(np.float32)
    upstream = random_state.uniform(-1, 1, (shape[3], shape[3])).astype(np.float32)
    features = activation.astype(np.float64).reshape(-1, shape[3])
    expected_gram = features.T @ features
    # d/dF of Σ U ∘ (FᵀF) = F·(U + Uᵀ)
    expected_gradient = (features @ (upstream + upstream.T)).reshape(shape)
    tensor = tf.constant(activation)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        gram = gram_of_activation(tensor)
        weighted = tf.reduce_sum(gram * upstream)
    gradient = tape.gradient(weighted, tensor)
    # TF32 rounds the inputs to 10 bits: relative error ~ 2^-11 per product, times the terms
    tolerance = 2.0**-10 * np.abs(features).max() ** 2 * features.shape[0]
    np.testing.assert_allclose(gram.numpy(), expected_gram, atol=tolerance, rtol=0)
    gradient_tolerance = tolerance * np.abs(upstream).max() * 2 * shape[3] / features.shape[0]
    np.testing.assert_allclose(gradient.numpy(), expected_gradient, atol=gradient_tolerance)
    np.testing.assert_allclose(gram.numpy(), gram.numpy().T, atol=tolerance)


def test_gram_of_activation_agrees_with_the_course_reference_inside_tf_function():
    from nst_helpers.costs import gram_matrix, unroll_activation

    activation = tf.constant(
        np.random.RandomState(4).uniform(0, 2, (1, 6, 5, 8)).astype(np.float32)
    )
    both = tf.function(lambda a: (gram_of_activation(a), gram_matrix(unroll_activation(a))))
    ours, reference = both(activation)
    np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=2e-3, atol=1e-4)
