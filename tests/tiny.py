"""Small settings shared by several test modules."""
from dataclasses import replace

import torch

from noether_lite.experiments.video import VideoSetup
from noether_lite.video.learner import VIDEO_TAILOR, NoetherVideo
from noether_lite.video.render import RampConfig
from noether_lite.video.svg import svg_config
from noether_lite.video.train import VideoTrainConfig

#: A ramp run that trains in a second: 16×16 frames, the tiny model, 2 + 1 steps.
TINY_VIDEO = VideoSetup(
    dataset="ramp", mode="quick",
    data=RampConfig(size=16, n_frames=7, n_objects=4, clips_per_object=2),
    model=svg_config("tiny", 16),
    train=VideoTrainConfig(steps=0, batch_size=2, lr=1e-3, train_future=2, amp="none", log_every=1),
    pretrain_steps=2, fork_steps=1, n_future=5, k_sweep=(0, 1),
)


def tiny(dtype=torch.float64, **kw) -> NoetherVideo:
    """The tiny video learner (16×16), seeded, with ``λ_in = 0.5``."""
    torch.manual_seed(0)
    m = NoetherVideo(svg_config("tiny", 16, **kw), tailor=replace(VIDEO_TAILOR, inner_lr=0.5))
    return m.to(dtype)


def clip(B=3, T=6, dtype=torch.float64, seed=1):
    """Random clips ``(B, T, 3, 16, 16)`` in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, T, 3, 16, 16, generator=g, dtype=dtype)
