"""Chapter 3 (a known conservation law): the exercise checks."""
from __future__ import annotations

from typing import Callable

import torch

from ._core import _Wrong, _as_tensor, _call, _close, _exercise, _shape

__all__ = ['euler_rollout', 'rollout_rmse']


@_exercise("euler_rollout")
def euler_rollout(fn: Callable) -> str:
    """``euler_rollout(f, x0, *, n_steps, dt)``: ``x_{t+1} = x_t + dt f(x_t)``, returns ``(B, T+1, D)``."""
    w = torch.tensor([[0.0, 1.0], [-2.0, -0.1]])
    f = lambda x: x @ w.T + 0.1 * torch.sin(x)
    x0 = torch.randn(4, 2)
    n, dt = 7, 0.1
    xs = [x0]
    for _ in range(n):
        xs.append(xs[-1] + dt * f(xs[-1]))
    ref = torch.stack(xs, 1)
    got = _as_tensor(_call(fn, f, x0, n_steps=n, dt=dt), "the rollout")
    if tuple(got.shape) == (4, n, 2):
        raise _Wrong(f"the rollout has {n} states; it should start with x0 and have T+1 = {n + 1}: shape (B, T+1, D)")
    if tuple(got.shape) == (n + 1, 4, 2):
        raise _Wrong("time is on axis 0; stack on axis 1 so the shape is (B, T+1, D)")
    _shape(got, ref.shape, "the rollout")
    if _close(got, ref):
        return "x_{t+1} = x_t + dt f(x_t), x0 first, shape (B, T+1, D)"
    if not _close(got[:, 0], x0):
        raise _Wrong("the rollout must start with x0 itself")
    if _close(got[:, 1], x0 + f(x0)):
        raise _Wrong("you forgot dt: x_{t+1} = x_t + dt · f(x_t)")
    if _close(got[:, 1], dt * f(x0)):
        raise _Wrong("f predicts the change dx/dt: add it to the current state, x_{t+1} = x_t + dt · f(x_t)")
    if _close(got[:, 1], ref[:, 1]):
        raise _Wrong("the first step is right but later ones are not: feed each prediction back, x_{t+1} = x_t + dt f(x_t)")
    raise _Wrong("wrong values; expected x_{t+1} = x_t + dt f(x_t)")


@_exercise("rollout_rmse")
def rollout_rmse(fn: Callable) -> str:
    """``rollout_rmse(pred, target)``: ``sqrt(mean((pred − target)²))`` over all trajectories, steps and dims; a scalar."""
    pred = torch.randn(5, 9, 2)
    target = pred + torch.randn(5, 9, 2) * torch.linspace(0.1, 2.0, 5).view(5, 1, 1)
    err = (pred - target) ** 2
    ref = err.mean().sqrt()
    got = _as_tensor(_call(fn, pred, target), "the RMSE")
    if got.ndim != 0:
        if _close(got.flatten(), err.mean(dim=(1, 2)).sqrt()):
            raise _Wrong("you returned one RMSE per trajectory; return a single number over the whole test set")
        raise _Wrong(f"expected a scalar (0-d tensor), got shape {tuple(got.shape)}")
    if _close(got, ref):
        return "one RMSE over all trajectories, time steps and dimensions"
    if _close(got, err.mean()):
        raise _Wrong("this is the MSE: take the square root")
    if _close(got, err.sum().sqrt()):
        raise _Wrong("you summed the squared errors where RMSE averages them: sqrt(mean(...))")
    if _close(got, err.sum()):
        raise _Wrong("you summed the squared errors and took no square root: sqrt(mean(...))")
    if _close(got, err.mean(dim=(1, 2)).sqrt().mean()):
        raise _Wrong("you averaged per-trajectory RMSEs; the RMSE averages the squared errors first, then takes one square root")
    if _close(got, (pred - target).abs().mean()):
        raise _Wrong("this is the mean absolute error; RMSE is sqrt(mean(err²))")
    raise _Wrong("wrong value; expected sqrt(mean((pred − target)²))")


# ============================================================================ chapter 4
