#!/usr/bin/env python
"""How far a quick video run moves when only the machine's arithmetic changes.

Runs ``run_video(dataset, mode="quick", seed=0)`` once per setting below, each in a fresh
process (the kernel choices are fixed when torch starts), and writes the mean PSNR gap
(Noether - SVG) of each. The chapters' checked cells compare their gap with the pinned run's
within a tolerance of three standard deviations of these gaps.

Settings: the book's pinned arithmetic (``noether_lite.numerics``: 2 threads, no oneDNN,
``MKL_CBWR=AVX2``, ``ATEN_CPU_CAPABILITY=avx2``) under a different outer environment, then the pins taken away one at a
time, then none of them (what a reader's machine did before the pins), at 1 and 2 threads and
with oneDNN limited to AVX2.

Usage::

    python ci/video_spread.py --dataset ramp --json noether_lite/video/results/quick_reference_ramp.json
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> (environment, pin the arithmetic in-process, threads)
SETTINGS = {
    "pinned": ({}, True, 2),
    "pinned, outer env OMP_NUM_THREADS=1, ATen and oneDNN at other levels":
        ({"OMP_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"}, True, 2),
    "pinned but 1 thread": ({}, True, 1),
    "pinned but MKL at this CPU's own level": ({"MKL_CBWR": "AUTO"}, True, 2),
    "unpinned, 2 threads": ({"MKL_CBWR": "", "ATEN_CPU_CAPABILITY": ""}, False, 2),
    "unpinned, 1 thread": ({"MKL_CBWR": "", "ATEN_CPU_CAPABILITY": ""}, False, 1),
    "unpinned, 1 thread, oneDNN at AVX2": ({"MKL_CBWR": "", "ATEN_CPU_CAPABILITY": "", "ONEDNN_MAX_CPU_ISA": "AVX2"},
                                           False, 1),
}

CHILD = r"""
import json, os, sys
PINNED_ENV = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}  # noether_lite.numerics (not imported yet)
for k, v in PINNED_ENV.items():
    if os.environ.get(k) == "":
        del os.environ[k]
    elif os.environ.get("SPREAD_PIN") == "1":
        os.environ.setdefault(k, v)
import torch
if os.environ["SPREAD_PIN"] == "1":
    from noether_lite.numerics import reproducible_cpu
    reproducible_cpu(int(os.environ["SPREAD_THREADS"]))  # warns if a pin was taken away
else:
    torch.set_num_threads(int(os.environ["SPREAD_THREADS"]))
from noether_lite.numerics import PINNED_ENV as PACKAGE_PINS, cpu_numerics
assert PINNED_ENV == PACKAGE_PINS, (PINNED_ENV, PACKAGE_PINS)  # the copy above, before torch loaded
from noether_lite.experiments.video import run_video
r = run_video(sys.argv[1], seed=0, device="cpu", mode="quick", progress=False, cache_dir=False)
s, n = r["psnr"]["svg"], r["psnr"]["noether"]
print(json.dumps({"svg": sum(s) / len(s), "noether": sum(n) / len(n),
                  "gap": sum(b - a for a, b in zip(s, n)) / len(s),
                  "ahead": sum(b > a for a, b in zip(s, n)), "horizons": len(s),
                  "numerics": cpu_numerics(), "seconds": r["seconds"]}))
"""


def run(dataset: str, name: str) -> dict:
    env_extra, pin, threads = SETTINGS[name]
    env = {**os.environ, **env_extra, "SPREAD_PIN": "1" if pin else "0", "SPREAD_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", CHILD, dataset], env=env, capture_output=True, text=True,
                         check=True)
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    rec["setting"] = name
    rec["env"] = env_extra
    print(f"{dataset:8s} {name:70s} gap {rec['gap']:+.3f} dB, ahead {rec['ahead']}/{rec['horizons']}",
          flush=True)
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=("ramp", "pendulum"), required=True)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args(argv)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    runs = [run(args.dataset, name) for name in SETTINGS]
    gaps = [r["gap"] for r in runs]
    mean = sum(gaps) / len(gaps)
    sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1))
    out = {
        "dataset": args.dataset, "mode": "quick", "seed": 0,
        "reference_gap": round(runs[0]["gap"], 2),
        "tolerance": round(3 * sd, 2),
        "spread_sd": round(sd, 3),
        "runs": runs,
        "command": f"python ci/video_spread.py --dataset {args.dataset} --json <file>",
        "seconds": round(time.perf_counter() - t0, 1),
    }
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(args.json)
    print(f"reference gap {out['reference_gap']:+.2f} dB, tolerance ±{out['tolerance']:.2f} dB "
          f"(3 s.d. over {len(runs)} settings); wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
