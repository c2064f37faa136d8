"""Figures for the video chapters: frame strips, metrics per horizon, the K sweep,
and a saliency map of the Noether embedding ``g_φ``."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

__all__ = ["frame_strip", "plot_horizon", "plot_k_sweep", "embedding_saliency", "plot_saliency", "save_strip_png",
           "seed_table", "plot_seed_gaps", "bench_table", "plot_bench", "describe_bench", "horizon_table"]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _img(x: Tensor):
    return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()  # (H, W, 3)


def frame_strip(rows: Dict[str, Tensor], *, clip: int = 0, every: int = 2, start: int = 0,
                title: Optional[str] = None, motion: bool = True):
    """Rows of frames (e.g. truth, SVG, Noether), each ``(B, T, 3, H, W)``; every ``every``-th frame.

    Frames are drawn pixel for pixel (no smoothing), so a 32×32 frame is a crisp mosaic rather
    than a blur. With ``motion`` a last column shows, per row, where the frames differ from the
    first one shown (the largest change over the strip, per pixel): the track of what moves, and
    whether a prediction moves at all.

    Returns:
        the matplotlib figure.
    """
    if not rows:
        raise ValueError("frame_strip needs at least one row of frames")
    for name, v in rows.items():
        if v.dim() != 5 or v.shape[2] != 3:
            raise ValueError(f"row {name!r}: frames must be (B, T, 3, H, W), got {tuple(v.shape)}")
        if not 0 <= clip < v.shape[0]:
            raise ValueError(f"clip must be in [0, {v.shape[0] - 1}] (row {name!r} has {v.shape[0]} clips), got {clip}")
    if every < 1 or start < 0:
        raise ValueError(f"every must be >= 1 and start >= 0, got every={every}, start={start}")
    plt = _plt()
    names = list(rows)
    T = min(v.shape[1] for v in rows.values())
    idx = list(range(start, T, every))
    if not idx:
        raise ValueError(f"start={start} is past the last frame ({T - 1})")
    cols = len(idx) + bool(motion)
    fig, axes = plt.subplots(len(names), cols, figsize=(1.35 * cols, 1.45 * len(names)), squeeze=False)
    for r, name in enumerate(names):
        for c, t in enumerate(idx):
            ax = axes[r][c]
            ax.imshow(_img(rows[name][clip, t]), interpolation="nearest")
            ax.set_xticks([]); ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=11)
            if r == 0:
                ax.set_title(f"t+{t + 1}", fontsize=10)
    if motion:  # one colour scale for every row, so that "moved less" reads as darker
        changes = []
        for name in names:
            frames = rows[name][clip, idx].detach().float().cpu().clamp(0, 1)
            changes.append((frames - frames[:1]).abs().amax(dim=(0, 1)))  # (H, W): largest change
        top = max(float(c.max()) for c in changes) or 1.0
        for r, change in enumerate(changes):
            ax = axes[r][-1]
            ax.imshow(change.numpy(), cmap="magma", vmin=0, vmax=top, interpolation="nearest")
            ax.set_xticks([]); ax.set_yticks([])
            if r == 0:
                ax.set_title("what moved", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def save_strip_png(rows: Dict[str, Tensor], path: str, **kw) -> None:
    """Save :func:`frame_strip` to a PNG file."""
    fig = frame_strip(rows, **kw)
    fig.savefig(path, dpi=80)
    _plt().close(fig)


def plot_horizon(result: Dict, metrics: Sequence[str] = ("mse", "psnr", "ssim"), *, title: Optional[str] = None):
    """Noether vs SVG per horizon (mean ± standard error when ``result["se"]`` is present)."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        for name, colour in (("svg", "tab:blue"), ("noether", "tab:red")):
            y = torch.tensor(result[m][name])
            h = torch.arange(1, len(y) + 1)
            ax.plot(h, y, color=colour, label={"svg": "SVG", "noether": "Noether"}[name])
            if "se" in result:
                se = torch.tensor(result["se"][m][name])
                ax.fill_between(h, y - se, y + se, color=colour, alpha=0.2)
        ax.set_xlabel("horizon (frames)")
        ax.set_ylabel(m.upper())
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_k_sweep(result: Dict, metric: str = "psnr"):
    """Mean ``metric`` over the horizon vs the number of test-time tailoring steps ``K``."""
    plt = _plt()
    ks = sorted(result["k_sweep"], key=int)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([int(k) for k in ks], [result["k_sweep"][k][metric] for k in ks], "o-", color="tab:red", label="Noether, K steps")
    ax.axhline(sum(result[metric]["svg"]) / len(result[metric]["svg"]), color="tab:blue", ls="--", label="SVG")
    ax.set_xlabel("test-time steps K")
    ax.set_ylabel(f"mean {metric.upper()}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def embedding_saliency(g: torch.nn.Module, clip: Tensor, t: int = 0) -> Tensor:
    """|∂ ‖g(x_t, x_{t+1})‖² / ∂ pixels|, summed over channels and the two frames.

    Args:
        g: the embedding (stacked pairs ``(N, 2C, H, W) -> (N, k)``).
        clip: one clip ``(T, C, H, W)``.

    Returns:
        ``(H, W)`` saliency, normalised to max 1.
    """
    pair = torch.cat([clip[t], clip[t + 1]], 0)[None].detach().clone().requires_grad_(True)  # (1, 2C, H, W)
    with torch.enable_grad():
        out = g(pair.to(next(g.parameters()).dtype)).pow(2).sum()
        (grad,) = torch.autograd.grad(out, pair)
    s = grad.abs().sum(dim=(0, 1))
    return s / s.max().clamp_min(1e-12)


def plot_saliency(g: torch.nn.Module, clip: Tensor, t: int = 0):
    """Frame ``t`` next to the saliency map of ``g_φ`` on the pair ``(t, t+1)``."""
    plt = _plt()
    s = embedding_saliency(g, clip, t)
    fig, axes = plt.subplots(1, 2, figsize=(5, 2.6))
    axes[0].imshow(_img(clip[t])); axes[0].set_title("frame")
    axes[1].imshow(s.cpu().numpy(), cmap="magma"); axes[1].set_title("saliency of g")
    for ax in axes:
        ax.set_xticks([]); ax.set_yticks([])
    fig.tight_layout()
    return fig


def horizon_table(result: Dict, horizons: Sequence[int]) -> str:
    """PSNR and SSIM of SVG and the Noether Network at the given (1-based) horizons of a
    :func:`~noether_lite.video.run_video` result, one line each."""
    p, s = result["psnr"], result["ssim"]
    n = len(p["svg"])
    bad = [h for h in horizons if not 1 <= h <= n]
    if bad:
        raise ValueError(f"horizons must be in 1..{n}; got {bad}")
    lines = ["horizon   PSNR svg / noether    SSIM svg / noether"]
    for h in horizons:
        lines.append(f"{h:7d}   {p['svg'][h-1]:8.1f} / {p['noether'][h-1]:.1f}    {s['svg'][h-1]:8.2f} / {s['noether'][h-1]:.2f}")
    return "\n".join(lines)


def seed_table(seeds: Dict) -> str:
    """A text table of a ``ci/video_quick_seeds.py`` file: mean PSNR and SSIM per seed and the
    Noether − SVG gaps (untailored, K = 0, and after one test-time step, K = 1), then their
    mean ± standard error over seeds."""
    import math

    runs = seeds.get("runs", [])
    if not runs:
        return "no seeds recorded"
    lines = ["seed | PSNR svg  K=0    K=1  | gap K=0  gap K=1 | SSIM svg  K=1  | reverted"]
    g0 = [r["psnr"]["noether_k0"] - r["psnr"]["svg"] for r in runs]
    g1 = [r["psnr"]["noether"] - r["psnr"]["svg"] for r in runs]
    for r, a, b in zip(runs, g0, g1):
        p, q = r["psnr"], r["ssim"]
        lines.append(f"{r['seed']:4d} | {p['svg']:8.2f} {p['noether_k0']:6.2f} {p['noether']:6.2f} | {a:+7.2f}  {b:+7.2f} "
                     f"| {q['svg']:8.3f} {q['noether']:5.3f} | {r['reverted']} of {r['of']}")

    def ms(v):
        m = sum(v) / len(v)
        se = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1) / len(v)) if len(v) > 1 else float("nan")
        return f"{m:+.2f} ± {se:.2f}"

    lines.append(f"mean gap over {len(runs)} seeds (± s.e.): K=0 {ms(g0)} dB, K=1 {ms(g1)} dB; "
                 f"Noether ahead at K=1 in {sum(b > 0 for b in g1)} of {len(runs)} seeds")
    return "\n".join(lines)


def plot_seed_gaps(seeds: Dict, *, title: Optional[str] = None):
    """Noether − SVG mean PSNR per seed, untailored (K = 0) and after one step (K = 1)."""
    plt = _plt()
    runs = seeds.get("runs", [])
    fig, ax = plt.subplots(figsize=(5, 2.8))
    x = [r["seed"] for r in runs]
    ax.axhline(0, color="grey", lw=0.8)
    ax.plot(x, [r["psnr"]["noether_k0"] - r["psnr"]["svg"] for r in runs], "o", label="K = 0 (meta-trained, untailored)")
    ax.plot(x, [r["psnr"]["noether"] - r["psnr"]["svg"] for r in runs], "s", label="K = 1 (one test-time step)")
    ax.set_xlabel("seed"); ax.set_ylabel("PSNR gap to SVG (dB)"); ax.set_xticks(x)
    ax.legend(fontsize=8)
    ax.set_title(title or f"{seeds.get('dataset', '')}, quick mode: Noether − SVG per seed", fontsize=10)
    fig.tight_layout()
    return fig


_BENCH_LABELS = {"baseline": "SVG step", "exact": "meta, exact", "fast": "meta, CN-only 2nd order",
                 "fast+noguard": "… without guard", "exact+noguard": "exact, without guard"}


def _bench_runs(bench: Dict) -> Dict[str, Dict]:
    """``{name: run}`` of a benchmark result: several named runs, one run (name ``""``) or none."""
    if not isinstance(bench, dict):
        raise TypeError(f"a benchmark result is a dict, got {type(bench).__name__}")
    runs = {k: v for k, v in bench.items() if isinstance(v, dict) and "rows" in v}
    return runs or ({"": bench} if "rows" in bench else {})


def bench_table(bench: Dict) -> str:
    """Text table of a ``ci/bench_video_cpu.py`` result (``{"before": ..., "after": ...}`` or one run):
    seconds per step, peak memory per clip and operator count, each also as a multiple of the
    baseline step of the same run."""
    runs = _bench_runs(bench)
    if not runs:
        return "no benchmark result (a ci/bench_video_cpu.py JSON file has 'rows')"
    lines = []
    for name, run in runs.items():
        if name:
            lines.append(f"{name}:")
        lines.append("  config                    s/step  × base | GB/clip  × base | operators  × base")
        for r in run["rows"]:
            lines.append(f"  {_BENCH_LABELS.get(r['config'], r['config']):24s} {r['median_s']:6.1f} {r.get('time_ratio', 1):6.2f} | "
                         f"{r['gb_per_sample']:7.2f} {r.get('memory_ratio', 1):6.2f} | {r['ops']:9d} {r.get('ops_ratio', 1):6.1f}")
    return "\n".join(lines)


def describe_bench(run: Dict) -> str:
    """One sentence per meta-step configuration of one benchmark run: its time, memory per clip
    and operator count as multiples of the SVG step of the same run."""
    lines = []
    for r in run.get("rows", []):
        if r["config"] == "baseline":
            continue
        lines.append(f"{_BENCH_LABELS.get(r['config'], r['config'])}: {r.get('time_ratio', float('nan')):.1f}x the "
                     f"time of an SVG step, {r.get('memory_ratio', float('nan')):.1f}x its memory per clip, "
                     f"{r.get('ops_ratio', float('nan')):.0f}x its operators")
    return "\n".join(lines) or "no meta-step configuration in this run"


def plot_bench(bench: Dict, *, title: Optional[str] = None):
    """Bars: each configuration as a multiple of the baseline step, in time, memory and operators,
    for every run in ``bench`` (e.g. before and after); ``None`` (no figure) when it holds none."""
    plt = _plt()
    runs = _bench_runs(bench)
    if not runs:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.0))
    keys = (("time_ratio", "time per step"), ("memory_ratio", "memory per clip"), ("ops_ratio", "operators (≈ GPU launches)"))
    width = 0.8 / max(1, len(runs))
    for ax, (key, label) in zip(axes, keys):
        for i, (name, run) in enumerate(runs.items()):
            rows = [r for r in run["rows"] if r["config"] != "baseline"]
            xs = [j + i * width for j in range(len(rows))]
            ax.bar(xs, [r.get(key, float("nan")) for r in rows], width=width, label=name or None)
            ax.set_xticks([j + (len(runs) - 1) * width / 2 for j in range(len(rows))])
            ax.set_xticklabels([_BENCH_LABELS.get(r["config"], r["config"]).replace(", ", "\n") for r in rows], fontsize=7)
        ax.axhline(1, color="grey", lw=0.8)
        ax.set_title(f"{label}, × SVG step", fontsize=9)
    if len(runs) > 1:
        axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
