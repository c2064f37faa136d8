"""Physical units: a formula that adds incompatible quantities is pruned before it is fitted.

Every state variable has units (exponents of base dimensions, e.g. ``{"M": 1, "L": 1, "T": -1}``
for a momentum). Constants are not free to carry any units: a constant may only carry what the
system's *parameters* can make, a product of integer powers of their units (for a spring with
mass ``m`` and stiffness ``k``: ``m^a k^b``). That is what "the constants absorb what they must"
means here:

* ``a ± c·b`` is allowed when ``[a] / [b]`` is such a product (then ``c`` carries it);
* ``sin(c·a)``, ``cos(c·a)`` need ``[a]`` to be such a product (the argument ``c·a`` is then a
  pure number) and are dimensionless;
* ``a·b``, ``a/b`` and ``a²`` combine units as usual.

So units count only up to the lattice of parameter units. For the pendulum (``m``, ``l``, ``g``),
``p² − c·cos q`` is allowed (``c`` carries ``m² l³ g``) but ``q + c·p`` is not (``c`` would carry
a time, and no integer powers of ``m``, ``l``, ``g`` make one); for the spring ``q + c·q²``
(a length plus an area) is pruned. Without parameters, units must match exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ['Units', 'SYSTEM_UNITS', 'resolve_units']

UnitSpec = Mapping[str, float]


@dataclass(frozen=True)
class Units:
    """Units of the state variables and of the parameters the constants may carry.

    Attributes:
        variables: one unit per state variable, e.g. ``{"q": {"L": 1}, "p": {"M": 1, "L": 1, "T": -1}}``.
        parameters: the system's parameters, e.g. ``{"m": {"M": 1}, "k": {"M": 1, "T": -2}}``;
            their units must be independent.
    """

    variables: Mapping[str, UnitSpec]
    parameters: Mapping[str, UnitSpec] = field(default_factory=dict)

    def dimensions(self) -> Tuple[str, ...]:
        dims = set()
        for spec in list(self.variables.values()) + list(self.parameters.values()):
            dims.update(spec)
        return tuple(sorted(dims))

    def vectors(self, names: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """``(variable units (D, d), parameter units (d, k))`` over :meth:`dimensions`."""
        missing = [n for n in names if n not in self.variables]
        if missing:
            raise ValueError(f"units: no unit for variable(s) {missing}; give one per state variable "
                             f"({', '.join(names)}), e.g. {{'q': {{'L': 1}}}} (an empty dict is dimensionless)")
        dims = self.dimensions()
        vec = lambda spec: np.array([float(spec.get(d, 0.0)) for d in dims])  # noqa: E731
        for owner, spec in [*self.variables.items(), *self.parameters.items()]:
            bad = {d: v for d, v in spec.items() if not np.isfinite(float(v))}
            if bad:
                raise ValueError(f"units of {owner!r}: exponents must be finite numbers, got {bad}")
        V = np.stack([vec(self.variables[n]) for n in names]) if names else np.zeros((0, len(dims)))
        P = np.stack([vec(s) for s in self.parameters.values()], 1) if self.parameters else np.zeros((len(dims), 0))
        if P.shape[1] and np.linalg.matrix_rank(P) < P.shape[1]:
            raise ValueError(f"units: the parameters' units {dict(self.parameters)} are not independent; "
                             "drop the ones that are products of the others")
        return V, P

    def keys(self, P: np.ndarray):
        """A function from units ``(n, d)`` to hashable classes: equal iff they differ by parameter units."""
        if P.shape[1] == 0:
            return lambda u: np.round(u, 9)
        pinv = np.linalg.pinv(P)

        def key(u: np.ndarray) -> np.ndarray:
            n = u @ pinv.T  # (n, k): coordinates in the parameters
            r = u - n @ P.T  # what the parameters cannot make
            frac = n - np.round(n)  # integer powers are absorbed
            return np.round(np.concatenate([r, np.where(np.abs(frac) < 1e-9, 0.0, np.mod(frac, 1.0))], 1), 9)

        return key


#: units of the built-in systems: the spring (mass ``m``, stiffness ``k``) and the pendulum
#: (mass ``m``, length ``l``, gravity ``g``; ``q`` is an angle, ``p`` an angular momentum)
SYSTEM_UNITS: Dict[str, Units] = {
    "spring": Units({"q": {"L": 1}, "p": {"M": 1, "L": 1, "T": -1}},
                    {"m": {"M": 1}, "k": {"M": 1, "T": -2}}),
    "pendulum": Units({"q": {}, "p": {"M": 1, "L": 2, "T": -1}},
                      {"m": {"M": 1}, "l": {"L": 1}, "g": {"L": 1, "T": -2}}),
    # a particle in the plane on a spring to the origin (mass m, stiffness k): lengths and momenta
    "central": Units({"q1": {"L": 1}, "q2": {"L": 1}, "p1": {"M": 1, "L": 1, "T": -1},
                      "p2": {"M": 1, "L": 1, "T": -1}}, {"m": {"M": 1}, "k": {"M": 1, "T": -2}}),
}


def resolve_units(units: Union[None, str, Units]) -> Optional[Units]:
    """``None``, a :class:`Units`, or the name of a system in :data:`SYSTEM_UNITS`."""
    if units is None or isinstance(units, Units):
        return units
    if isinstance(units, str) and units in SYSTEM_UNITS:
        return SYSTEM_UNITS[units]
    raise ValueError(f"units must be None, a Units or one of {sorted(SYSTEM_UNITS)}, got {units!r}: "
                     "pass e.g. units='spring' or Units(variables={...}, parameters={...})")
