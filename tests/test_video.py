"""Video prediction: CNGrad on SVG, gradients, bf16 vs fp32, training resume, metrics."""
import math

import pytest
import torch

from noether_lite.video.metrics import horizon_metrics, ssim, ssim_per_frame
from noether_lite.video.render import RampConfig, render_ramp
from noether_lite.video.svg import NoetherVideo, noether_video_loss, svg_config
from noether_lite.video.train import VideoTrainConfig, check_clips, evaluate, train_video

torch.set_num_threads(1)


def tiny(dtype=torch.float64, **kw):
    torch.manual_seed(0)
    m = NoetherVideo(svg_config("tiny", 16, **kw), inner_lr=0.5)
    return m.to(dtype)


def clip(B=3, T=6, dtype=torch.float64, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, T, 3, 16, 16, generator=g, dtype=dtype)


def test_cn_tailoring_of_a_batch_equals_each_clip_alone():
    m = tiny()
    x = clip(B=3)
    eps = torch.randn(4, 3, m.cfg.z_dim, dtype=torch.float64)
    res = m.tailor(x[:, :2], 4, steps=2, eps=eps, first_order=True)
    for i in range(3):
        one = m.tailor(x[i:i + 1, :2], 4, steps=2, eps=eps[:, i:i + 1], first_order=True)
        for k, v in res.params.items():
            torch.testing.assert_close(v[i:i + 1], one.params[k], rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(res.loss_after[i:i + 1], one.loss_after)
    assert (res.loss_after <= res.loss_before).all()


def test_inner_step_lowers_the_noether_loss_and_guard_reports_counts():
    m = tiny()
    x = clip(B=4)
    res = m.tailor(x[:, :2], 4, steps=1, eps=None)
    assert res.reverted.shape == (4,) and res.n_reverted.ndim == 0
    assert (res.loss_after <= res.loss_before + 1e-12).all()


def _meta(m, x, noise):
    loss, _ = m.meta_loss(x, steps=1, noise=noise, guard=False)
    return loss


def test_outer_gradient_reaches_g_and_matches_finite_differences():
    m = tiny()
    x = clip(B=2, T=5)
    noise = (torch.randn(3, 2, m.cfg.z_dim, dtype=torch.float64), torch.randn(4, 2, m.cfg.z_dim, dtype=torch.float64))
    loss = _meta(m, x, noise)
    gfc, gconv = torch.autograd.grad(loss, [m.g.fc.weight, m.g.conv1.weight])
    assert gfc.abs().sum() > 0 and gconv.abs().sum() > 0
    # central finite differences on a few entries (float64)
    h = 1e-4
    for p, gp in ((m.g.fc.weight, gfc), (m.g.conv1.weight, gconv)):
        for j in (0, 7, 13):
            idx = (j % p.shape[0],) + (0,) * (p.ndim - 1)
            old = p.data[idx].item()
            p.data[idx] = old + h
            lp = _meta(m, x, noise).item()
            p.data[idx] = old - h
            lm = _meta(m, x, noise).item()
            p.data[idx] = old
            fd = (lp - lm) / (2 * h)
            assert math.isclose(fd, gp[idx].item(), rel_tol=1e-5, abs_tol=1e-12), (fd, gp[idx].item())


def test_theta_first_order_mode_keeps_the_exact_gradient_of_g():
    m = tiny()
    x = clip(B=2, T=5)
    noise = (torch.randn(3, 2, m.cfg.z_dim, dtype=torch.float64), torch.randn(4, 2, m.cfg.z_dim, dtype=torch.float64))
    g_exact = torch.autograd.grad(_meta(m, x, noise), list(m.g.parameters()) + [m.log_lr])
    m.theta_second_order = False
    g_fast = torch.autograd.grad(_meta(m, x, noise), list(m.g.parameters()) + [m.log_lr])
    for a, b in zip(g_exact, g_fast):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-12)


def test_bf16_autocast_agrees_with_fp32():
    """bf16 has an 8-bit mantissa: the meta loss agrees within 2% (relative); g's second-order
    gradient within 20% in norm and with cosine similarity > 0.97."""
    m = tiny(torch.float32)
    x = clip(B=2, T=5, dtype=torch.float32)
    noise = (torch.randn(3, 2, m.cfg.z_dim), torch.randn(4, 2, m.cfg.z_dim))
    l32 = _meta(m, x, noise)
    g32 = torch.autograd.grad(l32, m.g.fc.weight)[0]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        l16 = _meta(m, x, noise)
    g16 = torch.autograd.grad(l16, m.g.fc.weight)[0]
    print(l16.item(), l32.item(), (g16.float() - g32).norm() / g32.norm(),
          torch.nn.functional.cosine_similarity(g16.float().flatten(), g32.flatten(), dim=0))
    assert abs(l16.item() - l32.item()) <= 0.02 * abs(l32.item())
    assert (g16.float() - g32).norm() <= 0.2 * g32.norm()
    assert torch.nn.functional.cosine_similarity(g16.float().flatten(), g32.flatten(), dim=0) > 0.97


def test_action_conditioned_deterministic_variant():
    m = tiny(stochastic=False, action_dim=1)
    x = clip(B=2, T=5)
    a = torch.randn(2, 5, 1, dtype=torch.float64)
    loss, info = m.meta_loss(x, steps=1, actions=a)
    loss.backward()
    assert m.g.fc.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="action"):
        m.meta_loss(x, steps=1)


def test_training_resumes_exactly(tmp_path):
    data = render_ramp(RampConfig(size=16, n_frames=6, n_objects=3, clips_per_object=2))
    cfg = VideoTrainConfig(steps=4, batch_size=2, lr=1e-3, inner_steps=1, amp="none", log_every=2, ckpt_every=1)
    straight = tiny(torch.float32)
    train_video(straight, data, cfg, device="cpu", progress=False)
    resumed = tiny(torch.float32)
    ck = tmp_path / "ck.pt"
    train_video(resumed, data, cfg, device="cpu", progress=False, ckpt_path=ck, max_steps=2)
    again = tiny(torch.float32)
    h = train_video(again, data, cfg, device="cpu", progress=False, ckpt_path=ck)
    assert h["steps_done"] == 4
    for (k, a), b in zip(straight.state_dict().items(), again.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)


def test_frames_of_the_wrong_size_are_rejected():
    data = render_ramp(RampConfig(size=32, n_frames=6, n_objects=2, clips_per_object=1))
    with pytest.raises(ValueError, match="expects 16"):
        check_clips(data, image_size=16, min_frames=6)
    with pytest.raises(ValueError, match="at least 9"):
        check_clips(data, image_size=32, min_frames=9)


def test_evaluate_reports_per_horizon_mean_and_se():
    data = render_ramp(RampConfig(size=16, n_frames=6, n_objects=3, clips_per_object=2))
    m = tiny(torch.float32)
    ev = evaluate(m, data, n_future=4, steps=1, device="cpu")
    for k in ("mse", "psnr", "ssim"):
        assert len(ev[k]["mean"]) == 4 and len(ev[k]["se"]) == 4
    assert 0 <= ev["reverted"] <= len(data)


# ----------------------------------------------------------------------------- metrics

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


def test_noether_video_loss_is_zero_for_a_static_clip():
    g = NoetherVideo(svg_config("tiny", 16)).g
    x = torch.rand(1, 1, 3, 16, 16).expand(2, 5, 3, 16, 16)
    assert noether_video_loss(g, x).abs().max() < 1e-10
