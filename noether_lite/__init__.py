"""noether-lite: Noether Networks in compact PyTorch."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("noether-lite")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from .registry import Registry
from .systems import (
    INTEGRATORS, SYSTEMS, System, damped_pendulum, euler_step, get_system, integrate,
    leapfrog_step, pendulum, register_system, rk4_step, spring,
)
from .data import TrajectoryData, make_dataset

__all__ = [
    "__version__", "Registry",
    "System", "SYSTEMS", "register_system", "get_system", "spring", "pendulum", "damped_pendulum",
    "integrate", "euler_step", "rk4_step", "leapfrog_step", "INTEGRATORS",
    "TrajectoryData", "make_dataset",
]
