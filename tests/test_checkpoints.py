"""One checkpoint writer/reader and one device resolver for every training loop."""
import os

import pytest
import torch

from noether_lite.checkpoints import auto_device, load_checkpoint, save_checkpoint


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


def test_every_training_loop_uses_the_one_definition():
    import noether_lite.train as train
    import noether_lite.video.bench as bench
    import noether_lite.video.experiment as experiment
    import noether_lite.video.train as video_train

    for mod in (train, video_train, bench, experiment):
        assert mod.auto_device is auto_device
    assert train.save_checkpoint is save_checkpoint and video_train.save_checkpoint is save_checkpoint
    assert train.load_checkpoint is load_checkpoint and video_train.load_checkpoint is load_checkpoint
