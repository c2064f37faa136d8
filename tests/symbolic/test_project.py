"""Variable projection: closed-form linear constants, grid-searched inner ones, against the Adam reference."""
import numpy as np
import pytest
import torch

from noether_lite.symbolic import enumerate_formulas, fit_constants
from noether_lite.symbolic.program import _compile, _objective, _run
from noether_lite.symbolic.project import _compile_terms, _moments, _smallest, _structure, fit_constants_projected


def _ellipses(c: float = 2.0, n_traj: int = 5, n_time: int = 40) -> torch.Tensor:
    """Trajectories on ``q² + c·p² = r²`` (one radius each): ``(n_traj, n_time, 2)``."""
    t = torch.linspace(0, 5, n_time, dtype=torch.float64)
    r = torch.linspace(0.5, 2.0, n_traj, dtype=torch.float64)[:, None]
    return torch.stack([r * torch.cos(t), r * torch.sin(t) / c ** 0.5], -1)


def test_a_linear_constant_is_solved_exactly_in_closed_form():
    lib = enumerate_formulas(max_depth=2, operators=["+", "square"])
    i = lib.strings().index("q**2 + c0*p**2")
    for c in (0.3, 2.0, 7.5):
        theta, starts, loss = fit_constants_projected(lib, [i], _ellipses(c))
        assert theta[0].item() == pytest.approx(c, rel=1e-9)
        assert loss[0] < -40  # within/total below 1e-17: conserved to rounding


def test_the_smallest_generalized_eigenvalue_is_the_best_weighted_sum():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(200, 3, 50, generator=gen, dtype=torch.float64)  # 200 formulas, 3 terms, 50 states
    A, B, finite = _moments(X, 5, 10)
    lam, w = _smallest(A, B, finite, vectors=True)
    ref = torch.linalg.eigvals(torch.linalg.solve(B, A)).real.min(-1).values
    assert torch.allclose(lam, ref, rtol=1e-9, atol=1e-12)
    w = w[..., 0]
    quot = (w[:, None] @ A @ w[..., None]).squeeze() / (w[:, None] @ B @ w[..., None]).squeeze()
    assert torch.allclose(quot, lam, rtol=1e-9)
    # random weights never do better
    v = torch.randn(200, 3, 64, generator=gen, dtype=torch.float64)
    q = torch.einsum("fkn,fkl,fln->fn", v, A, v) / torch.einsum("fkn,fkl,fln->fn", v, B, v)
    assert (q >= lam[:, None] * (1 - 1e-9)).all()


def test_a_term_that_does_not_vary_cannot_fake_a_perfect_score():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 40, generator=gen, dtype=torch.float64)
    x[0, 1] = 3.0  # a constant term: zero variance within and across trajectories
    A, B, finite = _moments(x, 4, 10)
    assert _smallest(A, B, finite) > 0.1  # the other term alone, not 0 from the constant
    A, B, finite = _moments(torch.full((1, 1, 40), 2.0, dtype=torch.float64), 4, 10)
    assert torch.isinf(_smallest(A, B, finite)).all()
    A, B, finite = _moments(torch.tensor([[[1.0, float("nan")] * 20]], dtype=torch.float64), 4, 10)
    assert torch.isinf(_smallest(A, B, finite)).all()


def test_returned_constants_reproduce_the_returned_objective_through_the_whole_formula(pendulum_clean):
    """The constants map back to the tree slots in pre-order: evaluating the whole formula with
    them (the reference program) gives the objective the projection reports."""
    lib = enumerate_formulas(max_depth=2)
    ids = list(range(len(lib)))
    theta, starts, loss = fit_constants_projected(lib, ids, pendulum_clean)
    N, T, _ = pendulum_clean.shape
    prog = _compile(lib, ids)
    J = _objective(_run(prog, pendulum_clean.reshape(N * T, 2), theta), N, T)
    ok = torch.isfinite(loss)
    assert ok.float().mean() > 0.95
    # |c| is capped at 1e8 where a sum's first term gets no weight: those match less closely
    sane = ok & torch.tensor([bool((theta[starts[k]:starts[k + 1]].abs() < 1e6).all()) for k in range(len(ids))])
    exact = sane & (loss < -20)  # conserved to 1e-9: the logs differ in rounding only
    assert (J[exact] < -20).all()
    sane &= ~exact
    assert torch.allclose(J[sane], loss[sane], atol=1e-3), (J[sane] - loss[sane]).abs().max()


def test_terms_and_inner_constants_are_found_through_sums_and_products():
    lib = enumerate_formulas(max_depth=2)
    s = lib.strings()
    cases = {"q**2 + c0*p**2": (2, 0), "p**2 - c0*cos(c1*q)": (2, 1), "q*(q + c0*p)": (2, 0),
             "q/(q + c0*p)": (1, 1), "q + c0*q/p": (2, 0), "cos(c0*q)": (1, 1), "(q + c0*p)**2": (1, 1), "q*p": (1, 0)}
    for text, want in cases.items():
        assert _structure(lib, s.index(text)) == want, text
    t = _compile_terms(lib, [s.index("q*(q + c0*p)")], 2)
    assert t.inner.shape == (1, 0) and len(t.chain) == 1


def test_same_best_formulas_and_constants_as_the_adam_reference(pendulum_clean):
    """The reference (Adam on every constant, 500 steps) and the projection agree on what matters:
    the best formulas and their constants; the projection is never much worse on any formula."""
    lib = enumerate_formulas(max_depth=2)
    ids = list(range(len(lib)))
    th_a, starts, loss_a = fit_constants(lib, ids, pendulum_clean)
    th_p, starts_p, loss_p = fit_constants_projected(lib, ids, pendulum_clean)
    assert (starts == starts_p).all()
    la, lp = loss_a.double().numpy(), loss_p.numpy()
    both = np.isfinite(la) & np.isfinite(lp)
    assert both.mean() > 0.95
    assert np.mean(lp[both] <= la[both] + 0.05) > 0.97  # at least as good on nearly every formula
    assert np.max(lp[both] - la[both]) < 2.5
    energies = [lib.strings().index(t) for t in ("p**2 - c0*cos(c1*q)", "p**2 + c0*cos(c1*q)")]  # mirrors
    for loss in (la, lp):
        assert sorted(np.argsort(np.where(both, loss, np.inf))[:2]) == sorted(energies)
    for e in energies:
        for th in (th_a, th_p):
            c = th[starts[e]:starts[e + 1]].double()
            assert torch.allclose(c.abs(), torch.tensor([3.0, 1.0], dtype=torch.float64), rtol=2e-3)
        assert lp[e] < la[e]  # closed form: better than the iterations, not just as good


def test_float32_search_then_float64_polish_is_as_precise_as_float64_throughout(pendulum_clean):
    lib = enumerate_formulas(max_depth=2, operators=["-", "cos", "square"])
    i = lib.strings().index("p**2 - c0*cos(c1*q)")
    for dtype in (torch.float32, torch.float64):
        theta, _, loss = fit_constants_projected(lib, [i], pendulum_clean, dtype=dtype)
        assert torch.allclose(theta, torch.tensor([3.0, 1.0], dtype=torch.float64), rtol=1e-5), (dtype, theta)
        assert loss[0] < -25
