"""discover_conserved: the energy survives the filter, the ranking, and its errors."""
import numpy as np
import pytest
import torch

import noether_lite as nl
from noether_lite.symbolic import (
    OPERATORS,
    SearchTooLarge,
    discover_conserved,
    enumerate_formulas,
)


def test_energy_survives_and_nonconserved_is_rejected(pendulum_clean):
    res = discover_conserved(pendulum_clean, max_depth=2, operators=["-", "*", "cos", "square"], seed=0)
    assert res.n_survivors >= 1 and res.n_diverged == 0
    best = res.best
    states = torch.rand(2000, 2, dtype=torch.float64) * 4 - 2
    h = nl.get_system("pendulum").energy(states)
    corr = np.corrcoef(h.numpy(), best(states).numpy())[0, 1]
    assert abs(corr) > 0.999, str(best)
    strings = res.library.strings()
    for bad in ("q*p", "q", "p**2"):
        i = strings.index(bad)
        assert not res.survived[i] and res.ratios[i] > res.max_ratio
    # a survivor's ratio really is below the threshold; counts add up
    assert (res.ratios[res.survived] <= res.max_ratio).all()
    assert res.n_enumerated == res.counts[-1]["total"] == len(res.ratios)
    assert res.formulas_per_second > 0


def test_errors():
    x = torch.zeros(4, 10, 2)
    x[..., 0] = torch.linspace(0, 1, 10)
    x[..., 1] = torch.arange(4.0)[:, None]  # one p per trajectory: identical copies are refused
    with pytest.raises(ValueError, match="valid operators: " + r"\+, -, \*, /, sin, cos, square"):
        discover_conserved(x, operators=["+", "exp"])
    with pytest.raises(SearchTooLarge, match="GB"):
        discover_conserved(x, max_depth=3, memory_budget=1e6)
    with pytest.raises(SearchTooLarge, match="depth 4"):
        enumerate_formulas(max_depth=6, operators=["+", "*", "/"])
    bad = x.clone()
    bad[0, 3, 1] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        discover_conserved(bad)
    with pytest.raises(ValueError, match="shape"):
        discover_conserved(x[0])
    with pytest.raises(ValueError, match="state_dim 2"):
        discover_conserved(x, names=("q", "p", "r"))
    with pytest.raises(ValueError, match="max_depth"):
        discover_conserved(x, max_depth=0)
    assert set(OPERATORS) == {"+", "-", "*", "/", "sin", "cos", "square"}


def test_mirror_formulas_that_fit_equally_well_rank_by_their_signs_not_by_rounding(pendulum_clean):
    """p² − c cos q and p² + c' cos q (c' = −c) are one function; their scores differ only in
    the fit's rounding, so the ranking must not depend on them: below the score floor the one
    with positive constants comes first, and by default the two are one family, shown once."""
    ops = ["+", "-", "*", "cos", "square"]
    for method in ("projection", "adam"):
        res = discover_conserved(pendulum_clean, max_depth=2, operators=ops, seed=0, method=method, merge_tol=0)
        top = [f.template for f in res.formulas[:2]]
        assert top == ["p**2 - c0*cos(c1*q)", "p**2 + c0*cos(c1*q)"], (method, top)
        assert all(c > 0 for c in res.formulas[0].constants)
        assert res.formulas[1].constants[0] < 0
        floor = 1e-7 if method == "adam" else 1e-10
        assert max(f.score for f in res.formulas[:2]) < floor  # both below the default floor: a tie
    merged = discover_conserved(pendulum_clean, max_depth=2, operators=ops, seed=0)
    assert str(merged.best) == "p**2 - 3*cos(q)" and merged.best.variants >= 2
    assert [f.template for f in merged.formulas].count("p**2 + c0*cos(c1*q)") == 0
    assert merged.n_survivors == sum(f.variants for f in merged.formulas)
    # with a floor below the fit's noise the order rests on the scores themselves
    low = discover_conserved(pendulum_clean, max_depth=2, operators=ops, seed=0, score_floor=1e-300, merge_tol=0)
    scores = [f.score for f in low.formulas[:2]]
    assert scores == sorted(scores)


def test_families_are_merged_up_to_an_affine_map_and_counted(pendulum_clean):
    """Every shown formula is its own family: no two are equal up to a·f + b on random states."""
    res = discover_conserved(pendulum_clean, max_depth=2, seed=0)
    everything = discover_conserved(pendulum_clean, max_depth=2, seed=0, merge_tol=0)
    assert len(res.formulas) < len(everything.formulas) == everything.n_survivors
    s = torch.rand(500, 2, dtype=torch.float64) * 3 - 1.5
    vals = torch.stack([f(s) for f in res.formulas])
    corr = torch.corrcoef(vals).abs() - torch.eye(len(vals), dtype=vals.dtype)
    assert corr.max() < 1 - 1e-6
    assert sum(f.variants for f in res.formulas) == res.n_survivors
