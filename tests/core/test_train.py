"""Training loop: exact resume, config checks, non-finite steps."""
import pytest
import torch

import noether_lite as nl


def _setup(seed=0):
    torch.manual_seed(seed)
    model = nl.MLP(hidden=8, cn=True)
    emb = nl.EmbeddingMLP(hidden=6)
    net = nl.NoetherNetwork(model, emb, dt=0.1, tailor=nl.TailorConfig(steps=1, inner_lr=1e-2, mode="cn", learn_inner_lr=True))
    tr, _ = nl.make_dataset("spring", n_traj=8, n_points=6, seed=0)
    return net, tr


def _state(net):
    return {k: v.clone() for k, v in net.state_dict().items()}


def test_interrupt_and_resume_is_bit_for_bit(tmp_path):
    net, tr = _setup()
    nl.experiments.meta_train(net, tr, steps=12, batch_size=3, seed=5, progress=False)
    reference = _state(net)

    net2, tr2 = _setup()
    ck = tmp_path / "run.pt"

    def interrupt(step):
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        nl.experiments.meta_train(net2, tr2, steps=12, batch_size=3, seed=5, progress=False, checkpoint=ck, on_step=interrupt)
    assert ck.exists()
    assert torch.load(ck, weights_only=False)["step"] == 5

    other, tr_other = _setup(seed=123)  # another starting model is another run: refused, naming why
    with pytest.raises(ValueError, match="started from other weights"):
        nl.experiments.meta_train(other, tr_other, steps=12, batch_size=3, seed=5, progress=False, checkpoint=ck)

    net3, tr3 = _setup()
    ran = []
    nl.experiments.meta_train(net3, tr3, steps=12, batch_size=3, seed=5, progress=False, checkpoint=ck,
                              on_step=ran.append)
    assert ran == list(range(6, 13))  # it continued after step 5
    resumed = _state(net3)
    for k in reference:
        assert torch.equal(reference[k], resumed[k]), k


def test_checkpoint_from_another_configuration_is_refused(tmp_path):
    model = nl.MLP(hidden=4)
    tr, _ = nl.make_dataset("spring", n_traj=4, seed=0)
    ck = tmp_path / "c.pt"
    nl.experiments.pretrain(model, tr, steps=3, progress=False, checkpoint=ck)
    with pytest.raises(ValueError, match=r"(?s)another run.*config.lr: saved 0.001, now 0.5.*delete it"):
        nl.experiments.pretrain(model, tr, steps=3, lr=0.5, progress=False, checkpoint=ck)
    with pytest.raises(ValueError, match=r"seed: saved 0, now 1"):
        nl.experiments.pretrain(model, tr, steps=3, seed=1, progress=False, checkpoint=ck)


def test_missing_checkpoint_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        nl.experiments.pretrain(nl.MLP(hidden=4), nl.make_dataset("spring", n_traj=4)[0], steps=1, progress=False,
                    checkpoint=tmp_path / "nope" / "c.pt")


def test_non_finite_steps_are_skipped_and_counted():
    model = nl.MLP(hidden=4)
    calls = {"n": 0}

    def loss_fn(gen):
        calls["n"] += 1
        out = model(torch.randn(4, 2, generator=gen)).pow(2).mean()
        return out * float("nan") if calls["n"] in (2, 3) else out

    before = [p.detach().clone() for p in model.parameters()]
    hist = nl.fit(modules={"m": model}, loss_fn=loss_fn, steps=6, progress=False, log_every=3)
    assert hist.skipped == 2
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def _quadratic():
    w = torch.nn.Linear(1, 1, bias=False)

    def loss_fn(gen):
        x = torch.randn(4, 1, generator=gen)
        loss = ((w(x) - 2 * x) ** 2).mean()
        return loss, {"task": loss.detach() * 0 + 2.0}

    return w, loss_fn


def test_extras_are_averaged_and_the_optimizer_state_carries_into_the_next_stage():
    w, loss_fn = _quadratic()
    h1 = nl.fit(modules={"w": w}, loss_fn=loss_fn, steps=3, log_every=3, progress=False)
    assert h1.extras == {"task": [2.0]} and h1.steps_done == 3
    assert int(h1.opt_state["w.weight"]["step"]) == 3
    h2 = nl.fit(modules={"w": w}, loss_fn=loss_fn, steps=2, progress=False, opt_state=h1.opt_state, seed=1)
    assert int(h2.opt_state["w.weight"]["step"]) == 5  # Adam continued, not restarted


def test_a_time_budget_stops_early_with_a_checkpoint_that_resumes(tmp_path):
    w, loss_fn = _quadratic()
    ck = tmp_path / "ck.pt"
    h = nl.fit(modules={"w": w}, loss_fn=loss_fn, steps=50, progress=False, checkpoint=ck, time_budget=0.0)
    assert h.steps_done == 0 and ck.exists()
    h = nl.fit(modules={"w": w}, loss_fn=loss_fn, steps=50, progress=False, checkpoint=ck, stop_at=7)
    assert h.steps_done == 7
    h = nl.fit(modules={"w": w}, loss_fn=loss_fn, steps=50, progress=False, checkpoint=ck)
    assert h.steps_done == 50


def _walker():
    """One weight w, trained towards 2; validation prefers w = 1 (it is passed on the way)."""
    w = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(w.weight)
    return w, (lambda gen: (w.weight - 2.0).pow(2).sum()), (lambda: float((w.weight.detach() - 1.0).pow(2).sum()))


def test_early_stopping_keeps_the_best_validated_weights_and_stops_when_they_stop_improving():
    w, loss, val = _walker()
    hist = nl.fit(modules={"w": w}, loss_fn=loss, steps=200, lr=0.05, progress=False,
                  validate=val, validate_every=2, patience=3)
    assert hist.stopped_early and hist.steps_done < 200
    best = min(range(len(hist.val_loss)), key=hist.val_loss.__getitem__)
    assert hist.best_step == hist.val_step[best]
    assert hist.val_step[-1] - hist.best_step == 3 * 2  # three validations without improvement
    assert val() == pytest.approx(hist.val_loss[best])  # the best weights were restored, not the last
    assert abs(float(w.weight.detach()) - 1.0) < 0.1

    w2, loss2, val2 = _walker()  # without patience: all steps, the best weights still restored
    hist2 = nl.fit(modules={"w": w2}, loss_fn=loss2, steps=60, lr=0.05, progress=False, validate=val2,
                   validate_every=2)
    assert not hist2.stopped_early and hist2.steps_done == 60
    assert val2() == pytest.approx(min(hist2.val_loss))


def test_an_early_stopped_run_resumes_to_the_same_weights(tmp_path):
    w, loss, val = _walker()
    nl.fit(modules={"w": w}, loss_fn=loss, steps=200, lr=0.05, progress=False, validate=val, validate_every=2,
           patience=3)
    ck = tmp_path / "es.pt"
    w2, loss2, val2 = _walker()
    nl.fit(modules={"w": w2}, loss_fn=loss2, steps=200, lr=0.05, progress=False, validate=val2, validate_every=2,
           patience=3, checkpoint=ck, stop_at=10)  # a partial run (as if interrupted)
    w3 = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(w3.weight)
    val3 = lambda: float((w3.weight.detach() - 1.0).pow(2).sum())  # noqa: E731
    h3 = nl.fit(modules={"w": w3}, loss_fn=lambda g: (w3.weight - 2.0).pow(2).sum(), steps=200, lr=0.05,
                progress=False, validate=val3, validate_every=2, patience=3, checkpoint=ck)
    assert torch.equal(w3.weight, w.weight) and h3.stopped_early
    again = nl.fit(modules={"w": w3}, loss_fn=lambda g: (w3.weight - 2.0).pow(2).sum(), steps=200, lr=0.05,
                   progress=False, validate=val3, validate_every=2, patience=3, checkpoint=ck)
    assert torch.equal(w3.weight, w.weight) and again.steps_done == h3.steps_done  # finished: nothing more


@pytest.mark.parametrize("kwargs, match", [
    (dict(patience=3), "patience needs validate"),
    (dict(validate=lambda: 0.0, patience=0), "patience must be an integer >= 1"),
    (dict(validate=lambda: 0.0, validate_every=0), "validate_every must be an integer >= 1"),
    (dict(validate=3.0), "validate must be a function"),
])
def test_early_stopping_arguments_are_checked_before_any_step(kwargs, match):
    w, loss, _ = _walker()
    with pytest.raises(ValueError, match=match):
        nl.fit(modules={"w": w}, loss_fn=loss, steps=5, progress=False, **kwargs)
    assert float(w.weight.detach()) == 0.0
