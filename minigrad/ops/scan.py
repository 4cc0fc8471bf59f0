"""Scans along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp.

cumsum's gradient is a reversed cumsum (a closed family, `xp.cumsum` and `xp.flip`);
cumprod's is the reversed cumsum of grad * output divided by the input when it holds no
zero, and otherwise the products that leave out each element in turn (PyTorch's answer at
zeros too). cummax/cummin pick elements, so their values are a gather by the indices (the
gradient goes to the picked element; ties pick the latest index, NaN propagates, as in
PyTorch).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, normalize_dim
from . import movement as mv
from .indexing import check_tensor

__all__ = ["cummax", "cummin", "cumprod", "cumsum", "logcumsumexp"]

CummaxResult = namedtuple("cummax", ["values", "indices"])
CumminResult = namedtuple("cummin", ["values", "indices"])


def _reversed_cumsum(xp: Any, x: Any, axis: int) -> Any:
    return xp.flip(xp.cumsum(xp.flip(x, axis), axis), axis)


class Cumsum(Function):
    """Running sum along `dim`; the gradient is the running sum from the other end."""

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        return np.cumsum(x, axis=dim)

    def backward(self, xp: Any, grad: Any) -> Any:
        return _reversed_cumsum(xp, grad, self.options["dim"])


class Cumprod(Function):
    """Running product along `dim`."""

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        output = np.cumprod(x, axis=dim)
        self.has_zero = bool((x == 0).any())
        self.save(x, output)
        return output

    def backward(self, xp: Any, grad: Any, x: Any, output: Any) -> Any:
        axis = self.options["dim"]
        if not self.has_zero:
            return _reversed_cumsum(xp, grad * output, axis) / x
        # zeros: d out_j / d x_k = prod_{i <= j, i != k} x_i for j >= k. Move the scan to
        # the last axis, give every k its own copy with x_k replaced by 1: (..., k, j).
        n = x.shape[axis]
        moved_x = xp.swapaxes(x, axis, -1)
        moved_grad = xp.swapaxes(grad, axis, -1)
        eye = np.eye(n, dtype=bool)
        copies = xp.where(eye, 1, xp.expand_dims(moved_x, -2))  # (..., k, i)
        products = xp.cumprod(copies, -1)  # (..., k, j)
        upper = np.triu(np.ones((n, n), dtype=bool))  # j >= k
        picked = xp.where(upper, products * xp.expand_dims(moved_grad, -2), 0)
        return xp.swapaxes(xp.sum(picked, axis=-1), axis, -1)


def _scan_args(where: str, input: Tensor, dim: int, dtype: Any) -> tuple[Tensor, int]:
    check_tensor(where, "input", input)
    axis = normalize_dim(dim, input.ndim, where)
    if dtype is not None:
        input = input.to(dtype)
    elif not dtypes.is_floating(input.dtype):
        input = input.to(dtypes.int64)  # integer and bool scans accumulate in int64
    return input, axis


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along `dim` (integers and bools in int64)."""
    input, axis = _scan_args("cumsum", input, dim, dtype)
    if input.ndim == 0:
        return mv.clone(input)
    return Cumsum.apply(input, dim=axis)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along `dim` (integers and bools in int64); exact gradients at
    zeros."""
    input, axis = _scan_args("cumprod", input, dim, dtype)
    if input.ndim == 0:
        return mv.clone(input)
    return Cumprod.apply(input, dim=axis)


def _cumulative_extreme(where: str, input: Tensor, dim: int, largest: bool) -> tuple:
    check_tensor(where, "input", input)
    axis = normalize_dim(dim, input.ndim, where)
    if input.ndim == 0:
        return mv.clone(input), Tensor._from_op(np.zeros((), dtype=np.int64))
    data = input.data
    accumulate = np.maximum if largest else np.minimum  # both propagate NaN
    running = accumulate.accumulate(data, axis=axis)
    if data.dtype.kind == "b":
        running = running.astype(bool)
    new = data == running
    if data.dtype.kind == "f":
        new = new | np.isnan(data)
    shape = [1] * data.ndim
    shape[axis] = data.shape[axis]
    positions = np.where(new, np.arange(data.shape[axis]).reshape(shape), 0)
    indices = np.maximum.accumulate(positions, axis=axis).astype(np.int64)
    values = mv.gather(input, axis, Tensor._from_op(indices))
    return values, Tensor._from_op(indices)


def cummax(input: Tensor, dim: int) -> CummaxResult:
    """(running maxima, their indices) along `dim`; the latest of tied maxima, NaN kept."""
    return CummaxResult(*_cumulative_extreme("cummax", input, dim, True))


def cummin(input: Tensor, dim: int) -> CumminResult:
    """(running minima, their indices) along `dim`; the latest of tied minima, NaN kept."""
    return CumminResult(*_cumulative_extreme("cummin", input, dim, False))


class LogCumSumExp(Function):
    """log(cumsum(exp(x))) along `dim`, computed pairwise (np.logaddexp.accumulate)."""

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        output = np.logaddexp.accumulate(x, axis=dim)
        self.save(x, output)
        return output

    def backward(self, xp: Any, grad: Any, x: Any, output: Any) -> Any:
        # d out_j / d x_k = exp(x_k - out_j) for j >= k; shift by the last (largest) output
        axis = self.options["dim"]
        top = xp.expand_dims(xp.take_last(output, axis), axis)
        weights = grad * xp.exp(top - output)
        return xp.exp(x - top) * _reversed_cumsum(xp, weights, axis)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log of the running sum of exp(input) along `dim`, without overflow."""
    check_tensor("logcumsumexp", "input", input)
    axis = normalize_dim(dim, input.ndim, "logcumsumexp")
    if not dtypes.is_floating(input.dtype):
        raise RuntimeError(f"logcumsumexp_out_cpu not implemented for '{input.dtype}'")
    if input.ndim == 0:
        return mv.clone(input)
    if input.shape[axis] == 0:
        return mv.clone(input)
    return LogCumSumExp.apply(input, dim=axis)


# ---- backward namespace ---------------------------------------------------------------------
def _graph(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))


def _take_last_array(x: np.ndarray, axis: int) -> np.ndarray:
    return np.take(x, -1, axis=axis)


def _take_last_graph(x: Any, axis: int) -> Tensor:
    x = _graph(x)
    return mv.getitem(x, (slice(None),) * (axis % x.ndim) + (-1,))


NUMPY_XP: dict[str, Any] = {"cumsum": np.cumsum, "cumprod": np.cumprod,
                            "take_last": _take_last_array}
GRAPH_XP: dict[str, Any] = {
    "cumsum": lambda x, axis: Cumsum.apply(_graph(x), dim=axis % _graph(x).ndim),
    "cumprod": lambda x, axis: Cumprod.apply(_graph(x), dim=axis % _graph(x).ndim),
    "take_last": _take_last_graph,
}

TENSOR_METHODS = {
    "cumsum": cumsum,
    "cumprod": cumprod,
    "cummax": cummax,
    "cummin": cummin,
    "logcumsumexp": logcumsumexp,
}
FUNCTIONAL: dict = {}
TOPLEVEL = dict(TENSOR_METHODS)
