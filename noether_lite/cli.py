"""noether-lite: a thin command line over the experiment functions.

Subcommands: ``pendulum`` (physical systems), and, when their modules are
present, ``symbolic``, ``video``, ``bench`` and ``lab``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

__all__ = ["main", "build_parser", "check_json_path", "write_json"]


def check_json_path(path: Optional[str]) -> Optional[Path]:
    """Fail early (before any work) when ``--json`` points into a missing folder."""
    if path is None:
        return None
    p = Path(path)
    if p.exists() and p.is_dir():
        raise SystemExit(f"error: --json {path!r} is a folder; give a file path such as {path}/results.json")
    if not p.parent.exists():
        raise SystemExit(f"error: --json folder {str(p.parent)!r} does not exist; create it first")
    return p


def write_json(path: Optional[Path], result: dict) -> None:
    """Write ``result`` atomically (temp file + rename): nothing half-written."""
    if path is None:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


def _add_mode(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="quick", action="store_true", default=True, help="CPU-sized run (default)")
    g.add_argument("--full", dest="quick", action="store_false", help="paper-scale run")


def _pendulum(args: argparse.Namespace) -> int:
    from .physics import METHODS, PhysicsConfig, run_physics

    out = check_json_path(args.json)
    overrides = {k: getattr(args, k) for k in ("pretrain_steps", "meta_steps", "hidden") if getattr(args, k) is not None}
    for k, v in overrides.items():
        if v < (1 if k == "hidden" else 0):
            raise SystemExit(f"error: --{k.replace('_', '-')} must be >= {1 if k == 'hidden' else 0}, got {v}")
    cfg = PhysicsConfig.for_mode(args.system, quick=args.quick, seed=args.seed, **overrides)
    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods else METHODS
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"error: unknown method(s) {sorted(unknown)}; choose from {', '.join(METHODS)}")
    res = run_physics(args.system, config=cfg, device=args.device, progress=not args.no_progress, methods=methods)
    res.pop("config", None)
    print(f"{res['system']} ({res['mode']}, seed {res['seed']}, {res['seconds']:.0f} s)")
    print(f"{'method':<18}{'test RMSE':>12}{'energy drift':>15}{'meta-trained':>14}")
    for k, v in res["rmse"].items():
        mt = res["meta_trained"].get(k)
        print(f"{k:<18}{v:>12.4f}{res['energy_drift'][k]:>15.4f}{'' if mt is None else ('kept' if mt else 'rejected'):>14}")
    slim = {k: res[k] for k in ("system", "mode", "seed", "rmse", "energy_drift", "inner_lr", "reverted", "meta_trained", "seconds")}
    write_json(out, slim)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="noether-lite", description=__doc__.splitlines()[0])
    from . import __version__

    ap.add_argument("--version", action="version", version=f"noether-lite {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    from .systems import SYSTEMS

    p = sub.add_parser("pendulum", help="vanilla MLP vs HNN vs Noether Networks on a physical system")
    p.add_argument("--system", default="pendulum", choices=SYSTEMS.names())
    _add_mode(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--pretrain-steps", type=int, default=None, help="override the mode's pretraining steps")
    p.add_argument("--meta-steps", type=int, default=None, help="override the mode's meta-training steps")
    p.add_argument("--hidden", type=int, default=None, help="override the MLP width (200)")
    p.add_argument("--methods", default=None, help="comma-separated subset (default: all): "
                   "vanilla,hnn,noether_oracle,noether_learned,vanilla_tuned")
    p.set_defaults(func=_pendulum)

    from .labs import add_lab_parser
    from .symbolic import add_symbolic_parser
    from .video.cli import add_bench_video_parser, add_video_parser

    add_symbolic_parser(sub)
    add_video_parser(sub)
    bench = sub.add_parser("bench", help="benchmarks (speed ratios against a baseline in the same run)")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="BENCH")
    bench_sub.required = True
    add_bench_video_parser(bench_sub)
    add_lab_parser(sub)
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    rc = args.func(args)
    return rc if isinstance(rc, int) else 0  # some subcommands return their result dict


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
