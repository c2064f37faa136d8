"""Video prediction with Noether Networks: synthetic ramp and controlled-pendulum videos,
SVG-LP with CNGrad meta-training, metrics, benchmark.

Public names (chapters 6 and 7 use these)::

    from noether_lite.video import run_video, bench_video, RampConfig, render_ramp, ...
"""
from .render import (
    PendulumVideoConfig, RampConfig, VideoData, load_or_render, ramp_motion, render_pendulum, render_ramp,
)
from .physics101 import Physics101Ramp, find_ramp_clips, load_physics101
from .svg import ConvEmbedding, NoetherVideo, SVG, SVGConfig, noether_video_loss, svg_config
from .metrics import horizon_metrics, mse_per_frame, psnr_per_frame, ssim, ssim_per_frame
from .train import VideoTrainConfig, evaluate, train_step, train_video
from .experiment import (
    CLAIMS, VideoSetup, describe_comparison, full_runs, gap_summary, lesson_check, quick_reference, run_video,
    video_artifacts, video_setup,
)
from .bench import bench_video
from .viz import embedding_saliency, frame_strip, plot_horizon, plot_k_sweep, plot_saliency, plot_seed_gaps, seed_table, bench_table, describe_bench, plot_bench, horizon_table

__all__ = [
    "RampConfig", "PendulumVideoConfig", "VideoData", "render_ramp", "render_pendulum", "load_or_render",
    "ramp_motion", "Physics101Ramp", "find_ramp_clips", "load_physics101",
    "SVGConfig", "SVG", "ConvEmbedding", "NoetherVideo", "svg_config", "noether_video_loss",
    "ssim", "ssim_per_frame", "mse_per_frame", "psnr_per_frame", "horizon_metrics",
    "VideoTrainConfig", "train_step", "train_video", "evaluate",
    "VideoSetup", "video_setup", "run_video", "video_artifacts", "describe_comparison", "bench_video",
    "quick_reference", "lesson_check", "gap_summary", "CLAIMS", "full_runs",
    "frame_strip", "plot_horizon", "plot_k_sweep", "embedding_saliency", "plot_saliency", "seed_table", "plot_seed_gaps", "bench_table", "describe_bench", "plot_bench", "horizon_table",
]
