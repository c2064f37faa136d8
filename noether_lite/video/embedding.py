"""The Noether embedding for video: ``g_φ`` on two stacked consecutive frames.

A single frame shows a position but not a velocity, so the video "state" at time ``t``
is the pair ``(x_t, x_{t+1})`` (:func:`frame_pairs`). The Noether loss of a clip is then
:func:`noether_lite.core.conservation.noether_loss` in its consecutive form over the
sequence of pairs (:func:`video_noether_loss`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..core.conservation import noether_loss

__all__ = ["ConvEmbedding", "frame_pairs", "video_noether_loss"]


def frame_pairs(frames: Tensor) -> Tensor:
    """Consecutive frames stacked on the channels: ``(B, T, C, H, W) -> (B, T-1, 2C, H, W)``."""
    if frames.ndim != 5 or frames.shape[1] < 2:
        raise ValueError(f"frames must have shape (B, T, C, H, W) with T >= 2; got {tuple(frames.shape)}")
    return torch.cat([frames[:, :-1], frames[:, 1:]], dim=2)


def video_noether_loss(g: nn.Module, frames: Tensor) -> Tensor:
    """``Σ_t ‖g(x_{t-1}, x_t) − g(x_t, x_{t+1})‖²`` per example, ``(B,)`` (at least float32).

    The consecutive-form :func:`~noether_lite.core.conservation.noether_loss` on the frame
    pairs; needs ``T >= 3`` frames (two pairs).
    """
    return noether_loss(g, frame_pairs(frames), form="consecutive", state_ndim=3)


class ConvEmbedding(nn.Module):
    """Noether embedding ``g_φ`` on two stacked consecutive frames.

    conv5×5(w) – ReLU – maxpool – conv5×5(2w) – ReLU – maxpool – linear(k):
    ``(..., 2C, S, S) -> (..., k)`` (paper: w = 32, k = 64).
    """

    def __init__(self, channels: int = 3, image_size: int = 64, width: int = 32, out_dim: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2 * channels, width, 5, 1, 2)
        self.conv2 = nn.Conv2d(width, 2 * width, 5, 1, 2)
        self.fc = nn.Linear(2 * width * (image_size // 4) ** 2, out_dim)

    channels_last = False

    def forward(self, pairs: Tensor) -> Tensor:
        """``(..., 2C, S, S) -> (..., k)``: any leading shape (e.g. ``(B, T, ...)``)."""
        lead = pairs.shape[:-3]
        x = pairs.reshape(-1, *pairs.shape[-3:])
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.fc(h.flatten(1)).view(*lead, -1)
