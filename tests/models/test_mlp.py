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
