"""Batch normalization with batch statistics as one op: forward in one pass over the input,
backward in one formula (the layers BatchNorm1d/2d call it in training mode).

    y = (x - mean) * inv_std * weight + bias,  inv_std = 1 / sqrt(var + eps)

mean and the biased var are per channel (dim 1) over every other dim. With m values per
channel, x_hat = (x - mean) * inv_std, gb = sum(g) and gw = sum(g * x_hat) per channel:

    grad_bias = gb,  grad_weight = gw,
    grad_x = weight * inv_std / m * (m * g - gb - x_hat * gw)

An ordinary backward reuses forward's per-channel (mean, inv_std) (a first-order cache read
through `xp.recompute`, so a retained graph never keeps it) and runs the formula as one
in-place NumPy kernel (`batch_norm_backward`); a `create_graph` pass recomputes the statistics
from the input tensor with differentiable ops and writes the same formula as ops, so the
gradient can be differentiated again. Like PyTorch, forward keeps the input (not x_hat).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._shared import as_tensor as _as_tensor

__all__ = ["BatchNormTrain", "batch_norm_train"]


class BatchNormTrain(Function):
    """Batch normalization with this batch's statistics. Shape: (N, C, *) -> (N, C, *);
    weight and bias (C,) or None. `statistics`, if a list, receives the per-channel
    (mean, biased var) arrays, for the layer's running estimates."""

    def forward(self, x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                eps: float, statistics: list | None = None) -> np.ndarray:
        axes = (0,) + tuple(range(2, x.ndim))
        self.axes, self.eps = axes, eps
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        squares = np.square(centered)
        var = squares.mean(axis=axes, keepdims=True)
        del squares
        inv_std = 1.0 / np.sqrt(var + eps)
        if statistics is not None:
            statistics.extend((mean.reshape(-1), var.reshape(-1)))
        scale = inv_std if weight is None else inv_std * _channels(weight, x.ndim)
        output = np.multiply(centered, scale, out=centered)
        if bias is not None:
            output += _channels(bias, x.ndim)
        if any(self.needs_input_grad):
            self.save(x, weight)
            self.statistics = (mean, inv_std)  # first-order cache, per channel
        return output

    def backward(self, xp: Any, grad: Any, x: Any, weight: Any) -> tuple:
        mean, inv_std = xp.recompute(self.statistics, _batch_statistics, x, self.axes, self.eps)
        return xp.batch_norm_backward(grad, x, weight, mean, inv_std, self.axes,
                                      self.needs_input_grad)


def batch_norm_train(input: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float,
                     statistics: list | None = None) -> Tensor:
    """Normalize `input` with its own batch statistics (the layer checks the arguments)."""
    return BatchNormTrain.apply(input, weight, bias, eps=eps, statistics=statistics)


def _channels(values: Any, ndim: int) -> Any:
    """A (C,) per-channel array as (1, C, 1, ...) against an ndim input."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def _batch_statistics(xp: Any, x: Any, axes: tuple, eps: float) -> tuple:
    """(mean, inv_std) per channel, dims kept, written with xp (the graph side's recompute)."""
    mean = xp.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = xp.mean(centered * centered, axis=axes, keepdims=True)
    return mean, 1 / xp.sqrt(var + eps)


# ---- this family's names in the backward namespaces (see ops/namespace.py) ------------------
def _backward_array(grad: np.ndarray, x: np.ndarray, weight: np.ndarray | None,
                    mean: np.ndarray, inv_std: np.ndarray, axes: tuple,
                    needs: tuple) -> tuple:
    """The formula of the module docstring on arrays, in one scratch buffer."""
    count = x.size // x.shape[1]
    grad_bias = grad.sum(axis=axes, keepdims=True)
    x_hat = np.subtract(x, mean)
    x_hat *= inv_std
    scratch = np.multiply(grad, x_hat)
    grad_weight = scratch.sum(axis=axes, keepdims=True)
    grad_x = None
    if needs[0]:
        scale = inv_std if weight is None else inv_std * _channels(weight, x.ndim)
        # weight * inv_std * (g - gb / m - x_hat * gw / m), in the x_hat buffer
        grad_x = np.multiply(x_hat, grad_weight * (-1.0 / count), out=x_hat)
        grad_x += grad
        grad_x -= grad_bias * (1.0 / count)
        grad_x *= scale
    return (grad_x,
            grad_weight.reshape(-1) if needs[1] else None,
            grad_bias.reshape(-1) if len(needs) > 2 and needs[2] else None)


def _backward_graph(grad: Any, x: Any, weight: Any, mean: Any, inv_std: Any, axes: tuple,
                    needs: tuple) -> tuple:
    """The same formula as differentiable ops (a create_graph pass)."""
    grad, x = _as_tensor(grad), _as_tensor(x)
    count = x.data.size // x.shape[1]
    grad_bias = grad.sum(axes, keepdim=True)
    x_hat = (x - mean) * inv_std
    grad_weight = (grad * x_hat).sum(axes, keepdim=True)
    grad_x = None
    if needs[0]:
        scale = inv_std if weight is None else inv_std * _channels(weight, x.ndim)
        grad_x = (grad - grad_bias * (1.0 / count) - x_hat * (grad_weight * (1.0 / count))) \
            * scale
    return (grad_x,
            grad_weight.reshape(-1) if needs[1] else None,
            grad_bias.reshape(-1) if len(needs) > 2 and needs[2] else None)


TENSOR_METHODS: dict = {}
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
NUMPY_XP = {"batch_norm_backward": _backward_array}
GRAPH_XP = {"batch_norm_backward": _backward_graph}
