"""Several conserved quantities: functionally independent ones, from the rank of their gradients."""
import pytest
import torch

import noether_lite as nl
from noether_lite.symbolic import Formula
from noether_lite.symbolic.several import discover_several, independence
from noether_lite.systems.expressions import system_from_formula


@pytest.fixture(scope="module")
def oscillator_2d():
    """A particle on a spring to the origin in the plane: states (q1, q2, p1, p2)."""
    s = system_from_formula("(p1**2 + p2**2)/2 + (q1**2 + q2**2)/2", invariants=["q1*p2 - q2*p1"],
                            name="central", radius=(0.5, 1.0))
    nl.register_system(s, overwrite=True)
    return nl.make_dataset("central", seed=0, dtype=torch.float64)[0].x_clean


def _f(tree, constants=()):
    return Formula(tree, tuple(constants), ("q1", "q2", "p1", "p2"))


V = {n: ("var", i) for i, n in enumerate(("q1", "q2", "p1", "p2"))}
SQ = lambda a: ("square", a)  # noqa: E731
E1 = _f(("+", SQ(V["q1"]), SQ(V["p1"])), [1.0])
E2 = _f(("+", SQ(V["q2"]), SQ(V["p2"])), [1.0])
L = _f(("-", ("*", V["q1"], V["p2"]), ("*", V["q2"], V["p1"])), [1.0])
H = _f(("+", E1.tree, E2.tree), [1.0, 1.0, 1.0])


def test_independence_is_zero_for_functions_of_the_others_and_positive_otherwise(oscillator_2d):
    states = oscillator_2d.reshape(-1, 4)[::7]
    assert independence([E1, E2], states) > 0.1
    assert independence([E1, E2, L], states) > 0.1
    assert independence([E1, E2, H], states) < 1e-8  # H = E1 + E2
    E1sq = _f(("square", E1.tree), [1.0])
    assert independence([E1, E1sq], states) < 1e-8


def test_the_planar_oscillator_gives_three_independent_quantities_and_nothing_that_depends_on_them(oscillator_2d):
    res = discover_several(oscillator_2d, units="central")
    assert len(res.formulas) == 3  # the most a flow in 4 dimensions can conserve
    assert all(f.score < 1e-12 for f in res.formulas)
    shown = {str(f) for f in res.formulas}
    assert {"q1**2 + p1**2", "q2**2 + p2**2"} <= shown
    states = oscillator_2d.reshape(-1, 4)
    assert all(v > 1e-3 for v in res.independence)
    # the energy and the angular momentum are conserved, and functions of what was found
    for g in (H, L):
        assert independence(res.formulas + [g], states[::5]) < 1e-6
        vals = g(oscillator_2d)
        assert (vals - vals[:, :1]).abs().max() < 1e-9
    assert sum(c["unit_pruned"] for c in res.search.counts) > 0


def test_two_variables_give_one_quantity_and_bad_arguments_are_refused(pendulum_clean):
    res = discover_several(pendulum_clean, names=("q", "p"), max_depth=2, operators=None, units="pendulum")
    assert [str(f) for f in res.formulas] == ["p**2 - 3*cos(q)"]
    for kw, match in [(dict(max_score=0), "max_score must be"), (dict(rank_tol=1.0), "rank_tol must be"),
                      (dict(n_states=1), "n_states must be an integer >= 2"),
                      (dict(max_quantities=0), "max_quantities must be None or an integer >= 1")]:
        with pytest.raises(ValueError, match=match):
            discover_several(pendulum_clean, names=("q", "p"), max_depth=1, **kw)
