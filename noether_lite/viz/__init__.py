"""Figures and widgets for the book.

* :mod:`.trajectories` — phase portraits, rollouts, energy drift, curves.
* :mod:`.physics` — level sets of embeddings, errors per horizon, λ_in sweeps, result tables.
* :mod:`.widgets` — the interactive pendulum explorer.
* :mod:`.video` — frame strips, PSNR per horizon, seed tables (imported on its own).
"""
from .trajectories import (
    LABELS, book_style, label_of, phase_portrait, plot_curves, plot_energy_drift, plot_gap_vs_n, plot_rollouts,
)
from .physics import (
    PAPER_RMSE, describe_embedding_diagnosis, embedding_correlation, embedding_diagnosis_table,
    plot_embedding_diagnosis, plot_level_sets,
    plot_lr_sweep, plot_rmse_per_horizon, plot_study, results_table,
)
from .widgets import pendulum_explorer, pendulum_figure

__all__ = [
    "LABELS", "label_of", "book_style", "phase_portrait", "plot_energy_drift", "plot_rollouts", "plot_curves", "plot_gap_vs_n",
    "PAPER_RMSE", "plot_level_sets", "embedding_correlation", "plot_rmse_per_horizon", "plot_lr_sweep",
    "results_table", "plot_study", "plot_embedding_diagnosis", "embedding_diagnosis_table",
    "describe_embedding_diagnosis", "pendulum_figure",
    "pendulum_explorer",
]
