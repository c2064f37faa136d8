import torch

import noether_lite as nl


def test_rk4_conserves_pendulum_energy():
    sys_ = nl.get_system("pendulum")
    x0 = torch.tensor([[1.0, 0.3], [-2.0, 0.5], [0.2, -1.0]], dtype=torch.float64)
    traj = nl.integrate(sys_.vector_field, x0, n_steps=200, dt=0.05, method="rk4", substeps=4)
    e = sys_.energy(traj)
    assert (e - e[:, :1]).abs().max() < 1e-7


def test_euler_gains_energy_leapfrog_stays_bounded():
    sys_ = nl.get_system("spring")
    x0 = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    eu = sys_.energy(nl.integrate(sys_.vector_field, x0, n_steps=300, dt=0.05, method="euler"))
    lf = sys_.energy(nl.integrate(sys_.vector_field, x0, n_steps=300, dt=0.05, method="leapfrog"))
    assert eu[0, -1] > 1.5 * eu[0, 0]  # explicit Euler spirals outwards
    assert (lf - lf[:, :1]).abs().max() < 0.01  # symplectic: bounded error
