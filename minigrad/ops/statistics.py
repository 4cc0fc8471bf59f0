"""Reductions with PyTorch's names that combine others: std_mean, var_mean, aminmax,
any/all (dim), count_nonzero, histc, bincount.

std_mean and friends are pairs of existing differentiable reductions; the logical and
counting ones return bools or integers (no gradient, as in PyTorch).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..engine import Tensor, dtypes
from . import reduce as rd
from .indexing import check_tensor
from .reduce import _reduced_axes

__all__ = [
    "all",
    "aminmax",
    "any",
    "bincount",
    "count_nonzero",
    "histc",
    "std_mean",
    "var_mean",
]

AminmaxResult = namedtuple("aminmax", ["min", "max"])


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim` (correction=1 by default)."""
    return (rd.std(input, dim, unbiased, keepdim, correction=correction),
            rd.mean(input, dim=dim, keepdim=keepdim))


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim` (correction=1 by default)."""
    return (rd.var(input, dim, unbiased, keepdim, correction=correction),
            rd.mean(input, dim=dim, keepdim=keepdim))


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> AminmaxResult:
    """(amin, amax) over `dim` or every element."""
    check_tensor("aminmax", "input", input)
    if input.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    axes = () if dim is None else dim
    return AminmaxResult(rd.amin(input, dim=axes, keepdim=keepdim),
                         rd.amax(input, dim=axes, keepdim=keepdim))


def _logical(where: str, reduce: Any, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    check_tensor(where, "input", input)
    axes = _reduced_axes(where, dim, input.ndim)
    result = np.asarray(reduce(input.data, axis=axes, keepdims=keepdim))
    # uint8 stays uint8 (PyTorch's legacy rule); everything else gives bool
    return Tensor._from_op(result.astype(np.uint8 if input.dtype == np.uint8 else bool))


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where any element over `dim` (or anywhere) is nonzero."""
    return _logical("any", np.any, input, dim, keepdim)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where every element over `dim` (or everywhere) is nonzero."""
    return _logical("all", np.all, input, dim, keepdim)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """How many elements over `dim` (or in all) are nonzero, as int64."""
    check_tensor("count_nonzero", "input", input)
    axes = _reduced_axes("count_nonzero", dim, input.ndim)
    return Tensor._from_op(np.asarray(np.count_nonzero(input.data, axis=axes)).astype(np.int64))


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts in `bins` equal-width bins over [min, max] (both 0: the data's range);
    values outside are ignored, the last bin includes max."""
    check_tensor("histc", "input", input)
    if not dtypes.is_floating(input.dtype):
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{input.dtype}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError(f"torch.histc: max must be larger than min (min {min}, max {max})")
    data = input.data.reshape(-1)
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    counts, _ = np.histogram(data, bins=bins, range=(low, high))
    return Tensor._from_op(counts.astype(input.dtype))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0..max occurs in a 1-d non-negative integer tensor (or the sum
    of `weights` per value)."""
    check_tensor("bincount", "input", input)
    data = input.data
    if data.ndim != 1 or data.dtype.kind not in "iub" or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return Tensor._from_op(np.bincount(data, minlength=minlength).astype(np.int64))
    check_tensor("bincount", "weights", weights)
    if weights.shape != data.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = weights.dtype if weights.dtype == np.float32 else np.float64
    counts = np.bincount(data, weights=weights.data.astype(np.float64), minlength=minlength)
    return Tensor._from_op(counts.astype(dtype))


TENSOR_METHODS = {
    "aminmax": aminmax,
    "any": any,
    "all": all,
    "count_nonzero": count_nonzero,
    "histc": histc,
    "bincount": bincount,
}
FUNCTIONAL: dict = {}
TOPLEVEL = {**TENSOR_METHODS, "std_mean": std_mean, "var_mean": var_mean}
