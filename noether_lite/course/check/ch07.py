"""Chapter 7 (the controlled pendulum): the exercise checks."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._core import _Wrong, _as_tensor, _call, _close, _exercise, _shape

__all__ = ['controlled_vector_field', 'injected_power']


def _ref_controlled(x: Tensor, u: Tensor, c: float) -> Tensor:
    q, p = x[..., 0], x[..., 1]
    return torch.stack([2 * p, -c * torch.sin(q) + u], -1)


@_exercise("controlled_vector_field")
def controlled_vector_field(fn: Callable) -> str:
    """``controlled_vector_field(x, u, c=3.0)``: ``(2p, −c sin q + u)`` for ``H = c(1 − cos q) + p²`` and torque ``u``."""
    x, u = torch.randn(6, 2), torch.randn(6)
    for c in (3.0, 2.0):
        ref = _ref_controlled(x, u, c)
        got = _as_tensor(_call(fn, x, u, c), "the vector field", x.shape)
        if _close(got, ref):
            continue
        free = _ref_controlled(x, torch.zeros_like(u), c)
        if _close(got, free):
            raise _Wrong("the torque u has no effect: it adds to dp/dt, ṗ = −∂H/∂q + u")
        if _close(got, torch.stack([free[..., 0] + u, free[..., 1]], -1)):
            raise _Wrong("the torque went into dq/dt; a torque changes the momentum: ṗ = −∂H/∂q + u")
        if _close(got, torch.stack([free[..., 0], free[..., 1] - u], -1)):
            raise _Wrong("the torque has the wrong sign: ṗ = −c sin q + u")
        if _close(got[..., 1], ref[..., 1]) and _close(got[..., 0], x[..., 1]):
            raise _Wrong("dq/dt = ∂H/∂p = 2p for H = c(1 − cos q) + p² (not p: that would be H with p²/2)")
        if c == 2.0 and _close(got, _ref_controlled(x, u, 3.0)):
            raise _Wrong("your vector field ignores the coefficient c: with c=2 it still uses 3")
        if _close(got[..., 0], ref[..., 0]) and _close(got[..., 1], free[..., 1].neg() + u):
            raise _Wrong("gravity has the wrong sign: −∂H/∂q = −c sin q pulls the pendulum back")
        raise _Wrong(f"wrong values (c={c:g}); expected (∂H/∂p, −∂H/∂q + u) = (2p, −c sin q + u)")
    return "(2p, −c sin q + u), the torque acting on the momentum"


@_exercise("injected_power")
def injected_power(fn: Callable) -> str:
    """``injected_power(x, u)``: ``dH/dt`` under the controlled dynamics, ``u ∂H/∂p = 2 p u``, shape ``(B,)``."""
    x, u = torch.randn(7, 2), torch.randn(7)
    ref = 2 * x[..., 1] * u
    got = _as_tensor(_call(fn, x, u), "the power")
    if got.ndim == 0:
        raise _Wrong("you returned one number; expected one power per state, shape (B,)")
    _shape(got, ref.shape, "the power")
    if _close(got, ref):
        return "dH/dt = u ∂H/∂p = 2 p u: energy changes only through the torque"
    if _close(got, -ref):
        raise _Wrong("wrong sign: a torque along the motion (u p > 0) adds energy")
    if _close(got, ref / 2):
        raise _Wrong("half the right value: ∂H/∂p = 2p for H with p², so dH/dt = 2 p u")
    if _close(got, 2 * x[..., 0] * u) or _close(got, x[..., 0] * u):
        raise _Wrong("the torque does work through the velocity q̇ = ∂H/∂p = 2p, not through the angle q")
    raise _Wrong("wrong values; expected dH/dt = ∇H · ẋ = u ∂H/∂p")
