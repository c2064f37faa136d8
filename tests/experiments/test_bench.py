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


def test_bench_reports_the_exact_meta_step_against_the_targets():
    out = bench_video(quick=True, batches=(1,), device="cpu", variants=("exact",), warmup=0, iters=1,
                      n_frames=4, progress=False)
    assert out["ops_exact"] > 0
    got = {t["target"]: t for t in out["targets"]}
    assert set(got) == {"ratio", "ops"}  # on the CPU: no GPU throughput or GPU memory
    assert got["ops"]["value"] == out["ops_exact"] and got["ops"]["limit"] == 20_000
    assert got["ratio"]["value"] == out["rows"][0]["ratio_exact"]


def test_target_report_divides_by_the_limit_and_says_which_way_is_good():
    from noether_lite.experiments.bench import target_report

    rep = {t["target"]: t for t in target_report({"ratio": 5.0, "samples_per_s": 30.0, "ops": 1e4}, "cuda")}
    assert rep["ratio"]["ratio"] == 2.0 and not rep["ratio"]["met"]  # a maximum exceeded
    assert rep["samples_per_s"]["met"]  # a minimum passed
    assert "ops" not in rep  # the operator target is the CPU's


def test_quick_on_the_cpu_runs_on_one_thread_and_puts_the_count_back():
    torch.set_num_threads(2)
    try:
        out = bench_video(quick=True, batches=(1,), device="cpu", variants=("fast",), warmup=0, iters=1,
                          n_frames=3, count=False, progress=False)
        assert out["threads"] == 1 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
