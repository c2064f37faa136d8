"""Checkpoints and devices, one definition each, for every training loop.

:func:`save_checkpoint` writes atomically (a temporary file in the same folder, then a rename),
so an interruption leaves the previous checkpoint whole; :func:`load_checkpoint` names the file
when it cannot be read. :func:`auto_device` resolves ``"auto"`` to CUDA, then MPS, then the CPU.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch

__all__ = ["save_checkpoint", "load_checkpoint", "auto_device", "default_ckpt_dir"]


def auto_device(device: Union[str, torch.device, None] = "auto") -> torch.device:
    """``"auto"`` picks cuda, then mps, then cpu; anything else is validated."""
    if isinstance(device, torch.device):
        return device
    if device in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'mps'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available here; use 'auto' or 'cpu'")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise ValueError("device 'mps' was asked for but MPS is not available here; use 'auto' or 'cpu'")
    return dev


def save_checkpoint(path: Union[str, Path], payload: Dict[str, Any], *, create_folder: bool = False) -> None:
    """Write ``payload`` with ``torch.save`` atomically.

    Raises:
        ValueError: the folder does not exist (unless ``create_folder``).
    """
    path = Path(path)
    if create_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.exists():
        raise ValueError(f"checkpoint folder {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_checkpoint(path: Union[str, Path], map_location: Optional[Any] = "cpu") -> Dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises:
        ValueError: the file is empty, truncated or not a checkpoint (the message names it and
            says to delete it, or to pass another checkpoint folder, to start afresh).
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as e:  # EOFError, pickle and zip errors of a damaged file
        raise ValueError(f"checkpoint {str(path)!r} cannot be read ({type(e).__name__}: {e}); delete it, or use "
                         "another checkpoint folder, to start that run afresh") from None


def default_ckpt_dir(ckpt_dir):
    """``ckpt_dir``, else ``$NOETHER_CKPT_DIR`` (set by ``noether-lite lab run``), else ``None``."""
    return ckpt_dir if ckpt_dir is not None else (os.environ.get("NOETHER_CKPT_DIR") or None)
