"""Symbolic discovery of conserved quantities.

The search has three stages, each batched over *all* candidate formulas:

1. **Enumerate** every expression over the state variables (``q``, ``p`` by
   default) built from the operators below, depth by depth, and remove
   duplicates: commutative operators only ever see their children in one
   (canonical) order, and formulas that are numerically identical *up to an
   affine map* ``a·f + b`` on random states are merged (the search objective
   cannot tell them apart). Two fingerprints are compared: all constants at
   their initial value 1, and all constants at random values, so two formulas
   are merged only when they agree as *families*, not just at one setting.
2. **Fit** the trainable constants of all formulas at once
   (:mod:`~noether_lite.symbolic.project`): each formula ``f_c`` minimises

   ``J(c) = log( mean_n Var_t f_c(x_{n,t}) ) − log( Var_{n,t} f_c(x_{n,t}) )``,

   the log of the variance along each trajectory ``n`` (averaged over
   trajectories) over the variance across *all* observed states: the fraction
   of ``f``'s spread that is *within* trajectories (0 = perfectly conserved,
   1 = no better than chance). It is invariant to ``f → a f + b``, so constants
   cannot shrink ``f`` to zero to look conserved. Written as a weighted sum of
   terms, ``f = Σ w_k t_k``, the objective is a ratio of quadratic forms in the
   constants that scale terms: their optimum is a generalized eigenvector, in
   closed form. The other ("inner") constants are searched on a grid with the
   linear ones solved at each point, then refined; formulas sharing a shape go
   through one tensor program (a list of nodes ``(op, left, right, constant
   slot)`` evaluated level by level with gathers). The iterative fit, Adam on
   every constant (:func:`fit_constants`, ``method="adam"``), is the reference.
   Optionally, **physical units** prune, before the fit, every formula that adds
   incompatible quantities (:mod:`~noether_lite.symbolic.units`).
3. **Filter and rank** (in float64): a formula is kept if its variance along
   trajectories is at least ``orders`` (default 2) orders of magnitude below its
   variance on random states, uniform in the data's bounding box (enlarged by
   10 %): ``mean_n Var_t f / Var_box f ≤ 10^-orders``. The random-state variance
   is the robust one, ``(1.4826 · MAD)²``, so that a formula with a pole inside
   the box cannot pass by blowing up a few random values. Survivors are ranked
   by the fitted objective ``score`` (within / total variance),
   ``log10(max(score, floor)) + size_penalty · size`` (size = number of tree
   nodes; ``floor`` 1e-10 for the closed-form fit): below it a formula is
   conserved to rounding noise, and among those the simplest wins. Survivors
   equal up to ``a f + b`` on random states are one family, shown once.

Operators and where the trainable constants go (one constant per node, so a
formula of depth ``D`` has at most ``2^D − 1`` of them; constants never stand
alone as leaves, which keeps counts manageable; an overall scale or offset is
never needed because the objective ignores it):

=========  ==============  ========
name       meaning         constant
=========  ==============  ========
``+``      ``a + c·b``     c = 1
``-``      ``a − c·b``     c = 1
``*``      ``a · b``       none
``/``      ``a / b``       none
``sin``    ``sin(c·a)``    c = 1
``cos``    ``cos(c·a)``    c = 1
``square`` ``a²``          none
=========  ==============  ========

``a + c·b`` and ``b + c·a`` span the same family up to scale, as do
``a − c·b`` and ``b − c·a``: ``+``, ``−`` and ``*`` are treated as commutative.
``+`` and ``−`` span the same family too but start from opposite signs, so both
are kept (and shown as one family after the fit). With 4 or more variables,
:func:`~noether_lite.symbolic.several.discover_several` returns a functionally
independent set of conserved quantities.

Depth: a variable has depth 0; ``op(a, b)`` has depth ``1 + max(depth a, depth b)``.
So ``p² − c·cos(c'·q)`` has depth 2. (The paper's "depth 7" counts grammar
derivation steps, a different measure: its 41,460 pendulum formulas are not
comparable one to one with our counts.)
"""
from .grammar import OPERATORS, Formula, SymbolicEmbedding, SearchTooLarge
from .enumerate import FormulaLibrary, enumerate_formulas
from .fit import fit_constants
from .discover import DiscoveryResult, discover_conserved, energy_correlation
from .project import fit_constants_projected
from .units import SYSTEM_UNITS, Units
from .several import SeveralResult, discover_several

__all__ = [
    'OPERATORS', 'Formula', 'FormulaLibrary', 'DiscoveryResult', 'SymbolicEmbedding',
    'SearchTooLarge', 'enumerate_formulas', 'fit_constants', 'discover_conserved',
    'energy_correlation', 'fit_constants_projected', 'Units', 'SYSTEM_UNITS', 'SeveralResult',
    'discover_several'
]
