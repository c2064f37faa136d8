"""Seeded, vectorised video renderers: objects sliding down a ramp, and a driven pendulum.

Every pixel of every frame of a whole chunk of clips is computed at once with
tensor broadcasting over ``(clip, time, y, x)``; the only Python loops run over
chunks of clips and over time steps of the pendulum's integrator (never over
pixels). The generator's arguments travel with the data (``VideoData.meta``),
and :func:`load_or_render` caches clips on disk as ``uint8`` with those
arguments and a SHA-256 checksum of the arrays, rebuilding the cache when the
arguments differ or the arrays no longer match the checksum (written atomically).

Physics of the ramp (Physics 101's "ramp" scenario, synthetic): a block on an
incline of angle ``θ`` with kinetic friction ``μ`` accelerates at
``a = g (sin θ − μ cos θ)``; at the foot of the ramp it slides on the floor and
decelerates at ``μ g`` until it stops.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "RampConfig", "PendulumVideoConfig", "VideoData", "render_ramp", "render_pendulum",
    "load_or_render", "ramp_motion", "SHAPES", "CACHE_VERSION",
]

CACHE_VERSION = 1
SHAPES = ("disc", "square", "triangle")
G = 9.81  # m / s^2


@dataclass(frozen=True)
class RampConfig:
    """How to make a synthetic ramp dataset.

    Attributes:
        size: frame side in pixels (32 quick, 64 default, 128 full).
        n_frames: frames per clip (2 conditioning + 20 predicted).
        n_objects: distinct object identities (shape, size, colour, texture, friction).
        clips_per_object: clips rendered per object.
        test_fraction: fraction of object identities held out for the test split.
        angle_deg: nominal ramp angle; each clip jitters it by ``± angle_jitter_deg``.
        fps: frames per second of the clip (Physics 101 is 30 fps, every second frame kept).
        scene_m: width of the scene in metres (sets the pixel scale of the motion).
        mu_range: kinetic friction coefficients of the objects.
        camera_jitter: per-frame camera shake, std in scene widths.
        noise_std: sensor noise std on [0, 1] intensities.
        seed: the generator's seed.
    """

    size: int = 64
    n_frames: int = 22
    n_objects: int = 30
    clips_per_object: int = 8
    test_fraction: float = 0.2
    angle_deg: float = 20.0
    angle_jitter_deg: float = 1.5
    fps: float = 15.0
    scene_m: float = 1.5
    mu_range: Tuple[float, float] = (0.10, 0.30)
    camera_jitter: float = 0.003
    noise_std: float = 2.0 / 255.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.size < 8 or self.n_frames < 3 or self.n_objects < 2 or self.clips_per_object < 1:
            raise ValueError(f"bad RampConfig sizes: {self}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")


@dataclass(frozen=True)
class PendulumVideoConfig:
    """How to make controlled-pendulum videos (a torque sequence drives the pendulum).

    Attributes:
        size: frame side in pixels.
        n_frames: frames per clip (2 conditioning + 25 predicted).
        n_clips: number of clips; the last ``test_fraction`` of them form the test split.
        dt: seconds between frames.
        length_m: pendulum length (sets ``ω0² = g / l``).
        damping: viscous damping rate (1/s).
        torque_std: std of the applied angular acceleration (rad/s², the action).
        torque_corr: AR(1) correlation of the torque sequence between frames.
        substeps: RK4 substeps per frame.
    """

    size: int = 64
    n_frames: int = 27
    n_clips: int = 256
    test_fraction: float = 0.25
    dt: float = 0.08
    length_m: float = 1.0
    damping: float = 0.15
    torque_std: float = 4.0
    torque_corr: float = 0.8
    substeps: int = 4
    noise_std: float = 2.0 / 255.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.size < 8 or self.n_frames < 3 or self.n_clips < 2:
            raise ValueError(f"bad PendulumVideoConfig sizes: {self}")


@dataclass
class VideoData:
    """A set of clips.

    Attributes:
        frames: ``uint8`` clips, shape ``(N, T, H, W, 3)``.
        split: ``"train"`` or ``"test"`` for each clip, as a bool tensor ``is_test`` of shape ``(N,)``.
        object_id: identity of the object in each clip, shape ``(N,)`` (``-1`` when not meaningful).
        actions: per-frame actions ``(N, T, A)`` (float32) or ``None``.
        meta: the generator's arguments (name, config, version); for loaded real data, also
            ``skipped``: the clips left out (see :attr:`skipped`).
    """

    frames: Tensor
    is_test: Tensor
    object_id: Tensor
    actions: Optional[Tensor] = None
    meta: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.frames.dtype != torch.uint8 or self.frames.ndim != 5 or self.frames.shape[-1] != 3:
            raise ValueError(f"frames must be uint8 (N, T, H, W, 3); got {self.frames.dtype} {tuple(self.frames.shape)}")
        n = self.frames.shape[0]
        if self.is_test.shape != (n,) or self.object_id.shape != (n,):
            raise ValueError("is_test and object_id must have shape (N,)")
        if self.actions is not None and self.actions.shape[:2] != self.frames.shape[:2]:
            raise ValueError(f"actions must have shape (N, T, A); got {tuple(self.actions.shape)}")

    def __len__(self) -> int:
        return self.frames.shape[0]

    @property
    def skipped(self) -> List[Dict[str, str]]:
        """Clips a loader left out, as ``{"path", "reason"}`` dicts (``meta["skipped"]``; empty if none)."""
        return list(self.meta.get("skipped", []))

    def split(self, which: str) -> "VideoData":
        """The ``"train"`` or ``"test"`` clips."""
        if which not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {which!r}")
        idx = self.is_test if which == "test" else ~self.is_test
        return VideoData(self.frames[idx], self.is_test[idx], self.object_id[idx],
                         None if self.actions is None else self.actions[idx], dict(self.meta, split=which))

    def clips(self, idx=None, *, device=None) -> Tensor:
        """Float clips in [0, 1], shape ``(B, T, 3, H, W)``."""
        f = self.frames if idx is None else self.frames[idx]
        f = f.to(device) if device is not None else f
        return f.permute(0, 1, 4, 2, 3).float().div_(255.0)  # (B, T, 3, H, W)


# ----------------------------------------------------------------------------- ramp physics

def ramp_motion(t: Tensor, *, s0: Tensor, v0: Tensor, theta: Tensor, mu: Tensor, ramp_len: Tensor, g: float) -> Tensor:
    """Distance travelled along the track (ramp, then floor) at times ``t``.

    Args:
        t: times, shape ``(T,)``.
        s0, v0, theta, mu, ramp_len: per clip, shape ``(B,)`` (start position along the
            ramp, initial speed, ramp angle in radians, friction, ramp length).
        g: gravity in scene units per s².

    Returns:
        arc length ``s`` of shape ``(B, T)``; ``s > ramp_len`` means on the floor.
    """
    t = t[None, :]  # (1, T)
    s0, v0, theta, mu, L = (x[:, None] for x in (s0, v0, theta, mu, ramp_len))  # (B, 1)
    a = g * (torch.sin(theta) - mu * torch.cos(theta))  # may be <= 0: static friction holds it
    a_eff = torch.where((a <= 0) & (v0 <= 0), torch.zeros_like(a), a)
    # time to reach the foot: s0 + v0 t + a t²/2 = L
    d = (L - s0).clamp_min(0)
    disc = (v0 ** 2 + 2 * a_eff * d).clamp_min(0)
    a_safe = torch.where(a_eff.abs() < 1e-9, torch.full_like(a_eff, 1e-9), a_eff)
    t_foot = torch.where(a_eff.abs() < 1e-9, d / v0.clamp_min(1e-9), (-v0 + disc.sqrt()) / a_safe)
    reaches = (disc > 0) & (t_foot > 0) & ((a_eff > 0) | (v0 > 0))
    t_foot = torch.where(reaches, t_foot, torch.full_like(t_foot, float("inf")))
    # on the ramp (decelerating blocks stop where v = 0)
    t_stop_ramp = torch.where(a_eff < 0, v0 / (-a_eff).clamp_min(1e-9), torch.full_like(a_eff, float("inf")))
    tr = torch.minimum(torch.minimum(t, t_foot), t_stop_ramp)
    s_ramp = s0 + v0 * tr + 0.5 * a_eff * tr ** 2
    # on the floor: speed at the foot, then deceleration mu g until it stops
    v_foot = torch.where(reaches, v0 + a_eff * torch.where(torch.isfinite(t_foot), t_foot, torch.zeros_like(t_foot)), torch.zeros_like(v0))
    dec = (mu * g).clamp_min(1e-6)
    tau = (t - t_foot).clamp_min(0)
    tau = torch.where(torch.isfinite(tau), tau, torch.zeros_like(tau))
    tau = torch.minimum(tau, v_foot / dec)
    s_floor = L + v_foot * tau - 0.5 * dec * tau ** 2
    return torch.where(t >= t_foot, s_floor, s_ramp)  # (B, T)


def _sigmoid_edge(sdf: Tensor, px: float) -> Tensor:
    """Anti-aliased coverage from a signed distance (negative inside), ``px`` = pixel size."""
    return torch.sigmoid(-sdf / (0.5 * px))


def _shape_sdf(shape: Tensor, qx: Tensor, qy: Tensor, r: Tensor) -> Tensor:
    """Signed distance of disc / square / triangle in local coordinates (all broadcastable)."""
    disc = torch.sqrt(qx ** 2 + qy ** 2 + 1e-12) - r
    square = torch.maximum(qx.abs(), qy.abs()) - r
    tri = torch.maximum(qy - r, (2 * qx.abs() - qy - r) / math.sqrt(5.0))
    return torch.where(shape == 0, disc, torch.where(shape == 1, square, tri))


def _ramp_objects(cfg: RampConfig, gen: torch.Generator) -> Dict[str, Tensor]:
    """Object identities: shape, size, colour, texture, friction (each ``(n_objects, ...)``)."""
    n = cfg.n_objects
    u = lambda *s: torch.rand(*s, generator=gen, dtype=torch.float64)  # noqa: E731
    lo, hi = cfg.mu_range
    return {
        "shape": torch.randint(0, len(SHAPES), (n,), generator=gen),
        "radius": 0.05 + 0.04 * u(n),
        "colour": 0.15 + 0.8 * u(n, 3),
        "texture": torch.randint(0, 4, (n,), generator=gen),  # plain, stripes-x, stripes-y, checker
        "tex_freq": 60.0 + 120.0 * u(n),
        "tex_contrast": 0.2 + 0.4 * u(n),
        "mu": lo + (hi - lo) * u(n),
    }


def render_ramp(cfg: RampConfig = RampConfig(), *, device=None, chunk: Optional[int] = None) -> VideoData:
    """Render the synthetic ramp dataset described by ``cfg``.

    Returns:
        :class:`VideoData` with ``frames`` ``(N, T, H, W, 3)`` uint8 where
        ``N = n_objects · clips_per_object``; the test split holds every clip
        of the held-out object identities.
    """
    gen = torch.Generator().manual_seed(cfg.seed)
    obj = _ramp_objects(cfg, gen)
    n_obj, per = cfg.n_objects, cfg.clips_per_object
    n = n_obj * per
    u = lambda *s: torch.rand(*s, generator=gen, dtype=torch.float64)  # noqa: E731
    n_test = max(1, int(round(cfg.test_fraction * n_obj)))
    test_objs = torch.randperm(n_obj, generator=gen)[:n_test]
    oid = torch.arange(n_obj).repeat_interleave(per)  # (N,)
    is_test = torch.isin(oid, test_objs)
    # per-clip parameters (drawn for all clips at once, so chunking does not change the data)
    T = cfg.n_frames
    theta = torch.deg2rad(cfg.angle_deg + cfg.angle_jitter_deg * (2 * u(n) - 1))
    mu = (obj["mu"][oid] + 0.01 * (2 * u(n) - 1)).clamp_min(0.0)
    s0 = 0.1 + 0.12 * u(n)
    v0 = 0.15 * u(n)
    clip = {
        "theta": theta, "mu": mu, "s0": s0, "v0": v0,
        "wall": 0.55 + 0.3 * u(n, 3), "ramp_col": torch.tensor([0.55, 0.38, 0.22], dtype=torch.float64) * (0.8 + 0.4 * u(n, 1)),
        "floor_col": 0.25 + 0.2 * u(n, 3), "gain": 0.8 + 0.35 * u(n), "grad": 0.4 * (u(n) - 0.5),
        "flicker": 0.01 * torch.randn(n, T, generator=gen, dtype=torch.float64),
        "cam0": 0.02 * (2 * u(n, 2) - 1),
        "shake": cfg.camera_jitter * torch.randn(n, T, 2, generator=gen, dtype=torch.float64),
        "tex_phase": 2 * math.pi * u(n),
    }
    noise_seed = int(torch.randint(0, 2 ** 31 - 1, (1,), generator=gen))
    ramp_len = torch.full((n,), 0.75, dtype=torch.float64)
    t = torch.arange(T, dtype=torch.float64) / cfg.fps
    s = ramp_motion(t, s0=s0, v0=v0, theta=theta, mu=mu, ramp_len=ramp_len, g=G / cfg.scene_m)  # (N, T)

    S = cfg.size
    chunk = chunk or max(1, int(4e6 // (T * S * S)))
    out = torch.empty(n, T, S, S, 3, dtype=torch.uint8)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        sl = slice(a, b)
        out[sl] = _render_ramp_chunk(
            S, s[sl], ramp_len[sl], {k: v[sl] for k, v in clip.items()},
            {k: v[oid[sl]] for k, v in obj.items() if k != "mu"}, cfg.noise_std, _noise(noise_seed, a, b, T, S, dev), dev,
        ).cpu()
    meta = {"name": "ramp", "version": CACHE_VERSION, "config": _jsonable(asdict(cfg))}
    return VideoData(out, is_test, oid, None, meta)


def _noise(seed: int, a: int, b: int, T: int, S: int, dev) -> Tensor:
    """Standard normal sensor noise for clips ``a..b-1``, one generator per clip, so the
    data does not depend on how the clips are chunked: ``(b-a, T, S, S, 3)``."""
    return torch.stack([torch.randn(T, S, S, 3, generator=torch.Generator(device=dev).manual_seed(seed + i), device=dev)
                        for i in range(a, b)])


def _render_ramp_chunk(S, s, ramp_len, clip, obj, noise_std, noise, dev) -> Tensor:
    """Render one chunk of clips: returns uint8 ``(B, T, S, S, 3)``."""
    f32 = dict(device=dev, dtype=torch.float32)
    s, L = s.to(**f32), ramp_len.to(**f32)
    c = {k: v.to(dev) for k, v in clip.items()}
    o = {k: v.to(dev) for k, v in obj.items()}
    th = c["theta"].float()
    B, T = s.shape
    px = 1.0 / S
    coords = (torch.arange(S, **f32) + 0.5) * px
    # camera: a fixed offset per clip plus per-frame shake; world = pixel + offset
    cam = (c["cam0"][:, None, :] + c["shake"]).float()  # (B, T, 2)
    X = coords.view(1, 1, 1, S) + cam[..., 0, None, None]  # (B, T, 1, S)
    Y = coords.view(1, 1, S, 1) + cam[..., 1, None, None]  # (B, T, S, 1)
    bc = lambda v: v.float().view(B, 1, 1, 1)  # noqa: E731  (B,) -> broadcast over (T, y, x)
    # scene: the ramp's foot is at (0.62, 0.78); the ramp rises to the upper left
    fx, fy = 0.62, 0.78
    cth, sth = torch.cos(th), torch.sin(th)
    ax, ay = fx - L * cth, fy - L * sth  # top of the ramp (B,)
    # signed distance to the ramp surface line (positive below it), and to the floor
    below_ramp = (X - bc(ax)) * bc(-sth) + (Y - bc(ay)) * bc(cth)  # (B, T, S, S)
    ramp_body = torch.maximum(-below_ramp, X - fx)  # inside (< 0): below the surface, left of the foot
    floor = fy - Y  # inside (< 0): below the floor line
    wall = c["wall"].float().view(B, 1, 1, 1, 3)
    img = wall.expand(B, T, S, S, 3)
    img = torch.lerp(img, c["floor_col"].float().view(B, 1, 1, 1, 3), _sigmoid_edge(floor, px)[..., None])
    img = torch.lerp(img, c["ramp_col"].float().view(B, 1, 1, 1, 3), _sigmoid_edge(ramp_body, px)[..., None])
    # the object: arc length s -> position on the track, tilt easing from θ to 0 past the foot
    r = o["radius"].float()  # (B,)
    on_ramp = s <= L[:, None]
    px_t = torch.where(on_ramp, ax[:, None] + s * cth[:, None], fx + (s - L[:, None]))  # (B, T)
    py_t = torch.where(on_ramp, ay[:, None] + s * sth[:, None], torch.full_like(s, fy))
    tilt = th[:, None] * (1 - ((s - L[:, None]) / r[:, None]).clamp(0, 1))  # (B, T)
    nx, ny = torch.sin(tilt), -torch.cos(tilt)  # outward normal (y down)
    cx, cy = px_t + r[:, None] * nx, py_t + r[:, None] * ny  # centre (B, T)
    ct, st = torch.cos(tilt)[..., None, None], torch.sin(tilt)[..., None, None]
    dx, dy = X - cx[..., None, None], Y - cy[..., None, None]  # (B, T, S, S) after broadcast
    qx = ct * dx + st * dy  # along the slide direction
    qy = -st * dx + ct * dy  # along the (downward) normal
    sdf = _shape_sdf(o["shape"].view(B, 1, 1, 1), qx, qy, bc(r))
    f, ph = bc(o["tex_freq"]), bc(c["tex_phase"])
    tex_kind = o["texture"].view(B, 1, 1, 1)
    sx, sy = torch.sin(f * qx + ph), torch.sin(f * qy + ph)
    pattern = torch.where(tex_kind == 1, sx, torch.where(tex_kind == 2, sy, torch.where(tex_kind == 3, sx * sy, torch.zeros_like(sx))))
    shade = 1 - bc(o["tex_contrast"]) * 0.5 * (1 + pattern)  # (B, T, S, S)
    col = o["colour"].float().view(B, 1, 1, 1, 3) * shade[..., None]
    img = torch.lerp(img, col, _sigmoid_edge(sdf, px)[..., None])
    # lighting: a gain, a left-right gradient and a small flicker; then sensor noise
    light = bc(c["gain"]) * (1 + bc(c["grad"]) * (X - 0.5)) * (1 + c["flicker"].float()[..., None, None])
    img = img * light[..., None]
    img = img + noise_std * noise
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


# ----------------------------------------------------------------------------- controlled pendulum

def _pendulum_rhs(q: Tensor, w: Tensor, u: Tensor, w0sq: float, damping: float) -> Tuple[Tensor, Tensor]:
    return w, -w0sq * torch.sin(q) - damping * w + u


def render_pendulum(cfg: PendulumVideoConfig = PendulumVideoConfig(), *, device=None, chunk: Optional[int] = None) -> VideoData:
    """Render pendulum clips driven by a known torque sequence (the action).

    The action ``a_t`` (angular acceleration, rad/s², held during ``[t, t+1)``)
    is returned in ``actions`` with shape ``(N, T, 1)``, scaled by ``1/torque_std``.
    """
    gen = torch.Generator().manual_seed(cfg.seed)
    n, T = cfg.n_clips, cfg.n_frames
    u = lambda *s: torch.rand(*s, generator=gen, dtype=torch.float64)  # noqa: E731
    # torque: AR(1) noise, one value per frame interval
    eps = torch.randn(n, T, generator=gen, dtype=torch.float64)
    torque = torch.empty(n, T, dtype=torch.float64)
    torque[:, 0] = eps[:, 0]
    k = cfg.torque_corr
    for i in range(1, T):  # loop over time, vectorised over clips
        torque[:, i] = k * torque[:, i - 1] + math.sqrt(1 - k * k) * eps[:, i]
    torque = torque * cfg.torque_std
    q = 2.4 * (u(n) - 0.5)
    w = 2.0 * (u(n) - 0.5)
    w0sq, h = G / cfg.length_m, cfg.dt / cfg.substeps
    qs = torch.empty(n, T, dtype=torch.float64)
    for i in range(T):
        qs[:, i] = q
        a = torque[:, i]
        for _ in range(cfg.substeps):  # RK4
            k1 = _pendulum_rhs(q, w, a, w0sq, cfg.damping)
            k2 = _pendulum_rhs(q + 0.5 * h * k1[0], w + 0.5 * h * k1[1], a, w0sq, cfg.damping)
            k3 = _pendulum_rhs(q + 0.5 * h * k2[0], w + 0.5 * h * k2[1], a, w0sq, cfg.damping)
            k4 = _pendulum_rhs(q + h * k3[0], w + h * k3[1], a, w0sq, cfg.damping)
            q = q + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            w = w + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    look = {
        "bob_col": 0.2 + 0.75 * u(n, 3), "bg": 0.6 + 0.3 * u(n, 3), "rod_len": 0.3 + 0.08 * u(n),
        "bob_r": 0.06 + 0.03 * u(n), "gain": 0.85 + 0.3 * u(n),
    }
    noise_seed = int(torch.randint(0, 2 ** 31 - 1, (1,), generator=gen))
    S = cfg.size
    chunk = chunk or max(1, int(4e6 // (T * S * S)))
    dev = torch.device(device) if device is not None else torch.device("cpu")
    out = torch.empty(n, T, S, S, 3, dtype=torch.uint8)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        out[a:b] = _render_pendulum_chunk(S, qs[a:b], {k: v[a:b] for k, v in look.items()}, cfg.noise_std,
                                          _noise(noise_seed, a, b, T, S, dev), dev).cpu()
    n_test = max(1, int(round(cfg.test_fraction * n)))
    is_test = torch.arange(n) >= n - n_test
    actions = (torque / cfg.torque_std).float()[..., None]  # (N, T, 1)
    meta = {"name": "pendulum", "version": CACHE_VERSION, "config": _jsonable(asdict(cfg))}
    return VideoData(out, is_test, torch.full((n,), -1, dtype=torch.long), actions, meta)


def _render_pendulum_chunk(S, q, look, noise_std, noise, dev) -> Tensor:
    f32 = dict(device=dev, dtype=torch.float32)
    q = q.to(**f32)
    lk = {k: v.to(**f32) for k, v in look.items()}
    B, T = q.shape
    px = 1.0 / S
    coords = (torch.arange(S, **f32) + 0.5) * px
    X, Y = coords.view(1, 1, 1, S), coords.view(1, 1, S, 1)
    ox, oy = 0.5, 0.35  # pivot
    L = lk["rod_len"][:, None]
    bx, by = ox + L * torch.sin(q), oy + L * torch.cos(q)  # bob centre (B, T)
    bx4, by4 = bx[..., None, None], by[..., None, None]
    # distance to the rod segment pivot -> bob
    vx, vy = bx4 - ox, by4 - oy
    tproj = (((X - ox) * vx + (Y - oy) * vy) / (vx * vx + vy * vy)).clamp(0, 1)
    d_rod = torch.sqrt((X - ox - tproj * vx) ** 2 + (Y - oy - tproj * vy) ** 2 + 1e-12) - 0.012
    d_bob = torch.sqrt((X - bx4) ** 2 + (Y - by4) ** 2 + 1e-12) - lk["bob_r"].view(B, 1, 1, 1)
    d_piv = torch.sqrt((X - ox) ** 2 + (Y - oy) ** 2) - 0.02
    img = lk["bg"].view(B, 1, 1, 1, 3).expand(B, T, S, S, 3)
    dark = torch.tensor([0.15, 0.15, 0.18], **f32)
    img = torch.lerp(img, dark, _sigmoid_edge(torch.minimum(d_rod, d_piv), px)[..., None])
    img = torch.lerp(img, lk["bob_col"].view(B, 1, 1, 1, 3), _sigmoid_edge(d_bob, px)[..., None])
    img = img * lk["gain"].view(B, 1, 1, 1, 1)
    img = img + noise_std * noise
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


# ----------------------------------------------------------------------------- cache

def _jsonable(d: Dict[str, Any]) -> Dict[str, Any]:
    return json.loads(json.dumps(d, default=list))


def default_cache_dir() -> Path:
    """``$NOETHER_LITE_CACHE`` or ``~/.cache/noether_lite``, plus ``/video``."""
    root = os.environ.get("NOETHER_LITE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "noether_lite")
    return Path(root) / "video"


def load_or_render(cfg, *, cache_dir=None, device=None, verbose: bool = False) -> VideoData:
    """Load clips from the on-disk cache, or render (and cache) them.

    The cache file is named by dataset, size and seed; inside, it stores the
    generator's arguments and a checksum of the arrays. Any difference in the
    arguments (another clip count, another version of the renderer, ...) makes
    it stale; an unreadable file, or arrays that no longer match the checksum
    (altered on disk), make it damaged (one warning line says so). Either way it
    is rendered again and replaced atomically (write to a temporary file, then
    ``os.replace``), so an interrupted write never leaves a half file.

    Args:
        cfg: a :class:`RampConfig` or :class:`PendulumVideoConfig`.
        cache_dir: folder for the cache; ``None`` uses :func:`default_cache_dir`;
            ``False`` disables caching.
        verbose: print why a stale cache is rendered again.
    """
    render = {RampConfig: render_ramp, PendulumVideoConfig: render_pendulum}.get(type(cfg))
    if render is None:
        raise TypeError(f"cfg must be a RampConfig or PendulumVideoConfig, got {type(cfg).__name__}")
    name = "ramp" if isinstance(cfg, RampConfig) else "pendulum"
    want = {"name": name, "version": CACHE_VERSION, "config": _jsonable(asdict(cfg))}
    if cache_dir is False:
        return render(cfg, device=device)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"{name}_{cfg.size}px_seed{cfg.seed}.npz"
    if path.exists():
        cached = _read_cache(path, want, verbose)
        if cached is not None:
            return cached
    data = render(cfg, device=device)
    _write_cache(path, _cache_arrays(data, want))
    return data


def _checksum(arrays: Dict[str, np.ndarray]) -> str:
    """SHA-256 over every array but ``meta`` and ``checksum``: name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for key in sorted(k for k in arrays if k not in ("meta", "checksum")):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.reshape(-1).view(np.uint8).data)
    return h.hexdigest()


def _cache_arrays(data: VideoData, want: Dict[str, Any]) -> Dict[str, np.ndarray]:
    """What the cache file holds: the arrays, the arguments (``meta``) and the arrays' ``checksum``."""
    arrays = {"frames": data.frames.numpy(), "is_test": data.is_test.numpy(),
              "object_id": data.object_id.numpy(), "meta": np.array(json.dumps(want))}
    if data.actions is not None:
        arrays["actions"] = data.actions.numpy()
    arrays["checksum"] = np.array(_checksum(arrays))
    return arrays


def _read_cache(path: Path, want: Dict[str, Any], verbose: bool) -> Optional[VideoData]:
    """The cached clips, or ``None`` when the file is stale (printed if ``verbose``) or damaged (warned)."""
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # fh: closed even when np.load fails
            meta = json.loads(str(z["meta"]))
            if meta != want:
                if verbose:
                    print(f"cache {path} is stale (made with other arguments); rendering again")
                return None
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # unreadable / truncated file
        warnings.warn(f"video cache {path} is unreadable ({_unreadable_reason(path, e)}); rendering it again",
                      stacklevel=3)
        return None
    problem = _checksum_problem(arrays)
    if problem:
        warnings.warn(f"video cache {path} {problem}; rendering it again", stacklevel=3)
        return None
    acts = torch.from_numpy(arrays["actions"]) if "actions" in arrays else None
    return VideoData(torch.from_numpy(arrays["frames"]), torch.from_numpy(arrays["is_test"]),
                     torch.from_numpy(arrays["object_id"]), acts, meta)


def _checksum_problem(arrays: Dict[str, np.ndarray]) -> Optional[str]:
    """Why ``arrays`` fail their stored checksum (as a phrase), or ``None`` when they match."""
    if "checksum" not in arrays:
        return "has no checksum (written by an older noether-lite)"
    if str(arrays["checksum"]) != _checksum(arrays):
        return "does not match its checksum (its arrays were altered on disk)"
    return None


def _unreadable_reason(path: Path, error: Exception, limit: int = 120) -> str:
    """Why ``np.load`` failed on ``path``, on one line (a file that is no zip archive says so)."""
    if not zipfile.is_zipfile(path):
        return "not an .npz archive: truncated or overwritten"
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _write_cache(path: Path, arrays: Dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (a temporary file in the same folder, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
