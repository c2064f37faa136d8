"""The video benchmark: times and the meta/baseline ratio."""
import json

import torch

from noether_lite.experiments.bench import bench_video

torch.set_num_threads(1)


def test_bench_reports_times_and_ratio(tmp_path):
    out = bench_video(quick=True, batches=(1,), device="cpu", variants=("fast",), warmup=0, iters=1,
                      n_frames=4, json_path=str(tmp_path / "b.json"), progress=False)
    row = out["rows"][0]
    assert row["batch"] == 1 and row["meta_fast_s"] > 0 and row["ratio_fast"] > 0
    assert json.loads((tmp_path / "b.json").read_text())["rows"][0]["batch"] == 1
