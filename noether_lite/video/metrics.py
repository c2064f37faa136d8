"""Frame metrics per prediction horizon: MSE, PSNR and SSIM.

SSIM follows Wang et al. (2004) with an 11×11 Gaussian window (σ = 1.5),
``K1 = 0.01``, ``K2 = 0.03`` and **data range 1** for images in [0, 1] (the
authors' code inferred a range of 2, which inflates SSIM). It is computed over
the valid region of the window and averaged over channels, which matches
``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1, channel_axis=...)``.
"""
from __future__ import annotations

import math
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["mse_per_frame", "psnr_per_frame", "ssim", "ssim_per_frame", "horizon_metrics", "mean_se"]


def mse_per_frame(pred: Tensor, true: Tensor) -> Tensor:
    """``(B, T, C, H, W) x2 -> (B, T)`` mean squared error per frame."""
    _check(pred, true)
    return (pred.float() - true.float()).pow(2).mean(dim=(2, 3, 4))


def psnr_per_frame(pred: Tensor, true: Tensor, *, eps: float = 1e-10) -> Tensor:
    """``(B, T)`` PSNR in dB for data range 1."""
    return -10.0 * torch.log10(mse_per_frame(pred, true).clamp_min(eps))


def _gaussian_window(size: int, sigma: float, device, dtype) -> Tensor:
    x = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    w = torch.exp(-x ** 2 / (2 * sigma ** 2))
    w = w / w.sum()
    return w[:, None] * w[None, :]  # (size, size)


def ssim(x: Tensor, y: Tensor, *, data_range: float = 1.0, win: int = 11, sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03) -> Tensor:
    """Mean SSIM of images ``(N, C, H, W)`` -> ``(N,)`` (computed in float64).

    Raises:
        ValueError: shapes differ, or the images are smaller than the window.
    """
    _check(x, y)
    if x.ndim != 4:
        raise ValueError(f"ssim expects (N, C, H, W); got {tuple(x.shape)}")
    if min(x.shape[-2:]) < win:
        raise ValueError(f"images {tuple(x.shape[-2:])} are smaller than the {win}×{win} SSIM window")
    x, y = x.double(), y.double()
    N, C = x.shape[:2]
    w = _gaussian_window(win, sigma, x.device, x.dtype).expand(C, 1, win, win)
    filt = lambda a: F.conv2d(a, w, groups=C)  # noqa: E731  valid region, per channel
    mx, my = filt(x), filt(y)
    sxx = filt(x * x) - mx * mx
    syy = filt(y * y) - my * my
    sxy = filt(x * y) - mx * my
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return s.mean(dim=(1, 2, 3))


def ssim_per_frame(pred: Tensor, true: Tensor) -> Tensor:
    """``(B, T, C, H, W) x2 -> (B, T)``."""
    _check(pred, true)
    B, T = pred.shape[:2]
    return ssim(pred.reshape(B * T, *pred.shape[2:]), true.reshape(B * T, *true.shape[2:])).view(B, T)


def mean_se(v: Tensor) -> Dict[str, List[float]]:
    """Mean and standard error over clips: ``(B, T) -> {"mean": [T], "se": [T]}``."""
    v = v.double()
    se = v.std(0, unbiased=True) / math.sqrt(v.shape[0]) if v.shape[0] > 1 else torch.zeros(v.shape[1])
    return {"mean": v.mean(0).tolist(), "se": se.tolist()}


def horizon_metrics(pred: Tensor, true: Tensor) -> Dict[str, Dict[str, List[float]]]:
    """MSE, PSNR and SSIM per horizon (mean ± standard error over clips)."""
    return {
        "mse": mean_se(mse_per_frame(pred, true)),
        "psnr": mean_se(psnr_per_frame(pred, true)),
        "ssim": mean_se(ssim_per_frame(pred, true)),
    }


def _check(a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"prediction and truth shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
