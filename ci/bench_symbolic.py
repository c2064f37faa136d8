"""Benchmark: batched constant fit (one tensor program) vs a per-formula Python loop.

Same formulas, same Adam iterations, same machine; prints formulas/s of both and the
speed ratio. Usage:

    python ci/bench_symbolic.py [--n 200] [--steps 100] [--threads 1] [--device cpu] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import time

import torch

import noether_lite as nl
from noether_lite.symbolic import enumerate_formulas, fit_constants


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="formulas to fit (the first n with constants)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    train, _ = nl.make_dataset("pendulum", seed=0)
    x = train.x_clean
    lib = enumerate_formulas(max_depth=a.depth)
    ids = [i for i in range(len(lib)) if lib.nconst[i] > 0][: a.n]
    fit_constants(lib, ids[:5], x, steps=2, device=a.device)  # warm-up (imports, allocator)

    def sync():
        if str(a.device).startswith("cuda"):
            torch.cuda.synchronize()

    sync()
    t = time.perf_counter()
    theta_b, starts, _ = fit_constants(lib, ids, x, steps=a.steps, device=a.device)
    sync()
    t_batched = time.perf_counter() - t
    t = time.perf_counter()
    loop = [fit_constants(lib, [i], x, steps=a.steps, device=a.device)[0] for i in ids]
    sync()
    t_loop = time.perf_counter() - t
    max_diff = max(float((theta_b[starts[k]:starts[k + 1]].cpu() - th.cpu()).abs().max()) for k, th in enumerate(loop))
    out = dict(
        n_formulas=len(ids), steps=a.steps, depth=a.depth, threads=a.threads, device=a.device,
        batched_seconds=t_batched, loop_seconds=t_loop, speedup=t_loop / t_batched,
        batched_formulas_per_second=len(ids) / t_batched, loop_formulas_per_second=len(ids) / t_loop,
        max_constant_difference=max_diff,
    )
    print(json.dumps(out, indent=1))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    main()
