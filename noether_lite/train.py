"""A small, resumable training loop shared by every experiment.

``fit`` owns what a long run needs and nothing else: Adam, a tqdm bar, a loss
history, seeding, atomic checkpoints (modules, optimiser, RNG states, step,
history) and exact resume. The experiment supplies ``loss_fn(generator)``,
which samples its own batch from the generator it is given, so resuming
restores the batch order too and an interrupted run continues bit for bit.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from .checkpoints import auto_device, load_checkpoint, save_checkpoint  # noqa: F401 (part of this module's API)

__all__ = ["History", "fit", "seed_everything", "auto_device", "save_checkpoint", "load_checkpoint"]

LossFn = Callable[[torch.Generator], Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a fresh generator seeded with ``seed``."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@dataclass
class History:
    """What a run recorded.

    Attributes:
        step: logged step numbers.
        loss: training loss at those steps.
        reverted: tailoring-guard reverts summed over each logging window.
        skipped: steps skipped because the loss or a gradient was non-finite.
    """

    step: List[int] = field(default_factory=list)
    loss: List[float] = field(default_factory=list)
    reverted: List[int] = field(default_factory=list)
    skipped: int = 0


def _normalise_config(config: Optional[Mapping[str, Any]]) -> str:
    return json.dumps(config or {}, sort_keys=True, default=str)


def fit(
    *,
    modules: Mapping[str, nn.Module],
    loss_fn: LossFn,
    steps: int,
    lr: Union[float, Mapping[str, float]] = 1e-3,
    seed: int = 0,
    checkpoint: Optional[Union[str, Path]] = None,
    checkpoint_every: int = 100,
    config: Optional[Mapping[str, Any]] = None,
    log_every: int = 10,
    grad_clip: Optional[float] = None,
    progress: bool = True,
    desc: str = "train",
    on_step: Optional[Callable[[int], None]] = None,
) -> History:
    """Minimise ``loss_fn`` with Adam over the parameters of ``modules``.

    Args:
        modules: named modules whose parameters are trained (and checkpointed).
        loss_fn: ``loss_fn(generator) -> loss`` or ``(loss, extras)``; it must
            draw its batch from ``generator``. ``extras["reverted"]`` (a 0-d
            tensor) is summed into the history.
        steps: total optimisation steps (a resumed run continues up to it).
        lr: one learning rate, or one per module name.
        seed: seeds torch and the batch generator.
        checkpoint: file to save to every ``checkpoint_every`` steps, at the end
            and on interruption; an existing one is resumed from.
        config: what defines the run; resuming a checkpoint written under a
            different config raises ``ValueError``.
        log_every: steps between history entries (the only host syncs).
        grad_clip: optional max gradient norm.
        on_step: called with the completed step number (hooks, tests).

    Returns:
        :class:`History`.

    Raises:
        ValueError: ``steps < 0``, a missing checkpoint folder, or a checkpoint
            from another configuration.
        KeyboardInterrupt: re-raised after the checkpoint is written.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if checkpoint is not None and not Path(checkpoint).parent.exists():
        raise ValueError(f"checkpoint folder {str(Path(checkpoint).parent)!r} does not exist")
    gen = seed_everything(seed)
    groups = []
    for name, mod in modules.items():
        ps = [p for p in mod.parameters() if p.requires_grad]
        if ps:
            groups.append({"params": ps, "lr": lr[name] if isinstance(lr, Mapping) else lr, "name": name})
    if not groups:
        raise ValueError("no trainable parameters in the given modules")
    opt = torch.optim.Adam(groups)
    hist = History()
    start = 0
    cfg = _normalise_config(config)

    if checkpoint is not None and Path(checkpoint).exists():
        ck = load_checkpoint(checkpoint)
        if ck.get("config") != cfg:
            raise ValueError(
                f"checkpoint {str(checkpoint)!r} was written by another configuration;\n"
                f"  saved:   {ck.get('config')}\n  current: {cfg}\n"
                f"delete it or pass a different checkpoint path"
            )
        if set(ck["modules"]) != set(modules):
            raise ValueError(f"checkpoint holds modules {sorted(ck['modules'])}, expected {sorted(modules)}")
        for name, mod in modules.items():
            mod.load_state_dict(ck["modules"][name])
        opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["generator"])
        torch.set_rng_state(ck["torch_rng"])
        hist = History(**ck["history"])
        start = ck["step"]

    def payload(step: int, gen_state: Tensor, rng_state: Tensor) -> Dict[str, Any]:
        return {
            "config": cfg, "step": step, "modules": {n: m.state_dict() for n, m in modules.items()},
            "optimizer": opt.state_dict(), "generator": gen_state, "torch_rng": rng_state,
            "history": asdict(hist),
        }

    params = [p for g in groups for p in g["params"]]
    window_loss: List[Tensor] = []
    window_rev: List[Tensor] = []
    bar = None
    if progress and steps > start:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start, desc=desc, leave=False)
    completed = start
    bad_steps = torch.zeros((), dtype=torch.int64)
    gen_state, rng_state = gen.get_state(), torch.get_rng_state()
    try:
        for step in range(start, steps):
            gen_state, rng_state = gen.get_state(), torch.get_rng_state()  # state before this step
            out = loss_fn(gen)
            loss, extras = (out if isinstance(out, tuple) else (out, {}))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            finite = torch.isfinite(loss) & torch.stack([torch.isfinite(p.grad).all() for p in params if p.grad is not None]).all()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            # Skip non-finite steps without a host sync: zero the grads of a bad step.
            for p in params:
                if p.grad is not None:
                    p.grad = torch.where(finite, p.grad, torch.zeros_like(p.grad))
            bad_steps = bad_steps + (~finite).to(torch.int64)
            opt.step()
            completed = step + 1
            window_loss.append(loss.detach())
            if "reverted" in extras:
                window_rev.append(extras["reverted"].detach())
            if completed % log_every == 0 or completed == steps:
                hist.step.append(completed)
                hist.loss.append(float(torch.stack(window_loss).mean()))
                hist.reverted.append(int(torch.stack(window_rev).sum()) if window_rev else 0)
                hist.skipped += int(bad_steps)
                bad_steps = torch.zeros((), dtype=torch.int64)
                window_loss, window_rev = [], []
                if bar is not None:
                    bar.set_postfix(loss=f"{hist.loss[-1]:.3g}")
            if bar is not None:
                bar.update(1)
            if checkpoint is not None and (completed % checkpoint_every == 0 or completed == steps):
                save_checkpoint(checkpoint, payload(completed, gen.get_state(), torch.get_rng_state()))
            if on_step is not None:
                on_step(completed)
    except KeyboardInterrupt:
        if checkpoint is not None:
            # State after the last completed step: if the interrupt came before
            # this step's update, restore the RNG states it started from.
            st_gen = gen.get_state() if completed == step + 1 else gen_state
            st_rng = torch.get_rng_state() if completed == step + 1 else rng_state
            save_checkpoint(checkpoint, payload(completed, st_gen, st_rng))
        raise
    finally:
        if bar is not None:
            bar.close()
    return hist
