"""Chapter 6 (video of ramps): the exercise checks."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._core import _Wrong, _as_tensor, _call, _close, _exercise, _shape

__all__ = ['psnr', 'stack_frames']


def _ref_psnr(pred: Tensor, target: Tensor, data_range: float) -> Tensor:
    mse = ((pred - target) ** 2).mean(dim=(-3, -2, -1))
    return 10 * torch.log10(data_range**2 / mse)


@_exercise("psnr")
def psnr(fn: Callable) -> str:
    """``psnr(pred, target, data_range=1.0)``: per-frame PSNR in dB, frames ``(..., C, H, W)`` → ``(...)``."""
    target = torch.rand(2, 3, 1, 8, 8)
    pred = (target + 0.05 * torch.randn_like(target) * torch.arange(1, 4).view(1, 3, 1, 1, 1)).clamp(0, 1)
    ref = _ref_psnr(pred, target, 1.0)
    got = _as_tensor(_call(fn, pred, target), "the PSNR")
    if got.ndim == 0:
        if _close(got, ref.mean(), 1e-4):
            raise _Wrong("you averaged over frames; return one PSNR per frame, shape (B, T), and average later")
        mse_all = ((pred - target) ** 2).mean()
        if _close(got, 10 * torch.log10(1 / mse_all), 1e-4):
            raise _Wrong("you pooled the MSE of all frames before the log; PSNR is per frame, shape (B, T)")
        raise _Wrong(f"expected one PSNR per frame, shape {tuple(ref.shape)}, got a scalar")
    _shape(got, ref.shape, "the PSNR")
    if _close(got, ref, 1e-4):
        got2 = _call(fn, pred * 2 - 1, target * 2 - 1, data_range=2.0)
        got2 = _as_tensor(got2, "the PSNR for data_range=2", ref.shape)
        if not _close(got2, ref, 1e-4):
            raise _Wrong("right for data_range=1 but not for images in [−1, 1] with data_range=2: use data_range² / MSE")
        return "10 log10(data_range² / MSE) per frame"
    mse = ((pred - target) ** 2).mean(dim=(-3, -2, -1))
    if _close(got, _ref_psnr(pred, target, 2.0), 1e-4):
        raise _Wrong("you used a data range of 2 for images in [0, 1] (the authors' SSIM bug): it adds 6 dB")
    if _close(got, 10 * torch.log10(1 / mse.sqrt()), 1e-4) or _close(got, 20 * torch.log10(1 / mse), 1e-4):
        raise _Wrong("mixed up 10 log10 (of a ratio of squares) and 20 log10 (of a ratio of amplitudes)")
    if _close(got, -10 * torch.log10(1 / mse), 1e-4):
        raise _Wrong("wrong sign: PSNR = 10 log10(data_range² / MSE) grows as the error shrinks")
    if _close(got, 10 * torch.log(1 / mse), 1e-4):
        raise _Wrong("you used the natural log; PSNR uses log10")
    raise _Wrong("wrong values; expected 10 log10(data_range² / MSE) with the MSE over (C, H, W) of each frame")


@_exercise("stack_frames")
def stack_frames(fn: Callable) -> str:
    """``stack_frames(video)``: ``(B, T, C, H, W)`` → ``(B, T−1, 2C, H, W)``, pairs ``(x_{t−1}, x_t)`` on the channel axis."""
    v = torch.randn(2, 5, 3, 4, 4)
    ref = torch.cat([v[:, :-1], v[:, 1:]], dim=2)
    got = _as_tensor(_call(fn, v), "the stacked frames")
    if tuple(got.shape) == (2, 4, 3, 2, 4, 4) or tuple(got.shape) == (2, 4, 2, 3, 4, 4):
        raise _Wrong("you stacked along a new axis; concatenate on the channel axis so g_φ sees 2C channels")
    if tuple(got.shape) == (2, 5, 6, 4, 4):
        raise _Wrong("T pairs from T frames: the first frame has no predecessor, expected T−1 pairs")
    _shape(got, ref.shape, "the stacked frames")
    if _close(got, ref):
        return "(x_{t−1}, x_t) on the channel axis, T−1 pairs"
    if _close(got, torch.cat([v[:, 1:], v[:, :-1]], dim=2)):
        raise _Wrong("the pair is in the wrong order: previous frame first, then current, (x_{t−1}, x_t)")
    if _close(got, torch.stack([v[:, :-1], v[:, 1:]], dim=3).flatten(2, 3)):
        raise _Wrong("the channels of the two frames are interleaved; put all of x_{t−1}'s channels first (torch.cat)")
    raise _Wrong("wrong values; expected torch.cat([video[:, :-1], video[:, 1:]], dim=2)")


# ============================================================================ chapter 7
