"""noether_loss, the oracle and formula embeddings, on inputs whose answer is known."""
import math

import pytest
import torch

import noether_lite as nl


def test_both_forms_on_a_linear_drift_have_their_closed_forms():
    # g(x) = x[..., :1]; states drift by 1 per step: g_t = t
    traj = torch.arange(4.0).reshape(1, 4, 1).expand(1, 4, 2).clone()
    g = lambda x: x[..., :1]  # noqa: E731
    assert float(nl.noether_loss(g, traj, form="start")) == pytest.approx(1 + 4 + 9)  # Σ t²
    assert float(nl.noether_loss(g, traj, form="consecutive")) == pytest.approx(3.0)  # Σ 1²


def test_a_conserved_quantity_has_zero_loss_and_a_broken_one_does_not():
    pend = nl.pendulum()
    x0 = torch.tensor([[0.5, 0.3], [1.0, -0.2]], dtype=torch.float64)
    traj = nl.integrate(pend.vector_field, x0, n_steps=50, dt=0.05, method="rk4", substeps=10)
    g = nl.OracleEmbedding("pendulum")
    loss = nl.noether_loss(g, traj)
    assert loss.shape == (2,) and float(loss.max()) < 1e-10
    euler = nl.integrate(pend.vector_field, x0, n_steps=50, dt=0.05, method="euler")
    assert float(nl.noether_loss(g, euler).min()) > 1e-3  # Euler pumps energy in


def test_one_example_without_a_batch_gives_a_scalar_equal_to_its_batched_value():
    traj = torch.randn(3, 6, 2)
    g = nl.FormulaEmbedding(lambda q, p: q**2 + p**2)
    batched = nl.noether_loss(g, traj, form="consecutive")
    single = nl.noether_loss(g, traj[1], form="consecutive")
    assert single.ndim == 0 and torch.allclose(single, batched[1])


def test_the_oracle_embedding_is_the_energy():
    x = torch.tensor([[math.pi / 2, 1.0]], dtype=torch.float64)
    assert float(nl.OracleEmbedding("pendulum")(x)) == pytest.approx(3 * (1 - math.cos(math.pi / 2)) + 1.0)


@pytest.mark.parametrize("kwargs, traj, match", [
    ({"form": "middle"}, torch.zeros(1, 3, 2), "unknown Noether loss form"),
    ({}, torch.zeros(1, 1, 2), "T >= 1"),
    ({}, torch.zeros(2), "T >= 1"),
])
def test_bad_arguments_are_refused_with_their_message(kwargs, traj, match):
    with pytest.raises(ValueError, match=match):
        nl.noether_loss(lambda x: x[..., :1], traj, **kwargs)


def test_an_embedding_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="embedding returned shape"):
        nl.noether_loss(lambda x: x.sum(-1), torch.zeros(1, 3, 2))
    with pytest.raises(TypeError, match="callable"):
        nl.FormulaEmbedding("q**2")
