"""Video data: the renderers, the on-disk cache, the Physics 101 loader."""
import numpy as np
import pytest
import torch

from noether_lite.video.physics101 import (
    Physics101Ramp,
    find_ramp_clips,
    load_physics101,
    prepare_frames,
)

torch.set_num_threads(1)


def _write_ramp_tree(root, colours):
    iio = pytest.importorskip("imageio.v3", reason="the 'video' extra (imageio) is not installed")
    pytest.importorskip("imageio_ffmpeg", reason="no mp4 encoder: imageio-ffmpeg is not installed")
    paths = []
    for k, (obj, trial, col) in enumerate(colours):
        d = root / "ramp" / obj / "20_01" / trial
        d.mkdir(parents=True)
        frames = np.zeros((30, 48, 64, 3), dtype=np.uint8)
        frames[:] = np.array(col, dtype=np.uint8)
        frames[:, :, :, 0] = np.arange(30, dtype=np.uint8)[:, None, None] * 8  # time ramp in red
        iio.imwrite(d / "Kinect_RGB_1.mp4", frames, fps=30, codec="libx264", macro_block_size=16)
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
