"""The Noether video learner: an SVG predictor tailored with CNGrad on the Noether loss of
its own rollout (the same :class:`~noether_lite.core.learner.TailoredLearner` as the state
learner, with the same :class:`~noether_lite.core.tailor.TailorConfig` and ``λ_in``).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from ..core.learner import TailoredLearner
from ..core.tailor import TailorConfig, TailorResult, tailor_cn
from .embedding import ConvEmbedding, video_noether_loss
from .svg import CN, SVG, SVGConfig, _up

__all__ = ["NoetherVideo", "VIDEO_TAILOR"]

#: The paper's video tailoring: one CNGrad step, ``λ_in`` meta-learned from 1e-2.
VIDEO_TAILOR = TailorConfig(steps=1, inner_lr=1e-2, learn_inner_lr=True, mode="cn")


class NoetherVideo(TailoredLearner):
    """An SVG predictor, a Noether embedding ``g_φ`` and a (learnable) inner learning rate.

    Args:
        cfg: model sizes.
        tailor: how to tailor (``mode="cn"``: CNGrad); default :data:`VIDEO_TAILOR`. Its
            ``steps``, ``first_order`` and ``guard`` are the defaults of :meth:`meta_loss`
            and :meth:`predict`; ``inner_lr`` is ``λ_in`` (its start when learned).
        theta_second_order: ``True`` (default): the exact meta-gradient. The inner gradient is
            taken with respect to the CN parameters only (never the ~44 M weights), and the outer
            gradient reaches ``θ`` also through the tailored CN parameters. ``False``: the inner
            step treats ``θ`` as constants (``g_φ`` and ``λ_in`` keep exact meta-gradients, ``θ``
            gets only its direct gradient): a cheaper step (``ci/bench_video_cpu.py`` measures
            by how much), but a biased meta-gradient for ``θ``, which can leave the meta-trained
            model worse than the baseline.
    """

    def __init__(self, cfg: SVGConfig, *, tailor: TailorConfig = VIDEO_TAILOR,
                 theta_second_order: bool = True) -> None:
        if tailor.mode != "cn":
            raise ValueError("the video learner tailors with CNGrad: pass a TailorConfig with mode='cn'")
        super().__init__(tailor)
        self.cfg = cfg
        self.theta_second_order = theta_second_order
        self.svg = SVG(cfg)
        self.g = ConvEmbedding(cfg.channels, cfg.image_size, cfg.emb_width, cfg.emb_dim)

    def set_channels_last(self, on: bool = True) -> "NoetherVideo":
        """Run the convolutions in channels-last memory format (helps tensor cores on CUDA)."""
        fmt = torch.channels_last if on else torch.contiguous_format
        for m in (self.svg.encoder, self.svg.decoder, self.g):
            m.to(memory_format=fmt)
            m.channels_last = on
        return self

    def frozen_weights(self, ref: Tensor) -> Dict[str, Tensor]:
        """The SVG weights as constants for the inner step: detached and, under autocast,
        cast once to the autocast dtype (autocast would otherwise cast each weight again at
        every one of the rollout's calls and keep every copy for the backward pass)."""
        dev = ref.device.type
        dt = torch.get_autocast_dtype(dev) if torch.is_autocast_enabled(dev) else None
        return {k: (v.detach().to(dt) if dt is not None and v.is_floating_point() else v.detach())
                for k, v in self.svg.named_parameters()}

    def inner_loss(self, ctx: Tensor, n_future: int, cn: CN, *, actions=None, eps=None,
                   weights: Optional[Dict[str, Tensor]] = None) -> Tensor:
        """Label-free: the Noether loss of the model's own rollout (with the last two
        conditioning frames in front), per example ``(B,)``.

        With ``weights`` (from :meth:`frozen_weights`), or with ``theta_second_order=False``,
        the rollout runs on constant SVG weights: the meta-gradient still reaches ``g_φ`` and
        ``λ_in`` exactly, but ``θ`` gets only its direct (first-order) gradient, which skips
        most of the double-backward work."""
        if weights is None and not self.theta_second_order:
            weights = self.frozen_weights(ctx)
        if weights is None:
            pred = self.svg.rollout(ctx, n_future, cn, actions=actions, eps=eps)
        else:
            pred = torch.func.functional_call(self.svg, weights, (ctx, n_future, cn), {"actions": actions, "eps": eps})
        return video_noether_loss(self.g, torch.cat([ctx[:, -2:].to(pred.dtype), pred], 1))

    def tailor(self, ctx: Tensor, n_future: int, *, steps: Optional[int] = None, actions=None, eps=None,
               first_order: Optional[bool] = None, guard: Optional[bool] = None) -> TailorResult:
        """CNGrad: ``steps`` inner steps on the batch-summed Noether loss; returns per-example CN.

        The loss at the tailored parameters is evaluated without a graph when the guard needs
        it (nothing differentiates it) and not at all without the guard (``loss_after`` is
        then NaN)."""
        steps = self.tailoring.steps if steps is None else steps
        first_order = self.tailoring.first_order if first_order is None else first_order
        guard = self.tailoring.guard if guard is None else guard
        B = ctx.shape[0]
        cn0 = self.svg.init_cn(B, device=ctx.device, dtype=_up(ctx).dtype)
        lr = self.inner_lr()
        if first_order and isinstance(lr, Tensor):
            lr = lr.detach()
        # constant weights (cast once per call) unless the outer gradient must reach θ through the
        # step: first-order steps (prediction) never need θ's graph
        w = self.frozen_weights(ctx) if (first_order or not self.theta_second_order) else None
        return tailor_cn(lambda cn: self.inner_loss(ctx, n_future, cn, actions=actions, eps=eps, weights=w), cn0,
                         steps=steps, inner_lr=lr, first_order=first_order, guard=guard,
                         final="value" if guard else "skip")

    def meta_loss(self, clip: Tensor, *, steps: Optional[int] = None, actions=None, noise=None,
                  first_order: Optional[bool] = None, guard: Optional[bool] = None,
                  n_future_inner: Optional[int] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Outer loss of the tailored model: teacher-forced task loss with the CN
        parameters tailored on the clip's conditioning frames.

        Args:
            clip: ``(B, T, C, H, W)``.
            steps: inner steps (0 = the plain SVG loss, the baseline).
            noise: ``(eps_inner (F, B, z), eps_task (T-1, B, z))`` or ``None`` (drawn here).

        Returns:
            ``(scalar loss, info)`` where info holds 0-d/1-d tensors (no host sync):
            ``task``, ``inner_before``, ``inner_after``, ``reverted`` (count).
        """
        cfg = self.cfg
        steps = self.tailoring.steps if steps is None else steps
        first_order = self.tailoring.first_order if first_order is None else first_order
        guard = self.tailoring.guard if guard is None else guard
        B, T = clip.shape[:2]
        P = cfg.n_past
        nf = n_future_inner if n_future_inner is not None else T - P
        eps_in, eps_task = noise if noise is not None else (None, None)
        if cfg.stochastic and eps_in is None:
            eps_in = torch.randn(nf, B, cfg.z_dim, device=clip.device)
        info: Dict[str, Tensor] = {}
        if steps > 0:
            res = self.tailor(clip[:, :P], nf, steps=steps, actions=actions, eps=eps_in, first_order=first_order,
                              guard=guard)
            cn = res.params
            info.update(inner_before=res.loss_before.detach().mean(), reverted=res.n_reverted)
            if guard:
                info["inner_after"] = res.loss_after.detach().mean()
        else:
            cn = None
        loss, mse = self.svg.task_loss(clip, cn, actions=actions, eps=eps_task)
        info["task"] = mse.detach().sum(1).mean()
        return loss.mean(), info

    def predict(self, ctx: Tensor, n_future: int, *, steps: Optional[int] = None, actions=None, eps=None,
                guard: Optional[bool] = None) -> Tuple[Tensor, Optional[TailorResult]]:
        """Predict ``n_future`` frames, first tailoring the CN parameters for ``steps``
        first-order inner steps (default ``tailoring.steps``; 0 = plain SVG).

        Returns:
            ``(frames (B, F, C, H, W), result)``; ``result`` is ``None`` when ``steps == 0``.
        """
        steps = self.tailoring.steps if steps is None else steps
        res = None
        cn = None
        if steps > 0:
            res = self.tailor(ctx, n_future, steps=steps, actions=actions, eps=eps, first_order=True, guard=guard)
            cn = {k: v.detach() for k, v in res.params.items()}
        with torch.no_grad():
            return self.svg.rollout(ctx, n_future, cn, actions=actions, eps=eps), res
