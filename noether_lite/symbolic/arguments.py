"""Argument checks of the search (:func:`discover_conserved`, :func:`enumerate_formulas`, :func:`fit_constants`).

Every check raises, before any work starts, a one-line :class:`ValueError` that names the argument,
says what was expected and what to do. The minimum sizes follow from what the computations need:

* 2 trajectories: the score compares the variance *along* each trajectory with the variance
  *across* all of them; with one trajectory (or N identical copies) the two are equal for every
  formula, the objective is flat, the fit cannot move and no formula survives.
* 2 states per trajectory (also for ``max_states``): with one state the variance along each
  trajectory is 0 for every formula, so every formula would pass the filter (``q`` "conserved").
  For the same reason at least one trajectory must move.
* 3 fingerprint states: formulas are merged when their values agree up to ``a*f + b``; two values
  can always be matched by an affine map, so with 2 states every formula would be a duplicate.
* 3 reference states: the filter's denominator is ``(1.4826 · MAD)²``; the median of 2 values is
  the lower one, so the MAD of 2 values is 0 and no ratio is finite.
"""
from __future__ import annotations

import math
import numbers
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

__all__ = []

MIN_TRAJECTORIES = 2
MIN_STATES = 2
MIN_FINGERPRINT = 3
MIN_REFERENCE = 3
FIT_DTYPES = (torch.float32, torch.float64)
_MAX_SEED = 2 ** 63


def bad(name: str, expected: str, got, fix: str) -> ValueError:
    """The error for argument ``name``: ``"<name> must be <expected>, got <repr(got)>: <fix>"``."""
    return ValueError(f"{name} must be {expected}, got {_short(repr(got))}: {fix}")


class Shown(str):
    """A description shown as is in an error message (instead of a value's ``repr``)."""

    def __repr__(self) -> str:
        return str(self)


def _short(text: str, limit: int = 80) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, minimum: int, fix: str) -> int:
    """``value`` as an ``int >= minimum``."""
    if not _is_int(value) or value < minimum:
        raise bad(name, f"an integer >= {minimum}", value, fix)
    return int(value)


def check_optional_int(name: str, value, minimum: int, fix: str) -> Optional[int]:
    """``None``, or ``value`` as an ``int >= minimum``."""
    if value is None:
        return None
    if not _is_int(value) or value < minimum:
        raise bad(name, f"None or an integer >= {minimum}", value, fix)
    return int(value)


def check_real(name: str, value, *, low: float, high: float = math.inf, low_open: bool = True,
               high_open: bool = True, fix: str, allow_inf: bool = False) -> float:
    """``value`` as a ``float`` in the interval from ``low`` to ``high`` (open or closed ends)."""
    ok = _is_real(value) and not math.isnan(value) and (allow_inf or math.isfinite(value))
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        kind = "a number" if allow_inf else "a finite number"
        raise bad(name, f"{kind} in {left}{low:g}, {high:g}{right}", value, fix)
    return float(value)


def check_bool(name: str, value) -> bool:
    """``value`` as a ``bool`` (Python or NumPy bools only)."""
    if not isinstance(value, (bool, np.bool_)):
        raise bad(name, "True or False", value, f"pass {name}=True or {name}=False")
    return bool(value)


def check_library(lib, cls) -> None:
    """``lib`` must be a :class:`~noether_lite.symbolic.FormulaLibrary` (``cls``, passed in to avoid a cycle)."""
    if not isinstance(lib, cls):
        raise bad("lib", "a FormulaLibrary", Shown(f"a {type(lib).__name__}"),
                  "pass the result of enumerate_formulas(...)")


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        raise bad(name, f"one of {', '.join(map(repr, choices))}", value, f"pass {name}={choices[0]!r}")
    return value


def check_seed(value) -> int:
    """A seed for both torch and NumPy generators: ``0 <= seed < 2**63``."""
    if not _is_int(value) or not 0 <= value < _MAX_SEED:
        raise bad("seed", "an integer in [0, 2**63)", value, "pass a non-negative integer such as seed=0")
    return int(value)


def check_names(names) -> Tuple[str, ...]:
    """Variable names: a list or tuple of distinct non-empty strings."""
    fix = "pass one distinct name per state dimension, e.g. names=('q', 'p')"
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise bad("names", "a list or tuple of strings", names, fix)
    names = tuple(names)
    if not names or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise bad("names", "distinct non-empty strings", names, fix)
    return names


def check_operators(operators) -> Optional[Sequence[str]]:
    """``None``, one operator name, or a list or tuple of them (the names are resolved by the grammar)."""
    if operators is None or isinstance(operators, str):
        return operators
    if not isinstance(operators, (list, tuple)):
        raise bad("operators", "None or a list of operator names", operators,
                  "pass e.g. operators=['-', 'cos', 'square']")
    return operators


def check_dtype(dtype) -> torch.dtype:
    """A dtype of the constant fit: ``torch.float32`` or ``torch.float64``."""
    if dtype not in FIT_DTYPES:
        raise bad("dtype", "torch.float32 or torch.float64", dtype, "pass dtype=torch.float32 (or torch.float64)")
    return dtype


def check_device(device) -> torch.device:
    """A device of the constant fit that exists on this machine: ``cpu``, ``cuda[:i]`` or ``mps``."""
    fix = "pass device='cpu' (or 'cuda' / 'mps' where available)"
    if not isinstance(device, (str, torch.device)):
        raise bad("device", "a device name such as 'cpu' or 'cuda'", device, fix)
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise bad("device", "a device name such as 'cpu' or 'cuda'", device, fix) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise bad("device", "an available device (this machine has no CUDA GPU)", device, fix)
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise bad("device", f"cuda:0 to cuda:{torch.cuda.device_count() - 1}", device, fix)
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise bad("device", "an available device (MPS is not available here)", device, fix)
    if dev.type not in ("cpu", "cuda", "mps"):
        raise bad("device", "'cpu', 'cuda' or 'mps'", device, fix)
    return dev


# ----------------------------------------------------------------------------- arrays
def _as_tensor(name: str, value, shape_text: str) -> Tensor:
    """``value`` (a tensor, an array, or an object with such an ``x``) as a real tensor on the CPU."""
    x = getattr(value, "x", value)  # accept TrajectoryData
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            raise bad(name, f"a numeric array of shape {shape_text}", Shown("an object array"), "pass a float array")
        x = torch.from_numpy(x)
    if not isinstance(x, Tensor):
        raise bad(name, f"a tensor or array of shape {shape_text}", Shown(f"a {type(x).__name__}"),
                  "pass a torch tensor or NumPy array")
    if x.dtype == torch.bool or x.is_complex():
        raise bad(name, "real numbers (a float tensor)", Shown(f"dtype {x.dtype}"), f"pass {name} as float64 values")
    if not x.is_floating_point():
        x = x.double()
    return x.detach().cpu()


def _check_finite(name: str, x: Tensor) -> None:
    n_bad = int((~torch.isfinite(x)).sum())
    if n_bad:
        raise ValueError(f"{name} contain {n_bad} non-finite value(s) (NaN or inf): remove or repair "
                         f"those states before the search")


def prepare_trajectories(trajectories, n_names: int, max_states: Optional[int] = None) -> Tensor:
    """Checked trajectories ``(N, T, D)``, subsampled to ``max_states`` time points.

    Raises, with the reason: not an array, not 3-d, ``D != n_names``, fewer than 2
    trajectories or states, non-finite values, no trajectory that moves, all trajectories identical.
    """
    x = _as_tensor("trajectories", trajectories, "(n_traj, T, state_dim)")
    _check_sizes(x, n_names)
    _check_finite("trajectories", x)
    if max_states is not None and x.shape[1] > max_states:
        idx = torch.linspace(0, x.shape[1] - 1, int(max_states)).round().long()
        x = x[:, idx]
    _check_content(x)
    return x


def _check_sizes(x: Tensor, n_names: int) -> None:
    if x.ndim != 3:
        raise ValueError(f"trajectories must have shape (n_traj, T, state_dim); got {tuple(x.shape)}: "
                         f"stack them into one 3-d tensor (a single trajectory is x[None])")
    N, T, D = x.shape
    if N < MIN_TRAJECTORIES:
        raise ValueError(f"trajectories must hold at least {MIN_TRAJECTORIES} trajectories, got {N} (shape "
                         f"{tuple(x.shape)}): the score compares the variance along each trajectory with the "
                         f"variance across them, so pass 2 or more trajectories (e.g. at different energies)")
    if T < MIN_STATES:
        raise ValueError(f"trajectories must hold at least {MIN_STATES} states each, got {T} (shape "
                         f"{tuple(x.shape)}): with one state the variance along a trajectory is 0 for every "
                         f"formula; pass longer trajectories")
    if D != n_names:
        raise ValueError(f"trajectories have state_dim {D} but {n_names} variable names were given: "
                         f"pass one name per state dimension")


def _check_content(x: Tensor) -> None:
    moves = (x != x[:, :1]).any()
    if not moves:
        raise ValueError(f"trajectories must move, but every one of the {x.shape[0]} stays at one state: "
                         f"every formula would look conserved; pass trajectories sampled over time")
    if (x == x[:1]).all():
        raise ValueError(f"trajectories must differ, but all {x.shape[0]} are identical copies: the score "
                         f"compares variance along trajectories with variance across them; pass "
                         f"trajectories from different initial states")


def check_states(states, n_names: int) -> Tensor:
    """Fingerprint states ``(K, D)`` with ``K >= 3``, finite, as float64."""
    x = _as_tensor("states", states, f"(K, {n_names})")
    if x.ndim != 2 or x.shape[1] != n_names:
        raise ValueError(f"fingerprint states must have shape (K, {n_names}); got {tuple(x.shape)}: "
                         f"pass one row per state with one column per variable name")
    if x.shape[0] < MIN_FINGERPRINT:
        raise ValueError(f"fingerprint states must hold at least {MIN_FINGERPRINT} rows, got {x.shape[0]}: "
                         f"two values always match up to a*f + b, so every formula would be a duplicate")
    _check_finite("fingerprint states", x)
    return x.double()


def check_ids(ids, n: int) -> List[int]:
    """Formula ids: a non-empty 1-d sequence of integers in ``[0, n)``."""
    fix = f"pass indices of the library's formulas, 0 to {n - 1}"
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise bad("ids", "a list of formula indices", ids, fix)
    arr = np.asarray(ids.cpu() if isinstance(ids, Tensor) else ids)
    if arr.ndim != 1 or arr.size == 0 or not (np.issubdtype(arr.dtype, np.integer)):
        raise bad("ids", "a non-empty 1-d list of integers", ids, fix)
    out_of_range = arr[(arr < 0) | (arr >= n)]
    if out_of_range.size:
        raise bad("ids", f"indices in [0, {n})", int(out_of_range[0]), fix)
    return arr.tolist()
