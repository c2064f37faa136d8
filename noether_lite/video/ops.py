"""Two operators that keep fewer activations and differentiate twice cheaply.

CNGrad's meta-step differentiates the rollout twice, so every tensor an operator
saves for its backward pass stays alive until the outer backward, and every
operator of a backward formula is differentiated again. These two replace
library operators in :class:`~noether_lite.video.svg.ConvNormAct`:

* :func:`normalize` — layer normalisation over all but the first dimension,
  without affine (``GroupNorm(1, C)``'s normalisation). It saves its *output*
  ``n`` and the per-row ``1/σ`` instead of its input (the following affine saves
  ``n`` anyway, so the convolution's output need not be kept), and its backward,
  ``dx = (g − mean g − n·mean(g n)) / σ``, is a handful of operators whose own
  derivative is again this function's backward.
* :func:`leaky_relu` — saves its output rather than its input (the next
  convolution keeps that output as its input anyway); the slope is read off the
  output's sign, which equals the input's for a positive ``slope``.

Both are checked with ``gradcheck`` and ``gradgradcheck`` in the tests. The
statistics are computed in fp32 for bf16/fp16 inputs.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["normalize", "leaky_relu"]

_LOW = (torch.bfloat16, torch.float16)


def _no_autocast(t: Tensor):
    return torch.autocast(t.device.type, enabled=False)


class _Normalize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, eps: float):
        with _no_autocast(x):
            n, _, r = torch.native_layer_norm(x, x.shape[1:], None, None, eps)  # r = 1/σ per row, (N, 1, ...)
        ctx.save_for_backward(n, r)
        ctx.set_materialize_grads(False)
        return n, r  # r is an output too, so the second derivative through σ is tracked

    @staticmethod
    def backward(ctx, gn, gr):
        n, r = ctx.saved_tensors
        dims = tuple(range(1, n.ndim))
        gx = None
        with _no_autocast(n):
            if gn is not None:
                # (gn − mean gn − n·mean(gn n))·r, as two addcmuls that keep only gn and n
                # (both kept anyway) for a second derivative, not a new full-size tensor
                rr = r.to(gn.dtype)
                mg = gn.mean(dims, keepdim=True)
                mgn = (gn * n).mean(dims, keepdim=True)
                gx = torch.addcmul(torch.addcmul(-(mg * rr), gn, rr), n, -(mgn * rr))
            if gr is not None:  # r = (var + eps)^(-1/2): dr/dx = -r² n / D
                t = n * (gr * r * r).mul(-1.0 / n[0].numel()).to(n.dtype)
                gx = t if gx is None else gx + t
        return gx, None


class _LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, slope: float):
        y = torch.nn.functional.leaky_relu(x, slope)
        ctx.save_for_backward(y)
        ctx.slope = slope
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        # piecewise linear: the mask is a constant of the input, so this is also the exact
        # derivative of the backward with respect to gy (and zero with respect to y)
        return torch.where(y > 0, gy, gy * ctx.slope), None


def normalize(x: Tensor, eps: float = 1e-5) -> Tensor:
    """``(x − mean) / sqrt(var + eps)`` over all dimensions but the first (``(N, ...)``)."""
    return _Normalize.apply(x, eps)[0]


def leaky_relu(x: Tensor, slope: float = 0.2) -> Tensor:
    """LeakyReLU that saves its output (``slope`` must be positive)."""
    if slope <= 0:
        raise ValueError(f"slope must be positive (the backward reads the sign off the output), got {slope}")
    return _LeakyReLU.apply(x, slope)
