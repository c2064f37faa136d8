"""Hostile but fair inputs: each is refused before any work with one line naming the input, or handled.

One table per kind of failure: (1) stale checkpoints, (2) output paths, (3) runs that would train
nothing or train on garbage, (4) raw errors from the command line, (6) interruption at any moment.
(5, concurrent labs, is in tests/course/test_labs.py; 7 and 8 in tests/symbolic and tests/course.)
"""
import math
import os
import signal

import pytest
import torch

import noether_lite as nl
from noether_lite import cli
from noether_lite.experiments.video import run_video
from tests.tiny import TINY_VIDEO


@pytest.fixture
def no_work(monkeypatch):
    """Replace every experiment by a recorder: a refused command must never reach one."""
    import noether_lite.experiments.bench as bench
    import noether_lite.experiments.physics as physics
    import noether_lite.experiments.symbolic as symbolic
    import noether_lite.experiments.video as video

    calls = []
    for mod, name in ((physics, "run_physics"), (symbolic, "run_symbolic"), (video, "run_video"),
                      (bench, "bench_video")):
        monkeypatch.setattr(mod, name, lambda *a, _n=name, **k: calls.append(_n) or {})
    return calls


# ---------------------------------------------------------------------------- (2) and (4): the command line
def _cli_cases(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    missing = str(tmp_path / "missing" / "r.json")
    return [
        (["physics", "--json", missing], "does not exist"),
        (["pendulum", "--json", missing], "does not exist"),
        (["symbolic", "--json", missing], "does not exist"),
        (["video", "--json", missing], "does not exist"),
        (["bench", "video", "--json", missing], "does not exist"),
        (["physics", "--json", str(tmp_path)], "is a folder"),
        (["physics", "--ckpt-dir", str(a_file)], "is a file"),
        (["symbolic", "--ckpt-dir", str(a_file)], "is a file"),
        (["video", "--ckpt-dir", str(a_file)], "is a file"),
        (["video", "--cache-dir", str(a_file)], "is a file"),
        (["video", "--frames", str(tmp_path / "missing" / "f.png")], "does not exist"),
        (["physics", "--seed", "99999999999999999999999"], "2\\*\\*63"),
        (["physics", "--seed", "-1"], "2\\*\\*63"),
        (["physics", "--seed", "x"], "integer"),
        (["physics", "--hidden", "100000000"], "GiB"),
        (["physics", "--hidden", "0"], "hidden must be an integer >= 1"),
        (["physics", "--pretrain-steps", "-3"], "pretrain_steps must be an integer >= 0"),
        (["physics", "--set", "pretrain_batch=0"], "pretrain_batch must be an integer >= 1"),
        (["physics", "--set", "meta_lr=nan"], "meta_lr must be a finite number > 0"),
        (["physics", "--set", "pretrain_lr=-1e-3"], "pretrain_lr must be a finite number > 0"),
        (["physics", "--set", "lr_grid=0.1,-1"], "lr_grid must be finite numbers > 0"),
        (["physics", "--set", "integrator=midpoint"], "integrator must be one of"),
        (["physics", "--set", "no_such=1"], "unknown field"),
        (["physics", "--set", "inner_steps=two"], "expected a value like"),
        (["physics", "--methods", "vanilla,bogus"], "unknown method"),
        (["symbolic", "--set", "top_k=0"], "integers >= 1"),
        (["video", "--k-sweep", "a,b"], "comma-separated integers"),
        (["video", "--k-sweep", "-1"], "integers >= 0"),
        (["video", "--time-budget", "-5"], "must be > 0"),
        (["video", "--time-budget", "0"], "must be > 0"),
        (["video", "--set", "train.lr=-1"], "lr"),
        (["video", "--set", "train.batch_size=0"], "batch_size"),
        (["video", "--set", "model.width=0"], "width must be an integer >= 1"),
        (["video", "--set", "tailor.inner_lr=-1"], "inner_lr must be a finite number >= 0"),
        (["bench", "video", "--iters", "0"], "--iters must be >= 1"),
        (["bench", "video", "--warmup", "-1"], "--warmup >= 0"),
        (["bench", "video", "--batch", "0"], "integers >= 1"),
        (["bench", "video", "--batch", "two"], "comma-separated integers"),
        (["bench", "video", "--variants", "bogus"], "choose from exact, fast"),
        (["lab", "run", "03", "--timeout", "0"], "must be >= 1"),
    ]


def _exit_code(argv):
    try:
        return cli.main(argv)
    except SystemExit as e:  # argparse's own errors (a bad type) exit 2 too
        return e.code


def test_every_bad_command_line_is_refused_with_one_line_and_exit_2_before_any_work(tmp_path, no_work, capsys):
    import re

    cases = _cli_cases(tmp_path)
    for argv, match in cases:
        rc = _exit_code(argv)
        err = capsys.readouterr().err
        assert rc == 2, (argv, err)
        assert re.search(match, err), (argv, err)
        assert not no_work, (argv, "work started")
        lines = err.strip().splitlines()  # argparse prints its usage first; then one error line, no traceback
        assert "Traceback" not in err and "error:" in lines[-1] and sum("error" in x for x in lines) == 1, (argv, err)
    assert len(cases) >= 35


# ---------------------------------------------------------------------------- (3) and (4): the library
FIT_CASES = [
    (dict(steps=-1), "steps must be an integer >= 0"),
    (dict(lr=float("nan")), "lr must be a finite number > 0"),
    (dict(lr=-1e-3), "lr must be a finite number > 0"),
    (dict(lr={"m": 0.0}), "lr\\['m'\\] must be a finite number > 0"),
    (dict(lr={"other": 1e-3}), "not trained"),
    (dict(log_every=0), "log_every must be an integer >= 1"),
    (dict(checkpoint_every=0), "checkpoint_every must be an integer >= 1"),
    (dict(grad_clip=0.0), "grad_clip must be a finite number > 0"),
    (dict(time_budget=-5.0), "time_budget must be a finite number >= 0"),
    (dict(time_budget=float("nan")), "time_budget"),
    (dict(seed=2**64), "seed must be an integer"),
    (dict(stop_at=-1), "stop_at must be an integer >= 0"),
]


@pytest.mark.parametrize("kwargs, match", FIT_CASES, ids=[c[1][:30] for c in FIT_CASES])
def test_fit_refuses_bad_arguments_before_any_step(kwargs, match):
    m = torch.nn.Linear(1, 1)
    calls = []

    def loss_fn(gen):
        calls.append(1)
        return m(torch.ones(1, 1)).sum()

    args = dict(modules={"m": m}, loss_fn=loss_fn, steps=3, progress=False)
    with pytest.raises(ValueError, match=match):
        nl.fit(**{**args, **kwargs})
    assert not calls


def _system(h):
    return lambda: nl.System(name="user", hamiltonian=h)


API_CASES = [
    (_system(lambda q, p: 1.0), "returned a float"),
    (_system(lambda q, p: (q + p).sum()), "returned shape \\(\\)"),
    (_system(lambda q, p: torch.stack([q, p])), "returned shape \\(2, 3\\)"),
    (_system(lambda q, p: math.cos(q)), "torch functions"),
    (_system(lambda q, p: (q * 0).detach()), "no gradient"),
    (_system(lambda q, p: q / 0), "not finite"),
    (lambda: nl.PhysicsConfig(pretrain_batch=0), "pretrain_batch must be an integer >= 1"),
    (lambda: nl.PhysicsConfig(meta_batch=0), "meta_batch must be an integer >= 1"),
    (lambda: nl.PhysicsConfig(embedding_dim=0), "embedding_dim must be an integer >= 1"),
    (lambda: nl.PhysicsConfig(embedding_lr=float("inf")), "embedding_lr must be a finite number > 0"),
    (lambda: nl.PhysicsConfig(loss_form="end"), "loss_form must be one of"),
    (lambda: nl.PhysicsConfig(hidden=10**8), "GiB"),
    (lambda: nl.PhysicsConfig(seed=-1), "seed must be an integer >= 0"),
    (lambda: nl.experiments.pretrain(nl.MLP(hidden=4), nl.make_dataset("spring", n_traj=4)[0], steps=1,
                                     batch_size=0, progress=False), "batch_size must be an integer >= 1"),
    (lambda: _bench(batches=[0]), "batches must be integers >= 1"),
    (lambda: _bench(variants=["bogus"]), "variants must be"),
    (lambda: _bench(iters=0), "iters must be an integer >= 1"),
    (lambda: _bench(json_path="/nonexistent/b.json"), "does not exist"),
    (lambda: _video_cfg(lr=float("nan")), "lr must be a finite number > 0"),
    (lambda: _video_cfg(train_future=0), "train_future must be"),
    (lambda: _svg(z_dim=0), "z_dim must be an integer >= 1"),
    (lambda: _svg(beta=-1.0), "beta must be a finite number >= 0"),
]


def _bench(**kw):
    from noether_lite.experiments.bench import bench_video

    return bench_video(quick=True, device="cpu", progress=False, **kw)


def _video_cfg(**kw):
    from noether_lite.video import VideoTrainConfig

    return VideoTrainConfig(**kw)


def _svg(**kw):
    from noether_lite.video import svg_config

    return svg_config("tiny", 16, **kw)


@pytest.mark.parametrize("make, match", API_CASES, ids=[c[1][:30] for c in API_CASES])
def test_bad_systems_and_configs_are_refused_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_non_finite_training_data_is_refused_before_training():
    tr, _ = nl.make_dataset("spring", n_traj=4, seed=0)
    tr.x[0, 0, 0] = float("nan")  # corrupted after construction
    with pytest.raises(ValueError, match="non-finite"):
        net = nl.NoetherNetwork(nl.MLP(hidden=4, cn=True), nl.OracleEmbedding("spring"), dt=tr.dt,
                                tailor=nl.TailorConfig(mode="cn"))
        nl.experiments.meta_train(net, tr, steps=2, progress=False)


def test_a_skipped_step_leaves_the_weights_and_moments_as_they_were_and_warns():
    torch.manual_seed(0)
    m = torch.nn.Linear(2, 1)
    bad = {3}

    def loss_fn(gen):
        step = len(seen)
        seen.append(step)
        loss = (m(torch.randn(4, 2, generator=gen)) ** 2).mean()
        return loss * float("nan") if step in bad else loss

    seen = []
    snaps = []
    with pytest.warns(RuntimeWarning, match="1 of 6 steps were skipped"):
        h = nl.fit(modules={"m": m}, loss_fn=loss_fn, steps=6, progress=False, log_every=6,
                   on_step=lambda s: snaps.append({k: v.clone() for k, v in m.state_dict().items()}))
    assert h.skipped == 1
    for k in snaps[2]:  # the state after step 4 (the skipped one) equals the state after step 3
        assert torch.equal(snaps[2][k], snaps[3][k]), k


def test_a_run_that_trained_nothing_says_so(tmp_path):
    with pytest.warns(RuntimeWarning, match="never trained"):
        r = nl.run_physics("spring", methods=("vanilla",), progress=False,
                           config=nl.PhysicsConfig.for_mode("spring", pretrain_steps=0, hidden=8, meta_steps=0))
    assert r["warnings"] and "untrained" in r["warnings"][0]


# ---------------------------------------------------------------------------- (1) stale state
def test_a_fork_checkpoint_made_from_another_pretrained_model_is_refused(tmp_path):
    kw = dict(setup=TINY_VIDEO, progress=False, cache_dir=tmp_path / "cache", device="cpu", ckpt_dir=tmp_path / "ck")
    with pytest.warns(RuntimeWarning, match="trained 0 steps"):
        run_video("ramp", time_budget=1e-9, **kw)  # every stage stops at once: checkpoints of untrained stages
    with pytest.raises(ValueError, match="continues a pretraining stopped at step 0 of 2"):
        run_video("ramp", **kw)  # refused before any work: the forks were made from the unfinished base
    (tmp_path / "ck" / "ramp_quick_seed0_pre.pt").unlink()  # pretraining now runs whole, to another model:
    with pytest.raises(ValueError, match="started from other weights"):  # the fork's own check refuses
        run_video("ramp", **kw)


def test_resuming_a_pretrain_checkpoint_with_another_seed_is_refused(tmp_path):
    tr, _ = nl.make_dataset("spring", n_traj=4, seed=0)
    ck = tmp_path / "p.pt"
    torch.manual_seed(0)
    nl.experiments.pretrain(nl.MLP(hidden=4), tr, steps=2, seed=0, progress=False, checkpoint=ck)
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="seed: saved 0, now 1"):
        nl.experiments.pretrain(nl.MLP(hidden=4), tr, steps=2, seed=1, progress=False, checkpoint=ck)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated"], ids=["zero-byte", "truncated"])
def test_a_damaged_checkpoint_names_its_path(tmp_path, content):
    ck = tmp_path / "d.pt"
    ck.write_bytes(content)
    with pytest.raises(ValueError, match="d.pt"):
        nl.experiments.pretrain(nl.MLP(hidden=4), nl.make_dataset("spring", n_traj=4)[0], steps=2, progress=False,
                                checkpoint=ck)


# ---------------------------------------------------------------------------- (6) interruption
@pytest.mark.parametrize("where", ["before backward", "after backward"])
def test_a_ctrl_c_anywhere_in_a_step_resumes_to_the_uninterrupted_weights_and_history(tmp_path, where):
    tr, _ = nl.make_dataset("spring", n_traj=6, n_points=6, seed=0)

    def run(ck=None, interrupt_at=None):
        torch.manual_seed(0)
        model = nl.MLP(hidden=8)
        X, Y = tr.pairs()
        state = {"n": 0}

        def loss_fn(gen):
            idx = torch.randint(0, X.shape[0], (16,), generator=gen)
            loss = ((model(X[idx]) - Y[idx]) ** 2).mean()
            state["n"] += 1
            if state["n"] == interrupt_at:
                if where == "before backward":
                    os.kill(os.getpid(), signal.SIGINT)  # lands inside the step, before the update
                else:
                    loss.register_hook(lambda g: os.kill(os.getpid(), signal.SIGINT) or g)  # during backward
            return loss

        h = nl.fit(modules={"m": model}, loss_fn=loss_fn, steps=10, log_every=2, progress=False, checkpoint=ck)
        return model, h

    ref_model, ref_h = run()
    ck = tmp_path / "i.pt"
    with pytest.raises(KeyboardInterrupt):
        run(ck, interrupt_at=4)
    model, h = run(ck)
    for k, v in ref_model.state_dict().items():
        assert torch.equal(v, model.state_dict()[k]), k
    assert h.loss == ref_h.loss and h.step == ref_h.step
