"""Noether embeddings and the Noether (conservation) loss.

An embedding ``g`` maps states ``(..., D)`` to conserved quantities
``(..., k)``. The Noether loss measures how much the model's own rollout
changes them; it needs no label, so it can be minimised at prediction time.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Union

import torch
from torch import Tensor, nn

from .registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from ..systems.hamiltonians import System

__all__ = ["noether_loss", "OracleEmbedding", "FormulaEmbedding", "EMBEDDINGS", "LOSS_FORMS"]

LOSS_FORMS = ("start", "consecutive")

Embedding = Callable[[Tensor], Tensor]


def noether_loss(g: Embedding, traj: Tensor, *, form: str = "start", state_ndim: int = 1) -> Tensor:
    """The Noether loss of a rollout, summed over time and embedding dims.

    (a) ``form="start"``: ``Σ_{t=1..T} ‖g(x_0) − g(x̃_t)‖²``;
    (b) ``form="consecutive"``: ``Σ_{t=1..T} ‖g(x̃_{t−1}) − g(x̃_t)‖²``
    (copes with only approximately conserved quantities).

    A state may be a vector (``state_ndim=1``, e.g. ``(q, p)``) or any tensor: for
    video the state at time ``t`` is the pair of frames ``(x_t, x_{t+1})`` stacked on
    the channels, ``(2C, H, W)``, so ``state_ndim=3`` (see
    :func:`noether_lite.video.embedding.frame_pairs`).

    Args:
        g: embedding, ``(..., *state) -> (..., k)``.
        traj: rollout with its initial state first, ``(B, T + 1, *state)`` or
            ``(T + 1, *state)`` for one example (e.g. inside ``vmap``).
        form: ``"start"`` or ``"consecutive"``.
        state_ndim: number of trailing dimensions that make one state.

    Returns:
        Per-example loss ``(B,)`` (or a scalar for one example); at least float32.

    Raises:
        ValueError: an unknown ``form``, a rollout with fewer than 2 states,
            or an embedding that does not return ``(..., k)``.
    """
    if form not in LOSS_FORMS:
        raise ValueError(f"unknown Noether loss form {form!r}; use one of {LOSS_FORMS}")
    if traj.ndim < state_ndim + 1 or traj.shape[-state_ndim - 1] < 2:
        raise ValueError(f"traj must have shape (..., T+1, *state) with T >= 1 and {state_ndim}-d states; "
                         f"got {tuple(traj.shape)}")
    e = g(traj)  # (..., T + 1, k)
    lead = traj.shape[:-state_ndim]
    if e.ndim != len(lead) + 1 or e.shape[:-1] != lead:
        raise ValueError(f"embedding returned shape {tuple(e.shape)} for states {tuple(traj.shape)}; "
                         f"expected {tuple(lead)} + (k,)")
    if e.dtype in (torch.float16, torch.bfloat16):  # half-precision activations: the loss in float32
        e = e.float()
    ref = e[..., :1, :] if form == "start" else e[..., :-1, :]
    return ((e[..., 1:, :] - ref) ** 2).sum(dim=(-1, -2))


class OracleEmbedding(nn.Module):
    """The system's true conserved quantities as a Noether embedding: ``g(x) = H(x)``, or
    ``(H, I_1, ..., I_m)`` for a system with ``invariants`` (``(..., k)``, ``k = 1 + m``)."""

    def __init__(self, system: Union[str, "System"]) -> None:
        from ..systems.hamiltonians import get_system  # systems import core.registry: no cycle at import time

        super().__init__()
        self.system = get_system(system)

    def forward(self, x: Tensor) -> Tensor:
        return self.system.conserved(x)


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
    from ..models.mlp import EmbeddingMLP

    return EmbeddingMLP(dim=2, out_dim=out_dim, hidden=hidden, **kw)


EMBEDDINGS.register("neural", _neural)
