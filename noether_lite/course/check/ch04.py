"""Chapter 4 (a meta-learned embedding): the exercise checks."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._core import _Wrong, _as_tensor, _call, _close, _const_ratio, _exercise, _fmt, _grads

__all__ = ['cond_norm', 'cn_tailor_step']


def _ref_cond_norm(h: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    dims = tuple(range(1, h.ndim))
    mu = h.mean(dims, keepdim=True)
    var = h.var(dims, keepdim=True, unbiased=False)
    shape = gamma.shape + (1,) * (h.ndim - 2)
    return gamma.reshape(shape) * (h - mu) / torch.sqrt(var + eps) + beta.reshape(shape)


@_exercise("cond_norm")
def cond_norm(fn: Callable) -> str:
    """``cond_norm(h, gamma, beta, eps=1e-5)``: per-example normalisation (all of an example's features), then ``γ_i ⊙ h + β_i``."""
    for shape in ((4, 6), (3, 5, 4, 4)):
        h = torch.randn(*shape) * 3 + 1
        gamma, beta = torch.rand(shape[0], shape[1]) + 0.5, torch.randn(shape[0], shape[1])
        ref = _ref_cond_norm(h, gamma, beta)
        got = _as_tensor(_call(fn, h, gamma, beta), f"the output for h of shape {shape}", h.shape)
        if _close(got, ref, 1e-4):
            continue
        h2 = h.clone()
        h2[1:] = h2[1:] * 5 + 7
        got2 = _as_tensor(_call(fn, h2, gamma, beta), f"the output for h of shape {shape}", h.shape)
        if not _close(got2[0], got[0], 1e-5):
            raise _Wrong("example 0's output changed when only the other examples changed: your statistics mix examples "
                         "(like BatchNorm). Normalise each example on its own (LayerNorm / GroupNorm(1, C)), or CNGrad's "
                         "one-backward trick breaks")
        if _close(got, _ref_cond_norm(h, beta, gamma), 1e-4):
            raise _Wrong("γ and β are swapped: scale by γ, then shift by β")
        dims, bshape = tuple(range(1, h.ndim)), gamma.shape + (1,) * (h.ndim - 2)
        g_, b_ = gamma.reshape(bshape), beta.reshape(bshape)
        unbiased = g_ * (h - h.mean(dims, keepdim=True)) / torch.sqrt(h.var(dims, keepdim=True) + 1e-5) + b_
        if _close(got, unbiased, 1e-4):
            raise _Wrong("you used the unbiased variance (÷ n−1); normalisation layers divide by n (unbiased=False)")
        if _close(got, g_ * h + b_, 1e-4):
            raise _Wrong("the modulation is right but h is not normalised first: subtract the example's mean, divide by its std")
        if _close(got, _ref_cond_norm(h, torch.ones_like(gamma), torch.zeros_like(beta)), 1e-4):
            raise _Wrong("the normalisation is right but γ and β are not applied: return γ ⊙ ĥ + β")
        raise _Wrong(f"wrong values for h of shape {shape}: normalise over all dims but the batch, "
                     "then γ (B, C) and β (B, C) broadcast over any trailing spatial dims")
    return "per-example normalisation, then γ_i ⊙ h + β_i, for (B, C) and (B, C, H, W)"


def _cn_problem(dtype=torch.float64):
    gen = torch.Generator().manual_seed(1)
    b, c = 5, 3
    w = torch.randn(2, c, generator=gen, dtype=dtype)
    v = torch.randn(c, 2, generator=gen, dtype=dtype)
    x0 = torch.randn(b, 2, generator=gen, dtype=dtype)
    g = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).to(dtype)
    with torch.no_grad():
        for prm in g.parameters():
            prm.copy_(0.5 * torch.randn(prm.shape, generator=gen, dtype=dtype))

    def inner_loss(gamma: Tensor, beta: Tensor) -> Tensor:  # (B,)
        xs = [x0]
        for _ in range(4):
            hid = torch.tanh(gamma * (xs[-1] @ w) + beta)  # (B, C)
            xs.append(xs[-1] + 0.1 * hid @ v)
        e = g(torch.stack(xs, 1))  # (B, T+1, 1)
        return ((e[:, 1:] - e[:, :1]) ** 2).sum(dim=(1, 2))

    gamma = torch.ones(b, c, dtype=dtype, requires_grad=True)
    beta = torch.zeros(b, c, dtype=dtype, requires_grad=True)
    return inner_loss, gamma, beta, g


@_exercise("cn_tailor_step")
def cn_tailor_step(fn: Callable) -> str:
    """``cn_tailor_step(inner_loss, gamma, beta, *, inner_lr)``: CNGrad, one backward of the batch-*summed* loss."""
    inner_loss, gamma, beta, g = _cn_problem()
    lr = 0.3
    rows = [torch.autograd.grad(inner_loss(gamma, beta)[i], (gamma, beta)) for i in range(gamma.shape[0])]
    gg = torch.stack([r[0][i] for i, r in enumerate(rows)])  # each example's own gradient
    gb = torch.stack([r[1][i] for i, r in enumerate(rows)])
    ref_g, ref_b = gamma - lr * gg, beta - lr * gb
    got = _call(fn, inner_loss, gamma, beta, inner_lr=lr)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise _Wrong("return the pair (tailored gamma, tailored beta)")
    g1 = _as_tensor(got[0], "tailored gamma", gamma.shape)
    b1 = _as_tensor(got[1], "tailored beta", beta.shape)
    if not (_close(g1, ref_g, 1e-6) and _close(b1, ref_b, 1e-6)):
        step = torch.cat([(g1 - gamma).detach().flatten(), (b1 - beta).detach().flatten()])
        ref_step = torch.cat([(ref_g - gamma).detach().flatten(), (ref_b - beta).detach().flatten()])
        r = _const_ratio(step, ref_step)
        if r is not None and abs(r - 1 / gamma.shape[0]) < 1e-4:
            raise _Wrong(f"your step is B = {gamma.shape[0]} times too small: you averaged the inner loss over the batch. "
                         "Sum it: each example's γ_i, β_i then get exactly their own gradient, whatever the batch size")
        if r is not None and abs(r + 1) < 1e-4:
            raise _Wrong("wrong sign: the step must go down the gradient, γ' = γ − λ ∂L/∂γ")
        if r is not None and abs(r) < 1e-12:
            raise _Wrong("γ and β did not change: apply the step")
        if r is not None:
            raise _Wrong(f"the step has the right direction but {_fmt(r)} × the size: use λ = inner_lr")
        raise _Wrong("wrong values; expected γ' = γ − λ ∂(Σ_i L_i)/∂γ and the same for β")
    outer = (g1**2).sum() + (b1**2).sum()
    gphi = _grads(outer, list(g.parameters()))
    if all(t is None or t.abs().max() == 0 for t in gphi):
        raise _Wrong("the values are right but no gradient reaches g_φ: build the inner gradient with create_graph=True "
                     "(and do not detach it), or g_φ can never be meta-learned")
    return "one backward of the summed loss, right sign and size, second order"


# ============================================================================ chapter 5
