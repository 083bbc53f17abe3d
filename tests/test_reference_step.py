"""The reference train_step: one Adam step lowers the cost, keeps pixels in [0, 1], returns J."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.costs import compute_content_cost, compute_style_cost, total_cost
from nst_helpers.reference_step import clip_0_1, train_step
from nst_helpers.vgg import make_feature_extractor

STYLE_LAYERS = [("block1_conv1", 0.5), ("block2_conv1", 0.5)]
CONTENT_LAYER = "block2_conv2"


@pytest.fixture(scope="module")
def problem():
    extractor = make_feature_extractor(
        [name for name, _ in STYLE_LAYERS] + [CONTENT_LAYER], weights="random"
    )
    random_state = np.random.RandomState(0)
    content = random_state.rand(1, 16, 16, 3).astype(np.float32)
    style = random_state.rand(1, 16, 16, 3).astype(np.float32)
    return extractor, extractor(content), extractor(style), content


def cost(image, extractor, content_targets, style_targets):
    activations = extractor(image)
    J_content = compute_content_cost(content_targets[CONTENT_LAYER], activations[CONTENT_LAYER])
    return total_cost(J_content, compute_style_cost(style_targets, activations, STYLE_LAYERS))


@pytest.mark.parametrize("compiled", [False, True])
def test_train_step_lowers_the_cost_and_clips(problem, compiled):
    extractor, content_targets, style_targets, content = problem
    noise = np.random.RandomState(1).uniform(-0.25, 0.25, content.shape).astype(np.float32)
    generated_image = tf.Variable(np.clip(content + noise, 0, 1))
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    step = tf.function(train_step) if compiled else train_step
    before = float(cost(generated_image, extractor, content_targets, style_targets))
    returned = []
    for _ in range(5):
        returned.append(
            float(
                step(
                    generated_image,
                    extractor,
                    content_targets,
                    style_targets,
                    optimizer,
                    content_layer=CONTENT_LAYER,
                    style_layers=STYLE_LAYERS,
                )
            )
        )
    after = float(cost(generated_image, extractor, content_targets, style_targets))
    assert returned[0] == pytest.approx(before, rel=1e-3)
    assert after < before and returned[-1] < returned[0]
    values = generated_image.numpy()
    assert values.min() >= 0.0 and values.max() <= 1.0


def test_clip_0_1():
    clipped = clip_0_1(tf.constant([-0.5, 0.25, 1.5]))
    np.testing.assert_array_equal(clipped.numpy(), [0.0, 0.25, 1.0])


def test_train_step_needs_a_float32_variable(problem):
    extractor, content_targets, style_targets, content = problem
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    arguments = (extractor, content_targets, style_targets, optimizer)
    with pytest.raises(ValueError, match=r"must be a tf.Variable .* tf.Variable\(image\)"):
        train_step(tf.constant(content), *arguments, content_layer=CONTENT_LAYER)
    with pytest.raises(ValueError, match="must be float32, got float64"):
        train_step(tf.Variable(content.astype(np.float64)), *arguments, content_layer=CONTENT_LAYER)


def test_clip_0_1_takes_arrays_of_any_number_type():
    np.testing.assert_array_equal(clip_0_1(np.array([-1, 0, 2])).numpy(), [0.0, 0.0, 1.0])
