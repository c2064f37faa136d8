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


def _fd(m, x, noise, p, idx, h=1e-4):
    old = p.data[idx].item()
    p.data[idx] = old + h
    lp = _meta(m, x, noise).item()
    p.data[idx] = old - h
    lm = _meta(m, x, noise).item()
    p.data[idx] = old
    return (lp - lm) / (2 * h)


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
    ps = list(m.g.parameters()) + [m.log_lr, conv, lstm]
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


def test_conv_block_matches_the_unfused_groupnorm_then_cn_reference():
    from noether_lite.video.svg import ConvNormAct

    torch.manual_seed(0)
    blk = ConvNormAct("b", 3, 4).double()
    with torch.no_grad():
        blk.norm.weight.uniform_(0.5, 1.5)
        blk.norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    cn = {"b.gamma": torch.rand(2, 4, dtype=torch.float64) + 0.5, "b.beta": torch.randn(2, 4, dtype=torch.float64)}
    h = torch.nn.functional.group_norm(blk.conv(x), 1, blk.norm.weight, blk.norm.bias, blk.norm.eps)
    ref = torch.nn.functional.leaky_relu(cn["b.gamma"][:, :, None, None] * h + cn["b.beta"][:, :, None, None], 0.2)
    torch.testing.assert_close(blk(x, cn), ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(blk(x, None), torch.nn.functional.leaky_relu(h, 0.2), rtol=1e-12, atol=1e-12)


def test_train_step_backward_towards_the_weights_only_gives_the_full_gradients():
    from noether_lite.video.train import train_step

    m = tiny()
    x = clip(B=2, T=5)
    noise = (torch.randn(3, 2, m.cfg.z_dim, dtype=torch.float64), torch.randn(4, 2, m.cfg.z_dim, dtype=torch.float64))
    params = [p for p in m.parameters() if p.requires_grad]
    loss, _ = m.meta_loss(x, steps=1, noise=noise)
    full = torch.autograd.grad(loss, params)
    opt = torch.optim.SGD(params, lr=0.0)  # lr 0: the step leaves the weights, the grads stay in .grad
    train_step(m, opt, x, steps=1, noise=noise, amp="none")
    for p, gfull in zip(params, full):
        torch.testing.assert_close(p.grad, gfull, rtol=1e-12, atol=1e-15)


def test_describe_comparison_reads_the_numbers_it_is_given():
    from noether_lite.video.experiment import describe_comparison

    res = {"psnr": {"svg": [20.0, 20.0], "noether": [21.0, 19.9]},
           "ssim": {"svg": [0.90, 0.80], "noether": [0.91, 0.80]},
           "se": {"psnr": {"svg": [0.1, 0.1], "noether": [0.1, 0.1]},
                  "ssim": {"svg": [0.001, 0.001], "noether": [0.001, 0.001]}},
           "k_sweep": {"0": {"psnr": 20.2}, "1": {"psnr": 20.45}}, "reverted": {"test": 3, "of": 18}}
    text = describe_comparison(res)
    assert "PSNR: Noether ahead at 1 of 2 horizons (difference -0.10 to 1.00 dB); at 1 of them" in text
    assert "SSIM: Noether ahead at 1 of 2 horizons (difference 0.000 to 0.010); at 1 of them" in text
    assert "of the +0.45 dB gap, +0.20 dB is there before tailoring" in text and "+0.25 dB comes from" in text
    assert "reverted 3 of 18" in text


def test_seed_table_gives_mean_and_standard_error_of_the_gaps():
    from noether_lite.video.viz import plot_seed_gaps, seed_table

    runs = [{"seed": s, "psnr": {"svg": 20.0, "noether_k0": 20.0 + d0, "noether": 20.0 + d1},
             "ssim": {"svg": 0.8, "noether_k0": 0.8, "noether": 0.81}, "reverted": 0, "of": 10}
            for s, d0, d1 in ((0, 0.1, 0.2), (1, 0.3, 0.4), (2, -0.1, 0.0))]
    text = seed_table({"runs": runs, "dataset": "ramp"})
    # K=1 gaps 0.2, 0.4, 0.0: mean 0.2, sample sd 0.2, s.e. 0.2/sqrt(3) = 0.115
    assert "K=1 +0.20 ± 0.12 dB" in text and "K=0 +0.10 ± 0.12 dB" in text
    assert "ahead at K=1 in 2 of 3 seeds" in text
    fig = plot_seed_gaps({"runs": runs, "dataset": "ramp"})
    assert len(fig.axes[0].lines) == 3  # the zero line and the two series


def test_bench_table_reports_ratios_to_the_same_runs_baseline():
    from noether_lite.video.viz import bench_table, plot_bench

    def run(t):
        return {"rows": [{"config": "baseline", "median_s": 2.0, "gb_per_sample": 0.5, "ops": 100, "time_ratio": 1.0,
                          "memory_ratio": 1.0, "ops_ratio": 1.0},
                         {"config": "fast", "median_s": t, "gb_per_sample": 1.0, "ops": 1000, "time_ratio": t / 2.0,
                          "memory_ratio": 2.0, "ops_ratio": 10.0}]}
    text = bench_table({"before": run(8.0), "after": run(5.0)})
    assert "before" in text and "after" in text
    assert "meta, CN-only 2nd order     8.0   4.00 |    1.00   2.00 |      1000   10.0" in text
    assert "2.50" in text
    fig = plot_bench({"before": run(8.0), "after": run(5.0)})
    assert len(fig.axes) == 3


def test_horizon_table_prints_the_named_horizons_and_rejects_others():
    from noether_lite.video.viz import horizon_table

    res = {"psnr": {"svg": [30.04, 28.0, 26.0], "noether": [31.0, 28.46, 25.0]},
           "ssim": {"svg": [0.9, 0.8, 0.7], "noether": [0.91, 0.8, 0.69]}}
    lines = horizon_table(res, (1, 3)).splitlines()
    assert lines[1] == "      1       30.0 / 31.0        0.90 / 0.91"
    assert lines[2] == "      3       26.0 / 25.0        0.70 / 0.69"
    with pytest.raises(ValueError, match="1..3"):
        horizon_table(res, (4,))


def _res(svg, noe, k0=None, k1=None):
    r = {"psnr": {"svg": list(svg), "noether": list(noe)}}
    if k0 is not None:
        r["k_sweep"] = {"0": {"psnr": k0}, "1": {"psnr": k1}}
    return r


def test_lesson_check_gives_verdicts_that_turn_to_no_when_the_result_flips():
    from noether_lite.video import gap_summary, lesson_check

    good = _res([20.0, 21.0, 22.0], [20.5, 21.5, 22.5], k0=20.8, k1=21.5)  # gap +0.5 everywhere
    out = lesson_check(good, reference_gap=0.6, tolerance=0.2)
    assert out.splitlines() == [
        "after one test-time step, Noether is ahead of SVG in mean PSNR: yes",
        "the test-time step raises mean PSNR (K = 1 over K = 0): yes",
        "mean PSNR gap within +0.60 ± 0.20 dB: yes",
    ]
    assert "mean PSNR gap +0.50 dB" in gap_summary(good, 0.6, 0.2)
    assert "ahead at 3/3 horizons" in gap_summary(good, 0.6, 0.2)
    flipped = _res([20.0, 21.0, 22.0], [19.8, 20.9, 21.7], k0=21.3, k1=20.8)  # behind; the step hurts
    assert lesson_check(flipped, 0.6, 0.2).count(": NO") == 3
    # the band: just inside and just outside the tolerance
    assert lesson_check(good, 0.69, 0.2, claims=("gap",)).endswith("yes")
    assert lesson_check(good, 0.71, 0.2, claims=("gap",)).endswith("NO")


@pytest.mark.parametrize("kwargs, match", [
    ({"claims": ("bogus",)}, "claims must be"),
    ({"claims": ()}, "claims must be"),
    ({"tolerance": 0.0}, "tolerance positive"),
    ({"reference_gap": float("nan")}, "must be finite"),
    ({"claims": ("step_helps",)}, "needs res\\['k_sweep'\\]"),
])
def test_lesson_check_refuses_bad_arguments(kwargs, match):
    from noether_lite.video import lesson_check

    args = {"reference_gap": 0.5, "tolerance": 0.3, **kwargs}
    with pytest.raises(ValueError, match=match):
        lesson_check(_res([1.0], [2.0]), **args)
    with pytest.raises(ValueError, match="equally long"):
        lesson_check(_res([1.0, 2.0], [2.0]), 0.5, 0.3)


def test_quick_references_ship_with_the_package_and_record_their_spread():
    from noether_lite.video import quick_reference

    for ds in ("ramp", "pendulum"):
        ref = quick_reference(ds)
        gaps = [r["gap"] for r in ref["runs"]]
        mean = sum(gaps) / len(gaps)
        sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1))
        assert ref["tolerance"] == pytest.approx(3 * sd, abs=0.006)
        assert ref["reference_gap"] == pytest.approx(ref["runs"][0]["gap"], abs=0.006)
        assert ref["runs"][0]["numerics"]["mkldnn"] is False and ref["runs"][0]["numerics"]["threads"] == 2
    with pytest.raises(ValueError, match="dataset must be"):
        quick_reference("bogus")


def test_describe_bench_reads_each_meta_step_against_the_same_runs_svg_step():
    from noether_lite.video import describe_bench

    run = {"rows": [{"config": "baseline", "time_ratio": 1.0, "memory_ratio": 1.0, "ops_ratio": 1.0},
                    {"config": "exact", "time_ratio": 3.84, "memory_ratio": 3.34, "ops_ratio": 16.8}]}
    assert describe_bench(run) == "meta, exact: 3.8x the time of an SVG step, 3.3x its memory per clip, 17x its operators"
    assert describe_bench({"rows": []}) == "no meta-step configuration in this run"


def test_full_runs_returns_included_runs_or_the_command_that_makes_one():
    from noether_lite.video import full_runs

    runs, line = full_runs("ramp", {"ramp_full_seed1": {"seed": 1, "device": "GPU"}, "ramp_full_seed0":
                                    {"seed": 0, "device": "GPU"}, "pendulum_full_seed0": {"seed": 0, "device": "GPU"}})
    assert [r["seed"] for r in runs] == [0, 1] and line == "full mode, ramp: seeds 0, 1 on GPU"
    runs, line = full_runs("pendulum", {})
    assert runs == [] and "noether-lite video --dataset pendulum --full --seed 0" in line
