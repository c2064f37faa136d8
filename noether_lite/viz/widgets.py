"""Interactive explorers for the chapters (ipywidgets 7 and 8).

Each explorer is a plain figure function plus a thin widget around it, so the
published (static) book can show the figure for the default parameters and a
live notebook can move the sliders. Only APIs shared by ipywidgets 7 and 8 are
used: ``interactive``, ``FloatSlider``, ``IntSlider``, ``Dropdown``, ``VBox``.
"""
from __future__ import annotations

from typing import Union

import torch

from ..systems.hamiltonians import System, get_system
from ..systems.integrators import INTEGRATORS, integrate
from .trajectories import phase_portrait, plot_energy_drift

__all__ = ["pendulum_figure", "pendulum_explorer"]


def pendulum_figure(
    *,
    system: Union[str, System] = "pendulum",
    angle: float = 2.0,
    damping: float = 0.0,
    method: str = "euler",
    dt: float = 0.1,
    n_steps: int = 300,
):
    """Simulate one trajectory and draw it over the phase portrait, with its energy.

    Args:
        system: a system or a registered name (default: the ideal pendulum).
        angle: initial angle ``q_0`` in radians (released at rest, ``p_0 = 0``).
        damping: friction ``γ`` (replaces the system's own).
        method: integrator, ``"euler"``, ``"rk4"`` or ``"leapfrog"``.
        dt: time step.
        n_steps: number of steps.

    Returns:
        The matplotlib figure (two panels: phase plane, energy vs time).
    """
    import matplotlib.pyplot as plt

    if method not in INTEGRATORS:
        raise ValueError(f"unknown integrator {method!r}; known: {sorted(INTEGRATORS)}")
    sys_ = get_system(system).with_(damping=float(damping))
    x0 = torch.tensor([[float(angle), 0.0]], dtype=torch.float64)  # (1, 2)
    with torch.no_grad():
        traj = integrate(sys_.vector_field, x0, n_steps=n_steps, dt=dt, method=method)[0]  # (T + 1, 2)
    energy = sys_.energy(traj)  # (T + 1,)
    t = torch.arange(n_steps + 1, dtype=torch.float64) * dt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    phase_portrait(sys_, ax=ax1, streamlines=False, colorbar=False, extent=(-3.6, 3.6, -3.0, 3.0))
    q = traj[:, 0].clamp(-3.6, 3.6)
    ax1.plot(q, traj[:, 1].clamp(-3.0, 3.0), color="tab:red", lw=1.2)
    ax1.plot([angle], [0.0], "o", color="tab:red")
    ax1.set_title(f"{method}, dt = {dt:g}, γ = {damping:g}")
    plot_energy_drift({method: energy}, t=t, ax=ax2, relative=True)
    ax2.set_title(f"energy: H(T)/H(0) − 1 = {float(energy[-1] / energy[0] - 1):+.3f}")
    fig.tight_layout()
    return fig


def pendulum_explorer(
    *,
    system: Union[str, System] = "pendulum",
    angle: float = 2.0,
    damping: float = 0.0,
    method: str = "euler",
    dt: float = 0.1,
    n_steps: int = 300,
):
    """Sliders for :func:`pendulum_figure`: initial angle, damping, integrator, time step.

    Returns:
        An ``ipywidgets.interactive`` box; display it in a notebook. Its
        ``result`` is the current figure.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    def show(angle: float, damping: float, method: str, dt: float):
        fig = pendulum_figure(system=system, angle=angle, damping=damping, method=method, dt=dt, n_steps=n_steps)
        plt.show()
        return fig

    return w.interactive(
        show,
        angle=w.FloatSlider(value=angle, min=0.1, max=3.1, step=0.1, description="angle q₀"),
        damping=w.FloatSlider(value=damping, min=0.0, max=0.5, step=0.05, description="damping γ"),
        method=w.Dropdown(options=sorted(INTEGRATORS), value=method, description="integrator"),
        dt=w.FloatSlider(value=dt, min=0.01, max=0.3, step=0.01, description="time step"),
    )
