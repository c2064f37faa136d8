"""The one recipe for a tailored network, shared by every state experiment.

:func:`build_tailored` starts from a pretrained vector field and an embedding and

1. chooses ``λ_in`` on the TRAINING trajectories (one tailoring step over a grid,
   scored by the rollout RMSE against the observed states; 0 if no rate helps),
2. meta-trains (second order: ``θ``, the embedding's ``φ`` and a learned ``λ_in``),
3. keeps the meta-training only if it lowered that same training score.

The control (``tailor=False``) runs steps 2 and 3 with tailoring switched off (K = 0):
the same extra training, so that a gain of tailoring is not a gain of training longer.
:func:`~noether_lite.experiments.physics.run_physics` (oracle, learned, custom embedding,
control) and :func:`~noether_lite.experiments.symbolic.run_symbolic` (every candidate
formula and the oracle) call it; none uses test data.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, Optional, Sequence

import torch
from torch import nn

from ..core.network import NoetherNetwork
from ..core.tailor import TailorConfig
from ..core.train import History
from ..systems.data import TrajectoryData

if TYPE_CHECKING:  # pragma: no cover
    from .physics import PhysicsConfig

__all__ = ["TailoredRun", "build_tailored"]


@dataclass
class TailoredRun:
    """What :func:`build_tailored` returns.

    Attributes:
        net: the tailored network (its model is a copy; ``vanilla`` is untouched).
        inner_lr: ``λ_in`` chosen on training data (0.0: no rate helped; the control: 0.0).
        grid: training score for each ``λ_in`` tried.
        meta_trained: whether meta-training was kept.
        train_score: the selection score of ``net`` (rollout RMSE on the training trajectories, or on ``val`` when given).
        history: the meta-training history (``None`` when it did not run).
    """

    net: NoetherNetwork
    inner_lr: float
    grid: Dict[float, float] = field(default_factory=dict)
    meta_trained: bool = False
    train_score: float = float("nan")
    history: Optional[History] = None


def build_tailored(
    vanilla: nn.Module,
    embedding: nn.Module,
    train: TrajectoryData,
    cfg: "PhysicsConfig",
    *,
    tailor: bool = True,
    learn: bool = False,
    meta_steps: Optional[int] = None,
    grid: Optional[Sequence[float]] = None,
    progress: bool = True,
    desc: str = "meta-train",
    checkpoint=None,
    val: Optional[TrajectoryData] = None,
) -> TailoredRun:
    """Choose ``λ_in``, meta-train, keep it only if it helps, all on ``train``.

    Args:
        vanilla: the pretrained vector field (copied, never changed).
        embedding: the Noether embedding (meta-learned when it has parameters).
        train: training trajectories; selection uses their observed (noisy) states.
        cfg: the run's :class:`~noether_lite.experiments.physics.PhysicsConfig`.
        tailor: ``False`` builds the control (K = 0, the same meta-training loop).
        learn: the embedding is learned: when no ``λ_in`` helps yet, start from the
            smallest rate of the grid rather than giving up.
        meta_steps: meta-training steps (default ``cfg.meta_steps``; 0 = choose ``λ_in`` only).
        grid: the ``λ_in`` grid (default ``cfg.lr_grid``).
        checkpoint: file for the meta-training stage (resumed when it exists).
        val: held-out training trajectories. When given, they (not ``train``) choose
            ``λ_in``, the meta-training step to keep (early stopping with ``cfg.patience``)
            and whether to keep meta-training at all; ``train`` is then only fitted.
    """
    from .physics import meta_train, select_inner_lr, train_rollout_rmse

    meta_steps = cfg.meta_steps if meta_steps is None else meta_steps
    grid = tuple(cfg.lr_grid if grid is None else grid)
    dev = train.x.device
    score_on = train if val is None else val

    def network(model: nn.Module, emb: nn.Module, tcfg: TailorConfig) -> NoetherNetwork:
        return NoetherNetwork(model, emb, dt=train.dt, integrator=cfg.integrator, loss_form=cfg.loss_form,
                              tailor=tcfg)

    torch.manual_seed(cfg.seed)
    scores: Dict[float, float] = {}
    if tailor and cfg.inner_steps > 0:
        probe = network(copy.deepcopy(vanilla), embedding.to(dev),
                        TailorConfig(steps=cfg.inner_steps, inner_lr=1e-5, mode=cfg.tailor_mode))
        lr, scores = select_inner_lr(probe, score_on, grid=grid)
        if learn:
            lr = lr or min(grid)
        net = network(probe.model, probe.embedding,
                      TailorConfig(steps=cfg.inner_steps, inner_lr=lr, learn_inner_lr=cfg.learn_inner_lr and lr > 0,
                                   mode=cfg.tailor_mode))
        trainable = lr > 0
    else:
        lr = 0.0
        net = network(copy.deepcopy(vanilla), embedding.to(dev), TailorConfig(steps=0, mode=cfg.tailor_mode))
        trainable = True
    run = TailoredRun(net=net, inner_lr=float(lr), grid=scores)
    if trainable and meta_steps > 0:
        before = copy.deepcopy(net)
        run.history = meta_train(net, train, steps=meta_steps, lr=cfg.meta_lr, embedding_lr=cfg.embedding_lr,
                                 batch_size=cfg.meta_batch, seed=cfg.seed, progress=progress, desc=desc,
                                 checkpoint=checkpoint, val=val, patience=cfg.patience,
                                 validate_every=max(1, meta_steps // cfg.validations))
        after_score, before_score = train_rollout_rmse(net, score_on), train_rollout_rmse(before, score_on)
        run.meta_trained = after_score <= before_score
        if not run.meta_trained:
            run.net = before
        run.train_score = after_score if run.meta_trained else before_score
    else:
        run.train_score = train_rollout_rmse(net, score_on)
    return run
