"""The tailoring engine: second-order gradients, independence, the guard."""
import pytest
import torch

import noether_lite as nl


def _net(mode, *, learn_lr=False, steps=1, lr=0.05, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    model = nl.MLP(hidden=5, cn=(mode == "cn")).to(dtype)
    emb = nl.EmbeddingMLP(out_dim=2, hidden=4).to(dtype)
    cfg = nl.TailorConfig(steps=steps, inner_lr=lr, mode=mode, learn_inner_lr=learn_lr, guard=False)
    return nl.NoetherNetwork(model, emb, dt=0.1, tailor=cfg, integrator="rk4")


def _outer(net, x0, target):
    traj, _ = net.predict(x0, target.shape[1] - 1)
    return ((traj - target) ** 2).mean()


@pytest.mark.parametrize("mode", ["weights", "cn"])
@pytest.mark.parametrize("steps", [1, 2])
def test_meta_gradient_matches_finite_differences(mode, steps):
    net = _net(mode, steps=steps)
    gen = torch.Generator().manual_seed(1)
    x0 = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    target = torch.randn(3, 4, 2, generator=gen, dtype=torch.float64)
    for group in (net.embedding, net.model):  # φ (second order only) and θ
        params = [p for p in group.parameters()]
        grads = torch.autograd.grad(_outer(net, x0, target), params)
        assert any(g.abs().sum() > 0 for g in grads), "the meta-gradient must reach this group"
        for trial in range(2):
            vs = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params]
            analytic = sum((g * v).sum() for g, v in zip(grads, vs))
            eps = 1e-6
            with torch.no_grad():
                for p, v in zip(params, vs):
                    p.add_(eps * v)
                up = _outer(net, x0, target)
                for p, v in zip(params, vs):
                    p.sub_(2 * eps * v)
                down = _outer(net, x0, target)
                for p, v in zip(params, vs):
                    p.add_(eps * v)
            numeric = (up - down) / (2 * eps)
            assert torch.allclose(analytic, numeric, rtol=1e-6, atol=1e-9), (mode, steps, analytic, numeric)


def test_first_order_cuts_the_embedding_gradient():
    net = _net("cn")
    x0 = torch.randn(3, 2, dtype=torch.float64)
    traj, _ = net.predict(x0, 3, first_order=True)
    loss = (traj**2).mean()
    grads = torch.autograd.grad(loss, list(net.embedding.parameters()), allow_unused=True)
    assert all(g is None or g.abs().sum() == 0 for g in grads)


@pytest.mark.parametrize("mode", ["weights", "cn"])
def test_one_step_lowers_the_noether_loss_and_k0_is_exact(mode):
    net = _net(mode, lr=1e-2)
    x0 = torch.randn(6, 2, dtype=torch.float64)
    traj, res = net.predict(x0, 5)
    assert (res.loss_after < res.loss_before).all()
    assert torch.allclose(net.noether_loss(traj), res.loss_after)
    traj0, res0 = net.predict(x0, 5, steps=0)
    assert torch.equal(traj0, net.rollout(x0, 5))
    assert torch.equal(res0.loss_before, res0.loss_after)


@pytest.mark.parametrize("mode", ["weights", "cn"])
def test_batch_equals_each_example_alone(mode):
    net = _net(mode)
    x0 = torch.randn(5, 2, dtype=torch.float64)
    batch_traj, batch_res = net.predict(x0, 4)
    for i in range(5):
        one_traj, one_res = net.predict(x0[i : i + 1], 4)
        assert torch.allclose(batch_traj[i], one_traj[0], atol=1e-12)
        for k in batch_res.params:  # same θ' (or γ', β') per example
            assert torch.allclose(batch_res.params[k][i], one_res.params[k][0], atol=1e-12)


def test_cn_step_is_batch_size_invariant_and_sums():
    net = _net("cn")
    x0 = torch.randn(8, 2, dtype=torch.float64)
    _, big = net.predict(x0, 4)
    _, small = net.predict(x0[:2], 4)
    for k in big.params:
        assert torch.allclose(big.params[k][:2], small.params[k], atol=1e-12)
    # Averaging instead of summing would shrink the step by the batch size: check we did not.
    cn0 = net.model.init_cn(8, dtype=torch.float64)
    inner = lambda c: net.noether_loss(net.rollout(x0, 4, cn=c))  # noqa: E731
    mean_res = nl.tailor_cn(lambda c: inner(c) / 8, cn0, steps=1, inner_lr=0.05, guard=False)
    assert not torch.allclose(mean_res.params["cn0.beta"], big.params["cn0.beta"])


def test_guard_reverts_a_planted_exploding_lr_and_counts():
    net = _net("weights")
    net.tailoring = nl.TailorConfig(steps=1, inner_lr=1e6, mode="weights", guard=True)
    x0 = torch.randn(4, 2, dtype=torch.float64)
    traj, res = net.predict(x0, 4)
    assert int(res.n_reverted) == 4
    assert torch.isfinite(traj).all()
    assert torch.allclose(traj, net.rollout(x0, 4))
    assert torch.equal(res.loss_after, res.loss_before)
    # CN mode as well, with a mix: a tiny lr for no example would be reverted.
    cnet = _net("cn")
    cnet.tailoring = nl.TailorConfig(steps=1, inner_lr=1e6, mode="cn", guard=True)
    _, cres = cnet.predict(x0, 4)
    assert int(cres.n_reverted) == 4


def test_final_value_and_skip_match_the_differentiable_final_loss():
    net = _net("cn")
    x0 = torch.randn(5, 2, dtype=torch.float64)
    cn0 = net.model.init_cn(5, dtype=torch.float64)
    inner = lambda c: net.noether_loss(net.rollout(x0, 4, cn=c))  # noqa: E731
    ref = nl.tailor_cn(inner, cn0, steps=2, inner_lr=0.05, final="graph")
    val = nl.tailor_cn(inner, cn0, steps=2, inner_lr=0.05, final="value")
    skip = nl.tailor_cn(inner, cn0, steps=2, inner_lr=0.05, guard=False, final="skip")
    assert ref.loss_after.grad_fn is not None and val.loss_after.grad_fn is None
    torch.testing.assert_close(val.loss_after, ref.loss_after.detach(), rtol=0, atol=0)
    assert torch.equal(val.reverted, ref.reverted)
    for k in ref.params:  # same tailored parameters, still differentiable in every mode
        torch.testing.assert_close(val.params[k], ref.params[k], rtol=0, atol=0)
        torch.testing.assert_close(skip.params[k], ref.params[k], rtol=0, atol=0)
        assert val.params[k].grad_fn is not None
    assert torch.isnan(skip.loss_after).all() and skip.aux is None
    with pytest.raises(ValueError, match="guard=False"):
        nl.tailor_cn(inner, cn0, steps=1, inner_lr=0.05, final="skip")
    with pytest.raises(ValueError, match="final"):
        nl.tailor_cn(inner, cn0, steps=1, inner_lr=0.05, final="later")


def test_learned_inner_lr_gets_a_gradient():
    net = _net("cn", learn_lr=True)
    x0 = torch.randn(3, 2, dtype=torch.float64)
    loss = _outer(net, x0, torch.zeros(3, 4, 2, dtype=torch.float64))
    (g,) = torch.autograd.grad(loss, [net.inner_lr_module.log_lr])
    assert g.abs().sum() > 0


def test_bad_inputs():
    with pytest.raises(ValueError, match="K"):
        nl.TailorConfig(steps=-1)
    with pytest.raises(ValueError, match="mode"):
        nl.TailorConfig(mode="bogus")
    with pytest.raises(ValueError):
        nl.tailor_weights(lambda p, x: x.sum(), {}, torch.zeros(2, 2), steps=-2, inner_lr=0.1)
    with pytest.raises(ValueError, match="same leading batch size"):
        nl.tailor_weights(lambda p, x, y: x.sum(), {}, (torch.zeros(2, 2), torch.zeros(3, 2)), steps=1, inner_lr=0.1)
    net = _net("weights")
    with pytest.raises(ValueError, match="shape"):
        net.predict(torch.zeros(2, 3, dtype=torch.float64), 3)  # states of the wrong dimension
    with pytest.raises(ValueError, match="cn=True"):
        nl.NoetherNetwork(nl.MLP(), nl.EmbeddingMLP(), dt=0.1, tailor=nl.TailorConfig(mode="cn"))
    with pytest.raises(ValueError, match="form"):
        nl.noether_loss(lambda x: x, torch.zeros(2, 3, 2), form="sideways")


def test_plain_scalar_inner_loss_and_matches_a_python_loop():
    """tailor_weights with an inner loss that returns only a scalar, against a naive loop."""
    torch.manual_seed(0)
    model = nl.MLP(hidden=6).double()
    g = nl.OracleEmbedding("spring")
    params = {k: v.detach() for k, v in model.named_parameters()}
    from torch.func import functional_call

    def inner(p, x):
        traj = nl.integrate(lambda s: functional_call(model, p, (s,)), x, n_steps=3, dt=0.1)
        return nl.noether_loss(g, traj)

    x0 = torch.randn(4, 2, dtype=torch.float64)
    res = nl.tailor_weights(inner, params, x0, steps=1, inner_lr=0.01, guard=False)
    assert res.aux is None
    for i in range(4):
        p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        grads = torch.autograd.grad(inner(p, x0[i]), list(p.values()))
        for (k, v), gr in zip(p.items(), grads):
            assert torch.allclose(res.params[k][i], v - 0.01 * gr, atol=1e-12)
