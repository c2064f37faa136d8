"""Benchmark of the symbolic constant fit: formulas per second, side by side with another commit.

Each workload is a set of enumerated formulas and the pendulum's training trajectories. This
checkout fits them by variable projection (``fit_constants_projected``) and by Adam
(``fit_constants``, the reference); with ``--compare REF`` the commit ``REF`` fits the same
formulas in a fresh process from a temporary worktree (its own code: whatever ``REF`` had). The
table reports formulas per second of each, the ratio, and whether they agree on the best formulas
(the three with the lowest objective) and their constants.

    python ci/bench_symbolic.py --compare HEAD~3 [--n 7000] [--threads 1] [--end-to-end] [--json PATH]
    python ci/bench_symbolic.py --search [--threads 2] [--json PATH]   # the full searches, timed

``--search`` times ``discover_conserved`` end to end: depth 3 over two variables with all seven
operators, without and with units pruning (pendulum and spring), and the 4-variable central-force
search for several conserved quantities.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# name: (system, depth, operators or None, max_states, formulas)
WORKLOADS = {
    "depth2-all": ("pendulum", 2, None, None, None),
    "depth3-4ops": ("pendulum", 3, ["+", "-", "*", "square"], 15, 7000),
    "depth3-all": ("pendulum", 3, None, 15, 5000),
}

# runs in a fresh process, in this checkout or in REF's worktree: fits a workload, prints JSON
_FIT = r"""
import json, sys, time
import numpy as np, torch
import noether_lite as nl
from noether_lite.symbolic import enumerate_formulas, fit_constants
system, depth, ops, max_states, n, method, threads = json.loads(sys.argv[1])
torch.set_num_threads(threads)
x = nl.make_dataset(system, seed=0)[0].x_clean
if max_states:
    x = x[:, torch.linspace(0, x.shape[1] - 1, max_states).round().long()]
lib = enumerate_formulas(max_depth=depth, operators=ops)
ids = list(range(len(lib)))
if n and n < len(ids):
    ids = sorted(np.random.default_rng(0).choice(len(ids), n, replace=False).tolist())
if method == "projection":
    from noether_lite.symbolic.project import fit_constants_projected as fit
else:
    fit = fit_constants
fit(lib, ids[:3], x)  # warm-up
t = time.perf_counter()
theta, starts, loss = fit(lib, ids, x)
seconds = time.perf_counter() - t
loss = torch.nan_to_num(loss.double(), nan=float("inf"))
top = torch.argsort(loss)[:3].tolist()
print(json.dumps(dict(seconds=seconds, n=len(ids), top=[dict(id=ids[k], template=lib.formula(ids[k]).template,
      loss=float(loss[k]), constants=theta[starts[k]:starts[k + 1]].double().tolist()) for k in top],
      loss=loss.tolist(), ids=ids)))
"""


# the whole search with discover_conserved's defaults (what a user runs), in a fresh process
_DISCOVER = r"""
import json, sys, time
import torch
import noether_lite as nl
from noether_lite.symbolic import discover_conserved
system, depth, ops, threads = json.loads(sys.argv[1])
x = nl.make_dataset(system, seed=0)[0].x_clean
t = time.perf_counter()
res = discover_conserved(x, max_depth=depth, operators=ops, threads=threads)
seconds = time.perf_counter() - t
print(json.dumps(dict(seconds=seconds, n=res.n_enumerated, best=str(res.best), survivors=res.n_survivors,
      top=[str(f) for f in res.formulas[:5]])))
"""


def end_to_end(ref: str, threads: int) -> dict:
    """``discover_conserved`` with its defaults, depth 3, four operators (6,833 formulas): both commits."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_ref_"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tmp / "ref"), ref], check=True,
                   capture_output=True)
    try:
        args = json.dumps(["pendulum", 3, ["+", "-", "*", "square"], threads])
        out = {}
        for name, where in (("ref", tmp / "ref"), ("new", ROOT)):
            env = dict(os.environ, PYTHONPATH=str(where), OMP_NUM_THREADS=str(threads))
            run = subprocess.run([sys.executable, "-c", _DISCOVER, args], cwd=where, env=env, capture_output=True,
                                 text=True)
            if run.returncode:
                raise SystemExit(f"the search failed in {where}:\n{run.stderr[-2000:]}")
            out[name] = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "ref")],
                       capture_output=True)
    r, n = out["ref"], out["new"]
    print(f"discover_conserved, depth 3, +,-,*,square, defaults: ref {r['seconds']:.1f} s ({r['n'] / r['seconds']:.1f}"
          f" formulas/s, best {r['best']})  new {n['seconds']:.1f} s ({n['n'] / n['seconds']:.1f} formulas/s, "
          f"best {n['best']})  x{r['seconds'] / n['seconds']:.1f}", flush=True)
    return dict(ref=r, new=n, speedup=r["seconds"] / n["seconds"], threads=threads)


def _fit(where: Path, args: list, threads: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(where), OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", _FIT, json.dumps(args)], cwd=where, env=env,
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the fit failed in {where}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agreement(args: list, old: dict, new: dict) -> dict:
    """Do the two fits agree on the best formulas? Judged in this checkout, as functions.

    ``same_best``: the best formulas of both are the same function up to ``a·f + b`` on the data
    (``|corr| >= 1 − 1e-6``), or this checkout's best has a lower objective than the reference's
    best has in the reference (it found a better one); ``ref_top_not_worse``: on the reference's
    three best formulas this checkout's objective is at most 0.05 higher.
    """
    import torch

    import noether_lite as nl
    from noether_lite.symbolic import enumerate_formulas

    system, depth, ops, max_states = args[:4]
    x = nl.make_dataset(system, seed=0)[0].x_clean
    if max_states:
        x = x[:, torch.linspace(0, x.shape[1] - 1, max_states).round().long()]
    lib = enumerate_formulas(max_depth=depth, operators=ops)
    fa, fb = old["top"][0], new["top"][0]
    va = lib.formula(fa["id"], fa["constants"])(x.reshape(-1, x.shape[-1])).double()
    vb = lib.formula(fb["id"], fb["constants"])(x.reshape(-1, x.shape[-1])).double()
    corr = float(torch.corrcoef(torch.stack([va, vb]))[0, 1].abs())
    return dict(best_corr=corr, same_best=bool(corr >= 1 - 1e-6 or fb["loss"] < fa["loss"]),
                best_loss_ref=fa["loss"], best_loss_new=fb["loss"])


def compare(ref: str, n: int, threads: int, workloads) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_ref_"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tmp / "ref"), ref], check=True,
                   capture_output=True)
    rows = []
    try:
        for name in workloads:
            system, depth, ops, max_states, count = WORKLOADS[name]
            count = min(n, count) if count is not None else None
            args = [system, depth, ops, max_states, count]
            old = _fit(tmp / "ref", args + ["adam", threads], threads)
            new = _fit(ROOT, args + ["projection", threads], threads)
            worse = sum(1 for x, y in zip(old["loss"], new["loss"]) if y > x + 0.05 and x < 1e300)
            agree = _agreement(args, old, new)
            ref_ids = [t["id"] for t in old["top"]]
            new_on_ref_top = [new["loss"][new["ids"].index(i)] for i in ref_ids]
            agree["ref_top_not_worse"] = all(b <= t["loss"] + 0.05 for b, t in zip(new_on_ref_top, old["top"]))
            rows.append(dict(workload=name, formulas=new["n"], ref_seconds=old["seconds"], new_seconds=new["seconds"],
                             ref_formulas_per_second=old["n"] / old["seconds"],
                             new_formulas_per_second=new["n"] / new["seconds"],
                             speedup=old["seconds"] / new["seconds"], **agree,
                             ref_best=old["top"], new_best=new["top"], new_worse_by_0_05=worse))
            r = rows[-1]
            print(f"{name:12s} {r['formulas']:6d} formulas  ref {r['ref_formulas_per_second']:8.1f}/s  "
                  f"new {r['new_formulas_per_second']:9.1f}/s  x{r['speedup']:7.1f}  same best: "
                  f"{'yes' if r['same_best'] else 'NO'} (objective {r['best_loss_ref']:.1f} | {r['best_loss_new']:.1f}; "
                  f"{old['top'][0]['template']} | {new['top'][0]['template']}); reference's top 3 not worse: "
                  f"{'yes' if r['ref_top_not_worse'] else 'NO'}; {worse} of {r['formulas']} formulas worse by > 0.05",
                  flush=True)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "ref")],
                       capture_output=True)
    return dict(ref=ref, head=_head(), threads=threads, rows=rows)


def _head() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()


def search(threads: int) -> dict:
    import torch

    import noether_lite as nl
    from noether_lite.symbolic import discover_conserved
    from noether_lite.symbolic.several import discover_several

    rows = []
    for system in ("pendulum", "spring"):
        x = nl.make_dataset(system, seed=0)[0].x_clean
        for units in (None, system):
            t = time.perf_counter()
            res = discover_conserved(x, max_depth=3, max_states=15, units=units, threads=threads)
            rows.append(dict(system=system, units=units is not None, seconds=time.perf_counter() - t,
                             formulas=res.n_enumerated, survivors=res.n_survivors, families=len(res.formulas),
                             counts=res.counts, best=[str(f) for f in res.formulas[:3]],
                             enumerate_seconds=res.enumerate_seconds, fit_seconds=res.fit_seconds))
            r = rows[-1]
            print(f"{system:9s} depth 3, all operators, units {'on ' if units else 'off'}: {r['formulas']:7,d} "
                  f"formulas in {r['seconds']:6.1f} s; best {r['best'][0]}", flush=True)
    from noether_lite.systems.expressions import system_from_formula

    nl.register_system(system_from_formula("(p1**2 + p2**2)/2 + (q1**2 + q2**2)/2", invariants=["q1*p2 - q2*p1"],
                                           name="central", radius=(0.5, 1.0)), overwrite=True)
    x = nl.make_dataset("central", seed=0, dtype=torch.float64)[0].x_clean
    t = time.perf_counter()
    sev = discover_several(x, max_depth=3, units="central", threads=threads)
    rows.append(dict(system="central", seconds=time.perf_counter() - t, found=[str(f) for f in sev.formulas],
                     dependent=[str(f) for f in sev.dependent[:5]], formulas=sev.n_enumerated,
                     operators=["+", "-", "*", "square"], units=True))
    print(f"central (4 variables), depth 3: {sev.n_enumerated:,} formulas in {rows[-1]['seconds']:.1f} s; "
          f"independent: {'; '.join(rows[-1]['found'])}", flush=True)
    return dict(head=_head(), threads=threads, torch_threads=torch.get_num_threads(), rows=rows)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", metavar="REF", help="a git revision whose fit (Adam) is the reference")
    ap.add_argument("--search", action="store_true", help="time the full depth-3 searches end to end")
    ap.add_argument("--end-to-end", action="store_true",
                    help="with --compare: also time discover_conserved with its defaults in both (depth 3, "
                         "four operators; minutes for the reference)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated from {list(WORKLOADS)}")
    ap.add_argument("--n", type=int, default=7000,
                    help="at most this many formulas (seeded draw) per workload: depth3-4ops has 6,833, "
                         "depth3-all draws 5,000 of 271,180")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    if not a.compare and not a.search:
        ap.error("pass --compare REF, --search, or both")
    names = [w.strip() for w in a.workloads.split(",") if w.strip()]
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown or not names:
        ap.error(f"--workloads: unknown {unknown}; choose from {list(WORKLOADS)}")
    if a.n < 1:
        ap.error(f"--n must be >= 1, got {a.n}")
    if a.threads < 1:
        ap.error(f"--threads must be >= 1, got {a.threads}")
    if a.json and not Path(a.json).resolve().parent.is_dir():
        ap.error(f"--json {a.json!r}: its folder does not exist")
    out = {}
    if a.end_to_end and not a.compare:
        ap.error("--end-to-end needs --compare REF")
    if a.compare:
        out["compare"] = compare(a.compare, a.n, a.threads, names)
        if a.end_to_end:
            out["end_to_end"] = end_to_end(a.compare, a.threads)
    if a.search:
        out["search"] = search(a.threads)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
