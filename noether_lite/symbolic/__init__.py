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
2. **Fit** the trainable constants of all formulas at once: the enumerated
   expressions are compiled into one tensor program, a list of nodes
   ``(op, left child, right child, constant slot)`` evaluated level by level
   with gathers (one kernel per level and operator, whatever the number of
   formulas). Each formula ``f_c`` minimises, with Adam (learning rate decaying
   exponentially from 0.1 to 1e-4 over 500 steps, best iterate kept),

   ``J(c) = log( mean_n Var_t f_c(x_{n,t}) ) − log( Var_{n,t} f_c(x_{n,t}) )``,

   the log of the variance along each trajectory ``n`` (averaged over
   trajectories) over the variance across *all* observed states: the fraction
   of ``f``'s spread that is *within* trajectories (0 = perfectly conserved,
   1 = no better than chance). It is invariant to ``f → a f + b``, so constants
   cannot shrink ``f`` to zero to look conserved, and a pole placed away from
   the data cannot fake a large denominator. Adam is element-wise and the
   formulas share no constant, so the batched fit is each formula's own fit,
   done together. A fit whose objective never becomes finite drops its formula
   (counted as diverged).
3. **Filter and rank** (in float64): a formula is kept if its variance along
   trajectories is at least ``orders`` (default 2) orders of magnitude below its
   variance on random states, uniform in the data's bounding box (enlarged by
   10 %): ``mean_n Var_t f / Var_box f ≤ 10^-orders``. The random-state variance
   is the robust one, ``(1.4826 · MAD)²``, so that a formula with a pole inside
   the box cannot pass by blowing up a few random values. Survivors are ranked
   by the fitted objective ``score`` (within / total variance),
   ``log10(max(score, 1e-9)) + size_penalty · size`` (size = number of tree
   nodes): below ``1e-9`` a formula is conserved to rounding noise, and among
   those the simplest wins.

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
are kept. The paper also checked physical units; this module does not.

Depth: a variable has depth 0; ``op(a, b)`` has depth ``1 + max(depth a, depth b)``.
So ``p² − c·cos(c'·q)`` has depth 2. (The paper's "depth 7" counts grammar
derivation steps, a different measure: its 41,460 pendulum formulas are not
comparable one to one with our counts.)
"""
from .grammar import OPERATORS, Formula, SymbolicEmbedding, SearchTooLarge
from .enumerate import FormulaLibrary, enumerate_formulas
from .fit import fit_constants
from .discover import DiscoveryResult, discover_conserved, energy_correlation

__all__ = ['OPERATORS', 'Formula', 'FormulaLibrary', 'DiscoveryResult', 'SymbolicEmbedding', 'SearchTooLarge', 'enumerate_formulas', 'fit_constants', 'discover_conserved', 'energy_correlation']
