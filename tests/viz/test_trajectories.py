"""Plot helpers: phase portraits, energy drift, rollouts, curves and the gap plot draw what they are given."""
import matplotlib
import numpy as np  # noqa: E402
import torch  # noqa: E402

from noether_lite.viz.trajectories import (  # noqa: E402
    phase_portrait,
    plot_curves,
    plot_energy_drift,
    plot_gap_vs_n,
    plot_rollouts,
)

matplotlib.use("Agg")


def test_phase_portrait_contours_follow_the_energy():
    ax = phase_portrait("spring", extent=(-1, 1, -1, 1), n_grid=21, levels=5)
    assert ax.get_xlim() == (-1, 1)
    assert "spring" in ax.get_title()


def test_energy_drift_plots_the_error_relative_to_the_start():
    ax = plot_energy_drift({"a": torch.tensor([2.0, 2.0, 3.0])}, relative=True)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.0, 0.0, 0.5])
    ax = plot_energy_drift({"b": torch.tensor([[1.0, 2.0], [1.0, 0.5]])}, relative=False, log=True)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.0, 0.75])


def test_rollouts_and_curves_draw_one_line_per_input():
    truth = torch.zeros(5, 2)
    ax = plot_rollouts(truth, {"model": truth + 0.1, "other": truth - 0.1})
    assert len(ax.get_legend().get_texts()) == 3
    ax = plot_curves({"loss": [3.0, 2.0, 1.0]}, logy=True)
    assert ax.get_yscale() == "log"


def test_gap_vs_n_is_log_log_and_keeps_zero_gaps_visible():
    ax = plot_gap_vs_n([10, 100], {"m=0": [0.0, -1e-4], "m=2": [0.4, 0.04]}, reference={"m=2": [0.4, 0.04]})
    assert ax.get_xscale() == ax.get_yscale() == "log"
    zero_line = ax.lines[0].get_ydata()
    assert (np.asarray(zero_line) > 0).all()
