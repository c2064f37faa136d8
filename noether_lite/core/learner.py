"""What every Noether learner shares: how it tailors, and its inner learning rate ``λ_in``.

A learner is a predictor, a Noether embedding ``g`` and a :class:`~noether_lite.core.tailor.TailorConfig`.
Its :meth:`~TailoredLearner.predict` tailors to each query on the Noether loss of the
model's own prediction, then predicts; meta-training differentiates through the same call.
:class:`~noether_lite.core.network.NoetherNetwork` (state trajectories) and
:class:`~noether_lite.video.learner.NoetherVideo` (video) are the two learners.
"""
from __future__ import annotations

from typing import Tuple, Union

from torch import Tensor, nn

from .tailor import InnerLR, TailorConfig, TailorResult

__all__ = ["TailoredLearner"]


class TailoredLearner(nn.Module):
    """Base class: holds the tailoring config and ``λ_in`` (fixed, or meta-learned per step).

    Args:
        tailor: how to tailor (steps ``K``, ``λ_in``, whether ``λ_in`` is learned, guard, mode).

    Attributes:
        tailoring: the :class:`TailorConfig`.
        inner_lr_module: an :class:`InnerLR` when ``tailor.learn_inner_lr``, else ``None``.
    """

    def __init__(self, tailor: TailorConfig) -> None:
        super().__init__()
        if not isinstance(tailor, TailorConfig):
            raise TypeError(f"tailor must be a TailorConfig, got {type(tailor).__name__}")
        self.tailoring = tailor
        self.inner_lr_module = InnerLR(tailor.steps, tailor.inner_lr) if tailor.learn_inner_lr else None

    def inner_lr(self) -> Union[float, Tensor]:
        """The current ``λ_in``: a float, or a ``(K,)`` tensor when learned."""
        return self.inner_lr_module() if self.inner_lr_module is not None else self.tailoring.inner_lr

    def predict(self, *args, **kwargs) -> Tuple[Tensor, TailorResult]:  # pragma: no cover - interface
        """Tailor to each query, then predict; returns ``(prediction, TailorResult)``."""
        raise NotImplementedError
