"""Data-parallel training under torchrun (2 CPU processes, gloo) equals one process on the same
global batch, resumes exactly from rank 0's checkpoint, and refuses a batch that does not split."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from noether_lite.core.distributed import World, world
from tests.core import ddp_worker

ROOT = Path(__file__).resolve().parents[2]
#: float64 throughout; the two runs differ only in how the batch sums are split and reduced
#: (two means of 2 averaged vs one mean of 4) and in the convolutions' batch sizes: rounding of
#: order 1e-16 per operation, amplified by Adam's normalisation over 4 steps. Measured: the losses
#: equal, the weights within 8e-14 (absolute; 1e-12 of the largest weight of their tensor).
RTOL, ATOL = 1e-9, 1e-12


def _torchrun(*args, timeout=120):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_a_world_of_one_outside_torchrun():
    assert world() == World(0, 1, 0)
    assert World(1, 2).part(4) == slice(2, 4)
    with pytest.raises(ValueError, match="does not split over 2 processes"):
        World(0, 2).part(3)


def test_two_processes_train_like_one_on_the_same_global_batch(tmp_path):
    out = tmp_path / "ddp.pt"
    r = _torchrun(str(ROOT / "tests/core/ddp_worker.py"), str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    got = torch.load(out)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one, h = ddp_worker.train()
    finally:
        torch.set_num_threads(threads)
    torch.testing.assert_close(got["loss"], h.loss, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(got["task"], h.extras["task"], rtol=RTOL, atol=ATOL)
    assert got["reverted"] == h.reverted  # counts summed over the ranks
    ref = one.state_dict()
    for k, v in got["straight"].items():
        torch.testing.assert_close(v, ref[k], rtol=RTOL, atol=ATOL, msg=k)
    # stopped after 2 steps and resumed from rank 0's checkpoint: the same run
    assert got["steps_done"] == 4
    for k, v in got["resumed"].items():
        torch.testing.assert_close(v, got["straight"][k], rtol=0, atol=0, msg=k)
    # and the weights moved, so the comparison is not between two untrained models
    start = ddp_worker.tiny(torch.float64).state_dict()
    assert any(not torch.equal(v, start[k]) for k, v in ref.items())


def test_a_global_batch_that_does_not_split_is_refused_before_any_work(tmp_path):
    r = _torchrun("-m", "noether_lite", "video", "--quick", "--device", "cpu", "--set", "train.batch_size=3",
                  "--cache-dir", str(tmp_path), "--no-progress")
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if "does not split over 2 processes" in ln]
    assert lines, r.stderr[-2000:]
    assert lines[0].startswith("noether-lite video: error: batch_size 3 does not split")
    assert not list(tmp_path.iterdir())  # nothing rendered
