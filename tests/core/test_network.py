"""NoetherNetwork: one predict path, tailoring that lowers the conservation loss, clear errors."""
import pytest
import torch

import noether_lite as nl


def _net(mode="cn", steps=1, lr=1e-2, **kw):
    torch.manual_seed(0)
    model = nl.MLP(dim=2, hidden=16, layers=2, cn=(mode == "cn")).double()
    return nl.NoetherNetwork(model, nl.OracleEmbedding("pendulum"), dt=0.1,
                             tailor=nl.TailorConfig(steps=steps, inner_lr=lr, mode=mode), **kw)


X0 = torch.tensor([[0.4, 0.1], [1.0, -0.5], [-0.7, 0.3]], dtype=torch.float64)


@pytest.mark.parametrize("mode", ["cn", "weights"])
def test_no_tailoring_is_the_plain_rollout(mode):
    net = _net(mode)
    traj, res = net.predict(X0, 10, steps=0)
    assert traj.shape == (3, 11, 2)
    assert torch.allclose(traj, net.rollout(X0, 10))
    assert torch.equal(res.loss_before, res.loss_after)


@pytest.mark.parametrize("mode", ["cn", "weights"])
def test_a_tailoring_step_lowers_every_examples_noether_loss(mode):
    net = _net(mode, lr=1e-3)
    traj, res = net.predict(X0, 10)
    assert bool((res.loss_after < res.loss_before).all()), (res.loss_before, res.loss_after)
    assert torch.allclose(res.loss_after, net.noether_loss(traj))  # the loss of the rollout returned


def test_the_guard_reverts_a_step_that_raises_the_loss():
    net = _net("cn")
    traj, res = net.predict(X0, 10, inner_lr=1e3)  # a step far past the minimum
    assert bool(res.reverted.all())
    assert torch.allclose(res.loss_after, res.loss_before)
    assert torch.allclose(traj, net.rollout(X0, 10))


@pytest.mark.parametrize("kwargs, match", [
    ({"dt": 0.0}, "dt must be > 0"),
    ({"integrator": "verlet"}, "unknown integrator"),
    ({"loss_form": "middle"}, "unknown loss form"),
])
def test_bad_configuration_is_refused(kwargs, match):
    model = nl.MLP(dim=2, hidden=4, cn=True)
    args = {"dt": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        nl.NoetherNetwork(model, nl.OracleEmbedding("pendulum"), **args)


def test_cn_tailoring_needs_a_cn_model_and_queries_need_a_batch():
    with pytest.raises(ValueError, match="needs a model built with cn=True"):
        nl.NoetherNetwork(nl.MLP(dim=2, hidden=4), nl.OracleEmbedding("pendulum"), dt=0.1,
                          tailor=nl.TailorConfig(mode="cn"))
    with pytest.raises(ValueError, match=r"x0 must have shape \(B, D\)"):
        _net().predict(X0[0], 5)
