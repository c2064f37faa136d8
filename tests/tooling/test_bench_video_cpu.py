"""ci/bench_video_cpu.py: a bad --compare revision is refused before any work; the summary
reports the exact meta-step against the CPU targets from ratios of its own baseline."""
import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ci"))
bench = pytest.importorskip("bench_video_cpu")


def test_an_unknown_revision_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["--compare", "no-such-revision-xyz", "--configs", "baseline"])
    assert e.value.code == 2
    assert "--compare 'no-such-revision-xyz': not a commit" in capsys.readouterr().err


def test_the_summary_holds_ratios_to_the_baseline_and_the_cpu_targets():
    rows = [{"config": "baseline", "median_s": 1.0, "step_gb": 0.5, "gb_per_sample": 0.25, "ops": 1000},
            {"config": "exact", "median_s": 3.0, "step_gb": 1.0, "gb_per_sample": 0.5, "ops": 30_000}]
    a = argparse.Namespace(model="paper", size=64, amp="none")
    run = bench._summarise(rows, a, ["--size", "64"], threads=2)
    assert rows[1]["time_ratio"] == 3.0 and rows[1]["ops_ratio"] == 30.0
    got = {t["target"]: t for t in run["targets"]}
    assert got["ratio"]["value"] == 3.0 and not got["ratio"]["met"]
    assert got["ops"]["ratio"] == 1.5 and not got["ops"]["met"]
    assert got["cpu_gb_per_sample"]["met"]
