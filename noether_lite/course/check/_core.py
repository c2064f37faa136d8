"""What every exercise check shares: the result type, the registry, feedback, grading."""
from __future__ import annotations

import traceback
from pathlib import Path
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional

import torch
from torch import Tensor

__all__ = ["CheckResult", "CHECKS", "grade"]

_HERE = str(Path(__file__).parent)
PASS, FAIL = "✅", "❌"
NOT_IMPLEMENTED = "not implemented yet"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: the exercise (the function's expected name).
        passed: True when the answer is correct.
        message: what was checked, or what is wrong.
        implemented: False when the answer is still the stub.
    """

    name: str
    passed: bool
    message: str
    implemented: bool = True

    def __str__(self) -> str:
        return f"{PASS if self.passed else FAIL} {self.name}: {self.message}"

    def __bool__(self) -> bool:
        return self.passed


class _Wrong(Exception):
    """Raised inside a check with the specific feedback for the reader."""


CHECKS: Dict[str, Callable[..., CheckResult]] = {}


def _exercise(name: str):
    """Turn ``body(fn)`` (which raises :class:`_Wrong` with feedback) into a check."""

    def deco(body: Callable[[Callable], str]) -> Callable[..., CheckResult]:
        def check(fn: Callable, *, verbose: bool = True) -> CheckResult:
            result = _run(name, body, fn)
            if verbose:
                print(result)
            return result

        check.__name__ = check.__qualname__ = name
        check.__doc__ = f"Check the exercise ``{name}``.\n\n" + (body.__doc__ or "")
        CHECKS[name] = check
        return check

    return deco


def _run(name: str, body: Callable[[Callable], str], fn: Callable) -> CheckResult:
    if not callable(fn):
        return CheckResult(name, False, f"expected a function, got {type(fn).__name__}")
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            ok = body(fn)
        return CheckResult(name, True, ok or "correct")
    except NotImplementedError:
        return CheckResult(name, False, f"{NOT_IMPLEMENTED} (replace the `raise NotImplementedError` line)", implemented=False)
    except _Wrong as e:
        return CheckResult(name, False, str(e))
    except Exception as e:  # the reader's code crashed: say where
        tb = [f for f in traceback.extract_tb(e.__traceback__) if not f.filename.startswith(_HERE) and "torch" not in f.filename]
        where = f" (line {tb[-1].lineno}: {tb[-1].line})" if tb and tb[-1].line else ""
        return CheckResult(name, False, f"your function raised {type(e).__name__}: {e}{where}")


def grade(namespace: Mapping[str, object], names: Optional[List[str]] = None, *, verbose: bool = True) -> Dict[str, CheckResult]:
    """Run every check whose function is defined in ``namespace`` (e.g. ``globals()``).

    Args:
        namespace: where the reader's functions live.
        names: the exercises to grade (default: every exercise found in ``namespace``).
        verbose: print one line per exercise.

    Returns:
        ``{exercise name: CheckResult}``; a missing function is a failed check.
    """
    names = [n for n in CHECKS if n in namespace] if names is None else list(names)
    out: Dict[str, CheckResult] = {}
    for n in names:
        if n not in CHECKS:
            raise KeyError(f"unknown exercise {n!r}; known: {sorted(CHECKS)}")
        fn = namespace.get(n)
        out[n] = CHECKS[n](fn, verbose=False) if fn is not None else CheckResult(n, False, "function not defined")
        if verbose:
            print(out[n])
    return out


# ----------------------------------------------------------------------------- helpers
def _as_tensor(x, what: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise _Wrong(f"{what} should be a torch.Tensor, got {type(x).__name__}")
    return x


def _shape(x: Tensor, shape, what: str) -> None:
    if tuple(x.shape) != tuple(shape):
        raise _Wrong(f"{what} has shape {tuple(x.shape)}, expected {tuple(shape)}")


def _close(a: Tensor, b: Tensor, tol: float = 1e-5) -> bool:
    return bool(torch.allclose(a.double(), b.double(), rtol=tol, atol=tol))


def _const_ratio(got: Tensor, ref: Tensor, tol: float = 1e-4) -> Optional[float]:
    """``c`` if ``got ≈ c * ref`` for one constant ``c``, else None."""
    got, ref = got.double().flatten(), ref.double().flatten()
    if ref.abs().max() < 1e-12:
        return None
    c = float((got * ref).sum() / (ref * ref).sum())
    return c if torch.allclose(got, c * ref, rtol=tol, atol=tol * max(1.0, abs(c))) else None


def _const_offset(got: Tensor, ref: Tensor, tol: float = 1e-4) -> Optional[float]:
    """``c`` if ``got ≈ ref + c`` for one constant ``c``, else None."""
    d = (got.double() - ref.double()).flatten()
    c = float(d.mean())
    return c if torch.allclose(d, torch.full_like(d, c), atol=tol) else None


def _fmt(c: float) -> str:
    for name, v in (("1/2", 0.5), ("2", 2.0), ("-1", -1.0), ("1/3", 1 / 3), ("3", 3.0)):
        if abs(c - v) < 1e-3:
            return name
    return f"{c:.4g}"


# ============================================================================ chapter 1
