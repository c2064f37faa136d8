"""Metrics for rollouts of physical systems.

Video metrics (PSNR, SSIM) live in :mod:`noether_lite.video.metrics`.
"""
from __future__ import annotations

from typing import Callable

from torch import Tensor

__all__ = ["rmse", "rmse_per_horizon", "energy_drift"]


def _check_pair(pred: Tensor, target: Tensor) -> None:
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {tuple(pred.shape)} != target shape {tuple(target.shape)}")
    if pred.ndim != 3:
        raise ValueError(f"expected trajectories of shape (B, T, D); got {tuple(pred.shape)}")


def rmse(pred: Tensor, target: Tensor) -> Tensor:
    """Root-mean-square error over every example, step and dimension.

    Args:
        pred, target: ``(B, T, D)``.

    Returns:
        0-d tensor.
    """
    _check_pair(pred, target)
    return ((pred - target) ** 2).mean().sqrt()


def rmse_per_horizon(pred: Tensor, target: Tensor) -> Tensor:
    """RMSE at each step, averaged over examples and dimensions: ``(B, T, D) -> (T,)``."""
    _check_pair(pred, target)
    return ((pred - target) ** 2).mean(dim=(0, 2)).sqrt()


def energy_drift(traj: Tensor, energy: Callable[[Tensor], Tensor], *, relative: bool = False) -> Tensor:
    """Mean absolute change of energy from the first to each state.

    Args:
        traj: ``(B, T, D)``, first state first.
        energy: ``(..., D) -> (...)``.
        relative: divide by ``|H(x_0)|`` (clamped away from 0).

    Returns:
        ``(T,)``: ``mean_b |H(x_t) - H(x_0)|`` (0 at ``t = 0``).
    """
    if traj.ndim != 3:
        raise ValueError(f"expected trajectories of shape (B, T, D); got {tuple(traj.shape)}")
    e = energy(traj)  # (B, T)
    d = (e - e[:, :1]).abs()
    if relative:
        d = d / e[:, :1].abs().clamp_min(1e-8)
    return d.mean(0)
