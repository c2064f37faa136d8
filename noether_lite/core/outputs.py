"""Result files: checked before any work starts, written atomically.

Every command that writes a JSON result (the CLI's ``--json``, the video benchmark) goes
through these two functions, so a bad path fails in the first second, not after the run, and a
reader never sees a half-written file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional, Union

__all__ = ["check_output_file", "check_output_folder", "write_json"]


def check_output_file(path: Union[str, Path, None], what: str = "--json") -> Optional[Path]:
    """``path`` as a :class:`~pathlib.Path` when a file can be written there, else a clear error.

    Raises:
        ValueError: ``path`` is a folder, its folder does not exist, or that folder is not
            writable (the message names ``what``, the path and the fix).
    """
    if path is None:
        return None
    p = Path(path)
    try:
        p.stat()
    except FileNotFoundError:
        pass
    except OSError as e:  # e.g. a file name too long for the file system
        raise ValueError(f"{what} {str(path)!r} cannot be used ({e.strerror}); choose another path") from None
    if p.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder; give a file path such as {str(p / 'results.json')!r}")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{what} {str(path)!r}: folder {str(folder)!r} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {str(path)!r}: folder {str(folder)!r} is not writable; choose another")
    exists = p.exists()
    if exists and not os.access(p, os.W_OK):
        raise ValueError(f"{what} {str(path)!r} exists and is read-only; choose another path")
    if not exists:  # access() can approve what the file system refuses (root, /proc, some mounts): try it
        try:
            with open(p, "x"):
                pass
            p.unlink()
        except OSError as e:
            raise ValueError(f"{what} {str(path)!r} cannot be written ({e.strerror}); choose another path") from None
    return p


def check_output_folder(path: Union[str, Path, None], what: str = "--ckpt-dir") -> Optional[Path]:
    """Make sure ``path`` is (or can become) a writable folder, before any work; create it.

    Raises:
        ValueError: ``path`` is a file, or it (or the folder it would be made in) is not writable.
    """
    if path is None:
        return None
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a file, not a folder; pass a folder")
    if not p.exists():
        parent = p.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ValueError(f"{what} {str(path)!r}: cannot create it inside {str(parent)!r} (not writable); "
                             f"choose another folder")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ValueError(f"{what} {str(path)!r} cannot be created ({e.strerror}); choose another folder") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {str(path)!r} is not writable; choose another folder")
    return p


def write_json(path: Union[str, Path, None], obj: Any, *, indent: int = 1, sort_keys: bool = False) -> None:
    """Write ``obj`` as JSON (UTF-8): to a temporary file beside ``path``, then renamed over it,
    so a reader never sees half a file."""
    if path is None:
        return
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(obj, indent=indent, sort_keys=sort_keys, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        tmp.replace(p)
    finally:
        tmp.unlink(missing_ok=True)
