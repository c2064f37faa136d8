"""Fitting the constants of many formulas at once (Adam on the variance ratio, batched).
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor
from .enumerate import FormulaLibrary
from . import arguments
from .program import _compile, _objective, _robust_var, _run, _within_total

__all__ = ['fit_constants']


def _checked_fit_args(lib, ids, trajectories, steps, lr, lr_final, dtype, device):
    """The arguments of :func:`fit_constants`, checked: ``(ids as a list, trajectories, torch.device)``."""
    arguments.check_library(lib, FormulaLibrary)
    ids = arguments.check_ids(ids, len(lib))
    x = arguments.prepare_trajectories(trajectories, len(lib.names))
    arguments.check_int("steps", steps, 0, "pass a number of Adam iterations such as steps=500 (0: no fit)")
    arguments.check_real("lr", lr, low=0.0, fix="pass a positive learning rate such as lr=0.1")
    arguments.check_real("lr_final", lr_final, low=0.0, high=1.0, high_open=False,
                      fix="pass the final/initial learning-rate ratio, such as lr_final=1e-3")
    arguments.check_dtype(dtype)
    return ids, x, arguments.check_device(device)


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

    Raises:
        ValueError: any argument out of its range, checked before the fit (see :mod:`.arguments`).
    """
    ids, trajectories, device = _checked_fit_args(lib, ids, trajectories, steps, lr, lr_final, dtype, device)
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
