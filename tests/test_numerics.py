"""The pinned CPU arithmetic: same bits whatever the outer thread and kernel settings."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from noether_lite.numerics import PINNED_ENV, cpu_numerics, reproducible_cpu


@pytest.fixture
def restore_numerics():
    threads, mkldnn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    yield
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = mkldnn


def test_reproducible_cpu_fixes_threads_and_turns_onednn_off(restore_numerics, monkeypatch):
    for k, v in PINNED_ENV.items():
        monkeypatch.setenv(k, v)
    got = reproducible_cpu(threads=1)
    assert got == cpu_numerics()
    assert got["threads"] == 1 and torch.get_num_threads() == 1
    assert got["mkldnn"] is False and not torch.backends.mkldnn.enabled
    assert got["MKL_CBWR"] == "AVX2"


def test_reproducible_cpu_warns_when_a_kernel_choice_is_not_pinned(restore_numerics, monkeypatch):
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    monkeypatch.delenv("MKL_CBWR", raising=False)
    with pytest.warns(UserWarning, match=r"MKL_CBWR not set.*os.environ\['MKL_CBWR'\] = 'AVX2'"):
        reproducible_cpu(threads=1)


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True, None])
def test_reproducible_cpu_refuses_a_thread_count_that_is_not_a_positive_integer(bad):
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        reproducible_cpu(threads=bad)


CHILD = r"""
import hashlib, json, os
os.environ.setdefault("MKL_CBWR", "AVX2")
os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")
import torch
from dataclasses import replace
from noether_lite.numerics import reproducible_cpu
reproducible_cpu(threads=2)
from noether_lite.video import NoetherVideo, RampConfig, render_ramp, svg_config
from noether_lite.video.train import VideoTrainConfig, train_video
data = render_ramp(RampConfig(size=32, n_objects=4, clips_per_object=2, seed=0))
torch.manual_seed(0)
m = NoetherVideo(svg_config("quick", 32))
cfg = VideoTrainConfig(steps=3, batch_size=4, lr=2e-3, train_future=4, log_every=1, seed=0)
train_video(m, data, cfg, device="cpu", progress=False)
train_video(m, data, replace(cfg, steps=2, inner_steps=1), device="cpu", progress=False)
w = torch.cat([p.detach().flatten() for p in m.parameters()])
print(json.dumps(hashlib.sha1(w.numpy().tobytes()).hexdigest()))
"""


def test_pinned_video_training_gives_the_same_bits_under_other_thread_and_kernel_settings():
    """Training with second-order meta-steps, in fresh processes whose environment asks for other
    thread counts and instruction sets: under the pins the weights agree bit for bit."""
    outer = [
        {},
        {"OMP_NUM_THREADS": "1", "ONEDNN_MAX_CPU_ISA": "SSE41"},
        {"OMP_NUM_THREADS": "3", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_NUM_THREADS": "1"},
    ]
    hashes = []
    for extra in outer:
        env = {k: v for k, v in os.environ.items()
               if k not in ("MKL_CBWR", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")}
        env.update(extra)
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
        hashes.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert len(set(hashes)) == 1, hashes


def test_the_chapters_setup_cell_sets_every_pinned_variable_before_torch_is_imported():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ci"))
    from badges import setup_source

    src = setup_source()
    for k, v in PINNED_ENV.items():
        assert f'os.environ.setdefault("{k}", "{v}")' in src
    first_import = src.index("from noether_lite")  # imports torch
    for k in PINNED_ENV:
        assert src.index(f'os.environ.setdefault("{k}"') < first_import
    assert "reproducible_cpu(threads=2)" in src
