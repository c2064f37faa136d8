"""What every exercise check shares: the result type, the registry, feedback, grading."""
from __future__ import annotations

import copy
import math
import numbers
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence

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
    """Run ``body(fn)`` in a fixed torch state (float32, grad on, seed 0) and restore the caller's state afterwards."""
    if not callable(fn):
        return CheckResult(name, False, f"expected a function, got {type(fn).__name__}")
    with _torch_state():
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)
        torch.manual_seed(0)
        return _verdict(name, body, fn)


def _verdict(name: str, body: Callable[[Callable], str], fn: Callable) -> CheckResult:
    """``body(fn)`` as a :class:`CheckResult`: passed, wrong (with feedback), a stub, or a crash and where it was."""
    try:
        ok = body(fn)
        return CheckResult(name, True, ok or "correct")
    except NotImplementedError:
        return CheckResult(name, False, f"{NOT_IMPLEMENTED} (replace the `raise NotImplementedError` line)",
                           implemented=False)
    except _Wrong as e:
        return CheckResult(name, False, str(e))
    except Exception as e:  # the reader's code crashed: say where
        tb = [f for f in traceback.extract_tb(e.__traceback__)
              if not f.filename.startswith(_HERE) and "torch" not in f.filename]
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


# ----------------------------------------------------------------------------- isolation
@contextmanager
def _torch_state() -> Iterator[None]:
    """Save torch's default dtype, grad mode and RNG states; restore them on exit, also after an exception."""
    dtype, grad = torch.get_default_dtype(), torch.is_grad_enabled()
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        torch.set_default_dtype(dtype)
        torch.set_grad_enabled(grad)
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)


def _copy(obj):
    """A copy of ``obj`` that the learner may modify freely.

    Tensors are cloned (a leaf that requires grad becomes a new such leaf, so ``.grad`` and ``autograd.grad``
    work on it), modules are deep-copied, lists, tuples and dicts are copied element by element; anything
    else (functions, numbers, strings) is returned as is.
    """
    if isinstance(obj, Tensor):
        return obj.detach().clone().requires_grad_(True) if obj.is_leaf and obj.requires_grad else obj.clone()
    if isinstance(obj, torch.nn.Module):
        return copy.deepcopy(obj)
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if type(obj) in (list, tuple):
        return type(obj)(_copy(v) for v in obj)
    return obj


def _sandboxed(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)`` with torch's global state (default dtype, grad mode, RNG) restored afterwards.

    The arguments are passed as they are: use it directly only on copies the check made itself.
    """
    with _torch_state():
        return fn(*args, **kwargs)


def _call(fn: Callable, *args, **kwargs):
    """The learner's ``fn`` called on copies of the arguments, with torch's global state restored afterwards.

    Whatever ``fn`` does to its inputs or to the global state stays inside the call, so the check's own
    computations before and after it are unaffected.
    """
    return _sandboxed(fn, *_copy(args), **_copy(kwargs))


# ----------------------------------------------------------------------------- the returned value
def _dtype_name(x: Tensor) -> str:
    """``x``'s dtype without the ``torch.`` prefix, e.g. ``float16``."""
    return str(x.dtype).replace("torch.", "")


def _real_float(x: Tensor, what: str) -> None:
    """Raise :class:`_Wrong` unless ``x`` is a real float32 or float64 tensor."""
    if x.is_complex():
        raise _Wrong(f"{what} must be real, got a complex tensor ({_dtype_name(x)}); expected float32 or float64")
    if x.dtype in (torch.float16, torch.bfloat16):
        raise _Wrong(f"{what} is {_dtype_name(x)}: compute in float32 or float64 (half precision is too coarse)")
    if not x.is_floating_point():
        raise _Wrong(f"{what} has dtype {_dtype_name(x)}; expected a floating-point tensor (float32 or float64)")


def _shape(x: Tensor, shape, what: str) -> None:
    """Raise :class:`_Wrong` unless ``x`` has exactly ``shape``."""
    if tuple(x.shape) != tuple(shape):
        raise _Wrong(f"{what} has shape {tuple(x.shape)}, expected {tuple(shape)}")


def _finite(x: Tensor, what: str) -> None:
    """Raise :class:`_Wrong` if ``x`` holds NaN or infinite values."""
    x = x.detach()
    if bool(torch.isnan(x).any()):
        raise _Wrong(f"{what} contains NaN; expected finite values")
    if not bool(torch.isfinite(x).all()):
        raise _Wrong(f"{what} contains infinite values; expected finite values")


def _as_tensor(x, what: str, shape: Optional[Sequence[int]] = None) -> Tensor:
    """``x`` if it is a real float32/float64 tensor (of ``shape`` when given) with finite values, else :class:`_Wrong`.

    The type, the dtype, the shape and the finiteness are checked in this order, each with its own message.
    """
    if not isinstance(x, Tensor):
        raise _Wrong(f"{what} should be a torch.Tensor, got {type(x).__name__}")
    _real_float(x, what)
    if shape is not None:
        _shape(x, shape, what)
    _finite(x, what)
    return x


def _as_number(x, what: str) -> float:
    """``x`` as a float if it is one finite real number (a Python int/float or a one-element float tensor).

    Raises :class:`_Wrong` otherwise, saying what is off.
    """
    if isinstance(x, Tensor):
        _as_tensor(x, what)
        if x.numel() != 1:
            raise _Wrong(f"{what} should be one number, got a tensor of shape {tuple(x.shape)}")
    elif isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real):
        raise _Wrong(f"{what} must be real, got a complex number")
    elif isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise _Wrong(f"return one number {what}, got {type(x).__name__}")
    value = float(x)
    if not math.isfinite(value):
        raise _Wrong(f"{what} is {value}; expected a finite number")
    return value


def _grads(outer: Tensor, inputs: List[Tensor]) -> List[Optional[Tensor]]:
    """``d outer / d inputs``, None where an input is unused or ``outer`` has no graph.

    Raises :class:`_Wrong` when the answer's graph cannot be backpropagated (typically: a tensor it saved
    for the backward pass was modified in place afterwards).
    """
    if not outer.requires_grad:
        return [None] * len(inputs)
    try:
        return list(torch.autograd.grad(outer, inputs, allow_unused=True))
    except RuntimeError as e:
        reason = str(e).splitlines()[0].split(":")[0]
        raise _Wrong("the values are right but their gradient cannot be computed; "
                     f"did you modify an input in place after using it? ({reason})") from None


# ----------------------------------------------------------------------------- comparing values
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
