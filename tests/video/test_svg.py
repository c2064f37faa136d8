"""SVG: the fused conv block against its reference, and the action-conditioned variant."""
import pytest
import torch

from tests.tiny import clip, tiny

torch.set_num_threads(1)






def test_action_conditioned_deterministic_variant():
    m = tiny(stochastic=False, action_dim=1)
    x = clip(B=2, T=5)
    a = torch.randn(2, 5, 1, dtype=torch.float64)
    loss, info = m.meta_loss(x, steps=1, actions=a)
    loss.backward()
    assert m.g.fc.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="action"):
        m.meta_loss(x, steps=1)


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


def test_folding_the_cn_affine_once_per_rollout_keeps_the_exact_meta_gradient(monkeypatch):
    """The rollout folds each layer's (γ, β) with its norm's affine once (SVG.fold_cn) instead of
    at each frame's call: the same loss and second-order meta-gradient as folding per call
    (the earlier implementation, restored here by making fold_cn the identity), in float64."""
    from noether_lite.video.svg import SVG
    from tests.tiny import clip, tiny

    def grads():
        m = tiny()
        x = clip(B=2, T=5)
        g = torch.Generator().manual_seed(3)
        noise = (torch.randn(3, 2, m.cfg.z_dim, generator=g, dtype=torch.float64),
                 torch.randn(4, 2, m.cfg.z_dim, generator=g, dtype=torch.float64))
        loss, info = m.meta_loss(x, steps=1, noise=noise)
        params = [p for p in m.parameters() if p.requires_grad]
        return loss, info["inner_before"], torch.autograd.grad(loss, params, allow_unused=True)

    loss, inner, gs = grads()
    with monkeypatch.context() as mp:
        mp.setattr(SVG, "fold_cn", lambda self, cn: cn)
        loss0, inner0, gs0 = grads()
    torch.testing.assert_close(loss, loss0, rtol=1e-13, atol=0)
    torch.testing.assert_close(inner, inner0, rtol=1e-13, atol=0)
    assert sum(g is not None and bool(g.abs().sum() > 0) for g in gs) > len(gs) // 2
    for g, g0 in zip(gs, gs0):
        if g is None or g0 is None:
            assert g is None and g0 is None
        else:
            torch.testing.assert_close(g, g0, rtol=1e-10, atol=1e-14)
