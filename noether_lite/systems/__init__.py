"""Physical systems: Hamiltonians, integrators, and trajectory datasets.

To add a system, build a :class:`System` from its Hamiltonian and register it::

    register_system(System(name="quartic", hamiltonian=lambda q, p: q**4 + p**2))
"""
from .hamiltonians import SYSTEMS, System, damped_pendulum, get_system, pendulum, register_system, spring
from .integrators import INTEGRATORS, euler_step, integrate, leapfrog_step, rk4_step
from .data import TrajectoryData, check_finite, make_dataset

__all__ = [
    "System", "SYSTEMS", "register_system", "get_system", "spring", "pendulum", "damped_pendulum",
    "integrate", "euler_step", "rk4_step", "leapfrog_step", "INTEGRATORS",
    "TrajectoryData", "make_dataset", "check_finite",
]
