"""Benchmark: batched all-weights tailoring (vmap) vs a per-example Python loop.

Same model, same examples, same inner step; reports the median wall time of
each and their ratio. A benchmark, not a test: nothing here asserts a speed.

    python ci/bench_tailor.py --batch 64 512 --repeats 3 --json artifacts/bench_tailor.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch.func import functional_call

import noether_lite as nl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 512])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--horizon", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    model = nl.MLP(hidden=args.hidden)
    g = nl.OracleEmbedding("pendulum")
    params = {k: v.detach() for k, v in model.named_parameters()}

    def roll(p, x):
        return nl.integrate(lambda s: functional_call(model, p, (s,)), x, n_steps=args.horizon, dt=0.05, method="rk4")

    def inner(p, x):
        return nl.noether_loss(g, roll(p, x))

    def batched(x0):
        res = nl.tailor_weights(inner, params, x0, steps=1, inner_lr=1e-5, guard=False)
        return nl.per_example(roll, res.params, x0)

    def looped(x0):
        outs = []
        for x in x0:  # the naive baseline: one example at a time
            p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
            loss = inner(p, x)
            grads = torch.autograd.grad(loss, list(p.values()))
            p2 = {k: v - 1e-5 * gr for (k, v), gr in zip(p.items(), grads)}
            outs.append(roll(p2, x))
        return torch.stack(outs)

    rows = []
    for B in args.batch:
        x0 = torch.randn(B, 2)
        assert torch.allclose(batched(x0[:4]), looped(x0[:4]), atol=1e-5)  # same answer
        times = {}
        for name, fn in (("batched", batched), ("loop", looped)):
            fn(x0[:2])  # warm-up
            ts = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                fn(x0)
                ts.append(time.perf_counter() - t0)
            times[name] = statistics.median(ts)
        row = {"batch": B, "batched_s": times["batched"], "loop_s": times["loop"], "speedup": times["loop"] / times["batched"]}
        rows.append(row)
        print(f"batch {B:>4}: batched {row['batched_s']:.3f} s, loop {row['loop_s']:.3f} s, speed-up {row['speedup']:.1f}x")
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "horizon": args.horizon, "hidden": args.hidden, "rows": rows}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
