"""enumerate_formulas: counts by hand, commutative deduplication, stable default counts."""
from noether_lite.symbolic import (
    enumerate_formulas,
)


def test_counts_tiny_grammar_by_hand():
    # one variable x, operators {+, square}; "+" is x + c·y, so x + c·x ≡ x up to an affine map.
    # depth 1: x², x + c·x (dup of x)                      -> 2 candidates, 1 new
    # depth 2: (x²)², x + c·x², x² + c·x² (dup of x²)     -> 3 candidates, 2 new
    lib = enumerate_formulas(names=("x",), max_depth=2, operators=["+", "square"])
    assert [c["candidates"] for c in lib.counts] == [1, 2, 3]
    assert [c["new"] for c in lib.counts] == [1, 1, 2]
    assert [c["duplicates"] for c in lib.counts] == [0, 1, 1]
    assert lib.strings() == ["x", "x**2", "(x**2)**2", "x + c0*x**2"]
    # depth-3 candidate count follows from the kept counts: 2 unary + pairs (i <= j, j new) = 2 + (1+2+3+4 - 1-2)
    lib3 = enumerate_formulas(names=("x",), max_depth=3, operators=["+", "square"])
    assert lib3.counts[3]["candidates"] == 2 + (4 * 5 - 2 * 3) // 2


def test_commutative_dedup_keeps_one_of_pq_and_qp():
    lib = enumerate_formulas(max_depth=1, operators=["*", "+"])
    s = lib.strings()
    assert sum(x in ("q*p", "p*q") for x in s) == 1
    assert s.count("q*q") == 1  # without "square", q·q is the simplest form of q²
    lib2 = enumerate_formulas(max_depth=2, operators=["*", "square"])
    s2 = lib2.strings()
    assert "q**2" in s2 and "q*q" not in s2  # numerically identical: the smaller tree wins
    assert sum(x in ("q*p", "p*q") for x in s2) == 1
    assert len(set(s2)) == len(s2)


def test_default_grammar_counts_are_stable():
    lib = enumerate_formulas(max_depth=2)
    assert [c["total"] for c in lib.counts][:2] == [2, 13]
    assert lib.counts[2]["candidates"] == 462  # 3·11 unary + 3·88 commutative + 165 ordered (÷)
    assert len(set(lib.strings())) == len(lib)
