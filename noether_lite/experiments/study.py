"""A controlled study: when does tailoring on a conservation law help?

For each value of one data setting (training-set size, noise, horizon) and each seed,
:func:`run_study` trains the vanilla MLP, the control (the same extra training with tailoring
off, K = 0), the oracle Noether Network (the true energy) and the learned one, every stage
stopped early on a validation split so that no method wins by training longer, and
reports the paired differences ``oracle - control`` and ``learned - control`` with a 95 %
interval over seeds. Results are written after every run, and a study that is started again
with the same arguments skips the runs it already has.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from ..core.outputs import check_output_file, write_json
from ..systems.hamiltonians import get_system
from .physics import METHODS, PhysicsConfig, run_physics

__all__ = ["VARY", "STUDY_METHODS", "study_config", "run_study", "paired_interval", "study_table", "describe_study",
           "study_results", "shipped_result"]

#: What a study can vary, and the :class:`PhysicsConfig` field each one sets.
VARY = {"n_train": "n_train", "noise": "noise_std", "horizon": "n_points"}
#: The methods of a study: the baseline, the control, and two Noether Networks.
STUDY_METHODS = ("vanilla", "vanilla_tuned", "noether_oracle", "noether_learned")
# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom (then the normal's).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def paired_interval(diffs: Sequence[float]) -> Dict[str, float]:
    """Mean of paired differences with a 95 % t-interval: ``{"mean", "lo", "hi", "n"}``
    (``lo = hi = mean`` for a single seed: no interval)."""
    n = len(diffs)
    if n == 0:
        raise ValueError("no differences to summarise")
    mean = sum(diffs) / n
    if n == 1:
        return {"mean": mean, "lo": mean, "hi": mean, "n": 1}
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    half = (_T975[n - 2] if n - 1 <= len(_T975) else 1.96) * sd / math.sqrt(n)
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "n": n}


def _value(vary: str, value: Union[int, float]) -> Union[int, float]:
    if vary not in VARY:
        raise ValueError(f"vary must be one of {', '.join(VARY)}, got {vary!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{vary} values must be finite numbers, got {value!r}")
    if vary == "noise":
        if value < 0:
            raise ValueError(f"noise values must be >= 0, got {value}")
        return float(value)
    if value != int(value) or value < (1 if vary == "n_train" else 2):
        raise ValueError(f"{vary} values must be integers >= {1 if vary == 'n_train' else 2}, got {value}")
    return int(value)


def study_config(system: str, vary: str, value: Union[int, float], *, quick: bool = True, seed: int = 0,
                 **overrides) -> PhysicsConfig:
    """The :class:`PhysicsConfig` of one run of a study: the mode's schedule as a maximum,
    a validation split of a fifth of the training trajectories (at least one), early
    stopping, and ``vary`` set to ``value``."""
    value = _value(vary, value)
    base: Dict[str, Any] = dict(val_fraction=0.2, patience=4, validations=20)
    base[VARY[vary]] = value
    if vary == "n_train" and value < 2:
        raise ValueError("n_train must be >= 2 in a study: one trajectory is held out for validation")
    base.update(overrides)
    return PhysicsConfig.for_mode(system, quick=quick, seed=seed, **base)


def _spec(system, vary, values, seeds, quick, methods, overrides) -> Dict[str, Any]:
    return {"system": system, "vary": vary, "values": list(values), "seeds": list(seeds),
            "mode": "quick" if quick else "full", "methods": list(methods), "overrides": dict(overrides)}


def run_study(
    system: str = "pendulum",
    vary: str = "n_train",
    values: Sequence[Union[int, float]] = (5, 10, 25),
    *,
    seeds: Union[int, Sequence[int]] = 3,
    quick: bool = True,
    methods: Sequence[str] = STUDY_METHODS,
    device: str = "auto",
    json_path: Optional[Union[str, Path]] = None,
    progress: bool = True,
    command: str = "",
    formula: Optional[str] = None,
    ckpt_dir: Optional[Union[str, Path]] = None,
    **overrides,
) -> Dict[str, Any]:
    """Run the study and summarise it (see the module docstring).

    Args:
        system: a registered system.
        vary: ``"n_train"`` (training trajectories), ``"noise"`` (observation noise σ) or
            ``"horizon"`` (observed points per trajectory, at the system's time step).
        values: the values of ``vary``.
        seeds: a number of seeds (``0 .. seeds-1``) or the seeds themselves.
        quick: the quick schedule (CPU minutes) or the full one; either is a maximum, since
            every stage stops early on validation.
        methods: must include ``"vanilla_tuned"`` (the control) and a Noether Network.
        json_path: write the results here after every run; when the file holds results of
            the same study, the runs it has are not run again.
        formula: a conserved quantity as a formula in ``q, p`` (e.g. the one ``noether-lite
            symbolic`` found, ``"p**2 - 3*cos(q)"``): tailored with, through the same protocol,
            as ``noether_custom``, and compared with the control ("formula_minus_control").
        ckpt_dir: folder for the checkpoints of every run's stages (default ``$NOETHER_CKPT_DIR``): an
            interrupted study resumes the run it was in, not only the runs ``json_path`` holds.
        overrides: more :class:`PhysicsConfig` fields for every run (e.g. ``meta_steps=20``).

    Returns:
        ``{"spec", "runs": [per value and seed: rmse, energy_drift, meta_trained, inner_lr,
        steps (per stage, after early stopping), seconds], "summary": [per value: mean RMSE per method and the paired
        intervals "oracle_minus_control", "learned_minus_control"], "seconds", "command"}``.
    """
    get_system(system)
    seeds = list(range(seeds)) if isinstance(seeds, int) and not isinstance(seeds, bool) else list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be a number >= 1 or a list of integers >= 0, got {seeds!r}")
    values = [_value(vary, v) for v in values]
    if not values or len(set(values)) != len(values):
        raise ValueError(f"values must be distinct and at least one, got {values!r}")
    methods = tuple(methods)
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown method(s) {sorted(unknown)}; known: {list(METHODS)}")
    if "vanilla_tuned" not in methods or not {"noether_oracle", "noether_learned"} & set(methods):
        raise ValueError("a study compares a Noether Network with the control: methods must include "
                         "'vanilla_tuned' and 'noether_oracle' or 'noether_learned'")
    embedding = None
    if formula is not None:
        from ..core.conservation import FormulaEmbedding
        from ..systems.expressions import parse_formula

        _, fn, dof = parse_formula(formula, dof=1)
        if get_system(system).dof != 1:
            raise ValueError("formula: a formula in q, p needs a system with one degree of freedom")
        embedding = FormulaEmbedding(fn, name=formula)
    for v in values:  # every configuration is checked before the first run
        study_config(system, vary, v, quick=quick, seed=seeds[0], **overrides)
    shared = study_config(system, vary, values[0], quick=quick, seed=0, **overrides)  # the fields all runs share
    out_path = check_output_file(json_path, "json_path") if json_path is not None else None

    spec = _spec(system, vary, values, seeds, quick, methods, overrides)
    if formula is not None:
        spec["formula"] = formula
    runs: List[Dict[str, Any]] = []
    if out_path is not None and out_path.exists():
        try:
            old = json.loads(out_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if old.get("spec") == spec:
            runs = list(old.get("runs", []))
    done = {(r["value"], r["seed"]) for r in runs}
    todo = [(v, s) for v in values for s in seeds if (v, s) not in done]
    t0 = time.perf_counter()
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(values) * len(seeds), initial=len(done), desc=f"study {system}: {vary}")
    try:
        for v, s in todo:
            cfg = study_config(system, vary, v, quick=quick, seed=s, **overrides)
            res = run_physics(system, config=cfg, device=device, methods=methods, progress=False, embedding=embedding,
                              ckpt_dir=ckpt_dir)
            runs.append({"value": v, "seed": s, "rmse": res["rmse"], "energy_drift": res["energy_drift"],
                         "meta_trained": res["meta_trained"], "inner_lr": res["inner_lr"],
                         "steps": res["steps"], "seconds": res["seconds"]})
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"{vary}={v} seed {s}: {res['seconds']:.0f} s")
            if out_path is not None:
                write_json(out_path, _result(spec, runs, values, command, time.perf_counter() - t0, shared))
    finally:
        if bar is not None:
            bar.close()
    result = _result(spec, runs, values, command, time.perf_counter() - t0, shared)
    if out_path is not None:
        write_json(out_path, result)
    return result


def _result(spec, runs, values, command, seconds, cfg) -> Dict[str, Any]:
    summary = []
    for v in values:
        rs = sorted((r for r in runs if r["value"] == v), key=lambda r: r["seed"])
        if not rs:
            continue
        row: Dict[str, Any] = {"value": v, "seeds": len(rs),
                               "rmse": {m: sum(r["rmse"][m] for r in rs) / len(rs) for m in rs[0]["rmse"]}}
        for name, method in (("oracle_minus_control", "noether_oracle"), ("learned_minus_control", "noether_learned"),
                             ("formula_minus_control", "noether_custom")):
            if method in rs[0]["rmse"]:
                row[name] = paired_interval([r["rmse"][method] - r["rmse"]["vanilla_tuned"] for r in rs])
        summary.append(row)
    config = asdict(cfg)
    config.pop(VARY[spec["vary"]], None)  # the varied field is the study's, per row
    return {"spec": spec, "runs": runs, "summary": summary, "config": config, "seconds": round(seconds, 1),
            "command": command}


def study_table(result: Dict[str, Any]) -> str:
    """The summary as text: mean RMSE per method and each paired difference with its interval;
    ``*`` marks an interval that excludes zero."""
    spec = result["spec"]
    lines = [f"{spec['system']}, {spec['mode']} mode, varying {spec['vary']} "
             f"({len(spec['seeds'])} seed(s); differences: mean [95 % interval])"]
    head = f"{spec['vary']:>8} | {'vanilla':>8} {'control':>8} {'oracle':>8} {'learned':>8} | " \
           f"{'oracle - control':>28} | {'learned - control':>28}"
    lines.append(head)
    for row in result["summary"]:
        r = row["rmse"]

        def cell(key):
            iv = row.get(key)
            if iv is None:
                return f"{'-':>28}"
            star = "*" if iv["hi"] < 0 or iv["lo"] > 0 else " "
            return f"{iv['mean']:+.4f} [{iv['lo']:+.4f}, {iv['hi']:+.4f}]{star}".rjust(28)

        def num(m):
            return f"{r[m]:8.4f}" if m in r else f"{'-':>8}"

        lines.append(f"{row['value']!s:>8} | {num('vanilla')} {num('vanilla_tuned')} {num('noether_oracle')} "
                     f"{num('noether_learned')} | {cell('oracle_minus_control')} | {cell('learned_minus_control')}")
    return "\n".join(lines)


def describe_study(result: Dict[str, Any]) -> str:
    """A plain-language reading of a study, computed from its numbers: for each Noether
    Network, at which values its 95 % interval against the control lies below zero (it
    helped), above zero (it hurt), or spans zero (no measurable difference)."""
    spec, rows = result["spec"], result["summary"]
    lines = []
    for key, name in (("oracle_minus_control", "the oracle"), ("learned_minus_control", "the learned g_φ"),
                      ("formula_minus_control", f"the formula {spec.get('formula', '')}")):
        if not rows or key not in rows[0]:
            continue
        better = [r["value"] for r in rows if r[key]["hi"] < 0]
        worse = [r["value"] for r in rows if r[key]["lo"] > 0]
        best = min(rows, key=lambda r: r[key]["mean"] / r["rmse"]["vanilla_tuned"])
        gain = -100 * best[key]["mean"] / best["rmse"]["vanilla_tuned"]
        parts = [f"{spec['system']}, {name} against the control, over {len(spec['seeds'])} seeds:"]
        parts.append(f"better at {spec['vary']} = {', '.join(map(str, better))}" if better else
                     "never better by an interval that excludes zero")
        if worse:
            parts.append(f"worse at {spec['vary']} = {', '.join(map(str, worse))}")
        if gain >= 0:
            parts.append(f"largest mean gain {gain:.1f} % at {spec['vary']} = {best['value']}")
        else:
            parts.append(f"worse on average at every value, least so ({-gain:.1f} %) at {spec['vary']} = "
                         f"{best['value']}")
        lines.append(parts[0] + " " + "; ".join(parts[1:]) + ".")
    return "\n".join(lines)


def study_results(name: Optional[str] = None, folder=None) -> Dict[str, Any]:
    """The full-mode studies that ship with the package (``noether_lite/experiments/results/``),
    ``{file stem: result}``, or one of them by ``name`` (e.g. ``"study_pendulum_n_train_full"``).
    ``folder`` reads another folder of :func:`run_study` JSON files instead."""
    from importlib.resources import files

    where = Path(folder) if folder is not None else Path(str(files("noether_lite.experiments").joinpath("results")))
    out = {f.stem: json.loads(f.read_text(encoding="utf-8")) for f in sorted(where.glob("study_*.json"))}
    if name is None:
        return out
    if name not in out:
        raise ValueError(f"no study named {name!r}; there are: {', '.join(out) or 'none'}")
    return out[name]


def shipped_result(name: str) -> Dict[str, Any]:
    """One result file that ships with the package (``noether_lite/experiments/results/NAME.json``),
    e.g. ``"embedding_diagnosis"`` (made by ``ci/diagnose_embedding.py``)."""
    from importlib.resources import files

    where = Path(str(files("noether_lite.experiments").joinpath("results")))
    path = where / f"{name}.json"
    if not path.exists():
        raise ValueError(f"no result {name!r} ships with the package; there are: "
                         f"{', '.join(sorted(p.stem for p in where.glob('*.json'))) or 'none'}")
    return json.loads(path.read_text(encoding="utf-8"))
