"""Seeded trajectory datasets following the Hamiltonian Neural Networks protocol.

Every dataset records the arguments that made it (``meta``), so a cache or a
checkpoint can tell when it is stale.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple, Union

import torch
from torch import Tensor

from .hamiltonians import System, get_system
from .integrators import integrate

__all__ = ["TrajectoryData", "make_dataset", "check_finite"]


def check_finite(x: Tensor, name: str) -> None:
    """Raise ValueError when ``x`` holds NaN or inf."""
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf)")


@dataclass
class TrajectoryData:
    """A set of trajectories.

    Attributes:
        t: times, shape ``(T,)``.
        x: observed (noisy) states, shape ``(N, T, 2)``.
        x_clean: true states, shape ``(N, T, 2)``.
        dxdt: true time derivatives at the true states, shape ``(N, T, 2)``.
        meta: the generator's arguments (system name, seed, sizes, ...).
    """

    t: Tensor
    x: Tensor
    x_clean: Tensor
    dxdt: Tensor
    meta: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.x.ndim != 3:
            raise ValueError(f"x must have shape (N, T, D); got {tuple(self.x.shape)}")
        for name in ("x_clean", "dxdt"):
            if getattr(self, name).shape != self.x.shape:
                raise ValueError(
                    f"{name} shape {tuple(getattr(self, name).shape)} != x shape {tuple(self.x.shape)}"
                )
        if self.t.shape != (self.x.shape[1],):
            raise ValueError(f"t must have shape ({self.x.shape[1]},); got {tuple(self.t.shape)}")
        check_finite(self.x, "x")

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    def __len__(self) -> int:
        return self.x.shape[0]

    def to(self, device) -> "TrajectoryData":
        return TrajectoryData(
            self.t.to(device), self.x.to(device), self.x_clean.to(device), self.dxdt.to(device), dict(self.meta)
        )

    def subset(self, idx) -> "TrajectoryData":
        return TrajectoryData(self.t, self.x[idx], self.x_clean[idx], self.dxdt[idx], dict(self.meta))

    def pairs(self) -> Tuple[Tensor, Tensor]:
        """Flattened ``(state, dx/dt)`` pairs for supervised training: ``(N*T, 2)`` each."""
        return self.x.reshape(-1, self.x.shape[-1]), self.dxdt.reshape(-1, self.x.shape[-1])


def _initial_states(n: int, radius: Tuple[float, float], gen: torch.Generator, dtype, dim: int = 2) -> Tensor:
    direction = torch.randn(n, dim, generator=gen, dtype=dtype)
    direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    r = radius[0] + (radius[1] - radius[0]) * torch.rand(n, 1, generator=gen, dtype=dtype)
    return direction * r  # (n, dim)


def make_dataset(
    system: Union[str, System] = "pendulum",
    *,
    n_traj: int = 50,
    n_points: Optional[int] = None,
    t_span: Optional[Tuple[float, float]] = None,
    radius: Optional[Tuple[float, float]] = None,
    noise_std: Optional[float] = None,
    train_fraction: float = 0.5,
    seed: int = 0,
    substeps: int = 10,
    dtype: torch.dtype = torch.float32,
) -> Tuple[TrajectoryData, TrajectoryData]:
    """Generate trajectories of ``system`` and split them into train and test.

    Initial states are drawn uniformly in direction and in radius within
    ``radius``; trajectories are integrated with RK4 (``substeps`` per
    observation, in float64) and observed with Gaussian noise ``σ = noise_std``.
    Unset arguments take the system's defaults (the HNN protocol).

    Returns:
        ``(train, test)``: :class:`TrajectoryData` with ``x`` of shape
        ``(n_train, T, 2)`` and ``(n_traj - n_train, T, 2)``.

    Raises:
        ValueError: fewer than 2 trajectories, a fraction outside (0, 1), or a
            system whose dynamics blow up (non-finite states).
    """
    sys_ = get_system(system)
    if n_traj < 2:
        raise ValueError(f"n_traj must be >= 2, got {n_traj}")
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    n_points = sys_.n_points if n_points is None else int(n_points)
    t_span = sys_.t_span if t_span is None else tuple(t_span)
    radius = sys_.radius if radius is None else tuple(radius)
    noise_std = sys_.noise_std if noise_std is None else float(noise_std)
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std}")

    gen = torch.Generator().manual_seed(int(seed))
    x0 = _initial_states(n_traj, radius, gen, torch.float64, sys_.dim)
    dt = (t_span[1] - t_span[0]) / (n_points - 1)
    with torch.no_grad():
        clean = integrate(sys_.vector_field, x0, n_steps=n_points - 1, dt=dt, method="rk4", substeps=substeps)
    check_finite(clean, f"trajectories of system {sys_.name!r}")
    dxdt = sys_.vector_field(clean)
    noisy = clean + noise_std * torch.randn(clean.shape, generator=gen, dtype=torch.float64)
    t = torch.linspace(t_span[0], t_span[1], n_points, dtype=torch.float64)

    n_train = max(1, min(n_traj - 1, int(round(train_fraction * n_traj))))
    meta = dict(
        system=sys_.name, n_traj=n_traj, n_points=n_points, t_span=list(t_span), radius=list(radius),
        noise_std=noise_std, train_fraction=train_fraction, seed=int(seed), substeps=substeps,
    )

    def part(sl: slice, split: str) -> TrajectoryData:
        return TrajectoryData(
            t.to(dtype), noisy[sl].to(dtype), clean[sl].to(dtype), dxdt[sl].detach().to(dtype),
            dict(meta, split=split),
        )

    return part(slice(0, n_train), "train"), part(slice(n_train, n_traj), "test")
