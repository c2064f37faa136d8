"""The fused normalisation and LeakyReLU: equal to torch's, and twice differentiable."""
import pytest
import torch

torch.set_num_threads(1)


def test_fused_norm_and_leaky_relu_match_torch_and_differentiate_twice():
    from torch.autograd import gradcheck, gradgradcheck

    from noether_lite.video.ops import leaky_relu, normalize

    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 4, 5, 5, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(3, 4, 1, 1, dtype=torch.float64, generator=g, requires_grad=True)
    ref = torch.nn.functional.group_norm(x, 1, eps=1e-5)
    torch.testing.assert_close(normalize(x), ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(leaky_relu(x, 0.2), torch.nn.functional.leaky_relu(x, 0.2), rtol=0, atol=0)

    def block(x, w):  # what ConvNormAct applies after its convolution
        return leaky_relu(torch.addcmul(0.1 * w, normalize(x), w), 0.2)

    assert gradcheck(block, (x, w)) and gradgradcheck(block, (x, w))
    with pytest.raises(ValueError, match="positive"):
        leaky_relu(x, 0.0)
