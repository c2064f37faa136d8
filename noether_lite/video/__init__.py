"""Video prediction with Noether Networks: the data, the models and the learner.

* :mod:`.render` — synthetic ramp and controlled-pendulum videos; :mod:`.physics101` — real clips.
* :mod:`.svg` — SVG-LP with conditional normalisation (the predictor).
* :mod:`.embedding` — ``g_φ`` on frame pairs and the video Noether loss.
* :mod:`.learner` — :class:`NoetherVideo`, the predictor tailored with CNGrad.
* :mod:`.train` — training on :func:`noether_lite.core.train.fit`, and evaluation per horizon.
* :mod:`.metrics` — MSE, PSNR, SSIM per frame.

The experiments are in :mod:`noether_lite.experiments.video` (``run_video``) and
:mod:`noether_lite.experiments.bench`; the figures in :mod:`noether_lite.viz.video`.
"""
from .render import (
    PendulumVideoConfig, RampConfig, VideoData, load_or_render, ramp_motion, render_pendulum, render_ramp,
)
from .physics101 import Physics101Ramp, find_ramp_clips, load_physics101
from .svg import SVG, SVGConfig, svg_config
from .embedding import ConvEmbedding, frame_pairs, video_noether_loss
from .learner import VIDEO_TAILOR, NoetherVideo
from .metrics import horizon_metrics, mse_per_frame, psnr_per_frame, ssim, ssim_per_frame
from .train import VideoTrainConfig, evaluate, train_step, train_video

__all__ = [
    "RampConfig", "PendulumVideoConfig", "VideoData", "render_ramp", "render_pendulum", "load_or_render",
    "ramp_motion", "Physics101Ramp", "find_ramp_clips", "load_physics101",
    "SVGConfig", "SVG", "svg_config", "ConvEmbedding", "frame_pairs", "video_noether_loss",
    "NoetherVideo", "VIDEO_TAILOR",
    "ssim", "ssim_per_frame", "mse_per_frame", "psnr_per_frame", "horizon_metrics",
    "VideoTrainConfig", "train_step", "train_video", "evaluate",
]
