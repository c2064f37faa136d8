"""Noether embeddings and the Noether (conservation) loss.

An embedding ``g`` maps states ``(..., D)`` to conserved quantities
``(..., k)``. The Noether loss measures how much the model's own rollout
changes them; it needs no label, so it can be minimised at prediction time.
"""
from __future__ import annotations

from typing import Callable, Union

import torch
from torch import Tensor, nn

from .registry import Registry
from .systems import System, get_system

__all__ = ["noether_loss", "OracleEmbedding", "FormulaEmbedding", "EMBEDDINGS", "LOSS_FORMS"]

LOSS_FORMS = ("start", "consecutive")

Embedding = Callable[[Tensor], Tensor]


def noether_loss(g: Embedding, traj: Tensor, *, form: str = "start") -> Tensor:
    """The Noether loss of a rollout, summed over time and embedding dims.

    (a) ``form="start"``: ``Σ_{t=1..T} ‖g(x_0) − g(x̃_t)‖²``;
    (b) ``form="consecutive"``: ``Σ_{t=1..T} ‖g(x̃_{t−1}) − g(x̃_t)‖²``
    (copes with only approximately conserved quantities).

    Args:
        g: embedding, ``(..., D) -> (..., k)``.
        traj: rollout with its initial state first, ``(B, T + 1, D)`` or
            ``(T + 1, D)`` for one example (e.g. inside ``vmap``).

    Returns:
        Per-example loss ``(B,)`` (or a scalar for one example).

    Raises:
        ValueError: an unknown ``form``, a rollout with fewer than 2 states,
            or an embedding that does not return ``(..., k)``.
    """
    if form not in LOSS_FORMS:
        raise ValueError(f"unknown Noether loss form {form!r}; use one of {LOSS_FORMS}")
    if traj.ndim < 2 or traj.shape[-2] < 2:
        raise ValueError(f"traj must have shape (..., T+1, D) with T >= 1; got {tuple(traj.shape)}")
    e = g(traj)  # (..., T + 1, k)
    if e.shape[:-1] != traj.shape[:-1]:
        raise ValueError(f"embedding returned shape {tuple(e.shape)} for states {tuple(traj.shape)}; expected (..., k)")
    ref = e[..., :1, :] if form == "start" else e[..., :-1, :]
    return ((e[..., 1:, :] - ref) ** 2).sum(dim=(-1, -2))


class OracleEmbedding(nn.Module):
    """The system's true energy as a 1-d Noether embedding: ``g(x) = H(x)``."""

    def __init__(self, system: Union[str, System]) -> None:
        super().__init__()
        self.system = get_system(system)

    def forward(self, x: Tensor) -> Tensor:
        return self.system.energy(x).unsqueeze(-1)


class FormulaEmbedding(nn.Module):
    """Any callable ``f(q, p) -> (...)`` (e.g. a discovered formula) as an embedding."""

    def __init__(self, fn: Callable[[Tensor, Tensor], Tensor], name: str = "formula") -> None:
        super().__init__()
        if not callable(fn):
            raise TypeError("fn must be callable as fn(q, p)")
        self.fn, self.name = fn, name

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x[..., 0], x[..., 1]).unsqueeze(-1)


EMBEDDINGS: Registry[Callable[..., nn.Module]] = Registry("embedding")
EMBEDDINGS.register("oracle", lambda system, **kw: OracleEmbedding(system))


def _neural(system, *, out_dim: int = 1, hidden: int = 64, **kw):
    from .models import EmbeddingMLP

    return EmbeddingMLP(dim=2, out_dim=out_dim, hidden=hidden, **kw)


EMBEDDINGS.register("neural", _neural)
