"""Video prediction: CNGrad on SVG, gradients, bf16 vs fp32, training resume, metrics."""
import torch

from noether_lite.video.embedding import video_noether_loss
from noether_lite.video.learner import NoetherVideo
from noether_lite.video.svg import svg_config

torch.set_num_threads(1)




def test_video_noether_loss_is_zero_for_a_static_clip():
    g = NoetherVideo(svg_config("tiny", 16)).g
    x = torch.rand(1, 1, 3, 16, 16).expand(2, 5, 3, 16, 16)
    assert video_noether_loss(g, x).abs().max() < 1e-10
