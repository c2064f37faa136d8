"""Theorem 1 made numerical: conserving a quantity shrinks the generalization gap.

The setting of the paper's Theorem 1, in its simplest honest form:

* states ``x, y ∈ R^d``; predictors are translations ``f_v(x) = x + v``;
* the conserved quantity ``g`` has affine level sets ``{x + A z : z ∈ R^m}``,
  so a predictor *exactly conserves* ``g`` iff ``v ∈ span(A)`` (``m`` free
  directions instead of ``d``);
* data ``y = x + v* + ε`` with ``ε ~ N(0, σ² I_d)``; loss ``‖y − f_v(x)‖²``;
* the empirical risk minimizer over conserving predictors is the projection of
  the mean displacement: ``v̂ = P_A · mean_i (y_i − x_i)``.

For this model the expected gap is known in closed form,
``E[test − train] = 2 m σ² / n`` (:func:`expected_gap`): it vanishes for
``m = 0`` (``g`` invertible, ``f(x) = x`` forced) and is largest for
``m = d`` (``g`` constant, no constraint). The theorem's bound
(:func:`theorem1_bound`) has the same ordering in ``m`` but a slower
``sqrt(log n / n)`` rate: it is a worst-case, uniform bound.

All functions are pure and seeded; tensors are float64.
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

__all__ = [
    "subspace_basis",
    "projector",
    "fit_translation",
    "translation_losses",
    "generalization_gap",
    "gap_table",
    "expected_gap",
    "theorem1_bound",
]


def subspace_basis(*, d: int, m: int, seed: int = 0) -> Tensor:
    """A random orthonormal basis ``A`` of an ``m``-dimensional subspace of ``R^d``.

    The bases for different ``m`` (same ``d`` and ``seed``) are nested: the
    first ``m`` columns of one random orthogonal matrix.

    Returns:
        ``A`` of shape ``(d, m)`` with ``Aᵀ A = I_m`` (``(d, 0)`` when ``m = 0``).

    Raises:
        ValueError: ``d < 1`` or ``m`` outside ``[0, d]``.
    """
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    if not 0 <= m <= d:
        raise ValueError(f"m must be in [0, d] = [0, {d}], got {m}")
    gen = torch.Generator().manual_seed(int(seed))
    q, r = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))  # unique (Haar-distributed) orthogonal matrix
    return q[:, :m]  # (d, m)


def projector(a: Tensor) -> Tensor:
    """Orthogonal projector onto ``span(a)``.

    Args:
        a: ``(d, m)``, any full- or low-rank matrix (``m = 0`` allowed).

    Returns:
        ``P = A A⁺`` of shape ``(d, d)``; zero when ``m = 0``.
    """
    if a.ndim != 2:
        raise ValueError(f"a must have shape (d, m); got {tuple(a.shape)}")
    d, m = a.shape
    if m == 0:
        return torch.zeros(d, d, dtype=a.dtype)
    return a @ torch.linalg.pinv(a)  # (d, d)


def fit_translation(*, x: Tensor, y: Tensor, a: Tensor) -> Tensor:
    """Least-squares translation restricted to ``span(a)`` (the conserving ERM).

    Args:
        x: inputs, shape ``(..., n, d)`` (leading dims are independent problems).
        y: targets, shape ``(..., n, d)``.
        a: level-set directions of the conserved quantity, shape ``(d, m)``.

    Returns:
        ``v̂ = P_A mean_i (y_i − x_i)``, shape ``(..., d)``.
    """
    if x.shape != y.shape:
        raise ValueError(f"x and y shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    mean_disp = (y - x).mean(dim=-2)  # (..., d)
    return mean_disp @ projector(a).T


def translation_losses(
    *,
    d: int,
    m: int,
    n: int,
    n_trials: int = 200,
    noise_std: float = 1.0,
    signal_dim: Optional[int] = None,
    signal_norm: float = 1.0,
    seed: int = 0,
    chunk: int = 500,
) -> Dict[str, Tensor]:
    """Train and test loss of the conserving ERM, over independent training sets.

    The true translation ``v*`` has norm ``signal_norm`` and lies in the span of
    the first ``signal_dim`` basis directions (default ``d``: a generic ``v*``),
    so a conserved structure with ``m < signal_dim`` is *wrong* and costs
    training loss. The inputs ``x_i ~ N(0, I)`` are drawn for completeness; a
    translation's loss depends only on ``y_i − x_i``. The test loss is the exact
    expectation over fresh data, ``‖v* − v̂‖² + d σ²``, so the only randomness
    is the training set.

    Besides the plain ``gap = test − train`` this returns ``gap_cv``, the same
    quantity minus the gap of the ``m = 0`` predictor on the *same* training set
    (``f(x) = x``, nothing fitted, whose expected gap is exactly 0). It has the
    same expectation and far less variance: the noise of the training loss
    common to every ``m`` cancels (a control variate).

    Returns:
        dict of tensors of shape ``(n_trials,)``: ``train``, ``test``, ``gap``
        (``test − train``) and ``gap_cv``.

    Raises:
        ValueError: ``n < 1``, ``n_trials < 1``, ``noise_std < 0`` or a bad ``m``.
    """
    if n < 1 or n_trials < 1:
        raise ValueError(f"n and n_trials must be >= 1, got n={n}, n_trials={n_trials}")
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std}")
    k = d if signal_dim is None else int(signal_dim)
    if not 0 <= k <= d:
        raise ValueError(f"signal_dim must be in [0, {d}], got {k}")
    basis = subspace_basis(d=d, m=d, seed=seed)  # (d, d), shared by every m
    a = basis[:, :m]  # (d, m)
    gen = torch.Generator().manual_seed(int(seed) + 1)
    w = torch.randn(k, generator=gen, dtype=torch.float64)
    v_star = basis[:, :k] @ (signal_norm * w / w.norm().clamp_min(1e-12)) if k else torch.zeros(d, dtype=torch.float64)
    out: Dict[str, list] = {"train": [], "test": [], "gap": [], "gap_cv": []}
    for start in range(0, n_trials, chunk):  # bounded memory for large n
        b = min(chunk, n_trials - start)
        x = torch.randn(b, n, d, generator=gen, dtype=torch.float64)  # (b, n, d)
        y = x + v_star + noise_std * torch.randn(b, n, d, generator=gen, dtype=torch.float64)
        v_hat = fit_translation(x=x, y=y, a=a)  # (b, d)
        train = ((y - x - v_hat[:, None, :]) ** 2).sum(-1).mean(-1)  # (b,)
        test = ((v_star - v_hat) ** 2).sum(-1) + d * noise_std**2  # (b,)
        gap0 = (v_star**2).sum() + d * noise_std**2 - ((y - x) ** 2).sum(-1).mean(-1)  # m = 0 gap, (b,)
        for key, val in (("train", train), ("test", test), ("gap", test - train), ("gap_cv", test - train - gap0)):
            out[key].append(val)
    return {key: torch.cat(vals) for key, vals in out.items()}


def generalization_gap(
    *, d: int, m: int, n: int, n_trials: int = 200, noise_std: float = 1.0, seed: int = 0
) -> float:
    """Mean (over trials) of ``test − train`` loss of the conserving ERM; see :func:`translation_losses`."""
    return float(translation_losses(d=d, m=m, n=n, n_trials=n_trials, noise_std=noise_std, seed=seed)["gap"].mean())


def gap_table(
    *,
    d: int,
    ms: Sequence[int],
    ns: Sequence[int],
    n_trials: int = 200,
    noise_std: float = 1.0,
    control_variate: bool = True,
    seed: int = 0,
) -> Dict[str, Tensor]:
    """Gap and losses for every ``(m, n)`` pair.

    Args:
        control_variate: estimate the gap with ``gap_cv`` (same mean, less
            variance; see :func:`translation_losses`) instead of the plain gap.

    Returns:
        dict with ``ms`` ``(M,)``, ``ns`` ``(N,)`` and, of shape ``(M, N)``:
        ``gap`` (mean over trials), ``gap_se`` (its standard error),
        ``gap_plain`` and ``gap_plain_se`` (the plain estimator, whatever
        ``control_variate`` says), ``train``, ``test`` (means) and
        ``expected`` (``2 m σ² / n``).
    """
    keys = ("gap", "gap_se", "gap_plain", "gap_plain_se", "train", "test", "expected")
    out = {key: torch.zeros(len(ms), len(ns), dtype=torch.float64) for key in keys}
    se = lambda v: v.std() / math.sqrt(n_trials) if n_trials > 1 else torch.tensor(0.0)
    for i, m in enumerate(ms):
        for j, n in enumerate(ns):
            r = translation_losses(d=d, m=m, n=n, n_trials=n_trials, noise_std=noise_std, seed=seed)
            g = r["gap_cv"] if control_variate else r["gap"]
            out["gap"][i, j], out["gap_se"][i, j] = g.mean(), se(g)
            out["gap_plain"][i, j], out["gap_plain_se"][i, j] = r["gap"].mean(), se(r["gap"])
            out["train"][i, j] = r["train"].mean()
            out["test"][i, j] = r["test"].mean()
            out["expected"][i, j] = expected_gap(m=m, n=n, noise_std=noise_std)
    out["ms"] = torch.tensor(list(ms))
    out["ns"] = torch.tensor(list(ns))
    return out


def expected_gap(*, m: int, n: int, noise_std: float = 1.0) -> float:
    """Closed-form ``E[test − train] = 2 m σ² / n`` for the conserving ERM.

    (The test loss exceeds the noise floor by ``m σ²/n``; the training loss is
    below it by ``m σ²/n``: the fit absorbs ``m`` of the ``n d`` noise dimensions.)
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return 2.0 * m * noise_std**2 / n


def theorem1_bound(
    *,
    n: int,
    xi: int,
    loss_bound: float = 1.0,
    radius: float = 1.0,
    zeta: float = 1.0,
    rho: float = 2.0,
    delta: float = 0.05,
) -> float:
    """Theorem 1's high-probability bound on the generalization gap.

    ``C sqrt([ξ ln max(√ξ, 1) + ξ ln(2 R ζ^{1−1/ρ} √n) + ln(1/δ)] / (2n)) + 1{ξ ≥ 1} sqrt(ζ^{2/ρ} / n)``

    Args:
        n: number of training examples.
        xi: effective dimension: ``m`` for a predictor that exactly conserves
            ``g``, ``d`` otherwise.
        loss_bound: ``C``, a bound on the loss.
        radius: ``R = sup ‖v_θ‖``.
        zeta: Lipschitz constant ``ζ`` of (empirical − expected loss) in ``v``.
        rho: the exponent ``ρ`` of the theorem.
        delta: failure probability ``δ``.

    Returns:
        The bound (a float). With ``ξ = 0`` only the ``ln(1/δ)`` term remains.
    """
    if n < 1 or xi < 0 or not 0 < delta < 1:
        raise ValueError(f"need n >= 1, xi >= 0, 0 < delta < 1; got n={n}, xi={xi}, delta={delta}")
    log_terms = math.log(1.0 / delta)
    if xi > 0:
        log_terms += xi * math.log(max(math.sqrt(xi), 1.0))
        log_terms += xi * math.log(2.0 * radius * zeta ** (1.0 - 1.0 / rho) * math.sqrt(n))
    bound = loss_bound * math.sqrt(max(log_terms, 0.0) / (2.0 * n))
    if xi >= 1:
        bound += math.sqrt(zeta ** (2.0 / rho) / n)
    return bound
