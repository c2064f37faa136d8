"""Several conserved quantities: a functionally independent set from one search.

With 4 or more state variables a system can conserve more than its energy (a particle under a
central force also conserves its angular momentum). The search ranks its survivors as usual;
this module walks down that ranking and keeps a formula only if it is *functionally
independent* of those already kept: a function of kept quantities (``E²``, ``E + L``) has a
gradient in the span of theirs at every state. Independence is read from the rank of the
gradients on sampled states: the unit gradients of the kept set plus the candidate, as the rows
of a matrix at each state, must have a smallest singular value above ``rank_tol`` at most states.
A flow in ``D`` dimensions conserves at most ``D − 1`` independent quantities, so the walk stops there.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np
import torch
from torch import Tensor

from . import arguments
from .discover import DiscoveryResult, discover_conserved
from .grammar import Formula

__all__ = ['SeveralResult', 'discover_several', 'independence']


@dataclass
class SeveralResult:
    """What :func:`discover_several` found.

    Attributes:
        formulas: functionally independent conserved quantities, best first.
        independence: for each, the median over the sampled states of the smallest singular value
            of the unit gradients of it and those before it (1: orthogonal, 0: dependent).
        dependent: survivors passed over as functions of the kept ones (conserved, not new).
        search: the underlying :class:`~noether_lite.symbolic.discover.DiscoveryResult`.
        seconds: wall time, search included.
    """

    formulas: List[Formula]
    independence: List[float]
    dependent: List[Formula]
    search: DiscoveryResult = field(repr=False)
    seconds: float = 0.0

    @property
    def n_enumerated(self) -> int:
        return self.search.n_enumerated

    def summary(self) -> str:
        lines = [f"{len(self.formulas)} independent conserved quantities from {self.n_enumerated:,} formulas "
                 f"in {self.seconds:.1f} s ({len(self.dependent)} more survivors depend on them)"]
        lines += [f"  {i + 1}. {f}   score={f.score:.1e}   independence={v:.2f}"
                  for i, (f, v) in enumerate(zip(self.formulas, self.independence))]
        return "\n".join(lines)


def _unit_gradients(f: Formula, states: Tensor) -> Tensor:
    """``∇f / |∇f|`` at ``states`` ``(M, D)`` → ``(M, D)`` (zero where the gradient vanishes)."""
    x = states.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x).sum(), x)
    g = torch.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0)
    return g / g.norm(dim=-1, keepdim=True).clamp_min(1e-300)


def independence(formulas: List[Formula], states: Tensor) -> float:
    """Median over ``states`` of the smallest singular value of the formulas' unit gradients."""
    G = torch.stack([_unit_gradients(f, states) for f in formulas], 1)  # (M, k, D)
    return float(torch.linalg.svdvals(G)[:, -1].median())


def discover_several(
    trajectories,
    *,
    names=("q1", "q2", "p1", "p2"),
    max_depth: int = 3,
    operators=("+", "-", "*", "square"),
    units=None,
    max_score: float = 1e-6,
    rank_tol: float = 1e-3,
    n_states: int = 256,
    max_quantities: Optional[int] = None,
    seed: int = 0,
    **search,
) -> SeveralResult:
    """Functionally independent conserved quantities along ``trajectories`` (module docstring).

    Args:
        trajectories, names, max_depth, operators, units, seed, search: as for
            :func:`~noether_lite.symbolic.discover_conserved` (a polynomial grammar by default:
            with units pruning a depth-3 search over 4 variables takes seconds).
        max_score: a survivor is a candidate only if it is conserved this well (within over
            total variance; the filter alone keeps approximate invariants too).
        rank_tol: the smallest singular value (unit gradients) below which a candidate counts
            as a function of the kept ones.
        n_states: states drawn (seeded) from the trajectories for the gradients.
        max_quantities: stop after this many (default ``D − 1``, the most a flow can conserve).
    """
    t0 = time.perf_counter()
    arguments.check_real("max_score", max_score, low=0.0, high=1.0, high_open=False,
                         fix="pass how well a candidate must be conserved, such as max_score=1e-6")
    arguments.check_real("rank_tol", rank_tol, low=0.0, high=1.0,
                         fix="pass a small singular-value threshold such as rank_tol=1e-3")
    arguments.check_int("n_states", n_states, 2, "pass the number of states for the gradients, such as 256")
    arguments.check_optional_int("max_quantities", max_quantities, 1, "pass None (D - 1) or a positive number")
    res = discover_conserved(trajectories, names=names, max_depth=max_depth, operators=operators, units=units,
                             seed=seed, **search)
    x = arguments.prepare_trajectories(trajectories, len(res.library.names)).reshape(-1, len(res.library.names))
    pick = torch.from_numpy(np.random.default_rng(seed).choice(len(x), min(n_states, len(x)), replace=False))
    states = x[pick].double()
    limit = max_quantities if max_quantities is not None else max(1, x.shape[1] - 1)
    kept: List[Formula] = []
    scores: List[float] = []
    dependent: List[Formula] = []
    for f in res.formulas:
        if len(kept) >= limit:
            break
        if not f.score <= max_score:
            continue
        v = independence(kept + [f], states)
        if v > rank_tol:
            kept.append(f)
            scores.append(v)
        else:
            dependent.append(f)
    return SeveralResult(kept, scores, dependent, res, time.perf_counter() - t0)
