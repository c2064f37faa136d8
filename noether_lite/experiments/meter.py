"""What the video benchmarks count, and the targets they report against.

Only ``torch`` is imported here, so ``ci/bench_video_cpu.py --compare REF`` loads this file by
path and measures another commit's tree with this very counter (:mod:`.bench` re-exports it).
"""
from __future__ import annotations

from typing import Any, Dict, List

__all__ = ["TARGETS", "count_ops", "target_report"]

#: What the exact meta-step should reach: name -> (limit, "max" or "min", where it applies).
TARGETS = {
    "ratio": (2.5, "max", "any"),  # meta-step time / baseline step time, same model and batch
    "samples_per_s": (20.0, "min", "cuda"),  # meta-steps' clips per second, best batch
    "gb_per_sample": (3.0, "max", "cuda"),  # peak GPU memory per clip
    "ops": (20_000, "max", "cpu"),  # aten operators (not views) per meta-step: about one kernel launch each
    "cpu_gb_per_sample": (1.0, "max", "cpu"),  # peak resident memory per clip (ci/bench_video_cpu.py)
}


def count_ops(fn) -> int:
    """The aten operators (views and allocations left out) that ``fn()`` dispatches."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            allocation = func.__name__.split(".")[0] in ("empty", "empty_strided", "empty_like")
            if not func.is_view and not allocation:
                Count.n += 1
            return func(*args, **(kwargs or {}))

    with Count():
        fn()
    return Count.n


def target_report(values: Dict[str, Any], device_type: str) -> List[Dict[str, Any]]:
    """``values`` (name in :data:`TARGETS` -> measured number) against the targets that apply on
    ``device_type``: ``[{"target", "value", "limit", "kind", "ratio" (value / limit), "met"}]``."""
    out = []
    for name, (limit, kind, where) in TARGETS.items():
        v = values.get(name)
        if where not in ("any", device_type) or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        out.append({"target": name, "value": v, "limit": limit, "kind": kind, "ratio": v / limit,
                    "met": v <= limit if kind == "max" else v >= limit})
    return out
