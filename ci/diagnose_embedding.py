#!/usr/bin/env python
"""Why does the meta-learned g_φ not learn the energy? Measurements and changes, one script.

For each system, from one pretrained MLP (the same for every row), this measures

* the scale problem: the inner learning rate chosen for the oracle ``g = H`` and for ``4 H``
  (the Noether loss is quadratic in ``g``, so the useful rate moves by 16);
* the meta-gradient that reaches ``φ`` against the one that reaches ``θ`` at the first
  meta-step (norm per parameter, so wide and narrow nets compare);
* for each variant of the learned embedding: whether meta-training was kept (it lowered the
  training score), ``|corr(g_φ, H)|`` of its best output and the R of the best affine fit of
  ``H`` from all outputs, on random states, and the test RMSE against the control (the same
  extra training with tailoring off).

Variants: the library's default (an MLP), ``scale-free`` (divided by its spread over the
training states), ``separable`` (``a(q) + b(p)``), ``longer`` (more meta-steps and a larger
embedding learning rate), and ``separable + scale-free``.

    python ci/diagnose_embedding.py --json noether_lite/experiments/results/embedding_diagnosis.json
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import noether_lite as nl  # noqa: E402
from noether_lite.core.conservation import OracleEmbedding  # noqa: E402
from noether_lite.core.network import NoetherNetwork  # noqa: E402
from noether_lite.core.outputs import check_output_file, write_json  # noqa: E402
from noether_lite.core.tailor import TailorConfig  # noqa: E402
from noether_lite.experiments.physics import (  # noqa: E402
    PhysicsConfig, evaluate, learned_embedding, pretrain, select_inner_lr,
)
from noether_lite.experiments.protocol import build_tailored  # noqa: E402
from noether_lite.models import MLP  # noqa: E402
from noether_lite.viz import embedding_correlation  # noqa: E402


class Scaled(torch.nn.Module):
    def __init__(self, g, c):
        super().__init__()
        self.g, self.c = g, c

    def forward(self, x):
        return self.c * self.g(x)


def grad_norms(vanilla, emb, train, cfg, lr):
    """Per-parameter RMS of the meta-gradient reaching θ (the MLP) and φ (the embedding)."""
    net = NoetherNetwork(copy.deepcopy(vanilla), copy.deepcopy(emb), dt=train.dt, integrator=cfg.integrator,
                         loss_form=cfg.loss_form, tailor=TailorConfig(steps=1, inner_lr=lr, mode=cfg.tailor_mode))
    x = train.x[: cfg.meta_batch]
    traj, res = net.predict(x[:, 0], x.shape[1] - 1)
    loss = ((net.tailored_field(x, res) - train.dxdt[: cfg.meta_batch]) ** 2).mean()
    th, ph = list(net.model.parameters()), [p for p in net.embedding.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, th + ph, allow_unused=True)

    def rms(gs):
        flat = torch.cat([g.reshape(-1) for g in gs if g is not None])
        return float(flat.pow(2).mean().sqrt())

    return {"theta": rms(grads[: len(th)]), "phi": rms(grads[len(th):])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", default="pendulum,spring")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pretrain-steps", type=int, default=2000)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    out = check_output_file(args.json, "--json") if args.json else None
    result = {"command": "python ci/diagnose_embedding.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "seed": args.seed, "systems": {}}
    for name in args.systems.split(","):
        t0 = time.perf_counter()
        cfg = PhysicsConfig.for_mode(name, quick=False, seed=args.seed, pretrain_steps=args.pretrain_steps)
        nl.experiments.physics.seed_everything(cfg.seed)
        train, test = nl.make_dataset(name, seed=cfg.seed)
        torch.manual_seed(cfg.seed)
        vanilla = MLP(hidden=cfg.hidden, cn=True)
        pretrain(vanilla, train, steps=cfg.pretrain_steps, lr=cfg.pretrain_lr, batch_size=cfg.pretrain_batch,
                 seed=cfg.seed, progress=False)
        sys_ = nl.get_system(name)
        row = {"config": {"pretrain_steps": cfg.pretrain_steps, "meta_steps": cfg.meta_steps,
                          "embedding_dim": cfg.embedding_dim, "meta_lr": cfg.meta_lr,
                          "embedding_lr": cfg.embedding_lr}}
        probe = lambda g: NoetherNetwork(copy.deepcopy(vanilla), g, dt=train.dt, integrator=cfg.integrator,  # noqa
                                         loss_form=cfg.loss_form, tailor=TailorConfig(steps=1, inner_lr=1e-5))
        lr1, _ = select_inner_lr(probe(OracleEmbedding(sys_)), train, grid=cfg.lr_grid)
        lr4, _ = select_inner_lr(probe(Scaled(OracleEmbedding(sys_), 4.0)), train, grid=cfg.lr_grid)
        row["scale"] = {"lr_for_H": lr1, "lr_for_4H": lr4}
        control = build_tailored(vanilla, OracleEmbedding(sys_), train, cfg, tailor=False, progress=False)
        row["control_rmse"] = evaluate(control.net.model, test, system=sys_)["rmse"]
        row["variants"] = {}
        forms = {"default": {}, "scale-free": dict(embedding="mlp+scale-free"), "separable": dict(embedding="separable"),
                 "longer": dict(meta_steps=1000, embedding_lr=1e-2),
                 "separable + scale-free": dict(embedding="separable+scale-free")}
        for variant, changes in forms.items():
            vcfg = PhysicsConfig.for_mode(name, quick=False, seed=args.seed, pretrain_steps=args.pretrain_steps,
                                          **changes)
            emb = learned_embedding(vcfg, sys_, train)  # the library's g_phi for that form
            before = embedding_correlation(emb, sys_)
            t1 = time.perf_counter()
            norms = grad_norms(vanilla, emb, train, vcfg, 1e-2)
            run = build_tailored(vanilla, emb, train, vcfg, learn=True, progress=False)
            after = embedding_correlation(emb, sys_)  # the meta-trained embedding, kept or not
            rmse = evaluate(run.net, test, system=sys_)["rmse"]
            row["variants"][variant] = {
                "meta_trained": run.meta_trained, "inner_lr": run.inner_lr,
                "corr_before": max(before["per_dim"]), "corr_after": max(after["per_dim"]),
                "linear_before": before["linear"], "linear_after": after["linear"],
                "rmse": rmse, "rmse_over_control": rmse / row["control_rmse"], "grad_rms": norms,
                "meta_steps": vcfg.meta_steps, "seconds": round(time.perf_counter() - t1, 1)}
            v = row["variants"][variant]
            print(f"{name:9s} {variant:24s} kept {str(v['meta_trained']):5s} |corr| {v['corr_before']:.2f} -> "
                  f"{v['corr_after']:.2f}, R {v['linear_before']:.2f} -> {v['linear_after']:.2f}, RMSE / control "
                  f"{v['rmse_over_control']:.3f}, grad rms θ {norms['theta']:.1e} φ {norms['phi']:.1e} "
                  f"({v['seconds']:.0f} s)", flush=True)
        row["seconds"] = round(time.perf_counter() - t0, 1)
        result["systems"][name] = row
        print(f"{name}: λ_in for H {lr1:g}, for 4H {lr4:g}; control RMSE {row['control_rmse']:.4f}", flush=True)
        if out is not None:
            write_json(out, result, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
