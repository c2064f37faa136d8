import math

import pytest
import torch

import noether_lite as nl


def test_rmse_on_known_inputs():
    pred = torch.zeros(2, 3, 2)
    target = torch.ones(2, 3, 2) * 2.0
    assert float(nl.rmse(pred, target)) == pytest.approx(2.0)
    target[:, 0] = 0.0  # error only after the first step
    per = nl.core.rmse_per_horizon(pred, target)
    assert per.tolist() == pytest.approx([0.0, 2.0, 2.0])
    assert float(nl.rmse(pred, target)) == pytest.approx(math.sqrt(4 * 2 / 3))


def test_energy_drift_on_known_inputs():
    traj = torch.tensor([[[1.0, 0.0], [0.0, 2.0]], [[0.0, 1.0], [0.0, 1.0]]])
    d = nl.energy_drift(traj, nl.get_system("spring").energy)  # H = q² + p²
    assert d.tolist() == pytest.approx([0.0, (3.0 + 0.0) / 2])
    rel = nl.energy_drift(traj, nl.get_system("spring").energy, relative=True)
    assert rel.tolist() == pytest.approx([0.0, 1.5])


def test_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        nl.rmse(torch.zeros(1, 2, 2), torch.zeros(1, 3, 2))
