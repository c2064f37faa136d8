"""A batch of formulas as one tensor program, and the objective it is scored on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor
from .grammar import _OPS, _VAR
from .enumerate import FormulaLibrary

__all__ = []


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


class _Nodes:
    """Formulas expanded into nodes ``(op, left, right, slot)``; constant-free subtrees are shared.

    Node ids ``< D`` are the variables; a node comes after its children. Constant slots are
    numbered in pre-order (a node's own before its children's), as :class:`Formula` reads them;
    ``on_slot`` (if set) hears of every slot :meth:`expand` makes.
    """

    def __init__(self, lib: FormulaLibrary) -> None:
        self.lib, self.D = lib, len(lib.names)
        self.nodes: List[Tuple[int, int, int, int]] = []
        self.shared: Dict[int, int] = {}
        self.n_slots = 0
        self.on_slot = None

    def slot(self) -> int:
        self.n_slots += 1
        return self.n_slots - 1

    def new(self, o: int, lft: int, rgt: int, slot: int) -> int:
        self.nodes.append((o, lft, rgt, slot))
        return self.D + len(self.nodes) - 1

    def expand(self, e: int) -> int:
        """The node of library expression ``e`` (its subtree expanded as needed)."""
        lib = self.lib
        o = int(lib.op[e])
        if o == _VAR:
            return int(lib.left[e])
        if lib.nconst[e] == 0 and e in self.shared:
            return self.shared[e]
        spec = _OPS[o]
        c = -1
        if spec.has_const:
            c = self.slot()
            if self.on_slot is not None:
                self.on_slot(c)
        lft = self.expand(int(lib.left[e]))
        rgt = self.expand(int(lib.right[e])) if spec.arity == 2 else lft
        n = self.new(o, lft, rgt, c)
        if lib.nconst[e] == 0:
            self.shared[e] = n
        return n


def _compile(lib: FormulaLibrary, ids: Sequence[int]) -> _Program:
    """Expand each formula into its own tree (constant-free subtrees are shared)."""
    nb = _Nodes(lib)
    roots, starts = [], []
    for e in ids:
        starts.append(nb.n_slots)
        roots.append(nb.expand(int(e)))
    return _levels(nb.D, nb.nodes, roots, np.asarray(starts + [nb.n_slots]), nb.n_slots)


def _levels(D: int, nodes: Sequence[Tuple[int, int, int, int]], roots: Sequence[int], slot_start: np.ndarray,
            n_slots: int) -> _Program:
    """A program from nodes ``(op, left, right, slot)`` (ids ``>= D``; ``< D`` are the variables).

    Nodes are renumbered sorted by (level, op), so that each (level, op) group is contiguous.
    """
    node_op = [n[0] for n in nodes]
    lvl = np.zeros(len(nodes), dtype=np.int64)
    for k, (_, lft, rgt, _) in enumerate(nodes):  # children come before their parent
        lvl[k] = 1 + max(0 if lft < D else lvl[lft - D], 0 if rgt < D else lvl[rgt - D])
    ops = np.asarray(node_op, dtype=np.int64)
    order = np.lexsort((ops, lvl))
    new_id = np.empty(len(order) + D, dtype=np.int64)
    new_id[:D] = np.arange(D)
    new_id[D + order] = D + np.arange(len(order))
    L = np.asarray([n[1] for n in nodes], dtype=np.int64)
    R = np.asarray([n[2] for n in nodes], dtype=np.int64)
    C = np.asarray([n[3] for n in nodes], dtype=np.int64)
    C = np.where(C < 0, n_slots, C)  # slot n_slots holds a dummy 1 for ops without constant
    levels = []
    for l in range(1, int(lvl.max(initial=0)) + 1):
        members = order[lvl[order] == l]  # sorted by op
        o_m = ops[members]
        counts = np.bincount(o_m, minlength=1)
        codes = np.flatnonzero(counts)
        sizes = counts[codes]
        levels.append((codes.tolist(), sizes.tolist(), torch.from_numpy(new_id[L[members]]),
                       torch.from_numpy(new_id[R[members]]), torch.from_numpy(C[members])))
    return _Program(D, levels, torch.from_numpy(new_id[np.asarray(roots, dtype=np.int64)]),
                    np.asarray(slot_start), n_slots, torch.ones(n_slots, dtype=torch.float64))


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
