"""The pendulum and spring experiments (paper section 3a) as one function.

``run_physics(system="pendulum", quick=True, seed=0)`` trains the vanilla MLP,
an HNN, a Noether Network with the true energy (oracle) and one with a
meta-learned neural embedding, and returns their long-rollout test RMSE and
energy drift. Every stage is a small public function so chapters can show it
step by step.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from ..core.conservation import OracleEmbedding
from ..systems.data import TrajectoryData, check_finite, make_dataset
from ..core.metrics import energy_drift, rmse, rmse_per_horizon
from ..models.mlp import HNN, MLP, EmbeddingMLP
from ..core.network import NoetherNetwork
from ..systems.hamiltonians import System, get_system
from ..systems.integrators import integrate
from .protocol import build_tailored
from ..core.checkpoints import auto_device, default_ckpt_dir
from ..core.outputs import check_output_folder
from ..core.train import History, fit, seed_everything

__all__ = [
    "PhysicsConfig", "LR_GRID_WEIGHTS", "train_rollout_rmse", "pretrain", "meta_train", "evaluate", "select_inner_lr", "run_physics", "METHODS",
    "LR_GRID",
]

METHODS = ("vanilla", "hnn", "noether_oracle", "noether_learned", "vanilla_tuned")
#: The paper's inner-lr grid, 10^k for k in {-3, -2.5, ..., 1} (CN mode).
LR_GRID = tuple(10.0 ** (k / 2) for k in range(-6, 3))
#: All-weights steps on a rollout loss summed over time need far smaller rates.
LR_GRID_WEIGHTS = tuple(10.0 ** (k / 2) for k in range(-14, -5))


#: The forms of the learned embedding (:attr:`PhysicsConfig.embedding`).
EMBEDDING_FORMS = ("mlp", "separable", "mlp+scale-free", "separable+scale-free")


def learned_embedding(cfg: "PhysicsConfig", system: System, train: TrajectoryData) -> nn.Module:
    """The learned ``g_φ`` that ``cfg.embedding`` names, seeded by ``cfg.seed``."""
    from ..models.mlp import ScaleFree, SeparableEmbedding

    torch.manual_seed(cfg.seed)
    if cfg.embedding.startswith("separable"):
        emb = SeparableEmbedding(dim=system.dim, out_dim=cfg.embedding_dim, hidden=max(1, cfg.embedding_hidden // 2))
    else:
        emb = EmbeddingMLP(dim=system.dim, out_dim=cfg.embedding_dim, hidden=cfg.embedding_hidden)
    if cfg.embedding.endswith("+scale-free"):
        states = train.x.reshape(-1, train.x.shape[-1])
        emb = ScaleFree(emb, states[:: max(1, states.shape[0] // 256)].cpu())
    return emb.to(train.x.device)


@dataclass(frozen=True)
class PhysicsConfig:
    """Everything that defines one physics run (recorded in results and checkpoints).

    ``quick`` mode is sized for a CPU in about a minute per system; full mode is
    the longer, paper-scale schedule.

    The data: ``n_train`` training and ``n_test`` test trajectories (25 and 25, the HNN
    protocol), observed with ``noise_std`` (``None``: the system's) at ``n_points`` points
    (``None``: the system's; more points at the same time step is a longer horizon).
    ``embedding`` is the learned ``g_φ``'s form: ``"mlp"`` (the paper's), ``"separable"``
    (``a(q) + b(p)``), each optionally ``"+scale-free"`` (divided by its spread over the
    training states, so the Noether loss does not depend on ``g``'s scale).
    ``val_fraction`` holds out that share of the training trajectories as a validation
    split, which then chooses ``λ_in`` and the keep rule and, with ``patience > 0``, stops
    each training stage early (``validations`` checks per stage; the best model is kept).
    """

    system: str = "pendulum"
    quick: bool = True
    seed: int = 0
    hidden: int = 200
    pretrain_steps: int = 2000
    pretrain_lr: float = 1e-3
    pretrain_batch: int = 256
    meta_steps: int = 40
    meta_lr: float = 1e-4
    embedding_lr: float = 1e-3
    meta_batch: int = 8
    inner_steps: int = 1
    tailor_mode: str = "cn"
    learn_inner_lr: bool = True
    integrator: str = "rk4"
    loss_form: str = "start"
    embedding_dim: int = 1
    embedding_hidden: int = 64
    lr_grid: Tuple[float, ...] = ()
    n_train: int = 25
    n_test: int = 25
    noise_std: Optional[float] = None
    n_points: Optional[int] = None
    val_fraction: float = 0.0
    patience: int = 0
    validations: int = 20
    embedding: str = "mlp"

    def __post_init__(self) -> None:
        from ..systems.integrators import INTEGRATORS
        from ..core.conservation import LOSS_FORMS

        for name, low in (("hidden", 1), ("pretrain_steps", 0), ("pretrain_batch", 1), ("meta_steps", 0),
                          ("meta_batch", 1), ("inner_steps", 0), ("embedding_dim", 1), ("embedding_hidden", 1),
                          ("seed", 0), ("n_train", 1), ("n_test", 1), ("patience", 0), ("validations", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.seed >= 2**63:
            raise ValueError(f"seed must be < 2**63, got {self.seed}")
        for name in ("pretrain_lr", "meta_lr", "embedding_lr"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if self.noise_std is not None and (isinstance(self.noise_std, bool) or not isinstance(self.noise_std, (int, float))
                                           or not (math.isfinite(self.noise_std) and self.noise_std >= 0)):
            raise ValueError(f"noise_std must be a finite number >= 0 (or None: the system's), got {self.noise_std!r}")
        if self.n_points is not None and (isinstance(self.n_points, bool) or not isinstance(self.n_points, int)
                                          or self.n_points < 2):
            raise ValueError(f"n_points must be an integer >= 2 (or None: the system's), got {self.n_points!r}")
        if isinstance(self.val_fraction, bool) or not isinstance(self.val_fraction, (int, float)) or not (
                0 <= self.val_fraction < 1):
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if self.val_fraction > 0 and self.n_train - self.n_val < 1:
            raise ValueError(f"val_fraction={self.val_fraction} leaves no training trajectory of n_train={self.n_train}")
        if self.patience > 0 and self.val_fraction == 0:
            raise ValueError("patience (early stopping) needs a validation split: set val_fraction > 0")
        if self.embedding not in EMBEDDING_FORMS:
            raise ValueError(f"embedding must be one of {', '.join(EMBEDDING_FORMS)}, got {self.embedding!r}")
        if self.tailor_mode not in ("cn", "weights"):
            raise ValueError(f"tailor_mode must be 'cn' or 'weights', got {self.tailor_mode!r}")
        if self.integrator not in INTEGRATORS:
            raise ValueError(f"integrator must be one of {sorted(INTEGRATORS)}, got {self.integrator!r}")
        if self.loss_form not in LOSS_FORMS:
            raise ValueError(f"loss_form must be one of {list(LOSS_FORMS)}, got {self.loss_form!r}")
        if not isinstance(self.lr_grid, (tuple, list)) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                for v in self.lr_grid):
            raise ValueError(f"lr_grid must be finite numbers > 0, got {self.lr_grid!r}")
        if not self.lr_grid:
            object.__setattr__(self, "lr_grid", LR_GRID if self.tailor_mode == "cn" else LR_GRID_WEIGHTS)
        object.__setattr__(self, "lr_grid", tuple(float(v) for v in self.lr_grid))
        _check_memory(self.hidden, self.embedding_hidden)

    @property
    def n_val(self) -> int:
        """Training trajectories held out for validation (0 without a validation split)."""
        return max(1, round(self.val_fraction * self.n_train)) if self.val_fraction > 0 else 0

    @classmethod
    def for_mode(cls, system: str = "pendulum", *, quick: bool = True, seed: int = 0, **overrides) -> "PhysicsConfig":
        """Defaults for quick or full mode, with ``overrides`` on top."""
        base = dict(system=system, quick=quick, seed=seed)
        if system == "damped":
            base["loss_form"] = "consecutive"
        if not quick:
            base.update(pretrain_steps=5000, meta_steps=300, embedding_dim=4)
        base.update(overrides)
        return cls(**base)


def _check_memory(hidden: int, embedding_hidden: int, *, layers: int = 2) -> None:
    """Refuse widths whose weights (with gradients and Adam's two moments) would not fit in memory."""
    import os

    params = 2 * hidden + (layers - 1) * hidden * hidden + 2 * hidden + layers * hidden * 2  # MLP and its CN layers
    params += (layers - 1) * embedding_hidden ** 2 + 4 * embedding_hidden
    need = params * 4 * 4  # float32 weights, gradients, Adam's exp_avg and exp_avg_sq
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: assume a laptop
        have = 16 * 2**30
    if need > have / 2:
        raise ValueError(f"hidden={hidden}, embedding_hidden={embedding_hidden} need about {need / 2**30:,.0f} GiB "
                         f"for the weights and optimiser state; this machine has {have / 2**30:,.0f} GiB: "
                         f"choose widths near the default (200, 64)")


def _check_batch(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")


# --------------------------------------------------------------------------- stages
def data_identity(data: TrajectoryData) -> Dict[str, object]:
    """What identifies a training set in a checkpoint: its recorded arguments and a digest of its tensors
    (a subset, a hand-built set or data changed in place has the same ``meta`` but other content)."""
    h = hashlib.sha256()
    for t in (data.t, data.x, data.dxdt):
        t = t.detach().to("cpu", torch.float64).contiguous()
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return {**data.meta, "sha256": h.hexdigest()[:16]}


def split_trajectories(data: TrajectoryData, n_first: int) -> Tuple[TrajectoryData, TrajectoryData]:
    """The first ``n_first`` trajectories and the rest (e.g. a training set and its validation split)."""
    n = data.x.shape[0]
    if not 1 <= n_first < n:
        raise ValueError(f"n_first must be in [1, {n - 1}] for {n} trajectories, got {n_first}")

    def part(sl: slice, name: str) -> TrajectoryData:
        return TrajectoryData(data.t, data.x[sl], data.x_clean[sl], data.dxdt[sl],
                              dict(data.meta, split=f"{data.meta.get('split', 'data')}:{name}"))

    return part(slice(0, n_first), "fit"), part(slice(n_first, n), "val")


def pretrain(model: nn.Module, data: TrajectoryData, *, steps: int, lr: float = 1e-3, batch_size: int = 256,
             seed: int = 0, progress: bool = True, desc: str = "pretrain", checkpoint=None,
             val: Optional[TrajectoryData] = None, patience: Optional[int] = None,
             validate_every: int = 50) -> History:
    """Supervised training of a vector field on ``(x, dx/dt)`` pairs (HNN protocol).

    With ``val`` (held-out trajectories), the rollout RMSE on them is computed every
    ``validate_every`` steps and the best model is kept; ``patience`` stops training once
    that many validations in a row did not improve (early stopping)."""
    _check_batch(batch_size)
    X, Y = data.pairs()  # (N*T, D) each
    check_finite(X, "training states")
    check_finite(Y, "training derivatives")

    def loss_fn(gen: torch.Generator) -> Tensor:
        idx = torch.randint(0, X.shape[0], (min(batch_size, X.shape[0]),), generator=gen).to(X.device)
        return ((model(X[idx]) - Y[idx]) ** 2).mean()

    config = None
    if checkpoint is not None:  # what identifies the run in its checkpoint (hashing the data costs a pass)
        config = {"stage": desc, "steps": steps, "lr": lr, "batch": batch_size, "data": data_identity(data)}
        if val is not None:
            config["val"] = data_identity(val)
    return fit(modules={"model": model}, loss_fn=loss_fn, steps=steps, lr=lr, seed=seed, progress=progress,
               desc=desc, checkpoint=checkpoint, config=config,
               validate=None if val is None else (lambda: train_rollout_rmse(model, val)),
               validate_every=validate_every, patience=patience or None)


def meta_train(net: NoetherNetwork, data: TrajectoryData, *, steps: int, lr: float = 1e-4, embedding_lr: float = 1e-3,
               batch_size: int = 25, seed: int = 0, progress: bool = True, desc: str = "meta-train",
               checkpoint=None, config: Optional[dict] = None, on_step=None, target: str = "derivative",
               val: Optional[TrajectoryData] = None, patience: Optional[int] = None,
               validate_every: int = 50) -> History:
    """Meta-tailoring: minimise the task loss of the *tailored* model.

    Each step draws ``batch_size`` training trajectories and tailors the model
    to each one on the Noether loss of its rollout from the first observed
    state. The task loss is then, with ``target="derivative"`` (default), the
    HNN protocol's loss of the *tailored* vector field, MSE to ``dx/dt`` at
    that trajectory's observed states; with ``target="trajectory"``, the MSE
    of the tailored rollout to the observed (noisy) states. Gradients reach
    ``θ``, the embedding ``φ`` (second order) and a learned inner lr. With ``val``, the
    tailored rollout RMSE on those held-out trajectories picks the best step, and
    ``patience`` stops early (as in :func:`pretrain`).
    """
    if target not in ("derivative", "trajectory"):
        raise ValueError(f"target must be 'derivative' or 'trajectory', got {target!r}")
    _check_batch(batch_size)
    x = data.x  # (N, T + 1, D)
    check_finite(x, "training trajectories")
    check_finite(data.dxdt, "training derivatives")
    n_steps = x.shape[1] - 1
    modules = {"model": net.model}
    lrs = {"model": lr}
    if any(p.requires_grad for p in net.embedding.parameters()):
        modules["embedding"], lrs["embedding"] = net.embedding, embedding_lr
    if net.inner_lr_module is not None:
        modules["inner_lr"], lrs["inner_lr"] = net.inner_lr_module, 1e-2

    def loss_fn(gen: torch.Generator):
        idx = torch.randperm(x.shape[0], generator=gen)[:batch_size].to(x.device)
        traj, res = net.predict(x[idx, 0], n_steps)
        if target == "trajectory":
            return ((traj[:, 1:] - x[idx, 1:]) ** 2).mean(), {"reverted": res.n_reverted}
        pred = net.tailored_field(x[idx], res)  # (b, T + 1, D)
        return ((pred - data.dxdt[idx]) ** 2).mean(), {"reverted": res.n_reverted}

    if checkpoint is not None:  # what identifies the run in its checkpoint (hashing the data costs a pass)
        tailoring = getattr(net, "tailoring", None)
        config = {**(config or {"stage": desc, "steps": steps}), "data": data_identity(data), "lr": lrs,
                  "batch": batch_size, "target": target,
                  "tailor": asdict(tailoring) if tailoring is not None else None,
                  "net": {"dt": getattr(net, "dt", None), "integrator": getattr(net, "integrator", None),
                          "loss_form": getattr(net, "loss_form", None)}}
        if val is not None:
            config = {**config, "val": data_identity(val)}
    return fit(modules=modules, loss_fn=loss_fn, steps=steps, lr=lrs, seed=seed, progress=progress, desc=desc,
               checkpoint=checkpoint, config=config, on_step=on_step,
               validate=None if val is None else (lambda: train_rollout_rmse(net, val)),
               validate_every=validate_every, patience=patience or None)


def _rollout_plain(model: nn.Module, x0: Tensor, n_steps: int, dt: float, integrator: str) -> Tensor:
    # An HNN differentiates its H to get the vector field, so it needs grad mode; nothing else does.
    with torch.enable_grad() if isinstance(model, HNN) else torch.no_grad():
        traj = integrate(model, x0, n_steps=n_steps, dt=dt, method=integrator)
    return traj.detach()


def evaluate(predictor: Union[nn.Module, NoetherNetwork], data: TrajectoryData, *, system: Union[str, System],
             integrator: str = "rk4", **predict_kw) -> Dict[str, object]:
    """Long-rollout test metrics from each test trajectory's true initial state.

    Returns:
        ``{"rmse": float, "rmse_per_horizon": [T+1 floats], "energy_drift": float
        (mean |H(x_T) - H(x_0)| of the prediction), "reverted": int, "traj": (B, T+1, D)}``.
    """
    sys_ = get_system(system)
    x0, n_steps = data.x_clean[:, 0], data.x.shape[1] - 1
    reverted = 0
    if isinstance(predictor, NoetherNetwork):
        traj, res = predictor.predict(x0, n_steps, **predict_kw)
        traj, reverted = traj.detach(), int(res.n_reverted)
    else:
        traj = _rollout_plain(predictor, x0, n_steps, data.dt, integrator)
    drift = energy_drift(traj, sys_.energy)
    return {
        "rmse": float(rmse(traj, data.x_clean)),
        "rmse_per_horizon": [float(v) for v in rmse_per_horizon(traj, data.x_clean)],
        "energy_drift": float(drift[-1]),
        "reverted": reverted,
        "traj": traj,
    }


def train_rollout_rmse(net: Union[nn.Module, NoetherNetwork], data: TrajectoryData, **predict_kw) -> float:
    """RMSE of (tailored) rollouts from each TRAINING trajectory's first observed
    state against its observed states: the model-selection score (no test data)."""
    x0, n_steps = data.x[:, 0], data.x.shape[1] - 1
    if isinstance(net, NoetherNetwork):
        traj = net.predict(x0, n_steps, **predict_kw)[0].detach()
    else:
        traj = _rollout_plain(net, x0, n_steps, data.dt, "rk4")
    return float(((traj[:, 1:] - data.x[:, 1:]) ** 2).mean().sqrt())


def select_inner_lr(net: NoetherNetwork, data: TrajectoryData, *, grid: Iterable[float] = LR_GRID) -> Tuple[float, Dict[float, float]]:
    """Pick ``λ_in`` by one-step tailoring on TRAINING trajectories (as the paper does).

    Returns:
        ``(best_lr, {lr: train rmse})``; ``best_lr`` is 0.0 if no rate helps.
    """
    scores = {lr: train_rollout_rmse(net, data, inner_lr=lr) for lr in grid}
    base_score = train_rollout_rmse(net, data, steps=0)
    best = min(scores, key=scores.get)
    return (best if scores[best] < base_score else 0.0), scores


# --------------------------------------------------------------------------- the whole run
def run_physics(
    system: str = "pendulum",
    *,
    quick: bool = True,
    seed: int = 0,
    device: str = "auto",
    methods: Sequence[str] = METHODS,
    progress: bool = True,
    config: Optional[PhysicsConfig] = None,
    embedding: Optional[nn.Module] = None,
    return_models: bool = False,
    ckpt_dir=None,
) -> Dict[str, object]:
    """Train and evaluate the requested methods on one system.

    Args:
        system: a registered system name (``"pendulum"``, ``"spring"``, ``"damped"``
            or one you registered).
        quick: CPU-sized schedule (default) or the full one.
        seed: seeds data, initialisation and batches.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"mps"``.
        methods: subset of :data:`METHODS` (``"vanilla"`` always runs: the others
            start from it; ``"vanilla_tuned"`` is the control that gets the same
            extra training as the Noether nets with tailoring off); ``"noether_custom"`` is added when
            ``embedding`` is given (e.g. a discovered formula).
        config: a full :class:`PhysicsConfig` (overrides ``quick``/``seed``).
        embedding: an extra, user-supplied Noether embedding to meta-tailor with.
        return_models: also return the trained models, test data and rollouts
            under ``"models"``, ``"data"`` and ``"traj"`` (not JSON-ready).
        ckpt_dir: folder for one checkpoint per training stage; an interrupted run resumes
            exactly from them (and a checkpoint of another run is refused). Default:
            ``$NOETHER_CKPT_DIR`` if set (a lab run sets it), else no checkpoints.

    Returns:
        A JSON-ready dict ``{"system", "mode", "seed", "rmse": {...}, "energy_drift": {...},
        "inner_lr": {...}, "reverted": {...}, "rmse_per_horizon": {...}, "meta_trained": {...},
        "steps": {...} (optimisation steps of each stage: fewer than the schedule when it stopped
        early), "config", "seconds"}``.
    """
    t_start = time.perf_counter()
    sys_ = get_system(system)
    cfg = config or PhysicsConfig.for_mode(sys_.name, quick=quick, seed=seed)
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown method(s) {sorted(unknown)}; known: {list(METHODS)}")
    dev = auto_device(device)
    folder = check_output_folder(default_ckpt_dir(ckpt_dir), "ckpt_dir")
    mode = "quick" if cfg.quick else "full"

    # one file name per configuration: runs that differ in any field (a study's values) never meet
    tag = hashlib.sha1(json.dumps(asdict(cfg), sort_keys=True, default=str).encode()).hexdigest()[:8]

    def ck(stage: str):
        return None if folder is None else folder / f"{sys_.name}_{mode}_seed{cfg.seed}_{tag}_{stage}.pt"

    seed_everything(cfg.seed)
    n_traj = cfg.n_train + cfg.n_test
    train, test = make_dataset(sys_, seed=cfg.seed, n_traj=n_traj, train_fraction=cfg.n_train / n_traj,
                               noise_std=cfg.noise_std, n_points=cfg.n_points)
    train, test = train.to(dev), test.to(dev)
    val = None
    if cfg.n_val:  # the last n_val training trajectories pick the stopping step, λ_in and the keep rule
        train, val = split_trajectories(train, cfg.n_train - cfg.n_val)

    out: Dict[str, Dict] = {"rmse": {}, "energy_drift": {}, "inner_lr": {}, "reverted": {}, "rmse_per_horizon": {},
                            "meta_trained": {}, "steps": {}}
    models: Dict[str, nn.Module] = {}
    trajs: Dict[str, Tensor] = {}

    def record(name: str, ev: Dict[str, object]) -> None:
        out["rmse"][name] = ev["rmse"]
        out["energy_drift"][name] = ev["energy_drift"]
        out["reverted"][name] = ev["reverted"]
        out["rmse_per_horizon"][name] = ev["rmse_per_horizon"]
        trajs[name] = ev["traj"]

    torch.manual_seed(cfg.seed)
    vanilla = MLP(dim=sys_.dim, hidden=cfg.hidden, cn=cfg.tailor_mode == "cn").to(dev)
    stop = dict(val=val, patience=cfg.patience, validate_every=max(1, cfg.pretrain_steps // cfg.validations))
    hist = pretrain(vanilla, train, steps=cfg.pretrain_steps, lr=cfg.pretrain_lr, batch_size=cfg.pretrain_batch,
                    seed=cfg.seed, progress=progress, desc=f"{sys_.name}: vanilla MLP", checkpoint=ck("vanilla"),
                    **stop)
    out["steps"]["vanilla"] = hist.steps_done
    record("vanilla", evaluate(vanilla, test, system=sys_, integrator=cfg.integrator))
    models["vanilla"] = vanilla

    if "hnn" in methods:
        torch.manual_seed(cfg.seed)
        hnn = HNN(dim=sys_.dim, hidden=cfg.hidden).to(dev)
        pretrain(hnn, train, steps=cfg.pretrain_steps, lr=cfg.pretrain_lr, batch_size=cfg.pretrain_batch,
                 seed=cfg.seed, progress=progress, desc=f"{sys_.name}: HNN", checkpoint=ck("hnn"), **stop)
        record("hnn", evaluate(hnn, test, system=sys_, integrator=cfg.integrator))
        models["hnn"] = hnn

    def tailored(name: str, emb: nn.Module, *, learn: bool = False, tailor: bool = True) -> NoetherNetwork:
        run = build_tailored(vanilla, emb, train, cfg, tailor=tailor, learn=learn, progress=progress,
                             desc=f"{sys_.name}: {name}", checkpoint=ck(name), val=val)
        out["meta_trained"][name] = run.meta_trained
        out["steps"][name] = run.history.steps_done if run.history is not None else 0
        return run.net

    def noether(name: str, emb: nn.Module, learn: bool = False) -> None:
        net = tailored(name, emb, learn=learn)
        record(name, evaluate(net, test, system=sys_))
        models[name] = net
        out["inner_lr"][name] = [float(v) for v in torch.as_tensor(net.inner_lr()).detach().reshape(-1)]

    if "noether_oracle" in methods:
        noether("noether_oracle", OracleEmbedding(sys_))
    if "noether_learned" in methods:
        noether("noether_learned", learned_embedding(cfg, sys_, train), learn=True)
    if embedding is not None:
        noether("noether_custom", embedding)
    if "vanilla_tuned" in methods:
        # The control: the same meta-training loop (data, steps, lr, batch, seed and
        # keep-if-it-helps rule) with tailoring switched off (K = 0). It separates the
        # gain of tailoring from the gain of simply training the MLP longer.
        ctrl = tailored("vanilla_tuned", OracleEmbedding(sys_), tailor=False)
        record("vanilla_tuned", evaluate(ctrl.model, test, system=sys_, integrator=cfg.integrator))
        models["vanilla_tuned"] = ctrl.model

    notes = []
    if cfg.pretrain_steps == 0:
        notes.append("pretrain_steps=0: the MLP (and HNN) were never trained; their RMSE is an untrained model's")
    for note in notes:
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    result = {
        "system": sys_.name, "mode": "quick" if cfg.quick else "full", "seed": cfg.seed, "warnings": notes,
        **out, "config": asdict(cfg), "device": str(dev), "seconds": round(time.perf_counter() - t_start, 2),
    }
    if return_models:
        result.update(models=models, data={"train": train, "test": test}, traj=trajs)
    return result
