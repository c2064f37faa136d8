"""SVG-LP with conditional normalisation, and its deterministic action-conditioned variant.

* :class:`SVG` — Stochastic Video Generation with a learned prior (Denton &
  Fergus 2018): a VGG-style encoder/decoder with skip connections, an LSTM
  frame predictor, LSTM prior and posterior over a latent ``z``. Every
  normalisation is ``GroupNorm(1, C)`` (it never mixes examples) followed by a
  :class:`~noether_lite.models.CondNorm` layer ``h <- γ_i ⊙ h + β_i`` whose
  per-example parameters CNGrad tailors (the norm's affine and the CN layer are
  folded into one per-example affine, and :mod:`noether_lite.video.ops` supplies a
  normalisation and a LeakyReLU that keep fewer activations for the double
  backward). ``stochastic=False`` drops ``z`` and
  ``action_dim > 0`` concatenates an action to the encoder output: the
  deterministic, action-conditioned model of the controlled pendulum.
The Noether embedding on frame pairs is in :mod:`.embedding`, the learner that tailors
this model in :mod:`.learner`.

Shapes: clips are ``(B, T, C, H, W)`` floats in [0, 1]; frames are flattened
time-major to ``(T·B, C, H, W)`` for the convolutions, so the per-example CN
parameters ``(B, C)`` are repeated ``T`` times (row ``t·B + b`` is example ``b``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.mlp import CondNorm
from .ops import leaky_relu, normalize

__all__ = ["SVGConfig", "SVG", "svg_config", "expand_cn"]

CN = Dict[str, Tensor]


@dataclass(frozen=True)
class SVGConfig:
    """Size of an SVG model and its Noether embedding.

    Attributes:
        image_size: frame side (a power of two, >= 16).
        channels: image channels.
        width: channels of the first VGG block (the paper's 128×128 model: 64).
        g_dim: encoder output size (paper 128).
        z_dim: latent size (paper 64).
        rnn_size: LSTM width (paper 256).
        predictor_layers, prior_layers, posterior_layers: LSTM depths (paper 2, 1, 1).
        stochastic: SVG-LP (True) or deterministic (False: no z, no KL).
        action_dim: size of the action concatenated to the encoder output (0 = none).
        n_past: conditioning frames (2).
        beta: weight of the KL term (1e-4).
        emb_width: channels of g_φ's first conv (paper 32; the second has twice as many).
        emb_dim: output size of g_φ (paper 64).
    """

    image_size: int = 64
    channels: int = 3
    width: int = 64
    g_dim: int = 128
    z_dim: int = 64
    rnn_size: int = 256
    predictor_layers: int = 2
    prior_layers: int = 1
    posterior_layers: int = 1
    stochastic: bool = True
    action_dim: int = 0
    n_past: int = 2
    beta: float = 1e-4
    emb_width: int = 32
    emb_dim: int = 64

    def __post_init__(self) -> None:
        s = self.image_size
        if s < 16 or s & (s - 1):
            raise ValueError(f"image_size must be a power of two >= 16, got {s}")
        if self.n_past < 2:
            raise ValueError("n_past must be >= 2 (the Noether loss sees pairs of frames)")
        for name, low in (("channels", 1), ("width", 1), ("g_dim", 1), ("z_dim", 1), ("rnn_size", 1),
                          ("predictor_layers", 1), ("prior_layers", 1), ("posterior_layers", 1), ("action_dim", 0),
                          ("emb_width", 1), ("emb_dim", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        if not (isinstance(self.beta, (int, float)) and math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta!r}")


def svg_config(size: str = "quick", image_size: int = 32, **kw) -> SVGConfig:
    """Named sizes: ``"tiny"`` (tests), ``"quick"`` (CPU), ``"paper"`` (the paper's model)."""
    sizes = {
        "tiny": dict(width=4, g_dim=16, z_dim=4, rnn_size=16, predictor_layers=1, emb_width=4, emb_dim=8),
        "quick": dict(width=8, g_dim=32, z_dim=8, rnn_size=64, emb_width=8, emb_dim=16),
        "paper": dict(width=64, g_dim=128, z_dim=64, rnn_size=256, emb_width=32, emb_dim=64),
    }
    if size not in sizes:
        raise ValueError(f"unknown model size {size!r}; known: {sorted(sizes)}")
    return SVGConfig(image_size=image_size, **{**sizes[size], **kw})


def expand_cn(cn: Optional[CN], times: int) -> Optional[CN]:
    """Repeat per-example CN parameters for ``times`` time-major frames: ``(B, C, ...) -> (times·B, C, ...)``
    (the folded ones of :meth:`SVG.fold_cn` too)."""
    if cn is None or times == 1:
        return cn
    return {k: v.repeat(times, *([1] * (v.ndim - 1))) for k, v in cn.items()}


def _amp_cn(cn: Optional[CN], ref: Tensor) -> Optional[CN]:
    """Under autocast, cast the CN parameters to the autocast dtype, so that ``γ ⊙ h + β`` does not
    promote the bf16 activations (and every tensor saved after it) to fp32."""
    dev = ref.device.type
    if cn is None or not torch.is_autocast_enabled(dev):
        return cn
    dt = torch.get_autocast_dtype(dev)
    return {k: v.to(dt) for k, v in cn.items()}


class GroupNorm1(nn.GroupNorm):
    """``GroupNorm(1, C)``: normalise each example over ``(C, H, W)``, then a per-channel affine.

    Computed with :func:`noether_lite.video.ops.normalize` (the same function as
    ``group_norm`` with one group; it keeps less for the backward pass and differentiates
    twice with far fewer operators), in the input's dtype (bf16 under autocast, which would
    otherwise run it, and every tensor saved after it, in fp32; statistics in fp32).
    :meth:`normalize` leaves the affine to the caller, which :class:`ConvNormAct` fuses
    with the CN modulation.
    """

    def __init__(self, channels: int) -> None:
        super().__init__(1, channels)

    def normalize(self, x: Tensor) -> Tensor:
        return normalize(x, self.eps)

    def forward(self, x: Tensor) -> Tensor:
        n = self.normalize(x)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return torch.addcmul(self.bias.view(shape).to(n.dtype), n, self.weight.view(shape).to(n.dtype))


class ConvNormAct(nn.Module):
    """conv -> GroupNorm(1, C) -> CondNorm -> LeakyReLU(0.2) (or tanh).

    The norm's affine ``(w, b)`` and the per-example CN ``(γ_i, β_i)`` are folded into one
    per-example affine, ``γ_i ⊙ (w ⊙ n + b) + β_i = (γ_i w) ⊙ n + (γ_i b + β_i)``, applied
    with a single ``addcmul`` on the feature map (fewer operators to launch and to
    differentiate twice)."""

    def __init__(self, key: str, cin: int, cout: int, *, k: int = 3, pad: int = 1, transpose: bool = False, act: str = "lrelu") -> None:
        super().__init__()
        conv = nn.ConvTranspose2d if transpose else nn.Conv2d
        self.conv = conv(cin, cout, k, 1, pad)
        self.norm = GroupNorm1(cout)
        self.cn = CondNorm(key, cout)
        self.act = act

    def fold(self, cn: CN) -> CN:
        """This layer's per-example affine ``(γ_i w, γ_i b + β_i)``, each ``(N, C, 1, 1)``, under the
        names ``<key>.scale`` and ``<key>.shift`` (in the dtype of ``cn``)."""
        g, beta = cn[f"{self.cn.key}.gamma"], cn[f"{self.cn.key}.beta"]  # (N, C)
        w, b = self.norm.weight.to(g.dtype), self.norm.bias.to(g.dtype)
        return {f"{self.cn.key}.scale": (g * w).unsqueeze(-1).unsqueeze(-1),
                f"{self.cn.key}.shift": torch.addcmul(beta.to(g.dtype), g, b).unsqueeze(-1).unsqueeze(-1)}

    def forward(self, x: Tensor, cn: Optional[CN]) -> Tensor:
        h = self.conv(x)
        n = self.norm.normalize(h)
        if cn is None:
            w, b = self.norm.weight.to(n.dtype), self.norm.bias.to(n.dtype)
            scale, shift = w.view(1, -1, 1, 1), b.view(1, -1, 1, 1)
        elif f"{self.cn.key}.scale" in cn:  # folded once per rollout (SVG.fold_cn)
            scale, shift = cn[f"{self.cn.key}.scale"].to(n.dtype), cn[f"{self.cn.key}.shift"].to(n.dtype)
        else:
            key = self.cn.key
            folded = self.fold({f"{key}.{k}": cn[f"{key}.{k}"].to(n.dtype) for k in ("gamma", "beta")})
            scale, shift = folded[f"{self.cn.key}.scale"], folded[f"{self.cn.key}.shift"]
        h = torch.addcmul(shift, n, scale)
        return leaky_relu(h, 0.2) if self.act == "lrelu" else torch.tanh(h)


def _levels(cfg: SVGConfig) -> List[Tuple[int, int]]:
    """(channels, n_convs) per resolution level, from full size down to 8×8."""
    n = int(math.log2(cfg.image_size)) - 2  # levels until a 4×4 map
    convs = [2, 2, 3, 3, 3, 3, 3]
    return [(min(cfg.width * 2 ** i, 8 * cfg.width), convs[min(i, len(convs) - 1)]) for i in range(n)]


class Encoder(nn.Module):
    """VGG-style: ``(N, C, S, S) -> h (N, g_dim)`` and skips (one per level)."""

    def __init__(self, cfg: SVGConfig) -> None:
        super().__init__()
        self.blocks = nn.ModuleList()
        cin = cfg.channels
        for i, (c, n) in enumerate(_levels(cfg)):
            layers = nn.ModuleList()
            for j in range(n):
                layers.append(ConvNormAct(f"enc{i}.{j}", cin, c))
                cin = c
            self.blocks.append(layers)
        self.last = ConvNormAct("enc.out", cin, cfg.g_dim, k=4, pad=0, act="tanh")

    channels_last = False

    def forward(self, x: Tensor, cn: Optional[CN]) -> Tuple[Tensor, List[Tensor]]:
        skips = []
        cn = _amp_cn(cn, x)
        h = x.contiguous(memory_format=torch.channels_last) if self.channels_last else x
        for layers in self.blocks:
            for layer in layers:
                h = layer(h, cn)
            skips.append(h)
            h = F.max_pool2d(h, 2)
        return self.last(h, cn).flatten(1), skips  # (N, g_dim)


class Decoder(nn.Module):
    """Mirror of :class:`Encoder`: ``(h (N, g_dim), skips) -> frames (N, C, S, S)`` in [0, 1]."""

    def __init__(self, cfg: SVGConfig) -> None:
        super().__init__()
        levels = _levels(cfg)
        self.first = ConvNormAct("dec.in", cfg.g_dim, levels[-1][0], k=4, pad=0, transpose=True)
        self.blocks = nn.ModuleList()
        cin = levels[-1][0]
        for i in reversed(range(len(levels))):
            c, n = levels[i]
            cout_last = levels[i - 1][0] if i > 0 else None
            layers = nn.ModuleList()
            for j in range(n):
                a = cin + c if j == 0 else c  # the first conv sees the skip concatenated
                if i == 0 and j == n - 1:
                    layers.append(nn.Conv2d(a, cfg.channels, 3, 1, 1))  # output layer: no norm
                else:
                    b = cout_last if (j == n - 1) else c
                    layers.append(ConvNormAct(f"dec{i}.{j}", a, b))
            cin = cout_last if cout_last is not None else c
            self.blocks.append(layers)

    channels_last = False

    def forward(self, h: Tensor, skips: List[Tensor], cn: Optional[CN]) -> Tensor:
        cn = _amp_cn(cn, h)
        x = self.first(h[:, :, None, None], cn)  # (N, C_L, 4, 4)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        for layers, skip in zip(self.blocks, reversed(skips)):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = torch.cat([x, skip], dim=1)
            for layer in layers:
                x = layer(x, cn) if isinstance(layer, ConvNormAct) else layer(x)
        return torch.sigmoid(x)


class LSTMStack(nn.Module):
    """Linear -> ``layers`` LSTM cells -> Linear, written with plain ops so that it can be
    differentiated twice (CNGrad's second-order step runs through the rollout)."""

    def __init__(self, cin: int, cout: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Linear(cin, hidden)
        self.ih = nn.ModuleList(nn.Linear(hidden, 4 * hidden) for _ in range(layers))
        self.hh = nn.ModuleList(nn.Linear(hidden, 4 * hidden, bias=False) for _ in range(layers))
        self.out = nn.Linear(hidden, cout)
        self.hidden = hidden

    def init_state(self, batch: int, ref: Tensor) -> List[Tuple[Tensor, Tensor]]:
        z = ref.new_zeros(batch, self.hidden)
        return [(z, z) for _ in self.ih]

    @staticmethod
    def _cell(gates: Tensor, c: Tensor) -> Tuple[Tensor, Tensor]:
        i, f, g, o = gates.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def step(self, x: Tensor, state):
        """One time step: ``x (B, cin) -> (B, hidden)`` before ``out``; returns new state."""
        h_in = self.embed(x)
        new = []
        for ih, hh, (h, c) in zip(self.ih, self.hh, state):
            h, c = self._cell(ih(h_in) + hh(h), c)
            new.append((h, c))
            h_in = h
        return h_in, new

    def sequence(self, x: Tensor) -> Tensor:
        """Whole known input sequence ``(T, B, cin) -> (T, B, hidden)``; input projections are
        batched over time, only the recurrence loops."""
        h_in = self.embed(x)  # (T, B, hidden)
        T, B = x.shape[:2]
        for ih, hh in zip(self.ih, self.hh):
            gx = ih(h_in)  # (T, B, 4·hidden)
            h = c = x.new_zeros(B, self.hidden, dtype=gx.dtype)
            outs = []
            for t in range(T):
                h, c = self._cell(gx[t] + hh(h), c)
                outs.append(h)
            h_in = torch.stack(outs)  # (T, B, hidden)
        return h_in


class GaussianLSTM(LSTMStack):
    """LSTM whose output parameterises a diagonal Gaussian ``(μ, log σ²)``."""

    def __init__(self, cin: int, z_dim: int, hidden: int, layers: int) -> None:
        super().__init__(cin, 2 * z_dim, hidden, layers)
        self.z_dim = z_dim

    def head(self, h: Tensor) -> Tuple[Tensor, Tensor]:
        mu, logvar = self.out(h).chunk(2, dim=-1)
        return mu, logvar


class SVG(nn.Module):
    """SVG-LP (or its deterministic, action-conditioned variant) with CN layers.

    The CN parameters are passed per call (``cn``: name -> ``(B, C)``; ``None`` = identity).
    """

    def __init__(self, cfg: SVGConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        zin = cfg.z_dim if cfg.stochastic else 0
        self.predictor = LSTMStack(cfg.g_dim + zin + cfg.action_dim, cfg.g_dim, cfg.rnn_size, cfg.predictor_layers)
        if cfg.stochastic:
            self.prior = GaussianLSTM(cfg.g_dim, cfg.z_dim, cfg.rnn_size, cfg.prior_layers)
            self.posterior = GaussianLSTM(cfg.g_dim, cfg.z_dim, cfg.rnn_size, cfg.posterior_layers)
        self._cn_layers = [m for m in self.modules() if isinstance(m, CondNorm)]
        self._cn_convs = [m for m in self.modules() if isinstance(m, ConvNormAct)]

    def forward(self, *args, method: str = "rollout", **kw):
        """Dispatch to :meth:`rollout` or :meth:`task_loss` (lets ``torch.func.functional_call``
        run either with substituted weights)."""
        if method not in ("rollout", "task_loss"):
            raise ValueError(f"method must be 'rollout' or 'task_loss', got {method!r}")
        return getattr(self, method)(*args, **kw)

    # ---------------------------------------------------------------- CN parameters
    def init_cn(self, batch_size: int, *, device=None, dtype=torch.float32) -> CN:
        """Fresh per-example ``(γ, β) = (1, 0)`` for every CN layer, each ``(B, C)``."""
        out: CN = {}
        for m in self._cn_layers:
            out.update(m.init_params(batch_size, device=device, dtype=dtype))
        return out

    def fold_cn(self, cn: Optional[CN]) -> Optional[CN]:
        """Each CN layer's ``(γ, β)`` folded with its norm's affine into ``(scale, shift)``
        (:meth:`ConvNormAct.fold`): computed once, for a rollout's ``2·n_future`` encoder and
        decoder calls, instead of at each (fewer operators to run and to differentiate twice)."""
        if cn is None:
            return None
        out: CN = {}
        for m in self._cn_convs:
            out.update(m.fold(cn))
        return out

    def n_cn(self) -> int:
        """CN scalars tailored per example."""
        return sum(2 * m.channels for m in self._cn_layers)

    # ---------------------------------------------------------------- pieces
    def encode(self, frames: Tensor, cn: Optional[CN]) -> Tuple[Tensor, List[Tensor]]:
        """``(B, T, C, H, W) -> h (T, B, g_dim)``, skips of each level ``(T, B, c, s, s)``."""
        B, T = frames.shape[:2]
        x = frames.transpose(0, 1).reshape(T * B, *frames.shape[2:])  # (T·B, C, H, W), time-major
        h, skips = self.encoder(x, expand_cn(cn, T))
        return h.view(T, B, -1), [s.view(T, B, *s.shape[1:]) for s in skips]

    def decode(self, h: Tensor, skips: List[Tensor], cn: Optional[CN]) -> Tensor:
        """``h (T, B, g_dim)`` with skips ``(B, c, s, s)`` (one frame's, shared over T) -> ``(B, T, C, H, W)``."""
        T, B = h.shape[:2]
        sk = [s.unsqueeze(0).expand(T, *s.shape).reshape(T * B, *s.shape[1:]) for s in skips]  # (T·B, c, s, s)
        x = self.decoder(h.reshape(T * B, -1), sk, expand_cn(cn, T))
        return x.view(T, B, *x.shape[1:]).transpose(0, 1)

    # ---------------------------------------------------------------- teacher-forced loss
    def task_loss(self, clip: Tensor, cn: Optional[CN] = None, actions: Optional[Tensor] = None,
                  eps: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """SVG's training loss, per example: ``Σ_t MSE(x̂_t, x_t) + β Σ_t KL(q_t ‖ p_t)``.

        Args:
            clip: ``(B, T, C, H, W)`` in [0, 1].
            cn: per-example CN parameters ``(B, C)`` each, or ``None``.
            actions: ``(B, T, A)`` when ``action_dim > 0``.
            eps: standard normal noise ``(T-1, B, z_dim)`` for the posterior samples.

        Returns:
            ``(loss (B,), per-frame MSE (B, T-1))``.
        """
        cfg = self.cfg
        B, T = clip.shape[:2]
        h, skips = self.encode(clip, cn)  # (T, B, g)
        skip = [s[cfg.n_past - 1] for s in skips]  # skips of the last conditioning frame
        inp = [h[:-1]]
        kl = _up(clip).new_zeros(B)
        if cfg.stochastic:
            qh = self.posterior.sequence(h[1:])  # (T-1, B, hidden)
            mu_q, lv_q = self.posterior.head(qh)
            ph = self.prior.sequence(h[:-1])
            mu_p, lv_p = self.prior.head(ph)
            if eps is None:
                eps = torch.randn_like(mu_q)
            z = mu_q + torch.exp(0.5 * lv_q) * eps.to(mu_q.dtype)
            inp.append(z)
            kl = _gauss_kl(_up(mu_q), _up(lv_q), _up(mu_p), _up(lv_p)).sum(0)  # (B,)
        if cfg.action_dim:
            inp.append(_check_actions(actions, B, T, cfg.action_dim).transpose(0, 1)[:-1].to(h.dtype))
        hp = torch.tanh(self.predictor.out(self.predictor.sequence(torch.cat(inp, -1))))  # (T-1, B, g)
        pred = self.decode(hp, skip, cn)  # (B, T-1, C, H, W)
        mse = (_up(pred) - _up(clip[:, 1:])).pow(2).mean(dim=(2, 3, 4))  # (B, T-1)
        return mse.sum(1) + cfg.beta * kl, mse

    # ---------------------------------------------------------------- autoregressive rollout
    def rollout(self, ctx: Tensor, n_future: int, cn: Optional[CN] = None, *,
                actions: Optional[Tensor] = None, eps: Optional[Tensor] = None) -> Tensor:
        """Generate ``n_future`` frames from the conditioning frames, feeding predictions back.

        Args:
            ctx: conditioning frames ``(B, n_past, C, H, W)``.
            n_future: frames to generate.
            cn: per-example CN parameters, or ``None``.
            actions: ``(B, n_past + n_future, A)`` for the action-conditioned model.
            eps: noise for the prior samples ``(n_future, B, z_dim)`` (``None``: zeros,
                i.e. the prior mean). Reuse the same ``eps`` to compare two models.

        Returns:
            predicted frames ``(B, n_future, C, H, W)``.
        """
        cfg = self.cfg
        B, P = ctx.shape[:2]
        if P != cfg.n_past:
            raise ValueError(f"expected {cfg.n_past} conditioning frames, got {P}")
        if cfg.action_dim:
            actions = _check_actions(actions, B, P + n_future, cfg.action_dim)
        # cast and fold once here, not in each of the 2·n_future encoder/decoder calls
        cn = self.fold_cn(_amp_cn(cn, ctx))
        h_ctx, skips = self.encode(ctx, cn)  # (P, B, g)
        skip = [s[P - 1] for s in skips]
        pstate = self.predictor.init_state(B, h_ctx)
        if cfg.stochastic:
            qstate = self.posterior.init_state(B, h_ctx)
            rstate = self.prior.init_state(B, h_ctx)
        # warm up on the conditioning frames (posterior sees the true next frame)
        for t in range(1, P):
            inp = [h_ctx[t - 1]]
            if cfg.stochastic:
                hq, qstate = self.posterior.step(h_ctx[t], qstate)
                _, rstate = self.prior.step(h_ctx[t - 1], rstate)
                inp.append(self.posterior.head(hq)[0])
            if cfg.action_dim:
                inp.append(actions[:, t - 1].to(h_ctx.dtype))
            _, pstate = self.predictor.step(torch.cat(inp, -1), pstate)
        h_prev, outs = h_ctx[P - 1], []
        for t in range(P, P + n_future):
            inp = [h_prev]
            if cfg.stochastic:
                hr, rstate = self.prior.step(h_prev, rstate)
                mu, lv = self.prior.head(hr)
                e = eps[t - P].to(mu.dtype) if eps is not None else torch.zeros_like(mu)
                inp.append(mu + torch.exp(0.5 * lv) * e)
            if cfg.action_dim:
                inp.append(actions[:, t - 1].to(h_prev.dtype))
            hp, pstate = self.predictor.step(torch.cat(inp, -1), pstate)
            hp = torch.tanh(self.predictor.out(hp))  # (B, g)
            x = self.decoder(hp, skip, cn)  # (B, C, H, W)
            outs.append(x)
            if t < P + n_future - 1:
                h_prev = self.encoder(x, cn)[0]
        return torch.stack(outs, 1)  # (B, n_future, C, H, W)


def _up(x: Tensor) -> Tensor:
    """At least float32 (bf16/fp16 activations are upcast for losses; float64 stays)."""
    return x.float() if x.dtype in (torch.bfloat16, torch.float16) else x


def _check_actions(actions: Optional[Tensor], B: int, T: int, A: int) -> Tensor:
    if actions is None:
        raise ValueError(f"this model is action-conditioned (action_dim={A}): pass actions of shape (B, T, {A})")
    if actions.ndim != 3 or actions.shape[0] != B or actions.shape[1] < T or actions.shape[2] != A:
        raise ValueError(f"actions must have shape ({B}, >= {T}, {A}); got {tuple(actions.shape)}")
    return actions


def _gauss_kl(mu_q: Tensor, lv_q: Tensor, mu_p: Tensor, lv_p: Tensor) -> Tensor:
    """KL(N(μq, σq²) ‖ N(μp, σp²)) summed over the last dimension."""
    return 0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1).sum(-1)
