"""Formulas: their values, strings, SymPy form and use as a Noether embedding."""
import pytest
import torch

from noether_lite.core.conservation import noether_loss
from noether_lite.symbolic import (
    discover_conserved,
)


def test_formula_outputs(pendulum_clean):
    res = discover_conserved(pendulum_clean, max_depth=2, operators=["-", "cos", "square"], seed=0)
    f = res.best
    x = pendulum_clean[:3].double()
    v = f(x)
    assert v.shape == (3, pendulum_clean.shape[1])
    torch.testing.assert_close(f.qp(x[..., 0], x[..., 1]), v)
    g = f.as_embedding()
    assert g(x).shape == (3, pendulum_clean.shape[1], 1)
    assert float(noether_loss(g, x).max()) < 1e-6 * float((v ** 2).mean() * x.shape[1])
    sp = pytest.importorskip("sympy")
    expr = f.to_sympy()
    q, p = sp.symbols("q p", real=True)
    val = float(expr.subs({q: 0.3, p: -0.7}))
    assert abs(val - float(f(torch.tensor([0.3, -0.7], dtype=torch.float64)))) < 1e-4
    assert "q" in str(f) and "p" in str(f)
