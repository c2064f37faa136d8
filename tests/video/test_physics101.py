"""The Physics 101 loader: clips by index, clear errors for missing, short or damaged files."""
import re
import warnings

import numpy as np
import pytest
import torch

from noether_lite.video import physics101
from noether_lite.video.physics101 import (
    BadClip,
    Physics101Ramp,
    find_ramp_clips,
    load_physics101,
    prepare_frames,
)

torch.set_num_threads(1)


def _write_clip(path, col=(0, 40, 200), n_frames=30):
    """A small mp4 at ``path``: ``n_frames`` frames 48×64 of colour ``col``, red rising with time."""
    iio = pytest.importorskip("imageio.v3", reason="the 'video' extra (imageio) is not installed")
    pytest.importorskip("imageio_ffmpeg", reason="no mp4 encoder: imageio-ffmpeg is not installed")
    frames = np.zeros((n_frames, 48, 64, 3), dtype=np.uint8)
    frames[:] = np.array(col, dtype=np.uint8)
    frames[:, :, :, 0] = np.arange(n_frames, dtype=np.uint8)[:, None, None] * 8  # time ramp in red
    iio.imwrite(path, frames, fps=30, codec="libx264", macro_block_size=16)


def _write_ramp_tree(root, colours):
    paths = []
    for k, (obj, trial, col) in enumerate(colours):
        d = root / "ramp" / obj / "20_01" / trial
        d.mkdir(parents=True)
        _write_clip(d / "Kinect_RGB_1.mp4", col)
        paths.append(d / "Kinect_RGB_1.mp4")
    return paths


def test_loader_returns_the_clip_its_index_names(tmp_path):
    cols = [("ball", "1", (0, 40, 200)), ("ball", "2", (0, 200, 40)), ("cube", "1", (0, 120, 120))]
    _write_ramp_tree(tmp_path, cols)
    ds = Physics101Ramp(tmp_path, size=16, n_frames=10)
    assert len(ds) == 3
    for i in (2, 0, 1):  # any order: the item depends on the index only
        x = ds[i]
        assert x.shape == (10, 3, 16, 16) and 0 <= x.min() and x.max() <= 1
        obj, trial = ds.clip_paths[i].parts[-4], ds.clip_paths[i].parts[-2]
        want = dict(((o, t), c) for o, t, c in cols)[(obj, trial)]
        got = (x[:, 1:].mean(dim=(0, 2, 3)) * 255).tolist()
        assert abs(got[0] - want[1]) < 12 and abs(got[1] - want[2]) < 12
    # every second frame, the middle 10 of 15: red goes up by 2 * 8 per kept frame
    red = (ds[0][:, 0].mean(dim=(1, 2)) * 255)
    assert 10 < float(red.diff().mean()) < 22
    data = load_physics101(tmp_path, size=16, n_frames=10, test_fraction=0.5)
    assert data.frames.shape == (3, 10, 16, 16, 3) and data.is_test.any() and not data.is_test.all()


def test_missing_or_malformed_folder_gives_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*Kinect_RGB_1.mp4"):
        find_ramp_clips(tmp_path / "nope")
    (tmp_path / "ramp" / "ball").mkdir(parents=True)
    with pytest.raises(ValueError, match="no clips found.*20_0x"):
        Physics101Ramp(tmp_path)


def test_prepare_frames_rejects_short_or_bad_videos():
    with pytest.raises(ValueError, match="need at least 22"):
        prepare_frames(np.zeros((30, 8, 8, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        prepare_frames(np.zeros((60, 8, 8, 3), dtype=np.float32))
    out = prepare_frames(np.zeros((60, 30, 40, 3), dtype=np.uint8), size=8)
    assert out.shape == (22, 8, 8, 3)


# ----------------------------------------------------------------------------- bad clips on disk
THREE = [("ball", "1", (0, 40, 200)), ("ball", "2", (0, 200, 40)), ("cube", "1", (0, 120, 120))]


def _empty(path):
    path.write_bytes(b"")


def _truncated(path):
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _garbage(path):
    path.write_bytes(b"this is not a video " * 50)


def _too_short(path):
    _write_clip(path, n_frames=8)


BAD_CLIPS = [  # (how the clip is spoiled, the reason its message gives)
    (_empty, "the file is empty (0 bytes)"),
    (_truncated, "cannot be decoded, the file is truncated or corrupt (moov atom not found"),
    (_garbage, "cannot be decoded, the file is truncated or corrupt"),
    (_too_short, "video has 8 frames (4 after keeping every 2); need at least 10 after subsampling"),
]
BAD_IDS = [spoil.__name__.strip("_") for spoil, _ in BAD_CLIPS]


def _assert_one_clean_line(message: str) -> None:
    assert "\n" not in message and len(message) < 400, message
    assert "ffmpeg version" not in message and "configuration:" not in message, message


@pytest.mark.parametrize("spoil, reason", BAD_CLIPS, ids=BAD_IDS)
def test_a_bad_clip_raises_one_line_naming_the_file(tmp_path, capfd, spoil, reason):
    paths = _write_ramp_tree(tmp_path, THREE)
    spoil(paths[1])
    capfd.readouterr()
    with pytest.raises(BadClip, match=re.escape(f"clip {paths[1]}: {reason}")) as err:
        load_physics101(tmp_path, size=16, n_frames=10)
    assert isinstance(err.value, ValueError) and err.value.path == paths[1]
    _assert_one_clean_line(str(err.value))
    assert err.value.__cause__ is None and (err.value.__context__ is None or err.value.__suppress_context__)
    ds = Physics101Ramp(tmp_path, size=16, n_frames=10)  # the lazy dataset: the same error when indexed
    with pytest.raises(BadClip, match=re.escape(str(paths[1]))):
        ds[ds.clip_paths.index(paths[1])]
    assert ds[0].shape == (10, 3, 16, 16)
    assert "ffmpeg version" not in capfd.readouterr().err


@pytest.mark.parametrize("spoil, reason", BAD_CLIPS, ids=BAD_IDS)
def test_a_bad_clip_is_skipped_listed_and_warned_once(tmp_path, spoil, reason):
    paths = _write_ramp_tree(tmp_path, THREE)
    spoil(paths[1])
    with pytest.warns(UserWarning, match="load_physics101 skipped") as caught:
        data = load_physics101(tmp_path, size=16, n_frames=10, test_fraction=0.5, on_error="skip")
    ours = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(ours) == 1, ours  # (imageio's ResourceWarnings about ffmpeg's pipes are not ours)
    line = ours[0]
    _assert_one_clean_line(line)
    assert "skipped 1 of 3 clips" in line and str(paths[1]) in line and reason in line
    assert data.frames.shape == (2, 10, 16, 16, 3)
    assert [s["path"] for s in data.skipped] == [str(paths[1])] and reason in data.skipped[0]["reason"]
    assert data.meta["skipped"] == data.skipped and data.split("train").skipped == data.skipped
    assert sorted(data.object_id.tolist()) == [0, 1]  # ball (its good clip) and cube


def test_empty_files_are_refused_before_any_clip_is_decoded(tmp_path, monkeypatch):
    paths = _write_ramp_tree(tmp_path, THREE)
    _empty(paths[-1])
    decoded = []
    monkeypatch.setattr(physics101, "read_video", lambda p: decoded.append(p))
    with pytest.raises(BadClip, match=re.escape(f"clip {paths[-1]}: the file is empty")):
        load_physics101(tmp_path, size=16, n_frames=10)
    assert decoded == []


def test_a_folder_of_bad_clips_gives_no_data_but_a_clear_error(tmp_path):
    paths = _write_ramp_tree(tmp_path, THREE[:1])
    _truncated(paths[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(ValueError, match="none of the 1 clips under .* could be used .*moov atom"):
            load_physics101(tmp_path, size=16, n_frames=10, on_error="skip")


def test_good_clips_load_with_nothing_skipped_and_no_warning(tmp_path):
    _write_ramp_tree(tmp_path, THREE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        data = load_physics101(tmp_path, size=16, n_frames=10, on_error="skip")
    assert data.skipped == [] and len(data) == 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(on_error="ignore"), "on_error must be 'raise' or 'skip', got 'ignore'"),
    (dict(on_error=None), "on_error must be 'raise' or 'skip'"),
    (dict(test_fraction=1.0), r"test_fraction must be a number in \(0, 1\), got 1.0"),
    (dict(test_fraction="0.2"), r"test_fraction must be a number in \(0, 1\)"),
    (dict(size=0), "size must be an integer >= 1, got 0"),
    (dict(n_frames=0), "n_frames must be an integer >= 1, got 0"),
    (dict(stride=0), "stride must be an integer >= 1, got 0"),
    (dict(stride=1.5), "stride must be an integer >= 1, got 1.5"),
])
def test_bad_loader_arguments_are_refused_before_the_folder_is_read(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_physics101(tmp_path / "not read", **kwargs)


def test_read_video_names_a_missing_file(tmp_path):
    pytest.importorskip("imageio.v3", reason="the 'video' extra (imageio) is not installed")
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "nope.mp4"))):
        physics101.read_video(tmp_path / "nope.mp4")
