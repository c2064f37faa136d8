"""Symbolic search on hostile input: every argument is checked, with a one-line error, before any work."""
import importlib
import math

import numpy as np
import pytest
import torch

import noether_lite as nl
from noether_lite.symbolic import discover_conserved, enumerate_formulas, fit_constants
from noether_lite.symbolic.project import fit_constants_projected as P
from noether_lite.symbolic.units import Units

_discover = importlib.import_module("noether_lite.symbolic.discover")
_enumerate = importlib.import_module("noether_lite.symbolic.enumerate")
_fit = importlib.import_module("noether_lite.symbolic.fit")
_project = importlib.import_module("noether_lite.symbolic.project")


def _oscillator(n_traj: int = 4, n_time: int = 12) -> torch.Tensor:
    """Harmonic-oscillator trajectories ``(n_traj, n_time, 2)``, one amplitude each (q² + p² conserved)."""
    t = torch.linspace(0, 3, n_time, dtype=torch.float64)
    amp = torch.linspace(0.5, 2.0, n_traj, dtype=torch.float64)[:, None]
    return torch.stack([amp * torch.cos(t), -amp * torch.sin(t)], dim=-1)


X = _oscillator()
LIB = enumerate_formulas(max_depth=1)
N_LIB = len(LIB)
CUDA = torch.cuda.is_available()


def _with(x: torch.Tensor, index, value) -> torch.Tensor:
    y = x.clone()
    y[index] = value
    return y


def _cases_trajectories(fn):
    """Cases shared by the two functions that take trajectories (shape, dtype, finiteness, content)."""
    return [
        (fn, dict(trajectories=X[:1]), "at least 2 trajectories, got 1.*variance along each trajectory with the "
                                       "variance across them"),
        (fn, dict(trajectories=X[:, :1]), "at least 2 states each, got 1"),
        (fn, dict(trajectories=X[0]), r"must have shape \(n_traj, T, state_dim\)"),
        (fn, dict(trajectories=X[None]), r"must have shape \(n_traj, T, state_dim\)"),
        (fn, dict(trajectories=X.tolist()), "trajectories must be a tensor or array"),
        (fn, dict(trajectories=np.array([[["a", "b"]] * 3] * 2, dtype=object)), "must be a numeric array"),
        (fn, dict(trajectories=X > 0), "must be real numbers"),
        (fn, dict(trajectories=X.to(torch.complex128)), "must be real numbers"),
        (fn, dict(trajectories=_with(X, (0, 3, 1), math.nan)), r"1 non-finite value\(s\)"),
        (fn, dict(trajectories=_with(X, (1, 0, 0), -math.inf)), r"1 non-finite value\(s\)"),
        (fn, dict(trajectories=X[:, :1].expand(-1, 5, -1)), "trajectories must move"),
        (fn, dict(trajectories=X[:1].expand(3, -1, -1)), "all 3 are identical copies"),
        (fn, dict(trajectories=torch.cat([X, X[..., :1]], -1)), "state_dim 3 but 2 variable names"),
    ]


D = discover_conserved
E = enumerate_formulas
F = fit_constants
CASES = _cases_trajectories(D) + _cases_trajectories(F) + [
    # discover_conserved: every other argument
    (D, dict(max_states=1), "max_states must be None or an integer >= 2, got 1.*every formula would look conserved"),
    (D, dict(max_states=0), "max_states must be None or an integer >= 2"),
    (D, dict(max_states=4.5), "max_states must be None or an integer >= 2"),
    (D, dict(trajectories=X[:, :1].expand(-1, 5, -1).clone(), max_states=3), "trajectories must move"),
    (D, dict(names=("q", "p", "r")), "state_dim 2 but 3 variable names"),
    (D, dict(names="qp"), "names must be a list or tuple of strings, got 'qp'"),
    (D, dict(names=("q", "q")), "names must be distinct non-empty strings"),
    (D, dict(names=("q", "")), "names must be distinct non-empty strings"),
    (D, dict(names=("q", 1)), "names must be distinct non-empty strings"),
    (D, dict(max_depth=0), "max_depth must be an integer >= 1, got 0"),
    (D, dict(max_depth=1.5), "max_depth must be an integer >= 1"),
    (D, dict(max_depth=True), "max_depth must be an integer >= 1"),
    (D, dict(operators=["+", "exp"]), "unknown operator 'exp'; valid operators"),
    (D, dict(operators=[]), "operators must not be empty"),
    (D, dict(operators=5), "operators must be None or a list of operator names"),
    (D, dict(seed=-1), r"seed must be an integer in \[0, 2\*\*63\)"),
    (D, dict(seed=0.5), r"seed must be an integer in \[0, 2\*\*63\)"),
    (D, dict(orders=0), r"orders must be a finite number in \(0, 300\]"),
    (D, dict(orders=-1.0), "orders must be a finite number"),
    (D, dict(orders=math.inf), "orders must be a finite number"),
    (D, dict(orders=math.nan), "orders must be a finite number"),
    (D, dict(orders="2"), "orders must be a finite number"),
    (D, dict(steps=-1), "steps must be an integer >= 0"),
    (D, dict(steps=10.0), "steps must be an integer >= 0"),
    (D, dict(lr=0.0), r"lr must be a finite number in \(0, inf\)"),
    (D, dict(lr=math.nan), "lr must be a finite number"),
    (D, dict(lr=math.inf), "lr must be a finite number"),
    (D, dict(n_reference=0), "n_reference must be an integer >= 3, got 0"),
    (D, dict(n_reference=2), "n_reference must be an integer >= 3.*MAD of 2 values is 0"),
    (D, dict(n_fingerprint=2), r"n_fingerprint must be an integer >= 3.*a\*f \+ b"),
    (D, dict(size_penalty=-0.1), r"size_penalty must be a finite number in \[0, inf\)"),
    (D, dict(size_penalty=math.nan), "size_penalty must be a finite number"),
    (D, dict(score_floor=0.0), r"score_floor must be a finite number in \(0, 1\)"),
    (D, dict(score_floor=1.0), "score_floor must be a finite number"),
    (D, dict(memory_budget=0), r"memory_budget must be a number in \(0, inf\)"),
    (D, dict(memory_budget=math.nan), "memory_budget must be a number"),
    (D, dict(chunk_size=0), "chunk_size must be an integer >= 1, got 0"),
    (D, dict(chunk_size=-5), "chunk_size must be an integer >= 1"),
    (D, dict(dtype=torch.int64), "dtype must be torch.float32 or torch.float64"),
    (D, dict(dtype=torch.float16), "dtype must be torch.float32 or torch.float64"),
    (D, dict(dtype="float32"), "dtype must be torch.float32 or torch.float64"),
    (D, dict(device="gpu"), "device must be a device name such as 'cpu'"),
    (D, dict(device=3), "device must be a device name such as 'cpu'"),
    (D, dict(device="cuda:99"), "device must be (an available device|cuda:0 to)"),
    (D, dict(device="meta"), "device must be 'cpu', 'cuda' or 'mps'"),
    (D, dict(threads=0), "threads must be None or an integer >= 1, got 0"),
    (D, dict(threads=1.5), "threads must be None or an integer >= 1"),
    (D, dict(progress="yes"), "progress must be True or False"),
    (D, dict(method="lbfgs"), "method must be one of 'projection', 'adam'"),
    (D, dict(merge_tol=-1e-6), r"merge_tol must be a finite number in \[0, 1\)"),
    (D, dict(merge_tol=1.0), "merge_tol must be a finite number"),
    (D, dict(units="moon"), "units must be None, a Units or one of"),
    (D, dict(units=Units({"q": {"L": 1}})), r"units: no unit for variable\(s\) \['p'\]"),
    # enumerate_formulas
    (E, dict(names="qp"), "names must be a list or tuple of strings"),
    (E, dict(names=()), "names must be distinct non-empty strings"),
    (E, dict(max_depth=-1), "max_depth must be an integer >= 0, got -1"),
    (E, dict(max_depth=2.0), "max_depth must be an integer >= 0"),
    (E, dict(operators=("+", "exp")), "unknown operator 'exp'"),
    (E, dict(operators={"+"}), "operators must be None or a list"),
    (E, dict(states=torch.rand(8, 3)), r"fingerprint states must have shape \(K, 2\)"),
    (E, dict(states=torch.rand(8)), r"fingerprint states must have shape \(K, 2\)"),
    (E, dict(states=torch.rand(2, 2)), "at least 3 rows, got 2"),
    (E, dict(states=_with(torch.rand(8, 2), (1, 1), math.nan)), "fingerprint states contain 1 non-finite"),
    (E, dict(states=[[0.0, 1.0]] * 8), "states must be a tensor or array"),
    (E, dict(n_fingerprint=2), "n_fingerprint must be an integer >= 3"),
    (E, dict(seed=-3), r"seed must be an integer in \[0, 2\*\*63\)"),
    (E, dict(seed=2 ** 64), r"seed must be an integer in \[0, 2\*\*63\), got 18446744073709551616"),
    (E, dict(memory_budget=-1.0), "memory_budget must be a number in"),
    (E, dict(n_fit_states=-1), "n_fit_states must be an integer >= 0"),
    (E, dict(chunk_size=0), "chunk_size must be an integer >= 1"),
    (E, dict(progress=None), "progress must be True or False"),
    (E, dict(units=Units({"q": {}, "p": {"L": 1}}, {"a": {"L": 1}, "b": {"L": 2}})),
     "parameters' units .* are not independent"),
    # fit_constants
    (F, dict(lib="not a library"), "lib must be a FormulaLibrary, got a str"),
    (F, dict(ids=[]), "ids must be a non-empty 1-d list of integers"),
    (F, dict(ids=[[0, 1]]), "ids must be a non-empty 1-d list of integers"),
    (F, dict(ids=[0.5]), "ids must be a non-empty 1-d list of integers"),
    (F, dict(ids=[True]), "ids must be a non-empty 1-d list of integers"),
    (F, dict(ids=3), "ids must be a list of formula indices"),
    (F, dict(ids=[0, -1]), rf"ids must be indices in \[0, {N_LIB}\), got -1"),
    (F, dict(ids=[N_LIB]), rf"ids must be indices in \[0, {N_LIB}\), got {N_LIB}"),
    (F, dict(steps=-1), "steps must be an integer >= 0"),
    (F, dict(lr=-0.1), "lr must be a finite number in"),
    (F, dict(lr_final=0.0), r"lr_final must be a finite number in \(0, 1\]"),
    (F, dict(lr_final=2.0), r"lr_final must be a finite number in \(0, 1\]"),
    (F, dict(dtype=torch.bfloat16), "dtype must be torch.float32 or torch.float64"),
    (F, dict(device="tpu"), "device must be a device name"),
    # fit_constants_projected
    (P, dict(lib=[1, 2]), "lib must be a FormulaLibrary, got a list"),
    (P, dict(ids=[N_LIB]), rf"ids must be indices in \[0, {N_LIB}\)"),
    (P, dict(trajectories=X[:1]), "at least 2 trajectories"),
    (P, dict(grid=[]), "grid must be a non-empty sequence of finite numbers"),
    (P, dict(grid=[1.0, math.nan]), "grid must be a non-empty sequence of finite numbers"),
    (P, dict(sweeps=0), "sweeps must be an integer >= 1"),
    (P, dict(refine_steps=-1), "refine_steps must be an integer >= 0"),
    (P, dict(chunk_size=0), "chunk_size must be an integer >= 1"),
    (P, dict(chunk_bytes=0), "chunk_bytes must be a finite number in"),
    (P, dict(hopeless=0), "hopeless must be a finite number in"),
    (P, dict(dtype=torch.float16), "dtype must be torch.float32 or torch.float64"),
    (P, dict(device="tpu"), "device must be a device name"),
]
BASE = {
    D: lambda: dict(trajectories=X, max_depth=1, operators=["-", "cos", "square"], steps=2),
    E: lambda: dict(max_depth=1),
    F: lambda: dict(lib=LIB, ids=[0, 1, 2], trajectories=X, steps=2),
    P: lambda: dict(lib=LIB, ids=[0, 1, 2], trajectories=X),
}


def _no_work(*args, **kwargs):
    raise AssertionError("the search started before its arguments were checked")


@pytest.fixture
def no_work(monkeypatch):
    """Any enumeration or fit raises: the checks must come first."""
    monkeypatch.setattr(_discover, "enumerate_formulas", _no_work)
    monkeypatch.setattr(_discover, "_uniform_states", _no_work)
    monkeypatch.setattr(_enumerate, "_uniform_states", _no_work)
    monkeypatch.setattr(_enumerate, "_keys", _no_work)
    monkeypatch.setattr(_fit, "_compile", _no_work)
    monkeypatch.setattr(_project, "_compile_terms", _no_work)


@pytest.mark.parametrize("fn, kwargs, match", CASES,
                         ids=[f"{fn.__name__}-{'-'.join(kw)}-{i}" for i, (fn, kw, _) in enumerate(CASES)])
def test_bad_argument_is_refused_before_any_work_with_one_line(fn, kwargs, match, no_work):
    threads = torch.get_num_threads()
    args = dict(BASE[fn](), **kwargs)
    with pytest.raises(ValueError, match=match) as err:
        fn(**args)
    message = str(err.value)
    assert "\n" not in message and len(message) < 400, message
    assert ": " in message or "; " in message, message  # the expectation comes with what to do
    assert torch.get_num_threads() == threads


def test_every_argument_of_the_three_functions_is_in_the_table():
    import inspect

    for fn in (D, E, F, P):
        covered = {k for f, kw, _ in CASES if f is fn for k in kw}
        params = set(inspect.signature(fn).parameters)
        assert params == covered, (fn.__name__, sorted(params - covered))


def test_the_smallest_valid_data_runs():
    # 2 trajectories of 2 states: the minimum the objective needs, accepted and searched
    res = discover_conserved(X[:2], max_depth=1, operators=["-", "square"], steps=5, max_states=2)
    assert res.n_enumerated == res.counts[-1]["total"] and len(res.ratios) == res.n_enumerated
    # NumPy arrays, integer dtypes and 3 fingerprint / reference states are accepted
    res = discover_conserved(np.rint(4 * X.numpy()).astype(np.int64), max_depth=1, operators=["square"], steps=0,
                             n_reference=3, n_fingerprint=3)
    assert res.n_enumerated >= 2


@pytest.fixture(scope="module")
def pendulum_clean():
    train, _ = nl.make_dataset("pendulum", seed=0)
    return train.x_clean


def test_a_small_valid_search_still_finds_the_pendulum_energy(pendulum_clean):
    res = discover_conserved(pendulum_clean[:8], max_depth=2, operators=["-", "cos", "square"], max_states=10,
                             seed=0)
    best = res.best
    assert best.template == "p**2 - c0*cos(c1*q)", str(best)
    c0, c1 = best.constants
    assert abs(c0 - 3.0) < 0.05 and abs(abs(c1) - 1.0) < 0.02, best.constants
