"""Plot helpers shared by the chapters: phase portraits, energy drift, rollouts, curves.

Every function draws on an existing ``ax`` when given one (else on a new
figure) and returns the ``ax``, so chapters compose them into panels. Inputs
are tensors or arrays; nothing here trains or simulates.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ..systems.hamiltonians import System, get_system

__all__ = ["phase_portrait", "plot_energy_drift", "plot_rollouts", "plot_curves", "plot_gap_vs_n",
           "LABELS", "label_of", "book_style"]

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence[float]]

#: Words for the result keys that appear in legends.
LABELS = {
    "vanilla": "vanilla MLP", "hnn": "HNN", "noether_oracle": "Noether (true energy)",
    "noether_learned": "Noether (learned g_φ)", "noether_custom": "Noether (given embedding)",
    "noether_symbolic": "Noether (discovered formula)", "vanilla_tuned": "control (same extra training)",
    "svg": "SVG", "noether": "Noether",
}


def label_of(name) -> str:
    """A legend label: the words for a known result key, else the name itself."""
    return LABELS.get(name, str(name))


def book_style() -> None:
    """Matplotlib settings for figures read at the book's page width (text about 10 pt or more)."""
    import matplotlib
    import matplotlib.pyplot  # noqa: F401 (activates the backend first: an inline backend sets its own rc)

    matplotlib.rcParams.update({"font.size": 13, "axes.titlesize": 13, "axes.labelsize": 13,
                                "legend.fontsize": 12, "xtick.labelsize": 12, "ytick.labelsize": 12})


def _np(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=float)


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def phase_portrait(
    system: Union[str, System],
    *,
    ax=None,
    extent: Tuple[float, float, float, float] = (-np.pi, np.pi, -2.5, 2.5),
    levels: int = 14,
    n_grid: int = 161,
    streamlines: bool = True,
    colorbar: bool = True,
):
    """Energy level sets of ``system`` in the (q, p) plane, with its flow.

    Args:
        system: a :class:`~noether_lite.systems.System` or a registered name.
        ax: matplotlib axes to draw on (default: a new figure).
        extent: ``(q_min, q_max, p_min, p_max)``.
        levels: number of energy contour levels.
        n_grid: grid points per axis.
        streamlines: also draw the vector field as streamlines.
        colorbar: add a colour bar labelled ``H``.

    Returns:
        The axes.
    """
    sys_ = get_system(system)
    ax = _ax(ax)
    q = torch.linspace(extent[0], extent[1], n_grid, dtype=torch.float64)
    p = torch.linspace(extent[2], extent[3], n_grid, dtype=torch.float64)
    qq, pp = torch.meshgrid(q, p, indexing="xy")  # (n_grid, n_grid) each
    grid = torch.stack([qq, pp], dim=-1)  # (n_grid, n_grid, 2)
    h = sys_.energy(grid)
    cs = ax.contourf(_np(qq), _np(pp), _np(h), levels=levels, cmap="viridis", alpha=0.85)
    ax.contour(_np(qq), _np(pp), _np(h), levels=cs.levels, colors="k", linewidths=0.4, alpha=0.5)
    if streamlines:
        v = sys_.vector_field(grid)  # (n_grid, n_grid, 2)
        ax.streamplot(_np(qq), _np(pp), _np(v[..., 0]), _np(v[..., 1]), color="w", density=0.9, linewidth=0.6, arrowsize=0.8)
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, label="energy H(q, p)")
    ax.set(xlabel="q (angle)", ylabel="p (momentum)", xlim=extent[:2], ylim=extent[2:])
    ax.set_title(f"{sys_.name}: H = {sys_.formula}" if sys_.formula else sys_.name)
    return ax


def plot_energy_drift(
    energies: Mapping[str, ArrayLike],
    *,
    t: Optional[ArrayLike] = None,
    ax=None,
    relative: bool = True,
    log: bool = False,
):
    """Energy error ``H(x_t) − H(x_0)`` along rollouts, one curve per label.

    Args:
        energies: label -> energies along a rollout, shape ``(T,)`` (or
            ``(B, T)``, averaged over ``B`` after taking the error).
        t: times, shape ``(T,)`` (default: step index).
        ax: axes to draw on.
        relative: divide by ``|H(x_0)|``.
        log: plot ``|error|`` on a log axis.

    Returns:
        The axes.
    """
    ax = _ax(ax)
    for label, e in energies.items():
        e = _np(e)
        e = e[None] if e.ndim == 1 else e  # (B, T)
        err = e - e[:, :1]
        if relative:
            err = err / np.maximum(np.abs(e[:, :1]), 1e-12)
        err = np.abs(err).mean(0) if log else err.mean(0)  # (T,)
        tt = np.arange(err.shape[0]) if t is None else _np(t)
        ax.plot(tt, err, label=label_of(label))
    if log:
        ax.set_yscale("log")
    else:
        ax.axhline(0.0, color="k", lw=0.5)
    what = "relative energy error" if relative else "energy error"
    ax.set(xlabel="time" if t is not None else "step", ylabel=f"|{what}|" if log else what)
    ax.legend()
    return ax


def plot_rollouts(
    truth: ArrayLike,
    predictions: Mapping[str, ArrayLike],
    *,
    system: Optional[Union[str, System]] = None,
    ax=None,
    extent: Optional[Tuple[float, float, float, float]] = None,
):
    """Predicted trajectories against the truth in the (q, p) plane.

    Args:
        truth: true states, shape ``(T, 2)``.
        predictions: label -> predicted states, shape ``(T, 2)`` each.
        system: when given, draw its energy level sets underneath.
        ax: axes to draw on.
        extent: plot range ``(q_min, q_max, p_min, p_max)`` (default: fit the data).

    Returns:
        The axes.
    """
    ax = _ax(ax)
    truth = _np(truth)
    if extent is None:
        pts = np.concatenate([truth] + [_np(p) for p in predictions.values()])
        lo, hi = pts.min(0), pts.max(0)
        pad = 0.15 * (hi - lo) + 1e-3
        extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    if system is not None:
        phase_portrait(system, ax=ax, extent=extent, streamlines=False, colorbar=False, levels=12)
    ax.plot(truth[:, 0], truth[:, 1], "k-", lw=2.5, label="truth")
    ax.plot(truth[0, 0], truth[0, 1], "ko")
    for label, pred in predictions.items():
        pred = _np(pred)
        ax.plot(pred[:, 0], pred[:, 1], "--", lw=1.8, label=label_of(label))
    ax.set(xlabel="q", ylabel="p", xlim=extent[:2], ylim=extent[2:])
    ax.legend(loc="upper right")
    return ax


def plot_curves(
    curves: Mapping[str, ArrayLike],
    *,
    x: Optional[ArrayLike] = None,
    ax=None,
    logy: bool = False,
    xlabel: str = "step",
    ylabel: str = "loss",
):
    """Several 1-d curves (losses, errors) against a shared x axis.

    Args:
        curves: label -> values, shape ``(N,)``.
        x: x values, shape ``(N,)`` (default: index).
        ax: axes to draw on.
        logy: log-scale the y axis.

    Returns:
        The axes.
    """
    ax = _ax(ax)
    for label, y in curves.items():
        y = _np(y)
        ax.plot(np.arange(len(y)) if x is None else _np(x), y, marker="o", ms=3, label=label_of(label))
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    return ax


def plot_gap_vs_n(
    ns: ArrayLike,
    gaps: Mapping[str, ArrayLike],
    *,
    errors: Optional[Mapping[str, ArrayLike]] = None,
    reference: Optional[Mapping[str, ArrayLike]] = None,
    ax=None,
    title: str = "generalization gap vs training-set size",
):
    """Generalization gap against ``n`` on log–log axes.

    Args:
        ns: training-set sizes, shape ``(N,)``.
        gaps: label -> mean gap, shape ``(N,)``; non-positive values (e.g. the
            ``m = 0`` curve) are drawn at the bottom of the axis, as markers.
        errors: label -> standard error, shape ``(N,)`` (error bars).
        reference: label -> a reference curve (closed form, a bound's trend),
            shape ``(N,)``, drawn dotted in the colour of the matching ``gaps`` curve
            when the labels agree.
        ax: axes to draw on.

    Returns:
        The axes.
    """
    ax = _ax(ax)
    ns_ = _np(ns)
    colors = {}
    positive = [g for g in (_np(v) for v in gaps.values()) if (g > 0).any()]
    floor = min(g[g > 0].min() for g in positive) / 3 if positive else 1e-3
    for label, g in gaps.items():
        g = _np(g)
        err = None if errors is None or label not in errors else _np(errors[label])
        shown = np.where(g > 0, g, floor)
        line = ax.errorbar(ns_, shown, yerr=err, marker="o", ms=4, capsize=2, label=label)
        colors[label] = line[0].get_color()
    for label, r in (reference or {}).items():
        ax.plot(ns_, _np(r), ":", lw=1.5, color=colors.get(label, "gray"), label=None if label in colors else label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="training-set size n", ylabel="test loss − train loss", title=title)
    ax.legend()
    return ax
