"""One checkpoint writer/reader and one device resolver for every training loop."""
import os
from pathlib import Path

import pytest
import torch

from noether_lite.core.checkpoints import auto_device, load_checkpoint, save_checkpoint


def test_a_checkpoint_round_trips_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "run.pt"
    save_checkpoint(path, {"step": 3, "w": torch.arange(4.0)})
    save_checkpoint(path, {"step": 4, "w": torch.arange(5.0)})  # replaced whole
    ck = load_checkpoint(path)
    assert ck["step"] == 4 and torch.equal(ck["w"], torch.arange(5.0))
    assert os.listdir(tmp_path) == ["run.pt"]


def test_a_missing_folder_is_refused_unless_asked_to_create_it(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        save_checkpoint(tmp_path / "no" / "run.pt", {"step": 1})
    save_checkpoint(tmp_path / "no" / "run.pt", {"step": 1}, create_folder=True)
    assert load_checkpoint(tmp_path / "no" / "run.pt")["step"] == 1


@pytest.mark.parametrize("damage", ["empty", "truncated", "text"])
def test_a_damaged_checkpoint_is_refused_with_its_path_and_the_fix(tmp_path, damage):
    path = tmp_path / "run.pt"
    save_checkpoint(path, {"w": torch.randn(100)})
    data = path.read_bytes()
    path.write_bytes({"empty": b"", "truncated": data[: len(data) // 2], "text": b"not a checkpoint"}[damage])
    with pytest.raises(ValueError, match=r"run\.pt.*cannot be read.*delete it"):
        load_checkpoint(path)


def test_auto_device_resolves_and_validates():
    assert auto_device("cpu") == torch.device("cpu")
    assert auto_device(torch.device("cpu")) == torch.device("cpu")
    want = "cuda" if torch.cuda.is_available() else (
        "mps" if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available() else "cpu")
    assert auto_device("auto").type == want and auto_device(None).type == want
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        auto_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            auto_device("cuda")


@pytest.mark.parametrize("name", ["save_checkpoint", "load_checkpoint", "auto_device", "write_json", "fit"])
def test_each_piece_of_the_training_machinery_is_defined_once(name):
    import noether_lite

    root = Path(noether_lite.__file__).parent
    defs = [str(f.relative_to(root)) for f in root.rglob("*.py") if f"def {name}(" in f.read_text()]
    assert len(defs) == 1, defs


def test_video_training_runs_on_the_one_loop(monkeypatch):
    import noether_lite.core.train as core_train
    import noether_lite.video.train as video_train
    from noether_lite.video.render import RampConfig, render_ramp
    from tests.tiny import tiny

    calls = []
    real = core_train.fit

    def spy(**kw):
        calls.append(sorted(kw["modules"]))
        return real(**kw)

    monkeypatch.setattr(video_train, "fit", spy)
    data = render_ramp(RampConfig(size=16, n_frames=6, n_objects=2, clips_per_object=2))
    cfg = video_train.VideoTrainConfig(steps=1, batch_size=2, train_future=2, amp="none", log_every=1)
    m = tiny(torch.float32)
    video_train.train_video(m, data, cfg, device="cpu", progress=False)
    from dataclasses import replace

    video_train.train_video(m, data, replace(cfg, inner_steps=0), device="cpu", progress=False)
    assert calls == [["g", "inner_lr", "svg"], ["svg"]]  # the baseline never trains g_φ or λ_in
