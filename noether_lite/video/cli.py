"""Argparse builders for ``noether-lite video`` and ``noether-lite bench video``.

The top-level CLI calls :func:`add_video_parser` on its subparsers and
:func:`add_bench_video_parser` on the ``bench`` subcommand's subparsers; each
sets ``func`` to a handler taking the parsed ``args``. ``python -m
noether_lite.video.cli {video,bench} ...`` runs them standalone.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

__all__ = ["add_video_parser", "add_bench_video_parser", "video_command", "bench_video_command", "main"]


def add_video_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("video", help="SVG vs Noether Network on ramp or controlled-pendulum videos")
    p.add_argument("--dataset", choices=("ramp", "pendulum"), default="ramp")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_const", const="quick", dest="mode", help="32×32, tiny model (CPU)")
    g.add_argument("--full", action="store_const", const="full", dest="mode", help="128×128, paper-size model (GPU)")
    g.add_argument("--mode", choices=("quick", "default", "full"), dest="mode")
    p.set_defaults(mode="quick")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--time-budget", type=float, default=None, help="wall-clock seconds for all training")
    p.add_argument("--cache-dir", default=None, help="where rendered clips are cached")
    p.add_argument("--ckpt-dir", default=None, help="checkpoint folder (an interrupted run resumes)")
    p.add_argument("--frames", metavar="PNG", default=None, help="save a frame strip (truth, SVG, Noether)")
    p.add_argument("--k-sweep", default=None, help="test-time steps to sweep, e.g. 0,1,2,5,10")
    p.set_defaults(func=video_command)
    return p


def add_bench_video_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("video", help="time a baseline step and a CNGrad meta-step")
    p.add_argument("--quick", action="store_true", help="tiny model at 32×32 (default: paper size at 128×128)")
    p.add_argument("--batch", default="2,8,32", help="comma-separated batch sizes")
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--device", default="auto")
    p.add_argument("--amp", choices=("auto", "bf16", "none"), default="auto")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--variants", default="exact,fast",
                   help="meta-step variants: exact (the default meta-gradient), fast (θ constant in the inner step)")
    p.add_argument("--no-guard", action="store_true", help="meta-step without the training guard")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--budget", type=float, default=20.0, help="seconds per timed configuration")
    p.set_defaults(func=bench_video_command)
    return p


def video_command(args) -> int:
    from .experiment import run_video

    k = [int(v) for v in args.k_sweep.split(",")] if args.k_sweep else None
    res = run_video(args.dataset, seed=args.seed, device=args.device, mode=args.mode, time_budget=args.time_budget,
                    cache_dir=args.cache_dir, ckpt_dir=args.ckpt_dir, k_sweep=k, return_models=bool(args.frames))
    extra = {k: res.pop(k) for k in ("frames", "models", "test") if k in res}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    if args.frames:
        try:
            from .viz import save_strip_png

            fr = extra["frames"]
            save_strip_png({"truth": fr["truth"], "SVG": fr["svg"], "Noether": fr["noether"]}, args.frames)
        except Exception as e:  # a missing matplotlib must not lose the metrics
            print(f"could not save the frame strip: {e}", file=sys.stderr)
    h = len(res["psnr"]["svg"])
    for m in ("psnr", "ssim"):
        print(f"{m.upper():5s} at horizon {h}: SVG {res[m]['svg'][-1]:.4f}  Noether {res[m]['noether'][-1]:.4f}")
    print(f"done in {res['seconds']:.1f} s")
    return 0


def bench_video_command(args) -> int:
    from .bench import bench_video

    batches = [int(b) for b in str(args.batch).split(",") if b]
    bench_video(quick=args.quick, batches=batches, device=args.device, amp=args.amp,
                channels_last=args.channels_last, variants=[v for v in args.variants.split(",") if v], guard=not args.no_guard,
                iters=args.iters, warmup=args.warmup, budget_per_config=args.budget, json_path=args.json)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m noether_lite.video.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    add_video_parser(sub)
    bench = sub.add_parser("bench", help="benchmarks")
    add_bench_video_parser(bench.add_subparsers(dest="what", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
