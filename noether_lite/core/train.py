"""The one training loop, used by every experiment (physics, symbolic, video).

``fit`` owns what a long run needs and nothing else: Adam (its state can be carried
over from an earlier stage), a tqdm bar, a loss history, seeding, atomic
checkpoints (modules, optimiser, RNG states, step, history) with exact resume, and
a time budget. The experiment supplies ``loss_fn(generator)``, which samples its
own batch from the generator it is given, so resuming restores the batch order
too and an interrupted run continues bit for bit.

Under ``torchrun`` (:mod:`noether_lite.core.distributed`) the same loop trains data-parallel:
``loss_fn`` computes the loss of this rank's slice of the batch, the gradients are averaged over
the ranks, the logged losses are the global batch's, and only rank 0 shows progress and writes
checkpoints (every rank resumes from them).
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import signal
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from . import distributed
from .checkpoints import load_checkpoint, save_checkpoint

__all__ = ["History", "fit", "seed_everything"]

LossFn = Callable[[torch.Generator], Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]]


def _snapshot(opt: torch.optim.Optimizer, params: List[Tensor]) -> List[Tuple[Tensor, Dict[str, Tensor]]]:
    """The weights and Adam moments before a step (copies on their own devices)."""
    out = []
    for p in params:
        st = opt.state.get(p, {})
        out.append((p.detach().clone(), {k: st[k].clone() if k in st else torch.zeros_like(p)
                                         for k in ("exp_avg", "exp_avg_sq")}))
    return out


@torch.no_grad()
def _undo_if_not(ok: Tensor, opt: torch.optim.Optimizer, params: List[Tensor], snap) -> None:
    """Put back the weights and moments of ``snap`` where ``ok`` is false (no host sync)."""
    for p, (p0, st0) in zip(params, snap):
        p.copy_(torch.where(ok, p, p0))
        st = opt.state.get(p, {})
        for k, old in st0.items():
            if k in st:
                st[k].copy_(torch.where(ok, st[k], old))


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
        extras: the other logged ``extras`` of ``loss_fn`` (e.g. ``"task"``), window means.
        steps_done: optimisation steps completed (over all resumed runs).
        seconds: training time (over all resumed runs).
        opt_state: Adam's state per parameter (``"module.param"``), to carry into a later stage.
        val_step, val_loss: the steps at which ``validate`` ran, and what it returned.
        best_step: the step whose weights were kept (the best validation; ``None`` without
            ``validate``).
        stopped_early: training stopped because validation stopped improving.
    """

    step: List[int] = field(default_factory=list)
    loss: List[float] = field(default_factory=list)
    reverted: List[int] = field(default_factory=list)
    skipped: int = 0
    extras: Dict[str, List[float]] = field(default_factory=dict)
    steps_done: int = 0
    seconds: float = 0.0
    opt_state: Optional[Dict[str, Dict[str, Any]]] = field(default=None, repr=False, compare=False)
    val_step: List[int] = field(default_factory=list)
    val_loss: List[float] = field(default_factory=list)
    best_step: Optional[int] = None
    stopped_early: bool = False

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready (everything but the optimiser state)."""
        d = asdict(self)
        d.pop("opt_state")
        return d


def _normalise_config(config: Optional[Mapping[str, Any]]) -> str:
    return json.dumps(config or {}, sort_keys=True, default=str)


def _digest(states: Mapping[str, Mapping[str, Tensor]]) -> str:
    """A digest of weights (``{module name: state_dict}``): what a stage starts from."""
    h = hashlib.sha256()
    for name in sorted(states):
        for key, t in states[name].items():
            h.update(f"{name}.{key}{tuple(t.shape)}{t.dtype}".encode())
            h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def _identity_diff(saved: str, current: str) -> str:
    """The fields in which two run identities (JSON) differ, as ``key: saved -> now`` lines."""
    try:
        a, b = json.loads(saved), json.loads(current)
    except (TypeError, ValueError):
        return f"  saved:   {saved}\n  current: {current}"

    def flat(d, prefix=""):
        out = {}
        for k, v in (d.items() if isinstance(d, dict) else []):
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    fa, fb = flat(a), flat(b)
    keys = sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))
    return "\n".join(f"  {k}: saved {fa.get(k)!r}, now {fb.get(k)!r}" for k in keys)


def _check_fit_args(steps, lr, modules, seed, log_every, checkpoint_every, grad_clip, time_budget, stop_at,
                    checkpoint_seconds, validate=None, validate_every=100, patience=None) -> None:
    def positive_int(name, v, low=1):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")

    def finite(name, v, *, low=0.0, strict=True):
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and (v > low if strict else v >= low)
        if not ok:
            raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {low:g}, got {v!r}")

    positive_int("steps", steps, 0)
    positive_int("log_every", log_every)
    positive_int("checkpoint_every", checkpoint_every)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    for name, v in (lr.items() if isinstance(lr, Mapping) else [("lr", lr)]):
        finite(name if name == "lr" else f"lr[{name!r}]", v)
    if isinstance(lr, Mapping) and set(lr) - set(modules):
        raise ValueError(f"lr names modules {sorted(set(lr) - set(modules))} that are not trained; modules: {sorted(modules)}")
    if grad_clip is not None:
        finite("grad_clip", grad_clip)
    if time_budget is not None:
        finite("time_budget", time_budget, strict=False)
    if checkpoint_seconds is not None:
        finite("checkpoint_seconds", checkpoint_seconds)
    if stop_at is not None:
        positive_int("stop_at", stop_at, 0)
    if validate is not None and not callable(validate):
        raise ValueError(f"validate must be a function returning a number, got {type(validate).__name__}")
    positive_int("validate_every", validate_every)
    if patience is not None:
        positive_int("patience", patience)
        if validate is None:
            raise ValueError("patience needs validate (the score that decides when to stop)")


class _DeferredInterrupt:
    """Hold SIGINT until the end of the current step, so an interrupted run stops at a step
    boundary, checkpoints, and resumes exactly; a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.pending = False
        self._old = None

    def __enter__(self) -> "_DeferredInterrupt":
        if threading.current_thread() is threading.main_thread():
            self._old = signal.getsignal(signal.SIGINT)

            def handler(signum, frame):
                if self.pending:  # the second Ctrl-C: stop now
                    raise KeyboardInterrupt
                self.pending = True

            signal.signal(signal.SIGINT, handler)
        return self

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


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
    time_budget: Optional[float] = None,
    stop_at: Optional[int] = None,
    opt_state: Optional[Mapping[str, Mapping[str, Any]]] = None,
    generators: Optional[Mapping[str, torch.Generator]] = None,
    checkpoint_seconds: Optional[float] = 120.0,
    validate: Optional[Callable[[], float]] = None,
    validate_every: int = 100,
    patience: Optional[int] = None,
) -> History:
    """Minimise ``loss_fn`` with Adam over the parameters of ``modules``.

    Args:
        modules: named modules whose parameters are trained (and checkpointed).
        loss_fn: ``loss_fn(generator) -> loss`` or ``(loss, extras)``; it must
            draw its batch from ``generator``. ``extras["reverted"]`` (a 0-d
            tensor) is summed into the history; other extras are averaged into
            ``History.extras``.
        steps: total optimisation steps (a resumed run continues up to it).
        lr: one learning rate, or one per module name.
        seed: seeds Python, NumPy, torch and the batch generator.
        checkpoint: file to save to every ``checkpoint_every`` steps (and at least every
            ``checkpoint_seconds``), at the end and on interruption; an existing one is
            resumed from. A Ctrl-C is held until the step in progress ends, so the
            resumed run equals an uninterrupted one; a second Ctrl-C stops at once.
        config: what defines the run. The checkpoint records it with the seed and a digest
            of the weights the stage started from; resuming one written by another run
            (another config, seed or starting model) raises ``ValueError`` naming the
            difference.
        log_every: steps between history entries (the only host syncs).
        grad_clip: optional max gradient norm.
        on_step: called with the completed step number (hooks, tests).
        time_budget: stop (with a checkpoint) once this many seconds have passed.
        stop_at: stop after this step (a partial run; resuming continues to ``steps``).
        opt_state: Adam state per ``"module.param"`` name (``History.opt_state`` of an
            earlier stage), to continue without restarting the optimiser.
        generators: more random generators that ``loss_fn`` draws from (e.g. noise on
            the GPU); checkpointed and restored with the batch generator.
        checkpoint_seconds: also checkpoint when this much time has passed since the last one.
        validate: a score to minimise on held-out data (``() -> float``), computed before the
            first step and every ``validate_every`` steps; the weights of the best score are
            restored at the end, so the result is the best model seen, not the last.
        validate_every: steps between validations.
        patience: with ``validate``, stop once this many validations in a row did not improve
            on the best (early stopping); ``None`` trains all ``steps``.

    Data-parallel (a process group joined by :func:`~noether_lite.core.distributed.init_from_env`):
    ``loss_fn`` returns the mean loss of this rank's slice of the batch; the gradients are averaged
    over the ranks before the step (so it equals one process's step on the whole batch), rank 0
    alone writes checkpoints and shows progress, and every rank resumes from its checkpoint.

    A step whose loss or gradient is non-finite is skipped: the weights and Adam's moments
    stay as they were (no host sync), and ``History.skipped`` counts it; a warning is given
    when steps were skipped.

    Returns:
        :class:`History`.

    Raises:
        ValueError: ``steps < 0``, a missing checkpoint folder, or a checkpoint
            from another configuration.
        KeyboardInterrupt: re-raised after the checkpoint is written.
    """
    _check_fit_args(steps, lr, modules, seed, log_every, checkpoint_every, grad_clip, time_budget, stop_at,
                    checkpoint_seconds, validate, validate_every, patience)
    if checkpoint is not None and not Path(checkpoint).parent.exists():
        raise ValueError(f"checkpoint folder {str(Path(checkpoint).parent)!r} does not exist")
    generators = dict(generators or {})
    ranks = distributed.world()
    gen = seed_everything(seed)
    groups = []
    names: Dict[int, str] = {}
    for name, mod in modules.items():
        ps = []
        for pname, p in mod.named_parameters():
            if p.requires_grad:
                ps.append(p)
                names[id(p)] = f"{name}.{pname}"
        if ps:
            groups.append({"params": ps, "lr": lr[name] if isinstance(lr, Mapping) else lr, "name": name})
    if not groups:
        raise ValueError("no trainable parameters in the given modules")
    opt = torch.optim.Adam(groups)
    params = [p for g in groups for p in g["params"]]
    if opt_state:
        for p in params:
            st = opt_state.get(names[id(p)])
            if st is not None:
                opt.state[p] = {k: (v.clone().to(p.device) if torch.is_tensor(v) else v) for k, v in st.items()}
    hist = History()
    start = 0
    best: Optional[Dict[str, Any]] = None  # {"value", "step", "modules", "waited"}: the best validation so far
    cfg = _normalise_config(config)
    start_digest = None
    resumed_window = None
    if checkpoint is not None:  # the run's identity: its config, seed, length and starting weights
        ident = {"config": config or {}, "seed": seed, "steps": steps}
        if validate is not None:  # early stopping changes the run: part of its identity
            ident.update(validate_every=validate_every, patience=patience)
        cfg = _normalise_config(ident)
        start_digest = _digest({n: m.state_dict() for n, m in modules.items()})

    if checkpoint is not None and Path(checkpoint).exists():
        ck = load_checkpoint(checkpoint, map_location=params[0].device)
        if ck.get("config") != cfg:
            raise ValueError(
                f"checkpoint {str(checkpoint)!r} was written by another run; it differs in:\n"
                f"{_identity_diff(ck.get('config'), cfg)}\n"
                f"resuming it would continue a different run: delete it, or pass another checkpoint path"
            )
        if set(ck["modules"]) != set(modules):
            raise ValueError(f"checkpoint holds modules {sorted(ck['modules'])}, expected {sorted(modules)}")
        # the same starting model, or (resuming in the same session) the very weights it holds
        if start_digest not in (ck.get("start"), _digest(ck["modules"])):
            raise ValueError(
                f"checkpoint {str(checkpoint)!r} was written by another run: it started from other weights "
                f"(another seed or an earlier stage that changed); resuming it would continue a different run: "
                f"delete it, or pass another checkpoint path")
        for name, mod in modules.items():
            mod.load_state_dict(ck["modules"][name])
        opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["generator"])
        torch.set_rng_state(ck["torch_rng"])
        for name, g in generators.items():
            g.set_state(ck["generators"][name].to(g.get_state().device))
        hist = History(**ck["history"])
        start = ck["step"]
        best = ck.get("best")
        resumed_window = ck.get("window")
    distributed.barrier()  # every rank has read the checkpoint before rank 0 may replace it

    def payload(step: int, gen_state: Tensor, rng_state: Tensor, extra_states: Dict[str, Tensor]) -> Dict[str, Any]:
        return {
            "config": cfg, "step": step, "modules": {n: m.state_dict() for n, m in modules.items()},
            "optimizer": opt.state_dict(), "generator": gen_state, "torch_rng": rng_state,
            "generators": extra_states, "history": hist.to_dict(), "start": start_digest, "best": best,
            # the steps since the last history entry: without them a resumed run's next entry would
            # average fewer steps than an uninterrupted run's (a Ctrl-C need not land on log_every)
            "window": {"loss": list(window_loss), "reverted": list(window_rev),
                       "extra": {k: list(v) for k, v in window_extra.items()}, "bad_steps": bad_steps},
        }

    def states() -> Tuple[Tensor, Tensor, Dict[str, Tensor]]:
        return gen.get_state(), torch.get_rng_state(), {n: g.get_state() for n, g in generators.items()}

    def check_validation() -> bool:
        """Validate now; keep the weights if best; True when patience has run out."""
        nonlocal best
        value = distributed.broadcast_float(float(validate()), params[0].device)
        hist.val_step.append(completed)
        hist.val_loss.append(value)
        if best is None or (math.isfinite(value) and not value >= best["value"]):
            best = {"value": value, "step": completed, "waited": 0,
                    "modules": {n: {k: v.detach().clone() for k, v in m.state_dict().items()}
                                for n, m in modules.items()}}
        else:
            best["waited"] += 1
        hist.best_step = best["step"]
        return patience is not None and best["waited"] >= patience

    end = steps if stop_at is None else max(start, min(steps, stop_at))
    if hist.stopped_early:  # a resumed run that had already stopped early: nothing left to do
        end = start
    window_loss: List[Tensor] = []
    window_rev: List[Tensor] = []
    window_extra: Dict[str, List[Tensor]] = {}
    bad_steps = torch.zeros((), dtype=torch.int64)
    if checkpoint is not None and resumed_window:
        window_loss, window_rev = list(resumed_window["loss"]), list(resumed_window["reverted"])
        window_extra = {k: list(v) for k, v in resumed_window["extra"].items()}
        bad_steps = resumed_window["bad_steps"]
    bar = None
    if progress and end > start and ranks.main:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start, desc=desc, leave=False)
    completed = start
    before = states()
    t0 = time.perf_counter()
    seconds0 = hist.seconds
    if validate is not None and best is None:
        check_validation()  # the starting weights are a candidate too
    saved_at = [-1]  # the step of the last checkpoint written
    last_save = [time.perf_counter()]

    def flush() -> None:
        nonlocal bad_steps, window_loss, window_rev, window_extra
        if not window_loss:
            return
        hist.step.append(completed)
        hist.loss.append(float(torch.stack(window_loss).mean()))
        hist.reverted.append(int(torch.stack(window_rev).sum()) if window_rev else 0)
        for k, vs in window_extra.items():
            hist.extras.setdefault(k, []).append(float(torch.stack(vs).mean()))
        hist.skipped += int(bad_steps)
        bad_steps = torch.zeros((), dtype=torch.int64)
        saved_at[0] = -1  # the history grew since the last save
        window_loss, window_rev, window_extra = [], [], {}
        if bar is not None:
            bar.set_postfix(loss=f"{hist.loss[-1]:.3g}")

    def save(st) -> None:
        if saved_at[0] == completed:
            return
        saved_at[0] = completed
        hist.steps_done = completed
        hist.seconds = seconds0 + time.perf_counter() - t0
        if checkpoint is not None:
            if ranks.main:
                save_checkpoint(checkpoint, payload(completed, *st))
            last_save[0] = time.perf_counter()

    interrupt = _DeferredInterrupt()
    step = start
    try:
        interrupt.__enter__()
        for step in range(start, end):
            over = time_budget is not None and time.perf_counter() - t0 > time_budget
            if distributed.agree([over], params[0].device)[0]:  # every rank stops at the same step
                break
            before = states()  # the RNG states this step starts from
            out = loss_fn(gen)
            loss, extras = (out if isinstance(out, tuple) else (out, {}))
            opt.zero_grad(set_to_none=True)
            loss.backward(inputs=params)
            distributed.average_gradients(params)  # data-parallel: the global batch's gradient
            loss, extras = distributed.mean_metrics(loss, extras)  # and its loss, so all ranks skip alike
            finite = torch.isfinite(loss) & torch.stack([torch.isfinite(p.grad).all() for p in params if p.grad is not None]).all()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            # Skip non-finite steps without a host sync: zero the grads of a bad step.
            for p in params:
                if p.grad is not None:
                    p.grad = torch.where(finite, p.grad, torch.zeros_like(p.grad))
            bad_steps = bad_steps + (~finite).to(torch.int64)
            snap = _snapshot(opt, params)
            opt.step()
            _undo_if_not(finite, opt, params, snap)  # a skipped step leaves weights and moments as they were
            completed = step + 1
            window_loss.append(loss.detach())
            for k, v in extras.items():
                if k == "reverted":
                    window_rev.append(v.detach())
                else:
                    window_extra.setdefault(k, []).append(v.detach())
            if completed % log_every == 0 or completed == steps:
                flush()
            if bar is not None:
                bar.update(1)
            late = checkpoint_seconds is not None and time.perf_counter() - last_save[0] > checkpoint_seconds
            late, stop = distributed.agree([late, interrupt.pending], params[0].device)
            due = completed % checkpoint_every == 0 or completed == steps or late
            if checkpoint is not None and due:
                save(states())
            if on_step is not None:
                on_step(completed)
            if validate is not None and (completed % validate_every == 0 or completed == steps):
                if check_validation():
                    hist.stopped_early = True
                    saved_at[0] = -1
                    break
            if stop:
                raise KeyboardInterrupt
        flush()
        save(states())
    except KeyboardInterrupt:
        # State after the last completed step: if the interrupt came before
        # this step's update, restore the RNG states it started from.
        save(states() if completed == step + 1 else before)
        raise
    finally:
        interrupt.__exit__()
        if bar is not None:
            bar.close()
    if hist.skipped and ranks.main:
        warnings.warn(f"{desc}: {hist.skipped} of {hist.steps_done - start} steps were skipped (non-finite loss or "
                      f"gradient); check the data and the learning rate", RuntimeWarning, stacklevel=2)
    if best is not None and best["step"] != completed:  # the best weights, not the last
        for name, mod in modules.items():
            mod.load_state_dict(best["modules"][name])
        if checkpoint is not None and (hist.stopped_early or completed == steps):
            saved_at[0] = -1  # a finished run's checkpoint holds what it returns
            save(states())
    distributed.barrier()  # rank 0's last checkpoint is written before any rank goes on
    hist.opt_state = {names[id(p)]: opt.state[p] for p in params if p in opt.state}
    return hist
