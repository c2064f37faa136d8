"""Video tables and sentences: seed tables, bench tables, horizon tables, bench descriptions."""
import pytest
import torch

torch.set_num_threads(1)




def test_seed_table_gives_mean_and_standard_error_of_the_gaps():
    from noether_lite.viz.video import plot_seed_gaps, seed_table

    runs = [{"seed": s, "psnr": {"svg": 20.0, "noether_k0": 20.0 + d0, "noether": 20.0 + d1},
             "ssim": {"svg": 0.8, "noether_k0": 0.8, "noether": 0.81}, "reverted": 0, "of": 10}
            for s, d0, d1 in ((0, 0.1, 0.2), (1, 0.3, 0.4), (2, -0.1, 0.0))]
    text = seed_table({"runs": runs, "dataset": "ramp"})
    # K=1 gaps 0.2, 0.4, 0.0: mean 0.2, sample sd 0.2, s.e. 0.2/sqrt(3) = 0.115
    assert "K=1 +0.20 ± 0.12 dB" in text and "K=0 +0.10 ± 0.12 dB" in text
    assert "ahead at K=1 in 2 of 3 seeds" in text
    fig = plot_seed_gaps({"runs": runs, "dataset": "ramp"})
    assert len(fig.axes[0].lines) == 3  # the zero line and the two series


def test_bench_table_reports_ratios_to_the_same_runs_baseline():
    from noether_lite.viz.video import bench_table, plot_bench

    def run(t):
        return {"rows": [{"config": "baseline", "median_s": 2.0, "gb_per_sample": 0.5, "ops": 100, "time_ratio": 1.0,
                          "memory_ratio": 1.0, "ops_ratio": 1.0},
                         {"config": "fast", "median_s": t, "gb_per_sample": 1.0, "ops": 1000, "time_ratio": t / 2.0,
                          "memory_ratio": 2.0, "ops_ratio": 10.0}]}
    text = bench_table({"before": run(8.0), "after": run(5.0)})
    assert "before" in text and "after" in text
    assert "meta, CN-only 2nd order     8.0   4.00 |    1.00   2.00 |      1000   10.0" in text
    assert "2.50" in text
    fig = plot_bench({"before": run(8.0), "after": run(5.0)})
    assert len(fig.axes) == 3


def test_an_empty_bench_result_gives_a_line_not_a_traceback():
    from noether_lite.viz.video import bench_table, describe_bench, plot_bench

    assert bench_table({}).startswith("no benchmark result")
    assert describe_bench({}) == "no meta-step configuration in this run"
    assert plot_bench({}) is None
    with pytest.raises(TypeError, match="is a dict"):
        bench_table([])


def test_horizon_table_prints_the_named_horizons_and_rejects_others():
    from noether_lite.viz.video import horizon_table

    res = {"psnr": {"svg": [30.04, 28.0, 26.0], "noether": [31.0, 28.46, 25.0]},
           "ssim": {"svg": [0.9, 0.8, 0.7], "noether": [0.91, 0.8, 0.69]}}
    lines = horizon_table(res, (1, 3)).splitlines()
    assert lines[1] == "      1       30.0 / 31.0        0.90 / 0.91"
    assert lines[2] == "      3       26.0 / 25.0        0.70 / 0.69"
    with pytest.raises(ValueError, match="1..3"):
        horizon_table(res, (4,))


def test_describe_bench_reads_each_meta_step_against_the_same_runs_svg_step():
    from noether_lite.viz.video import describe_bench

    run = {"rows": [{"config": "baseline", "time_ratio": 1.0, "memory_ratio": 1.0, "ops_ratio": 1.0},
                    {"config": "exact", "time_ratio": 3.84, "memory_ratio": 3.34, "ops_ratio": 16.8}]}
    assert describe_bench(run) == "meta, exact: 3.8x the time of an SVG step, 3.3x its memory per clip, 17x its operators"
    assert describe_bench({"rows": []}) == "no meta-step configuration in this run"


def test_frame_strip_draws_crisp_frames_and_where_they_changed():
    from noether_lite.viz.video import frame_strip

    clip = torch.zeros(1, 7, 3, 8, 8)
    for t in range(7):  # a bright pixel walking along the diagonal
        clip[0, t, :, t, t] = 1.0
    fig = frame_strip({"truth": clip, "still": torch.zeros(1, 7, 3, 8, 8)}, every=3)
    assert len(fig.axes) == 2 * 4  # frames 0, 3, 6 and the motion column, per row
    moved = fig.axes[3].images[0].get_array()
    assert moved[0, 0] == 1 and moved[3, 3] == 1 and moved[6, 6] == 1 and moved.sum() == 3
    assert fig.axes[7].images[0].get_array().sum() == 0  # a still row shows no motion
    assert fig.axes[0].images[0].get_interpolation() == "nearest"
    with pytest.raises(ValueError, match="clip must be in"):
        frame_strip({"truth": clip}, clip=1)
    with pytest.raises(ValueError, match=r"\(B, T, 3, H, W\)"):
        frame_strip({"truth": clip[0]})
    with pytest.raises(ValueError, match="past the last frame"):
        frame_strip({"truth": clip}, start=9)
