"""noether-lite: Noether Networks in compact PyTorch.

Everything a chapter uses is importable from here::

    import noether_lite as nl
    train, test = nl.make_dataset("pendulum", seed=0)

Sub-namespaces, loaded on first use (``import noether_lite`` loads none of
them): ``nl.video`` (video prediction), ``nl.check`` (exercise feedback),
``nl.labs`` (running chapters as labs); ``noether_lite.numerics`` pins the CPU
arithmetic the book runs under.
"""
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
from .models import HNN, MLP, CondNorm, EmbeddingMLP
from .conservation import EMBEDDINGS, LOSS_FORMS, FormulaEmbedding, OracleEmbedding, noether_loss
from .tailor import InnerLR, TailorConfig, TailorResult, per_example, tailor_cn, tailor_weights
from .network import NoetherNetwork
from .train import History, auto_device, fit, seed_everything
from .metrics import energy_drift, rmse, rmse_per_horizon
from .physics import (
    LR_GRID, METHODS, PhysicsConfig, evaluate, meta_train, pretrain, run_physics, select_inner_lr,
    train_rollout_rmse,
)
from .theory import (
    expected_gap, fit_translation, gap_table, generalization_gap, projector, subspace_basis,
    theorem1_bound, translation_losses,
)
from .symbolic import (
    OPERATORS, DiscoveryResult, Formula, FormulaLibrary, SearchTooLarge, SymbolicEmbedding,
    discover_conserved, energy_correlation, enumerate_formulas, fit_constants, run_symbolic,
)
from .viz import phase_portrait, plot_curves, plot_energy_drift, plot_gap_vs_n, plot_rollouts
from .widgets import pendulum_explorer, pendulum_figure
from .physics_viz import (
    PAPER_RMSE, embedding_correlation, plot_level_sets, plot_lr_sweep, plot_rmse_per_horizon, results_table,
)

_LAZY_SUBMODULES = ("check", "labs", "video")


def __getattr__(name):  # PEP 562: the course tooling and the video stack load on first use
    if name in _LAZY_SUBMODULES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


__all__ = [
    "__version__", "Registry",
    # systems and data
    "System", "SYSTEMS", "register_system", "get_system", "spring", "pendulum", "damped_pendulum",
    "integrate", "euler_step", "rk4_step", "leapfrog_step", "INTEGRATORS", "TrajectoryData", "make_dataset",
    # models, conservation, tailoring
    "MLP", "HNN", "EmbeddingMLP", "CondNorm",
    "noether_loss", "OracleEmbedding", "FormulaEmbedding", "EMBEDDINGS", "LOSS_FORMS",
    "TailorConfig", "TailorResult", "InnerLR", "tailor_weights", "tailor_cn", "per_example", "NoetherNetwork",
    # training, metrics, experiments
    "History", "fit", "seed_everything", "auto_device", "rmse", "rmse_per_horizon", "energy_drift",
    "PhysicsConfig", "METHODS", "LR_GRID", "train_rollout_rmse", "pretrain", "meta_train", "evaluate", "select_inner_lr", "run_physics",
    # theory (Theorem 1)
    "subspace_basis", "projector", "fit_translation", "translation_losses", "generalization_gap", "gap_table",
    "expected_gap", "theorem1_bound",
    # symbolic discovery
    "OPERATORS", "Formula", "FormulaLibrary", "DiscoveryResult", "SymbolicEmbedding", "SearchTooLarge",
    "enumerate_formulas", "fit_constants", "discover_conserved", "energy_correlation", "run_symbolic",
    # figures and widgets
    "phase_portrait", "plot_energy_drift", "plot_rollouts", "plot_curves", "plot_gap_vs_n",
    "pendulum_figure", "pendulum_explorer",
    "plot_level_sets", "plot_rmse_per_horizon", "plot_lr_sweep", "embedding_correlation", "results_table", "PAPER_RMSE",
    # sub-namespaces
    "video", "check", "labs",
]
