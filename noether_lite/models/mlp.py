"""Predictors for the physical systems, and the neural Noether embedding.

* :class:`MLP` — the HNN paper's baseline: an MLP that predicts ``dx/dt``;
  optionally with conditional-normalisation (CN) layers for CNGrad.
* :class:`HNN` — a Hamiltonian Neural Network: learns a scalar ``H_θ`` and
  follows its symplectic gradient.
* :class:`EmbeddingMLP` — a neural Noether embedding ``g_φ: state -> R^k``.
* :class:`SeparableEmbedding` — ``g_φ(q, p) = a_φ(q) + b_φ(p)``: the form of every
  ``T(p) + V(q)`` energy, an inductive bias for mechanical systems.
* :class:`ScaleFree` — an embedding divided by its own spread over reference states, so the
  Noether loss (quadratic in ``g``) does not change with ``g``'s scale.
"""
from __future__ import annotations

from typing import Dict, Optional

import torch
from torch import Tensor, nn

__all__ = ["MLP", "HNN", "EmbeddingMLP", "SeparableEmbedding", "ScaleFree", "CondNorm", "ACTIVATIONS"]

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus, "silu": nn.SiLU}


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class CondNorm(nn.Module):
    """Per-example affine modulation ``h <- γ_i ⊙ h + β_i`` (identity without CN params).

    The parameters are not stored in the module: they are passed in per call
    as ``cn[f"{key}.gamma"]`` and ``cn[f"{key}.beta"]`` of shape ``(B, C)``,
    which broadcast against ``h`` of shape ``(B, C)``, ``(B, C, H, W)`` or,
    with ``channel_last=True``, ``(B, ..., C)``.
    """

    def __init__(self, key: str, channels: int, *, channel_last: bool = False) -> None:
        super().__init__()
        self.key, self.channels, self.channel_last = key, channels, channel_last

    def init_params(self, batch_size: int, *, device=None, dtype=None) -> Dict[str, Tensor]:
        """Fresh ``(γ, β) = (1, 0)`` for ``batch_size`` examples."""
        return {
            f"{self.key}.gamma": torch.ones(batch_size, self.channels, device=device, dtype=dtype),
            f"{self.key}.beta": torch.zeros(batch_size, self.channels, device=device, dtype=dtype),
        }

    def forward(self, h: Tensor, cn: Optional[Dict[str, Tensor]] = None) -> Tensor:
        if cn is None:
            return h
        g, b = cn[f"{self.key}.gamma"], cn[f"{self.key}.beta"]
        extra = h.ndim - g.ndim
        if extra > 0:
            if self.channel_last:  # (B, C) against (B, ..., C): broadcast over the middle dims
                shape = (g.shape[0],) + (1,) * extra + (g.shape[1],)
            else:  # (B, C) against (B, C, H, W): broadcast over trailing spatial dims
                shape = tuple(g.shape) + (1,) * extra
            g, b = g.reshape(shape), b.reshape(shape)
        return g * h + b


class MLP(nn.Module):
    """The baseline vector-field MLP: ``x (..., D) -> dx/dt (..., D)``.

    Args:
        dim: state dimension ``D``.
        hidden: hidden width (the HNN paper used 200).
        layers: number of hidden layers.
        activation: ``"tanh"`` (HNN default), ``"relu"``, ``"softplus"``, ``"silu"``.
        cn: add a :class:`CondNorm` after each hidden linear layer (for CNGrad).
    """

    def __init__(self, dim: int = 2, hidden: int = 200, layers: int = 2, activation: str = "tanh", cn: bool = False) -> None:
        super().__init__()
        if dim < 1 or hidden < 1 or layers < 1:
            raise ValueError(f"dim, hidden and layers must be >= 1; got {dim}, {hidden}, {layers}")
        self.dim, self.use_cn = dim, cn
        sizes = [dim] + [hidden] * layers
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.cns = nn.ModuleList(CondNorm(f"cn{i}", hidden, channel_last=True) for i in range(layers))
        self.act = _activation(activation)
        self.out = nn.Linear(hidden, dim)

    def init_cn(self, batch_size: int, *, device=None, dtype=None) -> Dict[str, Tensor]:
        """Fresh per-example CN parameters (raises if the model has none)."""
        if not self.use_cn:
            raise ValueError("this MLP was built with cn=False; it has no CN parameters to tailor")
        out: Dict[str, Tensor] = {}
        for m in self.cns:
            out.update(m.init_params(batch_size, device=device, dtype=dtype))
        return out

    def forward(self, x: Tensor, cn: Optional[Dict[str, Tensor]] = None) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"expected states with last dimension {self.dim}, got shape {tuple(x.shape)}")
        h = x
        for lin, norm in zip(self.linears, self.cns):
            h = self.act(norm(lin(h), cn))
        return self.out(h)


class HNN(nn.Module):
    """Hamiltonian Neural Network (Greydanus et al. 2019).

    Learns a scalar ``H_θ(q, p)``; the predicted vector field is its
    symplectic gradient ``(∂H/∂p, -∂H/∂q)``, so the learned ``H_θ`` is
    conserved by construction (up to integration error).
    """

    def __init__(self, dim: int = 2, hidden: int = 200, layers: int = 2, activation: str = "tanh") -> None:
        super().__init__()
        if dim % 2:
            raise ValueError(f"an HNN needs an even state dimension (q, p); got {dim}")
        self.dim = dim
        sizes = [dim] + [hidden] * layers
        mods = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            mods += [nn.Linear(a, b), _activation(activation)]
        self.net = nn.Sequential(*mods, nn.Linear(hidden, 1))

    def hamiltonian(self, x: Tensor) -> Tensor:
        """``H_θ(x)``: ``(..., D) -> (...)``."""
        return self.net(x).squeeze(-1)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"expected states with last dimension {self.dim}, got shape {tuple(x.shape)}")
        with torch.enable_grad():
            xr = x if x.requires_grad else x.detach().requires_grad_(True)
            (dh,) = torch.autograd.grad(self.hamiltonian(xr).sum(), xr, create_graph=True)
        n = self.dim // 2
        return torch.cat([dh[..., n:], -dh[..., :n]], dim=-1)


class EmbeddingMLP(nn.Module):
    """A neural Noether embedding ``g_φ: (..., D) -> (..., k)``."""

    def __init__(self, dim: int = 2, out_dim: int = 1, hidden: int = 64, layers: int = 2, activation: str = "tanh") -> None:
        super().__init__()
        if out_dim < 1:
            raise ValueError(f"out_dim (k) must be >= 1, got {out_dim}")
        self.dim, self.out_dim = dim, out_dim
        sizes = [dim] + [hidden] * layers
        mods = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            mods += [nn.Linear(a, b), _activation(activation)]
        self.net = nn.Sequential(*mods, nn.Linear(hidden, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"expected states with last dimension {self.dim}, got shape {tuple(x.shape)}")
        return self.net(x)


class SeparableEmbedding(nn.Module):
    """``g_φ(q, p) = a_φ(q) + b_φ(p)``, each part an MLP of its half of the state.

    Every energy of the form ``T(p) + V(q)`` (springs, pendulums, central forces) is of this
    form, so the embedding can represent it with smaller nets, and cannot represent most
    of what is not conserved.
    """

    def __init__(self, dim: int = 2, out_dim: int = 1, hidden: int = 32, layers: int = 2,
                 activation: str = "tanh") -> None:
        super().__init__()
        if dim % 2:
            raise ValueError(f"a separable embedding needs an even state dimension (q, p); got {dim}")
        self.dim, self.out_dim = dim, out_dim
        self.a = EmbeddingMLP(dim // 2, out_dim, hidden, layers, activation)
        self.b = EmbeddingMLP(dim // 2, out_dim, hidden, layers, activation)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"expected states with last dimension {self.dim}, got shape {tuple(x.shape)}")
        n = self.dim // 2
        return self.a(x[..., :n]) + self.b(x[..., n:])


class ScaleFree(nn.Module):
    """``g(x) / s``, with ``s`` the standard deviation of each output of ``g`` over fixed
    reference states (e.g. the training states), recomputed at every call.

    The Noether loss is quadratic in ``g``, so scaling ``g`` by ``c`` scales its gradient by
    ``c²`` and moves the useful inner learning rate by ``1/c²``: one ``λ_in`` grid cannot fit
    ``g`` and ``4 g``. Dividing by ``s`` makes the loss the same for every scale of ``g``.
    """

    def __init__(self, embedding: nn.Module, reference: Tensor, eps: float = 1e-6) -> None:
        super().__init__()
        if reference.ndim != 2 or reference.shape[0] < 2:
            raise ValueError(f"reference must be (M, D) states with M >= 2, got {tuple(reference.shape)}")
        self.embedding, self.eps = embedding, float(eps)
        self.register_buffer("reference", reference.detach().clone())

    def forward(self, x: Tensor) -> Tensor:
        scale = self.embedding(self.reference.to(x.dtype)).std(dim=0) + self.eps  # (k,)
        return self.embedding(x) / scale
