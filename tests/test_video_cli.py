"""Video: the experiment function end to end (tiny), the CLI's JSON, the benchmark."""
import json

import torch

from noether_lite import cli
from noether_lite.video.bench import bench_video
from noether_lite.video.experiment import VideoSetup, run_video
from noether_lite.video.render import RampConfig
from noether_lite.video.svg import svg_config
from noether_lite.video.train import VideoTrainConfig

torch.set_num_threads(1)

TINY = VideoSetup(
    dataset="ramp", mode="quick",
    data=RampConfig(size=16, n_frames=7, n_objects=4, clips_per_object=2),
    model=svg_config("tiny", 16),
    train=VideoTrainConfig(steps=0, batch_size=2, lr=1e-3, train_future=2, amp="none", log_every=1),
    pretrain_steps=2, fork_steps=1, n_future=5, k_sweep=(0, 1),
)


def test_run_video_end_to_end_gives_per_horizon_results(tmp_path):
    r = run_video("ramp", setup=TINY, progress=False, cache_dir=tmp_path, device="cpu")
    for m in ("mse", "psnr", "ssim"):
        assert len(r[m]["svg"]) == 5 and len(r[m]["noether"]) == 5
    assert r["steps"] == {"pretrain": 2, "fork": 1}
    assert set(r["k_sweep"]) == {"0", "1"}
    json.dumps(r)  # JSON-able without return_models


def test_video_cli_writes_the_documented_json(tmp_path, monkeypatch):
    import noether_lite.video.experiment as ex

    monkeypatch.setattr(ex, "run_video", lambda *a, **k: run_video("ramp", setup=TINY, progress=False,
                                                                  cache_dir=tmp_path, device="cpu"))
    out = tmp_path / "r.json"
    assert cli.main(["video", "--dataset", "ramp", "--quick", "--seed", "0", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert {"dataset", "mode", "seed", "mse", "psnr", "ssim", "seconds"} <= set(d)
    assert set(d["psnr"]) == {"svg", "noether"}


def test_bench_reports_times_and_ratio(tmp_path):
    out = bench_video(quick=True, batches=(1,), device="cpu", variants=("fast",), warmup=0, iters=1,
                      n_frames=4, json_path=str(tmp_path / "b.json"), progress=False)
    row = out["rows"][0]
    assert row["batch"] == 1 and row["meta_fast_s"] > 0 and row["ratio_fast"] > 0
    assert json.loads((tmp_path / "b.json").read_text())["rows"][0]["batch"] == 1
