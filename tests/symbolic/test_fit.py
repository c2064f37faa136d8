"""fit_constants: the batched fit equals fitting each formula alone; diverged fits are dropped."""
import numpy as np
import torch

from noether_lite.symbolic import (
    discover_conserved,
    enumerate_formulas,
    fit_constants,
)


def test_batched_fit_equals_fitting_alone(pendulum_clean):
    lib = enumerate_formulas(max_depth=2, operators=["-", "cos", "square", "sin"])
    s = lib.strings()
    picks = [s.index("p**2 - c0*cos(c1*q)"), s.index("p - c0*sin(c1*q)")] + [i for i in range(len(lib)) if lib.nconst[i]][:3]
    picks = list(dict.fromkeys(picks))
    x = pendulum_clean.double()
    # same formulas, same Adam iterations: batched == alone (before the fits reach the
    # float64 noise floor, where rounding differences of the kernels would dominate)
    theta, starts, loss = fit_constants(lib, picks, x, steps=60, lr=0.1, dtype=torch.float64)
    for k, i in enumerate(picks):
        th1, st1, l1 = fit_constants(lib, [i], x, steps=60, lr=0.1, dtype=torch.float64)
        torch.testing.assert_close(theta[starts[k]:starts[k + 1]], th1, atol=1e-7, rtol=1e-7)
        torch.testing.assert_close(loss[k], l1[0], atol=1e-7, rtol=1e-7, equal_nan=True)
    # with the default schedule the energy's constants come out right: p² − 3 cos(±q)
    theta, starts, loss = fit_constants(lib, picks[:1], x, dtype=torch.float64)
    c = theta[starts[0]:starts[1]]
    assert abs(float(c[0]) - 3.0) < 0.02 and abs(abs(float(c[1])) - 1.0) < 0.01, c


def test_diverged_fit_is_dropped_and_counted():
    # a trajectory through q = 0 makes q/p, p/q ... non-finite on the data: dropped, counted
    t = torch.linspace(-1, 1, 21, dtype=torch.float64)
    x = torch.stack([torch.stack([t, torch.zeros_like(t)], -1), torch.stack([t, 1 + 0 * t], -1)])  # (2, 21, 2)
    res = discover_conserved(x, max_depth=1, operators=["/", "square"], steps=5)
    assert res.n_diverged >= 1
    assert not res.survived[np.isnan(res.ratios)].any()
