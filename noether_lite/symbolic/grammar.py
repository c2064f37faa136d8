"""Operators and formulas: the grammar of the search, a formula as a tree with constants, and a
formula as a Noether embedding.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

__all__ = ['OPERATORS', 'Formula', 'SymbolicEmbedding', 'SearchTooLarge']


# ----------------------------------------------------------------------------- operators
@dataclass(frozen=True)
class _Op:
    name: str
    arity: int
    has_const: bool
    commutative: bool
    fn: Callable  # (a, b, c) -> tensor; b / c may be None


def _add(a, b, c):
    return a + (b if c is None else c * b)


def _sub(a, b, c):
    return a - (b if c is None else c * b)


def _mul(a, b, c):
    return a * b


def _div(a, b, c):
    return a / b


def _sin(a, b, c):
    return torch.sin(a if c is None else c * a)


def _cos(a, b, c):
    return torch.cos(a if c is None else c * a)


def _square(a, b, c):
    return a * a


_OPS: Tuple[_Op, ...] = (
    _Op("+", 2, True, True, _add),
    _Op("-", 2, True, True, _sub),
    _Op("*", 2, False, True, _mul),
    _Op("/", 2, False, False, _div),
    _Op("sin", 1, True, False, _sin),
    _Op("cos", 1, True, False, _cos),
    _Op("square", 1, False, False, _square),
)
OPERATORS: Tuple[str, ...] = tuple(o.name for o in _OPS)
_ALIASES = {"add": "+", "sub": "-", "mul": "*", "div": "/", "sq": "square", "^2": "square", "**2": "square"}
_VAR = -1  # op code of a leaf (state variable)


def _resolve_ops(operators: Optional[Sequence[str]]) -> List[int]:
    if operators is None:
        return list(range(len(_OPS)))
    if isinstance(operators, str):
        operators = [operators]
    codes = []
    for name in operators:
        key = _ALIASES.get(name, name) if isinstance(name, str) else name
        if key not in OPERATORS:
            raise ValueError(
                f"unknown operator {name!r}; valid operators: {', '.join(OPERATORS)} "
                f"(aliases: {', '.join(sorted(_ALIASES))})"
            )
        code = OPERATORS.index(key)
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValueError(f"operators must not be empty; valid operators: {', '.join(OPERATORS)}")
    return sorted(codes)


class SearchTooLarge(ValueError):
    """The requested search would not fit in the memory budget (raised before allocating)."""


# ----------------------------------------------------------------------------- formulas
def _fmt_const(c: float) -> str:
    return f"{c:.4g}"


@dataclass
class Formula:
    """One candidate conserved quantity: an expression tree with fitted constants.

    Attributes:
        tree: nested tuples, ``("var", i)``, ``(op, child)`` or ``(op, left, right)``.
        constants: fitted constants, in pre-order of the nodes that carry one.
        names: state-variable names, e.g. ``("q", "p")``.
        ratio: within-trajectory variance / robust variance on random states (the filter).
        score: within-trajectory / total variance on the data (the fitted objective, the ranking).
        depth, size: tree depth and number of nodes.
        variants: how many surviving formulas of the search are this one up to ``a·f + b``
            (itself included): the search shows each family once.
    """

    tree: tuple
    constants: Tuple[float, ...]
    names: Tuple[str, ...]
    ratio: float = float("nan")
    depth: int = 0
    size: int = 1
    score: float = float("nan")
    variants: int = 1

    # -- printing
    def _infix(self, node, consts: List[str], prec: int = 0) -> str:
        op = node[0]
        if op == "var":
            return self.names[node[1]]
        spec = _OPS[OPERATORS.index(op)]
        c = consts.pop(0) if spec.has_const else None
        if spec.arity == 1:
            scaled = c is not None and c not in ("1", "-1")
            a = self._infix(node[1], consts, 4 if op == "square" else (2 if scaled else 0))
            if op == "square":
                return f"({a}**2)" if prec > 3 else f"{a}**2"
            if c == "-1":
                return f"{op}(-{self._wrap(a, node[1])})"
            return f"{op}({c}*{a})" if scaled else f"{op}({a})"
        left = self._infix(node[1], consts, 1 if op in "+-" else 2)
        right = self._infix(node[2], consts, 2 if op in "+-*" else 3)
        if op in "+-":
            if c is not None and c != "1":
                sign = op
                if c.startswith("-"):
                    sign, c = ("-" if op == "+" else "+"), c[1:]
                s = f"{left} {sign} {c}*{right}" if c != "1" else f"{left} {sign} {right}"
            else:
                s = f"{left} {op} {right}"
            return f"({s})" if prec > 1 else s
        s = f"{left}{op}{right}"
        return f"({s})" if prec > 2 else s

    @staticmethod
    def _wrap(s: str, node) -> str:
        return s if node[0] in ("var", "sin", "cos", "square") else f"({s})"

    def __str__(self) -> str:
        return self._infix(self.tree, [_fmt_const(c) for c in self.constants])

    @property
    def template(self) -> str:
        """The formula with symbolic constants ``c0, c1, ...`` (before fitting)."""
        return self._infix(self.tree, [f"c{i}" for i in range(len(self.constants))])

    def __repr__(self) -> str:
        return f"Formula({self}, ratio={self.ratio:.3g})"

    def canonical(self) -> "Formula":
        """The same function with ``cos(−c·a)`` written ``cos(c·a)`` (cos is even)."""
        consts = list(self.constants)
        k = 0

        def walk(node):
            nonlocal k
            if node[0] == "var":
                return
            if _OPS[OPERATORS.index(node[0])].has_const:
                if node[0] == "cos":
                    consts[k] = abs(consts[k])
                k += 1
            for child in node[1:]:
                walk(child)

        walk(self.tree)
        return dataclasses.replace(self, constants=tuple(consts))

    # -- evaluation
    def _eval(self, node, x: Tensor, it) -> Tensor:
        op = node[0]
        if op == "var":
            return x[..., node[1]]
        spec = _OPS[OPERATORS.index(op)]
        c = next(it) if spec.has_const else None
        a = self._eval(node[1], x, it)
        b = self._eval(node[2], x, it) if spec.arity == 2 else None
        return spec.fn(a, b, c)

    def __call__(self, x: Tensor) -> Tensor:
        """Evaluate on states ``x`` of shape ``(..., D)``; returns ``(...)``. Differentiable in ``x``."""
        if x.shape[-1] != len(self.names):
            raise ValueError(f"states must have shape (..., {len(self.names)}); got {tuple(x.shape)}")
        consts = torch.tensor(self.constants, dtype=x.dtype, device=x.device)
        return self._eval(self.tree, x, iter(consts))

    def qp(self, q: Tensor, p: Tensor) -> Tensor:
        """Evaluate as ``f(q, p)`` (two-variable formulas), for :class:`FormulaEmbedding`."""
        return self(torch.stack([q, p], dim=-1))

    def as_embedding(self, *, scale: float = 1.0) -> "SymbolicEmbedding":
        """This formula as a 1-d Noether embedding ``g(x) = scale · f(x)``, shape ``(..., 1)``."""
        return SymbolicEmbedding(self, scale=scale)

    def to_sympy(self):
        """The formula as a SymPy expression (needs ``sympy``)."""
        try:
            import sympy
        except ImportError as e:  # pragma: no cover - optional dependency
            raise ImportError("to_sympy() needs sympy: pip install sympy") from e
        syms = [sympy.Symbol(n, real=True) for n in self.names]
        it = iter(self.constants)

        def build(node):
            op = node[0]
            if op == "var":
                return syms[node[1]]
            spec = _OPS[OPERATORS.index(op)]
            c = sympy.Float(next(it), 6) if spec.has_const else None
            a = build(node[1])
            b = build(node[2]) if spec.arity == 2 else None
            return {
                "+": lambda: a + c * b, "-": lambda: a - c * b, "*": lambda: a * b, "/": lambda: a / b,
                "sin": lambda: sympy.sin(c * a), "cos": lambda: sympy.cos(c * a), "square": lambda: a**2,
            }[op]()

        return build(self.tree)


class SymbolicEmbedding(nn.Module):
    """A :class:`Formula` as a Noether embedding: states ``(..., D)`` → ``(..., 1)``."""

    def __init__(self, formula: Formula, *, scale: float = 1.0) -> None:
        super().__init__()
        self.formula, self.scale = formula, float(scale)
        self.register_buffer("constants", torch.tensor(formula.constants, dtype=torch.float32))

    def forward(self, x: Tensor) -> Tensor:
        consts = self.constants.to(dtype=x.dtype)
        return (self.scale * self.formula._eval(self.formula.tree, x, iter(consts))).unsqueeze(-1)

    def extra_repr(self) -> str:
        return str(self.formula)
