"""The tailoring engine: adapt a predictor to each query on an unsupervised loss.

Two pure functions, both built on ``torch.func`` / autograd, both batched with
no Python loop over examples and no host synchronisation:

* :func:`tailor_weights` — every example gets its own copy of *all* weights,
  ``θ'_i = θ - λ ∇_θ L(θ; x_i)``, computed with ``vmap(grad(...))``.
* :func:`tailor_cn` — CNGrad: only per-example conditional-normalisation
  parameters ``(γ_i, β_i)`` are tailored. Examples do not interact, so the
  gradient of the *batch-summed* loss w.r.t. ``(γ_i, β_i)`` is example ``i``'s
  own gradient: one backward pass tailors the whole batch, and the step does
  not depend on the batch size.

Both are second order by default (``first_order=False``): the tailored
parameters stay differentiable functions of ``θ`` and of whatever the inner
loss depends on (the Noether embedding ``g_φ``), which is how ``φ`` gets its
meta-gradient. Training and evaluation call the same functions.

A per-example guard keeps an example's untailored parameters when its tailored
loss is non-finite or larger than before; the reverted examples are returned
(as a tensor, to avoid a host sync) so callers can count and report them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple, Union

import torch
from torch import Tensor, nn
from torch.func import grad, vmap

__all__ = [
    "TailorConfig",
    "TailorResult",
    "InnerLR",
    "tailor_weights",
    "tailor_cn",
    "per_example",
]

Params = Dict[str, Tensor]
LR = Union[float, Tensor]


@dataclass(frozen=True)
class TailorConfig:
    """How to tailor.

    Attributes:
        steps: inner steps ``K`` (0 = no tailoring).
        inner_lr: the inner learning rate ``λ_in`` (initial value if learned).
        learn_inner_lr: meta-learn ``log λ_in`` per step.
        first_order: drop second-order terms (then ``g_φ`` gets no meta-gradient).
        guard: revert examples whose tailored loss is non-finite or larger.
        mode: ``"weights"`` (all weights, per example) or ``"cn"`` (CNGrad).
    """

    steps: int = 1
    inner_lr: float = 1e-2
    learn_inner_lr: bool = False
    first_order: bool = False
    guard: bool = True
    mode: str = "weights"

    def __post_init__(self) -> None:
        _check_steps(self.steps)
        if not (isinstance(self.inner_lr, (int, float)) and math.isfinite(self.inner_lr) and self.inner_lr >= 0):
            raise ValueError(f"inner_lr must be a finite number >= 0, got {self.inner_lr!r}")
        if self.mode not in ("weights", "cn"):
            raise ValueError(f"mode must be 'weights' or 'cn', got {self.mode!r}")


@dataclass
class TailorResult:
    """What a tailoring call returns.

    Attributes:
        params: tailored parameters. ``tailor_weights``: each tensor has a
            leading batch dimension ``B``. ``tailor_cn``: same shapes as given.
        loss_before: inner loss per example before tailoring, shape ``(B,)``.
        loss_after: inner loss per example after tailoring (after the guard),
            shape ``(B,)``; equals ``loss_before`` when ``steps == 0``.
        reverted: bool mask of examples the guard reverted, shape ``(B,)``.
        aux: when ``inner_loss`` returns ``(loss, aux)``, the aux output (e.g.
            the rollout) evaluated at the returned parameters, per example; lets
            a caller reuse the final rollout instead of recomputing it.
    """

    params: Params
    loss_before: Tensor
    loss_after: Tensor
    reverted: Tensor
    aux: Optional[Tensor] = None

    @property
    def n_reverted(self) -> Tensor:
        """Number of reverted examples, as a 0-d tensor (no host sync)."""
        return self.reverted.sum()


class InnerLR(nn.Module):
    """A meta-learnable inner learning rate per step, ``λ_k = exp(log_λ_k)``.

    Args:
        steps: number of inner steps ``K``.
        init: initial ``λ`` (> 0).
    """

    def __init__(self, steps: int, init: float) -> None:
        super().__init__()
        _check_steps(steps)
        if not init > 0:
            raise ValueError(f"a learned inner lr needs init > 0, got {init}")
        self.log_lr = nn.Parameter(torch.full((max(steps, 1),), math.log(init)))

    def forward(self) -> Tensor:
        return self.log_lr.exp()  # (K,)


def _check_steps(steps: int) -> None:
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise TypeError(f"steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"steps (K) must be >= 0, got {steps}")


def _lr_at(inner_lr: LR, k: int) -> LR:
    if isinstance(inner_lr, Tensor):
        if inner_lr.ndim == 0:
            return inner_lr
        return inner_lr[min(k, inner_lr.shape[0] - 1)]
    if not (math.isfinite(inner_lr) and inner_lr >= 0):
        raise ValueError(f"inner_lr must be finite and >= 0, got {inner_lr}")
    return inner_lr


def _as_tuple(batch) -> Tuple[Tensor, ...]:
    batch = batch if isinstance(batch, (tuple, list)) else (batch,)
    if len(batch) == 0 or not all(isinstance(b, Tensor) for b in batch):
        raise TypeError("batch must be a tensor or a tuple of tensors with a leading batch dimension")
    sizes = {b.shape[0] if b.ndim else None for b in batch}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"all batch tensors need the same leading batch size; got shapes {[tuple(b.shape) for b in batch]}")
    return tuple(batch)


def tailor_weights(
    inner_loss: Callable[..., Tensor],
    params: Params,
    batch,
    *,
    steps: int,
    inner_lr: LR,
    first_order: bool = False,
    guard: bool = True,
    chunk_size: Optional[int] = None,
) -> TailorResult:
    """Tailor all weights, separately for each example of a batch.

    Args:
        inner_loss: ``inner_loss(params, *example) -> scalar`` for ONE example
            (tensors without the batch dimension), e.g. a Noether loss of the
            model's rollout from that example's initial state; or
            ``-> (scalar, aux)`` to get ``aux`` (e.g. the rollout) back in the result.
        params: the shared parameters ``θ`` (name -> tensor), e.g.
            ``dict(model.named_parameters())``.
        batch: a tensor ``(B, ...)`` or tuple of tensors with leading ``B``.
        steps: inner steps ``K >= 0``.
        inner_lr: ``λ_in``: a float, a 0-d tensor, or a ``(K,)`` tensor.
        first_order: detach the inner gradients (no second-order terms).
        guard: revert examples whose tailored loss is non-finite or larger.
        chunk_size: forwarded to ``vmap`` to bound memory on big batches.

    Returns:
        :class:`TailorResult` whose ``params`` tensors have shape ``(B, *p.shape)``.

    Raises:
        TypeError / ValueError: bad ``steps``, ``inner_lr`` or batch shapes.
    """
    _check_steps(steps)
    batch = _as_tuple(batch)
    names = list(params)

    has_aux = [False]

    def split(out):
        if isinstance(out, tuple):
            has_aux[0] = True
            return out
        return out, out.new_zeros(())  # a placeholder: vmap outputs must be tensors

    def loss_only(p, *example):
        return split(inner_loss(p, *example))[0]

    def one(*example: Tensor):
        p = params
        loss0, aux0 = split(inner_loss(p, *example))
        no = torch.zeros((), dtype=torch.bool, device=loss0.device)
        if steps == 0:
            p = {n: params[n] + torch.zeros_like(params[n]) for n in names}  # materialise per-example copies
            return p, loss0, loss0, no, aux0
        for k in range(steps):
            g = grad(loss_only)(p, *example)
            lr = _lr_at(inner_lr, k)
            p = {n: p[n] - lr * (g[n].detach() if first_order else g[n]) for n in names}
        loss, aux = split(inner_loss(p, *example))
        if guard:
            ok = torch.isfinite(loss) & (loss <= loss0)
            p = {n: torch.where(ok, p[n], params[n]) for n in names}
            loss = torch.where(ok, loss, loss0)
            aux = torch.where(ok, aux, aux0)
            return p, loss0, loss, ~ok, aux
        return p, loss0, loss, no, aux

    p, l0, l1, rev, aux = vmap(one, chunk_size=chunk_size)(*batch)
    return TailorResult(params=p, loss_before=l0, loss_after=l1, reverted=rev, aux=aux if has_aux[0] else None)


def tailor_cn(
    inner_loss: Callable[[Params], Tensor],
    cn_params: Params,
    *,
    steps: int,
    inner_lr: LR,
    first_order: bool = False,
    guard: bool = True,
    final: str = "graph",
) -> TailorResult:
    """CNGrad: tailor per-example conditional-normalisation parameters.

    Args:
        inner_loss: ``inner_loss(cn) -> (B,)`` per-example losses (or
            ``-> ((B,), aux)`` with a per-example ``aux`` such as the rollout), where ``cn``
            maps names to per-example tensors ``(B, C, ...)`` (``γ`` and ``β``).
            Examples must not interact (LayerNorm/GroupNorm, never BatchNorm
            in training mode), so summing over the batch gives each example
            its own gradient.
        cn_params: the starting ``(γ, β)``, usually ones and zeros, shape ``(B, C, ...)``.
        steps: inner steps ``K >= 0``.
        inner_lr: ``λ_in``: a float, a 0-d tensor, or a ``(K,)`` tensor.
        first_order: do not build the graph of the inner gradient.
        guard: revert examples whose tailored loss is non-finite or larger.
        final: how the inner loss at the tailored parameters is evaluated:
            ``"graph"`` (differentiable: the outer loss may use ``loss_after`` or ``aux``),
            ``"value"`` (under ``no_grad``: enough for the guard and for reporting; saves the
            memory of a graph nobody differentiates), or ``"skip"`` (not evaluated, needs
            ``guard=False``; ``loss_after`` is then NaN and ``aux`` is ``None``).

    Returns:
        :class:`TailorResult` with ``params`` of the same shapes as ``cn_params``.
        Only the CN parameters are differentiated in the inner step; the
        second-order graph (when ``first_order=False``) runs through them alone.
    """
    _check_steps(steps)
    if not cn_params:
        raise ValueError("cn_params is empty: the model has no conditional-normalisation layers")
    if final not in ("graph", "value", "skip"):
        raise ValueError(f"final must be 'graph', 'value' or 'skip', got {final!r}")
    if final == "skip" and guard:
        raise ValueError("final='skip' needs guard=False: the guard compares the losses before and after")
    names = list(cn_params)
    def split(out):
        return out if isinstance(out, tuple) else (out, None)

    with torch.enable_grad():
        c0 = {n: (v if v.requires_grad else v.detach().requires_grad_(True)) for n, v in cn_params.items()}
        loss0, aux0 = split(inner_loss(c0))
        if loss0.ndim != 1:
            raise ValueError(f"inner_loss must return per-example losses of shape (B,), got {tuple(loss0.shape)}")
        no = torch.zeros_like(loss0, dtype=torch.bool)
        if steps == 0:
            return TailorResult(c0, loss0, loss0, no, aux0)
        c, loss = c0, loss0
        for k in range(steps):
            if k > 0:
                loss = split(inner_loss(c))[0]
            gs = torch.autograd.grad(loss.sum(), [c[n] for n in names], create_graph=not first_order)
            lr = _lr_at(inner_lr, k)
            c = {n: c[n] - lr * g for n, g in zip(names, gs)}
        if final == "skip":
            return TailorResult(c, loss0, torch.full_like(loss0.detach(), float("nan")), no, None)
        if final == "value":
            with torch.no_grad():
                loss, aux = split(inner_loss(c))
        else:
            loss, aux = split(inner_loss(c))
    if guard:
        ok = torch.isfinite(loss) & (loss <= loss0)  # (B,)

        def pick(new: Tensor, old: Tensor) -> Tensor:
            return torch.where(ok.view(-1, *([1] * (new.ndim - 1))), new, old)

        c = {n: pick(c[n], c0[n]) for n in names}
        detach = final == "value"  # the reported values carry no graph then
        loss = torch.where(ok, loss, loss0.detach() if detach else loss0)
        if aux is not None:
            aux = pick(aux, aux0.detach() if detach and aux0 is not None else aux0)
        return TailorResult(c, loss0, loss, ~ok, aux)
    return TailorResult(c, loss0, loss, no, aux)


def per_example(fn: Callable[..., Tensor], params_b: Params, *batch: Tensor, chunk_size: Optional[int] = None):
    """Apply ``fn(params, *example)`` with each example's own parameters.

    Args:
        fn: function of one example's parameters and tensors.
        params_b: per-example parameters, each ``(B, *shape)`` (from :func:`tailor_weights`).
        batch: tensors with leading ``B``.
    """
    return vmap(fn, chunk_size=chunk_size)(params_b, *batch)
