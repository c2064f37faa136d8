"""Chapter 2 (tailoring): the exercise checks."""
from __future__ import annotations

from typing import Callable, Dict, Mapping

import torch
from torch import Tensor

from ._core import _Wrong, _as_tensor, _call, _close, _copy, _const_ratio, _exercise, _fmt, _grads, _sandboxed, _shape

__all__ = ['noether_loss', 'tailor_step']


def _ref_noether(g: Callable, traj: Tensor, form: str) -> Tensor:
    e = g(traj)  # (B, T+1, k)
    ref = e[:, :1] if form == "start" else e[:, :-1]
    return ((e[:, 1:] - ref) ** 2).sum(dim=(-1, -2))


class _TwoQuantities(torch.nn.Module):
    """A fixed 2-d embedding used by the checks: (energy, q·p)."""

    def forward(self, x: Tensor) -> Tensor:
        q, p = x[..., 0], x[..., 1]
        return torch.stack([3 * (1 - torch.cos(q)) + p**2, q * p], -1)


@_exercise("noether_loss")
def noether_loss(fn: Callable) -> str:
    """``noether_loss(g, traj, form)``: both forms, summed over time and embedding dims, ``(B,)``."""
    g = _TwoQuantities()
    b, t = 4, 6
    traj = torch.randn(b, t + 1, 2)
    for form in ("start", "consecutive"):
        ref = _ref_noether(g, traj, form)
        other = _ref_noether(g, traj, "consecutive" if form == "start" else "start")
        got = _as_tensor(_call(fn, g, traj, form), f"the loss (form={form!r})")
        if got.ndim == 0:
            if _close(got, ref.sum()):
                raise _Wrong(f"form={form!r}: you summed over the batch; return one loss per example, shape ({b},)")
            if _close(got, ref.mean()):
                raise _Wrong(f"form={form!r}: you averaged over the batch; return one loss per example, shape ({b},)")
            raise _Wrong(f"form={form!r}: you returned one number; expected one loss per example, shape ({b},)")
        _shape(got, (b,), f"the loss (form={form!r})")
        if _close(got, ref):
            continue
        if _close(got, other):
            raise _Wrong(f"form={form!r} computes the {'consecutive' if form == 'start' else 'start'} form: "
                         "'start' compares g(x_t) with g(x_0), 'consecutive' with g(x_{t−1})")
        r = _const_ratio(got, ref)
        if r is not None and abs(r - 1 / t) < 1e-4:
            raise _Wrong(f"form={form!r}: you averaged over time where the Noether loss sums (Σ_t): it is 1/T × the loss")
        if r is not None and abs(r - 1 / (t + 1)) < 1e-4:
            raise _Wrong(f"form={form!r}: you averaged over T+1 states where the Noether loss sums over t = 1..T")
        if r is not None and abs(r - 0.5) < 1e-4:
            raise _Wrong(f"form={form!r}: you averaged over the embedding dimensions where ‖·‖² sums them")
        if r is not None and abs(r - 1 / (2 * t)) < 1e-4:
            raise _Wrong(f"form={form!r}: you averaged over time and embedding dims; the loss sums both")
        e = g(traj)
        prev = e[:, :1] if form == "start" else e[:, :-1]
        if _close(got, (e[:, 1:] - prev).norm(dim=-1).sum(-1)):
            raise _Wrong(f"form={form!r}: you used the norm ‖·‖, not its square ‖·‖²")
        if _close(got, (e[:, 1:] - prev).sum(-1).pow(2).sum(-1)):
            raise _Wrong(f"form={form!r}: you squared the sum over embedding dims; square each difference, then sum")
        raise _Wrong(f"form={form!r}: wrong values; expected Σ_t ‖g(x_t) − g(x_{{ref}})‖², one per example")
    return "both forms, summed over time and embedding dims, one loss per example"


def _toy_predictor(seed: int = 0, dtype=torch.float64):
    """Tiny problem for the tailoring checks: a linear vector field, Euler rollout, an MLP g_φ."""
    gen = torch.Generator().manual_seed(seed)
    params = {
        "w": (0.3 * torch.randn(2, 2, generator=gen, dtype=dtype)).requires_grad_(True),
        "b": (0.1 * torch.randn(2, generator=gen, dtype=dtype)).requires_grad_(True),
    }
    g = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).to(dtype)
    with torch.no_grad():
        for prm in g.parameters():
            prm.copy_(0.5 * torch.randn(prm.shape, generator=gen, dtype=dtype))
    x0 = torch.randn(3, 2, generator=gen, dtype=dtype)

    def inner_loss(p: Dict[str, Tensor], x: Tensor) -> Tensor:
        xs = [x]
        for _ in range(4):
            xs.append(xs[-1] + 0.1 * (xs[-1] @ p["w"].T + p["b"]))
        e = g(torch.stack(xs, -2))  # (T+1, 1)
        return ((e[1:] - e[:1]) ** 2).sum()

    return params, g, x0, inner_loss


def _ref_tailor(inner_loss, params, x0, lr):
    out = {n: [] for n in params}
    for x in x0:
        grads = torch.autograd.grad(inner_loss(params, x), list(params.values()), create_graph=True)
        for (n, v), gr in zip(params.items(), grads):
            out[n].append(v - lr * gr)
    return {n: torch.stack(v) for n, v in out.items()}


@_exercise("tailor_step")
def tailor_step(fn: Callable) -> str:
    """``tailor_step(inner_loss, params, x0, *, inner_lr)``: one step per example, ``θ'_i = θ − λ ∇_θ L(θ; x_i)``."""
    params, g, x0, inner_loss = _toy_predictor()
    lr, b = 0.5, x0.shape[0]
    ref = _ref_tailor(inner_loss, params, x0, lr)
    phi = list(g.parameters())
    ref_outer = sum((ref[n] ** 2).sum() for n in params)
    ref_grads = torch.autograd.grad(ref_outer, phi + list(params.values()), allow_unused=True)
    theta = _copy(params)  # the learner's own θ: the meta-gradient is taken with respect to these leaves
    got = _sandboxed(fn, inner_loss, dict(theta), _copy(x0), inner_lr=lr)
    if not isinstance(got, Mapping) or set(got) != set(params):
        raise _Wrong(f"return a dict with the same names as params ({sorted(params)}), got {type(got).__name__}"
                     + (f" with keys {sorted(got)}" if isinstance(got, Mapping) else ""))
    for n in params:
        _as_tensor(got[n], f"tailored {n!r}")
        if tuple(got[n].shape) == tuple(params[n].shape):
            raise _Wrong(f"tailored {n!r} has shape {tuple(got[n].shape)}: one copy for the whole batch. "
                         f"Each example gets its own step: expected ({b}, *{tuple(params[n].shape)}); use torch.func.vmap")
        _shape(got[n], ref[n].shape, f"tailored {n!r}")
    if not all(_close(got[n], ref[n], 1e-6) for n in params):
        step = {n: got[n].detach() - params[n].detach() for n in params}
        ref_step = {n: ref[n].detach() - params[n].detach() for n in params}
        flat, ref_flat = torch.cat([s.flatten() for s in step.values()]), torch.cat([s.flatten() for s in ref_step.values()])
        r = _const_ratio(flat, ref_flat)
        if r is not None and abs(r + 1) < 1e-3:
            raise _Wrong("wrong sign: your step goes up the gradient and increases the Noether loss; θ' = θ − λ ∇_θ L")
        if r is not None and abs(r) < 1e-9:
            raise _Wrong("the parameters did not change: apply the step θ' = θ − λ ∇_θ L")
        if r is not None:
            raise _Wrong(f"the step has the right direction but {_fmt(r)} × the size: use exactly λ = inner_lr")
        batch_grads = torch.autograd.grad(sum(inner_loss(params, x) for x in x0), list(params.values()))
        for scale, what in ((1.0, "summed"), (1.0 / b, "averaged")):
            if all(_close(step[n], (-lr * scale * gr).expand_as(step[n]), 1e-6) for n, gr in zip(params, batch_grads)):
                raise _Wrong(f"every example got the same step: you differentiated the batch-{what} loss. "
                             "Tailoring adapts θ to each example separately: vmap(grad(inner_loss)) over the batch")
        raise _Wrong("wrong values; expected θ'_i = θ − λ ∇_θ L(θ; x_i) for each example i")
    # the meta-gradient: φ (the embedding) must reach the tailored parameters (second order)
    outer = sum((got[n] ** 2).sum() for n in params)
    grads = _grads(outer, phi + [theta[n] for n in params])
    gphi, gtheta = grads[: len(phi)], grads[len(phi):]
    if all(gr is None or gr.abs().max() == 0 for gr in gphi):
        raise _Wrong("the values are right but no gradient reaches g_φ through θ': you detached the inner gradient "
                     "(no .detach(), keep torch.func.grad's graph / create_graph=True), so g_φ could never be meta-learned")
    if not all(a is not None and _close(a, c, 1e-6) for a, c in zip(grads, ref_grads)):
        raise _Wrong("the values are right but the meta-gradient is not: keep the whole step differentiable in θ and φ")
    return "per-example step, right sign and size, and φ gets its second-order meta-gradient"


# ============================================================================ chapter 3
