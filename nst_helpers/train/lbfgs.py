"""A small L-BFGS optimiser for the generated image, in TensorFlow (no SciPy needed).

Gatys et al. and jcjohnson/neural-style optimise with L-BFGS, which often reaches a
lower loss per gradient evaluation than Adam but keeps ``memory`` past steps (two
image-sized vectors each). This is the textbook two-loop recursion (Nocedal & Wright,
Algorithm 7.4) with a backtracking (Armijo) line search, projected onto [0, 1] after
each trial step; pairs whose curvature ``sᵀy`` is not positive are skipped. It works on
any device TensorFlow picks and uses float32 only. Not a general-purpose optimiser: it
serves ``nst_helpers.train``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import tensorflow as tf

#: Armijo's sufficient-decrease constant and the line search's budget.
ARMIJO = 1e-4
MAX_BACKTRACKS = 8


class LineSearchFailed(RuntimeError):
    """No trial step lowered the loss: the optimiser has converged or the loss is not finite."""


class Lbfgs:
    """L-BFGS on one image tensor, driven by a ``value_and_gradient`` function.

    Args:
        value_and_gradient: maps an image (1, H, W, 3) to ``(losses, gradient)``, where
            ``losses["total"]`` is the scalar to minimise.
        memory: how many past (step, gradient change) pairs to keep.
    """

    def __init__(self, value_and_gradient: Callable, memory: int = 10):
        if memory < 1:
            raise ValueError(f"memory must be at least 1, got {memory}.")
        self.value_and_gradient = value_and_gradient
        self.pairs: deque = deque(maxlen=memory)
        self.evaluations = 0

    def evaluate(self, image: tf.Tensor):
        """Losses (as Python floats) and gradient at ``image``."""
        losses, gradient = self.value_and_gradient(image)
        self.evaluations += 1
        return {name: float(value) for name, value in losses.items()}, gradient

    def direction(self, gradient: tf.Tensor) -> tf.Tensor:
        """The quasi-Newton direction −H·g by the two-loop recursion."""
        q = tf.reshape(gradient, [-1])
        alphas = []
        for s, y, rho in reversed(self.pairs):
            alpha = rho * tf.tensordot(s, q, 1)
            q = q - alpha * y
            alphas.append(alpha)
        if self.pairs:
            s, y, _ = self.pairs[-1]
            q = q * (tf.tensordot(s, y, 1) / tf.tensordot(y, y, 1))
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas), strict=True):
            beta = rho * tf.tensordot(y, q, 1)
            q = q + (alpha - beta) * s
        return -tf.reshape(q, tf.shape(gradient))

    def step(self, image: tf.Tensor, losses: dict, gradient: tf.Tensor):
        """Take one step from ``image`` (with its ``losses`` and ``gradient``).

        Returns:
            ``(new_image, new_losses, new_gradient)``; the new image is in [0, 1].

        Raises:
            LineSearchFailed: no step along the direction lowered the loss.
        """
        direction = self.direction(gradient)
        step_size = 1.0
        if not self.pairs:  # first step: move by about one grey level per pixel at most
            step_size = min(1.0, 1.0 / max(float(tf.reduce_max(tf.abs(direction))), 1e-12))
            step_size *= 4.0 / 255.0
        for _ in range(MAX_BACKTRACKS):
            candidate = tf.clip_by_value(image + step_size * direction, 0.0, 1.0)
            moved = candidate - image
            new_losses, new_gradient = self.evaluate(candidate)
            decrease = ARMIJO * float(tf.reduce_sum(gradient * moved))
            if math.isfinite(new_losses["total"]) and (
                new_losses["total"] <= losses["total"] + decrease
            ):
                self._remember(moved, new_gradient - gradient)
                return candidate, new_losses, new_gradient
            step_size *= 0.5
        raise LineSearchFailed(
            f"L-BFGS line search found no lower loss after {MAX_BACKTRACKS} halvings "
            f"(loss {losses['total']:.6g}); the optimisation has converged or stalled."
        )

    def _remember(self, moved: tf.Tensor, gradient_change: tf.Tensor) -> None:
        s = tf.reshape(moved, [-1])
        y = tf.reshape(gradient_change, [-1])
        curvature = float(tf.tensordot(s, y, 1))
        if curvature > 1e-10 * max(float(tf.tensordot(y, y, 1)), 1e-30):
            self.pairs.append((s, y, tf.constant(1.0 / curvature, dtype=s.dtype)))
