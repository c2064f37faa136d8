"""The exercise checks against hostile but fair answers: answers that modify their inputs in place, return the
wrong kind of object (complex, half precision, a Python number, a wrong shape, NaN), change torch's global state
or raise. Each row is (exercise, answer, a substring the feedback must contain, or PASSES)."""
import pytest
import torch

import noether_lite.course.check as check

from .test_check import SOLUTIONS

PASSES = "passes"


def _energy(q, p, c=3.0):
    """The correct pendulum energy."""
    return c * (1 - torch.cos(q)) + p**2


def _zero_(*tensors):
    """Zero every tensor in place, outside autograd."""
    with torch.no_grad():
        for t in tensors:
            t.zero_()


# ----------------------------------------------------------------------------- inputs modified in place
def energy_zero_inputs(q, p, c=3.0):
    """Zeroes q and p, then returns the energy of the zeroed state (0 everywhere)."""
    _zero_(q, p)
    return torch.zeros_like(q)


def energy_then_zero_inputs(q, p, c=3.0):
    """Correct, but zeroes q and p after computing the energy."""
    out = _energy(q, p, c)
    _zero_(q, p)
    return out


def stack_then_zero_video(video):
    """Correct, but zeroes the video after stacking it."""
    out = torch.cat([video[:, :-1], video[:, 1:]], dim=2)
    _zero_(video)
    return out


def coefficient_then_zero_inputs(a, b):
    """Correct, but zeroes a and b after fitting c."""
    c = SOLUTIONS["fit_coefficient"](a, b)
    _zero_(a, b)
    return c


def vector_field_zero_inputs(energy, x):
    """Zeroes the states, then returns zeros."""
    _zero_(x)
    return torch.zeros_like(x)


def drift_freeze_traj(energy, traj):
    """Overwrites every state with the first one (so the energy is constant), then returns no drift."""
    traj[:] = traj[:, :1].clone()
    return torch.zeros(traj.shape[0])


def noether_zero_traj(g, traj, form="start"):
    """Zeroes the trajectory (a constant trajectory conserves everything), then returns zero loss."""
    _zero_(traj)
    return torch.zeros(traj.shape[0])


def noether_patch_g(g, traj, form="start"):
    """Replaces the embedding's forward by a constant, then returns zero loss."""
    g.forward = lambda x: torch.zeros(*x.shape[:-1], 2)
    return torch.zeros(traj.shape[0])


def tailor_then_zero_params(inner_loss, params, x0, *, inner_lr):
    """Correct values, but zeroes θ in place afterwards, which breaks the graph the meta-gradient needs."""
    out = SOLUTIONS["tailor_step"](inner_loss, params, x0, inner_lr=inner_lr)
    _zero_(*params.values())
    return out


def tailor_zero_params(inner_loss, params, x0, *, inner_lr):
    """Zeroes θ (so every gradient is 0), then returns θ' = 0 per example."""
    _zero_(*params.values())
    return {n: torch.zeros(x0.shape[0], *v.shape, dtype=v.dtype) for n, v in params.items()}


def euler_zero_x0(f, x0, *, n_steps, dt):
    """Zeroes x0 (a fixed point of f), then returns a trajectory of zeros."""
    _zero_(x0)
    return torch.zeros(x0.shape[0], n_steps + 1, x0.shape[1])


def rmse_copy_target(pred, target):
    """Copies target into pred, then reports no error."""
    pred.copy_(target)
    return torch.tensor(0.0)


def cond_norm_zero_inputs(h, gamma, beta, eps=1e-5):
    """Zeroes h, γ and β, then returns zeros."""
    _zero_(h, gamma, beta)
    return torch.zeros_like(h)


def cn_then_zero_gamma(inner_loss, gamma, beta, *, inner_lr):
    """Correct values, but zeroes γ in place afterwards, which breaks the graph the meta-gradient needs."""
    out = SOLUTIONS["cn_tailor_step"](inner_loss, gamma, beta, inner_lr=inner_lr)
    _zero_(gamma)
    return out


def ratio_freeze_traj(f, traj, states):
    """Makes every trajectory constant in time, then reports a perfectly conserved quantity."""
    traj[:] = traj[:, :1].clone()
    return torch.tensor(0.0)


def coefficient_rewrite_a(a, b):
    """Rewrites a as −3 b in place, so the hard-coded 3 is right for any pendulum."""
    a.copy_(-3 * b)
    return 3.0


def psnr_rewrite_pred(pred, target, data_range=1.0):
    """Rewrites pred as target + 0.1 (MSE 0.01 at range 1, 0.04 at range 2): 20 dB for both calls."""
    pred.copy_(target + (0.1 if data_range == 1.0 else 0.2))
    return torch.full(pred.shape[:-3], 20.0)


def stack_zero_video(video):
    """Zeroes the video, then returns zeros of the right shape."""
    _zero_(video)
    b, t, c, h, w = video.shape
    return torch.zeros(b, t - 1, 2 * c, h, w)


def controlled_zero_inputs(x, u, c=3.0):
    """Zeroes the state and the torque (an equilibrium), then returns zeros."""
    _zero_(x, u)
    return torch.zeros_like(x)


def power_zero_inputs(x, u):
    """Zeroes the state, then returns no power."""
    _zero_(x)
    return torch.zeros(x.shape[0])


# ----------------------------------------------------------------------------- correct in-place styles
def euler_iadd(f, x0, *, n_steps, dt):
    """Correct: updates the state (x0 itself) in place with ``x += ...``."""
    x, xs = x0, [x0.clone()]
    for _ in range(n_steps):
        x += dt * f(x)
        xs.append(x.clone())
    return torch.stack(xs, 1)


def euler_add_out(f, x0, *, n_steps, dt):
    """Correct: writes each new state into a preallocated trajectory with ``out=``."""
    traj = x0.new_empty(x0.shape[0], n_steps + 1, x0.shape[1])
    traj[:, 0] = x0
    for t in range(n_steps):
        torch.add(traj[:, t], dt * f(traj[:, t]), out=traj[:, t + 1])
    return traj


# ----------------------------------------------------------------------------- the returned object
def _shift_imag(t):
    """``t`` as a complex tensor with a tiny imaginary part."""
    return torch.complex(t, torch.full_like(t, 1e-3))


def energy_with_nan(q, p, c=3.0):
    """Correct except for one NaN."""
    out = _energy(q, p, c)
    out.view(-1)[0] = float("nan")
    return out


def psnr_with_inf(pred, target, data_range=1.0):
    """Correct except for one infinite PSNR."""
    out = SOLUTIONS["psnr"](pred, target, data_range)
    out.view(-1)[-1] = float("inf")
    return out


# ----------------------------------------------------------------------------- global state
def energy_sets_float64(q, p, c=3.0):
    """Correct, then leaves float64 as the default dtype."""
    torch.set_default_dtype(torch.float64)
    return _energy(q, p, c)


def vector_field_disables_grad(energy, x):
    """Correct, then leaves autograd disabled (which would break a later autograd reference)."""
    out = SOLUTIONS["hamiltonian_vector_field"](energy, x)
    torch.set_grad_enabled(False)
    return out


def noether_reseeds(g, traj, form="start"):
    """Correct, but reseeds the global RNG and draws from it."""
    torch.manual_seed(1234)
    torch.rand(10)
    return SOLUTIONS["noether_loss"](g, traj, form)


def tailor_without_grad(inner_loss, params, x0, *, inner_lr):
    """Right values computed under ``torch.no_grad()``: nothing for the meta-gradient to flow through."""
    with torch.no_grad():
        return SOLUTIONS["tailor_step"](inner_loss, params, x0, inner_lr=inner_lr)


def cn_then_disables_grad(inner_loss, gamma, beta, *, inner_lr):
    """Correct, then leaves autograd disabled (which would break the check's meta-gradient)."""
    out = SOLUTIONS["cn_tailor_step"](inner_loss, gamma, beta, inner_lr=inner_lr)
    torch.set_grad_enabled(False)
    return out


def energy_changes_state_then_raises(q, p, c=3.0):
    """Changes dtype, grad mode and RNG, then raises."""
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)
    torch.manual_seed(99)
    raise ValueError("no energy today")


def rmse_raises(pred, target):
    """Raises a plain error."""
    raise RuntimeError("boom")


CASES = [
    # inputs modified in place: judged on the returned value only
    ("pendulum_energy", energy_zero_inputs, "constant factor"),
    ("pendulum_energy", energy_then_zero_inputs, PASSES),
    ("hamiltonian_vector_field", vector_field_zero_inputs, "wrong values"),
    ("relative_energy_drift", drift_freeze_traj, "wrong values"),
    ("noether_loss", noether_zero_traj, "wrong values"),
    ("noether_loss", noether_patch_g, "wrong values"),
    ("tailor_step", tailor_zero_params, "wrong values"),
    ("tailor_step", tailor_then_zero_params, "in place"),
    ("euler_rollout", euler_zero_x0, "start with x0"),
    ("rollout_rmse", rmse_copy_target, "wrong value"),
    ("cond_norm", cond_norm_zero_inputs, "wrong values"),
    ("cn_tailor_step", cn_then_zero_gamma, "in place"),
    ("variance_ratio", ratio_freeze_traj, "wrong value"),
    ("fit_coefficient", coefficient_rewrite_a, "hard-code"),
    ("fit_coefficient", coefficient_then_zero_inputs, PASSES),
    ("psnr", psnr_rewrite_pred, "wrong values"),
    ("stack_frames", stack_zero_video, "wrong values"),
    ("stack_frames", stack_then_zero_video, PASSES),
    ("controlled_vector_field", controlled_zero_inputs, "wrong values"),
    ("injected_power", power_zero_inputs, "wrong values"),
    # correct in-place styles
    ("euler_rollout", euler_iadd, PASSES),
    ("euler_rollout", euler_add_out, PASSES),
    # the type of the returned object
    ("pendulum_energy", lambda q, p, c=3.0: _shift_imag(_energy(q, p, c)), "must be real"),
    ("pendulum_energy", lambda q, p, c=3.0: torch.complex(_energy(q, p, c), torch.zeros_like(q)), "must be real"),
    ("stack_frames", lambda v: _shift_imag(SOLUTIONS["stack_frames"](v)), "must be real"),
    ("pendulum_energy", lambda q, p, c=3.0: _energy(q, p, c).half(), "compute in float32 or float64"),
    ("pendulum_energy", lambda q, p, c=3.0: _energy(q.half(), p.half(), c), "compute in float32 or float64"),
    ("psnr", lambda x, y, data_range=1.0: SOLUTIONS["psnr"](x, y, data_range).bfloat16(), "compute in float32"),
    ("fit_coefficient", lambda a, b: SOLUTIONS["fit_coefficient"](a, b).half(), "compute in float32"),
    ("injected_power", lambda x, u: (2 * x[:, 1] * u).long(), "floating-point"),
    ("rollout_rmse", lambda a, b: SOLUTIONS["rollout_rmse"](a, b).item(), "should be a torch.Tensor, got float"),
    ("variance_ratio", lambda f, tr, s: float(SOLUTIONS["variance_ratio"](f, tr, s)), "torch.Tensor, got float"),
    ("injected_power", lambda x, u: 0, "should be a torch.Tensor, got int"),
    ("psnr", lambda x, y, data_range=1.0: SOLUTIONS["psnr"](x, y, data_range).tolist(), "torch.Tensor, got list"),
    ("fit_coefficient", lambda a, b: float(SOLUTIONS["fit_coefficient"](a, b)), PASSES),
    ("fit_coefficient", lambda a, b: complex(SOLUTIONS["fit_coefficient"](a, b)), "must be real"),
    ("fit_coefficient", lambda a, b: float("nan"), "finite"),
    ("psnr", lambda x, y, data_range=1.0: SOLUTIONS["psnr"](x, y, data_range).unsqueeze(-1), "expected (2, 3)"),
    ("controlled_vector_field", lambda x, u, c=3.0: SOLUTIONS["controlled_vector_field"](x, u, c).T, "expected (6, 2)"),
    ("pendulum_energy", energy_with_nan, "NaN"),
    ("rollout_rmse", lambda a, b: torch.tensor(float("nan")), "NaN"),
    ("psnr", psnr_with_inf, "infinite"),
    # global state and errors
    ("pendulum_energy", energy_sets_float64, PASSES),
    ("hamiltonian_vector_field", vector_field_disables_grad, PASSES),
    ("cn_tailor_step", cn_then_disables_grad, PASSES),
    ("tailor_step", tailor_without_grad, "no gradient reaches g_φ"),
    ("noether_loss", noether_reseeds, PASSES),
    ("pendulum_energy", energy_changes_state_then_raises, "raised ValueError: no energy today"),
    ("rollout_rmse", rmse_raises, "raised RuntimeError: boom"),
]


@pytest.fixture
def clean_state():
    """Restore torch's default dtype and grad mode after the test, so a failure cannot leak into other tests."""
    dtype, grad = torch.get_default_dtype(), torch.is_grad_enabled()
    yield
    torch.set_default_dtype(dtype)
    torch.set_grad_enabled(grad)


@pytest.mark.parametrize("name, fn, expected", CASES, ids=[f"{n}-{fn.__name__}-{e}" for n, fn, e in CASES])
def test_hostile_answer(name, fn, expected, clean_state):
    torch.manual_seed(7)
    after_seed = torch.rand(3)
    torch.manual_seed(7)
    res = check.CHECKS[name](fn, verbose=False)
    state = torch.get_default_dtype(), torch.is_grad_enabled(), torch.rand(3)
    if expected == PASSES:
        assert res.passed, res.message
    else:
        assert not res.passed and res.implemented, res.message
        assert expected in res.message, res.message
    assert "\n" not in res.message
    assert state[0] == torch.float32 and state[1], "the check leaked global state"
    assert torch.equal(state[2], after_seed), "the check leaked the RNG state"


def test_every_exercise_has_a_hostile_case():
    assert {n for n, _, _ in CASES} == set(check.CHECKS)


def test_the_callers_own_state_is_restored(clean_state):
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)
    res = check.hamiltonian_vector_field(vector_field_disables_grad, verbose=False)
    assert res.passed, res.message
    assert torch.get_default_dtype() == torch.float64 and not torch.is_grad_enabled()
