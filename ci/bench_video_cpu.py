"""CPU benchmark of the video meta-step: time, peak memory and operator count per step.

Each configuration runs in a fresh process (so peak resident memory is its own):
one warm-up step (its peak RSS minus the RSS before it is the step's memory),
``--iters`` timed steps (median), then one step under an operator counter (every
aten operator that is not a view: on a GPU each is about one kernel launch).

    python ci/bench_video_cpu.py --size 64 --batch 2 --json noether_lite/video/results/bench_cpu.json
    python ci/bench_video_cpu.py --compare HEAD~3    # that commit's code beside this tree's, one run

``--compare REF`` checks ``REF`` out into a temporary git worktree and measures each configuration
there and here, alternately (so both see the same load on a shared machine), with this script's
measuring code in both; the result is ``{"before": REF's run, "after": this tree's}``, the format
:func:`noether_lite.viz.video.bench_table` reads. Every run reports its exact meta-step against
the CPU targets of :data:`noether_lite.experiments.meter.TARGETS` (operators per step, memory per
clip) and the meta/baseline time ratio.

Configurations (``--configs``): ``baseline`` (SVG, no tailoring), ``exact`` (1 CNGrad
step, the exact meta-gradient: the training default), ``fast`` (the SVG weights are
constants of the inner step, so only the CN parameters, ``g_φ`` and ``λ_in`` see second-order
terms), each with the training guard; ``+noguard`` trains without it.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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


def _meter():
    """This tree's counter and targets, loaded by path: the same code measures a --compare tree."""
    path = ROOT / "noether_lite" / "experiments" / "meter.py"
    spec = importlib.util.spec_from_file_location("_meter", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def one(name: str, size: int, batch: int, iters: int, amp: str, model: str) -> dict:
    import torch

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

    import noether_lite

    return {"config": name, "batch": batch, "median_s": statistics.median(times), "times_s": times,
            "step_gb": peak - rss0, "gb_per_sample": (peak - rss0) / batch, "ops": _meter().count_ops(step),
            "tree": str(Path(noether_lite.__file__).resolve().parents[1])}


def _git(*args) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _summarise(rows, a, argv, threads) -> dict:
    """Ratios against the run's own baseline, and the exact meta-step against the CPU targets."""
    base = next((r for r in rows if r["config"] == "baseline"), None)
    if base:
        for r in rows:
            r["time_ratio"] = r["median_s"] / base["median_s"]
            r["memory_ratio"] = r["step_gb"] / base["step_gb"] if base["step_gb"] > 0 else float("nan")
            r["ops_ratio"] = r["ops"] / base["ops"]
    exact = next((r for r in rows if r["config"] == "exact"), None)
    values = {} if exact is None else {"ops": exact["ops"], "cpu_gb_per_sample": exact["gb_per_sample"],
                                       **({"ratio": exact["time_ratio"]} if base else {})}
    import torch
    return {"device": "cpu", "cpu": platform.processor() or platform.machine(), "threads": threads,
            "torch": torch.__version__, "model": a.model, "image_size": a.size, "n_frames": 22, "amp": a.amp,
            "command": "python ci/bench_video_cpu.py " + " ".join(argv), "rows": rows,
            "targets": _meter().target_report(values, "cpu")}


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
    p.add_argument("--compare", metavar="REF",
                   help="also measure the code of this git revision (e.g. HEAD~1), from a temporary worktree")
    p.add_argument("--one", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
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
    if a.json and not Path(a.json).resolve().parent.is_dir():
        p.error(f"--json {a.json}: folder {Path(a.json).resolve().parent} does not exist")
    ref = None
    if a.compare is not None:
        try:
            ref = _git("rev-parse", "--verify", "--quiet", f"{a.compare}^{{commit}}")
        except subprocess.CalledProcessError:
            p.error(f"--compare {a.compare!r}: not a commit of {ROOT}")
    import torch
    threads = a.threads or torch.get_num_threads()
    tmp = Path(tempfile.mkdtemp(prefix="bench_ref_")) if ref else None
    trees = {"after": ROOT}
    try:
        if tmp is not None:
            _git("worktree", "add", "--detach", str(tmp / "tree"), ref)
            trees = {"before": tmp / "tree", "after": ROOT}
        rows = {k: [] for k in trees}
        for name in names:
            for label, tree in trees.items():  # alternately, so both trees see the same load
                cmd = [sys.executable, __file__, "--one", name, "--size", str(a.size), "--batch",
                       str(a.batch), "--iters", str(a.iters), "--amp", a.amp, "--model", a.model,
                       "--threads", str(a.threads)]
                env = {**os.environ, "PYTHONPATH": str(tree)}
                out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=str(tree),
                                     env=env).stdout
                r = json.loads(out.strip().splitlines()[-1])
                if Path(r["tree"]).resolve() != Path(tree).resolve():
                    raise RuntimeError(f"measured the code of {r['tree']}, not {tree}: "
                                       "an installed copy shadows it")
                rows[label].append(r)
                tag = f"{label:6s} " if ref else ""
                print(f"{tag}{name:14s} {r['median_s']:7.2f} s/step  {r['gb_per_sample']:.2f} GB/sample  "
                      f"{r['ops']:7d} ops", flush=True)
    finally:
        if tmp is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "tree")],
                           capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)
    runs = {k: _summarise(v, a, argv, threads) for k, v in rows.items()}
    if ref:
        runs["before"]["note"] = f"commit {ref[:7]} ({a.compare}), measured in a temporary worktree"
        runs["after"]["note"] = f"this tree ({_git('rev-parse', '--short', 'HEAD')} and its changes)"
    for label, run in runs.items():
        for t in run["targets"]:
            print(f"{label + ' ' if ref else ''}target {t['target']:18s} {t['value']:10.4g} ({t['kind']} "
                  f"{t['limit']:g}): {t['ratio']:.2f}x the limit, {'met' if t['met'] else 'NOT met'}")
    res = runs if ref else runs["after"]
    if ref:
        res["command"] = "python ci/bench_video_cpu.py " + " ".join(argv)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
