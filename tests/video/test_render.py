"""Video data: the renderers, the on-disk cache, the Physics 101 loader."""
import json

import numpy as np
import torch

from noether_lite.video import render
from noether_lite.video.render import (
    PendulumVideoConfig,
    RampConfig,
    load_or_render,
    ramp_motion,
    render_pendulum,
    render_ramp,
)

torch.set_num_threads(1)


SMALL = RampConfig(size=16, n_frames=6, n_objects=5, clips_per_object=2)


def test_ramp_renderer_is_deterministic_per_seed_and_splits_by_object():
    a, b = render_ramp(SMALL), render_ramp(SMALL)
    assert torch.equal(a.frames, b.frames)
    c = render_ramp(RampConfig(**{**SMALL.__dict__, "seed": 1}))
    assert not torch.equal(a.frames, c.frames)
    assert a.frames.shape == (10, 6, 16, 16, 3) and a.frames.dtype == torch.uint8
    tr, te = a.split("train"), a.split("test")
    assert len(te) > 0 and set(tr.object_id.tolist()).isdisjoint(te.object_id.tolist())


def test_rendering_in_chunks_gives_the_same_clips():
    assert torch.equal(render_ramp(SMALL, chunk=3).frames, render_ramp(SMALL, chunk=100).frames)


def test_ramp_motion_follows_the_incline_law_then_stops_on_the_floor():
    t = torch.linspace(0, 3, 31, dtype=torch.float64)
    th = torch.tensor([0.35]); mu = torch.tensor([0.2])
    s = ramp_motion(t, s0=torch.zeros(1), v0=torch.zeros(1), theta=th, mu=mu, ramp_len=torch.tensor([0.5]), g=9.81)
    a = 9.81 * (torch.sin(th) - mu * torch.cos(th))
    on = s[0] < 0.5
    torch.testing.assert_close(s[0][on], 0.5 * a * t[on] ** 2)
    assert (s[0].diff() >= -1e-12).all() and s[0, -1] == s[0, -2]  # monotone, then at rest
    stuck = ramp_motion(t, s0=torch.zeros(1), v0=torch.zeros(1), theta=th, mu=torch.tensor([0.5]),
                        ramp_len=torch.tensor([0.5]), g=9.81)
    assert stuck.abs().max() == 0  # static friction holds it


def test_pendulum_renderer_has_actions_and_is_deterministic():
    cfg = PendulumVideoConfig(size=16, n_frames=7, n_clips=4)
    a, b = render_pendulum(cfg), render_pendulum(cfg)
    assert torch.equal(a.frames, b.frames) and a.actions.shape == (4, 7, 1)
    assert a.is_test.sum() == 1


def test_cache_is_reused_and_a_stale_cache_is_rebuilt(tmp_path, monkeypatch):
    d1 = load_or_render(SMALL, cache_dir=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    calls = []
    real = render.render_ramp

    def counting(cfg, **kw):
        calls.append(cfg)
        return real(cfg, **kw)

    monkeypatch.setattr(render, "render_ramp", counting)
    d2 = load_or_render(SMALL, cache_dir=tmp_path)
    assert calls == [] and torch.equal(d1.frames, d2.frames)
    # same file name (size, seed) but other arguments: stale, rebuilt
    other = RampConfig(**{**SMALL.__dict__, "n_objects": 4})
    d3 = load_or_render(other, cache_dir=tmp_path)
    assert len(calls) == 1 and len(d3) == 8
    with np.load(files[0]) as z:
        assert json.loads(str(z["meta"]))["config"]["n_objects"] == 4
    files[0].write_bytes(b"truncated")  # an unreadable cache is rebuilt too
    load_or_render(other, cache_dir=tmp_path)
    assert len(calls) == 2
    assert not list(tmp_path.glob("*.tmp"))
