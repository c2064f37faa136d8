"""make_dataset: seeded, split, sized by the protocol, recorded, and checked at the boundary."""
import pytest
import torch

import noether_lite as nl


def test_dataset_is_seeded_and_protocol_sized():
    a, _ = nl.make_dataset("pendulum", seed=3)
    b, _ = nl.make_dataset("pendulum", seed=3)
    c, _ = nl.make_dataset("pendulum", seed=4)
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)
    assert a.x.shape == (25, 45, 2)
    r = a.x_clean[:, 0].norm(dim=-1)
    assert (r >= 0.2 - 1e-6).all() and (r <= 2.0 + 1e-6).all()
    noise = (a.x - a.x_clean).std()
    assert 0.04 < float(noise) < 0.06


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    a, _ = nl.make_dataset("spring", n_traj=6, seed=3)
    b, _ = nl.make_dataset("spring", n_traj=6, seed=3)
    c, _ = nl.make_dataset("spring", n_traj=6, seed=4)
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)


def test_split_shapes_and_the_record_of_how_the_data_was_made():
    train, test = nl.make_dataset("pendulum", n_traj=10, n_points=7, train_fraction=0.7, seed=1)
    assert train.x.shape == (7, 7, 2) and test.x.shape == (3, 7, 2)
    assert train.meta["split"] == "train" and test.meta["split"] == "test"
    assert train.meta["seed"] == 1 and train.meta["n_points"] == 7 and train.meta["system"] == "pendulum"


def test_noise_is_the_only_difference_between_observed_and_clean_states():
    clean, _ = nl.make_dataset("spring", n_traj=4, noise_std=0.0, seed=0)
    assert torch.equal(clean.x, clean.x_clean)
    noisy, _ = nl.make_dataset("spring", n_traj=40, noise_std=0.1, seed=0)
    resid = noisy.x - noisy.x_clean
    assert 0.09 < float(resid.std()) < 0.11


def test_clean_states_follow_the_true_dynamics():
    data, _ = nl.make_dataset("spring", n_traj=4, noise_std=0.0, seed=0, dtype=torch.float64)
    energy = nl.get_system("spring").energy(data.x_clean)
    assert float((energy - energy[:, :1]).abs().max()) < 1e-6  # RK4 with 10 substeps conserves it


@pytest.mark.parametrize("kwargs, match", [
    ({"n_traj": 1}, "n_traj must be >= 2"),
    ({"train_fraction": 1.0}, "train_fraction"),
    ({"n_points": 1}, "n_points must be >= 2"),
    ({"noise_std": -0.1}, "noise_std must be >= 0"),
    ({"system": "no-such-system"}, "unknown system"),
])
def test_bad_arguments_are_refused_with_their_message(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nl.make_dataset(**{"system": "spring", **kwargs})
