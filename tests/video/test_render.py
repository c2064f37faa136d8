"""Synthetic videos: seeded renderers, chunked rendering, the incline law, the checksummed cache."""
import json
import warnings

import numpy as np
import pytest
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
    with pytest.warns(UserWarning, match="is unreadable"):
        load_or_render(other, cache_dir=tmp_path)
    assert len(calls) == 2
    assert not list(tmp_path.glob("*.tmp"))


# ----------------------------------------------------------------------------- a cache altered on disk
PENDULUM = PendulumVideoConfig(size=16, n_frames=7, n_clips=4)


def _rewrite(change):
    """Rewrite the cache file with ``change`` applied to its arrays (a valid .npz with other content)."""
    def spoil(path):
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        change(arrays)
        np.savez(path, **arrays)
    return spoil


def _flip_pixel(a):
    a["frames"] = a["frames"].copy()
    a["frames"].flat[123] ^= 1


def _swap_split(a):
    a["is_test"] = ~a["is_test"]


def _renumber_objects(a):
    a["object_id"] = a["object_id"][::-1].copy()


def _scale_actions(a):
    a["actions"] = a["actions"] * 2


def _drop_checksum(a):
    del a["checksum"]


def _other_checksum(a):
    a["checksum"] = np.array("0" * 64)


def _flip_byte(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def _cut_in_half(path):
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


ALTERED = [  # (config, how the cache file is altered, the reason the warning gives)
    (SMALL, _rewrite(_flip_pixel), "does not match its checksum (its arrays were altered on disk)"),
    (SMALL, _rewrite(_swap_split), "does not match its checksum"),
    (SMALL, _rewrite(_renumber_objects), "does not match its checksum"),
    (PENDULUM, _rewrite(_scale_actions), "does not match its checksum"),
    (SMALL, _rewrite(_other_checksum), "does not match its checksum"),
    (SMALL, _rewrite(_drop_checksum), "has no checksum"),
    (SMALL, _flip_byte, "is unreadable (BadZipFile: Bad CRC-32"),
    (SMALL, _cut_in_half, "is unreadable"),
]


@pytest.mark.parametrize("cfg, alter, reason", ALTERED, ids=[
    "pixel", "split", "object_id", "actions", "wrong-checksum", "no-checksum", "flipped-byte", "cut-in-half"])
def test_an_altered_cache_is_rebuilt_with_one_warning_line(tmp_path, monkeypatch, cfg, alter, reason):
    fresh = load_or_render(cfg, cache_dir=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    alter(path)
    name = "render_ramp" if isinstance(cfg, RampConfig) else "render_pendulum"
    calls = []
    real = getattr(render, name)
    monkeypatch.setattr(render, name, lambda c, **kw: calls.append(c) or real(c, **kw))
    with pytest.warns(UserWarning) as record:
        again = load_or_render(cfg, cache_dir=tmp_path)
    # other tests' garbage (a kernel's pipes) can be collected here and warn too: count only ours
    caught = [w for w in record if issubclass(w.category, UserWarning)]
    assert len(caught) == 1, [str(w.message) for w in caught]
    line = str(caught[0].message)
    assert "\n" not in line and line.startswith(f"video cache {path} ") and reason in line, line
    assert line.endswith("rendering it again"), line
    assert len(calls) == 1  # rebuilt, not loaded
    for key in ("frames", "is_test", "object_id", "actions"):
        a, b = getattr(fresh, key), getattr(again, key)
        assert (a is None and b is None) or torch.equal(a, b), key
    with warnings.catch_warnings():  # the rebuilt cache is sound: loaded, silently
        warnings.simplefilter("error", UserWarning)
        third = load_or_render(cfg, cache_dir=tmp_path)
    assert len(calls) == 1 and torch.equal(third.frames, fresh.frames)


def test_the_cache_stores_the_checksum_of_its_arrays(tmp_path):
    load_or_render(SMALL, cache_dir=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    assert str(arrays["checksum"]) == render._checksum(arrays) and len(str(arrays["checksum"])) == 64
    _flip_pixel(arrays)
    assert str(arrays["checksum"]) != render._checksum(arrays)
