"""Chapter 5 (symbolic discovery): the exercise checks."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._core import _Wrong, _as_number, _as_tensor, _call, _close, _exercise

__all__ = ['variance_ratio', 'fit_coefficient']


def _pendulum_trajs(n: int = 6, t: int = 40, c: float = 3.0) -> Tensor:
    from ...systems import integrate, pendulum

    sys_ = pendulum(c).with_(noise_std=0.0)
    x0 = torch.randn(n, 2, dtype=torch.float64) * 0.7
    return integrate(sys_.vector_field, x0, n_steps=t, dt=0.05, method="rk4", substeps=4)


def _ref_variance_ratio(f: Callable, traj: Tensor, states: Tensor) -> Tensor:
    along = f(traj[..., 0], traj[..., 1]).var(dim=1, unbiased=False).mean()
    rand = f(states[..., 0], states[..., 1]).var(unbiased=False)
    return along / rand


@_exercise("variance_ratio")
def variance_ratio(fn: Callable) -> str:
    """``variance_ratio(f, traj, states)``: mean over trajectories of ``Var_t f(x_t)``, divided by ``Var f`` on random ``states``."""
    traj = _pendulum_trajs()
    states = torch.randn(200, 2, dtype=torch.float64) * 1.5
    formulas = {"energy": lambda q, p: p**2 - 3 * torch.cos(q), "q·p": lambda q, p: q * p}
    for label, f in formulas.items():
        ref = _ref_variance_ratio(f, traj, states)
        unbiased = f(traj[..., 0], traj[..., 1]).var(dim=1).mean() / f(states[..., 0], states[..., 1]).var()
        got = _as_tensor(_call(fn, f, traj, states), "the ratio")
        if got.numel() != 1:
            raise _Wrong(f"return one number (the ratio), got shape {tuple(got.shape)}")
        got = got.reshape(())
        if _close(got, ref, 1e-3) or _close(got, unbiased, 1e-3):  # n or n−1: both fine
            continue
        vals = f(traj[..., 0], traj[..., 1])
        rand = f(states[..., 0], states[..., 1]).var(unbiased=False)
        if _close(got, 1 / ref, 1e-3):
            raise _Wrong("the ratio is upside down: variance along trajectories ÷ variance on random states (small = conserved)")
        if _close(got, vals.var(unbiased=False) / rand, 1e-3) or _close(got, vals.var() / f(states[..., 0], states[..., 1]).var(), 1e-3):
            raise _Wrong(f"({label}) you pooled all trajectories' values: a conserved quantity differs between trajectories, "
                         "so take the variance over time within each trajectory, then average")
        if _close(got, vals.var(dim=1, unbiased=False).mean(), 1e-3):
            raise _Wrong(f"({label}) not normalised: divide by the variance on random states, or rescaling f changes the answer")
        raise _Wrong(f"({label}) wrong value; expected mean_i Var_t f(x_i,t) / Var f(random states)")
    return "variance along trajectories ÷ variance on random states (tiny for the energy, large for q·p)"


@_exercise("fit_coefficient")
def fit_coefficient(fn: Callable) -> str:
    """``fit_coefficient(a, b)``: the ``c`` minimising mean over trajectories of ``Var_t(a + c b)``; ``a, b`` are ``(N, T)``."""
    traj = _pendulum_trajs(c=3.0)
    q, p = traj[..., 0], traj[..., 1]
    a, b = p**2, -torch.cos(q)
    a_c, b_c = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    ref = float(-(a_c * b_c).sum() / (b_c * b_c).sum())
    c = _as_number(_call(fn, a, b), "c")
    if abs(c - ref) < 1e-3 * max(1, abs(ref)):
        # a second problem with a different answer, to catch hard-coded 3
        traj2 = _pendulum_trajs(c=2.0)
        a2, b2 = traj2[..., 1] ** 2, -torch.cos(traj2[..., 0])
        a2c, b2c = a2 - a2.mean(1, keepdim=True), b2 - b2.mean(1, keepdim=True)
        ref2 = float(-(a2c * b2c).sum() / (b2c * b2c).sum())
        if abs(_as_number(_call(fn, a2, b2), "c") - ref2) > 1e-3 * max(1, abs(ref2)):
            raise _Wrong("right for c = 3 but not for a pendulum with c = 2: fit c from the data, do not hard-code it")
        return f"c = {c:.3f} for p² − c cos q (the true pendulum has 3)"
    if abs(c + ref) < 1e-3 * max(1, abs(ref)):
        raise _Wrong(f"wrong sign: got {c:.4g}, expected {ref:.4g}; c = −Cov(a, b) / Var(b)")
    pooled = float(-((a - a.mean()) * (b - b.mean())).sum() / ((b - b.mean()) ** 2).sum())
    if abs(c - pooled) < 1e-3 * max(1, abs(pooled)):
        raise _Wrong("you centred over all trajectories at once; centre each trajectory on its own mean (the variance is taken along each trajectory)")
    raise _Wrong(f"got c = {c:.4g}, expected {ref:.4g} (for this pendulum the answer is close to 3)")


# ============================================================================ chapter 6
