"""noether-lite: the command line, one parser over the experiment functions.

Subcommands: ``physics`` (vanilla MLP, HNN and Noether Networks on a physical system;
``pendulum`` is its deprecated alias), ``study`` (the controlled study), ``symbolic``, ``video``, ``bench video``, ``lab list`` and
``lab run``. The flags the experiments share (``--quick/--full``, ``--seed``, ``--device``,
``--json``, ``--no-progress``, ``--set key=value``) are defined once, here. ``--set`` reaches any
field of the experiment's configuration (``--set inner_steps=2 --set lr_grid=0.01,0.1``;
dotted for nested ones: ``--set train.lr=1e-3``). A result file is checked before any work
starts and written atomically (:mod:`noether_lite.core.outputs`). Usage errors exit with code 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from .core.outputs import check_output_file, check_output_folder, write_json

__all__ = ["main", "build_parser", "parse_sets", "apply_sets"]


class UsageError(Exception):
    """A bad command line: printed as one line, exit code 2."""


# ----------------------------------------------------------------------------- --set key=value
def parse_sets(items: Optional[Sequence[str]]) -> List[Tuple[str, str]]:
    """``["a=1", "train.lr=1e-3"]`` -> ``[("a", "1"), ("train.lr", "1e-3")]``."""
    out = []
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: expected KEY=VALUE, e.g. --set inner_steps=2")
        out.append((key.strip(), value.strip()))
    return out


def _convert(key: str, text: str, current: Any) -> Any:
    """``text`` as a value of the type of ``current`` (the field's present value)."""
    try:
        if text.lower() == "none":
            return None
        if current is None:  # an optional field left unset: a number if it reads as one
            for kind in (int, float):
                try:
                    return kind(text)
                except ValueError:
                    pass
            return text
        if isinstance(current, bool):
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, (tuple, list)):
            parts = [p for p in text.split(",") if p.strip()]
            kind = type(current[0]) if current else (int if all(p.strip().lstrip("-").isdigit() for p in parts)
                                                       else float)
            return type(current)(kind(p) for p in parts)
        return text
    except ValueError:
        raise UsageError(f"--set {key}={text}: expected a value like {current!r}") from None


def apply_sets(obj: Any, sets: Sequence[Tuple[str, str]]) -> Any:
    """A copy of the dataclass ``obj`` with each dotted ``key`` set (values typed by the field).

    Raises:
        UsageError: an unknown key (the message lists the valid ones) or a value of the wrong type.
    """
    for key, text in sets:
        obj = _set_one(obj, key.split("."), key, text)
    return obj


def _set_one(obj: Any, path: List[str], key: str, text: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(obj)}
    head = path[0]
    if head not in fields:
        nested = [f"{n}.*" for n, f in fields.items() if dataclasses.is_dataclass(getattr(obj, n))]
        plain = [n for n in fields if not dataclasses.is_dataclass(getattr(obj, n))]
        raise UsageError(f"--set {key}: unknown field {head!r}; valid: {', '.join(plain + nested)}")
    current = getattr(obj, head)
    if len(path) > 1:
        if not dataclasses.is_dataclass(current):
            raise UsageError(f"--set {key}: {head!r} has no fields")
        value = _set_one(current, path[1:], key, text)
    else:
        if dataclasses.is_dataclass(current):
            raise UsageError(f"--set {key}: {head!r} is a group of fields; set one, e.g. {head}.<field>")
        value = _convert(key, text, current)
    try:
        return dataclasses.replace(obj, **{head: value})
    except (TypeError, ValueError) as e:
        raise UsageError(f"--set {key}={text}: {e}") from None


def _output(path: Optional[str], what: str = "--json") -> Optional[Path]:
    try:
        return check_output_file(path, what)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _folder(path: Optional[str], what: str) -> Optional[Path]:
    try:
        return check_output_folder(path, what)
    except ValueError as e:
        raise UsageError(str(e)) from None


# ----------------------------------------------------------------------------- shared flags
def _common(*, modes: Sequence[str] = ("quick", "full"), sets: bool = True) -> argparse.ArgumentParser:
    """The flags every experiment subcommand shares, as a parent parser."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="mode", action="store_const", const="quick", help="CPU-sized run (default)")
    g.add_argument("--full", dest="mode", action="store_const", const="full", help="paper-scale run")
    if tuple(modes) != ("quick", "full"):  # modes beyond the two flags (video's "default")
        g.add_argument("--mode", dest="mode", choices=modes, help=f"one of {', '.join(modes)}")
    p.set_defaults(mode="quick")
    p.add_argument("--seed", type=_seed, default=0, help="seeds data, initialisation and batches (default 0)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda or mps")
    p.add_argument("--json", metavar="PATH", default=None, help="write the results here (checked before any work)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")
    if sets:
        p.add_argument("--set", dest="sets", action="append", metavar="KEY=VALUE", default=[],
                       help="set a field of the experiment's configuration (repeatable)")
    return p


def _int_in(low: int, high: Optional[int] = None):
    """An argparse type: an integer in ``[low, high)`` (no upper bound when ``high`` is None)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < low or (high is not None and v >= high):
            bound = f"in [{low}, 2**63)" if high == 2**63 else (f">= {low}" if high is None else f"in [{low}, {high})")
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return v

    return parse


_seed = _int_in(0, 2**63)
_positive_int = _int_in(1)


def _ints(flag: str, text: Optional[str], *, minimum: int) -> Optional[List[int]]:
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected comma-separated integers, e.g. 0,1,2") from None
    if not values or min(values) < minimum:
        raise UsageError(f"{flag} {text!r}: expected integers >= {minimum}")
    return values


# ----------------------------------------------------------------------------- systems
def _system_flags(p: argparse.ArgumentParser, names: Sequence[str]) -> None:
    p.add_argument("--system", default="pendulum", metavar="NAME|MODULE:ATTR",
                   help=f"a registered system ({', '.join(names)}) or a System of yours as module:attr")
    p.add_argument("--hamiltonian", default=None, metavar="EXPR",
                   help="a Hamiltonian as a formula in q, p or q1..qn, p1..pn, e.g. 'p**2/2 + 1 - cos(q)' "
                        "(the system is then named by --system, default 'custom')")
    p.add_argument("--invariant", dest="invariants", action="append", default=[], metavar="EXPR",
                   help="with --hamiltonian: one more conserved quantity, e.g. 'q1*p2 - q2*p1' (repeatable)")


def _resolve_system(args: argparse.Namespace) -> None:
    """Make ``args.system`` a registered name: a formula (``--hamiltonian``), a ``module:attr``
    import, or a name already in the registry (checked here, before any work)."""
    import importlib

    from .systems.hamiltonians import SYSTEMS, System, register_system

    if args.hamiltonian is not None:
        from .systems.expressions import system_from_formula

        name = args.system if args.system != "pendulum" else "custom"
        if name in ("pendulum", "spring", "damped"):
            raise UsageError(f"--system {name} is built in; name your formula's system otherwise")
        try:
            register_system(system_from_formula(args.hamiltonian, invariants=args.invariants, name=name),
                            overwrite=True)
        except (ValueError, TypeError) as e:
            raise UsageError(f"--hamiltonian: {e}") from None
        args.system = name
        return
    if args.invariants:
        raise UsageError("--invariant needs --hamiltonian (a registered system brings its own invariants)")
    if ":" in args.system:
        module, _, attr = args.system.partition(":")
        try:
            obj = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise UsageError(f"--system {args.system}: cannot import it ({type(e).__name__}: {e})") from None
        if callable(obj) and not isinstance(obj, System):
            obj = obj()
        if not isinstance(obj, System):
            raise UsageError(f"--system {args.system} is a {type(obj).__name__}, not a noether_lite System")
        register_system(obj, overwrite=True)
        args.system = obj.name
        return
    if args.system not in SYSTEMS.names():
        raise UsageError(f"--system {args.system!r}: not a registered system; choose from "
                         f"{', '.join(SYSTEMS.names())}, pass module:attr, or give --hamiltonian")


# ----------------------------------------------------------------------------- physics
def _physics(args: argparse.Namespace) -> int:
    from .experiments.physics import METHODS, PhysicsConfig, run_physics

    if args.command == "pendulum":
        print("note: `noether-lite pendulum` is deprecated; use `noether-lite physics` (same flags)", file=sys.stderr)
    _resolve_system(args)
    out = _output(args.json)
    ckpt = _folder(args.ckpt_dir, "--ckpt-dir")
    cfg = PhysicsConfig.for_mode(args.system, quick=args.mode == "quick", seed=args.seed)
    shortcuts = [(k, str(getattr(args, k))) for k in ("pretrain_steps", "meta_steps", "hidden")
                 if getattr(args, k) is not None]
    cfg = apply_sets(cfg, shortcuts + parse_sets(args.sets))
    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods else METHODS
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise UsageError(f"--methods: unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    res = run_physics(args.system, config=cfg, device=args.device, progress=args.progress, methods=methods,
                      **({"ckpt_dir": ckpt} if ckpt is not None else {}))
    res.pop("config", None)
    print(f"{res['system']} ({res['mode']}, seed {res['seed']}, {res['seconds']:.0f} s)")
    print(f"{'method':<18}{'test RMSE':>12}{'energy drift':>15}{'meta-trained':>14}")
    for k, v in res["rmse"].items():
        mt = res["meta_trained"].get(k)
        print(f"{k:<18}{v:>12.4f}{res['energy_drift'][k]:>15.4f}{'' if mt is None else ('kept' if mt else 'rejected'):>14}")
    for note in res.get("warnings", []):
        print(f"warning: {note}", file=sys.stderr)
    keys = ("system", "mode", "seed", "rmse", "energy_drift", "inner_lr", "reverted", "meta_trained", "seconds")
    write_json(out, {**{k: res[k] for k in keys}, "warnings": res.get("warnings", [])})
    return 0


# ----------------------------------------------------------------------------- symbolic
def _symbolic(args: argparse.Namespace) -> int:
    import json

    from .experiments.physics import PhysicsConfig
    from .experiments.symbolic import run_symbolic

    _resolve_system(args)
    out = _output(args.json)
    ckpt = _folder(args.ckpt_dir, "--ckpt-dir")
    sets = parse_sets(args.sets)
    own = {"top_k": None, "meta_k": None}
    physics_sets = []
    for key, text in sets:
        if key in own:
            own[key] = _ints(f"--set {key}", text, minimum=1)[0]
        else:
            physics_sets.append((key, text))
    base = PhysicsConfig.for_mode(args.system, quick=args.mode == "quick", seed=args.seed)
    cfg = apply_sets(base, physics_sets)
    changed = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
               if getattr(cfg, f.name) != getattr(base, f.name)}
    operators = None
    if args.operators is not None:
        from .symbolic.grammar import OPERATORS, _resolve_ops

        def known(name: str) -> bool:  # the grammar's own resolver: names and their aliases (sq, mul, ...)
            try:
                return bool(_resolve_ops([name]))
            except ValueError:
                return False

        operators = [o.strip() for o in args.operators.split(",") if o.strip()]
        bad = sorted(o for o in set(operators) if not known(o))
        if bad or not operators:
            raise UsageError(f"--operators {args.operators!r}: unknown {', '.join(bad) or '(none given)'}; "
                             f"choose from {','.join(OPERATORS)}")
    if args.units:
        from .symbolic.units import SYSTEM_UNITS

        if args.system not in SYSTEM_UNITS:
            raise UsageError(f"--units: no units are known for system {args.system!r}; "
                             f"known: {', '.join(sorted(SYSTEM_UNITS))} (in Python, pass run_symbolic(units=Units(...)))")
    res = run_symbolic(args.system, max_depth=args.max_depth, quick=args.mode == "quick", seed=args.seed,
                       noisy=args.noisy, tailor=args.tailor, device=args.device, progress=args.progress,
                       physics=changed or None, ckpt_dir=ckpt, operators=operators, units=args.units or None,
                       **{k: v for k, v in own.items() if v is not None})
    write_json(out, res)
    print(json.dumps({k: res[k] for k in ("system", "best_formula", "best_corr", "enumerated", "survivors",
                                          "families", "search_seconds", "rmse", "seconds") if k in res}, indent=1))
    return 0


# ----------------------------------------------------------------------------- video
def _video(args: argparse.Namespace) -> int:
    from .core import distributed
    from .experiments.video import run_video, video_setup

    out = _output(args.json)
    frames = _output(args.frames, "--frames")
    _folder(args.ckpt_dir, "--ckpt-dir")
    _folder(args.cache_dir, "--cache-dir")
    k = _ints("--k-sweep", args.k_sweep, minimum=0)
    if args.time_budget is not None and not args.time_budget > 0:
        raise UsageError(f"--time-budget must be > 0 seconds, got {args.time_budget}")
    setup = apply_sets(video_setup(args.dataset, args.mode, args.seed), parse_sets(args.sets))
    size = int(os.environ.get("WORLD_SIZE", 1)) if distributed.launched() else 1
    if setup.train.batch_size % size:
        raise UsageError(f"batch_size {setup.train.batch_size} does not split over {size} processes; "
                         f"use --set train.batch_size=N with N a multiple of {size}")
    device = distributed.init_from_env(args.device)  # under torchrun: join the group, one device per rank
    try:
        res = run_video(args.dataset, seed=args.seed, device=device, mode=args.mode,
                        time_budget=args.time_budget, cache_dir=args.cache_dir, ckpt_dir=args.ckpt_dir,
                        k_sweep=k, return_models=frames is not None, progress=args.progress, setup=setup)
    finally:
        main_rank = distributed.world().main
        distributed.shutdown()
    if not main_rank:  # rank 0 writes and prints the results
        return 0
    extra = {key: res.pop(key) for key in ("frames", "models", "test") if key in res}
    write_json(out, res)
    if frames is not None:
        try:
            from .viz.video import save_strip_png

            fr = extra["frames"]
            save_strip_png({"truth": fr["truth"], "SVG": fr["svg"], "Noether": fr["noether"]}, str(frames))
        except Exception as e:  # a missing matplotlib must not lose the metrics
            print(f"could not save the frame strip: {e}", file=sys.stderr)
    for note in res.get("warnings", []):
        print(f"warning: {note}", file=sys.stderr)
    h = len(res["psnr"]["svg"])
    for m in ("psnr", "ssim"):
        print(f"{m.upper():5s} at horizon {h}: SVG {res[m]['svg'][-1]:.4f}  Noether {res[m]['noether'][-1]:.4f}")
    print(f"done in {res['seconds']:.1f} s")
    return 0


def _bench_video(args: argparse.Namespace) -> int:
    from .experiments.bench import bench_video

    out = _output(args.json)
    batches = _ints("--batch", args.batch, minimum=1)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = sorted(set(variants) - {"exact", "fast"})
    if bad or not variants:
        raise UsageError(f"--variants {args.variants!r}: choose from exact, fast")
    if (args.iters is not None and args.iters < 1) or (args.warmup is not None and args.warmup < 0):
        raise UsageError(f"--iters must be >= 1 and --warmup >= 0; got {args.iters}, {args.warmup}")
    bench_video(quick=args.mode == "quick", batches=batches, device=args.device, amp=args.amp,
                channels_last=args.channels_last, variants=variants, guard=not args.no_guard, iters=args.iters,
                warmup=args.warmup, budget_per_config=args.budget, json_path=None if out is None else str(out),
                progress=args.progress)
    return 0


# ----------------------------------------------------------------------------- lab
def _lab_list(args: argparse.Namespace) -> int:
    from .course.labs import LabError, format_labs, list_labs

    try:
        print(format_labs(list_labs(args.book_dir)))
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _lab_run(args: argparse.Namespace) -> int:
    from .course.labs import LabError, run_lab

    try:
        res = run_lab(args.chapter, mode=args.mode, device=args.device, seed=args.seed, out=args.out,
                      force=args.force, progress=args.progress, book_dir=args.book_dir, timeout=args.timeout)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if res["status"] == "ok":
        out = args.out or Path("labs") / f"{res['chapter']}-{args.mode}-{args.device}-seed{args.seed}"
        print(f"{res['chapter']}: ok in {res['seconds']} s on {res['device_kind']}; wrote {out}/ "
              f"({res['notebook']}, metrics.json, {len(res['figures'])} figure(s))")
    return 0


# ----------------------------------------------------------------------------- study
def _numbers(flag: str, text: str) -> List[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected comma-separated numbers, e.g. 5,10,25") from None
    if not values:
        raise UsageError(f"{flag} {text!r}: expected at least one number")
    return [int(v) if v == int(v) else v for v in values]


def _study(args: argparse.Namespace) -> int:
    from .experiments.study import STUDY_METHODS, describe_study, run_study, study_table

    _resolve_system(args)
    out = _output(args.json)
    ckpt = _folder(args.ckpt_dir, "--ckpt-dir")
    values = _numbers("--values", args.values)
    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods else STUDY_METHODS
    overrides = dict(parse_sets(args.sets))
    from .experiments.physics import PhysicsConfig

    base = apply_sets(PhysicsConfig.for_mode(args.system, quick=args.mode == "quick"), list(overrides.items()))
    changed = {k: getattr(base, k) for k in overrides}
    command = "noether-lite " + " ".join(sys.argv[1:]) if sys.argv[0].endswith(("noether-lite", "__main__.py")) else ""
    seeds = list(range(args.seed, args.seed + args.seeds))
    res = run_study(args.system, args.vary, values, seeds=seeds, quick=args.mode == "quick", methods=methods,
                    device=args.device, json_path=out, progress=args.progress, command=command,
                    formula=args.formula, ckpt_dir=ckpt, **changed)
    if args.formula is not None:
        print(describe_study(res).splitlines()[-1])
    print(study_table(res))
    print(f"({len(res['runs'])} runs, {res['seconds']:.0f} s{'; wrote ' + str(out) if out else ''})")
    return 0


# ----------------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .systems.hamiltonians import SYSTEMS

    ap = argparse.ArgumentParser(prog="noether-lite", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"noether-lite {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("physics", aliases=["pendulum"], parents=[_common()],
                       help="vanilla MLP vs HNN vs Noether Networks on a physical system ('pendulum': deprecated)")
    _system_flags(p, SYSTEMS.names())
    p.add_argument("--pretrain-steps", type=int, default=None, help="shortcut for --set pretrain_steps=N")
    p.add_argument("--meta-steps", type=int, default=None, help="shortcut for --set meta_steps=N")
    p.add_argument("--hidden", type=int, default=None, help="shortcut for --set hidden=N (MLP width, 200)")
    p.add_argument("--methods", default=None, help="comma-separated subset (default: all): "
                   "vanilla,hnn,noether_oracle,noether_learned,vanilla_tuned")
    p.add_argument("--ckpt-dir", default=None, help="checkpoint folder (an interrupted run resumes exactly)")
    p.set_defaults(func=_physics)

    s = sub.add_parser("symbolic", parents=[_common()],
                       help="discover conserved quantities symbolically (paper section 3a)")
    _system_flags(s, SYSTEMS.names())
    s.add_argument("--max-depth", type=int, default=None, help="expression depth (default: 2 quick, 3 full)")
    s.add_argument("--operators", default=None, metavar="OPS",
                   help="comma-separated subset of the grammar's operators, e.g. +,-,*,square (default: all)")
    s.add_argument("--units", action="store_true",
                   help="prune formulas that add incompatible physical units (the system's units; "
                        "known for spring and pendulum)")
    s.add_argument("--noisy", action="store_true", help="search on the noisy observations instead of true states")
    s.add_argument("--no-tailor", dest="tailor", action="store_false", help="search only; skip the RMSE evaluation")
    s.add_argument("--ckpt-dir", default=None, help="checkpoint folder (an interrupted run resumes exactly)")
    s.set_defaults(func=_symbolic)

    st = sub.add_parser("study", parents=[_common()],
                        help="controlled study: Noether Networks against the control as data, noise or horizon vary")
    _system_flags(st, SYSTEMS.names())
    st.add_argument("--vary", required=True, choices=("n_train", "noise", "horizon"),
                    help="training trajectories, observation noise σ, or observed points per trajectory")
    st.add_argument("--values", required=True, help="comma-separated values of --vary, e.g. 5,10,25")
    st.add_argument("--seeds", type=_positive_int, default=3,
                    help="number of seeds per value (default 3): --seed, --seed + 1, ...")
    st.add_argument("--methods", default=None, help="comma-separated (default: "
                    "vanilla,vanilla_tuned,noether_oracle,noether_learned)")
    st.add_argument("--formula", default=None, metavar="EXPR",
                    help="also tailor with this conserved quantity in q, p (e.g. what `symbolic` found), "
                         "compared with the control")
    st.add_argument("--ckpt-dir", default=None, help="checkpoint folder (an interrupted study resumes its run exactly)")
    st.set_defaults(func=_study)

    v = sub.add_parser("video", parents=[_common(modes=("quick", "default", "full"))],
                       help="SVG vs Noether Network on ramp or controlled-pendulum videos",
                       description="SVG vs Noether Network on ramp or controlled-pendulum videos. "
                                   "Data-parallel on N GPUs (NCCL; gloo on the CPU): torchrun --standalone "
                                   "--nproc_per_node=N -m noether_lite video ... (--set train.batch_size=B is "
                                   "the global batch and must divide by N; rank 0 prints, checkpoints and "
                                   "writes --json).")
    v.add_argument("--dataset", choices=("ramp", "pendulum"), default="ramp")
    v.add_argument("--time-budget", type=float, default=None, help="wall-clock seconds for all training")
    v.add_argument("--cache-dir", default=None, help="where rendered clips are cached")
    v.add_argument("--ckpt-dir", default=None, help="checkpoint folder (an interrupted run resumes)")
    v.add_argument("--frames", metavar="PNG", default=None, help="save a frame strip (truth, SVG, Noether)")
    v.add_argument("--k-sweep", default=None, help="test-time steps to sweep, e.g. 0,1,2,5,10")
    v.set_defaults(func=_video)

    bench = sub.add_parser("bench", help="benchmarks (speed ratios against a baseline in the same run)")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    b = bench_sub.add_parser("video", parents=[_common(sets=False)],
                             help="time a baseline step and a CNGrad meta-step (--quick: tiny model at 32x32)")
    b.set_defaults(mode="full")
    b.add_argument("--batch", default=None, help="comma-separated batch sizes (default: 2,8 quick; 2,8,32 full)")
    b.add_argument("--amp", choices=("auto", "bf16", "none"), default="auto")
    b.add_argument("--channels-last", action="store_true")
    b.add_argument("--variants", default="exact,fast",
                   help="meta-step variants: exact (the default meta-gradient), fast (θ constant in the inner step)")
    b.add_argument("--no-guard", action="store_true", help="meta-step without the training guard")
    b.add_argument("--iters", type=int, default=None, help="timed steps per configuration (default: 3 quick, 5 full)")
    b.add_argument("--warmup", type=int, default=None, help="untimed steps first (default: 1 quick, 2 full)")
    b.add_argument("--budget", type=float, default=None,
                   help="seconds per timed configuration (default: 6 quick, 20 full)")
    b.set_defaults(func=_bench_video)

    from .course.labs import DEVICES, MODES

    lab = sub.add_parser("lab", help="run book chapters as labs (needs a source checkout)",
                         description="Run book chapters as labs: list them, or execute one with papermill.")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="{list,run}", required=True)
    ls = lab_sub.add_parser("list", help="the labs and their measured run times")
    ls.add_argument("--book-dir", type=Path, default=None, help="folder of chapter notebooks (default: the checkout's)")
    ls.set_defaults(func=_lab_list)
    run = lab_sub.add_parser("run", help="execute one chapter; writes the notebook, metrics.json and figures/")
    run.add_argument("chapter", help="e.g. 03_known_conservation, 03, 3 or known_conservation")
    run.add_argument("--mode", choices=MODES, default="quick", help="quick (CI-sized) or full (default: %(default)s)")
    run.add_argument("--device", choices=DEVICES, default="auto", help="default: %(default)s")
    run.add_argument("--seed", type=_seed, default=0, help="default: %(default)s")
    run.add_argument("--out", type=Path, default=None,
                     help="output folder (default: labs/<chapter>-<mode>-<device>-seed<seed>)")
    run.add_argument("--force", action="store_true", help="re-run even if the output folder holds a finished run")
    run.add_argument("--timeout", type=_positive_int, default=1800,
                     help="seconds a single cell may run before the lab fails (default: %(default)s)")
    run.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    run.add_argument("--book-dir", type=Path, default=None, help="folder of chapter notebooks (default: the checkout's)")
    run.set_defaults(func=_lab_run)
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as e:  # found before any work
        print(f"noether-lite {args.command}: error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # an input the library refused (data, a checkpoint of another run, ...)
        print(f"noether-lite {args.command}: error: {str(e).splitlines()[0]}", file=sys.stderr)
        for line in str(e).splitlines()[1:]:
            print(f"  {line.strip()}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
