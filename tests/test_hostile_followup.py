"""Hostile inputs the first round missed, one table per kind: (1) a checkpoint of other data or other
meta-training arguments, (2) a path that access() approves but the file system refuses, (6) a Ctrl-C that
does not land on a logging boundary, and the study's --ckpt-dir."""
import os
import signal

import pytest
import torch

import noether_lite as nl
from noether_lite import cli

TR, _ = nl.make_dataset("spring", n_traj=6, n_points=6, seed=0)


# ---------------------------------------------------------------------------- (1) stale checkpoints
def _pretrain(data, ck, **kw):
    torch.manual_seed(0)
    return nl.experiments.pretrain(nl.MLP(hidden=4), data, steps=3, progress=False, checkpoint=ck, **kw)


def _meta(ck, tailor=None, **kw):
    torch.manual_seed(0)
    net = nl.NoetherNetwork(nl.MLP(hidden=4, cn=True), nl.OracleEmbedding("spring"), dt=TR.dt,
                            tailor=tailor or nl.TailorConfig(mode="cn"))
    return nl.experiments.meta_train(net, TR, steps=3, progress=False, checkpoint=ck, **kw)


HAND = nl.TrajectoryData(TR.t, TR.x, TR.x_clean, TR.dxdt)  # meta={}
STALE = [  # (first run, second run on the same checkpoint, what the refusal names)
    (lambda ck: _pretrain(TR.subset([0, 1]), ck), lambda ck: _pretrain(TR, ck), "data.sha256"),
    (lambda ck: _pretrain(HAND, ck),
     lambda ck: _pretrain(nl.TrajectoryData(TR.t, 2 * TR.x, 2 * TR.x_clean, 2 * TR.dxdt), ck), "data.sha256"),
    (lambda ck: _meta(ck), lambda ck: _meta(ck, lr=0.1), "lr.model"),
    (lambda ck: _meta(ck), lambda ck: _meta(ck, batch_size=3), "batch"),
    (lambda ck: _meta(ck), lambda ck: _meta(ck, target="trajectory"), "target"),
    (lambda ck: _meta(ck), lambda ck: _meta(ck, tailor=nl.TailorConfig(mode="cn", inner_lr=0.5)), "tailor.inner_lr"),
]


@pytest.mark.parametrize("first, second, field", STALE, ids=["subset", "hand-built", "meta-lr", "meta-batch",
                                                              "meta-target", "inner-lr"])
def test_a_checkpoint_of_other_data_or_other_arguments_is_refused(tmp_path, first, second, field):
    ck = tmp_path / "c.pt"
    first(ck)
    with pytest.raises(ValueError, match=rf"(?s)another run.*{field}: saved .*delete it"):
        second(ck)


# ---------------------------------------------------------------------------- (2) paths the file system refuses
# /proc refuses writes that os.access approves only for root; for other users access() says no first
ROOT_ONLY = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="access() already refuses /proc for a non-root user")
PATHS = [
    (["physics", "--json", "/tmp/" + "n" * 300 + ".json"], "cannot be used"),
    pytest.param(["video", "--json", "/proc/noether_lite_probe.json"], "cannot be written", marks=ROOT_ONLY),
    pytest.param(["symbolic", "--json", "/proc/noether_lite_probe.json"], "cannot be written", marks=ROOT_ONLY),
    pytest.param(["physics", "--ckpt-dir", "/proc/noether_lite_probe"], "cannot be created", marks=ROOT_ONLY),
]


@pytest.mark.parametrize("argv, match", PATHS, ids=["name-too-long", "video-proc", "symbolic-proc", "ckpt-proc"])
def test_a_path_the_file_system_refuses_is_refused_before_any_work(argv, match, capsys, monkeypatch):
    import noether_lite.experiments.physics as physics
    import noether_lite.experiments.symbolic as symbolic
    import noether_lite.experiments.video as video

    calls = []
    for mod, name in ((physics, "run_physics"), (symbolic, "run_symbolic"), (video, "run_video")):
        monkeypatch.setattr(mod, name, lambda *a, _n=name, **k: calls.append(_n) or {})
    try:
        rc = cli.main(argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and match in err and "Traceback" not in err and not calls, (rc, err, calls)


# ---------------------------------------------------------------------------- (6) interruption
def _fit(ck=None, at=None, where="before backward"):
    torch.manual_seed(0)
    model = nl.MLP(hidden=8)
    X, Y = TR.pairs()
    n = [0]

    def loss_fn(gen):
        idx = torch.randint(0, X.shape[0], (16,), generator=gen)
        loss = ((model(X[idx]) - Y[idx]) ** 2).mean()
        n[0] += 1
        if n[0] == at:
            if where == "before backward":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                loss.register_hook(lambda g: os.kill(os.getpid(), signal.SIGINT) or g)
        return loss

    return model, nl.fit(modules={"m": model}, loss_fn=loss_fn, steps=40, log_every=5, progress=False,
                         checkpoint=ck)


@pytest.mark.parametrize("at", [1, 7, 13, 24, 39])
@pytest.mark.parametrize("where", ["before backward", "during backward"])
def test_a_ctrl_c_between_two_log_entries_resumes_to_the_same_history(tmp_path, at, where):
    ref_model, ref_h = _fit()
    ck = tmp_path / "i.pt"
    with pytest.raises(KeyboardInterrupt):
        _fit(ck, at, where)
    assert torch.load(ck, weights_only=False)["step"] == at
    model, h = _fit(ck)
    for k, v in ref_model.state_dict().items():
        assert torch.equal(v, model.state_dict()[k]), k
    assert h.loss == ref_h.loss and h.step == ref_h.step


def test_the_study_takes_a_checkpoint_folder(tmp_path, monkeypatch):
    import noether_lite.experiments.study as study

    seen = []
    monkeypatch.setattr(study, "run_study", lambda *a, **k: seen.append(k.get("ckpt_dir")) or {"runs": [], "seconds": 0})
    monkeypatch.setattr(study, "study_table", lambda res: "")
    rc = cli.main(["study", "--vary", "n_train", "--values", "5", "--no-progress", "--ckpt-dir", str(tmp_path / "ck")])
    assert rc == 0 and seen == [tmp_path / "ck"]
