"""Systems: vector fields from H, friction, user systems through the registry, bad inputs."""
import pytest
import torch

import noether_lite as nl


def test_vector_field_matches_analytic_pendulum():
    sys_ = nl.pendulum(coefficient=3.0)
    x = torch.randn(10, 2, dtype=torch.float64)
    f = sys_.vector_field(x)
    assert torch.allclose(f[:, 0], 2 * x[:, 1])
    assert torch.allclose(f[:, 1], -3 * torch.sin(x[:, 0]))


def test_damped_loses_energy():
    sys_ = nl.get_system("damped")
    tr, _ = nl.make_dataset(sys_, n_traj=4, seed=1, dtype=torch.float64)
    e = sys_.energy(tr.x_clean)
    assert (e[:, -1] < e[:, 0]).all()


def test_user_system_through_registry():
    quartic = nl.System(name="quartic_test", hamiltonian=lambda q, p: q**4 + p**2)
    nl.register_system(quartic, overwrite=True)
    tr, te = nl.make_dataset("quartic_test", n_traj=6, seed=0)
    assert tr.x.shape == (3, 30, 2) and te.x.shape == (3, 30, 2)
    assert tr.meta["system"] == "quartic_test"


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown system 'nope'"):
        nl.make_dataset("nope")
    with pytest.raises(ValueError, match="shape"):
        nl.get_system("spring").energy(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="integrator"):
        nl.integrate(lambda x: x, torch.zeros(1, 2), n_steps=1, dt=0.1, method="rk5")
    with pytest.raises(ValueError, match="non-finite"):
        t = torch.linspace(0, 1, 3)
        x = torch.zeros(1, 3, 2)
        x[0, 1, 0] = float("nan")
        nl.TrajectoryData(t, x, torch.zeros_like(x), torch.zeros_like(x))
    with pytest.raises(ValueError, match="already registered"):
        nl.register_system(nl.spring())
