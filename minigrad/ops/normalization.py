"""Normalization ops: layer_norm (fused), group_norm, instance_norm, rms_norm,
local_response_norm and normalize, with PyTorch's names, arguments and errors.

layer_norm is one Function: forward computes the standardized input x_hat and 1 / std once,
and backward is the single formula

    grad_x = rstd * (g - mean(g) - x_hat * mean(g * x_hat)),   g = grad * weight

over the normalized dims. The NumPy side reuses forward's x_hat and rstd through
`xp.recompute(cache, formula, ...)`; a graph pass (`create_graph=True`) recomputes them from
the saved input as ops, so the gradient is differentiable again. The other normalizations
are composites of differentiable ops (one pass each, so twice differentiable for free).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor

__all__ = ["layer_norm"]


def _standardize(xp: Any, x: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any]:
    """(x_hat, rstd): x centered and scaled by 1 / sqrt(biased var + eps) over `axes`."""
    centered = x - xp.mean(x, axis=axes, keepdims=True)
    variance = xp.mean(centered * centered, axis=axes, keepdims=True)
    rstd = 1 / xp.sqrt(variance + eps)
    return centered * rstd, rstd


class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape) dims.

    weight and bias (normalized_shape) are optional (None). Gradients: x as in the module
    docstring, weight sum(grad * x_hat), bias sum(grad) over the leading dims.
    """

    def forward(self, x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                axes: tuple[int, ...], eps: float) -> np.ndarray:
        self.axes, self.eps = axes, eps
        self.has_weight = weight is not None
        self.bias_shape = None if bias is None else bias.shape
        x_hat, rstd = _standardize(np, x, axes, eps)
        # (x_hat, rstd) is a first-order cache only: a graph recomputes it from x
        self.cache = (x_hat, rstd)
        self.save(x, weight)
        # a new array even without weight: the cache must not alias the output
        output = x_hat.copy() if weight is None else x_hat * weight
        if bias is not None:
            output = output + bias
        return output

    def backward(self, xp: Any, grad: Any, x: Any, weight: Any) -> tuple:
        x_hat, rstd = xp.recompute(self.__dict__.get("cache"), _standardize, x, self.axes,
                                   self.eps)
        grad_weight = grad_bias = grad_x = None
        if self.needs_input_grad[1]:
            grad_weight = xp.sum_to(grad * x_hat, weight.shape)
        if self.needs_input_grad[2]:
            grad_bias = xp.sum_to(grad, self.bias_shape)
        if self.needs_input_grad[0]:
            g = grad * weight if self.has_weight else grad
            mean_g = xp.mean(g, axis=self.axes, keepdims=True)
            mean_gx = xp.mean(g * x_hat, axis=self.axes, keepdims=True)
            grad_x = rstd * (g - mean_g - x_hat * mean_gx)
        return grad_x, grad_weight, grad_bias


def _as_shape(where: str, normalized_shape: Any) -> tuple[int, ...]:
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape,
                                                                         bool):
        return (int(normalized_shape),)
    try:
        shape = tuple(int(side) for side in normalized_shape)
    except TypeError:
        raise TypeError(f"{where}(): argument 'normalized_shape' must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}") from None
    return shape


def _check_affine(where: str, name: str, value: Any, shape: tuple[int, ...],
                  input: Tensor) -> None:
    if value is None:
        return
    _check_tensor(where, name, value)
    if tuple(value.shape) != shape:
        raise RuntimeError(f"{where}: expected {name} of shape {list(shape)}, got "
                           f"{list(value.shape)}")
    if value.dtype != input.dtype:
        raise RuntimeError(f"{where}: expected {name} with dtype {input.dtype} (the input's), "
                           f"got {value.dtype}")


def _check_normalized(where: str, input: Tensor, shape: tuple[int, ...]) -> None:
    if len(shape) == 0:
        raise RuntimeError(f"{where}: Expected normalized_shape to be at least 1-dimensional, "
                           f"i.e., containing at least one element, but got "
                           f"normalized_shape = {list(shape)}")
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"{where}: Given normalized_shape={list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                           f"size{list(input.shape)}")


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) dims, then scale and shift.

    Shape: (*, *normalized_shape) -> same; weight and bias are normalized_shape.
    """
    _check_tensor("layer_norm", "input", input)
    shape = _as_shape("layer_norm", normalized_shape)
    _check_normalized("layer_norm", input, shape)
    _check_floating("layer_norm", input)
    _check_affine("layer_norm", "weight", weight, shape, input)
    _check_affine("layer_norm", "bias", bias, shape, input)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    return LayerNorm.apply(input, weight, bias, axes=axes, eps=float(eps))


TENSOR_METHODS: dict = {}
FUNCTIONAL = {
    "layer_norm": layer_norm,
}
TOPLEVEL = {
    "layer_norm": layer_norm,
}
