"""Figures and read-outs of the physics chapters: checked against analytic embeddings."""
import matplotlib
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from noether_lite.core.conservation import OracleEmbedding  # noqa: E402
from noether_lite.models.mlp import EmbeddingMLP  # noqa: E402
from noether_lite.viz.physics import (  # noqa: E402
    PAPER_RMSE,
    embedding_correlation,
    plot_level_sets,
    plot_lr_sweep,
    plot_rmse_per_horizon,
    results_table,
)

matplotlib.use("Agg")


def test_correlation_is_one_for_affine_functions_of_the_energy():
    oracle = OracleEmbedding("pendulum")
    out = embedding_correlation(lambda x: -2.0 * oracle(x) + 5.0, "pendulum", n=500)
    assert out["per_dim"] == pytest.approx([1.0])
    assert out["linear"] == pytest.approx(1.0)


def test_best_linear_combination_recovers_the_energy_from_its_parts():
    # spring: H = q² + p²; neither q² nor p² alone explains H, their sum does
    parts = lambda x: torch.stack([x[..., 0] ** 2, x[..., 1] ** 2, x[..., 0]], dim=-1)  # noqa: E731
    out = embedding_correlation(parts, "spring", n=2000, seed=1)
    assert len(out["per_dim"]) == 3
    assert max(out["per_dim"]) < 0.8
    assert out["linear"] == pytest.approx(1.0, abs=1e-9)


def test_correlation_of_an_unrelated_quantity_is_small():
    out = embedding_correlation(lambda x: x[..., :1], "spring", n=4000)  # g = q: odd, H even
    assert out["per_dim"][0] < 0.1 and out["linear"] < 0.1


def test_level_sets_of_the_oracle_lie_on_the_energy_contours():
    ax = plot_level_sets(OracleEmbedding("spring"), "spring", n_grid=41, n_levels=4)
    dashed, coloured = ax.collections[-2], ax.collections[-1]
    # both contour sets pass through the same seed points: same number of levels
    assert len(dashed.levels) == len(coloured.levels) == 4
    np.testing.assert_allclose(dashed.levels, coloured.levels)
    assert ax.get_xlim() == pytest.approx((-1.1, 1.1))


def test_level_sets_accept_a_neural_embedding_and_check_dim():
    torch.manual_seed(0)
    emb = EmbeddingMLP(out_dim=2, hidden=8).float()  # float32 module, float64 grid
    ax = plot_level_sets(emb, "pendulum", dim=1, n_grid=21)
    assert "g[1]" in ax.get_title()
    with pytest.raises(ValueError, match="dim=2"):
        plot_level_sets(emb, "pendulum", dim=2, n_grid=21)


def test_rmse_per_horizon_skips_the_exact_first_point_on_a_log_axis():
    result = {"system": "spring", "rmse_per_horizon": {"vanilla": [0.0, 0.1, 0.2], "oracle": [0.0, 0.05, 0.1]}}
    ax = plot_rmse_per_horizon(result, dt=0.5)
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.5, 1.0])
    ax = plot_rmse_per_horizon(result["rmse_per_horizon"], methods=["oracle"], logy=False)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.0, 0.05, 0.1])


def test_lr_sweep_marks_the_best_point_and_the_baseline():
    ax = plot_lr_sweep({"oracle": {1e-3: 0.3, 1e-2: 0.1, 1e-1: 0.5}}, baseline=0.4)
    assert ax.get_xscale() == "log"
    best = ax.lines[1]
    assert best.get_xdata()[0] == 1e-2 and best.get_ydata()[0] == 0.1
    assert ax.lines[2].get_ydata()[0] == 0.4  # the baseline
    ax = plot_lr_sweep({"K": {0: 1.0, 1: 0.5, 4: 0.7}}, xlabel="inner steps K")
    assert ax.get_xscale() == "linear"  # K = 0 cannot sit on a log axis


def test_results_table_puts_ours_next_to_the_paper():
    table = results_table({"pendulum": {"vanilla": 0.1, "noether_oracle": 0.05}, "damped": {"vanilla": 0.2}})
    lines = table.splitlines()
    assert len(lines) == 4  # header + 2 pendulum rows + 1 damped row
    assert "0.0563" in lines[1] and "0.0422" in lines[2]
    assert lines[2].split()[3] == "0.50"  # our ratio
    assert f"{PAPER_RMSE['pendulum']['noether_oracle'] / PAPER_RMSE['pendulum']['vanilla']:.2f}" in lines[2]
    assert "—" in lines[3]  # no paper number for the damped pendulum


def _diagnosis():
    row = {"meta_trained": True, "inner_lr": 0.01, "corr_before": 0.14, "corr_after": 0.89, "linear_before": 0.63,
           "linear_after": 0.9, "rmse": 0.02, "rmse_over_control": 1.2, "grad_rms": {"theta": 0.065, "phi": 0.23},
           "meta_steps": 300, "seconds": 1.0}
    return {"systems": {"pendulum": {"scale": {"lr_for_H": 0.01, "lr_for_4H": 0.001}, "control_rmse": 0.0167,
                                     "variants": {"default": dict(row, meta_trained=False), "scale-free": row}}}}


def test_the_embedding_diagnosis_table_prints_each_variant_and_the_scale_effect():
    from noether_lite.viz import embedding_diagnosis_table

    text = embedding_diagnosis_table(_diagnosis())
    assert "λ_in chosen for g = H: 0.01, for g = 4H: 0.001" in text
    lines = text.splitlines()
    assert lines[2].split()[:2] == ["default", "no"] and lines[3].split()[:2] == ["scale-free", "yes"]
    assert "0.14 → 0.89" in lines[3] and "1.200" in lines[3]


def test_the_embedding_diagnosis_figure_has_two_bars_per_variant():
    from noether_lite.viz import plot_embedding_diagnosis

    (ax,) = plot_embedding_diagnosis(_diagnosis())
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.14, 0.14, 0.89, 0.89])


def test_the_diagnosis_reading_follows_its_numbers():
    from noether_lite.viz import describe_embedding_diagnosis

    d = _diagnosis()
    d["systems"]["pendulum"]["variants"]["default"]["grad_rms"] = {"theta": 1e-3, "phi": 1e-5}
    text = describe_embedding_diagnosis(d)
    assert "meta-gradient is 1e-02 of θ's" in text and "scale-free: 4e+00" in text
    assert "Best alignment after meta-training: default" in text  # ties: the first
    assert "Better than the control in this seed: none." in text
    d["systems"]["pendulum"]["variants"]["scale-free"].update(corr_after=0.95, rmse_over_control=0.8)
    text = describe_embedding_diagnosis(d)
    assert "scale-free, |corr| 0.95 (R 0.90), at or above 0.9" in text and "seed: scale-free." in text
