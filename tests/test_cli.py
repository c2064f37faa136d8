"""The command line: one parser, shared flags, --set, output files checked before any work."""
import json

import pytest

from noether_lite import cli
from noether_lite.cli import main
from noether_lite.experiments.physics import PhysicsConfig
from noether_lite.experiments.video import run_video, video_setup
from tests.tiny import TINY_VIDEO


@pytest.fixture
def captured(monkeypatch):
    import noether_lite.experiments.physics as physics

    seen = {}

    def fake_run_physics(system, *, config, device, progress, methods):
        seen.update(config=config, methods=methods)
        return {"system": system, "mode": "quick", "seed": config.seed, "rmse": {"vanilla": 0.5},
                "energy_drift": {"vanilla": 0.1}, "inner_lr": {}, "reverted": {}, "meta_trained": {},
                "seconds": 0.0, "config": {}}

    monkeypatch.setattr(physics, "run_physics", fake_run_physics)
    return seen


def test_set_reaches_any_config_field_typed_by_the_field():
    cfg = cli.apply_sets(PhysicsConfig(), cli.parse_sets(
        ["inner_steps=2", "lr_grid=0.01,0.1", "learn_inner_lr=false", "tailor_mode=weights", "meta_lr=3e-4"]))
    assert (cfg.inner_steps, cfg.lr_grid, cfg.learn_inner_lr, cfg.tailor_mode, cfg.meta_lr) == (
        2, (0.01, 0.1), False, "weights", 3e-4)
    setup = cli.apply_sets(video_setup("ramp", "quick", 0), cli.parse_sets(["train.lr=1e-3", "pretrain_steps=7",
                                                                            "k_sweep=0,1"]))
    assert (setup.train.lr, setup.pretrain_steps, tuple(setup.k_sweep)) == (1e-3, 7, (0, 1))


@pytest.mark.parametrize("sets, match", [
    (["nope=1"], "unknown field 'nope'; valid: system, quick"),
    (["inner_steps=two"], "expected a value like 1"),
    (["inner_steps"], "expected KEY=VALUE"),
    (["train.nope=1"], "unknown field 'nope'"),
    (["train=1"], "is a group of fields"),
    (["tailor_mode=bogus"], "tailor_mode must be"),
])
def test_set_refuses_what_the_config_does_not_have(sets, match):
    target = video_setup("ramp", "quick", 0) if sets[0].startswith("train") else PhysicsConfig()
    with pytest.raises(cli.UsageError, match=match):
        cli.apply_sets(target, cli.parse_sets(sets))


def test_physics_takes_set_and_writes_its_json(captured, tmp_path):
    out = tmp_path / "r.json"
    rc = cli.main(["physics", "--system", "spring", "--seed", "3", "--set", "inner_steps=2", "--set",
                   "lr_grid=0.03", "--json", str(out), "--no-progress"])
    assert rc == 0
    assert (captured["config"].inner_steps, captured["config"].lr_grid, captured["config"].seed) == (2, (0.03,), 3)
    assert json.loads(out.read_text())["rmse"] == {"vanilla": 0.5}


def test_pendulum_is_a_deprecated_alias_of_physics(captured, capsys):
    assert cli.main(["pendulum", "--no-progress"]) == 0
    assert "deprecated; use `noether-lite physics`" in capsys.readouterr().err
    assert captured["config"].system == "pendulum"


@pytest.mark.parametrize("argv, match", [
    (["physics", "--json", "/nonexistent-folder/r.json"], "does not exist"),
    (["physics", "--set", "nope=1"], "unknown field 'nope'"),
    (["physics", "--methods", "vanilla,bogus"], "unknown method"),
    (["video", "--k-sweep", "a,b"], "comma-separated integers"),
    (["video", "--k-sweep", "-1"], "integers >= 0"),
    (["video", "--time-budget", "-5"], "must be > 0"),
    (["bench", "video", "--variants", "bogus"], "choose from exact, fast"),
    (["bench", "video", "--batch", "0"], "integers >= 1"),
    (["bench", "video", "--iters", "0"], "--iters must be >= 1"),
    (["symbolic", "--operators", "+,bogus"], "unknown bogus; choose from +,-,*,/,sin,cos,square"),
    (["symbolic", "--system", "damped", "--units"], "--units: no units are known for system 'damped'"),
    (["symbolic", "--operators", "sq,bogus"], "unknown bogus; choose from"),
    (["study", "--vary", "noise", "--values", "a,b"], "comma-separated numbers"),
    (["study", "--vary", "noise", "--values=-0.1,0.1"], "noise values must be >= 0"),
    (["study", "--vary", "n_train", "--values", "5,5"], "distinct"),
    (["study", "--vary", "n_train", "--values", "5", "--methods", "vanilla,noether_oracle"], "vanilla_tuned"),
    (["study", "--vary", "n_train", "--values", "5", "--set", "nope=1"], "unknown field 'nope'"),
    (["study", "--vary", "n_train", "--values", "5", "--json", "/nonexistent-folder/s.json"], "does not exist"),
])
def test_usage_errors_exit_2_with_one_line_before_any_work(argv, match, captured, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err
    assert "config" not in captured  # nothing ran


@pytest.mark.parametrize("argv", [["physics", "--seed", "99999999999999999999999"], ["physics", "--seed", "x"],
                                  ["video", "--mode", "huge"], ["physics", "--quick", "--full"]])
def test_argument_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2 and "error:" in capsys.readouterr().err


def test_the_shared_flags_are_defined_once_and_every_experiment_has_them():
    parser = cli.build_parser()
    for argv in (["physics"], ["symbolic"], ["video"], ["bench", "video"], ["study", "--vary", "noise",
                                                                          "--values", "0"]):
        args = parser.parse_args(argv + ["--seed", "5", "--device", "cpu", "--json", "x.json", "--no-progress"])
        assert (args.seed, args.device, args.json, args.progress) == (5, "cpu", "x.json", False)
    assert parser.parse_args(["bench", "video"]).mode == "full"  # the benchmark's default: paper size
    assert parser.parse_args(["video", "--mode", "default"]).mode == "default"


def test_set_on_an_unset_optional_field_reads_a_number():
    setup = cli.apply_sets(video_setup("ramp", "full", 0), cli.parse_sets(["train.train_future=8"]))
    assert setup.train.train_future == 8


@pytest.mark.parametrize("argv, match", [
    (["physics", "--hidden", "0"], "hidden must be an integer >= 1"),
    (["physics", "--pretrain-steps", "-1"], "pretrain_steps must be an integer >= 0"),
    (["physics", "--set", "meta_steps=-3"], "meta_steps must be an integer >= 0"),
])
def test_sizes_are_validated_before_any_work(argv, match, captured, capsys):
    assert cli.main(argv) == 2
    assert match in capsys.readouterr().err and "config" not in captured


def test_cli_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(["pendulum", "--system", "spring", "--quick", "--seed", "1", "--json", str(out), "--no-progress",
               "--pretrain-steps", "30", "--meta-steps", "2", "--hidden", "16"])
    assert rc == 0
    res = json.loads(out.read_text())
    assert set(res) >= {"system", "mode", "seed", "rmse", "energy_drift", "seconds"}
    assert res["system"] == "spring" and res["mode"] == "quick" and res["seed"] == 1
    assert set(res["rmse"]) == {"vanilla", "hnn", "noether_oracle", "noether_learned", "vanilla_tuned"}
    assert all(v == v and v > 0 for v in res["rmse"].values())  # finite, positive
    assert "noether_oracle" in capsys.readouterr().out  # the printed table


def test_json_into_a_missing_folder_fails_before_any_work(tmp_path, capsys):
    assert main(["physics", "--json", str(tmp_path / "missing" / "r.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_video_cli_writes_the_documented_json(tmp_path, monkeypatch):
    import noether_lite.experiments.video as ex

    monkeypatch.setattr(ex, "run_video", lambda *a, **k: run_video("ramp", setup=TINY_VIDEO, progress=False,
                                                                  cache_dir=tmp_path, device="cpu"))
    out = tmp_path / "r.json"
    assert cli.main(["video", "--dataset", "ramp", "--quick", "--seed", "0", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert {"dataset", "mode", "seed", "mse", "psnr", "ssim", "seconds"} <= set(d)
    assert set(d["psnr"]) == {"svg", "noether"}


def test_symbolic_search_from_the_command_line_writes_its_json(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["symbolic", "--system", "spring", "--max-depth", "2", "--no-tailor", "--no-progress",
                 "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["system"] == "spring" and res["enumerated"] > 0 and res["best_formula"]
    assert '"best_formula"' in capsys.readouterr().out


def test_study_from_the_command_line_prints_its_table_and_writes_its_json(tmp_path, capsys):
    out = tmp_path / "study.json"
    sets = ["--set", "pretrain_steps=30", "--set", "meta_steps=3", "--set", "hidden=12", "--set", "n_test=3",
            "--set", "embedding_hidden=6", "--set", "validations=3"]
    assert main(["study", "--system", "spring", "--vary", "noise", "--values", "0,0.1", "--seeds", "2",
                 "--methods", "vanilla,vanilla_tuned,noether_oracle", "--no-progress", "--json", str(out)] + sets) == 0
    text = capsys.readouterr().out
    assert "varying noise" in text and "oracle - control" in text and "(4 runs" in text
    res = json.loads(out.read_text())
    assert [r["value"] for r in res["summary"]] == [0, 0.1] and res["spec"]["overrides"]["meta_steps"] == 3
    assert res["runs"][0]["seed"] == 0 and res["runs"][1]["seed"] == 1


def test_a_hamiltonian_formula_with_two_degrees_of_freedom_runs_from_the_command_line(captured, capsys):
    assert cli.main(["physics", "--hamiltonian", "(p1**2 + p2**2)/2 + (q1**2 + q2**2)**2/4",
                     "--invariant", "q1*p2 - q2*p1", "--system", "central_cli", "--no-progress"]) == 0
    from noether_lite.systems.hamiltonians import get_system

    sys_ = get_system("central_cli")
    assert captured["config"].system == "central_cli" and (sys_.dof, sys_.n_conserved) == (2, 2)


def test_a_users_system_is_imported_as_module_attr(captured, tmp_path, monkeypatch):
    (tmp_path / "my_systems.py").write_text(
        "from noether_lite.systems.hamiltonians import System\n"
        "quartic = System(name='quartic_cli', hamiltonian=lambda q, p: q**4 + p**2)\n"
        "not_a_system = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cli.main(["physics", "--system", "my_systems:quartic", "--no-progress"]) == 0
    assert captured["config"].system == "quartic_cli"


@pytest.mark.parametrize("argv, match", [
    (["physics", "--hamiltonian", "__import__('os')"], "unknown name"),
    (["physics", "--hamiltonian", "q**2 + p**2", "--invariant", "q1*p2"], "expected 1"),
    (["physics", "--invariant", "q*p"], "--invariant needs --hamiltonian"),
    (["physics", "--system", "nosuch"], "not a registered system"),
    (["physics", "--system", "nosuchmodule_xyz:thing"], "cannot import it"),
    (["physics", "--system", "math:pi"], "not a noether_lite System"),
    (["physics", "--hamiltonian", "q**2 + p**2", "--system", "spring"], "is built in"),
    (["study", "--vary", "noise", "--values", "0", "--hamiltonian", "q +"], "cannot parse"),
])
def test_bad_systems_are_refused_with_one_line_before_any_work(argv, match, captured, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err
    assert "config" not in captured


def test_symbolic_takes_its_operators_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["symbolic", "--system", "spring", "--max-depth", "2", "--operators", "+,square", "--no-tailor",
                 "--no-progress", "--json", str(out)]) == 0
    few = json.loads(out.read_text())["enumerated"]
    assert main(["symbolic", "--system", "spring", "--max-depth", "2", "--operators", "add,sq", "--no-tailor",
                 "--no-progress", "--json", str(out)]) == 0  # the grammar's aliases, as in run_symbolic
    assert json.loads(out.read_text())["enumerated"] == few
    assert main(["symbolic", "--system", "spring", "--max-depth", "2", "--no-tailor", "--no-progress",
                 "--json", str(out)]) == 0
    assert few < json.loads(out.read_text())["enumerated"]  # two operators enumerate fewer formulas than seven
    everything = json.loads(out.read_text())
    assert main(["symbolic", "--system", "spring", "--max-depth", "2", "--units", "--no-tailor", "--no-progress",
                 "--json", str(out)]) == 0
    pruned = json.loads(out.read_text())
    assert pruned["units"] and pruned["enumerated"] < everything["enumerated"]
    assert pruned["best_formula"] == everything["best_formula"] == "q**2 + p**2"
    assert sum(c["unit_pruned"] for c in pruned["counts"]) > 0
