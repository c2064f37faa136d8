"""Systems from formula strings, and systems with several degrees of freedom and invariants."""
import pytest
import torch

import noether_lite as nl
from noether_lite.systems.expressions import parse_formula, system_from_formula
from noether_lite.systems.hamiltonians import System

CENTRAL = "(p1**2 + p2**2)/2 + (q1**2 + q2**2)**2/4"
ANGULAR = "q1*p2 - q2*p1"


def test_a_formula_gives_the_same_dynamics_as_the_built_in_system():
    mine = system_from_formula("p**2 + 3*(1 - cos(q))", name="my_pendulum")
    ref = nl.get_system("pendulum")
    x = torch.randn(7, 2, dtype=torch.float64)
    assert torch.allclose(mine.energy(x), ref.energy(x)) and torch.allclose(mine.vector_field(x), ref.vector_field(x))
    assert mine.dof == 1 and mine.formula == "p**2 - 3*cos(q) + 3"


@pytest.mark.parametrize("text, match", [
    ("__import__('os').system('true')", "unknown name"),
    ("q.real + p", "Attribute is not allowed"),
    ("q[0] + p", "Subscript is not allowed"),
    ("open(q)", "unknown name"),
    ("max(q, p)", "unknown name"),
    ("sin(q, p)", "not allowed"),
    ("q + 2**2**2**2**2", "exponents are limited"),
    ("q1 + p", "a mix of q, p"),
    ("x + p", r"unknown name\(s\) 'x'"),
    ("q +", "cannot parse"),
    ("3.0", "uses no variable"),
    ("", "non-empty"),
])
def test_a_formula_outside_the_whitelist_is_refused_without_being_run(text, match):
    with pytest.raises(ValueError, match=match):
        parse_formula(text)


def test_two_degrees_of_freedom_with_angular_momentum_conserve_both_quantities():
    sys_ = system_from_formula(CENTRAL, invariants=[ANGULAR], name="central", radius=(0.5, 1.0), noise_std=0.0)
    assert (sys_.dof, sys_.dim, sys_.n_conserved) == (2, 4, 2)
    train, _ = nl.make_dataset(sys_, seed=0, n_traj=6, dtype=torch.float64)
    assert train.x.shape == (3, 30, 4)
    c = sys_.conserved(train.x_clean)  # (N, T, 2): energy and angular momentum along each trajectory
    assert (c - c[:, :1]).abs().max() < 1e-9
    assert c[..., 1].abs().min() > 0  # a non-trivial angular momentum
    g = nl.core.conservation.OracleEmbedding(sys_)
    assert g(train.x[:, 0]).shape == (3, 2)
    # the leapfrog step of n degrees of freedom is the 1-d one, coordinate by coordinate
    for method in ("leapfrog", "rk4"):
        traj = nl.integrate(sys_.vector_field, train.x_clean[:, 0], n_steps=50, dt=0.01, method=method)
        e = sys_.energy(traj)
        assert (e - e[:, :1]).abs().max() < 1e-4, method


def test_run_physics_trains_every_method_on_a_two_degree_of_freedom_system():
    sys_ = system_from_formula(CENTRAL, invariants=[ANGULAR], name="central_test", radius=(0.5, 1.0))
    cfg = nl.experiments.PhysicsConfig.for_mode("central_test", pretrain_steps=30, meta_steps=3, hidden=16,
                                                embedding_hidden=8, n_train=4, n_test=3)
    nl.register_system(sys_, overwrite=True)
    res = nl.run_physics("central_test", config=cfg, progress=False)
    assert set(res["rmse"]) >= {"vanilla", "hnn", "noether_oracle", "noether_learned", "vanilla_tuned"}
    assert all(torch.isfinite(torch.tensor(v)) for v in res["rmse"].values())


def test_a_system_with_a_broken_invariant_or_dof_is_refused_when_made():
    with pytest.raises(ValueError, match="dof must be an integer >= 1"):
        System(name="x", hamiltonian=lambda q, p: q**2 + p**2, dof=0)
    with pytest.raises(ValueError, match="sum over the degrees of freedom"):
        System(name="x", hamiltonian=lambda q, p: q**2 + p**2, dof=2)  # returns (3, 2), not (3,)
    with pytest.raises(ValueError, match="invariants of system 'x' failed"):
        System(name="x", hamiltonian=lambda q, p: (q**2 + p**2).sum(-1), dof=2, invariants=lambda q, p: q @ q)
    with pytest.raises(ValueError, match="one q and one p"):
        nl.run_symbolic(system_from_formula(CENTRAL, name="central_sym"), quick=True, progress=False)
