"""Enumeration: every formula up to a depth, deduplicated by its values on random states.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor
from .grammar import Formula, OPERATORS, SearchTooLarge, _OPS, _VAR, _resolve_ops
from . import arguments
from .units import Units, resolve_units

__all__ = ['FormulaLibrary', 'enumerate_formulas']


# ----------------------------------------------------------------------------- enumeration
@dataclass
class FormulaLibrary:
    """All distinct enumerated expressions, as flat arrays (expression ``i`` = row ``i``).

    ``op[i]`` is ``-1`` for a variable (then ``left[i]`` is its index) or an index
    into :data:`OPERATORS`; ``left``/``right`` are child expression ids (``-1`` if
    none). Ids are sorted by depth. ``counts`` has one dict per depth.
    """

    names: Tuple[str, ...]
    op: np.ndarray
    left: np.ndarray
    right: np.ndarray
    depth: np.ndarray
    size: np.ndarray
    nconst: np.ndarray
    counts: List[Dict[str, int]]
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.op)

    def tree(self, i: int) -> tuple:
        o = int(self.op[i])
        if o == _VAR:
            return ("var", int(self.left[i]))
        if _OPS[o].arity == 1:
            return (OPERATORS[o], self.tree(int(self.left[i])))
        return (OPERATORS[o], self.tree(int(self.left[i])), self.tree(int(self.right[i])))

    def formula(self, i: int, constants: Optional[Sequence[float]] = None, ratio: float = float("nan")) -> Formula:
        k = int(self.nconst[i])
        consts = tuple(float(c) for c in constants) if constants is not None else (1.0,) * k
        return Formula(self.tree(i), consts, self.names, float(ratio), int(self.depth[i]), int(self.size[i]))

    def strings(self) -> List[str]:
        """Every expression's template (constants as ``c0, c1, ...``)."""
        return [self.formula(i).template for i in range(len(self))]


def _box(x: Tensor, margin: float = 0.1) -> Tuple[Tensor, Tensor]:
    flat = x.reshape(-1, x.shape[-1]).double()
    lo, hi = flat.min(0).values, flat.max(0).values
    span = (hi - lo).clamp_min(1e-3)
    return lo - margin * span, hi + margin * span


def _uniform_states(n: int, lo: Tensor, hi: Tensor, gen: torch.Generator) -> Tensor:
    return lo + (hi - lo) * torch.rand(n, lo.shape[0], generator=gen, dtype=torch.float64)  # (n, D)


def _keys(v1: Tensor, v2: Tensor, w_sign: Tensor, w_hash: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Affine-invariant hashes of fingerprints ``(n, K)`` → ``(keys (n,), ok (n,))``.

    ``ok`` is False for formulas that are non-finite or constant on the fingerprint states.
    """
    qs, ok = [], torch.ones(v1.shape[0], dtype=torch.bool)
    for v in (v1, v2):
        finite = torch.isfinite(v).all(1)
        v = torch.where(finite[:, None], v, torch.zeros_like(v))
        mu, sd = v.mean(1, keepdim=True), v.std(1, keepdim=True)
        const = sd[:, 0] <= 1e-9 * (1 + v.abs().mean(1))
        z = (v - mu) / sd.clamp_min(1e-300)
        z = z * torch.sign(z @ w_sign).clamp_min(0).mul(2).sub(1)[:, None]  # sign-normalise: a·f ≡ −a·f
        qs.append(torch.round(z * 1e5).clamp(-2**40, 2**40).to(torch.int64))
        ok &= finite & ~const
    q = torch.cat(qs, 1).numpy()
    return (q * w_hash).sum(1), ok.numpy()  # int64 arithmetic wraps: a 64-bit hash


def _unit_rule(name: str, U: np.ndarray, keys: np.ndarray, zero_key: np.ndarray, ii: np.ndarray,
               jj: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """Which candidates ``name(ii, jj)`` are allowed by units, and their units: ``(ok (n,), units (n, d))``."""
    if name in ("+", "-"):
        return (keys[ii] == keys[jj]).all(1), U[ii]
    if name in ("sin", "cos"):
        return (keys[ii] == zero_key).all(1), np.zeros((len(ii), U.shape[1]))
    ok = np.ones(len(ii), dtype=bool)
    if name == "*":
        return ok, U[ii] + U[jj]
    if name == "/":
        return ok, U[ii] - U[jj]
    if name == "square":
        return ok, 2 * U[ii]
    raise AssertionError(f"no unit rule for operator {name!r}")  # pragma: no cover


def _pairs(a: int, b: int, commutative: bool) -> Tuple[Tensor, Tensor]:
    """Child pairs ``(i, j)`` over ids ``< a`` with at least one id ``>= b`` (depth exactly d−1)."""
    if commutative:  # i <= j, j >= b
        j = torch.arange(b, a)
        counts = j + 1
        jj = torch.repeat_interleave(j, counts)
        start = torch.cumsum(counts, 0) - counts
        ii = torch.arange(int(counts.sum())) - torch.repeat_interleave(start, counts)
        return ii, jj
    i, j = torch.meshgrid(torch.arange(a), torch.arange(a), indexing="ij")
    keep = (i >= b) | (j >= b)
    return i[keep], j[keep]


def _n_pairs(a: int, b: int, commutative: bool) -> int:
    return (a * (a + 1) - b * (b + 1)) // 2 if commutative else a * a - b * b


_ENUM_BYTES = 2 * 32 * 8 * 3 + 8 * 8  # per candidate: two fingerprints (K=32, f64, ×3 temporaries) + ids


def _fit_bytes(n_formulas: int, max_depth: int, n_states: int, chunk_size: int, itemsize: int = 4) -> int:
    nodes = 2 ** max_depth - 1  # operator nodes of one full tree (variables are shared)
    return min(n_formulas, chunk_size) * nodes * n_states * itemsize * 4  # values + autograd + Adam


def _checked_enumerate_args(names, max_depth, operators, states, n_fingerprint, seed, memory_budget,
                            n_fit_states, chunk_size, progress) -> Tuple[Tuple[str, ...], List[int], Optional[Tensor]]:
    """The arguments of :func:`enumerate_formulas`, checked: ``(names, operator codes, states or None)``."""
    names = arguments.check_names(names)
    arguments.check_int("max_depth", max_depth, 0, "pass a depth such as max_depth=2 (variables have depth 0)")
    codes = _resolve_ops(arguments.check_operators(operators))
    arguments.check_int("n_fingerprint", n_fingerprint, arguments.MIN_FINGERPRINT,
                     "pass n_fingerprint >= 3 (two values always match up to a*f + b; the default is 32)")
    arguments.check_seed(seed)
    arguments.check_real("memory_budget", memory_budget, low=0.0, allow_inf=True,
                      fix="pass a positive number of bytes such as memory_budget=4e9")
    arguments.check_int("n_fit_states", n_fit_states, 0, "pass the number of states of the later fit, or 0")
    arguments.check_int("chunk_size", chunk_size, 1, "pass a positive number of formulas such as chunk_size=10000")
    arguments.check_bool("progress", progress)
    return names, codes, None if states is None else arguments.check_states(states, len(names))


def enumerate_formulas(
    *,
    names: Sequence[str] = ("q", "p"),
    max_depth: int = 2,
    operators: Optional[Sequence[str]] = None,
    states: Optional[Tensor] = None,
    n_fingerprint: int = 32,
    seed: int = 0,
    memory_budget: float = 4e9,
    n_fit_states: int = 0,
    chunk_size: int = 10000,
    units: Union[None, str, Units] = None,
    progress: bool = False,
) -> FormulaLibrary:
    """Enumerate all distinct expressions up to ``max_depth``.

    Args:
        names: state-variable names (their number ``D`` is the state dimension).
        max_depth: maximum tree depth (variables have depth 0).
        operators: subset of :data:`OPERATORS` (aliases ``add, sub, mul, div, sq``); all by default.
        states: fingerprint states ``(K, D)``; by default ``n_fingerprint`` uniform states in ``[-2, 2]^D``.
        seed: seeds the default fingerprint states and the random constants of the second fingerprint.
        memory_budget: bytes. Before each depth is allocated, the candidate count
            (exact, from the previous depths) times the bytes per candidate, plus
            the working set of the constant fit, is checked against it.
        n_fit_states, chunk_size: size of the later constant fit, for that estimate.
        units: physical units (a :class:`~noether_lite.symbolic.units.Units`, or a system name such
            as ``"pendulum"``): candidates that add incompatible quantities are pruned before
            anything is computed for them (:mod:`~noether_lite.symbolic.units`). ``None``: no check.
        progress: print one line per depth.

    Returns:
        A :class:`FormulaLibrary`; ``counts[d]`` holds, for depth ``d``: ``candidates``
        (canonical, before units and numerical dedup), ``unit_pruned`` (adding incompatible
        units), ``new`` (kept), ``duplicates``, ``degenerate`` (constant or non-finite on the
        fingerprint states), ``total`` (kept up to ``d``).

    Raises:
        ValueError: any argument out of its range (checked before any work, see :mod:`.arguments`):
            names, depth, operators, fingerprint states (shape, fewer than 3, non-finite), sizes.
        SearchTooLarge: the next depth would exceed ``memory_budget``.
    """
    t0 = time.perf_counter()
    names, codes, states = _checked_enumerate_args(names, max_depth, operators, states, n_fingerprint, seed,
                                                   memory_budget, n_fit_states, chunk_size, progress)
    D = len(names)
    units = resolve_units(units)
    if units is not None:
        U, P = units.vectors(names)  # (D, d), (d, k)
        ukey = units.keys(P)
        zero_key = ukey(np.zeros((1, U.shape[1])))
    gen = torch.Generator().manual_seed(int(seed))
    if states is None:
        states = _uniform_states(n_fingerprint, torch.full((D,), -2.0, dtype=torch.float64),
                                 torch.full((D,), 2.0, dtype=torch.float64), gen)
    K = states.shape[0]
    w_sign = torch.randn(K, generator=gen, dtype=torch.float64)
    w_hash = np.random.default_rng(seed).integers(1, 2**62, size=2 * K, dtype=np.int64) | 1

    # per-expression arrays, grown depth by depth
    op = [_VAR] * D
    left = list(range(D))
    right = [-1] * D
    depth = [0] * D
    size = [1] * D
    nconst = [0] * D
    v1 = states.T.clone()  # (n, K): constants at 1
    v2 = states.T.clone()  # (n, K): constants at random values
    keys, ok = _keys(v1, v2, w_sign, w_hash)
    counts = [dict(depth=0, candidates=D, unit_pruned=0, new=int(ok.sum()), duplicates=0,
                   degenerate=int((~ok).sum()), total=D)]
    seen = np.sort(keys)

    b = 0  # ids < b have depth < d-1
    for d in range(1, max_depth + 1):
        a = len(op)
        n_cand = sum(a - b if _OPS[c].arity == 1 else _n_pairs(a, b, _OPS[c].commutative) for c in codes)
        need = n_cand * _ENUM_BYTES + _fit_bytes(len(op) + n_cand, d, n_fit_states, chunk_size)
        if need > memory_budget:
            raise SearchTooLarge(
                f"depth {d} would enumerate {n_cand:,} candidates on top of {a:,} formulas: "
                f"estimated {need / 1e9:.2f} GB > memory_budget {memory_budget / 1e9:.2f} GB. "
                f"Use max_depth <= {d - 1}, fewer operators, or a larger memory_budget."
            )
        c_op, c_l, c_r, c_v1, c_v2, c_u = [], [], [], [], [], []
        pruned = 0
        if units is not None:
            keys_now = ukey(U)
        for code in codes:
            spec = _OPS[code]
            if spec.arity == 1:
                ii, jj = torch.arange(b, a), None
            else:
                ii, jj = _pairs(a, b, spec.commutative)
            if units is not None:
                ok_u, u_new = _unit_rule(spec.name, U, keys_now, zero_key, ii.numpy(),
                                         None if jj is None else jj.numpy())
                pruned += int((~ok_u).sum())
                keep_u = torch.from_numpy(np.flatnonzero(ok_u))
                ii, jj = ii[keep_u], None if jj is None else jj[keep_u]
                c_u.append(u_new[ok_u])
            n = ii.numel()
            if n == 0:
                continue
            r = (0.5 + 1.5 * torch.rand(n, 1, generator=gen, dtype=torch.float64)) if spec.has_const else None
            one = torch.ones(1, dtype=torch.float64) if spec.has_const else None
            with np.errstate(all="ignore"):
                c_v1.append(spec.fn(v1[ii], None if jj is None else v1[jj], one))
                c_v2.append(spec.fn(v2[ii], None if jj is None else v2[jj], r))
            c_op.append(torch.full((n,), code))
            c_l.append(ii)
            c_r.append(torch.full((n,), -1) if jj is None else jj)
        c_u = [u for u in c_u if len(u)]
        if not c_op:
            counts.append(dict(depth=d, candidates=pruned, unit_pruned=pruned, new=0, duplicates=0, degenerate=0,
                               total=len(op)))
            b = a
            continue
        c_op, c_l, c_r = torch.cat(c_op).numpy(), torch.cat(c_l).numpy(), torch.cat(c_r).numpy()
        c_v1, c_v2 = torch.cat(c_v1), torch.cat(c_v2)
        sz_arr = np.asarray(size)
        nc_arr = np.asarray(nconst)
        has_c = np.array([_OPS[c].has_const for c in range(len(_OPS))])[c_op]
        c_size = 1 + sz_arr[c_l] + np.where(c_r >= 0, sz_arr[np.maximum(c_r, 0)], 0)
        c_nc = has_c + nc_arr[c_l] + np.where(c_r >= 0, nc_arr[np.maximum(c_r, 0)], 0)
        # smallest representative first: sort by (size, number of constants), stable
        order = np.lexsort((c_nc, c_size))
        k, good = _keys(c_v1[order], c_v2[order], w_sign, w_hash)
        fresh = good & ~np.isin(k, seen)
        _, first = np.unique(k, return_index=True)
        is_first = np.zeros(len(k), dtype=bool)
        is_first[first] = True
        keep = fresh & is_first
        sel = order[keep]
        n_new = int(keep.sum())
        op += c_op[sel].tolist()
        left += c_l[sel].tolist()
        right += c_r[sel].tolist()
        depth += [d] * n_new
        size += c_size[sel].tolist()
        nconst += c_nc[sel].tolist()
        idx = torch.from_numpy(sel)
        v1 = torch.cat([v1, c_v1[idx]])
        v2 = torch.cat([v2, c_v2[idx]])
        if units is not None:
            U = np.concatenate([U, np.concatenate(c_u)[sel]])
        seen = np.sort(np.concatenate([seen, k[keep]]))
        counts.append(dict(depth=d, candidates=int(len(k)) + pruned, unit_pruned=pruned, new=n_new,
                           duplicates=int((good & ~keep).sum()), degenerate=int((~good).sum()), total=len(op)))
        if progress:
            print(f"[symbolic] depth {d}: {len(k) + pruned:,} candidates, {pruned:,} pruned by units "
                  f"-> {n_new:,} new ({len(op):,} in total)")
        b = a
    arr = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    return FormulaLibrary(names, arr(op), arr(left), arr(right), arr(depth), arr(size), arr(nconst), counts,
                          time.perf_counter() - t0)
