"""The search: enumerate, fit, rank; and how well a formula matches a system's energy.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor
from .grammar import Formula, OPERATORS, _resolve_ops
from .enumerate import FormulaLibrary, _box, _uniform_states, enumerate_formulas
from .fit import _final_stats, fit_constants
from .program import _compile, _run
from .units import Units, resolve_units
from .project import fit_constants_projected
from . import arguments

__all__ = ['DiscoveryResult', 'discover_conserved', 'energy_correlation', 'FIT_METHODS']

FIT_METHODS = ("projection", "adam")


# ----------------------------------------------------------------------------- public search
@dataclass
class DiscoveryResult:
    """What :func:`discover_conserved` found.

    Attributes:
        formulas: survivors, best first (see the module docstring for the ranking), one per
            family of formulas equal up to ``a·f + b`` (:attr:`Formula.variants` counts each family).
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
            f"{self.n_enumerated:,} formulas, {self.n_survivors} survivors (ratio <= {self.max_ratio:.0e}) "
            f"in {len(self.formulas)} families, "
            f"{self.n_diverged} diverged, {self.seconds:.1f} s ({self.formulas_per_second:,.0f} formulas/s)"
        ]
        lines += [f"  {i + 1}. {f}   ratio={f.ratio:.2e}" for i, f in enumerate(self.formulas[:k])]
        return "\n".join(lines)

    def to_dict(self, k: int = 10) -> Dict[str, Any]:
        return dict(
            best_formula=str(self.formulas[0]) if self.formulas else None,
            top=[dict(formula=str(f), ratio=f.ratio, size=f.size) for f in self.formulas[:k]],
            counts=self.counts, n_enumerated=self.n_enumerated, n_survivors=self.n_survivors,
            n_families=len(self.formulas),
            n_diverged=self.n_diverged, formulas_per_second=self.formulas_per_second, seconds=self.seconds,
        )


def discover_conserved(
    trajectories,
    *,
    names: Sequence[str] = ("q", "p"),
    max_depth: int = 2,
    operators: Optional[Sequence[str]] = None,
    units: Union[None, str, Units] = None,
    seed: int = 0,
    orders: float = 2.0,
    method: str = "projection",
    steps: int = 500,
    lr: float = 0.1,
    n_reference: int = 512,
    n_fingerprint: int = 32,
    size_penalty: float = 0.1,
    score_floor: Optional[float] = None,
    merge_tol: float = 1e-6,
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
            :class:`~noether_lite.systems.TrajectoryData`, whose ``x`` is used).
        names: one name per state dimension.
        max_depth: maximum expression depth (variables have depth 0).
        operators: subset of :data:`OPERATORS`; all seven by default.
        units: physical units of the variables and the system's parameters (a
            :class:`~noether_lite.symbolic.units.Units` or a system name, e.g. ``"pendulum"``):
            formulas that add incompatible quantities are pruned before they are fitted
            (:mod:`~noether_lite.symbolic.units`); ``counts`` reports how many at each depth.
        seed: seeds the random reference and fingerprint states.
        orders: keep a formula if its variance ratio is ``<= 10**-orders``.
        method: how the constants are fitted: ``"projection"`` (linear constants in closed form,
            the others on a grid and refined: :func:`~noether_lite.symbolic.project.fit_constants_projected`)
            or ``"adam"`` (every constant by Adam: :func:`~noether_lite.symbolic.fit_constants`,
            the reference, some hundred times slower).
        steps, lr: Adam iterations and learning rate (``method="adam"``).
        n_reference: random states in the data's bounding box (the denominator), at least 3.
        n_fingerprint: random states whose values deduplicate the formulas, at least 3.
        size_penalty, score_floor: survivors are ranked by
            ``log10(max(score, score_floor)) + size_penalty * size`` (``score`` = within / total
            variance on the data), then by size, then by how many fitted constants are negative
            (of ``p² − c cos q`` and its mirror ``p² + c cos q`` with ``c < 0``, the first).
            Below the floor the score is the constant fit's rounding noise, so it decides nothing:
            by default ``1e-10`` for ``method="projection"`` (constants solved in float64) and
            ``1e-7`` for ``"adam"`` (equivalent formulas score 1e-10 to 2e-8 there, depending on
            the machine's arithmetic).
        merge_tol: survivors whose values on the random states are the same up to ``a·f + b``
            (``|corr| >= 1 − merge_tol``) are one family, shown once, at its best rank
            (:attr:`Formula.variants` counts them); ``0`` keeps every survivor.
        max_states: subsample each trajectory to at most this many time points (speed), at least 2.
        memory_budget: bytes; the search refuses (before allocating) to go beyond it.
        chunk_size: formulas fitted per batched program (bounds memory; no per-formula loop).
        dtype, device: of the constant fit (the filter is always evaluated in float64 on the CPU).
        threads: CPU threads during the search (restored afterwards). The tensors are
            small, and on a shared 2-core machine 1 thread was ~5× faster than 2;
            ``None`` keeps torch's setting.
        progress: print one line per depth and per fitted chunk.

    Returns:
        A :class:`DiscoveryResult`.

    Raises:
        ValueError: any argument out of its range, checked before any work starts (see
            :mod:`~noether_lite.symbolic.arguments`): fewer than 2 trajectories or states, trajectories
            that do not move or are all identical, bad shapes or dtypes, non-finite values, unknown
            operators, sizes, thresholds or learning rates out of range, an unavailable device.
        SearchTooLarge: ``max_depth`` does not fit in ``memory_budget``.
    """
    kw = {k: v for k, v in locals().items() if k not in ("trajectories", "threads")}
    x, kw = _checked_discover_args(trajectories, threads, **kw)
    if threads is None:
        return _discover(x, **kw)
    old = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        return _discover(x, **kw)
    finally:
        torch.set_num_threads(old)


def _checked_discover_args(trajectories, threads, **kw) -> Tuple[Tensor, Dict[str, Any]]:
    """The arguments of :func:`discover_conserved`, checked: ``(trajectories, the other arguments)``.

    The trajectories are subsampled to ``max_states`` here, so that their checks see the states the
    search will use. Arguments that :func:`enumerate_formulas` and :func:`fit_constants` check again
    are checked here too, so that nothing is computed before a bad one is found.
    """
    c = arguments
    names = c.check_names(kw["names"])
    c.check_int("max_depth", kw["max_depth"], 1, "pass max_depth >= 1 (variables alone have depth 0)")
    codes = _resolve_ops(c.check_operators(kw["operators"]))
    units = resolve_units(kw["units"])
    if units is not None:
        units.vectors(names)  # every variable has a unit, the parameters are independent
    c.check_seed(kw["seed"])
    c.check_real("orders", kw["orders"], low=0.0, high=300.0, high_open=False,
                 fix="pass the orders of magnitude of the filter, such as orders=2")
    c.check_choice("method", kw["method"], FIT_METHODS)
    c.check_int("steps", kw["steps"], 0, "pass a number of Adam iterations such as steps=500 (0: no fit)")
    c.check_real("lr", kw["lr"], low=0.0, fix="pass a positive learning rate such as lr=0.1")
    c.check_int("n_reference", kw["n_reference"], c.MIN_REFERENCE,
                "pass n_reference >= 3 (the MAD of 2 values is 0; the default is 512)")
    c.check_int("n_fingerprint", kw["n_fingerprint"], c.MIN_FINGERPRINT,
                "pass n_fingerprint >= 3 (two values always match up to a*f + b; the default is 32)")
    c.check_real("size_penalty", kw["size_penalty"], low=0.0, low_open=False,
                 fix="pass a non-negative penalty per tree node, such as size_penalty=0.1")
    if kw["score_floor"] is not None:
        c.check_real("score_floor", kw["score_floor"], low=0.0, high=1.0,
                     fix="pass a small positive floor such as score_floor=1e-10 (scores lie in [0, 1]), or None")
    c.check_real("merge_tol", kw["merge_tol"], low=0.0, high=1.0, low_open=False,
                 fix="pass a small tolerance such as merge_tol=1e-6, or 0 to keep every survivor")
    c.check_optional_int("max_states", kw["max_states"], c.MIN_STATES,
                         "pass None (all states) or at least 2 states per trajectory: with one state the "
                         "variance along a trajectory is 0 and every formula would look conserved")
    c.check_real("memory_budget", kw["memory_budget"], low=0.0, allow_inf=True,
                 fix="pass a positive number of bytes such as memory_budget=4e9")
    c.check_int("chunk_size", kw["chunk_size"], 1, "pass a positive number of formulas such as chunk_size=10000")
    c.check_dtype(kw["dtype"])
    c.check_device(kw["device"])
    c.check_optional_int("threads", threads, 1, "pass a positive number of CPU threads, or None for torch's setting")
    c.check_bool("progress", kw["progress"])
    x = c.prepare_trajectories(trajectories, len(names), kw["max_states"])
    return x, dict(kw, names=names, operators=[OPERATORS[i] for i in codes], units=units)


def _discover(x, *, names, max_depth, operators, units, seed, orders, method, steps, lr, n_reference, n_fingerprint,
              size_penalty, score_floor, merge_tol, max_states, memory_budget, chunk_size, dtype, device,
              progress) -> DiscoveryResult:
    """The search on checked arguments (see :func:`discover_conserved`); ``x`` is already subsampled."""
    t0 = time.perf_counter()
    N, T, D = x.shape
    gen = torch.Generator().manual_seed(int(seed))
    lo, hi = _box(x)
    reference = _uniform_states(n_reference, lo, hi, gen)  # (R, D)
    fp_states = _uniform_states(n_fingerprint, lo, hi, gen)  # (K, D)
    lib = enumerate_formulas(
        names=names, max_depth=max_depth, operators=operators, states=fp_states,
        seed=seed, memory_budget=memory_budget, n_fit_states=N * T + n_reference, chunk_size=chunk_size,
        units=units, progress=progress,
    )
    t_fit = time.perf_counter()
    n = len(lib)
    stats = {k: np.full(n, np.nan) for k in ("score", "ratio", "spread")}
    consts: List[Tuple[float, ...]] = [()] * n
    diverged = np.zeros(n, dtype=bool)
    if method == "projection":  # one call: it groups formulas by shape and bounds its own memory
        theta_all, starts_all, loss_all = fit_constants_projected(lib, list(range(n)), x, chunk_size=chunk_size,
                                                                  dtype=dtype, device=device)
    for s in range(0, n, chunk_size):
        ids = list(range(s, min(n, s + chunk_size)))
        if method == "adam":
            theta, starts, loss = fit_constants(lib, ids, x, steps=steps, lr=lr, dtype=dtype, device=device)
        else:
            starts = starts_all[s:ids[-1] + 2] - starts_all[s]
            theta, loss = theta_all[starts_all[s]:starts_all[ids[-1] + 1]], loss_all[s:ids[-1] + 1]
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
    if score_floor is None:
        score_floor = 1e-7 if method == "adam" else 1e-10
    rank_key = np.log10(np.maximum(scores[sid], score_floor)) + size_penalty * lib.size[sid]
    formulas = [lib.formula(int(i), consts[i], float(ratios[i])).canonical() for i in sid]
    negatives = np.array([sum(c < 0 for c in f.constants) for f in formulas], dtype=np.int64)
    order = np.lexsort((negatives, lib.size[sid], rank_key))
    formulas = [formulas[k] for k in order]
    for f, i in zip(formulas, sid[order]):
        f.score = float(scores[i])
    n_surv = len(formulas)
    if merge_tol > 0 and formulas:
        formulas = _merge_families(formulas, lib, sid[order], consts, reference, merge_tol)
    seconds = time.perf_counter() - t0
    return DiscoveryResult(
        formulas=formulas, counts=lib.counts, n_enumerated=n, n_survivors=n_surv,
        n_diverged=int(diverged.sum()), ratios=ratios, scores=scores, survived=survived,
        formulas_per_second=n / max(seconds, 1e-9), seconds=seconds, enumerate_seconds=lib.seconds,
        fit_seconds=fit_seconds, max_ratio=max_ratio, library=lib, all_constants=consts,
    )


def _merge_families(formulas: List[Formula], lib: FormulaLibrary, ids: np.ndarray, consts: List[Tuple[float, ...]],
                    states: Tensor, tol: float) -> List[Formula]:
    """Keep the first formula of each family (equal up to ``a·f + b`` on ``states``), in order.

    ``formulas[k]`` is library formula ``ids[k]`` with constants ``consts[ids[k]]``; all are
    evaluated at once by the batched program.
    """
    theta = torch.tensor([c for i in ids for c in consts[i]], dtype=torch.float64)
    with torch.no_grad():
        vals = _run(_compile(lib, ids.tolist()), states[:128].double(), theta)  # (n, R)
    vals = torch.where(torch.isfinite(vals), vals, torch.zeros_like(vals))
    z = vals - vals.mean(1, keepdim=True)
    z = z / z.norm(dim=1, keepdim=True).clamp_min(1e-300)
    kept: List[int] = []
    for i in range(len(formulas)):  # greedy in rank order: each family's first member stays
        same = ((z[kept] @ z[i]).abs() >= 1 - tol).nonzero() if kept else ()
        if len(same):
            formulas[kept[int(same[0])]].variants += 1
        else:
            kept.append(i)
    return [formulas[i] for i in kept]


# ----------------------------------------------------------------------------- the paper's pipeline
def energy_correlation(formula: Callable[[Tensor], Tensor], system, *, n: int = 4000, seed: int = 0,
                       box: Tuple[float, float] = (-2.0, 2.0)) -> float:
    """``|corr(f, H)|`` on ``n`` uniform random states in ``box²``: 1 means ``f = a H + b``."""
    from ..systems.hamiltonians import get_system

    sys_ = get_system(system)
    gen = torch.Generator().manual_seed(seed)
    s = box[0] + (box[1] - box[0]) * torch.rand(n, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        f, h = formula(s).reshape(-1).numpy(), sys_.energy(s).numpy()
    return float(abs(np.corrcoef(f, h)[0, 1]))
