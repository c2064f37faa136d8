"""The state networks: shapes, CN layers that start as the identity, an HNN that conserves its own H."""
import pytest
import torch

from noether_lite.models import HNN, MLP, CondNorm, EmbeddingMLP


def test_mlp_with_cn_layers_equals_the_plain_network_at_identity_cn():
    torch.manual_seed(0)
    m = MLP(hidden=8, cn=True).double()
    x = torch.randn(5, 2, dtype=torch.float64)
    cn = m.init_cn(5, dtype=torch.float64)
    torch.testing.assert_close(m(x, cn), m(x))
    shifted = {k: v + 0.5 if k.endswith("beta") else v for k, v in cn.items()}
    assert not torch.allclose(m(x, shifted), m(x))  # the CN parameters do act


def test_cn_parameters_act_per_example():
    layer = CondNorm("h", 3)
    cn = layer.init_params(2)
    cn["h.gamma"] = torch.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    h = torch.ones(2, 3)
    out = layer(h, cn)
    torch.testing.assert_close(out, torch.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]))


def test_hnn_vector_field_is_the_symplectic_gradient_and_conserves_its_hamiltonian():
    torch.manual_seed(0)
    h = HNN(hidden=16).double()
    x = torch.randn(7, 2, dtype=torch.float64, requires_grad=True)
    f = h(x)
    (dh,) = torch.autograd.grad(h.hamiltonian(x).sum(), x)
    torch.testing.assert_close(f, torch.stack([dh[:, 1], -dh[:, 0]], -1))
    assert (dh * f).sum(-1).abs().max() < 1e-12  # dH/dt = ∇H · f = 0 along the learned flow


def test_embedding_mlp_maps_states_to_k_quantities_and_sizes_are_checked():
    g = EmbeddingMLP(out_dim=3, hidden=8)
    assert g(torch.randn(4, 10, 2)).shape == (4, 10, 3)
    with pytest.raises(ValueError, match="even"):
        HNN(dim=3)


def test_a_separable_embedding_is_a_sum_of_a_function_of_q_and_one_of_p():
    from noether_lite.models import SeparableEmbedding

    torch.manual_seed(0)
    g = SeparableEmbedding(dim=4, out_dim=2, hidden=8)
    x = torch.randn(6, 4)
    y = x.clone()
    y[:, 2:] = x[:1, 2:]  # same p for all: differences come from q alone
    # g(q, p) - g(q, p') does not depend on q
    d1 = g(x) - g(y)
    x2 = x.clone()
    x2[:, :2] = torch.randn(6, 2)
    y2 = x2.clone()
    y2[:, 2:] = x[:1, 2:]
    assert torch.allclose(d1, g(x2) - g(y2), atol=1e-6)
    with pytest.raises(ValueError, match="even state dimension"):
        SeparableEmbedding(dim=3)


def test_scale_free_makes_the_noether_loss_independent_of_the_embeddings_scale():
    from noether_lite.core.conservation import noether_loss
    from noether_lite.models import EmbeddingMLP, ScaleFree

    torch.manual_seed(0)
    g = EmbeddingMLP(hidden=8)
    g4 = EmbeddingMLP(hidden=8)
    g4.load_state_dict(g.state_dict())
    with torch.no_grad():  # g4 = 4 g
        g4.net[-1].weight.mul_(4)
        g4.net[-1].bias.mul_(4)
    ref, traj = torch.randn(64, 2), torch.randn(3, 5, 2)
    plain, plain4 = noether_loss(g, traj), noether_loss(g4, traj)
    assert torch.allclose(plain4, 16 * plain, rtol=1e-4)  # the scale problem
    assert torch.allclose(noether_loss(ScaleFree(g4, ref), traj), noether_loss(ScaleFree(g, ref), traj), rtol=1e-4)
    with pytest.raises(ValueError, match="reference must be"):
        ScaleFree(g, torch.randn(1, 2))
