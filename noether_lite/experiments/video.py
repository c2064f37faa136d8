"""Experiment functions with defaults: ``run_video`` (SVG vs Noether on ramps or the
controlled pendulum) and the per-mode settings.

Protocol (both datasets): a shared SVG is pretrained with the plain task loss;
then two copies continue for the same number of steps, one with the plain loss
(the SVG baseline) and one with CNGrad meta-training (the Noether Network),
as the paper did for the controlled pendulum (SVG 50 epochs, then 20 epochs
of meta-tailoring). Both are evaluated on held-out clips with the same prior
noise; the Noether model tailors its CN parameters for ``K`` steps first.
"""
from __future__ import annotations

import copy
import time
import warnings
from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Optional, Sequence

import torch

from ..video.render import PendulumVideoConfig, RampConfig, load_or_render
from ..core.tailor import TailorConfig
from ..video.learner import VIDEO_TAILOR, NoetherVideo
from ..video.svg import SVGConfig, svg_config
from ..core import distributed
from ..core.checkpoints import auto_device, default_ckpt_dir
from ..core.outputs import check_output_folder
from ..video.train import VideoTrainConfig, evaluate, train_video

__all__ = ["VideoSetup", "video_setup", "run_video", "video_artifacts", "describe_comparison", "MODES",
           "quick_reference", "lesson_check", "gap_summary", "CLAIMS", "full_runs", "PAPER_VIDEO", "paper_video"]

MODES = ("quick", "default", "full")

#: The paper's video results, read off its figures (Alet et al. 2021, Fig. 4 and 5).
PAPER_VIDEO = {
    "ramp": {"horizon": 22, "psnr_noether": 33.4, "psnr_svg": 33.0},
    "pendulum": {"mse_noether": 4.15e-3, "mse_svg": 4.25e-3, "ssim": 0.929},
}


def paper_video(dataset: str) -> str:
    """One sentence with the paper's figures for ``dataset`` (``"ramp"`` or ``"pendulum"``)."""
    if dataset not in PAPER_VIDEO:
        raise ValueError(f"dataset must be one of {sorted(PAPER_VIDEO)}, got {dataset!r}")
    p = PAPER_VIDEO[dataset]
    if dataset == "ramp":
        return (f"the paper (read off its plot): PSNR {p['psnr_noether']:.1f} (Noether) vs {p['psnr_svg']:.1f} (SVG) "
                f"at horizon {p['horizon']}, a gap of {p['psnr_noether'] - p['psnr_svg']:.1f} dB")
    return (f"the paper (read off its plot): MSE {p['mse_noether']:.3g} (Noether) vs {p['mse_svg']:.3g} (SVG), "
            f"SSIM {p['ssim']:.3f} for both")


@dataclass(frozen=True)
class VideoSetup:
    """Everything one run needs: data, model and training settings, schedule."""

    dataset: str
    mode: str
    data: Any
    model: SVGConfig
    train: VideoTrainConfig
    pretrain_steps: int
    fork_steps: int
    n_future: int
    tailor: TailorConfig = replace(VIDEO_TAILOR, inner_lr=0.05)
    k_sweep: Sequence[int] = (0, 1, 2, 5)


def video_setup(dataset: str = "ramp", mode: str = "quick", seed: int = 0) -> VideoSetup:
    """Settings for ``dataset`` in ``"ramp"``/``"pendulum"`` and ``mode`` in :data:`MODES`."""
    if dataset not in ("ramp", "pendulum"):
        raise ValueError(f"dataset must be 'ramp' or 'pendulum', got {dataset!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    size = {"quick": 32, "default": 64, "full": 128}[mode]
    model_size = {"quick": "quick", "default": "quick", "full": "paper"}[mode]
    if dataset == "ramp":
        n_obj, per = {"quick": (16, 6), "default": (30, 8), "full": (40, 10)}[mode]
        data = RampConfig(size=size, n_objects=n_obj, clips_per_object=per, seed=seed)
        model = svg_config(model_size, size)
        n_future = 20
    else:
        n_clips = {"quick": 96, "default": 256, "full": 400}[mode]
        data = PendulumVideoConfig(size=size, n_clips=n_clips, seed=seed)
        model = svg_config(model_size, size, stochastic=False, action_dim=1)
        n_future = 25
    if mode == "quick":
        tr = VideoTrainConfig(steps=0, batch_size=8, lr=2e-3, train_future=8, amp="auto", log_every=25, seed=seed)
        pre, fork = 150, 40
    elif mode == "default":
        tr = VideoTrainConfig(steps=0, batch_size=16, lr=1e-3, train_future=10, amp="auto", log_every=50, seed=seed)
        pre, fork = 2000, 500
    else:
        # batch 8: the meta-step keeps several GB per clip at 128×128 (batch 16 does not fit in 80 GB)
        tr = VideoTrainConfig(steps=0, batch_size=8, lr=3e-4, train_future=None, amp="auto", log_every=25, seed=seed)
        pre, fork = 20000, 5000
    return VideoSetup(dataset, mode, data, model, tr, pre, fork, n_future)


def run_video(dataset: str = "ramp", quick: bool = True, seed: int = 0, device: str = "auto", progress: bool = True, *,
              mode: Optional[str] = None, time_budget: Optional[float] = None, cache_dir=None,
              ckpt_dir=None, k_sweep: Optional[Sequence[int]] = None, keep: int = 4,
              return_models: bool = False, setup: Optional[VideoSetup] = None) -> Dict[str, Any]:
    """Train SVG and a Noether Network on ``dataset`` and compare them per horizon.

    Args:
        dataset: ``"ramp"`` (predict 20 from 2) or ``"pendulum"`` (predict 25 from 2, action-conditioned).
        quick: 32×32 and a tiny model (CPU, minutes); ``mode`` overrides (``"default"``, ``"full"``).
        seed: seeds data, initialisation, batches and noise.
        time_budget: wall-clock seconds for all training (split 50/30/20 between
            pretraining, the Noether fork and the baseline fork; the baseline fork then
            takes exactly as many steps as the Noether fork did).
        ckpt_dir: folder for checkpoints (resumable runs).
        k_sweep: test-time tailoring steps to sweep (``None``: the setup's).
        keep: test clips whose predictions are returned (for frame strips), when ``return_models``.

    Returns:
        JSON-able dict ``{"dataset", "mode", "seed", "mse": {"svg": [...], "noether": [...]},
        "psnr": {...}, "ssim": {...}, "se": {...}, "k_sweep": {...}, "steps": {...}, "seconds", ...}``;
        with ``return_models``, also ``"models"``, ``"test"`` and ``"frames"`` (not JSON-able).
    """
    t_start = time.perf_counter()
    mode = mode or ("quick" if quick else "full")
    st = setup or video_setup(dataset, mode, seed)
    ranks = distributed.world()  # under torchrun: train data-parallel; rank 0 alone prints
    ranks.check_batch(st.train.batch_size, "the training batch size")
    progress = progress and ranks.main
    dev = auto_device(device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    ckpt_dir = default_ckpt_dir(ckpt_dir)
    check_output_folder(ckpt_dir, "ckpt_dir")
    check_output_folder(cache_dir, "cache_dir")
    if not ranks.main:
        distributed.barrier()  # rank 0 renders (and caches) the clips first
    data = load_or_render(st.data, cache_dir=cache_dir, device=dev)
    if ranks.main:
        distributed.barrier()
    train, test = data.split("train"), data.split("test")
    torch.manual_seed(seed)
    base = NoetherVideo(st.model, tailor=st.tailor)
    ck = (lambda name: None) if ckpt_dir is None else (lambda name: f"{ckpt_dir}/{dataset}_{mode}_seed{seed}_{name}.pt")
    tb = (lambda f: None) if time_budget is None else (lambda f: f * time_budget)
    say = print if progress else (lambda *a, **k: None)
    _refuse_forks_of_an_unfinished_base(ck, st.pretrain_steps)
    say(f"[{dataset}/{mode}] {len(train)} train / {len(test)} test clips, {st.model.image_size}px, device {dev}")
    say("pretraining SVG")
    h_pre = train_video(base, train, replace(st.train, steps=st.pretrain_steps, inner_steps=0), device=dev,
                        ckpt_path=ck("pre"), time_budget=tb(0.5), progress=progress, desc="pretrain SVG")
    noe = copy.deepcopy(base)
    svg = copy.deepcopy(base)
    say("meta-training the Noether Network (CNGrad, 1 inner step)")
    h_noe = train_video(noe, train, replace(st.train, steps=st.fork_steps, inner_steps=1,
                                            seed=seed + 100), device=dev, ckpt_path=ck("noether"),
                        time_budget=tb(0.3), progress=progress, opt_state=h_pre.opt_state, desc="Noether fork")
    fork_done = h_noe.steps_done
    say(f"continuing the SVG baseline for the same {fork_done} steps")
    h_svg = train_video(svg, train, replace(st.train, steps=fork_done, inner_steps=0,
                                            seed=seed + 100), device=dev, ckpt_path=ck("svg"), progress=progress,
                        opt_state=h_pre.opt_state, desc="SVG fork")
    say("evaluating on held-out clips")
    ev_svg = evaluate(svg, test, n_future=st.n_future, steps=0, device=dev, seed=seed, keep=keep)
    ev_noe = evaluate(noe, test, n_future=st.n_future, steps=1, device=dev, seed=seed, keep=keep)
    sweep = {}
    for k in (k_sweep if k_sweep is not None else st.k_sweep):
        e = ev_noe if k == 1 else evaluate(noe, test, n_future=st.n_future, steps=k, device=dev, seed=seed)
        sweep[str(k)] = {"psnr": sum(e["psnr"]["mean"]) / st.n_future, "ssim": sum(e["ssim"]["mean"]) / st.n_future,
                         "mse": sum(e["mse"]["mean"]) / st.n_future, "reverted": e["reverted"]}
    out: Dict[str, Any] = {"dataset": dataset, "mode": mode, "seed": seed}
    for m in ("mse", "psnr", "ssim"):
        out[m] = {"svg": ev_svg[m]["mean"], "noether": ev_noe[m]["mean"]}
    out["se"] = {m: {"svg": ev_svg[m]["se"], "noether": ev_noe[m]["se"]} for m in ("mse", "psnr", "ssim")}
    out["k_sweep"] = sweep
    out["reverted"] = {"test": ev_noe["reverted"], "of": len(test), "train_total": sum(h_noe.reverted)}
    out["inner_loss"] = {"before": ev_noe.get("inner_before"), "after": ev_noe.get("inner_after")}
    out["inner_lr"] = [float(v) for v in torch.as_tensor(noe.inner_lr()).detach().reshape(-1)]
    out["steps"] = {"pretrain": h_pre.steps_done, "fork": fork_done}
    out["warnings"] = [f"the {stage} trained 0 steps (time budget too small?): its results are an untrained model's"
                       for stage, n in (("pretraining", h_pre.steps_done), ("Noether fork", fork_done)) if n == 0]
    for note in out["warnings"]:
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    out["train_seconds"] = {"pretrain": h_pre.seconds, "noether": h_noe.seconds, "svg": h_svg.seconds}
    out["history"] = {"pretrain": h_pre.loss, "noether": h_noe.extras.get("task", []),
                      "svg": h_svg.extras.get("task", [])}
    out["device"] = str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev)
    out["config"] = {"data": asdict(st.data), "model": asdict(st.model), "train": asdict(st.train),
                     "n_future": st.n_future}
    out["seconds"] = time.perf_counter() - t_start
    if return_models:
        out["models"] = {"svg": svg, "noether": noe}
        out["test"] = test
        out["frames"] = {"truth": ev_svg["truth"], "svg": ev_svg["pred"], "noether": ev_noe["pred"]}
    return out


def _refuse_forks_of_an_unfinished_base(ck, pretrain_steps: int) -> None:
    """Fork checkpoints made from a pretraining that had not finished (a time budget stopped it)
    would continue from the wrong model once pretraining resumes and finishes: refuse up front."""
    from pathlib import Path

    from ..core.checkpoints import load_checkpoint

    pre = ck("pre")
    forks = [f for f in (ck("noether"), ck("svg")) if f is not None and Path(f).exists()]
    if pre is None or not forks or not Path(pre).exists():
        return
    done = load_checkpoint(pre)["step"]
    if done < pretrain_steps:
        raise ValueError(f"{forks[0]} continues a pretraining stopped at step {done} of {pretrain_steps} (a time "
                         f"budget?); this run would pretrain further and then resume forks of the older model: "
                         f"delete the fork checkpoints ({', '.join(Path(f).name for f in forks)}) or pass the same "
                         f"--time-budget")


def video_artifacts(folder=None) -> Dict[str, Any]:
    """Load the video results that ship with the package (``noether_lite/video/results/*.json``).

    These are the runs the book reads (quick mode over seeds, default mode on a CPU, the CPU
    benchmark), so a chapter needs no checkout of the repository. ``folder`` (or
    ``$NOETHER_LITE_ARTIFACTS``) reads another folder of such files instead, e.g. your own runs.
    Returns ``{file stem: dict}`` plus ``"folder"``; empty when the folder holds no ``.json``.
    """
    import json
    import os
    from importlib.resources import files
    from pathlib import Path

    chosen = folder or os.environ.get("NOETHER_LITE_ARTIFACTS")
    where = Path(chosen) if chosen else Path(str(files("noether_lite.video").joinpath("results")))
    if chosen and not where.is_dir():
        raise ValueError(f"results folder {where} does not exist")
    out: Dict[str, Any] = {}
    for f in sorted(where.glob("*.json")):
        if not f.stem.startswith("quick_reference_"):
            out[f.stem] = json.loads(f.read_text(encoding="utf-8"))
    if out:
        out["folder"] = str(where.resolve())
    return out


def describe_comparison(res: Dict[str, Any]) -> str:
    """A plain-language reading of a :func:`run_video` result, computed from its numbers.

    Says, per metric, at how many horizons the Noether Network is ahead and by how much, at
    how many the gap exceeds the two models' standard errors combined, and how much of the
    PSNR gap is there without test-time tailoring (the ``K = 0`` point of the sweep)."""
    import math

    lines = []
    for m, unit, fmt in (("psnr", " dB", "{:.2f}"), ("ssim", "", "{:.3f}")):
        svg, noe = res[m]["svg"], res[m]["noether"]
        se_s, se_n = res["se"][m]["svg"], res["se"][m]["noether"]
        d = [b - a for a, b in zip(svg, noe)]
        big = sum(abs(x) > 2 * math.hypot(p, q) for x, p, q in zip(d, se_s, se_n))
        ahead = sum(x > 0 for x in d)
        lo, hi = min(d), max(d)
        lines.append(f"{m.upper()}: Noether ahead at {ahead} of {len(d)} horizons (difference "
                     f"{fmt.format(lo)} to {fmt.format(hi)}{unit}); at {big} of them the difference exceeds "
                     f"twice the combined standard error.")
    sweep = res.get("k_sweep", {})
    if "0" in sweep and "1" in sweep:
        svg_mean = sum(res["psnr"]["svg"]) / len(res["psnr"]["svg"])
        k0, k1 = sweep["0"]["psnr"], sweep["1"]["psnr"]
        total = k1 - svg_mean
        lines.append(f"Mean PSNR: SVG {svg_mean:.2f} dB, Noether untailored (K = 0) {k0:.2f} dB, after one "
                     f"test-time step {k1:.2f} dB; of the {total:+.2f} dB gap, {k0 - svg_mean:+.2f} dB is there "
                     f"before tailoring (meta-training changed the weights) and {k1 - k0:+.2f} dB comes from "
                     f"the test-time step.")
    rev = res.get("reverted", {})
    if "test" in rev:
        lines.append(f"The guard reverted {rev['test']} of {rev['of']} test clips.")
    return "\n".join(lines)


def full_runs(dataset: str, art: Optional[Dict[str, Any]] = None):
    """The committed full-mode results of ``dataset`` (from :func:`video_artifacts`), and a line
    that says what they are, or, when there are none, the command that makes one on a GPU."""
    art = video_artifacts() if art is None else art
    runs = [art[k] for k in sorted(art) if k.startswith(f"{dataset}_full_seed")]
    if runs:
        line = f"full mode, {dataset}: seeds {', '.join(str(r['seed']) for r in runs)} on {runs[0]['device']}"
    else:
        line = (f"No full-mode {dataset} run is included: full mode needs a GPU. To make one:\n"
                f"  noether-lite video --dataset {dataset} --full --seed 0 --json {dataset}_full_seed0.json")
    return runs, line


# ----------------------------------------------------------------------------- checked lessons
#: What :func:`lesson_check` can assert about a run, by name.
CLAIMS = ("ahead", "step_helps", "gap")


def quick_reference(dataset: str) -> Dict[str, Any]:
    """The quick run's reference gap and tolerance for ``dataset`` (shipped with the package).

    Made by ``ci/video_spread.py``: ``reference_gap`` is the mean PSNR gap (Noether - SVG, dB) of
    the seed-0 quick run under the book's pinned arithmetic (:mod:`noether_lite.numerics`);
    ``tolerance`` is three standard deviations of that gap over runs that differ only in the
    machine's arithmetic (thread count, kernel instruction sets, the pins removed); ``runs``
    holds each of them.
    """
    import json
    from importlib.resources import files

    if dataset not in ("ramp", "pendulum"):
        raise ValueError(f"dataset must be 'ramp' or 'pendulum', got {dataset!r}")
    return json.loads(files("noether_lite.video").joinpath("results", f"quick_reference_{dataset}.json").read_text())


def _gaps(res: Dict[str, Any]):
    svg, noe = res["psnr"]["svg"], res["psnr"]["noether"]
    if not svg or len(svg) != len(noe):
        raise ValueError(f"res['psnr'] must hold two equally long, non-empty lists; got {len(svg)} and {len(noe)}")
    return [b - a for a, b in zip(svg, noe)]


def gap_summary(res: Dict[str, Any], reference_gap: float, tolerance: float) -> str:
    """The numbers behind :func:`lesson_check`, beside the reference (for an unchecked cell)."""
    d = _gaps(res)
    gap = sum(d) / len(d)
    line = (f"Noether ahead at {sum(x > 0 for x in d)}/{len(d)} horizons; mean PSNR gap {gap:+.2f} dB "
            f"({gap - reference_gap:+.2f} dB from the reference run's {reference_gap:+.2f} dB; "
            f"tolerance ±{tolerance:.2f} dB)")
    sweep = res.get("k_sweep", {})
    if "0" in sweep and "1" in sweep:
        line += f"; the test-time step adds {sweep['1']['psnr'] - sweep['0']['psnr']:+.2f} dB (K = 0 to K = 1)"
    return line


def lesson_check(res: Dict[str, Any], reference_gap: float, tolerance: float,
                 claims: Sequence[str] = CLAIMS) -> str:
    """What a chapter teaches about a :func:`run_video` result, as verdicts that do not depend on
    the machine's last digits (for a cell whose output is compared by nbval).

    Args:
        res: a :func:`run_video` result.
        reference_gap, tolerance: the mean PSNR gap (Noether - SVG, dB) of the reference run and
            how far another machine's run may land from it (see :func:`quick_reference`).
        claims: which of :data:`CLAIMS` to assert: ``"ahead"`` (the tailored Noether Network has
            the higher mean PSNR), ``"step_helps"`` (one test-time step raises mean PSNR over
            ``K = 0``; needs the ``k_sweep`` entries ``"0"`` and ``"1"``), ``"gap"`` (the mean gap is
            within ``tolerance`` of ``reference_gap``).

    Returns:
        One line per claim, ending in ``yes`` or ``NO``.
    """
    import math

    unknown = [c for c in claims if c not in CLAIMS]
    if unknown or not claims:
        raise ValueError(f"claims must be a non-empty selection of {CLAIMS}, got {list(claims)}")
    if not (math.isfinite(reference_gap) and math.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"reference_gap must be finite and tolerance positive; got {reference_gap}, {tolerance}")
    d = _gaps(res)
    gap = sum(d) / len(d)
    yes = lambda ok: "yes" if ok else "NO"  # noqa: E731
    lines = []
    for c in claims:
        if c == "ahead":
            lines.append(f"after one test-time step, Noether is ahead of SVG in mean PSNR: {yes(gap > 0)}")
        elif c == "step_helps":
            sweep = res.get("k_sweep", {})
            if "0" not in sweep or "1" not in sweep:
                raise ValueError("claim 'step_helps' needs res['k_sweep'] with K = 0 and K = 1")
            lines.append("the test-time step raises mean PSNR (K = 1 over K = 0): "
                         f"{yes(sweep['1']['psnr'] > sweep['0']['psnr'])}")
        else:
            lines.append(f"mean PSNR gap within {reference_gap:+.2f} ± {tolerance:.2f} dB: "
                         f"{yes(abs(gap - reference_gap) <= tolerance)}")
    return "\n".join(lines)
