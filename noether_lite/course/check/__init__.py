"""Automatic feedback for the book's exercises.

Each chapter's exercise notebook (``exercises/NN_name.ipynb``) asks the reader
to write a function; the cell after it calls the matching check here, e.g.
``check.pendulum_energy(pendulum_energy)`` (after ``from noether_lite.course import check``). A check

* tests the answer against a reference on random inputs, so every correct
  answer passes, not only the one in ``solutions/``;
* when the answer is wrong, says *what* is wrong where it can tell (an
  energy off by a constant factor or an additive constant, a loss averaged
  where it should be summed, a gradient that does not reach ``g_φ``, a wrong
  sign in the tailoring step, ...);
* reports an unfinished stub (``raise NotImplementedError``) as
  "not implemented yet" and returns normally, so a notebook with unfinished
  exercises still runs to the end;
* prints one ✅ / ❌ line and returns a :class:`CheckResult`.

Instructors can grade a whole notebook's namespace with :func:`grade`. The checks of
chapter N are in ``chNN.py``.
"""
from ._core import CHECKS, CheckResult, grade
from .ch01 import pendulum_energy, hamiltonian_vector_field, relative_energy_drift
from .ch02 import noether_loss, tailor_step
from .ch03 import euler_rollout, rollout_rmse
from .ch04 import cond_norm, cn_tailor_step
from .ch05 import variance_ratio, fit_coefficient
from .ch06 import psnr, stack_frames
from .ch07 import controlled_vector_field, injected_power

__all__ = ['CheckResult', 'CHECKS', 'grade', 'pendulum_energy', 'hamiltonian_vector_field', 'relative_energy_drift', 'noether_loss', 'tailor_step', 'euler_rollout', 'rollout_rmse', 'cond_norm', 'cn_tailor_step', 'variance_ratio', 'fit_coefficient', 'psnr', 'stack_frames', 'controlled_vector_field', 'injected_power']
