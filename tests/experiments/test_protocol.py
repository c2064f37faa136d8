"""build_tailored: choose λ_in, meta-train, keep it only if it helps, all on training data."""
import copy

import pytest
import torch

import noether_lite as nl
from noether_lite.experiments import build_tailored


@pytest.fixture(scope="module")
def pendulum():
    cfg = nl.PhysicsConfig.for_mode("pendulum", quick=True, seed=0, hidden=32, pretrain_steps=150, meta_steps=3,
                                    meta_batch=4)
    train, _ = nl.make_dataset("pendulum", n_traj=12, seed=0)
    torch.manual_seed(0)
    vanilla = nl.MLP(hidden=cfg.hidden, cn=True)
    nl.experiments.pretrain(vanilla, train, steps=cfg.pretrain_steps, progress=False)
    return cfg, train, vanilla


def test_the_rate_is_the_best_of_the_grid_on_training_data_or_none_if_none_beats_no_tailoring(pendulum):
    cfg, train, vanilla = pendulum
    before = copy.deepcopy(vanilla.state_dict())
    run = build_tailored(vanilla, nl.OracleEmbedding("pendulum"), train, cfg, progress=False)
    base = nl.experiments.train_rollout_rmse(vanilla, train)
    best = min(run.grid, key=run.grid.get)
    assert set(run.grid) == set(cfg.lr_grid)
    if run.grid[best] < base:
        assert run.inner_lr == best
    else:
        assert run.inner_lr == 0.0
    assert run.train_score <= base + 1e-12  # tailoring and kept meta-training never worsen the training score
    assert run.net.tailoring.steps == cfg.inner_steps
    for k, v in vanilla.state_dict().items():  # the pretrained model is never changed
        assert torch.equal(v, before[k])


def test_the_control_meta_trains_with_tailoring_off(pendulum):
    cfg, train, vanilla = pendulum
    run = build_tailored(vanilla, nl.OracleEmbedding("pendulum"), train, cfg, tailor=False, progress=False)
    assert run.inner_lr == 0.0 and run.grid == {} and run.net.tailoring.steps == 0
    assert run.history is not None and run.history.steps_done == cfg.meta_steps


def test_meta_training_that_hurts_on_training_data_is_thrown_away(pendulum):
    cfg, train, vanilla = pendulum
    from dataclasses import replace

    bad = replace(cfg, meta_lr=10.0)  # a step this large wrecks the model
    run = build_tailored(vanilla, nl.OracleEmbedding("pendulum"), train, bad, tailor=False, progress=False)
    assert not run.meta_trained
    for k, v in vanilla.state_dict().items():  # the kept model is the pretrained one
        assert torch.equal(run.net.model.state_dict()[k], v)
    assert run.train_score == pytest.approx(nl.experiments.train_rollout_rmse(vanilla, train))


def test_a_learned_embedding_starts_from_the_smallest_rate_when_none_helps(pendulum):
    cfg, train, vanilla = pendulum
    from dataclasses import replace

    cfg0 = replace(cfg, meta_steps=0)
    oracle = nl.OracleEmbedding("pendulum")
    huge = (1e6, 1e7)  # steps this large are reverted by the guard: no rate beats no tailoring
    run = build_tailored(vanilla, oracle, train, cfg0, grid=huge, progress=False)
    assert run.inner_lr == 0.0
    run = build_tailored(vanilla, oracle, train, cfg0, grid=huge, learn=True, progress=False)
    assert run.inner_lr == 1e6
