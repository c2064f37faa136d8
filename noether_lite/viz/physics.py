"""Figures and small read-outs for the physics chapters (3 and 4).

* :func:`plot_level_sets` — the level sets of a Noether embedding ``g`` over
  phase space, drawn through the same points as the true energy's, so a ``g``
  that is a function of ``H`` lies exactly on top of ``H``.
* :func:`embedding_correlation` — how well ``g`` (one output, or its best
  linear combination) predicts ``H`` on random states.
* :func:`plot_rmse_per_horizon` — error against rollout step for each method
  of a :func:`~noether_lite.experiments.physics.run_physics` result.
* :func:`plot_lr_sweep` — a test-time sweep (over ``λ_in`` or ``K``).
* :func:`results_table` — our RMSE next to the paper's Tables 1–2.
* :func:`plot_study` — a controlled study's paired differences (Noether − control) with their
  95 % intervals, against the varied setting.

Like :mod:`noether_lite.viz`, every plot draws on ``ax`` when given one (else
on a new figure) and returns the axes; nothing here trains.
"""
from __future__ import annotations

from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ..systems.hamiltonians import System, get_system
from .trajectories import _ax, _np, label_of

__all__ = [
    "PAPER_RMSE", "plot_level_sets", "embedding_correlation", "plot_rmse_per_horizon", "plot_lr_sweep",
    "results_table", "plot_study", "plot_embedding_diagnosis", "embedding_diagnosis_table",
    "describe_embedding_diagnosis",
]

#: Long-horizon test RMSE reported by Alet et al. (2021), Tables 1–2 (the authors' numbers).
PAPER_RMSE: Dict[str, Dict[str, float]] = {
    "pendulum": {"vanilla": 0.0563, "noether_symbolic": 0.0423, "noether_oracle": 0.0422},
    "spring": {"vanilla": 0.0174, "noether_symbolic": 0.0165, "noether_oracle": 0.0166},
}

Embedding = Callable[[Tensor], Tensor]


def _default_extent(sys_: System) -> Tuple[float, float, float, float]:
    r = 1.1 * sys_.radius[1]
    return (-r, r, -r, r)


@torch.no_grad()
def _embed(embedding: Embedding, states: Tensor) -> Tensor:
    """``g`` on float64 states ``(..., 2)``, in the embedding's own dtype and device: ``(..., k)``."""
    ref = next(iter(getattr(embedding, "parameters", lambda: iter(()))()), None)
    x = states if ref is None else states.to(device=ref.device, dtype=ref.dtype)
    out = embedding(x)
    out = out.unsqueeze(-1) if out.ndim == states.ndim - 1 else out
    return out.detach().cpu().double()  # (..., k)


def plot_level_sets(
    embedding: Embedding,
    system: Union[str, System],
    *,
    ax=None,
    dim: int = 0,
    extent: Optional[Tuple[float, float, float, float]] = None,
    n_levels: int = 8,
    n_grid: int = 121,
    title: Optional[str] = None,
):
    """Level sets of ``g[..., dim]`` (coloured) against the true energy's (black, dashed).

    ``g`` is only defined up to a monotone reparametrisation (any function of a
    conserved quantity is conserved), so the levels are not compared by value:
    both sets of contours pass through the same ``n_levels`` points on the
    positive ``p`` axis. Where ``g`` is a function of ``H``, the coloured lines
    lie on the black ones; where it is not, they cross.

    Args:
        embedding: ``g: (..., 2) -> (..., k)`` (a module or any callable).
        system: a :class:`~noether_lite.systems.System` or registered name.
        ax: axes to draw on (default: a new figure).
        dim: which output of ``g`` to draw.
        extent: ``(q_min, q_max, p_min, p_max)`` (default: the data's radius, +10%).
        n_levels: number of contours of each kind.
        n_grid: grid points per axis.
        title: axes title (default names the system and the output).

    Returns:
        The axes.
    """
    sys_ = get_system(system)
    ax = _ax(ax)
    extent = extent or _default_extent(sys_)
    q = torch.linspace(extent[0], extent[1], n_grid, dtype=torch.float64)
    p = torch.linspace(extent[2], extent[3], n_grid, dtype=torch.float64)
    qq, pp = torch.meshgrid(q, p, indexing="xy")  # (n_grid, n_grid) each
    grid = torch.stack([qq, pp], dim=-1)  # (n_grid, n_grid, 2)
    g = _embed(embedding, grid)
    if not 0 <= dim < g.shape[-1]:
        raise ValueError(f"dim={dim} but the embedding has {g.shape[-1]} output(s)")
    g, h = g[..., dim], sys_.energy(grid)  # (n_grid, n_grid) each
    # seed points on the positive p axis, away from the origin and the edge
    seeds = torch.stack([torch.zeros(n_levels, dtype=torch.float64),
                         torch.linspace(0.15, 0.9, n_levels, dtype=torch.float64) * extent[3]], dim=-1)  # (n_levels, 2)
    h_levels = np.unique(_np(sys_.energy(seeds)))
    g_levels = np.unique(_np(_embed(embedding, seeds)[:, dim]))
    ax.contourf(_np(qq), _np(pp), _np(g), levels=24, cmap="viridis", alpha=0.45)
    ax.contour(_np(qq), _np(pp), _np(h), levels=h_levels, colors="k", linestyles="--", linewidths=1.2)
    if len(g_levels) > 1:
        ax.contour(_np(qq), _np(pp), _np(g), levels=g_levels, cmap="autumn", linewidths=1.8)
    ax.plot([], [], "k--", label="true energy H")
    ax.plot([], [], "-", color="tab:orange", label=f"learned g[{dim}]")
    ax.legend(loc="upper right")
    ax.set(xlabel="q", ylabel="p", xlim=extent[:2], ylim=extent[2:])
    ax.set_title(title if title is not None else f"{sys_.name}: level sets of g[{dim}] vs H")
    return ax


def embedding_correlation(
    embedding: Embedding,
    system: Union[str, System],
    *,
    n: int = 4000,
    seed: int = 0,
    box: Optional[Tuple[float, float]] = None,
) -> Dict[str, object]:
    """How well the embedding's outputs explain the true energy on random states.

    States are drawn uniformly from ``box²`` (default ``±`` the system's largest
    initial radius).

    Returns:
        ``{"per_dim": [|corr(g_d, H)| for each output d], "linear": R}``, where
        ``R`` is the correlation between ``H`` and its least-squares fit
        ``a + Σ_d b_d g_d`` (``R = 1``: ``H`` is an affine function of ``g``).
    """
    sys_ = get_system(system)
    lo, hi = box or (-sys_.radius[1], sys_.radius[1])
    gen = torch.Generator().manual_seed(seed)
    states = lo + (hi - lo) * torch.rand(n, 2, generator=gen, dtype=torch.float64)  # (n, 2)
    g, h = _embed(embedding, states), sys_.energy(states)  # (n, k), (n,)
    per_dim = [float(abs(np.corrcoef(_np(g[:, d]), _np(h))[0, 1])) for d in range(g.shape[1])]
    design = torch.cat([torch.ones(n, 1, dtype=torch.float64), g], dim=1)  # (n, k + 1)
    coef = torch.linalg.lstsq(design, h.unsqueeze(-1)).solution  # (k + 1, 1)
    fit = (design @ coef).squeeze(-1)  # (n,)
    linear = float(np.corrcoef(_np(fit), _np(h))[0, 1])
    return {"per_dim": per_dim, "linear": linear}


def plot_rmse_per_horizon(
    result: Mapping[str, object],
    *,
    ax=None,
    methods: Optional[Sequence[str]] = None,
    dt: Optional[float] = None,
    logy: bool = True,
):
    """RMSE against rollout step (or time), one line per method.

    Args:
        result: a :func:`~noether_lite.experiments.physics.run_physics` result (uses its
            ``"rmse_per_horizon"``: method -> ``T + 1`` values), or that mapping itself.
        ax: axes to draw on.
        methods: which methods, in order (default: all in the result).
        dt: time step; when given the x axis is time, else the step index.
        logy: log-scale the error axis.

    Returns:
        The axes.
    """
    ax = _ax(ax)
    curves = result.get("rmse_per_horizon", result)
    for name in methods or list(curves):
        y = _np(curves[name])
        x = np.arange(len(y)) * (dt if dt is not None else 1)
        if logy:  # the first point is the (exact) initial state: zero error
            x, y = x[1:], y[1:]
        ax.plot(x, y, label=label_of(name))
    if logy:
        ax.set_yscale("log")
    title = result.get("system") if isinstance(result.get("system"), str) else None
    ax.set(xlabel="time" if dt is not None else "rollout step", ylabel="test RMSE at that step")
    if title:
        ax.set_title(f"{title}: error along the rollout")
    ax.legend()
    return ax


def plot_lr_sweep(
    scores: Mapping[str, Mapping[float, float]],
    *,
    baseline: Optional[Union[float, Mapping[str, float]]] = None,
    ax=None,
    logx: Optional[bool] = None,
    xlabel: str = "inner learning rate λ_in",
    ylabel: str = "test RMSE",
    mark_best: bool = True,
):
    """A test-time sweep: one curve per label, the best point marked.

    Args:
        scores: label -> ``{x: score}`` (x = ``λ_in`` or the number of steps ``K``).
        baseline: a horizontal reference (e.g. the untailored model's RMSE), or
            label -> value for several.
        ax: axes to draw on.
        logx: log-scale x (default: when every x is positive).
        xlabel, ylabel: axis labels.
        mark_best: circle each curve's minimum.

    Returns:
        The axes.
    """
    ax = _ax(ax)
    all_x = [float(x) for s in scores.values() for x in s]
    for label, s in scores.items():
        xs = sorted(s)
        ys = [float(s[x]) for x in xs]
        (line,) = ax.plot(xs, ys, marker="o", ms=4, label=label_of(label))
        if mark_best and ys:
            i = int(np.nanargmin(ys))
            ax.plot([xs[i]], [ys[i]], "o", ms=11, mfc="none", color=line.get_color())
    refs = {"untailored": baseline} if isinstance(baseline, (int, float)) else dict(baseline or {})
    for label, v in refs.items():
        ax.axhline(float(v), ls=":", color="gray", label=label)
    if logx if logx is not None else (all_x and min(all_x) > 0):
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    return ax


def results_table(
    ours: Mapping[str, Mapping[str, float]],
    *,
    paper: Mapping[str, Mapping[str, float]] = PAPER_RMSE,
    methods: Sequence[str] = ("vanilla", "noether_oracle"),
    digits: int = 3,
) -> str:
    """A plain-text table of our RMSE next to the paper's, one row per (system, method).

    Args:
        ours: system -> method -> RMSE (e.g. ``{s: run_physics(s)["rmse"]}``).
        paper: system -> method -> reported RMSE (default :data:`PAPER_RMSE`).
        methods: rows per system, in order; methods missing from ``ours`` are skipped.
        digits: decimals for our numbers (the paper's are printed as reported).

    Returns:
        The table, with a ``ratio`` column: each method's RMSE over the vanilla
        MLP's of the same source (below 1 = better than vanilla).
    """
    lines = [f"{'system':<10}{'method':<17}{'ours':>9}{'ratio':>7}   {'paper':>7}{'ratio':>7}"]
    for system, res in ours.items():
        ref = paper.get(system, {})
        for m in methods:
            if m not in res:
                continue
            o = float(res[m])
            ro = o / float(res["vanilla"]) if "vanilla" in res else float("nan")
            pv = ref.get(m)
            if pv is not None and "vanilla" in ref:
                pcol = f"{pv:>7.4f}{pv / ref['vanilla']:>7.2f}"
            else:
                pcol = f"{'—':>7}{'':>7}"
            lines.append(f"{system:<10}{m:<17}{o:>9.{digits}f}{ro:>7.2f}   {pcol}")
    return "\n".join(lines)


_STUDY_AXES = {"n_train": "training trajectories", "noise": "observation noise σ", "horizon": "points per trajectory"}


def plot_study(result: Mapping, *, ax=None, relative: bool = True, title: Optional[str] = None):
    """A :func:`~noether_lite.experiments.study.run_study` result: for each value of the varied
    setting, the mean paired difference Noether − control with its 95 % interval over seeds
    (below zero: tailoring helped beyond the same extra training). ``relative`` divides by the
    control's mean RMSE at that value (a change in %).

    Returns:
        The axes.
    """
    ax = _ax(ax)
    spec, rows = result["spec"], result["summary"]
    if not rows:
        raise ValueError("the study has no finished runs to plot")
    xs = [r["value"] for r in rows]
    pos = list(range(len(xs))) if spec["vary"] == "n_train" else xs
    for k, (key, label) in enumerate((("oracle_minus_control", "oracle (true H) − control"),
                                      ("learned_minus_control", "learned g_φ − control"))):
        if key not in rows[0]:
            continue
        scale = [100 / r["rmse"]["vanilla_tuned"] if relative else 1.0 for r in rows]
        m = [r[key]["mean"] * c for r, c in zip(rows, scale)]
        lo = [(r[key]["mean"] - r[key]["lo"]) * c for r, c in zip(rows, scale)]
        hi = [(r[key]["hi"] - r[key]["mean"]) * c for r, c in zip(rows, scale)]
        shift = (k - 0.5) * (0.12 if spec["vary"] == "n_train" else 0.012 * (max(xs) - min(xs) or 1))
        ax.errorbar([x + shift for x in pos], m, yerr=[lo, hi], marker="o", capsize=4, label=label)
    ax.axhline(0, color="gray", lw=1)
    if spec["vary"] == "n_train":
        ax.set_xticks(pos)
        ax.set_xticklabels([str(x) for x in xs])
    ax.set_xlabel(_STUDY_AXES.get(spec["vary"], spec["vary"]))
    ax.set_ylabel("RMSE change vs control (%)" if relative else "RMSE difference vs control")
    ax.set_title(title or f"{spec['system']}, {spec['mode']} mode, {len(spec['seeds'])} seeds (95 % intervals)")
    ax.legend()
    return ax


def embedding_diagnosis_table(result: Mapping) -> str:
    """The rows of ``ci/diagnose_embedding.py``'s result: per system and variant, whether
    meta-training was kept, ``|corr(g, H)|`` and the affine-fit R before and after, the test
    RMSE over the control's, and the RMS meta-gradient reaching θ and φ."""
    lines = []
    for name, row in result["systems"].items():
        sc = row["scale"]
        lines.append(f"{name}: λ_in chosen for g = H: {sc['lr_for_H']:g}, for g = 4H: {sc['lr_for_4H']:g}")
        lines.append(f"  {'variant':24s} kept  |corr| before → after   R before → after  RMSE/control"
                     f"  grad θ   grad φ")
        for v, r in row["variants"].items():
            lines.append(f"  {v:24s} {'yes' if r['meta_trained'] else 'no':4s}  {r['corr_before']:.2f} → "
                         f"{r['corr_after']:.2f}         {r['linear_before']:.2f} → {r['linear_after']:.2f}"
                         f"       {r['rmse_over_control']:6.3f}  {r['grad_rms']['theta']:.1e}  "
                         f"{r['grad_rms']['phi']:.1e}")
    return "\n".join(lines)


def plot_embedding_diagnosis(result: Mapping, *, axes=None):
    """Bars per variant: ``|corr(g_φ, H)|`` before and after meta-training (one panel per
    system), with the 0.9 line the issue of alignment is judged by."""
    import matplotlib.pyplot as plt

    systems = list(result["systems"])
    if axes is None:
        _, axes = plt.subplots(1, len(systems), figsize=(5.5 * len(systems), 3.6), squeeze=False)
        axes = axes[0]
    for ax, name in zip(axes, systems):
        rows = result["systems"][name]["variants"]
        xs = np.arange(len(rows))
        ax.bar(xs - 0.2, [r["corr_before"] for r in rows.values()], 0.4, label="before meta-training")
        ax.bar(xs + 0.2, [r["corr_after"] for r in rows.values()], 0.4, label="after")
        ax.axhline(0.9, ls=":", color="gray")
        ax.set_xticks(xs)
        ax.set_xticklabels([v.replace(" + ", " +\n") for v in rows], fontsize=9)
        ax.set(ylim=(0, 1), ylabel="|corr(g_φ, H)|", title=name)
        ax.legend(fontsize=9)
    return axes


def describe_embedding_diagnosis(result: Mapping) -> str:
    """What ``ci/diagnose_embedding.py``'s numbers say, in sentences computed from them: how
    large the meta-gradient reaching ``φ`` is against ``θ``'s, which variant aligned ``g_φ``
    best with ``H`` (and whether it reached 0.9), and which beat the control."""
    lines = []
    for name, row in result["systems"].items():
        vs = row["variants"]
        ratio = {v: r["grad_rms"]["phi"] / r["grad_rms"]["theta"] for v, r in vs.items()}
        best = max(vs, key=lambda v: vs[v]["corr_after"])
        beat = [v for v, r in vs.items() if r["rmse_over_control"] < 1]
        lines.append(
            f"{name}: the default g_φ's meta-gradient is {ratio['default']:.0e} of θ's (RMS per parameter)"
            + "".join(f"; {v}: {ratio[v]:.0e}" for v in vs if v != "default" and "scale-free" in v)
            + f". Best alignment after meta-training: {best}, |corr| {vs[best]['corr_after']:.2f} "
            f"(R {vs[best]['linear_after']:.2f}), {'at or above' if vs[best]['corr_after'] >= 0.9 else 'below'} "
            f"0.9. Better than the control in this seed: {', '.join(beat) if beat else 'none'}.")
    return "\n".join(lines)
