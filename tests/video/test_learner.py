"""NoetherVideo: CNGrad per clip, the guard, exact meta-gradients, bf16 against fp32."""
import math

import pytest
import torch

from tests.tiny import clip, tiny

torch.set_num_threads(1)






def _meta(m, x, noise):
    loss, _ = m.meta_loss(x, steps=1, noise=noise, guard=False)
    return loss


def _fd(m, x, noise, p, idx, h=1e-4):
    old = p.data[idx].item()
    p.data[idx] = old + h
    lp = _meta(m, x, noise).item()
    p.data[idx] = old - h
    lm = _meta(m, x, noise).item()
    p.data[idx] = old
    return (lp - lm) / (2 * h)


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


def test_outer_gradient_reaches_g_and_matches_finite_differences():
    m = tiny()
    x = clip(B=2, T=5)
    noise = (torch.randn(3, 2, m.cfg.z_dim, dtype=torch.float64), torch.randn(4, 2, m.cfg.z_dim, dtype=torch.float64))
    loss = _meta(m, x, noise)
    gfc, gconv = torch.autograd.grad(loss, [m.g.fc.weight, m.g.conv1.weight])
    assert gfc.abs().sum() > 0 and gconv.abs().sum() > 0
    # central finite differences on a few entries (float64)
    for p, gp in ((m.g.fc.weight, gfc), (m.g.conv1.weight, gconv)):
        for j in (0, 7, 13):
            idx = (j % p.shape[0],) + (0,) * (p.ndim - 1)
            fd = _fd(m, x, noise, p, idx)
            assert math.isclose(fd, gp[idx].item(), rel_tol=1e-5, abs_tol=1e-12), (fd, gp[idx].item())


def test_cn_only_second_order_keeps_the_exact_gradient_of_g_and_exact_mode_is_exact_for_theta():
    m = tiny()
    assert m.theta_second_order  # the default: the exact meta-gradient
    m.theta_second_order = False
    x = clip(B=2, T=5)
    noise = (torch.randn(3, 2, m.cfg.z_dim, dtype=torch.float64), torch.randn(4, 2, m.cfg.z_dim, dtype=torch.float64))
    conv = m.svg.encoder.blocks[0][0].conv.weight  # SVG weights θ
    lstm = m.svg.predictor.ih[0].weight  # smooth in θ (no ReLU kinks between it and the loss's first use)
    ps = list(m.g.parameters()) + [m.inner_lr_module.log_lr, conv, lstm]
    g_fast = torch.autograd.grad(_meta(m, x, noise), ps)
    m.theta_second_order = True
    g_exact = torch.autograd.grad(_meta(m, x, noise), ps)
    for a, b in zip(g_exact[:-2], g_fast[:-2]):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-12)
    # θ: exact mode matches finite differences; the CN-only mode drops the second-order term
    for idx in ((0, 0), (5, 3)):
        fd = _fd(m, x, noise, lstm, idx)
        assert math.isclose(fd, g_exact[-1][idx].item(), rel_tol=1e-5, abs_tol=1e-12), (fd, g_exact[-1][idx].item())
    assert math.isclose(_fd(m, x, noise, conv, (1, 2, 1, 1), h=1e-7), g_exact[-2][1, 2, 1, 1].item(), rel_tol=1e-5)
    assert not torch.allclose(g_exact[-2], g_fast[-2], rtol=1e-3, atol=0)


def test_weights_cast_once_under_autocast_give_the_same_rollout():
    """The constant weights are cast to bf16 once per step; autocast would cast each weight
    at every call with the same rounding, so the inner loss is bit for bit the same."""
    m = tiny(torch.float32)
    x = clip(B=2, T=5, dtype=torch.float32)
    cn = m.svg.init_cn(2)
    eps = torch.randn(3, 2, m.cfg.z_dim)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        w = m.frozen_weights(x)
        assert all(v.dtype == torch.bfloat16 and not v.requires_grad for v in w.values())
        once = m.inner_loss(x[:, :2], 3, cn, eps=eps, weights=w)
        per_call = m.inner_loss(x[:, :2], 3, cn, eps=eps, weights={k: v.detach() for k, v in m.svg.named_parameters()})
    torch.testing.assert_close(once, per_call, rtol=0, atol=0)


def test_training_without_the_guard_gives_the_same_gradient_when_nothing_is_reverted():
    m = tiny()
    x = clip(B=2, T=5)
    noise = (torch.randn(3, 2, m.cfg.z_dim, dtype=torch.float64), torch.randn(4, 2, m.cfg.z_dim, dtype=torch.float64))
    params = [p for p in m.parameters() if p.requires_grad]
    lg, info = m.meta_loss(x, steps=1, noise=noise, guard=True)
    assert int(info["reverted"]) == 0 and float(info["inner_after"]) <= float(info["inner_before"])
    g_guard = torch.autograd.grad(lg, params)
    ln, info_n = m.meta_loss(x, steps=1, noise=noise, guard=False)
    assert "inner_after" not in info_n
    g_none = torch.autograd.grad(ln, params)
    torch.testing.assert_close(lg, ln, rtol=0, atol=0)
    for a, b in zip(g_guard, g_none):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)


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


def test_the_video_learner_has_the_state_learners_tailoring_knobs():
    from dataclasses import replace

    from noether_lite.core.learner import TailoredLearner
    from noether_lite.core.tailor import InnerLR, TailorConfig
    from noether_lite.video.learner import VIDEO_TAILOR, NoetherVideo
    from noether_lite.video.svg import svg_config

    m = tiny()
    assert isinstance(m, TailoredLearner) and isinstance(m.inner_lr_module, InnerLR)
    assert m.inner_lr().shape == (1,) and float(m.inner_lr()[0].detach()) == pytest.approx(0.5)
    fixed = NoetherVideo(svg_config("tiny", 16), tailor=replace(VIDEO_TAILOR, learn_inner_lr=False, inner_lr=0.2))
    assert fixed.inner_lr_module is None and fixed.inner_lr() == 0.2
    with pytest.raises(ValueError, match="CNGrad"):
        NoetherVideo(svg_config("tiny", 16), tailor=TailorConfig(mode="weights"))
