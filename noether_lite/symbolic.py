"""Symbolic discovery of conserved quantities.

The search has three stages, each batched over *all* candidate formulas:

1. **Enumerate** every expression over the state variables (``q``, ``p`` by
   default) built from the operators below, depth by depth, and remove
   duplicates: commutative operators only ever see their children in one
   (canonical) order, and formulas that are numerically identical *up to an
   affine map* ``a·f + b`` on random states are merged (the search objective
   cannot tell them apart). Two fingerprints are compared: all constants at
   their initial value 1, and all constants at random values, so two formulas
   are merged only when they agree as *families*, not just at one setting.
2. **Fit** the trainable constants of all formulas at once: the enumerated
   expressions are compiled into one tensor program, a list of nodes
   ``(op, left child, right child, constant slot)`` evaluated level by level
   with gathers (one kernel per level and operator, whatever the number of
   formulas). Each formula ``f_c`` minimises, with Adam (learning rate decaying
   exponentially from 0.1 to 1e-4 over 500 steps, best iterate kept),

   ``J(c) = log( mean_n Var_t f_c(x_{n,t}) ) − log( Var_{n,t} f_c(x_{n,t}) )``,

   the log of the variance along each trajectory ``n`` (averaged over
   trajectories) over the variance across *all* observed states: the fraction
   of ``f``'s spread that is *within* trajectories (0 = perfectly conserved,
   1 = no better than chance). It is invariant to ``f → a f + b``, so constants
   cannot shrink ``f`` to zero to look conserved, and a pole placed away from
   the data cannot fake a large denominator. Adam is element-wise and the
   formulas share no constant, so the batched fit is each formula's own fit,
   done together. A fit whose objective never becomes finite drops its formula
   (counted as diverged).
3. **Filter and rank** (in float64): a formula is kept if its variance along
   trajectories is at least ``orders`` (default 2) orders of magnitude below its
   variance on random states, uniform in the data's bounding box (enlarged by
   10 %): ``mean_n Var_t f / Var_box f ≤ 10^-orders``. The random-state variance
   is the robust one, ``(1.4826 · MAD)²``, so that a formula with a pole inside
   the box cannot pass by blowing up a few random values. Survivors are ranked
   by the fitted objective ``score`` (within / total variance),
   ``log10(max(score, 1e-9)) + size_penalty · size`` (size = number of tree
   nodes): below ``1e-9`` a formula is conserved to rounding noise, and among
   those the simplest wins.

Operators and where the trainable constants go (one constant per node, so a
formula of depth ``D`` has at most ``2^D − 1`` of them; constants never stand
alone as leaves, which keeps counts manageable; an overall scale or offset is
never needed because the objective ignores it):

=========  ==============  ========
name       meaning         constant
=========  ==============  ========
``+``      ``a + c·b``     c = 1
``-``      ``a − c·b``     c = 1
``*``      ``a · b``       none
``/``      ``a / b``       none
``sin``    ``sin(c·a)``    c = 1
``cos``    ``cos(c·a)``    c = 1
``square`` ``a²``          none
=========  ==============  ========

``a + c·b`` and ``b + c·a`` span the same family up to scale, as do
``a − c·b`` and ``b − c·a``: ``+``, ``−`` and ``*`` are treated as commutative.
``+`` and ``−`` span the same family too but start from opposite signs, so both
are kept. The paper also checked physical units; this module does not.

Depth: a variable has depth 0; ``op(a, b)`` has depth ``1 + max(depth a, depth b)``.
So ``p² − c·cos(c'·q)`` has depth 2. (The paper's "depth 7" counts grammar
derivation steps, a different measure: its 41,460 pendulum formulas are not
comparable one to one with our counts.)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "OPERATORS",
    "Formula",
    "FormulaLibrary",
    "DiscoveryResult",
    "SymbolicEmbedding",
    "SearchTooLarge",
    "enumerate_formulas",
    "fit_constants",
    "discover_conserved",
    "energy_correlation",
    "run_symbolic",
]


# ----------------------------------------------------------------------------- operators
@dataclass(frozen=True)
class _Op:
    name: str
    arity: int
    has_const: bool
    commutative: bool
    fn: Callable  # (a, b, c) -> tensor; b / c may be None


def _add(a, b, c):
    return a + (b if c is None else c * b)


def _sub(a, b, c):
    return a - (b if c is None else c * b)


def _mul(a, b, c):
    return a * b


def _div(a, b, c):
    return a / b


def _sin(a, b, c):
    return torch.sin(a if c is None else c * a)


def _cos(a, b, c):
    return torch.cos(a if c is None else c * a)


def _square(a, b, c):
    return a * a


_OPS: Tuple[_Op, ...] = (
    _Op("+", 2, True, True, _add),
    _Op("-", 2, True, True, _sub),
    _Op("*", 2, False, True, _mul),
    _Op("/", 2, False, False, _div),
    _Op("sin", 1, True, False, _sin),
    _Op("cos", 1, True, False, _cos),
    _Op("square", 1, False, False, _square),
)
OPERATORS: Tuple[str, ...] = tuple(o.name for o in _OPS)
_ALIASES = {"add": "+", "sub": "-", "mul": "*", "div": "/", "sq": "square", "^2": "square", "**2": "square"}
_VAR = -1  # op code of a leaf (state variable)


def _resolve_ops(operators: Optional[Sequence[str]]) -> List[int]:
    if operators is None:
        return list(range(len(_OPS)))
    if isinstance(operators, str):
        operators = [operators]
    codes = []
    for name in operators:
        key = _ALIASES.get(name, name) if isinstance(name, str) else name
        if key not in OPERATORS:
            raise ValueError(
                f"unknown operator {name!r}; valid operators: {', '.join(OPERATORS)} "
                f"(aliases: {', '.join(sorted(_ALIASES))})"
            )
        code = OPERATORS.index(key)
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValueError(f"operators must not be empty; valid operators: {', '.join(OPERATORS)}")
    return sorted(codes)


class SearchTooLarge(ValueError):
    """The requested search would not fit in the memory budget (raised before allocating)."""


# ----------------------------------------------------------------------------- formulas
def _fmt_const(c: float) -> str:
    return f"{c:.4g}"


@dataclass
class Formula:
    """One candidate conserved quantity: an expression tree with fitted constants.

    Attributes:
        tree: nested tuples, ``("var", i)``, ``(op, child)`` or ``(op, left, right)``.
        constants: fitted constants, in pre-order of the nodes that carry one.
        names: state-variable names, e.g. ``("q", "p")``.
        ratio: within-trajectory variance / robust variance on random states (the filter).
        score: within-trajectory / total variance on the data (the fitted objective, the ranking).
        depth, size: tree depth and number of nodes.
    """

    tree: tuple
    constants: Tuple[float, ...]
    names: Tuple[str, ...]
    ratio: float = float("nan")
    depth: int = 0
    size: int = 1
    score: float = float("nan")

    # -- printing
    def _infix(self, node, consts: List[str], prec: int = 0) -> str:
        op = node[0]
        if op == "var":
            return self.names[node[1]]
        spec = _OPS[OPERATORS.index(op)]
        c = consts.pop(0) if spec.has_const else None
        if spec.arity == 1:
            scaled = c is not None and c not in ("1", "-1")
            a = self._infix(node[1], consts, 4 if op == "square" else (2 if scaled else 0))
            if op == "square":
                return f"({a}**2)" if prec > 3 else f"{a}**2"
            if c == "-1":
                return f"{op}(-{self._wrap(a, node[1])})"
            return f"{op}({c}*{a})" if scaled else f"{op}({a})"
        left = self._infix(node[1], consts, 1 if op in "+-" else 2)
        right = self._infix(node[2], consts, 2 if op in "+-*" else 3)
        if op in "+-":
            if c is not None and c != "1":
                sign = op
                if c.startswith("-"):
                    sign, c = ("-" if op == "+" else "+"), c[1:]
                s = f"{left} {sign} {c}*{right}" if c != "1" else f"{left} {sign} {right}"
            else:
                s = f"{left} {op} {right}"
            return f"({s})" if prec > 1 else s
        s = f"{left}{op}{right}"
        return f"({s})" if prec > 2 else s

    @staticmethod
    def _wrap(s: str, node) -> str:
        return s if node[0] in ("var", "sin", "cos", "square") else f"({s})"

    def __str__(self) -> str:
        return self._infix(self.tree, [_fmt_const(c) for c in self.constants])

    @property
    def template(self) -> str:
        """The formula with symbolic constants ``c0, c1, ...`` (before fitting)."""
        return self._infix(self.tree, [f"c{i}" for i in range(len(self.constants))])

    def __repr__(self) -> str:
        return f"Formula({self}, ratio={self.ratio:.3g})"

    # -- evaluation
    def _eval(self, node, x: Tensor, it) -> Tensor:
        op = node[0]
        if op == "var":
            return x[..., node[1]]
        spec = _OPS[OPERATORS.index(op)]
        c = next(it) if spec.has_const else None
        a = self._eval(node[1], x, it)
        b = self._eval(node[2], x, it) if spec.arity == 2 else None
        return spec.fn(a, b, c)

    def __call__(self, x: Tensor) -> Tensor:
        """Evaluate on states ``x`` of shape ``(..., D)``; returns ``(...)``. Differentiable in ``x``."""
        if x.shape[-1] != len(self.names):
            raise ValueError(f"states must have shape (..., {len(self.names)}); got {tuple(x.shape)}")
        consts = torch.tensor(self.constants, dtype=x.dtype, device=x.device)
        return self._eval(self.tree, x, iter(consts))

    def qp(self, q: Tensor, p: Tensor) -> Tensor:
        """Evaluate as ``f(q, p)`` (two-variable formulas), for :class:`FormulaEmbedding`."""
        return self(torch.stack([q, p], dim=-1))

    def as_embedding(self, *, scale: float = 1.0) -> "SymbolicEmbedding":
        """This formula as a 1-d Noether embedding ``g(x) = scale · f(x)``, shape ``(..., 1)``."""
        return SymbolicEmbedding(self, scale=scale)

    def to_sympy(self):
        """The formula as a SymPy expression (needs ``sympy``)."""
        try:
            import sympy
        except ImportError as e:  # pragma: no cover - optional dependency
            raise ImportError("to_sympy() needs sympy: pip install sympy") from e
        syms = [sympy.Symbol(n, real=True) for n in self.names]
        it = iter(self.constants)

        def build(node):
            op = node[0]
            if op == "var":
                return syms[node[1]]
            spec = _OPS[OPERATORS.index(op)]
            c = sympy.Float(next(it), 6) if spec.has_const else None
            a = build(node[1])
            b = build(node[2]) if spec.arity == 2 else None
            return {
                "+": lambda: a + c * b, "-": lambda: a - c * b, "*": lambda: a * b, "/": lambda: a / b,
                "sin": lambda: sympy.sin(c * a), "cos": lambda: sympy.cos(c * a), "square": lambda: a**2,
            }[op]()

        return build(self.tree)


class SymbolicEmbedding(nn.Module):
    """A :class:`Formula` as a Noether embedding: states ``(..., D)`` → ``(..., 1)``."""

    def __init__(self, formula: Formula, *, scale: float = 1.0) -> None:
        super().__init__()
        self.formula, self.scale = formula, float(scale)
        self.register_buffer("constants", torch.tensor(formula.constants, dtype=torch.float32))

    def forward(self, x: Tensor) -> Tensor:
        consts = self.constants.to(dtype=x.dtype)
        return (self.scale * self.formula._eval(self.formula.tree, x, iter(consts))).unsqueeze(-1)

    def extra_repr(self) -> str:
        return str(self.formula)


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
    progress: bool = False,
) -> FormulaLibrary:
    """Enumerate all distinct expressions up to ``max_depth``.

    Args:
        names: state-variable names (their number ``D`` is the state dimension).
        max_depth: maximum tree depth (variables have depth 0).
        operators: subset of :data:`OPERATORS` (aliases ``add, sub, mul, div, sq``); all by default.
        states: fingerprint states ``(K, D)``; by default ``n_fingerprint`` uniform states in ``[-2, 2]^D``.
        memory_budget: bytes. Before each depth is allocated, the candidate count
            (exact, from the previous depths) times the bytes per candidate, plus
            the working set of the constant fit, is checked against it.
        n_fit_states, chunk_size: size of the later constant fit, for that estimate.

    Returns:
        A :class:`FormulaLibrary`; ``counts[d]`` holds, for depth ``d``: ``candidates``
        (canonical, before numerical dedup), ``new`` (kept), ``duplicates``,
        ``degenerate`` (constant or non-finite on the fingerprint states), ``total`` (kept up to ``d``).

    Raises:
        ValueError: unknown operator, bad depth or names.
        SearchTooLarge: the next depth would exceed ``memory_budget``.
    """
    t0 = time.perf_counter()
    names = tuple(names)
    if not names or len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"names must be distinct non-empty strings, got {names!r}")
    if not isinstance(max_depth, int) or max_depth < 0:
        raise ValueError(f"max_depth must be an integer >= 0, got {max_depth!r}")
    codes = _resolve_ops(operators)
    D = len(names)
    gen = torch.Generator().manual_seed(int(seed))
    if states is None:
        states = _uniform_states(n_fingerprint, torch.full((D,), -2.0, dtype=torch.float64),
                                 torch.full((D,), 2.0, dtype=torch.float64), gen)
    states = states.double()
    if states.ndim != 2 or states.shape[1] != D:
        raise ValueError(f"fingerprint states must have shape (K, {D}); got {tuple(states.shape)}")
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
    counts = [dict(depth=0, candidates=D, new=int(ok.sum()), duplicates=0, degenerate=int((~ok).sum()), total=D)]
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
        c_op, c_l, c_r, c_v1, c_v2 = [], [], [], [], []
        for code in codes:
            spec = _OPS[code]
            if spec.arity == 1:
                ii, jj = torch.arange(b, a), None
            else:
                ii, jj = _pairs(a, b, spec.commutative)
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
        if not c_op:
            counts.append(dict(depth=d, candidates=0, new=0, duplicates=0, degenerate=0, total=len(op)))
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
        seen = np.sort(np.concatenate([seen, k[keep]]))
        counts.append(dict(depth=d, candidates=int(len(k)), new=n_new, duplicates=int((good & ~keep).sum()),
                           degenerate=int((~good).sum()), total=len(op)))
        if progress:
            print(f"[symbolic] depth {d}: {len(k):,} candidates -> {n_new:,} new ({len(op):,} in total)")
        b = a
    arr = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    return FormulaLibrary(names, arr(op), arr(left), arr(right), arr(depth), arr(size), arr(nconst), counts,
                          time.perf_counter() - t0)


# ----------------------------------------------------------------------------- batched tensor program
@dataclass
class _Program:
    """Formulas compiled into one gather-based program.

    ``levels[l]`` is ``(op_codes, group_sizes, left_idx, right_idx, const_idx)``:
    the level's nodes sorted by operator; their outputs are appended to the
    value buffer in that order.
    ``roots[f]`` is formula ``f``'s node; ``slots[f]`` its constant range.
    """

    n_vars: int
    levels: List[Tuple[List[int], List[int], Tensor, Tensor, Tensor]]
    roots: Tensor
    slot_start: np.ndarray
    n_slots: int
    init: Tensor


def _compile(lib: FormulaLibrary, ids: Sequence[int]) -> _Program:
    """Expand each formula into its own tree (constant-free subtrees are shared)."""
    D = len(lib.names)
    node_op, node_l, node_r, node_c, node_lvl = [], [], [], [], []
    shared: Dict[int, int] = {}
    n_slots = 0

    def level(n):
        return 0 if n < D else node_lvl[n - D]

    def expand(e: int) -> int:
        nonlocal n_slots
        o = int(lib.op[e])
        if o == _VAR:
            return int(lib.left[e])
        if lib.nconst[e] == 0 and e in shared:
            return shared[e]
        spec = _OPS[o]
        c = -1
        if spec.has_const:  # pre-order slot, matches Formula's traversal
            c = n_slots
            n_slots += 1
        lft = expand(int(lib.left[e]))
        rgt = expand(int(lib.right[e])) if spec.arity == 2 else lft
        node_op.append(o); node_l.append(lft); node_r.append(rgt); node_c.append(c)
        node_lvl.append(1 + max(level(lft), level(rgt)))
        n = D + len(node_op) - 1
        if lib.nconst[e] == 0:
            shared[e] = n
        return n

    roots, starts = [], []
    for e in ids:
        starts.append(n_slots)
        roots.append(expand(int(e)))
    # renumber nodes sorted by (level, op): each (level, op) group is contiguous
    lvl = np.asarray(node_lvl, dtype=np.int64)
    ops = np.asarray(node_op, dtype=np.int64)
    order = np.lexsort((ops, lvl))
    new_id = np.empty(len(order) + D, dtype=np.int64)
    new_id[:D] = np.arange(D)
    new_id[D + order] = D + np.arange(len(order))
    L, R = np.asarray(node_l, dtype=np.int64), np.asarray(node_r, dtype=np.int64)
    C = np.asarray(node_c, dtype=np.int64)
    C = np.where(C < 0, n_slots, C)  # slot n_slots holds a dummy 1 for ops without constant
    levels = []
    for l in range(1, int(lvl.max(initial=0)) + 1):
        members = order[lvl[order] == l]  # sorted by op
        o_m = ops[members]
        codes, sizes = np.unique(o_m, return_counts=True)
        levels.append((codes.tolist(), sizes.tolist(), torch.from_numpy(new_id[L[members]]),
                       torch.from_numpy(new_id[R[members]]), torch.from_numpy(C[members])))
    return _Program(D, levels, torch.from_numpy(new_id[np.asarray(roots, dtype=np.int64)]),
                    np.asarray(starts + [n_slots]), n_slots, torch.ones(n_slots, dtype=torch.float64))


def _run(prog: _Program, x: Tensor, theta: Tensor) -> Tensor:
    """Evaluate all formulas: states ``x`` ``(S, D)``, constants ``(n_slots,)`` → ``(F, S)``.

    One gather per level and operand (not per formula): ``a = vals[left]``,
    ``b = vals[right]``, ``c = theta[slot]``, then one elementwise kernel per operator.
    """
    vals = x.T  # (D, S): one row per node
    theta = torch.cat([theta, theta.new_ones(1)])  # dummy slot
    for codes, sizes, li, ri, ci in prog.levels:
        a_all, b_all = vals[li], vals[ri]  # (n_level, S)
        c_all = theta[ci][:, None]  # (n_level, 1)
        outs = []
        for o, a, b, c in zip(codes, a_all.split(sizes), b_all.split(sizes), c_all.split(sizes)):
            spec = _OPS[o]
            outs.append(spec.fn(a, b if spec.arity == 2 else None, c if spec.has_const else None))
        vals = torch.cat([vals] + outs)
    return vals[prog.roots]


_TINY = 1e-30


def _within_total(f: Tensor, n_traj: int, n_time: int) -> Tuple[Tensor, Tensor]:
    """``f`` ``(F, N·T + ...)`` → (mean over trajectories of Var_t, Var over all N·T states), each ``(F,)``."""
    ft = f[:, : n_traj * n_time]  # (F, N·T)
    within = ft.reshape(f.shape[0], n_traj, n_time).var(-1, unbiased=False).mean(-1)
    return within, ft.var(-1, unbiased=False)


def _objective(f: Tensor, n_traj: int, n_time: int) -> Tensor:
    """Per-formula ``log(within / total)``, ``(F,)``: invariant to ``f → a f + b``."""
    within, total = _within_total(f, n_traj, n_time)
    return torch.log(within + _TINY) - torch.log(total + _TINY)


def _robust_var(f: Tensor) -> Tensor:
    """``(1.4826 · MAD)²`` along the last axis: the variance of a Gaussian, blind to a few huge values."""
    med = f.median(-1, keepdim=True).values
    return (1.4826 * (f - med).abs().median(-1).values) ** 2


def fit_constants(
    lib: FormulaLibrary,
    ids: Sequence[int],
    trajectories: Tensor,
    *,
    steps: int = 500,
    lr: float = 0.1,
    lr_final: float = 1e-3,
    dtype: torch.dtype = torch.float32,
    device: Union[str, torch.device] = "cpu",
) -> Tuple[Tensor, np.ndarray, Tensor]:
    """Fit the constants of formulas ``ids`` all at once (one tensor program, Adam).

    Every formula minimises its own objective ``J`` (module docstring); the sum
    is back-propagated once per step. The learning rate decays exponentially
    from ``lr`` to ``lr · lr_final``, and each formula keeps its best iterate.

    Args:
        lib, ids: the enumerated library and the formulas to fit.
        trajectories: ``(N, T, D)``.
        steps, lr, lr_final: Adam iterations, initial learning rate, final/initial ratio.

    Returns:
        ``(theta, slot_start, loss)``: all constants ``(n_slots,)`` (formula ``i``'s are
        ``theta[slot_start[i]:slot_start[i+1]]``) and the best objective ``(F,)``
        (non-finite when a fit never had a finite objective: diverged).
    """
    prog = _compile(lib, ids)
    N, T, D = trajectories.shape
    x = trajectories.reshape(N * T, D).to(device=device, dtype=dtype)  # (S, D)
    prog.levels = [(c, s, li.to(device), ri.to(device), ci.to(device)) for c, s, li, ri, ci in prog.levels]
    prog.roots = prog.roots.to(device)
    theta = prog.init.to(device=device, dtype=dtype).clone().requires_grad_(True)
    owner = torch.from_numpy(np.repeat(np.arange(len(ids)), np.diff(prog.slot_start))).to(device)  # slot -> formula
    best_theta = theta.detach().clone()
    best = torch.full((len(ids),), float("inf"), device=device, dtype=dtype)
    flush = torch.set_flush_denormal(True)  # denormals make CPU arithmetic crawl
    try:
        opt = torch.optim.Adam([theta], lr=lr) if prog.n_slots > 0 and steps > 0 else None
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=lr_final ** (1.0 / max(steps, 1))) if opt else None
        for step in range(steps + 1):
            loss = _objective(_run(prog, x, theta), N, T)
            with torch.no_grad():
                better = torch.isfinite(loss) & (loss < best)
                best = torch.where(better, loss, best)
                best_theta = torch.where(better[owner], theta, best_theta)
            if opt is None or step == steps:
                break
            opt.zero_grad(set_to_none=True)
            # formulas are independent: the summed loss gives each its own gradient
            torch.where(torch.isfinite(loss), loss, torch.zeros_like(loss)).sum().backward()
            theta.grad.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
            opt.step()
            sched.step()
    finally:
        if not flush:
            torch.set_flush_denormal(False)
    best = torch.where(torch.isinf(best) & (best > 0), torch.full_like(best, float("nan")), best)
    return best_theta, prog.slot_start, best


def _final_stats(lib, ids, theta64: Tensor, trajectories: Tensor, reference: Tensor, device="cpu") -> Dict[str, Tensor]:
    """Float64 statistics of formulas ``ids`` at their fitted constants, each ``(F,)``.

    ``score``: within / total variance on the trajectories (the fitted objective);
    ``ratio``: within-trajectory variance / robust variance on the random states (the filter);
    ``spread``: relative spread on the trajectories (≈ 0 for a numerically constant formula).
    """
    prog = _compile(lib, ids)
    N, T, D = trajectories.shape
    x = torch.cat([trajectories.reshape(N * T, D), reference]).to(device=device, dtype=torch.float64)
    prog.levels = [(c, s, li.to(device), ri.to(device), ci.to(device)) for c, s, li, ri, ci in prog.levels]
    prog.roots = prog.roots.to(device)
    with torch.no_grad():
        f = _run(prog, x, theta64.to(device))  # (F, N·T + R)
        within, total = _within_total(f, N, T)
        ratio = within / _robust_var(f[:, N * T:])
        spread = total.sqrt() / (f[:, : N * T].abs().mean(-1) + 1e-300)
    return {k: v.cpu() for k, v in dict(score=within / total, ratio=ratio, spread=spread).items()}


# ----------------------------------------------------------------------------- public search
@dataclass
class DiscoveryResult:
    """What :func:`discover_conserved` found.

    Attributes:
        formulas: survivors, best first (see the module docstring for the ranking).
        counts: one dict per depth (``candidates``, ``new``, ``duplicates``, ``degenerate``, ``total``).
        n_enumerated: distinct formulas whose constants were fitted (depth >= 1 and the variables).
        n_survivors, n_diverged: kept by the filter; dropped because the fit went non-finite.
        ratios: every fitted formula's filter ratio, within-trajectory variance over the
            (robust) variance on random states, ``(n_enumerated,)`` (NaN if diverged).
        scores: every formula's fitted objective, within-trajectory over total variance on the data.
        survived: boolean mask over ``ratios``.
        formulas_per_second: ``n_enumerated / seconds``.
        seconds, enumerate_seconds, fit_seconds: wall time (total and per stage).
        library: the enumerated :class:`FormulaLibrary` (to inspect rejected formulas).
    """

    formulas: List[Formula]
    counts: List[Dict[str, int]]
    n_enumerated: int
    n_survivors: int
    n_diverged: int
    ratios: np.ndarray
    scores: np.ndarray
    survived: np.ndarray
    formulas_per_second: float
    seconds: float
    enumerate_seconds: float
    fit_seconds: float
    max_ratio: float
    library: Optional[FormulaLibrary] = field(default=None, repr=False)
    all_constants: Optional[List[Tuple[float, ...]]] = field(default=None, repr=False)

    @property
    def best(self) -> Formula:
        if not self.formulas:
            raise ValueError("no formula survived the variance-ratio filter")
        return self.formulas[0]

    def formula(self, i: int) -> Formula:
        """Enumerated formula ``i`` (survivor or not) with its fitted constants."""
        return self.library.formula(i, self.all_constants[i], float(self.ratios[i]))

    def summary(self, k: int = 5) -> str:
        lines = [
            f"{self.n_enumerated:,} formulas, {self.n_survivors} survivors (ratio <= {self.max_ratio:.0e}), "
            f"{self.n_diverged} diverged, {self.seconds:.1f} s ({self.formulas_per_second:,.0f} formulas/s)"
        ]
        lines += [f"  {i + 1}. {f}   ratio={f.ratio:.2e}" for i, f in enumerate(self.formulas[:k])]
        return "\n".join(lines)

    def to_dict(self, k: int = 10) -> Dict[str, Any]:
        return dict(
            best_formula=str(self.formulas[0]) if self.formulas else None,
            top=[dict(formula=str(f), ratio=f.ratio, size=f.size) for f in self.formulas[:k]],
            counts=self.counts, n_enumerated=self.n_enumerated, n_survivors=self.n_survivors,
            n_diverged=self.n_diverged, formulas_per_second=self.formulas_per_second, seconds=self.seconds,
        )


def _as_trajectories(trajectories, n_names: int) -> Tensor:
    x = getattr(trajectories, "x", trajectories)  # accept TrajectoryData
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, Tensor):
        raise TypeError(f"trajectories must be a tensor of shape (n_traj, T, state_dim), got {type(x).__name__}")
    if x.ndim != 3:
        raise ValueError(f"trajectories must have shape (n_traj, T, state_dim); got {tuple(x.shape)}")
    if x.shape[0] < 1 or x.shape[1] < 2:
        raise ValueError(f"need at least 1 trajectory of at least 2 states; got {tuple(x.shape)}")
    if x.shape[2] != n_names:
        raise ValueError(f"trajectories have state_dim {x.shape[2]} but {n_names} variable names were given")
    if not x.is_floating_point():
        x = x.double()
    if not torch.isfinite(x).all():
        raise ValueError(f"trajectories contain {int((~torch.isfinite(x)).sum())} non-finite value(s)")
    return x.detach().cpu()


def discover_conserved(
    trajectories,
    *,
    names: Sequence[str] = ("q", "p"),
    max_depth: int = 2,
    operators: Optional[Sequence[str]] = None,
    seed: int = 0,
    orders: float = 2.0,
    steps: int = 500,
    lr: float = 0.1,
    n_reference: int = 512,
    n_fingerprint: int = 32,
    size_penalty: float = 0.1,
    score_floor: float = 1e-7,
    max_states: Optional[int] = None,
    memory_budget: float = 4e9,
    chunk_size: int = 10000,
    dtype: torch.dtype = torch.float32,
    device: Union[str, torch.device] = "cpu",
    threads: Optional[int] = 1,
    progress: bool = False,
) -> DiscoveryResult:
    """Search for formulas conserved along ``trajectories``.

    Args:
        trajectories: ``(n_traj, T, state_dim)`` tensor or array (or a
            :class:`~noether_lite.data.TrajectoryData`, whose ``x`` is used).
        names: one name per state dimension.
        max_depth: maximum expression depth (variables have depth 0).
        operators: subset of :data:`OPERATORS`; all seven by default.
        seed: seeds the random reference and fingerprint states.
        orders: keep a formula if its variance ratio is ``<= 10**-orders``.
        steps, lr: Adam iterations and learning rate of the batched constant fit.
        n_reference: random states in the data's bounding box (the denominator).
        size_penalty, score_floor: survivors are ranked by
            ``log10(max(score, score_floor)) + size_penalty * size`` (``score`` = within / total
            variance on the data), then by size, then by how many fitted constants are negative
            (of ``p² − c cos q`` and its mirror ``p² + c cos q`` with ``c < 0``, the first).
            Below the floor the score is the constant fit's rounding noise (equivalent formulas
            score 1e-10 to 2e-8 depending on the machine's arithmetic), so it decides nothing.
        max_states: subsample each trajectory to at most this many time points (speed).
        memory_budget: bytes; the search refuses (before allocating) to go beyond it.
        chunk_size: formulas fitted per batched program (bounds memory; no per-formula loop).
        dtype, device: of the constant fit (the filter is always evaluated in float64 on the CPU).
        threads: CPU threads during the search (restored afterwards). The tensors are
            small, and on a shared 2-core machine 1 thread was ~5× faster than 2;
            ``None`` keeps torch's setting.

    Returns:
        A :class:`DiscoveryResult`.

    Raises:
        ValueError: bad shapes, non-finite trajectories, unknown operator.
        SearchTooLarge: ``max_depth`` does not fit in ``memory_budget``.
    """
    if threads is None:
        return _discover(trajectories, **{k: v for k, v in locals().items() if k not in ("trajectories", "threads")})
    old = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        return _discover(trajectories, **{k: v for k, v in locals().items() if k not in ("trajectories", "threads", "old")})
    finally:
        torch.set_num_threads(old)


def _discover(trajectories, *, names, max_depth, operators, seed, orders, steps, lr, n_reference, n_fingerprint,
              size_penalty, score_floor, max_states, memory_budget, chunk_size, dtype, device, progress) -> DiscoveryResult:
    t0 = time.perf_counter()
    names = tuple(names)
    x = _as_trajectories(trajectories, len(names))
    codes = _resolve_ops(operators)
    if not isinstance(max_depth, int) or max_depth < 1:
        raise ValueError(f"max_depth must be an integer >= 1, got {max_depth!r}")
    if not orders > 0:
        raise ValueError(f"orders must be > 0, got {orders}")
    if max_states is not None and x.shape[1] > max_states:
        idx = torch.linspace(0, x.shape[1] - 1, int(max_states)).round().long()
        x = x[:, idx]
    N, T, D = x.shape
    gen = torch.Generator().manual_seed(int(seed))
    lo, hi = _box(x)
    reference = _uniform_states(n_reference, lo, hi, gen)  # (R, D)
    fp_states = _uniform_states(n_fingerprint, lo, hi, gen)  # (K, D)
    lib = enumerate_formulas(
        names=names, max_depth=max_depth, operators=[OPERATORS[c] for c in codes], states=fp_states,
        seed=seed, memory_budget=memory_budget, n_fit_states=N * T + n_reference, chunk_size=chunk_size,
        progress=progress,
    )
    t_fit = time.perf_counter()
    n = len(lib)
    stats = {k: np.full(n, np.nan) for k in ("score", "ratio", "spread")}
    consts: List[Tuple[float, ...]] = [()] * n
    diverged = np.zeros(n, dtype=bool)
    for s in range(0, n, chunk_size):
        ids = list(range(s, min(n, s + chunk_size)))
        theta, starts, loss = fit_constants(lib, ids, x, steps=steps, lr=lr, dtype=dtype, device=device)
        theta64 = theta.double().cpu()
        st = _final_stats(lib, ids, theta64, x, reference, device=device)
        bad = (~torch.isfinite(loss).cpu() | ~torch.isfinite(st["score"]) | ~torch.isfinite(st["ratio"])).numpy()
        for k, v in st.items():
            stats[k][s:s + len(ids)] = v.numpy()
        th = theta64.numpy()
        for k, i in enumerate(ids):
            consts[i] = tuple(th[starts[k]:starts[k + 1]].tolist())
        diverged[s:s + len(ids)] = bad
        if progress:
            print(f"[symbolic] fitted {min(n, s + chunk_size):,}/{n:,} formulas")
    fit_seconds = time.perf_counter() - t_fit
    # the variables themselves never "diverge"; a variable constant on the data is just rejected
    max_ratio = 10.0 ** (-orders)
    ratios, scores = stats["ratio"], stats["score"]
    with np.errstate(invalid="ignore"):
        survived = ~diverged & (ratios <= max_ratio) & (stats["spread"] > 1e-6)  # spread: not constant
    sid = np.flatnonzero(survived)
    # below score_floor a formula is conserved to float precision: only its size should decide
    rank_key = np.log10(np.maximum(scores[sid], score_floor)) + size_penalty * lib.size[sid]
    negatives = np.array([sum(c < 0 for c in consts[i]) for i in sid], dtype=np.int64)
    ranked = sid[np.lexsort((negatives, lib.size[sid], rank_key))]
    formulas = [lib.formula(int(i), consts[i], float(ratios[i])) for i in ranked]
    for f, i in zip(formulas, ranked):
        f.score = float(scores[i])
    seconds = time.perf_counter() - t0
    return DiscoveryResult(
        formulas=formulas, counts=lib.counts, n_enumerated=n, n_survivors=len(formulas),
        n_diverged=int(diverged.sum()), ratios=ratios, scores=scores, survived=survived,
        formulas_per_second=n / max(seconds, 1e-9), seconds=seconds, enumerate_seconds=lib.seconds,
        fit_seconds=fit_seconds, max_ratio=max_ratio, library=lib, all_constants=consts,
    )


# ----------------------------------------------------------------------------- the paper's pipeline
def energy_correlation(formula: Callable[[Tensor], Tensor], system, *, n: int = 4000, seed: int = 0,
                       box: Tuple[float, float] = (-2.0, 2.0)) -> float:
    """``|corr(f, H)|`` on ``n`` uniform random states in ``box²``: 1 means ``f = a H + b``."""
    from .systems import get_system

    sys_ = get_system(system)
    gen = torch.Generator().manual_seed(seed)
    s = box[0] + (box[1] - box[0]) * torch.rand(n, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        f, h = formula(s).reshape(-1).numpy(), sys_.energy(s).numpy()
    return float(abs(np.corrcoef(f, h)[0, 1]))


def _tailoring_run(vanilla: nn.Module, emb: nn.Module, train, test, cfg, *, system, grid, meta_steps: int,
                   progress: bool, name: str) -> Dict[str, Any]:
    """One embedding as a tailoring loss: λ_in from the grid on TRAINING data, then meta-tailoring."""
    import copy

    from .network import NoetherNetwork
    from .physics import evaluate, meta_train, select_inner_lr
    from .tailor import TailorConfig

    dev = train.x.device
    torch.manual_seed(cfg.seed)
    net = NoetherNetwork(copy.deepcopy(vanilla), emb.to(dev), dt=train.dt, integrator=cfg.integrator,
                         loss_form=cfg.loss_form, tailor=TailorConfig(steps=cfg.inner_steps, inner_lr=1e-5, mode=cfg.tailor_mode))
    lr, scores = select_inner_lr(net, train, grid=grid)
    out = {"inner_lr": lr, "grid_train_rmse": min(scores.values())}
    net = NoetherNetwork(net.model, net.embedding, dt=train.dt, integrator=cfg.integrator, loss_form=cfg.loss_form,
                         tailor=TailorConfig(steps=cfg.inner_steps, inner_lr=lr, mode=cfg.tailor_mode))
    if lr > 0 and meta_steps > 0:
        meta_train(net, train, steps=meta_steps, lr=cfg.meta_lr, batch_size=cfg.meta_batch, seed=cfg.seed,
                   progress=progress, desc=name)
    out["train_rmse"] = evaluate(net, train, system=system)["rmse"]
    out["test_rmse"] = evaluate(net, test, system=system)["rmse"]
    return out


def run_symbolic(
    system="pendulum",
    *,
    max_depth: Optional[int] = None,
    quick: bool = True,
    seed: int = 0,
    progress: bool = True,
    top_k: Optional[int] = None,
    meta_k: Optional[int] = None,
    noisy: bool = False,
    tailor: bool = True,
    physics: Optional[Dict[str, Any]] = None,
    device: str = "auto",
    threads: Optional[int] = 1,
) -> Dict[str, Any]:
    """The paper's symbolic pipeline on one system (section 3a).

    1. :func:`discover_conserved` on the training trajectories (true states by
       default, ``noisy=True`` for the observed ones), depth 2 (quick) or 3 (full).
    2. The top ``top_k`` survivors (quick 3, full 20) are each tried as a one-step
       tailoring loss of the pretrained MLP over the ``λ_in`` grid (quick: every
       other point of ``10^k, k ∈ {−3, −2.5, …, 1}``), scored on TRAINING data.
    3. The best ``meta_k`` (quick 1, full 5) are meta-tailored; the one best on
       TRAINING data is reported with its test RMSE, next to the vanilla MLP and
       the oracle (the true energy through the same procedure).

    The MLP, the grid and meta-training follow :class:`~noether_lite.physics.PhysicsConfig`
    for ``quick``; ``physics`` overrides its fields (e.g. ``{"pretrain_steps": 500}``).

    Returns:
        ``{"system", "mode", "seed", "best_formula", "best_corr", "tailored_formula",
        "enumerated", "survivors", "diverged", "counts", "top", "rmse": {"vanilla",
        "noether_symbolic", "noether_oracle"}, "formulas_per_second",
        "search_seconds", "seconds"}`` (JSON-ready).
    """
    if threads is not None:  # small tensors: one CPU thread is fastest on a shared machine
        old = torch.get_num_threads()
        torch.set_num_threads(int(threads))
        try:
            return run_symbolic(system, max_depth=max_depth, quick=quick, seed=seed, progress=progress, top_k=top_k,
                                meta_k=meta_k, noisy=noisy, tailor=tailor, physics=physics, device=device, threads=None)
        finally:
            torch.set_num_threads(old)
    from .conservation import OracleEmbedding
    from .data import make_dataset
    from .models import MLP
    from .physics import PhysicsConfig, evaluate, pretrain
    from .systems import get_system
    from .train import auto_device, seed_everything

    t0 = time.perf_counter()
    sys_ = get_system(system)
    depth = int(max_depth) if max_depth is not None else (2 if quick else 3)
    top_k = top_k if top_k is not None else (3 if quick else 20)
    meta_k = meta_k if meta_k is not None else (1 if quick else 5)
    train, test = make_dataset(sys_, seed=seed)
    res = discover_conserved(train.x if noisy else train.x_clean, max_depth=depth, seed=seed, progress=progress,
                             max_states=None if quick or depth < 3 else 15)
    out: Dict[str, Any] = {
        "system": sys_.name, "mode": "quick" if quick else "full", "seed": seed, "max_depth": depth,
        "best_formula": str(res.best) if res.formulas else None,
        "best_corr": energy_correlation(res.best, sys_) if res.formulas else None,
        "enumerated": res.n_enumerated, "survivors": res.n_survivors, "diverged": res.n_diverged,
        "counts": res.counts, "formulas_per_second": res.formulas_per_second, "search_seconds": res.seconds,
        "top": [dict(formula=str(f), score=f.score, ratio=f.ratio) for f in res.formulas[:10]],
        "rmse": {},
    }
    if progress:
        print(res.summary())
    if tailor and res.formulas:
        dev = auto_device(device)
        cfg = PhysicsConfig.for_mode(sys_.name, quick=quick, seed=seed, **(physics or {}))
        grid = cfg.lr_grid[::2] if quick else cfg.lr_grid
        seed_everything(seed)
        tr, te = train.to(dev), test.to(dev)
        torch.manual_seed(seed)
        vanilla = MLP(hidden=cfg.hidden, cn=cfg.tailor_mode == "cn").to(dev)
        pretrain(vanilla, tr, steps=cfg.pretrain_steps, lr=cfg.pretrain_lr, batch_size=cfg.pretrain_batch,
                 seed=seed, progress=progress, desc=f"{sys_.name}: vanilla MLP")
        out["rmse"]["vanilla"] = evaluate(vanilla, te, system=sys_)["rmse"]
        cands = res.formulas[:top_k]
        screened = []
        for f in cands:  # λ_in grid only (no meta-training) for every candidate
            r = _tailoring_run(vanilla, f.as_embedding(), tr, te, cfg, system=sys_, grid=grid, meta_steps=0,
                               progress=False, name=str(f))
            screened.append((r["grid_train_rmse"], f))
        screened.sort(key=lambda t: t[0])
        finals = []
        for _, f in screened[:meta_k]:
            r = _tailoring_run(vanilla, f.as_embedding(), tr, te, cfg, system=sys_, grid=grid,
                               meta_steps=cfg.meta_steps, progress=progress, name=f"symbolic: {f}")
            finals.append((r["train_rmse"], r, f))
        finals.sort(key=lambda t: t[0])
        _, best_run, best_f = finals[0]
        out["tailored_formula"] = str(best_f)
        out["rmse"]["noether_symbolic"] = best_run["test_rmse"]
        out["inner_lr"] = {"noether_symbolic": best_run["inner_lr"]}
        oracle = _tailoring_run(vanilla, OracleEmbedding(sys_), tr, te, cfg, system=sys_, grid=grid,
                                meta_steps=cfg.meta_steps, progress=progress, name="oracle")
        out["rmse"]["noether_oracle"] = oracle["test_rmse"]
        out["inner_lr"]["noether_oracle"] = oracle["inner_lr"]
    out["seconds"] = time.perf_counter() - t0
    return out
