"""Integrators for ``dx/dt = f(x)``: explicit Euler, classical RK4, leapfrog.

``f`` may be a true vector field or a neural network; every integrator is
differentiable, so rollouts can be trained through.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

__all__ = ["integrate", "euler_step", "rk4_step", "leapfrog_step", "INTEGRATORS"]

VectorField = Callable[[Tensor], Tensor]


def euler_step(f: VectorField, x: Tensor, dt: float) -> Tensor:
    """One explicit Euler step ``x + dt f(x)``."""
    return x + dt * f(x)


def rk4_step(f: VectorField, x: Tensor, dt: float) -> Tensor:
    """One classical Runge–Kutta step (4th order)."""
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    return x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def leapfrog_step(f: VectorField, x: Tensor, dt: float) -> Tensor:
    """One kick-drift-kick leapfrog step (symplectic for separable ``H``).

    Uses only the vector field: ``dp/dt`` at the current ``q`` (it must not
    depend on ``p`` for the method to be symplectic, as for ``T(p) + V(q)``).
    """
    if x.shape[-1] == 2:  # one degree of freedom
        q, p = x[..., 0], x[..., 1]
        p_half = p + 0.5 * dt * f(torch.stack([q, p], -1))[..., 1]
        q_new = q + dt * f(torch.stack([q, p_half], -1))[..., 0]
        p_new = p_half + 0.5 * dt * f(torch.stack([q_new, p_half], -1))[..., 1]
        return torch.stack([q_new, p_new], -1)
    n = x.shape[-1] // 2  # (q1..qn, p1..pn)
    q, p = x[..., :n], x[..., n:]
    p_half = p + 0.5 * dt * f(torch.cat([q, p], -1))[..., n:]
    q_new = q + dt * f(torch.cat([q, p_half], -1))[..., :n]
    p_new = p_half + 0.5 * dt * f(torch.cat([q_new, p_half], -1))[..., n:]
    return torch.cat([q_new, p_new], -1)


INTEGRATORS = {"euler": euler_step, "rk4": rk4_step, "leapfrog": leapfrog_step}


def integrate(
    f: VectorField,
    x0: Tensor,
    *,
    n_steps: int,
    dt: float,
    method: str = "rk4",
    substeps: int = 1,
) -> Tensor:
    """Roll ``x0`` forward under ``dx/dt = f(x)``.

    Args:
        f: vector field, ``(..., D) -> (..., D)``; may be a neural network.
        x0: initial states, shape ``(B, D)`` (any leading shape works).
        n_steps: number of output steps ``T``.
        dt: time between output steps.
        method: ``"euler"``, ``"rk4"`` or ``"leapfrog"``.
        substeps: integrator steps per output step (accuracy for data generation).

    Returns:
        States of shape ``(B, T + 1, D)``, ``x0`` first. Differentiable.

    Raises:
        ValueError: unknown method, ``n_steps < 0`` or ``substeps < 1``.
    """
    if method not in INTEGRATORS:
        raise ValueError(f"unknown integrator {method!r}; known: {sorted(INTEGRATORS)}")
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    if substeps < 1:
        raise ValueError(f"substeps must be >= 1, got {substeps}")
    step = INTEGRATORS[method]
    h = dt / substeps
    xs = [x0]
    x = x0
    for _ in range(n_steps):
        for _ in range(substeps):
            x = step(f, x, h)
        xs.append(x)
    return torch.stack(xs, dim=-2)  # (..., T + 1, D)
