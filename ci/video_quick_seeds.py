#!/usr/bin/env python
"""Quick-mode SVG vs Noether over several seeds (CPU), for the seed tables of chapters 6 and 7.

    python ci/video_quick_seeds.py --dataset ramp --seeds 0,1,2,3,4 --json noether_lite/video/results/quick_seeds_ramp.json

Each seed is one ``run_video(dataset, mode="quick", seed=S)`` (the chapter's own run is seed 0).
Writes per seed: mean PSNR/SSIM over the horizon for SVG, for the Noether Network untailored
(K = 0) and after one test-time step (K = 1), the test clips the guard reverted, and seconds.
The file is rewritten after every seed, so an interrupted run keeps what it finished, and
seeds already in the file are skipped when the command is run again.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=("ramp", "pendulum"), required=True)
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--json", required=True)
    a = p.parse_args(argv)
    import torch

    from noether_lite.experiments.video import run_video

    path = Path(a.json)
    out = json.loads(path.read_text()) if path.exists() else {}
    out.update({"dataset": a.dataset, "mode": "quick", "device": "cpu", "torch": torch.__version__,
                "threads": torch.get_num_threads(), "python": platform.python_version(),
                "command": f"python ci/video_quick_seeds.py --dataset {a.dataset} --seeds {a.seeds} --json {a.json}"})
    runs = {r["seed"]: r for r in out.get("runs", [])}
    for s in [int(x) for x in a.seeds.split(",") if x]:
        if s in runs:
            print(f"seed {s}: already in {path}, skipped")
            continue
        t0 = time.perf_counter()
        r = run_video(a.dataset, mode="quick", seed=s, device="cpu", progress=False, k_sweep=(0, 1))
        n = len(r["psnr"]["svg"])
        runs[s] = {"seed": s,
                   "psnr": {"svg": sum(r["psnr"]["svg"]) / n, "noether_k0": r["k_sweep"]["0"]["psnr"],
                            "noether": sum(r["psnr"]["noether"]) / n},
                   "ssim": {"svg": sum(r["ssim"]["svg"]) / n, "noether_k0": r["k_sweep"]["0"]["ssim"],
                            "noether": sum(r["ssim"]["noether"]) / n},
                   "reverted": r["reverted"]["test"], "of": r["reverted"]["of"],
                   "seconds": time.perf_counter() - t0}
        out["runs"] = [runs[k] for k in sorted(runs)]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(out, indent=1))
        os.replace(tmp, path)
        q = runs[s]
        print(f"seed {s}: PSNR svg {q['psnr']['svg']:.2f}  noether K=0 {q['psnr']['noether_k0']:.2f}  "
              f"K=1 {q['psnr']['noether']:.2f}  ({q['seconds']:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
