"""Loader for the real Physics 101 "ramp" videos (for readers who have the data).

Expected layout (Wu et al. 2016)::

    <root>/ramp/<object>/20_0x/<trial>/Kinect_RGB_1.mp4

(``<root>`` may also be the ``ramp`` folder itself). Each clip keeps every second
frame, then the middle ``n_frames`` of those, centre-cropped to a square and
resized. Decoding needs the optional ``video`` extra (``imageio`` with
``imageio-ffmpeg``). Unlike the authors' loader, ``dataset[i]`` always returns
clip ``i`` (``clip_paths[i]``): shuffling and several workers behave.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

__all__ = ["Physics101Ramp", "find_ramp_clips", "read_video", "prepare_frames", "load_physics101"]

LAYOUT = "<root>/ramp/<object>/20_0x/<trial>/Kinect_RGB_1.mp4"


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
    """Decode a video to ``uint8 (T, H, W, 3)`` with imageio (optional dependency)."""
    try:
        import imageio.v3 as iio
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("reading Physics 101 videos needs the 'video' extra: pip install 'noether-lite[video]' "
                          "(imageio and imageio-ffmpeg)") from e
    frames = iio.imread(path, plugin="FFMPEG" if _has_ffmpeg() else None)
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    return frames[..., :3]


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
        ValueError: too few frames, or not an RGB uint8 video.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames (T, H, W, 3); got {frames.dtype} {frames.shape}")
    sub = frames[::stride]
    if len(sub) < n_frames:
        raise ValueError(f"video has {len(frames)} frames ({len(sub)} after keeping every {stride}); "
                         f"need at least {n_frames} after subsampling")
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


class Physics101Ramp(Dataset):
    """Physics 101 ramp clips; ``self[i]`` is clip ``i``: float ``(n_frames, 3, size, size)`` in [0, 1].

    Args:
        root: the dataset folder (see module docstring).
        size: output frame side.
        n_frames: frames kept per clip (2 conditioning + 20 predicted).
        stride: keep every ``stride``-th frame.
        objects: keep only these object names (e.g. a held-out split), or all.
    """

    def __init__(self, root, *, size: int = 128, n_frames: int = 22, stride: int = 2,
                 objects: Optional[Sequence[str]] = None) -> None:
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
        path = self.clip_paths[i]
        u8 = prepare_frames(read_video(path), n_frames=self.n_frames, stride=self.stride, size=self.size)
        return u8.permute(0, 3, 1, 2).float() / 255.0  # (T, 3, size, size)


def load_physics101(root, *, size: int = 128, n_frames: int = 22, stride: int = 2, test_fraction: float = 0.2,
                    seed: int = 0):
    """Decode every ramp clip into a :class:`~noether_lite.video.render.VideoData`, holding out
    a seeded ``test_fraction`` of the object identities for the test split."""
    from .render import VideoData

    ds = Physics101Ramp(root, size=size, n_frames=n_frames, stride=stride)
    names = ds.objects()
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(names), generator=gen).tolist()
    n_test = max(1, int(round(test_fraction * len(names)))) if len(names) > 1 else 0
    test_names = {names[j] for j in perm[:n_test]}
    frames = torch.stack([prepare_frames(read_video(p), n_frames=n_frames, stride=stride, size=size)
                          for p in ds.clip_paths])  # (N, T, S, S, 3)
    oid = torch.tensor([names.index(ds.object_of(i)) for i in range(len(ds))])
    is_test = torch.tensor([ds.object_of(i) in test_names for i in range(len(ds))])
    meta = {"name": "physics101_ramp", "root": str(root), "size": size, "n_frames": n_frames, "stride": stride,
            "test_objects": sorted(test_names)}
    return VideoData(frames, is_test, oid, None, meta)
