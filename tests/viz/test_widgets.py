"""The pendulum figure and explorer: energy change reported, controls that redraw."""
import matplotlib
import pytest  # noqa: E402

from noether_lite.viz.widgets import pendulum_explorer, pendulum_figure  # noqa: E402

matplotlib.use("Agg")


@pytest.mark.parametrize("method", ["euler", "rk4", "leapfrog"])
def test_pendulum_figure_reports_energy_change(method):
    fig = pendulum_figure(angle=1.0, method=method, dt=0.1, n_steps=50)
    title = fig.axes[1].get_title()
    change = float(title.split("=")[-1])
    if method == "euler":
        assert change > 0.05  # explicit Euler pumps energy in
    else:
        assert abs(change) < 0.01


def test_explorer_reacts_to_its_controls():
    pytest.importorskip("ipywidgets")
    box = pendulum_explorer(n_steps=20)
    controls = {c.description: c for c in box.children if hasattr(c, "description")}
    assert {"angle q₀", "damping γ", "integrator", "time step"} <= set(controls)
    controls["integrator"].value = "rk4"
    box.update()
    assert box.result is not None and box.kwargs["method"] == "rk4"
