"""Video training on fit: gradients of the step, exact resume, clip checks, evaluation per horizon."""
import pytest
import torch

from noether_lite.video.render import RampConfig, render_ramp
from noether_lite.video.train import (
    VideoTrainConfig,
    check_clips,
    evaluate,
    train_video,
)
from tests.tiny import clip, tiny

torch.set_num_threads(1)






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
    assert h.steps_done == 4
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
