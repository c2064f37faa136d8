"""Loader for the real Physics 101 "ramp" videos (for readers who have the data).

Expected layout (Wu et al. 2016)::

    <root>/ramp/<object>/20_0x/<trial>/Kinect_RGB_1.mp4

(``<root>`` may also be the ``ramp`` folder itself). Each clip keeps every second
frame, then the middle ``n_frames`` of those, centre-cropped to a square and
resized. Decoding needs the optional ``video`` extra (``imageio`` with
``imageio-ffmpeg``). Unlike the authors' loader, ``dataset[i]`` always returns
clip ``i`` (``clip_paths[i]``): shuffling and several workers behave.

A clip that cannot be used (an empty file, a truncated or corrupt mp4 that ffmpeg cannot
decode, a clip with too few frames) raises :class:`BadClip`, a ``ValueError`` whose one-line
message names the file and the reason (never ffmpeg's log). :func:`load_physics101` raises it
by default (``on_error="raise"``: a result is never computed on a silently smaller dataset);
``on_error="skip"`` leaves such clips out, lists them in ``data.skipped`` and warns once.
"""
from __future__ import annotations

import numbers
import re
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

__all__ = ["Physics101Ramp", "BadClip", "find_ramp_clips", "read_video", "prepare_frames", "load_physics101"]

LAYOUT = "<root>/ramp/<object>/20_0x/<trial>/Kinect_RGB_1.mp4"
ON_ERROR = ("raise", "skip")
_REDO = "download it again or delete it (load_physics101(..., on_error='skip') leaves bad clips out)"


class BadClip(ValueError):
    """A clip that cannot be used: ``path``, a one-line ``reason``; the message names both and the remedy."""

    def __init__(self, path, reason: str, fix: str = _REDO) -> None:
        self.path, self.reason, self.fix = Path(path), reason, fix
        super().__init__(f"clip {path}: {reason}; {fix}")

    def __reduce__(self):
        return type(self), (self.path, self.reason, self.fix)  # picklable (e.g. from a DataLoader worker)


def find_ramp_clips(root) -> List[Path]:
    """All ``Kinect_RGB_1.mp4`` files under a Physics 101 ramp folder, sorted.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        ValueError: no clip matches the expected layout.
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"Physics 101 folder {root} does not exist; expected the layout {LAYOUT}")
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder; expected the layout {LAYOUT}")
    base = root / "ramp" if (root / "ramp").is_dir() else root
    clips = sorted(base.glob("*/20_0*/*/Kinect_RGB_1.mp4"))
    if not clips:
        raise ValueError(f"no clips found under {base}: expected files laid out as {LAYOUT} "
                         f"(ramp angle folders named 20_0x)")
    return clips


def read_video(path) -> np.ndarray:
    """Decode a video to ``uint8 (T, H, W, 3)`` with imageio (optional dependency).

    Raises:
        FileNotFoundError: no such file.
        BadClip: the file is empty, or ffmpeg cannot decode it (the reason is ffmpeg's own, on one line).
    """
    iio = _imageio()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video {path} does not exist; expected the layout {LAYOUT}")
    if path.stat().st_size == 0:
        raise BadClip(path, "the file is empty (0 bytes)")
    try:
        frames = np.asarray(iio.imread(path, plugin="FFMPEG" if _has_ffmpeg() else None))
    except Exception as e:  # imageio raises OSError, RuntimeError, ... with ffmpeg's whole log
        raise BadClip(path, f"cannot be decoded, the file is truncated or corrupt ({_decode_reason(e)})") from None
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    if frames.ndim != 4 or frames.shape[0] == 0:
        raise BadClip(path, f"decoded to an array of shape {frames.shape}, not frames (T, H, W, 3)")
    return frames[..., :3]


def _imageio():
    try:
        import imageio.v3 as iio
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("reading Physics 101 videos needs the 'video' extra: pip install 'noether-lite[video]' "
                          "(imageio and imageio-ffmpeg)") from e
    return iio


def _decode_reason(error: Exception, limit: int = 160) -> str:
    """ffmpeg's messages in ``error`` (its ``[demuxer @ 0x...] message`` lines), joined on one line.

    Falls back to the first line of the error when it holds no such line.
    """
    text = str(error)
    found = [m.strip() for m in re.findall(r"^\[[^\]]*@[^\]]*\]\s*(.+)$", text, flags=re.M)]
    found = [m for m in dict.fromkeys(found) if "misdetection possible" not in m]
    reason = "; ".join(found) or (text.strip().splitlines() or [type(error).__name__])[0]
    return reason if len(reason) <= limit else reason[:limit - 3] + "..."


def _has_ffmpeg() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
        return True
    except ImportError:  # pragma: no cover
        return False


def prepare_frames(frames: np.ndarray, *, n_frames: int = 22, stride: int = 2, size: int = 128) -> Tensor:
    """Every ``stride``-th frame, the middle ``n_frames``, centre crop, resize.

    Args:
        frames: ``uint8 (T, H, W, 3)``.

    Returns:
        ``uint8 (n_frames, size, size, 3)``.

    Raises:
        ValueError: too few frames, not an RGB uint8 video, or a size below 1.
    """
    _check_sizes(size=size, n_frames=n_frames, stride=stride)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames (T, H, W, 3); got {frames.dtype} {frames.shape}: "
                         f"convert the video to 8-bit RGB")
    sub = frames[::stride]
    if len(sub) < n_frames:
        raise ValueError(f"video has {len(frames)} frames ({len(sub)} after keeping every {stride}); "
                         f"need at least {n_frames} after subsampling: pass a smaller n_frames or stride")
    a = (len(sub) - n_frames) // 2
    sub = sub[a:a + n_frames]
    T, H, W, _ = sub.shape
    s = min(H, W)
    y0, x0 = (H - s) // 2, (W - s) // 2
    sub = sub[:, y0:y0 + s, x0:x0 + s]
    x = torch.from_numpy(np.ascontiguousarray(sub)).permute(0, 3, 1, 2).float()  # (T, 3, s, s)
    if s != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()  # (T, size, size, 3)


def _check_sizes(**sizes: int) -> None:
    """Each of ``sizes`` (frame side, frame count, stride) is an integer >= 1."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}: pass a positive {name}")


def _check_on_error(on_error) -> None:
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}: 'raise' stops at the first bad "
                         f"clip, 'skip' leaves bad clips out and lists them in data.skipped")


def load_clip(path, *, n_frames: int = 22, stride: int = 2, size: int = 128) -> Tensor:
    """One clip, decoded and prepared: ``uint8 (n_frames, size, size, 3)``.

    Raises:
        BadClip: empty, undecodable, or too short (the message names the file).
    """
    frames = read_video(path)
    try:
        return prepare_frames(frames, n_frames=n_frames, stride=stride, size=size)
    except ValueError as e:
        raise BadClip(path, str(e), "or leave it out with load_physics101(..., on_error='skip')") from None


class Physics101Ramp(Dataset):
    """Physics 101 ramp clips; ``self[i]`` is clip ``i``: float ``(n_frames, 3, size, size)`` in [0, 1].

    Args:
        root: the dataset folder (see module docstring).
        size: output frame side.
        n_frames: frames kept per clip (2 conditioning + 20 predicted).
        stride: keep every ``stride``-th frame.
        objects: keep only these object names (e.g. a held-out split), or all.

    Clips are decoded when indexed: a bad clip raises :class:`BadClip` (naming it) then;
    :func:`load_physics101` with ``on_error="skip"`` leaves bad clips out instead.
    """

    def __init__(self, root, *, size: int = 128, n_frames: int = 22, stride: int = 2,
                 objects: Optional[Sequence[str]] = None) -> None:
        _check_sizes(size=size, n_frames=n_frames, stride=stride)
        clips = find_ramp_clips(root)
        if objects is not None:
            keep = set(objects)
            clips = [c for c in clips if c.parents[2].name in keep]
            if not clips:
                raise ValueError(f"none of the objects {sorted(keep)} has clips under {root}")
        self.clip_paths = clips
        self.size, self.n_frames, self.stride = size, n_frames, stride

    def __len__(self) -> int:
        return len(self.clip_paths)

    def object_of(self, i: int) -> str:
        return self.clip_paths[i].parents[2].name

    def objects(self) -> List[str]:
        return sorted({self.object_of(i) for i in range(len(self))})

    def __getitem__(self, i: int) -> Tensor:
        if not -len(self) <= i < len(self):
            raise IndexError(f"clip index {i} out of range for {len(self)} clips")
        u8 = load_clip(self.clip_paths[i], n_frames=self.n_frames, stride=self.stride, size=self.size)
        return u8.permute(0, 3, 1, 2).float() / 255.0  # (T, 3, size, size)


def load_physics101(root, *, size: int = 128, n_frames: int = 22, stride: int = 2, test_fraction: float = 0.2,
                    seed: int = 0, on_error: str = "raise"):
    """Decode every ramp clip into a :class:`~noether_lite.video.render.VideoData`, holding out
    a seeded ``test_fraction`` of the object identities for the test split.

    Args:
        on_error: what to do with a clip that cannot be used (empty, truncated or corrupt, too short).
            ``"raise"`` (default): a :class:`BadClip` naming the file and the reason; empty files are
            found before anything is decoded. ``"skip"``: leave the clip out, list it in
            ``data.skipped`` (``{"path", "reason"}`` dicts, also in ``data.meta["skipped"]``) and
            warn once. The default refuses to compute results on a silently smaller dataset.

    Raises:
        BadClip: with ``on_error="raise"``, the first bad clip.
        ValueError: bad arguments, or no usable clip at all.
    """
    from .render import VideoData

    _check_on_error(on_error)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}: pass the fraction of "
                         f"objects held out, e.g. test_fraction=0.2")
    ds = Physics101Ramp(root, size=size, n_frames=n_frames, stride=stride)
    kept, frames, skipped = _load_clips(ds.clip_paths, on_error, n_frames=n_frames, stride=stride, size=size)
    if not kept:
        raise ValueError(f"none of the {len(ds.clip_paths)} clips under {root} could be used (first: "
                         f"{skipped[0]['path']}: {skipped[0]['reason']}); download them again")
    if skipped:
        warnings.warn(_skipped_line(skipped, len(ds.clip_paths), root), stacklevel=2)
    objects = [p.parents[2].name for p in kept]
    names = sorted(set(objects))
    test_names = _test_objects(names, test_fraction, seed)
    oid = torch.tensor([names.index(o) for o in objects])
    is_test = torch.tensor([o in test_names for o in objects])
    meta = {"name": "physics101_ramp", "root": str(root), "size": size, "n_frames": n_frames, "stride": stride,
            "test_objects": sorted(test_names), "skipped": skipped}
    return VideoData(torch.stack(frames), is_test, oid, None, meta)  # frames (N, T, S, S, 3)


def _load_clips(paths: Sequence[Path], on_error: str, **prep) -> Tuple[List[Path], List[Tensor], List[Dict[str, str]]]:
    """Decode ``paths``: ``(kept paths, their frames, skipped {"path", "reason"})``.

    Empty files are looked for first, so that ``on_error="raise"`` stops before decoding anything.
    """
    kept, frames, skipped = [], [], []

    def bad(e: BadClip) -> None:
        if on_error == "raise":
            raise e
        skipped.append({"path": str(e.path), "reason": e.reason})

    for p in paths:
        if p.stat().st_size == 0:
            bad(BadClip(p, "the file is empty (0 bytes)"))
    empty = {s["path"] for s in skipped}
    for p in paths:
        if str(p) in empty:
            continue
        try:
            frames.append(load_clip(p, **prep))
            kept.append(p)
        except BadClip as e:
            bad(e)
    return kept, frames, sorted(skipped, key=lambda s: s["path"])


def _skipped_line(skipped: List[Dict[str, str]], n: int, root, shown: int = 3) -> str:
    """The one warning line for skipped clips: their count and the first ``shown`` of them."""
    first = ", ".join(f"{s['path']} ({s['reason']})" for s in skipped[:shown])
    more = f", and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return (f"load_physics101 skipped {len(skipped)} of {n} clips under {root} that could not be used "
            f"(listed in data.skipped): {first}{more}")


def _test_objects(names: List[str], test_fraction: float, seed: int) -> set:
    """A seeded ``test_fraction`` of the object ``names`` (at least one when there are two or more)."""
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(names), generator=gen).tolist()
    n_test = max(1, int(round(test_fraction * len(names)))) if len(names) > 1 else 0
    return {names[j] for j in perm[:n_test]}
