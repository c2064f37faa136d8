"""Physical systems: a Hamiltonian, its vector field, a registry of named systems.

A system is a Hamiltonian ``H(q, p)`` written as a plain torch function plus an
optional linear friction. Everything else (vector field, data, energy drift)
is derived from it, so a user's own system is one line::

    my = register_system(System(name="quartic", hamiltonian=lambda q, p: q**4 + p**2))

State tensors have shape ``(..., 2n)`` for ``n = dof`` degrees of freedom:
``[..., :n] = q`` and ``[..., n:] = p`` (for one degree of freedom, ``[..., 0] = q`` and
``[..., 1] = p``, and ``H`` takes ``q, p`` of shape ``(...)``; for ``n > 1`` it takes
``q, p`` of shape ``(..., n)``). Besides the energy, a system may name more conserved
quantities (``invariants``, e.g. angular momentum); the oracle embedding uses them all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor

from ..core.registry import Registry, resolve

__all__ = [
    "System",
    "SYSTEMS",
    "register_system",
    "get_system",
    "spring",
    "pendulum",
    "damped_pendulum",
]

Hamiltonian = Callable[[Tensor, Tensor], Tensor]
VectorField = Callable[[Tensor], Tensor]


def _check_state(x: Tensor, name: str = "state", dim: int = 2) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim < 1 or x.shape[-1] != dim:
        what = "(q, p)" if dim == 2 else f"(q1..q{dim // 2}, p1..p{dim // 2})"
        raise ValueError(f"{name} must have shape (..., {dim}) = {what}; got {tuple(x.shape)}")


def _probe_hamiltonian(system: "System") -> None:
    """Call ``H`` on a few states, as the library will, and refuse what it returns if unusable."""
    n = system.dof
    q = torch.linspace(-0.5, 0.5, 3 * n, dtype=torch.float64).reshape(3, n).squeeze(-1).requires_grad_(True)
    p = torch.linspace(0.3, -0.3, 3 * n, dtype=torch.float64).reshape(3, n).squeeze(-1).requires_grad_(True)
    where = f"hamiltonian of system {system.name!r}"
    shape = f"({3}, {n})" if n > 1 else "(3,)"
    try:
        h = system.hamiltonian(q, p)
    except Exception as e:
        raise ValueError(f"{where} failed on q, p of shape {shape}: {type(e).__name__}: {e} (H must take tensors "
                         f"q, p and use torch functions, e.g. torch.cos, not math.cos)") from None
    if not isinstance(h, Tensor):
        raise ValueError(f"{where} returned a {type(h).__name__} for q, p of shape {shape}; it must return a tensor "
                         f"of shape (3,), built with torch functions (e.g. torch.cos, not math.cos)")
    if h.shape != (3,):
        raise ValueError(f"{where} returned shape {tuple(h.shape)} for q, p of shape {shape}; it must return one "
                         f"value per state, shape (3,)" + (" (elementwise: do not sum or stack)" if n == 1 else
                                                            " (sum over the degrees of freedom yourself)"))
    if not h.dtype.is_floating_point:
        raise ValueError(f"{where} returned dtype {h.dtype}; it must be real floating point")
    if not torch.isfinite(h).all():
        raise ValueError(f"{where} is not finite at small states q, p in [-0.5, 0.5]")
    if not h.requires_grad:
        raise ValueError(f"{where} does not depend on q, p through torch operations (no gradient): the dynamics "
                         f"are its derivatives, so build it from q and p with torch functions")


@dataclass(frozen=True)
class System:
    """A one-degree-of-freedom Hamiltonian system, with optional friction.

    Attributes:
        name: registry name.
        hamiltonian: ``H(q, p)``, elementwise on tensors of equal shape.
        damping: friction ``γ``; the dynamics are ``dq/dt = ∂H/∂p``,
            ``dp/dt = -∂H/∂q - γ ∂H/∂p``. With ``γ = 0`` energy is conserved.
        t_span: time span of one trajectory (HNN protocol).
        n_points: observed points per trajectory.
        radius: range of ``‖(q0, p0)‖`` for initial states.
        noise_std: observation noise ``σ`` added to ``q`` and ``p``.
        formula: a human-readable Hamiltonian, for tables and plots.
        dof: degrees of freedom ``n`` (states have ``2n`` coordinates).
        invariants: more conserved quantities besides ``H``: ``I(q, p) -> (..., m)``,
            with ``q, p`` as ``H`` takes them (e.g. angular momentum). ``None``: only ``H``.
    """

    name: str
    hamiltonian: Hamiltonian
    damping: float = 0.0
    t_span: Tuple[float, float] = (0.0, 3.0)
    n_points: int = 30
    radius: Tuple[float, float] = (0.1, 1.0)
    noise_std: float = 0.05
    formula: str = ""
    dof: int = 1
    invariants: Optional[Callable[[Tensor, Tensor], Tensor]] = None

    def __post_init__(self) -> None:
        if not callable(self.hamiltonian):
            raise TypeError("hamiltonian must be callable as H(q, p)")
        if isinstance(self.dof, bool) or not isinstance(self.dof, int) or self.dof < 1:
            raise ValueError(f"dof must be an integer >= 1, got {self.dof!r}")
        if self.invariants is not None and not callable(self.invariants):
            raise TypeError("invariants must be callable as I(q, p) -> (..., m), or None")
        if self.damping < 0:
            raise ValueError(f"damping must be >= 0, got {self.damping}")
        if not self.t_span[1] > self.t_span[0]:
            raise ValueError(f"t_span must be increasing, got {self.t_span}")
        if self.n_points < 2:
            raise ValueError(f"n_points must be >= 2, got {self.n_points}")
        lo, hi = self.radius
        if not 0 <= lo <= hi:
            raise ValueError(f"radius must satisfy 0 <= lo <= hi, got {self.radius}")
        if self.noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {self.noise_std}")
        for name in ("damping", "noise_std"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)}")
        if isinstance(self.n_points, bool) or not isinstance(self.n_points, int):
            raise ValueError(f"n_points must be an integer, got {self.n_points!r}")
        _probe_hamiltonian(self)
        if self.invariants is not None:
            x = torch.linspace(-0.5, 0.5, 6 * self.dof, dtype=torch.float64).reshape(3, 2 * self.dof)
            try:
                inv = self.conserved(x)
            except Exception as e:
                raise ValueError(f"invariants of system {self.name!r} failed on 3 states: {type(e).__name__}: "
                                 f"{e}") from None
            if not torch.isfinite(inv).all():
                raise ValueError(f"invariants of system {self.name!r} are not finite at small states")

    @property
    def dim(self) -> int:
        """State dimension ``2n``."""
        return 2 * self.dof

    @property
    def n_conserved(self) -> int:
        """How many conserved quantities :meth:`conserved` returns (``H`` and the invariants)."""
        if self.invariants is None:
            return 1
        return self.conserved(torch.zeros(1, self.dim, dtype=torch.float64)).shape[-1]

    def _qp(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        _check_state(x, dim=self.dim)
        if self.dof == 1:
            return x[..., 0], x[..., 1]
        return x[..., : self.dof], x[..., self.dof:]

    def conserved(self, x: Tensor) -> Tensor:
        """Every conserved quantity at states ``x``: ``(..., 2n) -> (..., k)``, ``H`` first."""
        h = self.energy(x).unsqueeze(-1)
        if self.invariants is None:
            return h
        inv = self.invariants(*self._qp(x))
        if not isinstance(inv, Tensor):
            raise ValueError(f"invariants of system {self.name!r} must return a tensor, got {type(inv).__name__}")
        inv = inv.unsqueeze(-1) if inv.shape == h.shape[:-1] else inv
        if inv.shape[:-1] != h.shape[:-1]:
            raise ValueError(f"invariants of system {self.name!r} returned shape {tuple(inv.shape)} for states "
                             f"{tuple(x.shape)}; expected (..., m) with ... = {tuple(h.shape[:-1])}")
        return torch.cat([h, inv.to(h.dtype)], dim=-1)

    @property
    def dt(self) -> float:
        """Time between two observed points."""
        return (self.t_span[1] - self.t_span[0]) / (self.n_points - 1)

    def energy(self, x: Tensor) -> Tensor:
        """``H`` of states ``x`` of shape ``(..., 2n)``; returns shape ``(...)``."""
        return self.hamiltonian(*self._qp(x))

    def vector_field(self, x: Tensor) -> Tensor:
        """``dx/dt`` at states ``x`` of shape ``(..., 2n)``; same shape out.

        Derived from ``H`` by automatic differentiation, so it works for any
        user Hamiltonian; differentiable in ``x`` (used by HNN-style code).
        """
        _check_state(x, dim=self.dim)
        with torch.enable_grad():
            xr = x if x.requires_grad else x.detach().requires_grad_(True)
            h = self.energy(xr).sum()
            (dh,) = torch.autograd.grad(h, xr, create_graph=x.requires_grad)
        if self.dof == 1:
            dhdq, dhdp = dh[..., 0], dh[..., 1]
            return torch.stack([dhdp, -dhdq - self.damping * dhdp], dim=-1)
        n = self.dof
        dhdq, dhdp = dh[..., :n], dh[..., n:]
        return torch.cat([dhdp, -dhdq - self.damping * dhdp], dim=-1)

    def with_(self, **changes) -> "System":
        """A copy with some fields changed (e.g. ``noise_std=0``)."""
        return replace(self, **changes)


SYSTEMS: Registry[System] = Registry("system")


def register_system(system: System, *, overwrite: bool = False) -> System:
    """Add a :class:`System` to the registry under ``system.name``."""
    if not isinstance(system, System):
        raise TypeError(f"expected a System, got {type(system).__name__}")
    return SYSTEMS.register(system.name, system, overwrite=overwrite)


def get_system(system: Union[str, System]) -> System:
    """Resolve a system name (or pass a :class:`System` through)."""
    sys_ = resolve(SYSTEMS, system)
    if not isinstance(sys_, System):
        raise TypeError(f"expected a System or a registered name, got {type(system).__name__}")
    return sys_


def spring(k: float = 1.0, m: float = 1.0) -> System:
    """Ideal spring, ``H = k q² + p²/m`` (HNN's ``q² + p²`` by default); 30 points over [0, 3]."""
    return System(
        name="spring",
        hamiltonian=lambda q, p: k * q**2 + p**2 / m,
        t_span=(0.0, 3.0),
        n_points=30,
        radius=(0.1, 1.0),
        formula=f"{k:g} q² + {1 / m:g} p²",
    )


def pendulum(coefficient: float = 3.0, *, name: str = "pendulum") -> System:
    """Ideal pendulum, ``H = c (1 - cos q) + p²``; ``c = 3`` as in the Noether paper.

    The HNN repository's ``experiment-pend/data.py`` has had two versions: commit 393a0c1 uses
    ``c = 2``, ``σ = 0.05`` and radii 0.2-2.0 (the radii and noise used here); commit 4009db6 uses
    ``c = 3``, ``σ = 0.1`` and radii 1.3-2.3 (``make_dataset(..., noise_std=0.1, radius=(1.3, 2.3))``).
    """
    return System(
        name=name,
        hamiltonian=lambda q, p: coefficient * (1 - torch.cos(q)) + p**2,
        t_span=(0.0, 3.0),
        n_points=45,
        radius=(0.2, 2.0),
        formula=f"{coefficient:g} (1 − cos q) + p²",
    )


def damped_pendulum(coefficient: float = 2.4, damping: float = 0.05) -> System:
    """A "real-like" pendulum: friction makes energy only approximately conserved.

    The coefficient 2.4 is what humans proposed for the real pendulum of the
    HNN data; the damping is small enough that energy decays slowly.
    """
    return System(
        name="damped",
        hamiltonian=lambda q, p: coefficient * (1 - torch.cos(q)) + p**2,
        damping=damping,
        t_span=(0.0, 6.0),
        n_points=60,
        radius=(0.2, 2.0),
        formula=f"{coefficient:g} (1 − cos q) + p², γ = {damping:g}",
    )


for _s in (spring(), pendulum(), damped_pendulum()):
    register_system(_s)
