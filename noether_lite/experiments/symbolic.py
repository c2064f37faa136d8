"""The paper's symbolic pipeline on one system: discover formulas, then tailor with the best."""
from __future__ import annotations

import time
import warnings
from typing import Any, Dict, Optional, Sequence

import torch
from ..core.checkpoints import auto_device, default_ckpt_dir
from ..core.conservation import OracleEmbedding
from ..core.outputs import check_output_folder
from ..core.train import seed_everything
from ..models.mlp import MLP
from ..symbolic.discover import discover_conserved, energy_correlation
from ..symbolic.units import SYSTEM_UNITS, resolve_units
from ..systems.data import make_dataset
from ..systems.hamiltonians import get_system
from .physics import PhysicsConfig, evaluate, pretrain
from .protocol import build_tailored

__all__ = ["run_symbolic"]


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
    ckpt_dir=None,
    operators: Optional[Sequence[str]] = None,
    units=None,
) -> Dict[str, Any]:
    """The paper's symbolic pipeline on one system (section 3a).

    1. :func:`discover_conserved` on the training trajectories (true states by
       default, ``noisy=True`` for the observed ones), depth 2 (quick) or 3 (full), over
       ``operators`` (default: all of :data:`~noether_lite.symbolic.grammar.OPERATORS`);
       ``units=True`` prunes by the system's physical units
       (:data:`~noether_lite.symbolic.units.SYSTEM_UNITS`), or pass a
       :class:`~noether_lite.symbolic.units.Units`.
    2. The top ``top_k`` survivors (quick 3, full 20) are each tried as a one-step
       tailoring loss of the pretrained MLP over the ``λ_in`` grid (quick: every
       other point of ``10^k, k ∈ {−3, −2.5, …, 1}``), scored on TRAINING data.
    3. The best ``meta_k`` (quick 1, full 5) go through the whole protocol of
       :func:`~noether_lite.experiments.protocol.build_tailored` (meta-train, keep it
       if it helped on training data); the one best on TRAINING data is reported
       with its test RMSE, next to the vanilla MLP and the oracle (the true energy
       through the same protocol).

    The MLP, the grid and meta-training follow :class:`~noether_lite.experiments.physics.PhysicsConfig`
    for ``quick``; ``physics`` overrides its fields (e.g. ``{"pretrain_steps": 500}``).

    Returns:
        ``{"system", "mode", "seed", "best_formula", "best_corr", "tailored_formula",
        "enumerated", "survivors", "families", "units", "diverged", "counts", "top", "rmse": {"vanilla",
        "noether_symbolic", "noether_oracle"}, "inner_lr", "meta_trained", "formulas_per_second",
        "search_seconds", "seconds"}`` (JSON-ready).
    """
    if threads is not None:  # small tensors: one CPU thread is fastest on a shared machine
        old = torch.get_num_threads()
        torch.set_num_threads(int(threads))
        try:
            return run_symbolic(system, max_depth=max_depth, quick=quick, seed=seed, progress=progress, top_k=top_k,
                                meta_k=meta_k, noisy=noisy, tailor=tailor, physics=physics, device=device, threads=None,
                                ckpt_dir=ckpt_dir, operators=operators, units=units)
        finally:
            torch.set_num_threads(old)
    t0 = time.perf_counter()
    sys_ = get_system(system)
    if sys_.dof != 1:
        raise ValueError(f"the symbolic search's grammar is over one q and one p; system {sys_.name!r} has "
                         f"{sys_.dof} degrees of freedom (use physics or study for it)")
    folder = check_output_folder(default_ckpt_dir(ckpt_dir), "ckpt_dir")

    def ck(stage: str):
        return None if folder is None else folder / f"symbolic_{sys_.name}_{'quick' if quick else 'full'}_seed{seed}_{stage}.pt"

    depth = int(max_depth) if max_depth is not None else (2 if quick else 3)
    top_k = top_k if top_k is not None else (3 if quick else 20)
    meta_k = meta_k if meta_k is not None else (1 if quick else 5)
    if units is True:
        if sys_.name not in SYSTEM_UNITS:
            raise ValueError(f"units=True: no units are known for system {sys_.name!r} (known: "
                             f"{', '.join(sorted(SYSTEM_UNITS))}); pass units=Units(variables=..., parameters=...)")
        units = SYSTEM_UNITS[sys_.name]
    units = resolve_units(units or None)
    train, test = make_dataset(sys_, seed=seed)
    res = discover_conserved(train.x if noisy else train.x_clean, max_depth=depth, seed=seed, progress=progress,
                             max_states=None if quick or depth < 3 else 15, operators=operators,
                             units=units)
    out: Dict[str, Any] = {
        "system": sys_.name, "mode": "quick" if quick else "full", "seed": seed, "max_depth": depth,
        "best_formula": str(res.best) if res.formulas else None,
        "best_corr": energy_correlation(res.best, sys_) if res.formulas else None,
        "enumerated": res.n_enumerated, "survivors": res.n_survivors, "families": len(res.formulas),
        "diverged": res.n_diverged, "units": units is not None,
        "counts": res.counts, "formulas_per_second": res.formulas_per_second, "search_seconds": res.seconds,
        "top": [dict(formula=str(f), score=f.score, ratio=f.ratio) for f in res.formulas[:10]],
        "rmse": {}, "warnings": [],
    }
    if progress:
        print(res.summary())
    if tailor and res.formulas:
        dev = auto_device(device)
        cfg = PhysicsConfig.for_mode(sys_.name, quick=quick, seed=seed, **(physics or {}))
        if cfg.pretrain_steps == 0:
            out["warnings"].append("pretrain_steps=0: the MLP was never trained; every RMSE is an untrained model's")
            warnings.warn(out["warnings"][-1], RuntimeWarning, stacklevel=2)
        grid = cfg.lr_grid[::2] if quick else cfg.lr_grid
        seed_everything(seed)
        tr, te = train.to(dev), test.to(dev)
        torch.manual_seed(seed)
        vanilla = MLP(hidden=cfg.hidden, cn=cfg.tailor_mode == "cn").to(dev)
        pretrain(vanilla, tr, steps=cfg.pretrain_steps, lr=cfg.pretrain_lr, batch_size=cfg.pretrain_batch,
                 seed=seed, progress=progress, desc=f"{sys_.name}: vanilla MLP", checkpoint=ck("vanilla"))
        out["rmse"]["vanilla"] = evaluate(vanilla, te, system=sys_)["rmse"]
        def tailored(emb, meta_steps, name, stage=None):
            return build_tailored(vanilla, emb, tr, cfg, grid=grid, meta_steps=meta_steps, progress=progress and meta_steps > 0,
                                  desc=name, checkpoint=ck(stage) if stage else None)

        # λ_in grid only (no meta-training) for every candidate, scored on training data
        screened = sorted(((tailored(f.as_embedding(), 0, str(f)).train_score, i, f)
                           for i, f in enumerate(res.formulas[:top_k])), key=lambda t: t[:2])
        finals = []
        for _, i, f in screened[:meta_k]:  # then the full protocol for the best few
            finals.append((tailored(f.as_embedding(), cfg.meta_steps, f"symbolic: {f}", f"formula{i}"), i, f))
        best, _, best_f = min(finals, key=lambda t: (t[0].train_score, t[1]))
        oracle = tailored(OracleEmbedding(sys_), cfg.meta_steps, "oracle", "oracle")
        out["tailored_formula"] = str(best_f)
        out["inner_lr"], out["meta_trained"] = {}, {}
        for name, run in (("noether_symbolic", best), ("noether_oracle", oracle)):
            out["rmse"][name] = evaluate(run.net, te, system=sys_)["rmse"]
            out["inner_lr"][name] = [float(v) for v in torch.as_tensor(run.net.inner_lr()).detach().reshape(-1)]
            out["meta_trained"][name] = run.meta_trained
    out["seconds"] = time.perf_counter() - t0
    return out
