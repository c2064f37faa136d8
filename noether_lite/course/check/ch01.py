"""Chapter 1 (symmetries and conservation): the exercise checks."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._core import _Wrong, _as_tensor, _call, _close, _const_offset, _const_ratio, _exercise, _fmt, _shape

__all__ = ['pendulum_energy', 'hamiltonian_vector_field', 'relative_energy_drift']


def _ref_energy(q: Tensor, p: Tensor, c: float) -> Tensor:
    return c * (1 - torch.cos(q)) + p**2


@_exercise("pendulum_energy")
def pendulum_energy(fn: Callable) -> str:
    """``pendulum_energy(q, p, c=3.0)``: ``H = c (1 − cos q) + p²``, elementwise."""
    q, p = torch.rand(7, 5) * 6 - 3, torch.rand(7, 5) * 4 - 2
    for c in (3.0, 2.0):
        ref = _ref_energy(q, p, c)
        got = _as_tensor(_call(fn, q, p, c), "the energy")
        if got.shape != q.shape:
            raise _Wrong(f"the energy has shape {tuple(got.shape)} for q, p of shape {tuple(q.shape)}: "
                         "it should be elementwise (no sum or mean over the batch)")
        if _close(got, ref):
            continue
        if c == 2.0 and _close(got, _ref_energy(q, p, 3.0)):
            raise _Wrong("your energy ignores the coefficient c: with c=2 it still uses 3")
        r = _const_ratio(got, ref)
        if r is not None:
            raise _Wrong(f"your energy is off by a constant factor: it is {_fmt(r)} × H (c={c:g})")
        k = _const_offset(got, ref)
        if k is not None:
            hint = " (did you drop the 1 in 1 − cos q?)" if abs(k + c) < 1e-3 else ""
            raise _Wrong(f"your energy is off by an additive constant: it is H {'+' if k >= 0 else '−'} {abs(k):.4g}{hint}; "
                         "H must be 0 at rest, (q, p) = (0, 0)")
        kin = _as_tensor(_call(fn, torch.zeros_like(q), p, c), "the energy at q = 0", q.shape)
        if not _close(kin, p**2):
            r = _const_ratio(kin, p**2)
            raise _Wrong("the kinetic part (q = 0) is wrong"
                         + (f": it is {_fmt(r)} × p², expected p²" if r else ": expected p²"))
        raise _Wrong(f"the potential part (p = 0) is wrong: expected c (1 − cos q) with c = {c:g}")
    return "H = c (1 − cos q) + p² for every q, p and c"


def _ref_vf(energy: Callable, x: Tensor) -> Tensor:
    x = x.detach().requires_grad_(True)
    (dh,) = torch.autograd.grad(energy(x[..., 0], x[..., 1]).sum(), x)
    return torch.stack([dh[..., 1], -dh[..., 0]], -1)


@_exercise("hamiltonian_vector_field")
def hamiltonian_vector_field(fn: Callable) -> str:
    """``hamiltonian_vector_field(energy, x)``: ``(∂H/∂p, −∂H/∂q)`` at states ``x (..., 2)``."""
    energies = {
        "pendulum": lambda q, p: 3 * (1 - torch.cos(q)) + p**2,
        "quartic": lambda q, p: q**4 + 0.5 * q * p**2 + p**2,  # non-separable: catches mixed-up partials
    }
    x = torch.randn(6, 2)
    for label, energy in energies.items():
        ref = _ref_vf(energy, x)
        got = _as_tensor(_call(fn, energy, x), "the vector field", x.shape)
        if _close(got, ref):
            continue
        if _close(got, -ref):
            raise _Wrong("both components have the wrong sign: this runs time backwards; dq/dt = +∂H/∂p, dp/dt = −∂H/∂q")
        if _close(got, ref.flip(-1)):
            raise _Wrong("dq/dt and dp/dt are swapped: component 0 is dq/dt = ∂H/∂p, component 1 is dp/dt = −∂H/∂q")
        if _close(got[..., 0], ref[..., 0]) and _close(got[..., 1], -ref[..., 1]):
            raise _Wrong("dp/dt has the wrong sign: it is −∂H/∂q (gravity pulls back)")
        if _close(got[..., 1], ref[..., 1]) and _close(got[..., 0], -ref[..., 0]):
            raise _Wrong("dq/dt has the wrong sign: it is +∂H/∂p")
        grad_h = torch.stack([-ref[..., 1], ref[..., 0]], -1)  # (∂H/∂q, ∂H/∂p)
        if _close(got, grad_h):
            raise _Wrong("you returned the gradient (∂H/∂q, ∂H/∂p); Hamilton's equations need the symplectic gradient (∂H/∂p, −∂H/∂q)")
        raise _Wrong(f"wrong values for the {label} Hamiltonian; expected (∂H/∂p, −∂H/∂q)")
    return "(∂H/∂p, −∂H/∂q) for a separable and a non-separable H"


def _ref_drift(energy: Callable, traj: Tensor) -> Tensor:
    h = energy(traj[..., 0], traj[..., 1])  # (B, T+1)
    return ((h - h[:, :1]).abs() / h[:, :1].abs()).amax(dim=1)


@_exercise("relative_energy_drift")
def relative_energy_drift(fn: Callable) -> str:
    """``relative_energy_drift(energy, traj)``: ``max_t |H(x_t) − H(x_0)| / |H(x_0)|`` per trajectory, ``(B,)``."""
    energy = lambda q, p: 3 * (1 - torch.cos(q)) + p**2
    b, t = 5, 12
    traj = torch.randn(b, t + 1, 2)
    traj[:, 0] = torch.randn(b, 2) + 1.0
    ref = _ref_drift(energy, traj)
    got = _as_tensor(_call(fn, energy, traj), "the drift")
    if got.ndim == 0:
        raise _Wrong(f"you returned one number; expected one drift per trajectory, shape ({b},)")
    _shape(got, (b,), "the drift")
    if _close(got, ref):
        return "max over time of |H(x_t) − H(x_0)| / |H(x_0)|, per trajectory"
    h = energy(traj[..., 0], traj[..., 1])
    dev = h - h[:, :1]
    if _close(got, dev.abs().amax(1)):
        raise _Wrong("not relative: divide by |H(x_0)| so that drifts of big and small swings compare")
    if _close(got, (dev.abs() / h[:, :1].abs()).mean(1)) or _close(got, (dev.abs() / h[:, :1].abs())[:, 1:].mean(1)):
        raise _Wrong("you averaged over time; the drift is the worst case, the max over time")
    if _close(got, (dev / h[:, :1].abs()).amax(1)) or _close(got, (dev / h[:, :1]).amax(1)):
        raise _Wrong("missing absolute value: an energy that decreases must count as drift too")
    if _close(got, (dev.abs() / h[:, :1].abs())[:, -1]):
        raise _Wrong("you used only the last step; take the max over all time steps")
    raise _Wrong("wrong values; expected max_t |H(x_t) − H(x_0)| / |H(x_0)| per trajectory")


# ============================================================================ chapter 2
