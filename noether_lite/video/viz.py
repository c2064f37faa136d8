"""Figures for the video chapters: frame strips, metrics per horizon, the K sweep,
and a saliency map of the Noether embedding ``g_φ``."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

__all__ = ["frame_strip", "plot_horizon", "plot_k_sweep", "embedding_saliency", "plot_saliency", "save_strip_png"]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _img(x: Tensor):
    return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()  # (H, W, 3)


def frame_strip(rows: Dict[str, Tensor], *, clip: int = 0, every: int = 2, start: int = 0, title: Optional[str] = None):
    """Rows of frames (e.g. truth, SVG, Noether), each ``(B, T, 3, H, W)``; every ``every``-th frame.

    Returns:
        the matplotlib figure.
    """
    plt = _plt()
    names = list(rows)
    T = min(v.shape[1] for v in rows.values())
    idx = list(range(start, T, every))
    fig, axes = plt.subplots(len(names), len(idx), figsize=(1.1 * len(idx), 1.2 * len(names)), squeeze=False)
    for r, name in enumerate(names):
        for c, t in enumerate(idx):
            ax = axes[r][c]
            ax.imshow(_img(rows[name][clip, t]))
            ax.set_xticks([]); ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
            if r == 0:
                ax.set_title(f"t+{t + 1}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
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
