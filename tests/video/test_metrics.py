"""Video metrics: SSIM against closed forms and scikit-image, PSNR per horizon."""
import pytest
import torch

from noether_lite.video.metrics import horizon_metrics, ssim, ssim_per_frame

torch.set_num_threads(1)


def test_ssim_of_an_image_with_itself_is_one():
    x = torch.rand(3, 3, 32, 32)
    torch.testing.assert_close(ssim(x, x), torch.ones(3, dtype=torch.float64))


def test_ssim_of_constant_images_has_the_closed_form():
    a, b = 0.3, 0.7
    x, y = torch.full((1, 1, 16, 16), a), torch.full((1, 1, 16, 16), b)
    c1 = 0.01 ** 2
    want = (2 * a * b + c1) / (a * a + b * b + c1)
    assert ssim(x, y).item() == pytest.approx(want, rel=1e-6)


def test_ssim_matches_scikit_image():
    skm = pytest.importorskip("skimage.metrics")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 32, 32, generator=g, dtype=torch.float64)
    y = (x + 0.1 * torch.randn(x.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    ours = ssim(x, y)
    for i in range(2):
        ref = skm.structural_similarity(x[i].numpy(), y[i].numpy(), channel_axis=0, data_range=1.0,
                                        gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        assert ours[i].item() == pytest.approx(ref, abs=1e-6)


def test_horizon_metrics_shapes_and_psnr():
    t = torch.zeros(4, 5, 3, 16, 16)
    p = t + 0.1
    m = horizon_metrics(p, t)
    assert m["psnr"]["mean"][0] == pytest.approx(20.0, abs=1e-4)
    assert len(m["ssim"]["se"]) == 5
    with pytest.raises(ValueError, match="differ"):
        ssim_per_frame(p[:, :2], t)
