"""Benchmark: one SVG baseline step vs one Noether meta-step (same model, same batch).

Default: the paper-size model at 128×128, 2 + 20 frames, as in PAPER_NOTES §5
(the authors' code on one H100: meta-step 4.2 s at batch 2, 4.0 s at batch 8,
4.3× a baseline step, 9.4 GB per sample). ``quick``: the small model at 32×32, batches 2 and 8,
fewer timed steps, one CPU thread (a smoke run of well under two minutes on two CPU cores).

Every run reports its figures against :data:`TARGETS` (``"targets"``: value, limit, value/limit,
met); the CPU's peak memory per clip needs a fresh process per configuration and is measured by
``ci/bench_video_cpu.py``, which reports against the same targets.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Dict, Optional, Sequence

import torch

from ..video.learner import NoetherVideo
from ..video.svg import svg_config
from ..core.checkpoints import auto_device
from ..core.outputs import check_output_file
from ..video.train import train_step
from .meter import TARGETS, count_ops, target_report

__all__ = ["bench_video", "AUTHORS_H100", "TARGETS", "count_ops", "target_report"]

AUTHORS_H100 = {"meta_s": {"2": 4.20, "8": 3.95}, "baseline_s": {"2": 0.97, "8": 0.90},
                "meta_samples_per_s_best": 2.0, "ratio": 4.3, "gb_per_sample": 9.4}


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _time_steps(fn, dev, warmup: int, iters: int, budget: Optional[float]) -> Dict[str, Any]:
    for _ in range(warmup):
        fn()
    _sync(dev)
    times = []
    t_all = time.perf_counter()
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        _sync(dev)
        times.append(time.perf_counter() - t0)
        if budget is not None and time.perf_counter() - t_all > budget:
            break
    return {"median_s": statistics.median(times), "n": len(times)}


def _check_bench_args(batches, variants, iters, warmup, budget, amp) -> None:
    if not batches or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in batches):
        raise ValueError(f"batches must be integers >= 1, got {list(batches)!r}")
    bad = sorted(set(variants) - {"exact", "fast"})
    if bad or not variants:
        raise ValueError(f"variants must be a non-empty subset of exact, fast; got {list(variants)!r}")
    if isinstance(iters, bool) or not isinstance(iters, int) or iters < 1:
        raise ValueError(f"iters must be an integer >= 1, got {iters!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    if budget is not None and not (isinstance(budget, (int, float)) and budget > 0):
        raise ValueError(f"budget_per_config must be a number of seconds > 0, got {budget!r}")
    if amp not in ("auto", "bf16", "none"):
        raise ValueError(f"amp must be 'auto', 'bf16' or 'none', got {amp!r}")


def bench_video(quick: bool = False, batches: Optional[Sequence[int]] = None, device: str = "auto", *,
                amp: str = "auto", channels_last: bool = False, variants: Sequence[str] = ("exact", "fast"),
                guard: bool = True, warmup: Optional[int] = None, iters: Optional[int] = None,
                n_frames: int = 22,
                budget_per_config: Optional[float] = None, count: bool = True, threads: Optional[int] = None,
                json_path: Optional[str] = None, progress: bool = True) -> Dict[str, Any]:
    """Time a baseline training step and a CNGrad meta-step per batch size.

    Args:
        quick: the small model at 32×32 (CPU); otherwise the paper-size model at 128×128.
        batches: batch sizes (default: 2, 8 quick; 2, 8, 32 full).
        warmup, iters: untimed and timed steps per configuration (default: 1, 3 quick; 2, 5 full).
        n_frames: frames per clip, 2 of them conditioning (22 as in the paper).
        amp: ``"auto"`` (bf16 on CUDA), ``"bf16"`` or ``"none"`` (fp32).
        variants: meta-step variants: ``"exact"`` (full second order, the paper's meta-gradient)
            and/or ``"fast"`` (``theta_second_order=False``: the inner step treats ``θ`` as
            constants, so ``g_φ`` and ``λ_in`` get exact meta-gradients and ``θ`` its direct one).
        guard: run the meta-step with the training guard (the training default).
        budget_per_config: stop timing a configuration after this many seconds (default 6 quick,
            20 full).
        count: also count the operators of one exact meta-step (``ops_exact``, at the smallest batch).
        threads: torch's CPU threads during the run (restored after). Default: 1 for ``quick`` on
            the CPU (its small model is bound by operator dispatch, and two threads on a shared
            machine can wait on each other for seconds per step), else torch's own.

    Returns:
        ``{"device", "mode", "amp", "rows": [{"batch", "baseline_s", "baseline_samples_per_s",
        "meta_<v>_s", "meta_<v>_samples_per_s", "ratio_<v>", "peak_gb_<...>", "gb_per_sample_<v>"}],
        "ops_<v>", "targets" (the exact meta-step against :data:`TARGETS`), "authors_h100"}``.
    """
    batches = tuple(batches) if batches is not None else ((2, 8) if quick else (2, 8, 32))
    warmup = warmup if warmup is not None else (1 if quick else 2)
    iters = iters if iters is not None else (3 if quick else 5)
    budget_per_config = budget_per_config if budget_per_config is not None else (6.0 if quick else 20.0)
    _check_bench_args(batches, variants, iters, warmup, budget_per_config, amp)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be an integer >= 1 or None, got {threads!r}")
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 3:
        raise ValueError(f"n_frames must be an integer >= 3 (2 conditioning frames and one to predict), "
                         f"got {n_frames!r}")
    check_output_file(json_path, "json_path")
    dev = auto_device(device)
    if threads is None and quick and dev.type == "cpu":
        threads = 1
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _bench(dev, quick, batches, amp, channels_last, variants, guard, warmup, iters, n_frames,
                      budget_per_config, count, json_path, progress)
    finally:
        torch.set_num_threads(before)


def _bench(dev, quick, batches, amp, channels_last, variants, guard, warmup, iters, n_frames,
           budget_per_config, count, json_path, progress) -> Dict[str, Any]:
    cfg = svg_config("quick", 32) if quick else svg_config("paper", 128)
    say = print if progress else (lambda *a, **k: None)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    rows = []
    ops: Dict[str, int] = {}
    for B in batches:
        row: Dict[str, Any] = {"batch": B}
        torch.manual_seed(0)
        learner = NoetherVideo(cfg).to(dev)
        if channels_last:
            learner.set_channels_last(True)
        opt = torch.optim.Adam(learner.parameters(), lr=1e-4)
        clip = torch.rand(B, n_frames, 3, cfg.image_size, cfg.image_size, device=dev)
        nf = n_frames - cfg.n_past
        noise = (torch.randn(nf, B, cfg.z_dim, device=dev), torch.randn(n_frames - 1, B, cfg.z_dim, device=dev))
        configs = [("baseline", 0, True)] + [(f"meta_{v}", 1, v == "exact") for v in variants]
        for name, steps, tso in configs:
            learner.theta_second_order = tso
            if dev.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(dev)
            try:
                r = _time_steps(lambda: train_step(learner, opt, clip, steps=steps, noise=noise, amp=amp, guard=guard),
                                dev, warmup, iters, budget_per_config)
            except torch.cuda.OutOfMemoryError:
                row[f"{name}_s"] = "oom"
                opt.zero_grad(set_to_none=True)
                say(f"  batch {B:3d} {name:12s} out of memory")
                continue
            row[f"{name}_s"] = r["median_s"]
            row[f"{name}_samples_per_s"] = B / r["median_s"]
            row[f"{name}_n_timed"] = r["n"]
            if dev.type == "cuda":
                peak = torch.cuda.max_memory_allocated(dev) / 1e9
                row[f"peak_gb_{name}"] = peak
                row[f"gb_per_sample_{name}"] = peak / B
            say(f"  batch {B:3d} {name:12s} {r['median_s']:.3f} s/step  {B / r['median_s']:.2f} samples/s"
                + (f"  peak {row[f'peak_gb_{name}']:.2f} GB" if dev.type == "cuda" else ""))
            if count and B == min(batches) and name == "meta_exact":  # the count hardly depends on the batch
                ops["exact"] = count_ops(
                    lambda: train_step(learner, opt, clip, steps=steps, noise=noise, amp=amp, guard=guard))
                say(f"  batch {B:3d} {name:12s} {ops['exact']} operators per step")
        for v in variants:
            if isinstance(row.get(f"meta_{v}_s"), float) and isinstance(row.get("baseline_s"), float):
                row[f"ratio_{v}"] = row[f"meta_{v}_s"] / row["baseline_s"]
        rows.append(row)
        del learner, opt, clip
        if json_path:  # written after every batch size, so a cut-off run keeps what it measured
            _write(json_path, _summary(dev, quick, cfg, n_frames, amp, channels_last, rows, guard, ops))
    out = _summary(dev, quick, cfg, n_frames, amp, channels_last, rows, guard, ops)
    for t in out["targets"]:
        say(f"  target {t['target']:14s} {t['value']:10.4g} ({t['kind']} {t['limit']:g}): "
            f"{t['ratio']:.2f}× the limit, {'met' if t['met'] else 'NOT met'}")
    if json_path:
        _write(json_path, out)
    return out


def _write(path: str, obj) -> None:
    from ..core.outputs import write_json

    write_json(path, obj)


def _exact_values(rows, ops) -> Dict[str, Any]:
    """The exact meta-step's figures that :data:`TARGETS` names: the worst ratio and memory per clip
    over the batches, the best throughput."""
    def num(key):
        return [r[key] for r in rows if isinstance(r.get(key), (int, float))]

    vals: Dict[str, Any] = {"ops": ops.get("exact")}
    for key, name, pick in (("ratio_exact", "ratio", max), ("meta_exact_samples_per_s", "samples_per_s", max),
                            ("gb_per_sample_meta_exact", "gb_per_sample", max)):
        if num(key):
            vals[name] = pick(num(key))
    return vals


def _summary(dev, quick, cfg, n_frames, amp, channels_last, rows, guard, ops):
    return {"targets": target_report(_exact_values(rows, ops), dev.type),
            **{f"ops_{k}": v for k, v in ops.items()},
            "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            "mode": "quick" if quick else "full", "image_size": cfg.image_size, "n_frames": n_frames,
            "amp": amp if not (amp == "auto") else ("bf16" if dev.type == "cuda" else "fp32"),
            "channels_last": channels_last, "guard": guard, "torch": torch.__version__,
            "threads": torch.get_num_threads() if dev.type == "cpu" else None, "rows": rows,
            "authors_h100": AUTHORS_H100}
