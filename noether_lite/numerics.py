"""CPU arithmetic that does not depend on the machine: what the book's chapters run under.

Floating-point sums are not associative, so the same seeded run lands on slightly
different numbers when the kernels that execute it change, and a chaotic training run
(the video chapters' quick runs) amplifies the last-bit difference into tenths of a dB.
On a CPU four things choose those kernels:

* the **thread count**: reductions split their work by it, so their summation order changes;
* **oneDNN** (``torch.backends.mkldnn``), which runs convolutions with kernels and blockings
  chosen from the processor's instruction set and cache sizes;
* **MKL**, which runs matrix products with kernels chosen from the instruction set, unless its
  conditional numerical reproducibility mode pins them (``MKL_CBWR``);
* **ATen's vectorised kernels** (``exp``, ``tanh``, reductions, ...), compiled once per
  instruction-set level and picked at start-up (``ATEN_CPU_CAPABILITY``).

The last two are read once, when torch starts, so they must be in the environment before
``torch`` is imported: :data:`PINNED_ENV` holds them, for a notebook's first cell to put in
``os.environ``; :func:`reproducible_cpu` fixes the first two. Under all four a seeded CPU run
gave the same bits whatever the thread and oneDNN settings of its environment (``tests/test_numerics.py``),
and every x86-64 processor with AVX2 offers the same kernels. Processors of another family (e.g. ARM) still differ in the last bits, which is why the
book's checked cells compare what a chapter teaches within a measured tolerance, not digits.
"""
from __future__ import annotations

import os
import warnings
from typing import Dict, Union

import torch

__all__ = ["PINNED_ENV", "reproducible_cpu", "cpu_numerics"]

#: Environment variables to set before torch is imported (see the module docstring).
PINNED_ENV: Dict[str, str] = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def reproducible_cpu(threads: int = 2) -> Dict[str, Union[int, bool, str, None]]:
    """Fix the CPU thread count and run convolutions without oneDNN.

    Args:
        threads: torch's intra-op thread count. Results depend on this number, not on the
            number of cores, so any fixed value reproduces everywhere; 2 suits a laptop or a
            Colab runtime.

    Returns:
        :func:`cpu_numerics` after the change. Warns when a variable of :data:`PINNED_ENV` is
        not set, since then those kernels still follow the processor's instruction set.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = False
    missing = [k for k in PINNED_ENV if not os.environ.get(k)]
    if missing:
        fix = "; ".join(f"os.environ[{k!r}] = {PINNED_ENV[k]!r}" for k in missing)
        warnings.warn(f"{', '.join(missing)} not set: those kernels follow this processor's instruction set, "
                      f"so the last digits may differ from another machine's. To pin them, set {fix} "
                      "before torch is imported (in a fresh kernel).", stacklevel=2)
    return cpu_numerics()


def cpu_numerics() -> Dict[str, Union[int, bool, str, None]]:
    """The settings that choose the CPU kernels in this process, for a run's record."""
    return {
        "threads": torch.get_num_threads(),
        "mkldnn": bool(torch.backends.mkldnn.enabled),
        "MKL_CBWR": os.environ.get("MKL_CBWR"),
        "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY"),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
