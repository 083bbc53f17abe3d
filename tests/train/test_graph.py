"""The compiled train step is float32 throughout: no float64 op reaches the device.

GPUs run float64 slowly or not at all in places; a stray Python float promoted to float64
inside the step would cost that silently. This inspects the traced graph of the engine's
Adam step and of the L-BFGS value-and-gradient function. Both are traced without
AutoGraph (it cost about a second of a fresh process's first step): a loss with Python
control flow on a tensor fails to trace, which shows that nothing converts it.
"""

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.costs import STYLE_LAYERS
from nst_helpers.train.options import StylizeOptions
from nst_helpers.train.steps import (
    AdamRun,
    _make_adam_step,
    _make_value_and_gradient,
    compute_targets,
    make_loss_function,
)
from nst_helpers.vgg import make_feature_extractor


@pytest.fixture(scope="module")
def setting():
    layers = [("block1_conv1", 0.5), ("block2_conv1", 0.5)]
    extractor = make_feature_extractor(["block2_conv2"] + [n for n, _ in layers], weights="random")
    random_state = np.random.RandomState(0)
    content = tf.constant(random_state.rand(1, 16, 16, 3).astype(np.float32))
    style = tf.constant(random_state.rand(1, 16, 16, 3).astype(np.float32))
    targets = compute_targets(extractor, content, style, "block2_conv2", [n for n, _ in layers])
    loss_function = make_loss_function(extractor, "block2_conv2", layers, 10.0, 40.0, 1.0)
    return content, targets, loss_function


def float64_ops(graph) -> list[str]:
    found = []
    for operation in graph.get_operations():
        for tensor in list(operation.outputs) + list(operation.inputs):
            if tensor.dtype == tf.float64:
                found.append(f"{operation.type} {operation.name}")
    return found


def test_adam_step_graph_has_no_float64(setting):
    content, targets, loss_function = setting
    options = StylizeOptions(style_layers=STYLE_LAYERS)
    run = AdamRun(content, targets, loss_function, options, jit_compile=False)
    run.step()
    concrete = run.compiled_step.get_concrete_function(
        run.image, run.best, run.best_loss, run.last_good, run.targets
    )
    assert float64_ops(concrete.graph) == []


def test_lbfgs_value_and_gradient_graph_has_no_float64(setting):
    content, targets, loss_function = setting
    value_and_gradient = _make_value_and_gradient(loss_function, jit_compile=False)
    concrete = value_and_gradient.get_concrete_function(
        tf.Variable(content), targets, tf.constant(1.0)
    )
    assert float64_ops(concrete.graph) == []


def _loss_with_python_control_flow(image, targets):
    total = tf.reduce_sum(image)
    if total > 0:  # a Python if on a tensor: only AutoGraph can trace it
        total = total * 2.0
    return {"total": total}


def test_the_engine_steps_are_traced_without_autograph(setting):
    content, targets, _ = setting
    _, adam_step = _make_adam_step(_loss_with_python_control_flow, 0.04, False)
    image = tf.Variable(content)
    best, last_good = tf.Variable(content), tf.Variable(content)
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        adam_step(image, best, tf.Variable(np.float32(np.inf)), last_good, targets)
    value_and_gradient = _make_value_and_gradient(_loss_with_python_control_flow, False)
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        value_and_gradient(content, targets, tf.constant(1.0))


def test_the_inspection_does_see_float64():
    @tf.function
    def promoted(x):
        return tf.cast(tf.cast(x, tf.float64) * 2.0, tf.float32)

    graph = promoted.get_concrete_function(tf.TensorSpec([2], tf.float32)).graph
    assert float64_ops(graph)
