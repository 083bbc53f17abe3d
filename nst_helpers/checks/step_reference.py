"""What a right train_step, and each named wrong one, does to a case's image: float64 NumPy.

The train_step check hands the learner's step Keras' ``SGD(learning_rate, momentum,
global_clipnorm)``: momentum makes the second step depend on the optimizer's state, and
the clipped (normalised) gradient makes each step's size independent of the costs' scale.
This module writes that optimizer out by hand and runs it, from the case's starting
image, on the gradient of an ``Objective`` computed by ``tiny_network.cost_parts``: the
right objective gives the reference images the judge compares with; a mistaken one
(a missing term, swapped weights, the wrong sign, no clipping) gives the images that
mistake makes, so that the judge can name it. Not for judging or messages (see
``nst_helpers.checks.train_step``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from nst_helpers.checks.tiny_network import CostParts, cost_parts, targets64

#: How many steps each run of the learner's step takes (the second shows the optimizer's state).
STEPS = 2


@dataclass(frozen=True)
class Objective:
    """What a step differentiates and how it applies it.

    ``alpha * J_content + beta * sum(style_weights * J_layers)``, times ``sign``; ``clip``:
    whether the image is clipped to [0, 1] after the optimizer's step.
    """

    alpha: float
    beta: float
    style_weights: tuple[float, ...]
    sign: float = 1.0
    clip: bool = True

    def cost(self, parts: CostParts) -> float:
        return parts.cost(self.alpha, self.beta, self.style_weights)

    def gradient(self, parts: CostParts) -> np.ndarray:
        return self.sign * parts.gradient(self.alpha, self.beta, self.style_weights)


def right_objective(case: dict[str, np.ndarray]) -> Objective:
    """The objective of the case: its alpha, beta and style weights."""
    weights = tuple(float(w) for w in case["style_weights"])
    return Objective(float(case["alpha"]), float(case["beta"]), weights)


def optimizer_settings(case: dict[str, np.ndarray]) -> tuple[float, float, float]:
    """(learning_rate, momentum, global_clipnorm) of the case's optimizer."""
    return float(case["learning_rate"]), float(case["momentum"]), float(case["clipnorm"])


def optimizer_step(image, velocity, gradient, settings, clip: bool = True):
    """One step of Keras' SGD with momentum on a gradient clipped to a global norm.

    ``g <- g * c / max(|g|, c)``; ``v <- momentum * v - learning_rate * g``; ``x <- x + v``;
    then the train step clips x to [0, 1]. Returns the new (image, velocity).
    """
    learning_rate, momentum, clipnorm = settings
    norm = float(np.sqrt(np.sum(gradient**2)))
    clipped = gradient * (clipnorm / max(norm, clipnorm))
    velocity = momentum * velocity - learning_rate * clipped
    image = image + velocity
    return (np.clip(image, 0.0, 1.0) if clip else image), velocity


@dataclass(frozen=True)
class Trajectory:
    """The images after each step, and the right total cost J of the image before each step
    and after the last (``costs[k]`` is what step k+1 returns; ``costs[-1]`` is J at the end)."""

    images: tuple[np.ndarray, ...]
    costs: tuple[float, ...]


def trajectory(
    case: dict[str, np.ndarray], objective: Objective, steps: int = STEPS, targets=None
) -> Trajectory:
    """Run ``steps`` steps of ``objective`` from the case's starting image, fresh optimizer.

    ``targets``: ``tiny_network.targets64(case)``, when the caller has it already.
    """
    targets = targets64(case) if targets is None else targets
    right = right_objective(case)
    settings = optimizer_settings(case)
    image = np.asarray(case["generated_image"], dtype=np.float64)
    velocity = np.zeros_like(image)
    images, costs = [], []
    for _ in range(steps):
        parts = cost_parts(case, image, targets)
        costs.append(right.cost(parts))
        image, velocity = optimizer_step(
            image, velocity, objective.gradient(parts), settings, objective.clip
        )
        images.append(image)
    costs.append(right.cost(cost_parts(case, image, targets)))
    return Trajectory(tuple(images), tuple(costs))


def first_step(case: dict[str, np.ndarray], objective: Objective, parts: CostParts) -> np.ndarray:
    """The image after one step of ``objective`` from the case's starting image, given the
    cost parts of that image (shared by every objective)."""
    start = np.asarray(case["generated_image"], dtype=np.float64)
    gradient = objective.gradient(parts)
    image, _ = optimizer_step(
        start, np.zeros_like(start), gradient, optimizer_settings(case), objective.clip
    )
    return image


def mistaken_objectives(case: dict[str, np.ndarray]) -> dict[str, Objective]:
    """The objectives of the named mistakes, by name (see ``train_step.MISTAKES``)."""
    right = right_objective(case)
    n_layers = len(right.style_weights)
    return {
        "uphill": replace(right, sign=-1.0),
        "no_clip": replace(right, clip=False),
        "no_style": replace(right, beta=0.0),
        "no_content": replace(right, alpha=0.0),
        "swapped": replace(right, alpha=right.beta, beta=right.alpha),
        "default_weights": replace(right, alpha=10.0, beta=40.0),
        "unweighted": replace(right, alpha=1.0, beta=1.0),
        "uniform_style_weights": replace(right, style_weights=(1.0 / n_layers,) * n_layers),
        "unit_style_weights": replace(right, style_weights=(1.0,) * n_layers),
    }
