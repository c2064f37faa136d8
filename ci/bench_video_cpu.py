"""CPU benchmark of the video meta-step: time, peak memory and operator count per step.

Each configuration runs in a fresh process (so peak resident memory is its own):
one warm-up step (its peak RSS minus the RSS before it is the step's memory),
``--iters`` timed steps (median), then one step under an operator counter (every
aten operator that is not a view: on a GPU each is about one kernel launch).

    python ci/bench_video_cpu.py --size 64 --batch 2 --json noether_lite/video/results/bench_cpu.json

Configurations (``--configs``): ``baseline`` (SVG, no tailoring), ``exact`` (1 CNGrad
step, the exact meta-gradient: the training default), ``fast`` (the SVG weights are
constants of the inner step, so only the CN parameters, ``g_φ`` and ``λ_in`` see second-order
terms), each with the training guard; ``+noguard`` trains without it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {
    # name: (inner steps, theta second order, guard)
    "baseline": (0, True, True),
    "exact": (1, True, True),
    "fast": (1, False, True),
    "exact+noguard": (1, True, False),
    "fast+noguard": (1, False, False),
}


def _rss_gb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def one(name: str, size: int, batch: int, iters: int, amp: str, model: str) -> dict:
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    from noether_lite.video.svg import svg_config
    from noether_lite.video.train import train_step

    try:
        from noether_lite.video.learner import NoetherVideo
    except ImportError:  # a reference tree (--compare) from before the learner had its own module
        from noether_lite.video.svg import NoetherVideo

    steps, tso, guard = CONFIGS[name]
    torch.manual_seed(0)
    cfg = svg_config(model, size)
    learner = NoetherVideo(cfg)
    learner.theta_second_order = tso
    opt = torch.optim.Adam(learner.parameters(), lr=1e-4)
    T = 22
    clip = torch.rand(batch, T, 3, size, size)
    noise = (torch.randn(T - 2, batch, cfg.z_dim), torch.randn(T - 1, batch, cfg.z_dim))

    def step():
        return train_step(learner, opt, clip, steps=steps, noise=noise, amp=amp, guard=guard)

    rss0 = _rss_gb()
    step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB -> GB
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)

    class Count(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if not func.is_view and func.__name__.split(".")[0] not in ("empty", "empty_strided", "empty_like"):
                Count.n += 1
            return func(*args, **(kwargs or {}))

    with Count():
        step()
    return {"config": name, "batch": batch, "median_s": statistics.median(times), "times_s": times,
            "step_gb": peak - rss0, "gb_per_sample": (peak - rss0) / batch, "ops": Count.n}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--model", default="paper")
    p.add_argument("--iters", type=int, default=2)
    p.add_argument("--amp", default="none", choices=["none", "bf16"])
    p.add_argument("--configs", default="baseline,exact,fast,fast+noguard")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--json")
    p.add_argument("--one", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        import torch
        if a.threads:
            torch.set_num_threads(a.threads)
        print(json.dumps(one(a.one, a.size, a.batch, a.iters, a.amp, a.model)))
        return 0
    names = [c for c in a.configs.split(",") if c]
    bad = [c for c in names if c not in CONFIGS]
    if bad:
        p.error(f"unknown configs {bad}; known: {sorted(CONFIGS)}")
    rows = []
    for name in names:
        cmd = [sys.executable, __file__, "--one", name, "--size", str(a.size), "--batch", str(a.batch),
               "--iters", str(a.iters), "--amp", a.amp, "--model", a.model, "--threads", str(a.threads)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"{name:14s} {r['median_s']:7.2f} s/step  {r['gb_per_sample']:.2f} GB/sample  {r['ops']:7d} ops", flush=True)
    base = next((r for r in rows if r["config"] == "baseline"), None)
    if base:
        for r in rows:
            r["time_ratio"] = r["median_s"] / base["median_s"]
            r["memory_ratio"] = r["step_gb"] / base["step_gb"]
            r["ops_ratio"] = r["ops"] / base["ops"]
    import torch
    res = {"device": "cpu", "cpu": platform.processor() or platform.machine(), "threads": a.threads or torch.get_num_threads(),
           "torch": torch.__version__, "model": a.model, "image_size": a.size, "n_frames": 22, "amp": a.amp,
           "command": "python ci/bench_video_cpu.py " + " ".join(sys.argv[1:] if argv is None else argv), "rows": rows}
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
