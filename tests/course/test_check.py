"""The exercise checks: the reference solution, a second (differently written) correct answer and
the generated stub of every exercise, plus wrong answers that must get *specific* feedback."""
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch.func import grad, vmap

import noether_lite.course.check as check

ROOT = Path(__file__).resolve().parents[2]


def _exercise_functions(folder: str):
    """Execute the cells tagged "exercise" of every notebook in ``folder``; name -> function."""
    fns = {}
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        ns = {"torch": torch}
        for cell in nbformat.read(path, as_version=4).cells:
            if "exercise" in cell.metadata.get("tags", []):
                exec(compile(cell.source, f"{path.name}", "exec"), ns)
        fns.update({k: v for k, v in ns.items() if k in check.CHECKS})
    return fns


SOLUTIONS = _exercise_functions("solutions")


STUBS = _exercise_functions("exercises")


def energy2(q, p, c=3.0):
    return 2 * c * torch.sin(q / 2) ** 2 + p * p  # 1 − cos q = 2 sin²(q/2)


def vector_field2(energy, x):
    q = x[..., 0].detach().clone().requires_grad_(True)
    p = x[..., 1].detach().clone().requires_grad_(True)
    dq, dp = torch.autograd.grad(energy(q, p).sum(), (q, p))
    return torch.stack([dp, -dq], -1)


def drift2(energy, traj):
    out = []
    for x in traj:  # one trajectory at a time
        h = energy(x[:, 0], x[:, 1])
        out.append(max(abs(float(v) - float(h[0])) for v in h) / abs(float(h[0])))
    return torch.tensor(out)


def noether_loss2(g, traj, form="start"):
    b, t1, d = traj.shape
    e = g(traj.reshape(b * t1, d)).reshape(b, t1, -1)
    total = torch.zeros(b)
    for t in range(1, t1):
        ref = e[:, 0] if form == "start" else e[:, t - 1]
        total = total + torch.linalg.vector_norm(e[:, t] - ref, dim=-1) ** 2
    return total


def tailor_step2(inner_loss, params, x0, *, inner_lr):  # a Python loop and autograd.grad
    names = list(params)
    rows = []
    for x in x0:
        gr = torch.autograd.grad(inner_loss(params, x), [params[n] for n in names], create_graph=True)
        rows.append([params[n] - inner_lr * g for n, g in zip(names, gr)])
    return {n: torch.stack([r[i] for r in rows]) for i, n in enumerate(names)}


def euler_rollout2(f, x0, *, n_steps, dt):
    traj = x0.new_zeros(x0.shape[0], n_steps + 1, x0.shape[1])
    traj[:, 0] = x0
    for t in range(n_steps):
        traj[:, t + 1] = traj[:, t] + f(traj[:, t]) * dt
    return traj


def rmse2(pred, target):
    return F.mse_loss(pred, target).sqrt()


def cond_norm2(h, gamma, beta, eps=1e-5):
    hn = F.group_norm(h, 1, eps=eps)
    while gamma.ndim < h.ndim:
        gamma, beta = gamma.unsqueeze(-1), beta.unsqueeze(-1)
    return torch.addcmul(beta, gamma, hn)


def cn_tailor_step2(inner_loss, gamma, beta, *, inner_lr):
    dg, db = torch.autograd.grad(inner_loss(gamma, beta), (gamma, beta),
                                 grad_outputs=torch.ones(gamma.shape[0], dtype=gamma.dtype), create_graph=True)
    return gamma - dg * inner_lr, beta - db * inner_lr


def variance_ratio2(f, traj, states):  # unbiased variances, written out
    v = f(traj[..., 0], traj[..., 1])
    along = ((v - v.mean(1, keepdim=True)) ** 2).sum(1) / (v.shape[1] - 1)
    s = f(states[:, 0], states[:, 1])
    return along.mean() / (((s - s.mean()) ** 2).sum() / (s.numel() - 1))


def fit_coefficient2(a, b):
    a_c, b_c = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    sol = torch.linalg.lstsq(b_c.reshape(-1, 1), -a_c.reshape(-1, 1)).solution
    return sol.item()


def psnr2(pred, target, data_range=1.0):
    mse = (pred - target).pow(2).flatten(-3).mean(-1)
    return 20 * torch.log10(torch.as_tensor(data_range)) - 10 * torch.log10(mse)


def stack_frames2(video):
    b, t, c, h, w = video.shape
    out = video.new_empty(b, t - 1, 2 * c, h, w)
    out[:, :, :c], out[:, :, c:] = video[:, :-1], video[:, 1:]
    return out


def controlled_vector_field2(x, u, c=3.0):
    return vector_field2(lambda q, p: c * (1 - torch.cos(q)) + p**2, x) + torch.stack([torch.zeros_like(u), u], -1)


def injected_power2(x, u):
    xr = x.detach().clone().requires_grad_(True)
    (dh,) = torch.autograd.grad((3 * (1 - torch.cos(xr[:, 0])) + xr[:, 1] ** 2).sum(), xr)
    return (dh * controlled_vector_field2(x, u)).sum(-1)  # ∇H · ẋ


SECOND = {
    "pendulum_energy": energy2, "hamiltonian_vector_field": vector_field2, "relative_energy_drift": drift2,
    "noether_loss": noether_loss2, "tailor_step": tailor_step2, "euler_rollout": euler_rollout2,
    "rollout_rmse": rmse2, "cond_norm": cond_norm2, "cn_tailor_step": cn_tailor_step2,
    "variance_ratio": variance_ratio2, "fit_coefficient": fit_coefficient2, "psnr": psnr2,
    "stack_frames": stack_frames2, "controlled_vector_field": controlled_vector_field2,
    "injected_power": injected_power2,
}


def _start(e):
    return e[:, :1]


def _tailor_no_vmap(inner_loss, params, x0, *, inner_lr):
    loss = sum(inner_loss(params, x) for x in x0)
    gr = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    return {n: (params[n] - inner_lr * g).expand(x0.shape[0], *params[n].shape) for n, g in zip(params, gr)}


def _tailor_detached(inner_loss, params, x0, *, inner_lr):
    def one(x):
        g = grad(inner_loss)(params, x)
        return {n: params[n] - inner_lr * g[n].detach() for n in params}

    return vmap(one)(x0)


def _tailor_ascent(inner_loss, params, x0, *, inner_lr):
    return {n: 2 * params[n] - v for n, v in SOLUTIONS["tailor_step"](inner_loss, params, x0, inner_lr=inner_lr).items()}


def _cn_mean(inner_loss, gamma, beta, *, inner_lr):
    dg, db = torch.autograd.grad(inner_loss(gamma, beta).mean(), (gamma, beta), create_graph=True)
    return gamma - inner_lr * dg, beta - inner_lr * db


def _cn_no_graph(inner_loss, gamma, beta, *, inner_lr):
    dg, db = torch.autograd.grad(inner_loss(gamma, beta).sum(), (gamma, beta))
    return gamma - inner_lr * dg, beta - inner_lr * db


def _batchnorm(h, gamma, beta, eps=1e-5):
    hn = F.batch_norm(h, None, None, training=True, eps=eps)
    while gamma.ndim < h.ndim:
        gamma, beta = gamma.unsqueeze(-1), beta.unsqueeze(-1)
    return gamma * hn + beta


WRONG = [
    ("pendulum_energy", lambda q, p, c=3.0: 2 * (c * (1 - torch.cos(q)) + p**2), "constant factor"),
    ("pendulum_energy", lambda q, p, c=3.0: -c * torch.cos(q) + p**2, "additive constant"),
    ("pendulum_energy", lambda q, p, c=3.0: c * (1 - torch.cos(q)) + p**2 / 2, "kinetic part"),
    ("pendulum_energy", lambda q, p, c=3.0: 3 * (1 - torch.cos(q)) + p**2, "ignores the coefficient"),
    ("pendulum_energy", lambda q, p, c=3.0: (c * (1 - torch.cos(q)) + p**2).sum(), "elementwise"),
    ("hamiltonian_vector_field", lambda e, x: -SOLUTIONS["hamiltonian_vector_field"](e, x), "wrong sign"),
    ("hamiltonian_vector_field", lambda e, x: SOLUTIONS["hamiltonian_vector_field"](e, x).flip(-1), "swapped"),
    ("hamiltonian_vector_field", lambda e, x: SOLUTIONS["hamiltonian_vector_field"](e, x) * torch.tensor([1.0, -1.0]), "dp/dt has the wrong sign"),
    ("relative_energy_drift", lambda e, tr: (e(tr[..., 0], tr[..., 1]) - e(tr[:, :1, 0], tr[:, :1, 1])).abs().amax(1), "not relative"),
    ("relative_energy_drift", lambda e, tr: ((e(tr[..., 0], tr[..., 1]) - e(tr[:, :1, 0], tr[:, :1, 1])).abs() / e(tr[:, :1, 0], tr[:, :1, 1]).abs()).mean(1), "averaged over time"),
    ("noether_loss", lambda g, tr, form="start": SOLUTIONS["noether_loss"](g, tr, form) / (tr.shape[1] - 1), "averaged over time"),
    ("noether_loss", lambda g, tr, form="start": SOLUTIONS["noether_loss"](g, tr, form).sum(), "summed over the batch"),
    ("noether_loss", lambda g, tr, form="start": SOLUTIONS["noether_loss"](g, tr, form).mean(), "averaged over the batch"),
    ("noether_loss", lambda g, tr, form="start": SOLUTIONS["noether_loss"](g, tr, "start"), "computes the start form"),
    ("noether_loss", lambda g, tr, form="start": ((g(tr)[:, 1:] - (_start(g(tr)) if form == "start" else g(tr)[:, :-1])) ** 2).mean(-1).sum(-1), "embedding dimensions"),
    ("tailor_step", _tailor_no_vmap, "same step"),
    ("tailor_step", _tailor_detached, "no gradient reaches g_φ"),
    ("tailor_step", _tailor_ascent, "wrong sign"),
    ("tailor_step", lambda il, p, x0, *, inner_lr: SOLUTIONS["tailor_step"](il, p, x0, inner_lr=2 * inner_lr), "2 × the size"),
    ("euler_rollout", lambda f, x0, *, n_steps, dt: SOLUTIONS["euler_rollout"](f, x0, n_steps=n_steps, dt=dt)[:, 1:], "start with x0"),
    ("euler_rollout", lambda f, x0, *, n_steps, dt: SOLUTIONS["euler_rollout"](f, x0, n_steps=n_steps, dt=1.0), "forgot dt"),
    ("rollout_rmse", lambda a, b: ((a - b) ** 2).mean(), "MSE"),
    ("rollout_rmse", lambda a, b: ((a - b) ** 2).sum().sqrt(), "summed"),
    ("rollout_rmse", lambda a, b: ((a - b) ** 2).mean(dim=(1, 2)).sqrt().mean(), "per-trajectory"),
    ("cond_norm", _batchnorm, "mix examples"),
    ("cond_norm", lambda h, g, b, eps=1e-5: SOLUTIONS["cond_norm"](h, b, g, eps), "swapped"),
    ("cond_norm", lambda h, g, b, eps=1e-5: g.reshape(g.shape + (1,) * (h.ndim - 2)) * h + b.reshape(b.shape + (1,) * (h.ndim - 2)), "not normalised"),
    ("cn_tailor_step", _cn_mean, "averaged the inner loss"),
    ("cn_tailor_step", _cn_no_graph, "no gradient reaches g_φ"),
    ("variance_ratio", lambda f, tr, s: 1 / SOLUTIONS["variance_ratio"](f, tr, s), "upside down"),
    ("variance_ratio", lambda f, tr, s: f(tr[..., 0], tr[..., 1]).var() / f(s[:, 0], s[:, 1]).var(), "pooled"),
    ("variance_ratio", lambda f, tr, s: f(tr[..., 0], tr[..., 1]).var(1, unbiased=False).mean(), "not normalised"),
    ("fit_coefficient", lambda a, b: -SOLUTIONS["fit_coefficient"](a, b), "wrong sign"),
    ("fit_coefficient", lambda a, b: -(((a - a.mean()) * (b - b.mean())).sum() / ((b - b.mean()) ** 2).sum()), "centre each trajectory"),
    ("fit_coefficient", lambda a, b: 3.0, "hard-code"),
    ("psnr", lambda x, y, data_range=1.0: SOLUTIONS["psnr"](x, y, 2.0), "data range of 2"),
    ("psnr", lambda x, y, data_range=1.0: SOLUTIONS["psnr"](x, y, data_range).mean(), "averaged over frames"),
    ("psnr", lambda x, y, data_range=1.0: 10 * torch.log(data_range**2 / ((x - y) ** 2).mean((-3, -2, -1))), "natural log"),
    ("stack_frames", lambda v: torch.cat([v[:, 1:], v[:, :-1]], 2), "wrong order"),
    ("stack_frames", lambda v: torch.stack([v[:, :-1], v[:, 1:]], 2), "new axis"),
    ("controlled_vector_field", lambda x, u, c=3.0: torch.stack([2 * x[:, 1] + u, -c * torch.sin(x[:, 0])], -1), "went into dq/dt"),
    ("controlled_vector_field", lambda x, u, c=3.0: torch.stack([2 * x[:, 1], -c * torch.sin(x[:, 0])], -1), "no effect"),
    ("controlled_vector_field", lambda x, u, c=3.0: torch.stack([x[:, 1], -c * torch.sin(x[:, 0]) + u], -1), "not p"),
    ("injected_power", lambda x, u: x[:, 1] * u, "half the right value"),
    ("injected_power", lambda x, u: -2 * x[:, 1] * u, "wrong sign"),
]


def test_every_exercise_has_a_solution_a_stub_and_a_second_answer():
    assert set(SOLUTIONS) == set(check.CHECKS) == set(SECOND)
    assert set(STUBS) == set(SOLUTIONS)


@pytest.mark.parametrize("name", sorted(check.CHECKS))
def test_reference_solution_passes(name, capsys):
    res = check.CHECKS[name](SOLUTIONS[name])
    assert res.passed and res.implemented, res.message
    assert capsys.readouterr().out.startswith(f"✅ {name}:")


@pytest.mark.parametrize("name", sorted(check.CHECKS))
def test_second_correct_answer_passes(name):
    res = check.CHECKS[name](SECOND[name], verbose=False)
    assert res.passed, res.message


@pytest.mark.parametrize("name", sorted(check.CHECKS))
def test_stub_reports_not_implemented_without_raising(name, capsys):
    with pytest.raises(NotImplementedError, match=f"Exercise: {name}"):
        code = STUBS[name].__code__
        STUBS[name](*([None] * code.co_argcount), **{k: None for k in code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]})
    res = check.CHECKS[name](STUBS[name])
    assert not res.passed and not res.implemented
    assert "not implemented yet" in res.message
    assert capsys.readouterr().out.startswith(f"❌ {name}: not implemented yet")


@pytest.mark.parametrize("name, fn, expected", WRONG, ids=[f"{n}-{e}" for n, _, e in WRONG])
def test_wrong_answer_gets_specific_message(name, fn, expected):
    res = check.CHECKS[name](fn, verbose=False)
    assert not res.passed and res.implemented
    assert expected in res.message, res.message


def test_every_exercise_has_a_wrong_answer_test():
    assert {n for n, _, _ in WRONG} == set(check.CHECKS)


def test_crash_is_reported_not_raised():
    def broken(q, p, c=3.0):
        return q @ p  # shape error

    res = check.pendulum_energy(broken, verbose=False)
    assert not res.passed and "raised RuntimeError" in res.message
    assert not check.pendulum_energy(42, verbose=False).passed


def test_result_object_and_grade(capsys):
    res = check.rollout_rmse(SOLUTIONS["rollout_rmse"], verbose=False)
    assert bool(res) and str(res).startswith("✅ rollout_rmse")
    ns = {"rollout_rmse": SOLUTIONS["rollout_rmse"], "psnr": STUBS["psnr"], "unrelated": 1}
    out = check.grade(ns)
    assert set(out) == {"rollout_rmse", "psnr"}
    assert out["rollout_rmse"].passed and not out["psnr"].implemented
    assert "❌ psnr: not implemented yet" in capsys.readouterr().out
    assert not check.grade({}, ["psnr"], verbose=False)["psnr"].passed
    with pytest.raises(KeyError, match="known"):
        check.grade({}, ["nope"])


def test_checks_do_not_touch_the_global_rng():
    torch.manual_seed(123)
    a = torch.rand(3)
    torch.manual_seed(123)
    check.noether_loss(SOLUTIONS["noether_loss"], verbose=False)
    assert torch.equal(torch.rand(3), a)
