"""Shared data for the symbolic tests."""
import pytest

import noether_lite as nl


@pytest.fixture(scope="module")
def pendulum_clean():
    train, _ = nl.make_dataset("pendulum", seed=0)
    return train.x_clean


@pytest.fixture(autouse=True)
def one_thread():
    """The search's tensors are small: one thread, as discover_conserved uses (2 oversubscribe a shared CI box)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
