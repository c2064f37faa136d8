"""noether-lite: Noether Networks in compact PyTorch.

What a first script needs is importable from here::

    import noether_lite as nl
    train, test = nl.make_dataset("pendulum", seed=0)
    result = nl.run_physics("pendulum", quick=True)

Everything else lives in a subpackage named after its concept (each has its own
``__all__``; ``nl.<name>`` imports it on first use):

* ``core`` — the method: Noether loss, tailoring engine, learners, the training loop.
* ``systems`` — Hamiltonians, integrators, trajectory data (add a physical system here).
* ``models`` — networks for states (MLP, HNN, embedding MLP, CN layers).
* ``symbolic`` — enumerate and fit formulas; discover conserved quantities.
* ``experiments`` — the paper's experiments as functions (physics, symbolic, video, bench).
* ``video`` — video data, SVG, the frame-pair embedding, the video learner.
* ``viz`` — figures and widgets; ``theory`` — Theorem 1 in numbers.
* ``course`` — exercise checks and labs (course tooling, never imported here).

``noether_lite.numerics`` pins the CPU arithmetic the book runs under.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("noether-lite")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from .systems import System, TrajectoryData, get_system, integrate, make_dataset, pendulum, register_system, spring
from .models import HNN, MLP, EmbeddingMLP
from .core import (
    FormulaEmbedding, NoetherNetwork, OracleEmbedding, TailorConfig, auto_device, energy_drift, fit, noether_loss,
    per_example, rmse, seed_everything, tailor_cn, tailor_weights,
)
from .symbolic import discover_conserved
from .experiments import PhysicsConfig, build_tailored, evaluate, run_physics, run_symbolic

_LAZY_SUBMODULES = ("core", "systems", "models", "symbolic", "experiments", "video", "viz", "theory", "course")


def __getattr__(name):  # PEP 562: subpackages load on first use
    if name in _LAZY_SUBMODULES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


__all__ = [
    "__version__",
    # systems and data
    "System", "get_system", "register_system", "pendulum", "spring", "integrate", "TrajectoryData", "make_dataset",
    # models
    "MLP", "HNN", "EmbeddingMLP",
    # the method: Noether loss, tailoring, the learner
    "noether_loss", "OracleEmbedding", "FormulaEmbedding", "TailorConfig", "tailor_weights", "tailor_cn",
    "per_example", "NoetherNetwork",
    # training and metrics
    "fit", "seed_everything", "auto_device", "rmse", "energy_drift",
    # experiments
    "PhysicsConfig", "run_physics", "evaluate", "build_tailored", "discover_conserved", "run_symbolic",
]
