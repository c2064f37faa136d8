"""Video training (baseline and CNGrad meta-training) and evaluation.

Training runs on the one loop, :func:`noether_lite.core.train.fit` (Adam, atomic
checkpoints, exact resume, time budget). The step is :meth:`NoetherVideo.meta_loss`:
``steps=0`` is the SVG baseline, ``steps>=1`` the Noether meta-step (tailor the CN
parameters on the Noether loss of the model's own rollout, then take the
teacher-forced task loss of the tailored model). Both run the same model on the
same batch, which is what the benchmark compares (:func:`train_step`). The step does
no host synchronisation: losses and guard counts stay on the device and are read
every ``log_every`` steps.

On CUDA the step runs under bf16 autocast (``amp="auto"``); ``amp="none"`` is
the fp32 path the tests compare against.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from ..core import distributed
from ..core.checkpoints import auto_device
from ..core.train import History, fit
from .metrics import horizon_metrics
from .render import VideoData
from .learner import NoetherVideo

__all__ = [
    "VideoTrainConfig", "autocast", "train_step", "train_video", "trained_modules", "evaluate",
    "check_clips", "sample_batch", "data_identity",
]


@dataclass(frozen=True)
class VideoTrainConfig:
    """Training settings.

    Attributes:
        steps: optimizer steps.
        batch_size: clips per step.
        lr: Adam learning rate (paper 1e-4).
        inner_steps: tailoring steps in training (paper 1; 0 = baseline SVG).
        train_future: predicted frames per training window (``None``: the whole clip);
            windows start at a random frame of the clip.
        amp: ``"auto"`` (bf16 on CUDA, fp32 on CPU), ``"bf16"`` or ``"none"``.
        channels_last: channels-last memory format for the convolutions (CUDA).
        guard: in meta-training, revert the examples whose Noether loss the inner step did not
            lower (costs one rollout without a graph per step; the paper trained without it).
        log_every: read losses back to the host every this many steps.
        ckpt_every: write a checkpoint every this many steps (and at the end).
        seed: seeds batch sampling and noise.
    """

    steps: int = 1000
    batch_size: int = 8
    lr: float = 1e-4
    inner_steps: int = 1
    train_future: Optional[int] = None
    amp: str = "auto"
    channels_last: bool = False
    guard: bool = True
    log_every: int = 50
    ckpt_every: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        if self.amp not in ("auto", "bf16", "none"):
            raise ValueError(f"amp must be 'auto', 'bf16' or 'none', got {self.amp!r}")
        for name, low in (("steps", 0), ("batch_size", 1), ("inner_steps", 0), ("log_every", 1), ("ckpt_every", 0),
                          ("seed", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        if self.train_future is not None and (isinstance(self.train_future, bool) or not isinstance(self.train_future, int)
                                              or self.train_future < 1):
            raise ValueError(f"train_future must be an integer >= 1 or None, got {self.train_future!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")


def autocast(device: torch.device, amp: str):
    """The autocast context for ``amp`` (bf16 on CUDA for ``"auto"``)."""
    use = amp == "bf16" or (amp == "auto" and device.type == "cuda")
    if not use:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def check_clips(data: VideoData, *, image_size: int, min_frames: int, action_dim: int = 0) -> None:
    """Reject clips that do not fit the model before any training.

    Raises:
        ValueError: wrong frame size, too few frames, or missing/misshaped actions.
    """
    N, T, H, W, C = data.frames.shape
    if (H, W) != (image_size, image_size) or C != 3:
        raise ValueError(f"frames are {H}×{W}×{C} but the model expects {image_size}×{image_size}×3")
    if T < min_frames:
        raise ValueError(f"clips have {T} frames but training needs at least {min_frames}")
    if N == 0:
        raise ValueError("the dataset has no clips")
    if action_dim and (data.actions is None or data.actions.shape[-1] != action_dim):
        raise ValueError(f"the model expects actions of size {action_dim}; the data has "
                         f"{None if data.actions is None else tuple(data.actions.shape)}")


def check_float_clips(clip: Tensor) -> None:
    """Float clips must be finite and in [0, 1] (``(B, T, C, H, W)``)."""
    if clip.ndim != 5:
        raise ValueError(f"clips must have shape (B, T, C, H, W); got {tuple(clip.shape)}")
    if not torch.isfinite(clip).all() or clip.min() < 0 or clip.max() > 1:
        raise ValueError("clip values must be finite and in [0, 1]")


def sample_batch(frames_u8: Tensor, actions: Optional[Tensor], *, batch_size: int, length: int,
                 gen: torch.Generator, device: torch.device, channels_last: bool = False,
                 part: slice = slice(None), dtype: torch.dtype = torch.float32):
    """Random clips and random windows of ``length`` frames from ``uint8 (N, T, H, W, 3)``.

    Args:
        part: which of the ``batch_size`` drawn clips to return (a data-parallel rank's slice,
            :meth:`~noether_lite.core.distributed.World.part`); the draw is the whole batch's,
            so the generator advances alike on every rank.
        dtype: the clips' floating dtype.

    Returns:
        ``(clip (b, length, 3, H, W) in [0, 1], actions (b, length, A) or None)``, ``b`` the
        size of ``part``.
    """
    N, T = frames_u8.shape[:2]
    idx = torch.randint(0, N, (batch_size,), generator=gen)[part]  # (b,)
    start = torch.randint(0, T - length + 1, (batch_size,), generator=gen)[part]
    t = start[:, None] + torch.arange(length)[None, :]  # (B, length)
    idx_d, t_d = idx.to(frames_u8.device), t.to(frames_u8.device)
    clip = frames_u8[idx_d[:, None], t_d].to(device, non_blocking=True)  # (B, L, H, W, 3)
    clip = clip.permute(0, 1, 4, 2, 3).to(dtype).div_(255.0)  # (b, L, 3, H, W)
    acts = None
    if actions is not None:
        acts = actions[idx_d[:, None], t_d].to(device, non_blocking=True)
    return clip, acts


def train_step(learner: NoetherVideo, opt: torch.optim.Optimizer, clip: Tensor, *, steps: int,
               actions: Optional[Tensor] = None, noise=None, amp: str = "auto",
               guard: bool = True) -> Tuple[Tensor, Dict[str, Tensor]]:
    """One optimizer step outside :func:`~noether_lite.core.train.fit` (the benchmark times it).
    ``steps=0``: SVG baseline; ``steps>=1``: Noether meta-step.

    Returns device tensors (no host sync): ``(loss, info)``.
    """
    opt.zero_grad(set_to_none=True)
    with autocast(clip.device, amp):
        loss, info = learner.meta_loss(clip, steps=steps, actions=actions, noise=noise, guard=guard)
    # Differentiate only towards the optimised weights: the starting CN parameters are leaves
    # that require grad too, and the double backward towards them (and through every rollout
    # activation that only they depend on) would be wasted work.
    params = [p for group in opt.param_groups for p in group["params"] if p.requires_grad]
    loss.backward(inputs=params)
    opt.step()
    return loss.detach(), info


def trained_modules(learner: NoetherVideo, inner_steps: int) -> Dict[str, nn.Module]:
    """What a stage trains: the SVG weights, plus ``g_φ`` and a learned ``λ_in`` when it tailors."""
    mods: Dict[str, nn.Module] = {"svg": learner.svg}
    if inner_steps > 0:
        mods["g"] = learner.g
        if learner.inner_lr_module is not None:
            mods["inner_lr"] = learner.inner_lr_module
    return mods


def train_video(learner: NoetherVideo, data: VideoData, cfg: VideoTrainConfig, *, device="auto",
                ckpt_path=None, time_budget: Optional[float] = None, progress: bool = True,
                max_steps: Optional[int] = None, opt_state: Optional[Dict[str, Dict[str, Any]]] = None,
                desc: str = "video") -> History:
    """Train ``learner`` on the clips of ``data`` (baseline when ``cfg.inner_steps == 0``)
    with :func:`~noether_lite.core.train.fit`.

    Each step samples a batch of windows and the prior noise from its own generators,
    then takes :meth:`NoetherVideo.meta_loss` under autocast. Under ``torchrun``
    (:mod:`~noether_lite.core.distributed`) each rank draws the same global batch of
    ``cfg.batch_size`` clips and noise and trains on its slice; the gradients are averaged.
    Resumes exactly from ``ckpt_path`` when it exists. Stops after ``cfg.steps`` steps, or
    ``max_steps``, or when ``time_budget`` seconds have passed (a checkpoint is written then too).

    Args:
        opt_state: Adam state of an earlier stage (its ``History.opt_state``), to continue a
            pretrained model without restarting the optimizer.

    Returns:
        :class:`~noether_lite.core.train.History`; ``extras["task"]`` is the teacher-forced
        task loss, ``reverted`` counts examples the guard reverted.
    """
    dev = auto_device(device)
    mcfg = learner.cfg
    length = mcfg.n_past + (cfg.train_future if cfg.train_future is not None else data.frames.shape[1] - mcfg.n_past)
    check_clips(data, image_size=mcfg.image_size, min_frames=length, action_dim=mcfg.action_dim)
    part = distributed.world().part(cfg.batch_size)  # this rank's slice (all of it in one process)
    learner.to(dev)
    dtype = next(learner.svg.parameters()).dtype
    if cfg.channels_last:
        learner.set_channels_last(True)
    noise_gen = torch.Generator(device=dev).manual_seed(cfg.seed + 1)
    frames = data.frames.to(dev)
    actions = data.actions.to(dev) if data.actions is not None else None

    def loss_fn(gen: torch.Generator):
        clip, acts = sample_batch(frames, actions, batch_size=cfg.batch_size, length=length, gen=gen,
                                  device=dev, part=part, dtype=dtype)
        noise = None
        if mcfg.stochastic:  # drawn for the whole global batch, so every rank's generator stays alike
            B, nf, z = cfg.batch_size, length - mcfg.n_past, mcfg.z_dim
            noise = (torch.randn(nf, B, z, device=dev, generator=noise_gen, dtype=dtype)[:, part],
                     torch.randn(length - 1, B, z, device=dev, generator=noise_gen, dtype=dtype)[:, part])
        with autocast(dev, cfg.amp):
            loss, info = learner.meta_loss(clip, steps=cfg.inner_steps, actions=acts, noise=noise, guard=cfg.guard)
        return loss, info

    learner.train()
    if ckpt_path is not None:
        Path(ckpt_path).parent.mkdir(parents=True, exist_ok=True)
    return fit(modules=trained_modules(learner, cfg.inner_steps), loss_fn=loss_fn, steps=cfg.steps, lr=cfg.lr,
               seed=cfg.seed, checkpoint=ckpt_path, checkpoint_every=cfg.ckpt_every or cfg.steps + 1,
               config={"stage": desc, "train": asdict(cfg), "model": asdict(mcfg), "data": data_identity(data) if ckpt_path is not None else None},
               log_every=cfg.log_every, progress=progress, desc=desc, time_budget=time_budget, stop_at=max_steps,
               opt_state=opt_state, generators={"noise": noise_gen})


def data_identity(data: VideoData) -> Dict[str, Any]:
    """What identifies a dataset in a checkpoint's config: its shape and a digest of its frames."""
    import hashlib

    digest = hashlib.sha256(data.frames.cpu().contiguous().numpy().tobytes()).hexdigest()[:16]
    return {"shape": list(data.frames.shape), "frames_sha256": digest}


def evaluate(learner: NoetherVideo, data: VideoData, *, n_future: int, steps: int = 0, device="auto",
             batch_size: int = 16, seed: int = 0, amp: str = "none", keep: int = 0) -> Dict[str, Any]:
    """Metrics per horizon on every clip of ``data`` (conditioning on the first ``n_past`` frames).

    Args:
        steps: test-time tailoring steps ``K`` (0: no tailoring).
        seed: seeds the prior noise; the same seed gives every model the same noise.
        keep: also return the first ``keep`` clips' predictions (CPU float).

    Returns:
        ``{"mse"|"psnr"|"ssim": {"mean": [F], "se": [F]}, "reverted": int, "inner_before", "inner_after", "pred"}``.
    """
    dev = auto_device(device)
    cfg = learner.cfg
    P = cfg.n_past
    check_clips(data, image_size=cfg.image_size, min_frames=P + n_future, action_dim=cfg.action_dim)
    learner.to(dev).eval()
    N = len(data)
    gen = torch.Generator().manual_seed(seed)
    eps_all = torch.randn(n_future, N, cfg.z_dim, generator=gen) if cfg.stochastic else None
    preds, truths, rev, lb, la = [], [], 0, [], []
    for a in range(0, N, batch_size):
        idx = torch.arange(a, min(N, a + batch_size))
        clip = data.clips(idx, device=dev)[:, : P + n_future]  # (b, P+F, 3, H, W)
        acts = data.actions[idx].to(dev) if data.actions is not None else None
        eps = eps_all[:, idx].to(dev) if eps_all is not None else None
        with autocast(dev, amp):
            pred, res = learner.predict(clip[:, :P], n_future, steps=steps, actions=acts, eps=eps)
        preds.append(pred.float().cpu())
        truths.append(clip[:, P:].cpu())
        if res is not None:
            rev += int(res.n_reverted)
            lb.append(res.loss_before.detach().cpu())
            la.append(res.loss_after.detach().cpu())
    pred, truth = torch.cat(preds), torch.cat(truths)
    out: Dict[str, Any] = horizon_metrics(pred, truth)
    out["reverted"] = rev
    if lb:
        out["inner_before"] = float(torch.cat(lb).mean())
        out["inner_after"] = float(torch.cat(la).mean())
    if keep:
        out["pred"] = pred[:keep]
        out["truth"] = truth[:keep]
    return out
