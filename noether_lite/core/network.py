"""A Noether Network for state trajectories: predictor + embedding + tailoring.

:class:`NoetherNetwork` rolls a vector-field model forward from ``x_0``; before
answering, it tailors the model to the query on the Noether loss of its own
rollout (Algorithm 1 of the paper). Meta-training and evaluation both call
:meth:`NoetherNetwork.predict`, so they share one code path.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from torch import Tensor, nn
from torch.func import functional_call

from .conservation import LOSS_FORMS, noether_loss
from ..systems.integrators import INTEGRATORS, integrate
from .learner import TailoredLearner
from .tailor import TailorConfig, TailorResult, per_example, tailor_cn, tailor_weights

__all__ = ["NoetherNetwork"]


class NoetherNetwork(TailoredLearner):
    """Predictor ``f_θ`` tailored at prediction time on a conservation loss of ``g``.

    Args:
        model: vector field ``f_θ: (..., D) -> (..., D)`` (e.g. :class:`~noether_lite.models.MLP`;
            for ``mode="cn"`` it must accept ``cn=`` and provide ``init_cn(B)``).
        embedding: Noether embedding ``g: (..., D) -> (..., k)``; its parameters
            (if any) are meta-learned through the second-order inner step.
        dt: time step of the rollout.
        tailor: a :class:`~noether_lite.core.tailor.TailorConfig`.
        integrator: ``"euler"``, ``"rk4"`` or ``"leapfrog"``.
        loss_form: ``"start"`` or ``"consecutive"``.
    """

    def __init__(
        self,
        model: nn.Module,
        embedding: nn.Module,
        *,
        dt: float,
        tailor: TailorConfig = TailorConfig(),
        integrator: str = "rk4",
        loss_form: str = "start",
    ) -> None:
        super().__init__(tailor)
        if integrator not in INTEGRATORS:
            raise ValueError(f"unknown integrator {integrator!r}; known: {sorted(INTEGRATORS)}")
        if loss_form not in LOSS_FORMS:
            raise ValueError(f"unknown loss form {loss_form!r}; known: {LOSS_FORMS}")
        if not dt > 0:
            raise ValueError(f"dt must be > 0, got {dt}")
        if tailor.mode == "cn" and not getattr(model, "use_cn", False):
            raise ValueError("tailor.mode='cn' needs a model built with cn=True")
        self.model, self.embedding = model, embedding
        self.dt, self.integrator, self.loss_form = float(dt), integrator, loss_form

    # ------------------------------------------------------------------ pieces
    def rollout(self, x0: Tensor, n_steps: int, *, params: Optional[Dict[str, Tensor]] = None, cn=None) -> Tensor:
        """Untailored (or given-parameter) rollout: ``(B, D) -> (B, n_steps + 1, D)``."""
        if params is None:
            f = (lambda s: self.model(s, cn)) if cn is not None else self.model
        else:
            f = lambda s: functional_call(self.model, params, (s,))  # noqa: E731
        return integrate(f, x0, n_steps=n_steps, dt=self.dt, method=self.integrator)

    def noether_loss(self, traj: Tensor) -> Tensor:
        return noether_loss(self.embedding, traj, form=self.loss_form)

    def tailored_field(self, x: Tensor, result: TailorResult) -> Tensor:
        """The tailored vector field of each example at its own states.

        Args:
            x: states ``(B, ..., D)``; example ``i`` uses its own tailored parameters.
            result: what :meth:`predict` returned.

        Returns:
            ``dx/dt`` of shape ``(B, ..., D)``.
        """
        if self.tailoring.mode == "cn":
            return self.model(x, result.params)
        return per_example(lambda p, xs: functional_call(self.model, p, (xs,)), result.params, x)

    # ------------------------------------------------------------------ predict
    def predict(
        self, x0: Tensor, n_steps: int, *, steps: Optional[int] = None, inner_lr=None, first_order: Optional[bool] = None
    ) -> Tuple[Tensor, TailorResult]:
        """Tailor to each query, then roll out.

        Args:
            x0: initial states, ``(B, D)``.
            n_steps: rollout length ``T`` (the Noether loss uses the same rollout).
            steps, inner_lr, first_order: override the config (test-time sweeps).

        Returns:
            ``(traj, result)``: ``traj`` of shape ``(B, T + 1, D)``; ``result``
            holds the inner losses and the guard's reverts.
        """
        if x0.ndim != 2:
            raise ValueError(f"x0 must have shape (B, D); got {tuple(x0.shape)}")
        K = self.tailoring.steps if steps is None else steps
        lr = self.inner_lr() if inner_lr is None else inner_lr
        fo = self.tailoring.first_order if first_order is None else first_order
        if self.tailoring.mode == "weights":
            params = dict(self.model.named_parameters())

            def roll(p, x):  # one example: (D,) -> (T + 1, D)
                return integrate(lambda s: functional_call(self.model, p, (s,)), x, n_steps=n_steps, dt=self.dt, method=self.integrator)

            def inner(p, x):
                traj = roll(p, x)
                return noether_loss(self.embedding, traj, form=self.loss_form), traj

            res = tailor_weights(inner, params, x0, steps=K, inner_lr=lr, first_order=fo, guard=self.tailoring.guard)
            if K == 0:
                return self.rollout(x0, n_steps), res
            return res.aux, res  # the final (guarded) rollout, computed once inside the step

        def inner_cn(cn):
            traj = self.rollout(x0, n_steps, cn=cn)
            return self.noether_loss(traj), traj

        cn0 = self.model.init_cn(x0.shape[0], device=x0.device, dtype=x0.dtype)
        res = tailor_cn(inner_cn, cn0, steps=K, inner_lr=lr, first_order=fo, guard=self.tailoring.guard)
        return res.aux, res
