"""A system from formula strings: ``system_from_formula("p**2/2 + 1 - cos(q)")``.

The text is parsed with Python's :mod:`ast` (parsing only: nothing is evaluated), every node
is checked against a short whitelist (numbers, the state variables, ``+ - * / **``, and the
functions in :data:`FUNCTIONS`), and the tree is turned into a :mod:`sympy` expression (for the
readable formula) and a torch function (for the dynamics). Variables are ``q, p`` for one degree
of freedom, or ``q1..qn, p1..pn`` for ``n``.
"""
from __future__ import annotations

import ast
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .hamiltonians import System

__all__ = ["FUNCTIONS", "parse_formula", "system_from_formula"]

#: The functions a formula may call, by name.
FUNCTIONS: Dict[str, Tuple[Callable[[Tensor], Tensor], str]] = {
    "sin": (torch.sin, "sin"), "cos": (torch.cos, "cos"), "tan": (torch.tan, "tan"),
    "exp": (torch.exp, "exp"), "log": (torch.log, "log"), "sqrt": (torch.sqrt, "sqrt"),
    "tanh": (torch.tanh, "tanh"), "sinh": (torch.sinh, "sinh"), "cosh": (torch.cosh, "cosh"),
    "abs": (torch.abs, "Abs"),
}
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_MAX_LEN = 2000
_MAX_POWER = 64


def _variables(names: Sequence[str]) -> int:
    """The number of degrees of freedom the variable names imply (and that they are consistent)."""
    names = set(names)
    numbered = {v for v in names if re.fullmatch(r"[qp][1-9][0-9]*", v)}
    unknown = sorted(names - numbered - {"q", "p"})
    if unknown:
        raise ValueError(f"unknown name(s) {', '.join(map(repr, unknown))}: the variables are q, p (one degree "
                         f"of freedom) or q1..qn, p1..pn, and the functions {', '.join(sorted(FUNCTIONS))}")
    if not numbered:
        return 1
    if {"q", "p"} & names:
        raise ValueError("a mix of q, p and numbered variables: use q, p or q1..qn, p1..pn")
    n = max(int(v[1:]) for v in numbered)
    if n > 64:
        raise ValueError(f"at most 64 degrees of freedom, got a variable numbered {n}")
    return n


def parse_formula(text: str, *, dof: Optional[int] = None):
    """Parse ``text`` into ``(sympy expression, torch function f(q, p), degrees of freedom)``.

    ``f`` takes ``q, p`` of shape ``(...)`` (one degree of freedom) or ``(..., n)``.

    Raises:
        ValueError: a syntax error, a name or operation outside the whitelist, or variables
            that do not match ``dof``.
    """
    import sympy

    if not isinstance(text, str) or not text.strip():
        raise ValueError("a formula must be a non-empty string, e.g. 'p**2 + q**2'")
    if len(text) > _MAX_LEN:
        raise ValueError(f"a formula may be at most {_MAX_LEN} characters, got {len(text)}")
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"cannot parse formula {text!r}: {e.msg} (at character {e.offset})") from None
    names: List[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            names.append(node.id)
    if not names:
        raise ValueError(f"formula {text!r} uses no variable (q, p or q1..qn, p1..pn)")
    n = _variables(names)
    if dof is not None and dof != n and not (dof > 1 and n <= dof and not {"q", "p"} & set(names)):
        raise ValueError(f"formula {text!r} has {n} degree(s) of freedom, expected {dof}")
    n = dof or n

    def sym(node):
        if isinstance(node, ast.Expression):
            return sym(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return sympy.Float(node.value) if isinstance(node.value, float) else sympy.Integer(node.value)
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ValueError(f"{node.id} is a function: call it, e.g. {node.id}(q)")
            return sympy.Symbol(node.id, real=True)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = sym(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            a, b = sym(node.left), sym(node.right)
            op = type(node.op)
            if op is ast.Pow:
                if b.is_number and abs(float(b)) > _MAX_POWER:
                    raise ValueError(f"formula {text!r}: exponents are limited to ±{_MAX_POWER}")
                return a ** b
            return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                    ast.Div: lambda: a / b}[op]()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
                and len(node.args) == 1 and not node.keywords:
            return getattr(sympy, FUNCTIONS[node.func.id][1])(sym(node.args[0]))
        what = type(node).__name__
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else "that"
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ValueError(f"formula {text!r}: {name}(...) is not allowed (one argument each: {allowed})")
        raise ValueError(f"formula {text!r}: {what} is not allowed (numbers, variables, + - * / ** and "
                         f"{', '.join(sorted(FUNCTIONS))})")

    expr = sym(tree)

    def torch_fn(q: Tensor, p: Tensor) -> Tensor:
        env: Dict[str, Tensor] = {"q": q, "p": p} if n == 1 else {
            **{f"q{i + 1}": q[..., i] for i in range(n)}, **{f"p{i + 1}": p[..., i] for i in range(n)}}
        like = q if n == 1 else q[..., 0]

        def run(node):
            if isinstance(node, ast.Expression):
                return run(node.body)
            if isinstance(node, ast.Constant):
                return torch.full_like(like, float(node.value))
            if isinstance(node, ast.Name):
                return env[node.id]
            if isinstance(node, ast.UnaryOp):
                v = run(node.operand)
                return -v if isinstance(node.op, ast.USub) else v
            if isinstance(node, ast.BinOp):
                a, b = run(node.left), run(node.right)
                op = type(node.op)
                if op is ast.Add:
                    return a + b
                if op is ast.Sub:
                    return a - b
                if op is ast.Mult:
                    return a * b
                if op is ast.Div:
                    return a / b
                return a ** b
            return FUNCTIONS[node.func.id][0](run(node.args[0]))

        return run(tree)

    return expr, torch_fn, n


def system_from_formula(hamiltonian: str, *, invariants: Sequence[str] = (), name: str = "custom",
                        **fields) -> System:
    """A :class:`System` whose Hamiltonian (and further conserved quantities) are formula strings.

    Args:
        hamiltonian: e.g. ``"p**2 + 3*(1 - cos(q))"`` or, for two degrees of freedom,
            ``"(p1**2 + p2**2)/2 + (q1**2 + q2**2)**2/4"``.
        invariants: more conserved quantities in the same variables, e.g.
            ``["q1*p2 - q2*p1"]`` (angular momentum); the oracle uses them with ``H``.
        name: the system's name (register it with :func:`register_system` to use it by name).
        fields: other :class:`System` fields (``t_span``, ``n_points``, ``radius``,
            ``noise_std``, ``damping``).
    """
    expr, h, n = parse_formula(hamiltonian)
    inv_fns = []
    formulas = []
    for text in invariants:
        e, f, m = parse_formula(text, dof=n)
        inv_fns.append(f)
        formulas.append(str(e))
    inv = None
    if inv_fns:
        def inv(q: Tensor, p: Tensor) -> Tensor:
            return torch.stack([f(q, p) for f in inv_fns], dim=-1)
    formula = str(expr) + (f"; conserved: {', '.join(formulas)}" if formulas else "")
    return System(name=name, hamiltonian=h, dof=n, invariants=inv, formula=formula, **fields)
