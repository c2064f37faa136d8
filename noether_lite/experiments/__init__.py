"""The paper's experiments, each one function (and one CLI subcommand).

* :mod:`.protocol` — the one recipe for a tailored network: choose ``λ_in``, meta-train,
  keep it only if it helped, all on training data.
* :mod:`.physics` — pendulum and spring: vanilla, HNN, oracle, learned embedding, control.
* :mod:`.symbolic` — discover a conserved formula, then tailor with it.
* :mod:`.study` — the controlled study: gain over the control as data, noise or horizon vary.
* :mod:`.video` and :mod:`.bench` — video prediction and its benchmark (imported on their own:
  they load the video stack).
"""
from .protocol import TailoredRun, build_tailored
from .physics import (
    LR_GRID, LR_GRID_WEIGHTS, METHODS, PhysicsConfig, evaluate, meta_train, pretrain, run_physics,
    select_inner_lr, split_trajectories, train_rollout_rmse,
)
from .study import paired_interval, run_study, study_table
from .symbolic import run_symbolic

__all__ = [
    "TailoredRun", "build_tailored", "PhysicsConfig", "METHODS", "LR_GRID", "LR_GRID_WEIGHTS",
    "pretrain", "meta_train", "evaluate", "select_inner_lr", "train_rollout_rmse", "run_physics",
    "run_symbolic", "split_trajectories", "run_study", "study_table", "paired_interval",
]
