"""run_video end to end (tiny), and the lesson checks and references of the video chapters."""
import json
import math

import pytest
import torch

from noether_lite.experiments.video import run_video
from tests.tiny import TINY_VIDEO

torch.set_num_threads(1)


def test_run_video_end_to_end_gives_per_horizon_results(tmp_path):
    r = run_video("ramp", setup=TINY_VIDEO, progress=False, cache_dir=tmp_path, device="cpu")
    for m in ("mse", "psnr", "ssim"):
        assert len(r[m]["svg"]) == 5 and len(r[m]["noether"]) == 5
    assert r["steps"] == {"pretrain": 2, "fork": 1}
    assert set(r["k_sweep"]) == {"0", "1"}
    json.dumps(r)  # JSON-able without return_models


# lessons and references
"""Video prediction: CNGrad on SVG, gradients, bf16 vs fp32, training resume, metrics."""


torch.set_num_threads(1)


def _res(svg, noe, k0=None, k1=None):
    r = {"psnr": {"svg": list(svg), "noether": list(noe)}}
    if k0 is not None:
        r["k_sweep"] = {"0": {"psnr": k0}, "1": {"psnr": k1}}
    return r


def test_describe_comparison_reads_the_numbers_it_is_given():
    from noether_lite.experiments.video import describe_comparison

    res = {"psnr": {"svg": [20.0, 20.0], "noether": [21.0, 19.9]},
           "ssim": {"svg": [0.90, 0.80], "noether": [0.91, 0.80]},
           "se": {"psnr": {"svg": [0.1, 0.1], "noether": [0.1, 0.1]},
                  "ssim": {"svg": [0.001, 0.001], "noether": [0.001, 0.001]}},
           "k_sweep": {"0": {"psnr": 20.2}, "1": {"psnr": 20.45}}, "reverted": {"test": 3, "of": 18}}
    text = describe_comparison(res)
    assert "PSNR: Noether ahead at 1 of 2 horizons (difference -0.10 to 1.00 dB); at 1 of them" in text
    assert "SSIM: Noether ahead at 1 of 2 horizons (difference 0.000 to 0.010); at 1 of them" in text
    assert "of the +0.45 dB gap, +0.20 dB is there before tailoring" in text and "+0.25 dB comes from" in text
    assert "reverted 3 of 18" in text


def test_lesson_check_gives_verdicts_that_turn_to_no_when_the_result_flips():
    from noether_lite.experiments.video import gap_summary, lesson_check

    good = _res([20.0, 21.0, 22.0], [20.5, 21.5, 22.5], k0=20.8, k1=21.5)  # gap +0.5 everywhere
    out = lesson_check(good, reference_gap=0.6, tolerance=0.2)
    assert out.splitlines() == [
        "after one test-time step, Noether is ahead of SVG in mean PSNR: yes",
        "the test-time step raises mean PSNR (K = 1 over K = 0): yes",
        "mean PSNR gap within +0.60 ± 0.20 dB: yes",
    ]
    assert "mean PSNR gap +0.50 dB" in gap_summary(good, 0.6, 0.2)
    assert "ahead at 3/3 horizons" in gap_summary(good, 0.6, 0.2)
    flipped = _res([20.0, 21.0, 22.0], [19.8, 20.9, 21.7], k0=21.3, k1=20.8)  # behind; the step hurts
    assert lesson_check(flipped, 0.6, 0.2).count(": NO") == 3
    # the band: just inside and just outside the tolerance
    assert lesson_check(good, 0.69, 0.2, claims=("gap",)).endswith("yes")
    assert lesson_check(good, 0.71, 0.2, claims=("gap",)).endswith("NO")


@pytest.mark.parametrize("kwargs, match", [
    ({"claims": ("bogus",)}, "claims must be"),
    ({"claims": ()}, "claims must be"),
    ({"tolerance": 0.0}, "tolerance positive"),
    ({"reference_gap": float("nan")}, "must be finite"),
    ({"claims": ("step_helps",)}, "needs res\\['k_sweep'\\]"),
])
def test_lesson_check_refuses_bad_arguments(kwargs, match):
    from noether_lite.experiments.video import lesson_check

    args = {"reference_gap": 0.5, "tolerance": 0.3, **kwargs}
    with pytest.raises(ValueError, match=match):
        lesson_check(_res([1.0], [2.0]), **args)
    with pytest.raises(ValueError, match="equally long"):
        lesson_check(_res([1.0, 2.0], [2.0]), 0.5, 0.3)


def test_quick_references_ship_with_the_package_and_record_their_spread():
    from noether_lite.experiments.video import quick_reference

    for ds in ("ramp", "pendulum"):
        ref = quick_reference(ds)
        gaps = [r["gap"] for r in ref["runs"]]
        mean = sum(gaps) / len(gaps)
        sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1))
        assert ref["tolerance"] == pytest.approx(3 * sd, abs=0.006)
        assert ref["reference_gap"] == pytest.approx(ref["runs"][0]["gap"], abs=0.006)
        assert ref["runs"][0]["numerics"]["mkldnn"] is False and ref["runs"][0]["numerics"]["threads"] == 2
    with pytest.raises(ValueError, match="dataset must be"):
        quick_reference("bogus")


def test_full_runs_returns_included_runs_or_the_command_that_makes_one():
    from noether_lite.experiments.video import full_runs

    runs, line = full_runs("ramp", {"ramp_full_seed1": {"seed": 1, "device": "GPU"}, "ramp_full_seed0":
                                    {"seed": 0, "device": "GPU"}, "pendulum_full_seed0": {"seed": 0, "device": "GPU"}})
    assert [r["seed"] for r in runs] == [0, 1] and line == "full mode, ramp: seeds 0, 1 on GPU"
    runs, line = full_runs("pendulum", {})
    assert runs == [] and "noether-lite video --dataset pendulum --full --seed 0" in line


def test_the_results_the_chapters_read_ship_with_the_package(tmp_path, monkeypatch):
    from noether_lite.experiments.video import video_artifacts

    monkeypatch.delenv("NOETHER_LITE_ARTIFACTS", raising=False)
    monkeypatch.chdir(tmp_path)  # no checkout around: what a Colab runtime sees
    art = video_artifacts()
    for stem in ("quick_seeds_ramp", "quick_seeds_pendulum", "ramp_default_seed0", "ramp_default_seed1", "bench_cpu"):
        assert stem in art, stem
    assert [r["seed"] for r in art["quick_seeds_ramp"]["runs"]] == [0, 1, 2, 3, 4]
    assert art["bench_cpu"]["after"]["rows"][0]["config"] == "baseline"
    assert not any(k.startswith("quick_reference_") for k in art)  # those are read by quick_reference()


def test_video_artifacts_reads_a_folder_of_ones_own_runs_or_refuses_a_missing_one(tmp_path, monkeypatch):
    from noether_lite.experiments.video import video_artifacts

    (tmp_path / "ramp_full_seed0.json").write_text(json.dumps({"seed": 0, "device": "GPU"}))
    assert video_artifacts(tmp_path) == {"ramp_full_seed0": {"seed": 0, "device": "GPU"},
                                         "folder": str(tmp_path.resolve())}
    monkeypatch.setenv("NOETHER_LITE_ARTIFACTS", str(tmp_path))
    assert "ramp_full_seed0" in video_artifacts()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert video_artifacts(empty) == {}
    with pytest.raises(ValueError, match="does not exist"):
        video_artifacts(tmp_path / "missing")
