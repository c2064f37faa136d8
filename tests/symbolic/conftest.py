"""Shared data for the symbolic tests."""
import pytest

import noether_lite as nl


@pytest.fixture(scope="module")
def pendulum_clean():
    train, _ = nl.make_dataset("pendulum", seed=0)
    return train.x_clean
