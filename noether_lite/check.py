"""Automatic feedback for the book's exercises.

Each chapter's exercise notebook (``exercises/NN_name.ipynb``) asks the reader
to write a function; the cell after it calls the matching check here, e.g.
``nl.check.pendulum_energy(pendulum_energy)``. A check

* tests the answer against a reference on random inputs, so every correct
  answer passes, not only the one in ``solutions/``;
* when the answer is wrong, says *what* is wrong where it can tell (an
  energy off by a constant factor or an additive constant, a loss averaged
  where it should be summed, a gradient that does not reach ``g_φ``, a wrong
  sign in the tailoring step, ...);
* reports an unfinished stub (``raise NotImplementedError``) as
  "not implemented yet" and returns normally, so a notebook with unfinished
  exercises still runs to the end;
* prints one ✅ / ❌ line and returns a :class:`CheckResult`.

Instructors can grade a whole notebook's namespace with :func:`grade`.
"""
from __future__ import annotations

import math
import traceback
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional

import torch
from torch import Tensor

__all__ = [
    "CheckResult",
    "CHECKS",
    "grade",
    # chapter 1
    "pendulum_energy",
    "hamiltonian_vector_field",
    "relative_energy_drift",
    # chapter 2
    "noether_loss",
    "tailor_step",
    # chapter 3
    "euler_rollout",
    "rollout_rmse",
    # chapter 4
    "cond_norm",
    "cn_tailor_step",
    # chapter 5
    "variance_ratio",
    "fit_coefficient",
    # chapter 6
    "psnr",
    "stack_frames",
    # chapter 7
    "controlled_vector_field",
    "injected_power",
]

PASS, FAIL = "✅", "❌"
NOT_IMPLEMENTED = "not implemented yet"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: the exercise (the function's expected name).
        passed: True when the answer is correct.
        message: what was checked, or what is wrong.
        implemented: False when the answer is still the stub.
    """

    name: str
    passed: bool
    message: str
    implemented: bool = True

    def __str__(self) -> str:
        return f"{PASS if self.passed else FAIL} {self.name}: {self.message}"

    def __bool__(self) -> bool:
        return self.passed


class _Wrong(Exception):
    """Raised inside a check with the specific feedback for the reader."""


CHECKS: Dict[str, Callable[..., CheckResult]] = {}


def _exercise(name: str):
    """Turn ``body(fn)`` (which raises :class:`_Wrong` with feedback) into a check."""

    def deco(body: Callable[[Callable], str]) -> Callable[..., CheckResult]:
        def check(fn: Callable, *, verbose: bool = True) -> CheckResult:
            result = _run(name, body, fn)
            if verbose:
                print(result)
            return result

        check.__name__ = check.__qualname__ = name
        check.__doc__ = f"Check the exercise ``{name}``.\n\n" + (body.__doc__ or "")
        CHECKS[name] = check
        return check

    return deco


def _run(name: str, body: Callable[[Callable], str], fn: Callable) -> CheckResult:
    if not callable(fn):
        return CheckResult(name, False, f"expected a function, got {type(fn).__name__}")
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            ok = body(fn)
        return CheckResult(name, True, ok or "correct")
    except NotImplementedError:
        return CheckResult(name, False, f"{NOT_IMPLEMENTED} (replace the `raise NotImplementedError` line)", implemented=False)
    except _Wrong as e:
        return CheckResult(name, False, str(e))
    except Exception as e:  # the reader's code crashed: say where
        tb = [f for f in traceback.extract_tb(e.__traceback__) if f.filename != __file__ and "torch" not in f.filename]
        where = f" (line {tb[-1].lineno}: {tb[-1].line})" if tb and tb[-1].line else ""
        return CheckResult(name, False, f"your function raised {type(e).__name__}: {e}{where}")


def grade(namespace: Mapping[str, object], names: Optional[List[str]] = None, *, verbose: bool = True) -> Dict[str, CheckResult]:
    """Run every check whose function is defined in ``namespace`` (e.g. ``globals()``).

    Args:
        namespace: where the reader's functions live.
        names: the exercises to grade (default: every exercise found in ``namespace``).
        verbose: print one line per exercise.

    Returns:
        ``{exercise name: CheckResult}``; a missing function is a failed check.
    """
    names = [n for n in CHECKS if n in namespace] if names is None else list(names)
    out: Dict[str, CheckResult] = {}
    for n in names:
        if n not in CHECKS:
            raise KeyError(f"unknown exercise {n!r}; known: {sorted(CHECKS)}")
        fn = namespace.get(n)
        out[n] = CHECKS[n](fn, verbose=False) if fn is not None else CheckResult(n, False, "function not defined")
        if verbose:
            print(out[n])
    return out


# ----------------------------------------------------------------------------- helpers
def _as_tensor(x, what: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise _Wrong(f"{what} should be a torch.Tensor, got {type(x).__name__}")
    return x


def _shape(x: Tensor, shape, what: str) -> None:
    if tuple(x.shape) != tuple(shape):
        raise _Wrong(f"{what} has shape {tuple(x.shape)}, expected {tuple(shape)}")


def _close(a: Tensor, b: Tensor, tol: float = 1e-5) -> bool:
    return bool(torch.allclose(a.double(), b.double(), rtol=tol, atol=tol))


def _const_ratio(got: Tensor, ref: Tensor, tol: float = 1e-4) -> Optional[float]:
    """``c`` if ``got ≈ c * ref`` for one constant ``c``, else None."""
    got, ref = got.double().flatten(), ref.double().flatten()
    if ref.abs().max() < 1e-12:
        return None
    c = float((got * ref).sum() / (ref * ref).sum())
    return c if torch.allclose(got, c * ref, rtol=tol, atol=tol * max(1.0, abs(c))) else None


def _const_offset(got: Tensor, ref: Tensor, tol: float = 1e-4) -> Optional[float]:
    """``c`` if ``got ≈ ref + c`` for one constant ``c``, else None."""
    d = (got.double() - ref.double()).flatten()
    c = float(d.mean())
    return c if torch.allclose(d, torch.full_like(d, c), atol=tol) else None


def _fmt(c: float) -> str:
    for name, v in (("1/2", 0.5), ("2", 2.0), ("-1", -1.0), ("1/3", 1 / 3), ("3", 3.0)):
        if abs(c - v) < 1e-3:
            return name
    return f"{c:.4g}"


# ============================================================================ chapter 1
def _ref_energy(q: Tensor, p: Tensor, c: float) -> Tensor:
    return c * (1 - torch.cos(q)) + p**2


@_exercise("pendulum_energy")
def pendulum_energy(fn: Callable) -> str:
    """``pendulum_energy(q, p, c=3.0)``: ``H = c (1 − cos q) + p²``, elementwise."""
    q, p = torch.rand(7, 5) * 6 - 3, torch.rand(7, 5) * 4 - 2
    for c in (3.0, 2.0):
        got = _as_tensor(fn(q, p, c), "the energy")
        if got.shape != q.shape:
            raise _Wrong(f"the energy has shape {tuple(got.shape)} for q, p of shape {tuple(q.shape)}: "
                         "it should be elementwise (no sum or mean over the batch)")
        ref = _ref_energy(q, p, c)
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
        zero = torch.zeros_like(q)
        pot, kin = fn(q, zero, c), fn(zero, p, c)
        if not _close(kin, p**2):
            r = _const_ratio(kin, p**2)
            raise _Wrong("the kinetic part (q = 0) is wrong" + (f": it is {_fmt(r)} × p², expected p²" if r else ": expected p²"))
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
        got = _as_tensor(fn(energy, x.clone()), "the vector field")
        _shape(got, x.shape, "the vector field")
        ref = _ref_vf(energy, x)
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
    got = _as_tensor(fn(energy, traj), "the drift")
    ref = _ref_drift(energy, traj)
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
        got = _as_tensor(fn(g, traj, form), f"the loss (form={form!r})")
        ref = _ref_noether(g, traj, form)
        other = _ref_noether(g, traj, "consecutive" if form == "start" else "start")
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
    got = fn(inner_loss, params, x0, inner_lr=lr)
    if not isinstance(got, Mapping) or set(got) != set(params):
        raise _Wrong(f"return a dict with the same names as params ({sorted(params)}), got {type(got).__name__}"
                     + (f" with keys {sorted(got)}" if isinstance(got, Mapping) else ""))
    ref = _ref_tailor(inner_loss, params, x0, lr)
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
    phi = list(g.parameters())
    grads = torch.autograd.grad(outer, phi + list(params.values()), allow_unused=True)
    gphi, gtheta = grads[: len(phi)], grads[len(phi):]
    if all(gr is None or gr.abs().max() == 0 for gr in gphi):
        raise _Wrong("the values are right but no gradient reaches g_φ through θ': you detached the inner gradient "
                     "(no .detach(), keep torch.func.grad's graph / create_graph=True), so g_φ could never be meta-learned")
    ref_outer = sum((ref[n] ** 2).sum() for n in params)
    ref_grads = torch.autograd.grad(ref_outer, phi + list(params.values()), allow_unused=True)
    if not all(a is not None and _close(a, c, 1e-6) for a, c in zip(grads, ref_grads)):
        raise _Wrong("the values are right but the meta-gradient is not: keep the whole step differentiable in θ and φ")
    return "per-example step, right sign and size, and φ gets its second-order meta-gradient"


# ============================================================================ chapter 3
@_exercise("euler_rollout")
def euler_rollout(fn: Callable) -> str:
    """``euler_rollout(f, x0, *, n_steps, dt)``: ``x_{t+1} = x_t + dt f(x_t)``, returns ``(B, T+1, D)``."""
    w = torch.tensor([[0.0, 1.0], [-2.0, -0.1]])
    f = lambda x: x @ w.T + 0.1 * torch.sin(x)
    x0 = torch.randn(4, 2)
    n, dt = 7, 0.1
    got = _as_tensor(fn(f, x0, n_steps=n, dt=dt), "the rollout")
    xs = [x0]
    for _ in range(n):
        xs.append(xs[-1] + dt * f(xs[-1]))
    ref = torch.stack(xs, 1)
    if tuple(got.shape) == (4, n, 2):
        raise _Wrong(f"the rollout has {n} states; it should start with x0 and have T+1 = {n + 1}: shape (B, T+1, D)")
    if tuple(got.shape) == (n + 1, 4, 2):
        raise _Wrong("time is on axis 0; stack on axis 1 so the shape is (B, T+1, D)")
    _shape(got, ref.shape, "the rollout")
    if _close(got, ref):
        return "x_{t+1} = x_t + dt f(x_t), x0 first, shape (B, T+1, D)"
    if not _close(got[:, 0], x0):
        raise _Wrong("the rollout must start with x0 itself")
    if _close(got[:, 1], x0 + f(x0)):
        raise _Wrong("you forgot dt: x_{t+1} = x_t + dt · f(x_t)")
    if _close(got[:, 1], dt * f(x0)):
        raise _Wrong("f predicts the change dx/dt: add it to the current state, x_{t+1} = x_t + dt · f(x_t)")
    if _close(got[:, 1], ref[:, 1]):
        raise _Wrong("the first step is right but later ones are not: feed each prediction back, x_{t+1} = x_t + dt f(x_t)")
    raise _Wrong("wrong values; expected x_{t+1} = x_t + dt f(x_t)")


@_exercise("rollout_rmse")
def rollout_rmse(fn: Callable) -> str:
    """``rollout_rmse(pred, target)``: ``sqrt(mean((pred − target)²))`` over all trajectories, steps and dims; a scalar."""
    pred = torch.randn(5, 9, 2)
    target = pred + torch.randn(5, 9, 2) * torch.linspace(0.1, 2.0, 5).view(5, 1, 1)
    got = _as_tensor(fn(pred, target), "the RMSE")
    err = (pred - target) ** 2
    ref = err.mean().sqrt()
    if got.ndim != 0:
        if _close(got.flatten(), err.mean(dim=(1, 2)).sqrt()):
            raise _Wrong("you returned one RMSE per trajectory; return a single number over the whole test set")
        raise _Wrong(f"expected a scalar (0-d tensor), got shape {tuple(got.shape)}")
    if _close(got, ref):
        return "one RMSE over all trajectories, time steps and dimensions"
    if _close(got, err.mean()):
        raise _Wrong("this is the MSE: take the square root")
    if _close(got, err.sum().sqrt()):
        raise _Wrong("you summed the squared errors where RMSE averages them: sqrt(mean(...))")
    if _close(got, err.sum()):
        raise _Wrong("you summed the squared errors and took no square root: sqrt(mean(...))")
    if _close(got, err.mean(dim=(1, 2)).sqrt().mean()):
        raise _Wrong("you averaged per-trajectory RMSEs; the RMSE averages the squared errors first, then takes one square root")
    if _close(got, (pred - target).abs().mean()):
        raise _Wrong("this is the mean absolute error; RMSE is sqrt(mean(err²))")
    raise _Wrong("wrong value; expected sqrt(mean((pred − target)²))")


# ============================================================================ chapter 4
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
        got = _as_tensor(fn(h, gamma, beta), "the output")
        _shape(got, h.shape, f"the output for h of shape {shape}")
        ref = _ref_cond_norm(h, gamma, beta)
        if _close(got, ref, 1e-4):
            continue
        h2 = h.clone()
        h2[1:] = h2[1:] * 5 + 7
        if not _close(fn(h2, gamma, beta)[0], got[0], 1e-5):
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
    got = fn(inner_loss, gamma, beta, inner_lr=lr)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise _Wrong("return the pair (tailored gamma, tailored beta)")
    g1, b1 = (_as_tensor(t, n) for t, n in zip(got, ("tailored gamma", "tailored beta")))
    _shape(g1, gamma.shape, "tailored gamma")
    _shape(b1, beta.shape, "tailored beta")
    rows = [torch.autograd.grad(inner_loss(gamma, beta)[i], (gamma, beta), create_graph=True) for i in range(gamma.shape[0])]
    gg = torch.stack([r[0][i] for i, r in enumerate(rows)])  # each example's own gradient
    gb = torch.stack([r[1][i] for i, r in enumerate(rows)])
    ref_g, ref_b = gamma - lr * gg, beta - lr * gb
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
    gphi = torch.autograd.grad(outer, list(g.parameters()), allow_unused=True)
    if all(t is None or t.abs().max() == 0 for t in gphi):
        raise _Wrong("the values are right but no gradient reaches g_φ: build the inner gradient with create_graph=True "
                     "(and do not detach it), or g_φ can never be meta-learned")
    return "one backward of the summed loss, right sign and size, second order"


# ============================================================================ chapter 5
def _pendulum_trajs(n: int = 6, t: int = 40, c: float = 3.0) -> Tensor:
    from .systems import integrate, pendulum

    sys_ = pendulum(c).with_(noise_std=0.0)
    x0 = torch.randn(n, 2, dtype=torch.float64) * 0.7
    return integrate(sys_.vector_field, x0, n_steps=t, dt=0.05, method="rk4", substeps=4)


def _ref_variance_ratio(f: Callable, traj: Tensor, states: Tensor) -> Tensor:
    along = f(traj[..., 0], traj[..., 1]).var(dim=1, unbiased=False).mean()
    rand = f(states[..., 0], states[..., 1]).var(unbiased=False)
    return along / rand


@_exercise("variance_ratio")
def variance_ratio(fn: Callable) -> str:
    """``variance_ratio(f, traj, states)``: mean over trajectories of ``Var_t f(x_t)``, divided by ``Var f`` on random ``states``."""
    traj = _pendulum_trajs()
    states = torch.randn(200, 2, dtype=torch.float64) * 1.5
    formulas = {"energy": lambda q, p: p**2 - 3 * torch.cos(q), "q·p": lambda q, p: q * p}
    for label, f in formulas.items():
        got = _as_tensor(fn(f, traj, states), "the ratio")
        if got.numel() != 1:
            raise _Wrong(f"return one number (the ratio), got shape {tuple(got.shape)}")
        got = got.reshape(())
        ref = _ref_variance_ratio(f, traj, states)
        unbiased = f(traj[..., 0], traj[..., 1]).var(dim=1).mean() / f(states[..., 0], states[..., 1]).var()
        if _close(got, ref, 1e-3) or _close(got, unbiased, 1e-3):  # n or n−1: both fine
            continue
        vals = f(traj[..., 0], traj[..., 1])
        rand = f(states[..., 0], states[..., 1]).var(unbiased=False)
        if _close(got, 1 / ref, 1e-3):
            raise _Wrong("the ratio is upside down: variance along trajectories ÷ variance on random states (small = conserved)")
        if _close(got, vals.var(unbiased=False) / rand, 1e-3) or _close(got, vals.var() / f(states[..., 0], states[..., 1]).var(), 1e-3):
            raise _Wrong(f"({label}) you pooled all trajectories' values: a conserved quantity differs between trajectories, "
                         "so take the variance over time within each trajectory, then average")
        if _close(got, vals.var(dim=1, unbiased=False).mean(), 1e-3):
            raise _Wrong(f"({label}) not normalised: divide by the variance on random states, or rescaling f changes the answer")
        raise _Wrong(f"({label}) wrong value; expected mean_i Var_t f(x_i,t) / Var f(random states)")
    return "variance along trajectories ÷ variance on random states (tiny for the energy, large for q·p)"


@_exercise("fit_coefficient")
def fit_coefficient(fn: Callable) -> str:
    """``fit_coefficient(a, b)``: the ``c`` minimising mean over trajectories of ``Var_t(a + c b)``; ``a, b`` are ``(N, T)``."""
    traj = _pendulum_trajs(c=3.0)
    q, p = traj[..., 0], traj[..., 1]
    a, b = p**2, -torch.cos(q)
    got = fn(a, b)
    try:
        c = float(got)
    except Exception:
        raise _Wrong(f"return one number c, got {type(got).__name__}")
    a_c, b_c = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    ref = float(-(a_c * b_c).sum() / (b_c * b_c).sum())
    if abs(c - ref) < 1e-3 * max(1, abs(ref)):
        # a second problem with a different answer, to catch hard-coded 3
        traj2 = _pendulum_trajs(c=2.0)
        a2, b2 = traj2[..., 1] ** 2, -torch.cos(traj2[..., 0])
        a2c, b2c = a2 - a2.mean(1, keepdim=True), b2 - b2.mean(1, keepdim=True)
        ref2 = float(-(a2c * b2c).sum() / (b2c * b2c).sum())
        if abs(float(fn(a2, b2)) - ref2) > 1e-3 * max(1, abs(ref2)):
            raise _Wrong("right for c = 3 but not for a pendulum with c = 2: fit c from the data, do not hard-code it")
        return f"c = {c:.3f} for p² − c cos q (the true pendulum has 3)"
    if abs(c + ref) < 1e-3 * max(1, abs(ref)):
        raise _Wrong(f"wrong sign: got {c:.4g}, expected {ref:.4g}; c = −Cov(a, b) / Var(b)")
    pooled = float(-((a - a.mean()) * (b - b.mean())).sum() / ((b - b.mean()) ** 2).sum())
    if abs(c - pooled) < 1e-3 * max(1, abs(pooled)):
        raise _Wrong("you centred over all trajectories at once; centre each trajectory on its own mean (the variance is taken along each trajectory)")
    raise _Wrong(f"got c = {c:.4g}, expected {ref:.4g} (for this pendulum the answer is close to 3)")


# ============================================================================ chapter 6
def _ref_psnr(pred: Tensor, target: Tensor, data_range: float) -> Tensor:
    mse = ((pred - target) ** 2).mean(dim=(-3, -2, -1))
    return 10 * torch.log10(data_range**2 / mse)


@_exercise("psnr")
def psnr(fn: Callable) -> str:
    """``psnr(pred, target, data_range=1.0)``: per-frame PSNR in dB, frames ``(..., C, H, W)`` → ``(...)``."""
    target = torch.rand(2, 3, 1, 8, 8)
    pred = (target + 0.05 * torch.randn_like(target) * torch.arange(1, 4).view(1, 3, 1, 1, 1)).clamp(0, 1)
    got = _as_tensor(fn(pred, target), "the PSNR")
    ref = _ref_psnr(pred, target, 1.0)
    if got.ndim == 0:
        if _close(got, ref.mean(), 1e-4):
            raise _Wrong("you averaged over frames; return one PSNR per frame, shape (B, T), and average later")
        mse_all = ((pred - target) ** 2).mean()
        if _close(got, 10 * torch.log10(1 / mse_all), 1e-4):
            raise _Wrong("you pooled the MSE of all frames before the log; PSNR is per frame, shape (B, T)")
        raise _Wrong(f"expected one PSNR per frame, shape {tuple(ref.shape)}, got a scalar")
    _shape(got, ref.shape, "the PSNR")
    if _close(got, ref, 1e-4):
        got2 = _as_tensor(fn(pred * 2 - 1, target * 2 - 1, data_range=2.0), "the PSNR")
        if not _close(got2, ref, 1e-4):
            raise _Wrong("right for data_range=1 but not for images in [−1, 1] with data_range=2: use data_range² / MSE")
        return "10 log10(data_range² / MSE) per frame"
    mse = ((pred - target) ** 2).mean(dim=(-3, -2, -1))
    if _close(got, _ref_psnr(pred, target, 2.0), 1e-4):
        raise _Wrong("you used a data range of 2 for images in [0, 1] (the authors' SSIM bug): it adds 6 dB")
    if _close(got, 10 * torch.log10(1 / mse.sqrt()), 1e-4) or _close(got, 20 * torch.log10(1 / mse), 1e-4):
        raise _Wrong("mixed up 10 log10 (of a ratio of squares) and 20 log10 (of a ratio of amplitudes)")
    if _close(got, -10 * torch.log10(1 / mse), 1e-4):
        raise _Wrong("wrong sign: PSNR = 10 log10(data_range² / MSE) grows as the error shrinks")
    if _close(got, 10 * torch.log(1 / mse), 1e-4):
        raise _Wrong("you used the natural log; PSNR uses log10")
    raise _Wrong("wrong values; expected 10 log10(data_range² / MSE) with the MSE over (C, H, W) of each frame")


@_exercise("stack_frames")
def stack_frames(fn: Callable) -> str:
    """``stack_frames(video)``: ``(B, T, C, H, W)`` → ``(B, T−1, 2C, H, W)``, pairs ``(x_{t−1}, x_t)`` on the channel axis."""
    v = torch.randn(2, 5, 3, 4, 4)
    got = _as_tensor(fn(v), "the stacked frames")
    ref = torch.cat([v[:, :-1], v[:, 1:]], dim=2)
    if tuple(got.shape) == (2, 4, 3, 2, 4, 4) or tuple(got.shape) == (2, 4, 2, 3, 4, 4):
        raise _Wrong("you stacked along a new axis; concatenate on the channel axis so g_φ sees 2C channels")
    if tuple(got.shape) == (2, 5, 6, 4, 4):
        raise _Wrong("T pairs from T frames: the first frame has no predecessor, expected T−1 pairs")
    _shape(got, ref.shape, "the stacked frames")
    if _close(got, ref):
        return "(x_{t−1}, x_t) on the channel axis, T−1 pairs"
    if _close(got, torch.cat([v[:, 1:], v[:, :-1]], dim=2)):
        raise _Wrong("the pair is in the wrong order: previous frame first, then current, (x_{t−1}, x_t)")
    if _close(got, torch.stack([v[:, :-1], v[:, 1:]], dim=3).flatten(2, 3)):
        raise _Wrong("the channels of the two frames are interleaved; put all of x_{t−1}'s channels first (torch.cat)")
    raise _Wrong("wrong values; expected torch.cat([video[:, :-1], video[:, 1:]], dim=2)")


# ============================================================================ chapter 7
def _ref_controlled(x: Tensor, u: Tensor, c: float) -> Tensor:
    q, p = x[..., 0], x[..., 1]
    return torch.stack([2 * p, -c * torch.sin(q) + u], -1)


@_exercise("controlled_vector_field")
def controlled_vector_field(fn: Callable) -> str:
    """``controlled_vector_field(x, u, c=3.0)``: ``(2p, −c sin q + u)`` for ``H = c(1 − cos q) + p²`` and torque ``u``."""
    x, u = torch.randn(6, 2), torch.randn(6)
    for c in (3.0, 2.0):
        got = _as_tensor(fn(x, u, c), "the vector field")
        _shape(got, x.shape, "the vector field")
        ref = _ref_controlled(x, u, c)
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
    got = _as_tensor(fn(x, u), "the power")
    ref = 2 * x[..., 1] * u
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
