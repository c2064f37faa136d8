"""Physical units: which formulas are pruned, the counts per depth, and the energies still found."""
import pytest

import noether_lite as nl
from noether_lite.symbolic import discover_conserved, enumerate_formulas
from noether_lite.symbolic.units import Units


def _strings(units, depth=2, operators=None):
    return set(enumerate_formulas(max_depth=depth, units=units, operators=operators).strings())


@pytest.mark.parametrize("system, kept, pruned", [
    # the pendulum's q is an angle; constants may carry m^a l^b g^c (integer powers): no odd time power
    ("pendulum", ["p**2 - c0*cos(c1*q)", "q + c0*q**2", "cos(c0*q)", "q*p", "p**2"],
     ["q + c0*p", "sin(c0*p)", "cos(c0*p)", "p + c0*p**2"]),
    # the spring's q is a length: a length plus an area, or a length inside a cosine, is pruned
    # and q + c·p would need c ~ T/M = (m k)^(-1/2): not an integer power
    ("spring", ["q**2 + c0*p**2", "q*p", "p/q", "q**2"],
     ["q + c0*p", "q + c0*q**2", "cos(c0*q)", "sin(c0*p)"]),
])
def test_formulas_that_add_incompatible_units_are_pruned(system, kept, pruned):
    everything, allowed = _strings(None), _strings(system)
    for text in kept:
        assert text in allowed, text
    for text in pruned:
        assert text in everything and text not in allowed, text


def test_counts_before_and_after_at_each_depth_add_up():
    for system in ("pendulum", "spring"):
        free = enumerate_formulas(max_depth=3, operators=["+", "-", "*", "square", "cos"])
        lib = enumerate_formulas(max_depth=3, operators=["+", "-", "*", "square", "cos"], units=system)
        assert len(lib) < len(free)
        for c in lib.counts:
            assert c["candidates"] == c["unit_pruned"] + c["new"] + c["duplicates"] + c["degenerate"]
        assert sum(c["unit_pruned"] for c in lib.counts) > 0
        assert all(c["unit_pruned"] == 0 for c in free.counts)


def test_without_parameters_units_must_match_exactly():
    strict = Units({"q": {"L": 1}, "p": {"L": 1}})
    allowed = _strings(strict, depth=1)
    assert {"q + c0*p", "q*p", "q/p"} <= allowed
    lengths = Units({"q": {"L": 1}, "p": {"T": 1}})
    assert "q + c0*p" not in _strings(lengths, depth=1)
    # a parameter with the missing unit makes the sum allowed
    assert "q + c0*p" in _strings(Units({"q": {"L": 1}, "p": {"T": 1}}, {"v": {"L": 1, "T": -1}}), depth=1)


def test_the_energies_survive_units_pruning_at_depth_three():
    for system, best in (("pendulum", "p**2 - 3*cos(q)"), ("spring", "q**2 + p**2")):
        train, _ = nl.make_dataset(system, seed=0)
        res = discover_conserved(train.x_clean, max_depth=3, units=system, max_states=15,
                                 operators=["+", "-", "*", "square", "cos"])
        assert str(res.best) == best
        assert sum(c["unit_pruned"] for c in res.counts) > 0


def test_unusable_units_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"no unit for variable\(s\) \['p'\]"):
        enumerate_formulas(max_depth=1, units=Units({"q": {}}))
    with pytest.raises(ValueError, match="not independent"):
        enumerate_formulas(max_depth=1, units=Units({"q": {}, "p": {}}, {"a": {"L": 1}, "b": {"L": -2}}))
    with pytest.raises(ValueError, match="exponents must be finite"):
        enumerate_formulas(max_depth=1, units=Units({"q": {"L": float("nan")}, "p": {}}))
    with pytest.raises(ValueError, match="units must be None, a Units or one of"):
        enumerate_formulas(max_depth=1, units="moon")
    with pytest.raises(ValueError, match="no units are known for system"):
        nl.run_symbolic("damped", units=True, tailor=False, progress=False)
