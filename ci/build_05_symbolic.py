#!/usr/bin/env python
"""Build ``book/05_symbolic.ipynb`` (Chapter 5) from the cells below.

Usage::

    python ci/build_05_symbolic.py          # keeps outputs of unchanged code cells
    python ci/execute_chapters.py book/05_symbolic.ipynb
"""
from nbcells import code, head, main as run_generator, md

NAME = "05_symbolic"

CELLS = [
    ("md", """**Objectives.** After this chapter you can

- write a search space of formulas as a small grammar, and count it depth by depth;
- remove duplicates exactly (commutativity) and numerically (formulas equal up to $a f + b$);
- fit the constants of *every* candidate at once, as one batched tensor program;
- filter candidates by how much less they vary along trajectories than on random states;
- run the search on a system of your own, and use the formula it finds as a Noether embedding."""),
    ("md", r"""## The idea in math

A quantity $f(q, p)$ is conserved by the dynamics if it stays constant along every trajectory,
$\frac{d}{dt} f(x(t)) = 0$. Given observed trajectories $x_{n,t}$ ($n$ = trajectory, $t$ = time),
the Noether paper searches a space of formulas built from the state variables with the operators
$\{+, -, \times, \div, \sin, \cos, (\cdot)^2\}$ and trainable constants $c$. Here a constant scales
the second term of a sum, $a \pm c\,b$, or the argument of a sine or cosine, $\sin(c\,a)$; a global
scale or offset never matters, because the objective below ignores it. For each formula $f_c$ the
constants minimize the share of $f$'s spread that lies *within* trajectories,

$$J(c) = \log \frac{\tfrac1N \sum_n \operatorname{Var}_t f_c(x_{n,t})}{\operatorname{Var}_{n,t} f_c(x_{n,t})},$$

which is invariant to $f \mapsto a f + b$, so the constants cannot cheat by shrinking $f$.
A fitted formula survives if its variance along trajectories is at least two orders of magnitude
below its (robust) variance on random states $s$ drawn in the data's bounding box:

$$\frac{\tfrac1N \sum_n \operatorname{Var}_t f(x_{n,t})}{\operatorname{Var}_{s} f(s)} \le 10^{-2}.$$

The paper enumerated all formulas up to depth 7 (41,460 for the pendulum, measured in grammar
steps), kept 210 survivors, tried each as a tailoring loss and found $p^2 - 2.99\cos q$ for the
pendulum $H = 3(1-\cos q) + p^2$ and $q^2 + 1.002\,p^2$ for the spring $H = q^2 + p^2$.
The whole search took about 4 hours on a V100."""),
    ("code", '''import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import noether_lite as nl

torch.manual_seed(SEED)
print("quick mode:", QUICK, "| operators:", nl.OPERATORS)'''),
    ("md", """## 1. A grammar, and how fast it grows

Depth counts operators on the longest path: a variable has depth 0, so $p^2 - c\\cos(c' q)$ has
depth 2. Each depth combines everything found so far. Commutative operators see their children in
one order only (`q*p`, never `p*q`), and a candidate that is numerically equal, up to $a f + b$, to
a smaller one is dropped: it is compared on random states at two settings of its constants."""),
    ("code", '''t0 = time.perf_counter()
lib = nl.enumerate_formulas(names=("q", "p"), max_depth=3, seed=SEED)
print(f"enumerated in {time.perf_counter() - t0:.1f} s")
print("depth  candidates  duplicates  degenerate      new    total")
for c in lib.counts:
    print(f"{c['depth']:5d} {c['candidates']:11,d} {c['duplicates']:11,d} {c['degenerate']:11,d} {c['new']:8,d} {c['total']:8,d}")
print("a few depth-2 formulas:", lib.strings()[13:19])'''),
    ("md", """Each depth squares the previous count: 13 formulas up to depth 1, 370 up to depth 2 and about
271,000 up to depth 3, of which a fifth were duplicates of smaller formulas. Depth 4 would be about
$10^{11}$ candidates, so the search refuses it up front with a size estimate (`nl.SearchTooLarge`)."""),
    ("code", '''try:
    nl.enumerate_formulas(max_depth=4, memory_budget=4e9)
except nl.SearchTooLarge as err:
    print(str(err)[:160], "...")'''),
    ("md", """## 2. Fitting every constant at once

The search compiles all formulas into one tensor program, a list of nodes
`(operator, left child, right child, constant slot)` evaluated level by level with gathers, and fits
all constants together with Adam. The formulas share no constant and Adam is element-wise, so this is
exactly every formula's own fit, at the cost of one. (`ci/bench_symbolic.py` measures the same fits
as a Python loop: about 35× slower on a CPU, 235× on an H100.) We search the training pendulum
trajectories up to depth 2."""),
    ("code", '''train, test = nl.make_dataset("pendulum", seed=SEED)
res = nl.discover_conserved(train.x_clean, names=("q", "p"), max_depth=2, seed=SEED)
print(res.summary(k=5))'''),
    ("code", '''# NBVAL_CHECK_OUTPUT
best = res.best
print("best:", best.template, "with c =", [round(c, 2) for c in best.constants])
print("enumerated:", res.n_enumerated, "| survivors:", res.n_survivors, "| diverged:", res.n_diverged)
print("|corr(best, H)| on random states:", round(nl.energy_correlation(best, "pendulum"), 4))'''),
    ("md", """The best formula is $p^2 - 3\\cos q$: the pendulum's energy $3(1-\\cos q) + p^2$ up to an additive
constant, with the constant 3 recovered from data (the paper found 2.99). A handful of other
formulas survive the filter, mostly smooth approximations of the energy; they rank lower because
they vary more along the trajectories."""),
    ("code", '''s = torch.rand(2000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(SEED)) * 4 - 2
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for ax, f in zip(axes, [res.formulas[0], res.formulas[2]]):
    ax.scatter(nl.get_system("pendulum").energy(s), f(s).detach(), s=3)
    ax.set(xlabel="true energy H(q, p)", ylabel="formula", title=str(f)[:40])
plt.tight_layout()
plt.show()'''),
    ("md", """On random states the best formula is a straight line against $H$ (an affine map of the
energy). The third, $\\cos(c_1 q) + c_0\\cos(c_2 p)$, is a look-alike: it matches the energy near the
data (small $q$ and $p$, where $\\cos p \\approx 1 - p^2/2$) and bends away from it elsewhere. (The
second is the best one again, reached from `+` with a negative constant instead of from `-`.)"""),
    ("md", """## 3. The variance-ratio filter

Survivors must vary at least 100× less along trajectories than on random states. Most formulas
are nowhere near: the histogram below is the filter ratio of every fitted formula."""),
    ("code", '''r = np.log10(res.ratios[np.isfinite(res.ratios)])
keep = res.survived[np.isfinite(res.ratios)]
plt.hist([r[~keep], r[keep]], bins=40, stacked=True, label=["rejected", "survivors"])
plt.axvline(-2, color="k", ls="--", label="threshold: 2 orders of magnitude")
plt.xlabel("log10 (variance along trajectories / variance on random states)")
plt.ylabel("formulas")
plt.legend()
plt.show()'''),
    ("md", """The bulk sits near a ratio of 1 (no better than a random function of the state); the energy
and its few look-alikes are separated from it by many orders of magnitude."""),
    ("md", """## 4. The spring

The same call on the spring, $H = q^2 + p^2$."""),
    ("code", '''# NBVAL_CHECK_OUTPUT
spring_train, _ = nl.make_dataset("spring", seed=SEED)
res_spring = nl.discover_conserved(spring_train.x_clean, max_depth=2, seed=SEED)
b = res_spring.best
print("best:", b.template, "with c =", [round(c, 2) for c in b.constants])
print("survivors:", res_spring.n_survivors, "| |corr(best, H)|:", round(nl.energy_correlation(b, "spring"), 4))'''),
    ("md", """The search returns $q^2 + 1.00\\,p^2$, as in the paper ($q^2 + 1.002\\,p^2$ there, on noisy data)."""),
    ("md", """## 5. A system the package does not ship

Nothing above is specific to the built-in systems. Here is a quartic oscillator, $H = q^4 + p^2$,
defined in one line; its energy needs depth 3 ($((q)^2)^2$ plus $p^2$). On a CPU we search depth 3
with a smaller grammar, $\\{+, \\text{square}\\}$ (all seven operators at depth 3 are 271,000 formulas:
about 2 minutes on one H100 GPU with `device="cuda"`)."""),
    ("code", '''# NBVAL_CHECK_OUTPUT
quartic = nl.System(name="quartic", hamiltonian=lambda q, p: q**4 + p**2, n_points=40, radius=(0.2, 1.2))
q_train, _ = nl.make_dataset(quartic, seed=SEED)
ops = ["+", "square"] if QUICK else None
res_q = nl.discover_conserved(q_train.x_clean, max_depth=3, operators=ops, seed=SEED)
bq = res_q.best
print(res_q.n_enumerated, "formulas,", res_q.n_survivors, "survivors")
print("best:", bq.template, "with c =", [round(c, 2) for c in bq.constants])
print("|corr(best, H)|:", round(nl.energy_correlation(bq, quartic), 4))'''),
    ("md", """The search finds the quartic energy from its trajectories alone. The result is an ordinary
torch function of the state, `bq(x)` for states `(..., 2)`, and converts to SymPy:"""),
    ("code", '''print(bq.to_sympy())
x = q_train.x_clean[:2]  # (2, T, 2)
g = bq.as_embedding()  # a Noether embedding: states (..., 2) -> (..., 1)
print("Noether loss along true trajectories:", nl.noether_loss(g, x).tolist())'''),
    ("md", """## 6. From a formula to a Noether Network

The paper then tried every survivor as the Noether embedding of a one-step tailoring loss, chose
$\\lambda_{in}$ on a grid on *training* data, meta-tailored the best ones, and reported the test
RMSE of the best on training data. `nl.run_symbolic` does the same; in quick mode it tries the top 3
survivors on a shortened schedule (so the numbers are indicative, not the paper's setting)."""),
    ("code", '''quick_physics = {"pretrain_steps": 600, "meta_steps": 10} if QUICK else None
out = nl.run_symbolic("pendulum", quick=QUICK, seed=SEED, progress=False, top_k=3 if QUICK else None,
                      physics=quick_physics, device=DEVICE)
paper = {"vanilla": 0.0563, "noether_symbolic": 0.0423, "noether_oracle": 0.0422}
print(f"{'':18s} {'paper':>8s} {'ours':>8s}")
for k in ("vanilla", "noether_symbolic", "noether_oracle"):
    print(f"{k:18s} {paper[k]:8.4f} {out['rmse'][k]:8.4f}")
print("formula used:", out["tailored_formula"], f"| {out['seconds']:.0f} s")'''),
    ("md", """The table compares long-horizon test RMSE on the pendulum. On this shortened quick schedule neither
tailoring loss beats the plain MLP (our MLP is also better than the paper's), and the formula chosen
on *training* data can be a near-energy look-alike rather than the energy itself: with so little
meta-training the choice among survivors is noisy. The paper's gain needs its full schedule (run
with `NOETHER_QUICK=0`, or `noether-lite symbolic --system pendulum --full`)."""),
    ("md", """## Exercises

{doc}`exercises_05` has this chapter's exercises: implement the variance-ratio filter, and the
closed-form constant that makes $a + c\\,b$ most conserved."""),
    ("md", """## Summary and what comes next

- A conserved quantity can be *searched for*: enumerate formulas from a small grammar, fit their
  constants to make them constant along trajectories, keep the ones far more constant there than
  on random states.
- The counts explode (13 → 370 → 271,000 at depths 1 → 3): duplicates must go, exactly
  (commutativity) and numerically (equal up to $a f + b$).
- Fitting all constants as one batched tensor program costs about as much as fitting one.
- The search recovers $p^2 - 3\\cos q$ and $q^2 + p^2$, and the energy of a system the package has
  never seen; the result plugs in as a Noether embedding.

Next, Chapter 6 leaves closed-form physics for video, where no formula is available and $g_\\phi$
must be a learned network."""),
]


def chapter5():
    cells = head(NAME, "Discovering conserved quantities symbolically")
    cells += [md(src) if kind == "md" else code(src) for kind, src in CELLS]
    return NAME, cells


def main(argv=None) -> None:
    run_generator((chapter5,), lambda name: {}, __doc__, argv)


if __name__ == "__main__":
    main()
