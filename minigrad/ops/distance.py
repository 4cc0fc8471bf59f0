"""Norms and distances along one dim: normalize, cosine_similarity, pairwise_distance, and the
bilinear form (F.bilinear).

`VectorNorm` (the p-norm along one axis) is the one fused op; the public functions are
composites of it and of elementwise ops, so they are twice differentiable. The norm's
gradient is PyTorch's: x / ||x|| for p = 2, sign(x) |x|^(p-1) / ||x||^(p-1) in general,
sign(x) for p = 1, the gradient shared among the ties of the largest |x| for p = inf, and 0
where the norm is 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Function, Tensor, normalize_dim
from ._broadcast import broadcast_shapes
from ._convert import promote
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor
from .elementwise import clamp
from .matmul import matmul
from .movement import expand, permute, reshape, unsqueeze
from .reduce import sum as _sum

__all__ = ["bilinear", "cosine_similarity", "normalize", "pairwise_distance"]


def _norm_array(x: np.ndarray, p: float, axis: int, keepdims: bool) -> np.ndarray:
    magnitude = np.abs(x)
    if p == 2:
        result = np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    elif p == 1:
        result = np.sum(magnitude, axis=axis, keepdims=keepdims)
    elif p == math.inf:
        result = np.max(magnitude, axis=axis, keepdims=keepdims, initial=0)
    elif p == -math.inf:
        result = np.min(magnitude, axis=axis, keepdims=keepdims, initial=math.inf)
    elif p == 0:
        result = np.sum(x != 0, axis=axis, keepdims=keepdims)
    else:
        result = np.sum(magnitude ** p, axis=axis, keepdims=keepdims) ** (1 / p)
    return np.asarray(result, dtype=x.dtype)


class VectorNorm(Function):
    """(sum_i |x_i|^p)^(1/p) along `axis` (max |x_i| for p = inf, count of nonzeros for 0)."""

    def forward(self, x: np.ndarray, p: float, axis: int, keepdim: bool) -> np.ndarray:
        output = _norm_array(x, p, axis, keepdim)
        self.save(x, output)
        kept = output if keepdim else np.expand_dims(output, axis)
        self.zero = kept == 0  # where the gradient is 0 instead of 0 / 0 (a constant)
        if p in (math.inf, -math.inf):
            self.extreme = np.abs(x) == kept  # the ties that share the gradient (a constant)
            self.extreme = self.extreme / self.extreme.sum(axis=axis, keepdims=True)
            self.extreme = self.extreme.astype(x.dtype)
        return output

    def backward(self, xp: Any, grad: Any, x: Any, output: Any) -> Any:
        p, axis, keepdim = (self.options[name] for name in ("p", "axis", "keepdim"))
        if not keepdim:
            grad, output = xp.expand_dims(grad, axis), xp.expand_dims(output, axis)
        if p == 0:
            return grad * xp.zeros_like(x)
        if p in (math.inf, -math.inf):
            return grad * xp.sign(x) * self.extreme
        if p == 1:
            return grad * xp.sign(x)
        safe = xp.where(self.zero, 1, output)  # so no 0 / 0 is formed, in either pass
        if p == 2:
            return xp.where(self.zero, 0, grad * x / safe)
        scale = xp.sign(x) * xp.abs(x) ** (p - 1) / safe ** (p - 1)
        return xp.where(self.zero, 0, grad * scale)


def vector_norm(input: Tensor, p: float = 2.0, dim: int = -1, keepdim: bool = False) -> Tensor:
    """The p-norm of `input` along one dim (a helper of the functions below).

    Shape: (*, d, *) -> (*, *), or (*, 1, *) with keepdim.
    """
    axis = normalize_dim(dim, max(input.ndim, 1), "norm")
    if input.ndim == 0:
        input = reshape(input, (1,))
    return VectorNorm.apply(input, p=float(p), axis=axis, keepdim=bool(keepdim))


def _check_p(where: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}(): argument 'p' must be a number, got {type(p).__name__}")
    if p < 0:
        raise RuntimeError(f"{where}: p should be non-negative, got p={p}")
    return float(p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """input / max(||input||_p, eps) along `dim`. Shape: any -> same."""
    _check_tensor("normalize", "input", input)
    _check_floating("normalize", input)
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported by minigrad")
    norm = vector_norm(input, float(p), dim, keepdim=True)
    return input / clamp(norm, min=eps)


def _floor_without_gradient(norm: Tensor, eps: float) -> Tensor:
    """max(norm, eps) whose gradient is the norm's own, as PyTorch's clamp under no_grad."""
    if not (norm.data < eps).any():
        return norm
    lift = np.maximum(norm.data, norm.data.dtype.type(eps)) - norm.data
    return norm + Tensor._from_op(lift)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along `dim`, broadcasting.

    Each input is divided by its norm first (PyTorch's order, stable for large values).
    Shape: (*, d, *) and a broadcastable shape -> the broadcast shape without `dim`.
    """
    _check_tensor("cosine_similarity", "x1", x1)
    _check_tensor("cosine_similarity", "x2", x2)
    shape = broadcast_shapes("cosine_similarity", x1.shape, x2.shape)
    x1, x2 = promote(x1, x2)
    _check_floating("cosine_similarity", x1)
    x1 = x1 if x1.shape == shape else expand(x1, *shape)
    x2 = x2 if x2.shape == shape else expand(x2, *shape)
    axis = normalize_dim(dim, len(shape), "cosine_similarity")
    norm1 = _floor_without_gradient(vector_norm(x1, 2.0, axis, keepdim=True), eps)
    norm2 = _floor_without_gradient(vector_norm(x2, 2.0, axis, keepdim=True), eps)
    return _sum((x1 / norm1) * (x2 / norm2), dim=axis)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim, broadcasting.

    Shape: (N, D) and (N, D) or (D,) -> (N,) ((N, 1) with keepdim).
    """
    _check_tensor("pairwise_distance", "x1", x1)
    _check_tensor("pairwise_distance", "x2", x2)
    p = _check_p("pairwise_distance", p)
    broadcast_shapes("pairwise_distance", x1.shape, x2.shape)
    output_dims = max(x1.ndim, x2.ndim)
    if output_dims == 0:
        raise IndexError("pairwise_distance: Dimension out of range (inputs are 0-d)")
    return vector_norm(x1 - x2 + eps, p, output_dims - 1, keepdim)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o].

    Shape: (*, in1), (*, in2), weight (out, in1, in2), bias (out,) -> (*, out).
    """
    for name, value in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor("bilinear", name, value)
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional (out, in1, in2), got "
                           f"{weight.shape}")
    out_features, in1, in2 = weight.shape
    if input1.ndim == 0 or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{input1.shape[:-1]} and {input2.shape[:-1]}")
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input sizes do not match weight: input1 "
                           f"{input1.shape}, input2 {input2.shape}, weight {weight.shape}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_features):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape} but expected ({out_features},)")
    batch = input1.shape[:-1]
    left = reshape(input1, (-1, in1))
    right = reshape(input2, (-1, in2))
    # (M, in1) @ (in1, out * in2) -> (M, out, in2), then the inner product with input2
    mixed = matmul(left, reshape(permute(weight, (1, 0, 2)), (in1, out_features * in2)))
    mixed = reshape(mixed, (-1, out_features, in2))
    output = _sum(mixed * unsqueeze(right, 1), dim=2)
    if bias is not None:
        output = output + bias
    return reshape(output, batch + (out_features,))


TENSOR_METHODS: dict = {}
FUNCTIONAL = {name: globals()[name] for name in __all__}
TOPLEVEL = {"bilinear": bilinear, "cosine_similarity": cosine_similarity,
            "pairwise_distance": pairwise_distance}
NUMPY_XP: dict = {}
GRAPH_XP: dict = {}
