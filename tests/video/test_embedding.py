"""The frame-pair embedding and the video Noether loss (the consecutive form on pairs)."""
import pytest
import torch

from noether_lite.video.embedding import video_noether_loss
from noether_lite.video.learner import NoetherVideo
from noether_lite.video.svg import svg_config

torch.set_num_threads(1)




def test_video_noether_loss_is_zero_for_a_static_clip():
    g = NoetherVideo(svg_config("tiny", 16)).g
    x = torch.rand(1, 1, 3, 16, 16).expand(2, 5, 3, 16, 16)
    assert video_noether_loss(g, x).abs().max() < 1e-10


def test_the_video_loss_is_the_consecutive_noether_loss_on_frame_pairs():
    from noether_lite.core.conservation import noether_loss
    from noether_lite.video.embedding import ConvEmbedding, frame_pairs

    torch.manual_seed(0)
    g = ConvEmbedding(channels=3, image_size=16, width=4, out_dim=5).double()
    x = torch.rand(2, 5, 3, 16, 16, dtype=torch.float64)
    by_hand = torch.zeros(2, dtype=torch.float64)
    for b in range(2):
        e = [g(torch.cat([x[b, t], x[b, t + 1]], 0)[None])[0] for t in range(4)]  # one pair at a time
        by_hand[b] = sum(((e[t + 1] - e[t]) ** 2).sum() for t in range(3))
    torch.testing.assert_close(video_noether_loss(g, x), by_hand)
    torch.testing.assert_close(noether_loss(g, frame_pairs(x), form="consecutive", state_ndim=3), by_hand)
    with pytest.raises(ValueError, match="T >= 2"):
        frame_pairs(x[:, :1])
