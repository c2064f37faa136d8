"""Fitting constants by variable projection: the linear ones in closed form, the others on a grid.

A formula's objective (see :mod:`noether_lite.symbolic`) is the fraction of its variance that
lies *within* trajectories. Write the formula as a weighted sum of *terms*,
``f = Σ_k w_k t_k``: the top of the tree is walked through ``+`` and ``−`` (``a ± c·b``), and
through ``*`` and ``/`` when the other factor (or the denominator) is a single term, which
distributes over the sum. Every constant met on that walk only scales terms, so for fixed terms

``within(w) = wᵀ A w``, ``total(w) = wᵀ B w``,

with ``A`` the per-trajectory covariance of the terms (averaged over trajectories) and ``B`` their
covariance over all states. The best weights are the generalized eigenvector of ``(A, B)`` with
the smallest eigenvalue ``λ_min``, which *is* the best within/total ratio: a closed form, no
iteration. The weights map back to the constants (``c = ± w_b / w_a`` at each ``a ± c·b``).

The other constants ("inner": inside ``sin``/``cos``, a square, a product of two sums, a
denominator) change the terms themselves. Each is searched on a fixed grid with the linear ones
solved at every grid point, then refined by parabolic steps on ``λ_min``; several inner constants
are taken one at a time, twice round. Everything is batched: formulas with the same number of
terms and inner constants go through one tensor program, evaluated at all grid points at once.

The iterative fit (:func:`~noether_lite.symbolic.fit_constants`, Adam on all constants) stays as
the reference this one is tested against.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from . import arguments
from .enumerate import FormulaLibrary
from .grammar import OPERATORS, _OPS
from .program import _Nodes, _Program, _levels

__all__ = ['fit_constants_projected', 'INNER_GRID', 'FIRST_GRID']

_ADD, _SUB, _MUL, _DIV = (OPERATORS.index(o) for o in ("+", "-", "*", "/"))
#: grid of every inner constant (both signs; ``sin(c·a)``, ``a + c·b`` inside a product, ...)
INNER_GRID: Tuple[float, ...] = tuple(s * v for v in (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
                                      for s in (1.0, -1.0))
_REFINE_STEPS = 3
#: the coarser grid of the first look at every formula (the promising ones then get INNER_GRID)
FIRST_GRID: Tuple[float, ...] = tuple(s * v for v in (0.1, 0.35, 1.0, 2.0, 5.0) for s in (1.0, -1.0))
_MAX_RATIO = 1e8  # |c| cap when a sum's first term gets (numerically) zero weight
_BIG = 1e30
_SCAN_TIMES = 6  # grids are scanned on this many states per trajectory, steps taken on all
_PROMISING = 1e-2  # formulas conserved better than this get more parabolic steps on all states
_POLISH = 1e-4  # formulas conserved better than this get a float64 polish of their inner constants


@dataclass
class _Terms:
    """Formulas as sums of terms: one tensor program whose roots are the terms.

    ``prog.roots`` is ``(F·K,)``: formula ``f``'s terms are ``roots[f·K:(f+1)·K]``.
    ``chain`` rows ``(formula, slot, sign, term a, term b)``: at ``a ± c·b``, ``c = sign·w_b/w_a``
    (``a``, ``b`` the first terms of the two sides). ``inner`` is ``(F, n_inner)`` slot ids.
    """

    prog: _Program
    K: int
    chain: np.ndarray
    inner: np.ndarray
    lib: FormulaLibrary = None
    ids: Sequence[int] = ()


def _is_sum(lib: FormulaLibrary, e: int) -> bool:
    o = int(lib.op[e])
    if o in (_ADD, _SUB):
        return True
    if o == _MUL:
        return _is_sum(lib, int(lib.left[e])) or _is_sum(lib, int(lib.right[e]))
    return o == _DIV and _is_sum(lib, int(lib.left[e]))


def _structure(lib: FormulaLibrary, e: int) -> Tuple[int, int]:
    """``(number of terms, number of inner constants)`` of expression ``e``."""
    o = int(lib.op[e])
    if o in (_ADD, _SUB):
        (ka, na), (kb, nb) = _structure(lib, int(lib.left[e])), _structure(lib, int(lib.right[e]))
        return ka + kb, na + nb
    if o in (_MUL, _DIV) and _is_sum(lib, e):
        l, r = int(lib.left[e]), int(lib.right[e])
        if _is_sum(lib, l):  # the left side distributes; the right is one factor
            k, n = _structure(lib, l)
            return k, n + int(lib.nconst[r])
        k, n = _structure(lib, r)
        return k, n + int(lib.nconst[l])
    return 1, int(lib.nconst[e])


def _compile_terms(lib: FormulaLibrary, ids: Sequence[int], K: int) -> _Terms:
    """Compile formulas ``ids`` (each of ``K`` terms) into one program of their terms.

    Constant slots are numbered in pre-order over the whole formula, exactly as
    :func:`~noether_lite.symbolic.program._compile` numbers them.
    """
    nb = _Nodes(lib)
    chain, inner, roots, starts = [], [], [], []
    nb.on_slot = lambda c: inner[-1].append(c)  # a plain subtree's constants are inner
    new, expand = nb.new, nb.expand

    def linear(e: int, terms: List[int], f: int) -> int:
        """Append ``e``'s terms to ``terms``; return the index of its first term."""
        o = int(lib.op[e])
        if o in (_ADD, _SUB):
            c = nb.slot()
            a = linear(int(lib.left[e]), terms, f)
            b = linear(int(lib.right[e]), terms, f)
            chain.append((f, c, 1.0 if o == _ADD else -1.0, a, b))
            return a
        if o in (_MUL, _DIV) and _is_sum(lib, e):
            l, r = int(lib.left[e]), int(lib.right[e])
            start = len(terms)
            if _is_sum(lib, l):
                first = linear(l, terms, f)
                factor = expand(r)
                for k in range(start, len(terms)):
                    terms[k] = new(o, terms[k], factor, -1)
            else:  # a product with the sum on the right
                factor = expand(l)
                first = linear(r, terms, f)
                for k in range(start, len(terms)):
                    terms[k] = new(o, factor, terms[k], -1)
            return first
        terms.append(expand(e))
        return len(terms) - 1

    for f, e in enumerate(ids):
        starts.append(nb.n_slots)
        inner.append([])
        terms: List[int] = []
        linear(int(e), terms, f)
        if len(terms) != K:  # pragma: no cover - grouping guarantees it
            raise AssertionError(f"formula {e}: {len(terms)} terms, expected {K}")
        roots += terms
    prog = _levels(nb.D, nb.nodes, roots, np.asarray(starts + [nb.n_slots]), nb.n_slots)
    n_inner = len(inner[0]) if inner else 0
    return _Terms(prog, K, np.asarray(chain, dtype=np.float64).reshape(-1, 5),
                  np.asarray(inner, dtype=np.int64).reshape(len(ids), n_inner), lib, list(ids))


def _subset(t: _Terms, rows: np.ndarray) -> _Terms:
    """The program of formulas ``rows`` of ``t`` alone."""
    return _compile_terms(t.lib, [t.ids[k] for k in rows], t.K)


def _slots(t: _Terms, rows: np.ndarray, device) -> Tensor:
    """The slots of formulas ``rows`` of ``t``, in order (those of :func:`_subset`)."""
    st = t.prog.slot_start
    return torch.from_numpy(np.concatenate([np.arange(st[k], st[k + 1]) for k in rows])).to(device)


# ----------------------------------------------------------------------------- evaluation
def _run_terms(t: _Terms, x: Tensor, theta: Tensor) -> Tensor:
    """Terms at constants ``theta`` ``(G, n_slots)`` (``G`` settings at once): ``(G, F, K, S)``."""
    G, S = theta.shape[0], x.shape[0]
    theta = torch.cat([theta, theta.new_ones(G, 1)], 1)  # the dummy slot
    n_nodes = t.prog.n_vars + sum(sum(sizes) for _, sizes, *_ in t.prog.levels)
    vals = x.new_empty(G, n_nodes, S)
    vals[:, : t.prog.n_vars] = x.T
    end = t.prog.n_vars
    for codes, sizes, li, ri, ci in t.prog.levels:
        a_all, b_all, c_all = vals[:, li], vals[:, ri], theta[:, ci, None]
        for o, a, b, c in zip(codes, a_all.split(sizes, 1), b_all.split(sizes, 1), c_all.split(sizes, 1)):
            spec = _OPS[o]
            vals[:, end:end + a.shape[1]] = spec.fn(a, b if spec.arity == 2 else None, c if spec.has_const else None)
            end += a.shape[1]
    return vals[:, t.prog.roots].reshape(G, -1, t.K, S)


def _moments(terms: Tensor, n_traj: int, n_time: int) -> Tuple[Tensor, Tensor, Tensor]:
    """``(A, B, finite)``: within- and total covariances of the terms ``(..., K, K)``; finite ``(...)``.

    ``B = A + Cov_n(mean_t)`` (the law of total variance, every trajectory has ``n_time`` states).
    """
    per = terms.reshape(*terms.shape[:-1], n_traj, n_time)
    means = per.mean(-1)  # (..., K, N)
    w = (per - means[..., None]).flatten(-2)
    A = w @ w.transpose(-1, -2) / (n_traj * n_time)
    m = means - means.mean(-1, keepdim=True)
    B = A + m @ m.transpose(-1, -2) / n_traj
    finite = torch.isfinite(A).all(-1).all(-1) & torch.isfinite(B).all(-1).all(-1)
    zero = torch.zeros((), dtype=A.dtype, device=A.device)
    ok = finite[..., None, None]
    return torch.where(ok, A, zero), torch.where(ok, B, zero), finite


def _smallest(A: Tensor, B: Tensor, finite: Tensor, vectors: bool = False):
    """The smallest generalized eigenvalue of ``(A, B)`` on the range of ``B`` (``λ_min``), ``(...)``.

    Directions in which the formula does not vary on the data (``B``'s null space: a constant
    term, two equal terms) are excluded, so they cannot fake a perfect score. ``inf`` where the
    terms are non-finite or do not vary at all. With ``vectors``, also the weights ``(..., K)``.
    """
    K = A.shape[-1]
    if K == 1 and not vectors:
        a, b = A[..., 0, 0], B[..., 0, 0]
        ok = finite & (b > 1e-300)
        return torch.where(ok, a / b.clamp_min(1e-300), torch.full_like(a, float("inf")))
    eb, vb = torch.linalg.eigh(B)
    top = eb[..., -1:].clamp_min(0)
    keep = eb > 1e-10 * top + 1e-300
    inv = torch.where(keep, eb.clamp_min(1e-300).rsqrt(), torch.zeros_like(eb))
    W = vb * inv[..., None, :]
    C = W.transpose(-1, -2) @ A @ W
    C = C + torch.diag_embed(torch.where(keep, torch.zeros_like(eb), torch.full_like(eb, _BIG)))
    ok = finite & keep.any(-1)
    if not vectors:
        lam = torch.linalg.eigvalsh(C)[..., 0]
        return torch.where(ok, lam.clamp_min(0), torch.full_like(lam, float("inf")))
    ec, vc = torch.linalg.eigh(C)
    lam = torch.where(ok, ec[..., 0].clamp_min(0), torch.full_like(ec[..., 0], float("inf")))
    return lam, W @ vc[..., 0:1]


def _ratio(t: _Terms, x: Tensor, theta: Tensor, n_traj: int, n_time: int) -> Tensor:
    """``λ_min`` of every formula at every constant setting ``theta`` ``(G, n_slots)``: ``(G, F)``."""
    return _smallest(*_moments(_run_terms(t, x, theta), n_traj, n_time))


# ----------------------------------------------------------------------------- the fit
def _refine(t: _Terms, x: Tensor, theta: Tensor, slots: Tensor, lam: Tensor, n_traj: int, n_time: int,
            steps: int, scale: float = 0.1) -> Tuple[Tensor, Tensor]:
    """Parabolic steps on ``λ_min`` in the constants ``slots`` ``(F,)``, one per formula, batched.

    The first step probes ``±scale·|c|``; the step grows when the best point lies outside it
    and shrinks around the best point otherwise.
    """
    rows = torch.arange(len(slots))
    for k in range(steps) if len(slots) else ():
        c = theta[slots]
        if k == 0:
            delta = scale * c.abs().clamp_min(0.1)
        th = theta.expand(2, -1).clone()
        th[0, slots], th[1, slots] = c - delta, c + delta
        lm, lp = _ratio(t, x, th, n_traj, n_time)
        curv = (lp - 2 * lam + lm) / delta ** 2
        slope = (lp - lm) / (2 * delta)
        step = torch.where(torch.isfinite(curv) & (curv > 0), -slope / curv.clamp_min(1e-300),
                           torch.where(lm < lp, -2 * delta, 2 * delta))
        step = torch.nan_to_num(step, nan=0.0).clamp(-2 * delta, 2 * delta)
        tv = theta[None].clone()
        tv[0, slots] = c + step
        lv = _ratio(t, x, tv, n_traj, n_time)[0]
        cand = torch.stack([lam, lm, lp, lv])  # (4, F)
        where = torch.stack([c, c - delta, c + delta, c + step])
        cand = torch.nan_to_num(cand, nan=float("inf"))
        best = cand.argmin(0)
        theta = theta.clone()
        theta[slots] = where[best, rows]
        moved = (where[best, rows] - c).abs()
        lam = cand[best, rows]
        delta = torch.where(moved > delta, 1.5 * delta, 0.5 * torch.maximum(moved, 0.1 * delta))
        delta = delta.clamp_min(1e-12 * c.abs().clamp_min(1.0))
    return theta, lam


def _scan(t: _Terms, x: Tensor, theta: Tensor, lam: Tensor, slots: Tensor, values: Tensor, n_traj: int,
          n_time: int) -> Tuple[Tensor, Tensor]:
    """Try ``values`` ``(G,)`` for the constants ``slots`` ``(F, m)`` (all set alike); keep each formula's best."""
    cols = torch.arange(slots.shape[0], device=x.device)
    th = theta.expand(len(values), -1).clone()
    for j in range(slots.shape[1]):
        th[:, slots[:, j]] = values[:, None].to(th)
    lg = torch.cat([lam[None], _ratio(t, x, th, n_traj, n_time)])  # the current value competes too
    best = torch.nan_to_num(lg, nan=float("inf")).argmin(0)
    theta = theta.clone()
    for j in range(slots.shape[1]):
        theta[slots[:, j]] = torch.cat([theta[slots[:, j]][None], th[:, slots[:, j]]])[best, cols]
    return theta, lg[best, cols]


def _coarse(x: Tensor, n_traj: int, n_time: int, keep: int = _SCAN_TIMES) -> Tuple[Tensor, int]:
    """``keep`` evenly spaced states of each trajectory (the grids are scanned on these): ``(states, keep)``."""
    if n_time <= keep:
        return x, n_time
    idx = torch.linspace(0, n_time - 1, keep).round().long().to(x.device)
    return x.reshape(n_traj, n_time, -1)[:, idx].reshape(n_traj * keep, -1), keep


def _search_inner(t: _Terms, x: Tensor, x64: Tensor, theta: Tensor, lam: Tensor, n_traj: int, n_time: int,
                  grid: Tensor, sweeps: int, steps: int) -> Tuple[Tensor, Tensor]:
    """The inner constants after the first look: every grid and parabolic steps on a few states per
    trajectory, then more steps on all states for the formulas conserved to 1 %, then a float64
    polish for those conserved to :data:`_POLISH`."""
    inner = torch.from_numpy(t.inner).to(x.device)
    xc, tc = _coarse(x, n_traj, n_time)
    now = _ratio(t, xc, theta[None], n_traj, tc)[0]
    for j in range(inner.shape[1]):
        theta, now = _scan(t, xc, theta, now, inner[:, j:j + 1], grid, n_traj, tc)
        theta, now = _refine(t, xc, theta, inner[:, j], now, n_traj, tc, steps)
    lam = _ratio(t, x, theta[None], n_traj, n_time)[0]
    if sweeps > 1:
        theta, lam = _refine_some(t, x, theta, lam, lam < _PROMISING, n_traj, n_time, 2, 0.1, sweeps - 1)
    if x.dtype != torch.float64:
        theta, lam = theta.double(), lam.double()
        theta, lam = _refine_some(t, x64, theta, lam, lam < _POLISH, n_traj, n_time, 3, 1e-3, 1)
    return theta.to(torch.float64), lam


def _refine_some(t: _Terms, x: Tensor, theta: Tensor, lam: Tensor, which: Tensor, n_traj: int, n_time: int,
                 steps: int, scale: float, passes: int) -> Tuple[Tensor, Tensor]:
    """Parabolic steps on every inner constant of the formulas ``which`` ``(F,)`` (bool), on states ``x``."""
    rows = np.flatnonzero(which.cpu().numpy())
    if not len(rows):
        return theta, lam
    sub = t if len(rows) == len(lam) else _subset(t, rows)
    sel = _slots(t, rows, x.device)
    th = theta[sel].to(x.dtype)
    lm = _ratio(sub, x, th[None], n_traj, n_time)[0]
    inner = torch.from_numpy(sub.inner).to(x.device)
    for _ in range(passes):
        for j in range(inner.shape[1]):
            th, lm = _refine(sub, x, th, inner[:, j], lm, n_traj, n_time, steps, scale=scale)
    theta, lam = theta.clone(), lam.clone()
    theta[sel] = th.to(theta.dtype)
    lam[torch.from_numpy(rows).to(x.device)] = lm.to(lam.dtype)
    return theta, lam


def _fit_group(lib: FormulaLibrary, ids: Sequence[int], K: int, x: Tensor, x64: Tensor, n_traj: int,
               n_time: int, grid: Tensor, sweeps: int, steps: int, hopeless: float) -> Tuple[Tensor, Tensor]:
    """Constants ``(n_slots,)`` float64 (pre-order, as ``_compile``) and ``λ_min`` ``(F,)`` of one group.

    Every formula gets a first look (all inner constants alike on :data:`FIRST_GRID`, then the
    first one alone); only those whose ``λ_min`` is then at most ``hopeless`` are searched further.
    """
    t = _compile_terms(lib, ids, K)
    theta = torch.ones(t.prog.n_slots, dtype=x.dtype, device=x.device)
    inner = torch.from_numpy(t.inner).to(x.device)
    if inner.shape[1]:
        xc, tc = _coarse(x, n_traj, n_time)
        lam = _ratio(t, xc, theta[None], n_traj, tc)[0]
        first = torch.tensor(FIRST_GRID, dtype=grid.dtype)
        if inner.shape[1] > 1:  # all inner constants alike first: finds e.g. cos(c·q)·cos(c·p) at small c
            theta, lam = _scan(t, xc, theta, lam, inner, first, n_traj, tc)
        theta, _ = _scan(t, xc, theta, lam, inner[:, :1], first, n_traj, tc)
        lam = _ratio(t, x, theta[None], n_traj, n_time)[0]
        active = np.flatnonzero((lam <= hopeless).cpu().numpy())
        if len(active):
            sub = t if len(active) == len(ids) else _subset(t, active)
            sel = _slots(t, active, x.device)
            th_sub, _ = _search_inner(sub, x, x64, theta[sel], lam[active], n_traj, n_time, grid, sweeps, steps)
            theta = theta.to(th_sub.dtype)
            theta[sel] = th_sub
    theta64 = theta.to(torch.float64)
    lam, w = _smallest(*_moments(_run_terms(t, x64, theta64[None]), n_traj, n_time), vectors=True)
    lam, w = lam[0], w[0, ..., 0]  # (F,), (F, K)
    if len(t.chain):
        f, slot, sign, a, b = (torch.from_numpy(t.chain[:, i]) for i in range(5))
        f, slot, a, b = f.long(), slot.long(), a.long(), b.long()
        wa, wb = w[f, a], w[f, b]
        c = sign.to(w) * wb / torch.where(wa.abs() > 0, wa, torch.full_like(wa, 1e-300))
        theta64[slot] = c.clamp(-_MAX_RATIO, _MAX_RATIO).nan_to_num(nan=1.0)
    return theta64, lam


def fit_constants_projected(
    lib: FormulaLibrary,
    ids: Sequence[int],
    trajectories: Tensor,
    *,
    grid: Sequence[float] = INNER_GRID,
    sweeps: int = 2,
    refine_steps: int = _REFINE_STEPS,
    chunk_size: int = 20000,
    chunk_bytes: float = 32e6,
    hopeless: float = 0.25,
    dtype: torch.dtype = torch.float32,
    device: Union[str, torch.device] = "cpu",
) -> Tuple[Tensor, np.ndarray, Tensor]:
    """Fit the constants of formulas ``ids`` by variable projection (module docstring).

    The same contract as :func:`~noether_lite.symbolic.fit_constants`: returns ``(theta,
    slot_start, loss)``, all constants (float64) with formula ``i``'s at
    ``theta[slot_start[i]:slot_start[i+1]]``, and the objective ``log(within/total)`` ``(F,)``
    (NaN where a formula is non-finite or constant on the data).

    Args:
        grid: values tried for every inner constant (default :data:`INNER_GRID`).
        sweeps: passes over the inner constants (the grid in the first; refinement in all).
        refine_steps: parabolic steps per inner constant in the first pass.
        chunk_size, chunk_bytes: formulas per tensor program: at most ``chunk_size``, and few enough
            that the values at every grid point fit in ``chunk_bytes`` (bounds memory; small
            chunks also stay in the CPU's caches).
        hopeless: after a first look at its inner constants (one grid), a formula whose best
            within/total ratio is still above this is not searched further (most formulas of a
            search; none of them is near conserved).
        dtype: of the grid search and refinement; the final closed-form solve is float64.
    """
    arguments.check_library(lib, FormulaLibrary)
    ids = arguments.check_ids(ids, len(lib))
    x = arguments.prepare_trajectories(trajectories, len(lib.names))
    arguments.check_int("sweeps", sweeps, 1, "pass the number of passes over the inner constants, e.g. 2")
    arguments.check_int("refine_steps", refine_steps, 0, "pass a number of parabolic steps such as 5")
    arguments.check_int("chunk_size", chunk_size, 1, "pass a positive number of formulas such as chunk_size=20000")
    arguments.check_real("chunk_bytes", chunk_bytes, low=0.0, fix="pass a number of bytes such as chunk_bytes=32e6")
    arguments.check_real("hopeless", hopeless, low=0.0, high=1.0, high_open=False,
                         fix="pass a within/total ratio such as hopeless=0.25 (1: search every formula fully)")
    arguments.check_dtype(dtype)
    device = arguments.check_device(device)
    try:
        g = torch.as_tensor([float(v) for v in grid], dtype=torch.float64)
    except (TypeError, ValueError):
        g = torch.zeros(0)
    if g.ndim != 1 or len(g) == 0 or not torch.isfinite(g).all():
        raise arguments.bad("grid", "a non-empty sequence of finite numbers", grid,
                            "pass values such as the default INNER_GRID")
    N, T, D = x.shape
    flat = x.reshape(N * T, D)
    xs, x64 = flat.to(device=device, dtype=dtype), flat.to(device=device, dtype=torch.float64)
    nc = lib.nconst[np.asarray(ids, dtype=np.int64)] if len(ids) else np.zeros(0, dtype=np.int64)
    slot_start = np.concatenate([[0], np.cumsum(nc)]).astype(np.int64)
    theta = torch.ones(int(slot_start[-1]), dtype=torch.float64)
    lam = torch.full((len(ids),), float("nan"), dtype=torch.float64)
    groups: Dict[Tuple[int, int], List[int]] = {}
    for k, e in enumerate(ids):
        groups.setdefault(_structure(lib, int(e)), []).append(k)
    flush = torch.set_flush_denormal(True)
    try:
        itemsize = torch.finfo(dtype).bits // 8
        for (K, _), members in sorted(groups.items()):
            nodes = float(np.mean(lib.size[np.asarray([ids[k] for k in members])])) + K  # per formula
            per = (len(g) + 1) * nodes * N * T * itemsize
            step = int(max(16, min(chunk_size, chunk_bytes // per)))
            for s in range(0, len(members), step):
                part = members[s:s + step]
                th, lm = _fit_group(lib, [ids[k] for k in part], K, xs, x64, N, T, g, sweeps, refine_steps, hopeless)
                th, lm = th.cpu(), lm.cpu()
                off = np.concatenate([[0], np.cumsum(nc[part])])
                for j, k in enumerate(part):
                    theta[slot_start[k]:slot_start[k + 1]] = th[off[j]:off[j + 1]]
                lam[part] = lm
    finally:
        if not flush:
            torch.set_flush_denormal(False)
    loss = torch.where(torch.isfinite(lam), torch.log(lam + 1e-30), torch.full_like(lam, float("nan")))
    return theta, slot_start, loss
