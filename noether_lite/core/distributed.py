"""Data-parallel training over processes started by ``torchrun`` (one definition for every loop).

    torchrun --standalone --nproc_per_node=2 -m noether_lite video --quick

:func:`init_from_env` reads torchrun's ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``, joins the process
group (NCCL on CUDA, gloo on the CPU) and pins each rank to ``cuda:LOCAL_RANK``. :func:`world`
then tells :func:`~noether_lite.core.train.fit` and the samplers who this process is.

How a step is split: every rank draws the *whole* global batch from the same seeded generators
and keeps its own contiguous slice (:meth:`World.part`), so ranks train on different examples,
the generator states stay identical on every rank (rank 0's checkpoint is complete, and resuming
is exact), and the run equals a one-process run with the same global batch up to rounding.
``fit`` averages the gradients over ranks after each backward (:func:`average_gradients`, one
all-reduce: exact for the second-order meta-gradient, which a DDP wrapper would not see through
``torch.func``), averages the logged losses, and only rank 0 prints or writes files.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = ["World", "world", "launched", "init_from_env", "shutdown", "average_gradients",
           "mean_metrics", "agree", "broadcast_float", "barrier"]

_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class World:
    """Who this process is among ``size`` data-parallel ranks (``World(0, 1, 0)`` alone)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the one that prints, checkpoints and writes results."""
        return self.rank == 0

    def check_batch(self, batch_size: int, what: str = "batch_size") -> None:
        """Raises ``ValueError`` (one line) unless ``batch_size`` splits evenly over the ranks."""
        if batch_size % self.size:
            raise ValueError(f"{what} {batch_size} does not split over {self.size} processes; use a multiple "
                             f"of {self.size} (the global batch is divided evenly between the ranks)")

    def part(self, batch_size: int) -> slice:
        """This rank's contiguous slice of a global batch of ``batch_size`` examples."""
        self.check_batch(batch_size)
        n = batch_size // self.size
        return slice(self.rank * n, (self.rank + 1) * n)


def _group() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def world() -> World:
    """This process's :class:`World`: from the process group once joined, else a world of one."""
    if not _group():
        return World()
    return World(torch.distributed.get_rank(), torch.distributed.get_world_size(),
                 int(os.environ.get("LOCAL_RANK", 0)))


def launched() -> bool:
    """Whether torchrun started this process (its ``RANK`` and ``WORLD_SIZE`` are set)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def init_from_env(device: str = "auto") -> torch.device:
    """Join torchrun's process group and return this rank's device.

    ``device="auto"`` takes ``cuda:LOCAL_RANK`` when CUDA is available (backend NCCL), else the
    CPU (backend gloo); ``"cpu"`` forces gloo on the CPU. Without torchrun's variables it does
    nothing and returns the device :func:`~noether_lite.core.checkpoints.auto_device` picks.

    Raises:
        ValueError: malformed torchrun variables, more local ranks than GPUs, or ``"mps"``.
    """
    from .checkpoints import auto_device

    if not launched():
        return auto_device(device)
    try:
        rank, size, local = (int(os.environ.get(k, "0")) for k in _ENV)
    except ValueError:
        raise ValueError(f"torchrun variables must be integers: "
                         f"{ {k: os.environ.get(k) for k in _ENV} }") from None
    if not 0 <= rank < size or local < 0:
        raise ValueError(f"RANK={rank}, WORLD_SIZE={size}, LOCAL_RANK={local}: need 0 <= RANK < WORLD_SIZE")
    cuda = device != "cpu" and torch.cuda.is_available()
    if str(device).startswith("mps"):
        raise ValueError("data-parallel training runs on CUDA (NCCL) or the CPU (gloo), not on MPS")
    if cuda:
        if local >= torch.cuda.device_count():
            raise ValueError(f"LOCAL_RANK {local} but only {torch.cuda.device_count()} GPU(s): start at most "
                             f"{torch.cuda.device_count()} processes per node")
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    else:
        dev = auto_device("cpu")
    if not _group():
        torch.distributed.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=size,
                                             **({"device_id": dev} if cuda else {}))
    return dev


def shutdown() -> None:
    """Leave the process group (nothing to do outside one)."""
    if _group():
        torch.distributed.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (nothing to do outside a process group)."""
    if _group():
        torch.distributed.barrier()


def average_gradients(params: Sequence[Tensor]) -> None:
    """Replace each ``p.grad`` by its mean over the ranks, in one all-reduce.

    A parameter without a gradient counts as zero on that rank; it keeps ``grad=None`` only
    when no rank has one (so Adam skips it exactly as a one-process run would)."""
    w = world()
    if w.size == 1:
        return
    ref = params[0]
    have = torch.tensor([p.grad is not None for p in params], dtype=ref.dtype, device=ref.device)
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
                     + [have])  # (sum of numels + len(params),)
    torch.distributed.all_reduce(flat)
    flat[: -len(params)] /= w.size
    have = flat[-len(params):]
    at = 0
    for p, h in zip(params, have.tolist()):
        n = p.numel()
        p.grad = flat[at: at + n].view_as(p).clone() if h > 0 else None
        at += n


def mean_metrics(loss: Tensor, extras: Dict[str, Tensor], *, summed: Sequence[str] = ("reverted",)
                 ) -> Tuple[Tensor, Dict[str, Tensor]]:
    """The logged loss and 0-d extras over the ranks: means, or sums for the counts in ``summed``
    (each rank's values are over its slice, so these are the global batch's)."""
    w = world()
    if w.size == 1:
        return loss, extras
    keys = sorted(k for k, v in extras.items() if v.ndim == 0)
    vals = torch.stack([loss.detach().double()] + [extras[k].detach().double() for k in keys])
    torch.distributed.all_reduce(vals)
    out = dict(extras)
    for i, k in enumerate(keys, 1):
        out[k] = (vals[i] if k in summed else vals[i] / w.size).to(extras[k].dtype)
    return (vals[0] / w.size).to(loss.dtype), out


def agree(flags: List[bool], device: Optional[torch.device] = None) -> List[bool]:
    """Each flag, true on every rank when it is true on any (decisions taken on the clock or a
    signal, which the ranks see at different moments, must be taken together)."""
    if world().size == 1:
        return list(flags)
    t = torch.tensor([int(f) for f in flags], dtype=torch.int64, device=device)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]


def broadcast_float(value: float, device: Optional[torch.device] = None) -> float:
    """Rank 0's ``value`` on every rank."""
    if world().size == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    torch.distributed.broadcast(t, src=0)
    return float(t)
