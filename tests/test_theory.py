"""Theorem-1 experiment: the conserving estimator and its generalization gap."""
import math

import pytest
import torch

from noether_lite.theory import (
    expected_gap,
    fit_translation,
    gap_table,
    generalization_gap,
    projector,
    subspace_basis,
    theorem1_bound,
    translation_losses,
)


def test_basis_is_orthonormal_and_nested():
    a = subspace_basis(d=6, m=6, seed=3)
    torch.testing.assert_close(a.T @ a, torch.eye(6, dtype=torch.float64))
    torch.testing.assert_close(subspace_basis(d=6, m=2, seed=3), a[:, :2])
    assert subspace_basis(d=6, m=0).shape == (6, 0)
    with pytest.raises(ValueError):
        subspace_basis(d=3, m=4)


def test_projector_is_idempotent_symmetric_and_handles_non_orthonormal_columns():
    a = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)  # spans the (e1, e2) plane
    p = projector(a)
    torch.testing.assert_close(p, torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)))
    torch.testing.assert_close(p @ p, p)
    assert torch.count_nonzero(projector(torch.zeros(3, 0, dtype=torch.float64))) == 0


def test_projected_estimator_matches_closed_form():
    x = torch.zeros(2, 3, dtype=torch.float64)
    y = torch.tensor([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]], dtype=torch.float64)  # mean displacement (2, 3, 4)
    a = torch.tensor([[1.0], [0.0], [0.0]], dtype=torch.float64)
    torch.testing.assert_close(fit_translation(x=x, y=y, a=a), torch.tensor([2.0, 0.0, 0.0], dtype=torch.float64))
    a2 = torch.tensor([[1.0], [1.0], [0.0]], dtype=torch.float64) / math.sqrt(2)  # direction (1, 1, 0)/√2
    torch.testing.assert_close(fit_translation(x=x, y=y, a=a2), torch.tensor([2.5, 2.5, 0.0], dtype=torch.float64))
    # m = d: unrestricted least squares, the mean displacement itself
    torch.testing.assert_close(
        fit_translation(x=x, y=y, a=torch.eye(3, dtype=torch.float64)), torch.tensor([2.0, 3.0, 4.0], dtype=torch.float64)
    )


def test_m_zero_forces_the_identity_and_has_no_gap():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 10, 4, generator=gen, dtype=torch.float64), torch.randn(5, 10, 4, generator=gen, dtype=torch.float64)
    v = fit_translation(x=x, y=y, a=torch.zeros(4, 0, dtype=torch.float64))
    assert torch.count_nonzero(v) == 0  # f(x) = x + 0
    r = translation_losses(d=4, m=0, n=10, n_trials=4000, seed=1)
    # train loss is an unbiased estimate of test loss when nothing is fitted
    assert abs(float(r["gap"].mean())) < 4 * float(r["gap"].std()) / math.sqrt(4000)


def test_gap_matches_closed_form_and_falls_with_n_and_rises_with_m():
    table = gap_table(d=8, ms=[1, 4, 8], ns=[4, 16, 64], n_trials=1000, seed=0)
    err = (table["gap"] - table["expected"]).abs()
    assert (err < 5 * table["gap_se"] + 1e-12).all(), (table["gap"], table["expected"])
    assert (table["gap"][:, 1:] < table["gap"][:, :-1]).all()  # decreases with n
    assert (table["gap"][1:, :] > table["gap"][:-1, :]).all()  # increases with m
    assert generalization_gap(d=8, m=8, n=4, n_trials=1000) == pytest.approx(float(table["gap_plain"][2, 0]))


def test_wrong_conserved_structure_costs_training_loss_not_gap():
    right = translation_losses(d=6, m=3, n=200, n_trials=500, signal_dim=3, signal_norm=2.0, seed=0)
    wrong = translation_losses(d=6, m=1, n=200, n_trials=500, signal_dim=3, signal_norm=2.0, seed=0)
    assert float(wrong["train"].mean()) > float(right["train"].mean()) + 0.3  # the bias ‖(I − P)v*‖²
    assert float(wrong["gap"].mean()) < float(right["gap"].mean())


def test_expected_gap_formula():
    assert expected_gap(m=0, n=10) == 0.0
    assert expected_gap(m=3, n=6, noise_std=0.5) == pytest.approx(2 * 3 * 0.25 / 6)


def test_bound_orders_like_the_theorem():
    ns = [10, 100, 1000, 10000]
    for xi in (0, 1, 4, 8):
        b = [theorem1_bound(n=n, xi=xi) for n in ns]
        assert all(b2 < b1 for b1, b2 in zip(b, b[1:])), (xi, b)  # falls with n
    for n in ns:
        b = [theorem1_bound(n=n, xi=xi) for xi in (0, 1, 4, 8)]
        assert all(b2 > b1 for b1, b2 in zip(b, b[1:])), (n, b)  # grows with the effective dimension
    # ξ = 0: only the confidence term is left
    assert theorem1_bound(n=50, xi=0, delta=0.1, loss_bound=2.0) == pytest.approx(2.0 * math.sqrt(math.log(10) / 100))


def test_input_validation():
    with pytest.raises(ValueError):
        translation_losses(d=3, m=1, n=0)
    with pytest.raises(ValueError):
        fit_translation(x=torch.zeros(2, 3), y=torch.zeros(3, 3), a=torch.eye(3))
    with pytest.raises(ValueError):
        theorem1_bound(n=10, xi=1, delta=1.5)


def test_control_variate_has_the_same_mean_and_less_variance():
    r = translation_losses(d=8, m=4, n=64, n_trials=4000, seed=2)
    se = float(r["gap"].std()) / math.sqrt(4000)
    assert abs(float(r["gap_cv"].mean()) - expected_gap(m=4, n=64)) < 5 * float(r["gap_cv"].std()) / math.sqrt(4000)
    assert abs(float(r["gap"].mean()) - expected_gap(m=4, n=64)) < 5 * se
    assert float(r["gap_cv"].std()) < 0.3 * float(r["gap"].std())
    zero = translation_losses(d=8, m=0, n=64, n_trials=10, seed=2)["gap_cv"]
    assert torch.count_nonzero(zero.abs() > 1e-12) == 0  # the m = 0 estimate is exactly its expectation, 0


def test_experiment_is_seeded_and_chunking_only_bounds_memory():
    a = translation_losses(d=3, m=2, n=5, n_trials=7, seed=4, chunk=3)
    b = translation_losses(d=3, m=2, n=5, n_trials=7, seed=4, chunk=3)
    for key in ("train", "test", "gap", "gap_cv"):
        assert a[key].shape == (7,)
        torch.testing.assert_close(a[key], b[key])
