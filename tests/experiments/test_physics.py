"""The physics experiment end to end (tiny schedule) and its command line."""
import pytest
import torch

import noether_lite as nl
from noether_lite.cli import main


def test_unknown_system_and_method(capsys):
    assert main(["physics", "--system", "double-pendulum"]) == 2
    assert "not a registered system; choose from" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown method"):
        nl.run_physics("spring", methods=("vanilla", "magic"))
    assert main(["physics", "--methods", "vanilla,magic"]) == 2
    assert "unknown method" in capsys.readouterr().err


def test_oracle_tailoring_at_test_time_lowers_rmse_on_the_pendulum():
    """The effect the experiment rests on, at a size a test can afford."""
    torch.manual_seed(0)
    train, test = nl.make_dataset("pendulum", seed=0, n_traj=12)
    model = nl.MLP(hidden=64, cn=True)
    nl.experiments.pretrain(model, train, steps=400, progress=False)
    net = nl.NoetherNetwork(model, nl.OracleEmbedding("pendulum"), dt=train.dt,
                            tailor=nl.TailorConfig(steps=1, inner_lr=1e-3, mode="cn"))
    lr, scores = nl.experiments.select_inner_lr(net, train, grid=(1e-3, 1e-2, 1e-1))
    assert lr > 0, scores
    plain = nl.evaluate(model, test, system="pendulum")
    tailored = nl.evaluate(net, test, system="pendulum", inner_lr=lr)
    assert tailored["energy_drift"] < plain["energy_drift"]


@pytest.mark.parametrize("form", ["separable", "separable+scale-free", "mlp+scale-free"])
def test_the_learned_embeddings_form_is_a_config_field(form):
    from noether_lite.experiments.physics import PhysicsConfig
    from noether_lite.models import ScaleFree, SeparableEmbedding

    cfg = PhysicsConfig.for_mode("spring", pretrain_steps=20, meta_steps=2, hidden=12, embedding_hidden=8,
                                 n_train=4, n_test=3, embedding=form)
    res = nl.run_physics("spring", config=cfg, methods=("vanilla", "noether_learned"), progress=False,
                         return_models=True)
    g = res["models"]["noether_learned"].embedding
    assert isinstance(g, ScaleFree) == form.endswith("scale-free")
    inner = g.embedding if isinstance(g, ScaleFree) else g
    assert isinstance(inner, SeparableEmbedding) == form.startswith("separable")
    assert res["config"]["embedding"] == form
