"""The controlled study: configurations, paired intervals, resume, refusals."""
import json
import math

import pytest
import torch

from noether_lite.experiments.physics import PhysicsConfig, run_physics
from noether_lite.experiments.study import paired_interval, run_study, study_config, study_table

torch.set_num_threads(1)
TINY = dict(pretrain_steps=40, meta_steps=4, hidden=16, embedding_hidden=8, n_test=4, validations=4)


def test_paired_interval_is_the_t_interval_of_the_mean_difference():
    iv = paired_interval([0.1, 0.3, 0.2])  # mean 0.2, sd 0.1, t(2) = 4.303
    assert iv["mean"] == pytest.approx(0.2)
    assert iv["hi"] - iv["mean"] == pytest.approx(4.303 * 0.1 / math.sqrt(3), rel=1e-4)
    assert paired_interval([0.5]) == {"mean": 0.5, "lo": 0.5, "hi": 0.5, "n": 1}
    with pytest.raises(ValueError, match="no differences"):
        paired_interval([])


def test_a_study_configuration_sets_the_varied_field_and_stops_early_on_validation():
    cfg = study_config("spring", "noise", 0.1, seed=2)
    assert cfg.noise_std == 0.1 and cfg.seed == 2 and cfg.val_fraction > 0 and cfg.patience > 0
    assert study_config("pendulum", "n_train", 10).n_train == 10 and study_config("pendulum", "n_train", 10).n_val == 2
    assert study_config("pendulum", "horizon", 60).n_points == 60
    for vary, value, match in (("n_train", 1, "held out for validation"), ("n_train", 2.5, "integers"),
                               ("noise", -0.1, ">= 0"), ("width", 3, "vary must be one of")):
        with pytest.raises(ValueError, match=match):
            study_config("pendulum", vary, value)


def test_the_default_physics_data_are_unchanged_by_the_new_fields():
    # n_train = n_test = 25 and no validation split: the HNN protocol's 50 trajectories, split in half
    from noether_lite.systems.data import make_dataset

    cfg = PhysicsConfig.for_mode("spring", pretrain_steps=0, meta_steps=0)
    a, b = make_dataset("spring", seed=0)
    assert cfg.n_train + cfg.n_test == 50 and cfg.n_val == 0
    res = run_physics("spring", config=cfg, methods=("vanilla",), progress=False, return_models=True)
    assert torch.equal(res["data"]["train"].x, a.x) and torch.equal(res["data"]["test"].x, b.x)


def test_a_validation_split_is_held_out_of_training_and_used_to_stop(tmp_path):
    cfg = PhysicsConfig.for_mode("spring", seed=0, n_train=5, val_fraction=0.2, patience=2, **TINY)
    res = run_physics("spring", config=cfg, methods=("vanilla", "vanilla_tuned", "noether_oracle"),
                      progress=False, return_models=True)
    assert res["data"]["train"].x.shape[0] == 4 and res["data"]["test"].x.shape[0] == 4
    assert set(res["rmse"]) == {"vanilla", "vanilla_tuned", "noether_oracle"}
    with pytest.raises(ValueError, match="needs a validation split"):
        PhysicsConfig(patience=2)


def test_run_study_summarises_paired_differences_and_resumes_from_its_file(tmp_path, monkeypatch):
    out = tmp_path / "study.json"
    res = run_study("spring", "n_train", [4, 6], seeds=2, methods=("vanilla", "vanilla_tuned", "noether_oracle"),
                    json_path=out, progress=False, **TINY)
    assert [(r["value"], r["seed"]) for r in res["runs"]] == [(4, 0), (4, 1), (6, 0), (6, 1)]
    row = res["summary"][0]
    diffs = [r["rmse"]["noether_oracle"] - r["rmse"]["vanilla_tuned"] for r in res["runs"] if r["value"] == 4]
    assert row["oracle_minus_control"]["mean"] == pytest.approx(sum(diffs) / 2)
    assert "learned_minus_control" not in row
    assert json.loads(out.read_text())["summary"] == res["summary"]
    text = study_table(res)
    assert "oracle - control" in text and len(text.splitlines()) == 4

    import noether_lite.experiments.study as study

    calls = []
    monkeypatch.setattr(study, "run_physics", lambda *a, **k: calls.append(k) or pytest.fail("rerun"))
    again = run_study("spring", "n_train", [4, 6], seeds=2, methods=("vanilla", "vanilla_tuned", "noether_oracle"),
                      json_path=out, progress=False, **TINY)
    assert calls == [] and again["summary"] == res["summary"]  # every run was already in the file


@pytest.mark.parametrize("kwargs, match", [
    (dict(methods=("vanilla", "noether_oracle")), "must include 'vanilla_tuned'"),
    (dict(methods=("vanilla", "vanilla_tuned")), "must include 'vanilla_tuned' and 'noether_oracle'"),
    (dict(values=[5, 5]), "distinct"),
    (dict(seeds=0), "seeds must be"),
    (dict(seeds=[-1]), "seeds must be"),
    (dict(vary="speed"), "vary must be one of"),
    (dict(json_path="/no/such/folder/s.json"), "does not exist"),
])
def test_a_bad_study_is_refused_before_any_run(kwargs, match, monkeypatch):
    import noether_lite.experiments.study as study

    monkeypatch.setattr(study, "run_physics", lambda *a, **k: pytest.fail("a run started"))
    args = dict(system="spring", vary="n_train", values=[5, 10], seeds=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run_study(**args)


def _fake_result():
    runs = []
    for v, d in ((5, (-0.004, -0.005, -0.006)), (10, (-0.002, 0.003, 0.0))):
        for s, di in enumerate(d):
            runs.append({"value": v, "seed": s, "rmse": {"vanilla": 0.06, "vanilla_tuned": 0.05,
                                                         "noether_oracle": 0.05 + di}})
    from noether_lite.experiments.study import _result

    spec = {"system": "pendulum", "vary": "n_train", "values": [5, 10], "seeds": [0, 1, 2], "mode": "full",
            "methods": ["vanilla", "vanilla_tuned", "noether_oracle"], "overrides": {}}
    return _result(spec, runs, [5, 10], "", 1.0, study_config("pendulum", "n_train", 5))


def test_describe_study_reads_where_the_interval_excludes_zero():
    from noether_lite.experiments.study import describe_study

    text = describe_study(_fake_result())
    # at 5 the differences are -0.004..-0.006 (interval below zero); at 10 they straddle zero
    assert "better at n_train = 5;" in text and "largest mean gain 10.0 % at n_train = 5" in text
    assert "learned" not in text


def test_plot_study_draws_one_series_per_noether_network_with_intervals():
    from noether_lite.viz import plot_study

    ax = plot_study(_fake_result())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["oracle (true H) − control"]
    line = ax.containers[0].lines[0]
    assert line.get_ydata()[0] == pytest.approx(-10.0)  # -0.005 / 0.05, in %
    with pytest.raises(ValueError, match="no finished runs"):
        plot_study({"spec": {"vary": "noise"}, "summary": []})


def test_the_shipped_studies_load_by_name_and_a_missing_one_is_named(tmp_path):
    from noether_lite.experiments.study import study_results

    res = _fake_result()
    (tmp_path / "study_x.json").write_text(json.dumps(res))
    assert study_results("study_x", folder=tmp_path)["summary"] == res["summary"]
    with pytest.raises(ValueError, match="no study named 'nope'; there are: study_x"):
        study_results("nope", folder=tmp_path)
    for name, r in study_results().items():  # those in the package are whole studies
        assert name.startswith("study_") and r["summary"] and "noether-lite study --system" in r["command"]
        assert len(r["runs"]) == len(r["spec"]["values"]) * len(r["spec"]["seeds"])  # finished


def test_a_result_that_does_not_ship_is_named_with_those_that_do():
    from noether_lite.experiments.study import shipped_result

    with pytest.raises(ValueError, match="no result 'nope' ships with the package"):
        shipped_result("nope")


def test_a_formula_given_to_the_study_is_tailored_with_and_compared_with_the_control():
    res = run_study("spring", "n_train", [4], seeds=2, methods=("vanilla", "vanilla_tuned", "noether_oracle"),
                    formula="q**2 + p**2", progress=False, **TINY)
    row = res["summary"][0]
    assert "formula_minus_control" in row and res["spec"]["formula"] == "q**2 + p**2"
    # the formula is the spring's energy: the same embedding as the oracle, the same protocol, the same answer
    assert row["formula_minus_control"]["mean"] == pytest.approx(row["oracle_minus_control"]["mean"], abs=1e-6)
    with pytest.raises(ValueError, match="unknown name"):
        run_study("spring", "n_train", [4], seeds=1, formula="__import__(1)", progress=False, **TINY)
