"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
unique, unique_consecutive, searchsorted, bucketize.

Orders come from a stable NumPy argsort (NaN counts as larger than everything, as in
PyTorch: last ascending, first descending; descending keeps ties in their original order);
values are a gather by those indices, so the gradient goes to the element each value came
from and differentiates again. median() over every element shares its gradient evenly
among the elements equal to it, as PyTorch's does. unique and the searches return indices
and carry no gradient.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..engine import Tensor, normalize_dim
from . import elementwise as ew
from . import movement as mv
from . import reduce as rd
from .indexing import check_tensor

__all__ = ["argsort", "bucketize", "kthvalue", "median", "mode", "msort", "nanmedian",
           "searchsorted", "sort", "topk", "unique", "unique_consecutive"]

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])
MedianResult = namedtuple("median", ["values", "indices"])
NanmedianResult = namedtuple("nanmedian", ["values", "indices"])
ModeResult = namedtuple("mode", ["values", "indices"])


def _order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along `axis`; descending reverses the reversed array's ascending order
    so ties keep their original order and NaN comes first."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    reversed_order = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return (n - 1 - np.flip(reversed_order, axis)).astype(np.int64)


def _pick(input: Tensor, axis: int, indices: np.ndarray) -> Tensor:
    return mv.gather(input, axis, Tensor._from_op(indices.astype(np.int64, copy=False)))


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
         ) -> SortResult:
    """(values, indices) sorted along `dim` (always stable here)."""
    check_tensor("sort", "input", input)
    if input.ndim == 0:
        return SortResult(mv.clone(input), Tensor._from_op(np.zeros((), dtype=np.int64)))
    axis = normalize_dim(dim, input.ndim, "sort")
    order = _order(input.data, axis, descending).astype(np.int64)
    return SortResult(_pick(input, axis, order), Tensor._from_op(order))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor) -> Tensor:
    """input sorted along dim 0."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> TopkResult:
    """The k largest (or smallest) elements along `dim` and their indices, in order."""
    check_tensor("topk", "input", input)
    axis = normalize_dim(dim, input.ndim, "topk")
    size = input.shape[axis] if input.ndim else 1
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    if not 0 <= k <= size:
        raise RuntimeError(f"selected index k out of range (k={k}, dimension size {size})")
    if input.ndim == 0:
        return TopkResult(mv.clone(input), Tensor._from_op(np.zeros((), dtype=np.int64)))
    order = _order(input.data, axis, largest)
    order = np.take(order, np.arange(k), axis=axis).astype(np.int64)
    return TopkResult(_pick(input, axis, order), Tensor._from_op(order))


def _keep(result: Tensor, axis: int, keepdim: bool) -> Tensor:
    return result if keepdim else mv.squeeze(result, axis)


def _select_rank(where: str, result_type: Any, input: Tensor, rank: Any, dim: int,
                 keepdim: bool) -> Any:
    """The element of each slice at sorted position rank(length) ((values, indices))."""
    if input.ndim == 0:
        return result_type(mv.clone(input), Tensor._from_op(np.zeros((), dtype=np.int64)))
    axis = normalize_dim(dim, input.ndim, where)
    order = _order(input.data, axis, False)
    position = rank(input.shape[axis])
    index = np.take(order, [position], axis=axis).astype(np.int64)
    values = _pick(input, axis, index)
    return result_type(_keep(values, axis, keepdim),
                       Tensor._from_op(index if keepdim else np.squeeze(index, axis)))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> KthvalueResult:
    """The k-th smallest element (1-based) along `dim` and its index."""
    check_tensor("kthvalue", "input", input)
    size = input.shape[normalize_dim(dim, input.ndim, "kthvalue")] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim} "
                           f"(k={k}, size {size})")
    return _select_rank("kthvalue", KthvalueResult, input, lambda n: k - 1, dim, keepdim)


def _median_slices(where: str, input: Tensor, dim: int, keepdim: bool,
                   ignore_nan: bool, result_type: Any) -> Any:
    axis = normalize_dim(dim, input.ndim, where)
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"{where}(): Expected reduction dim {axis} to have non-zero size.")
    if input.ndim == 0:
        return result_type(mv.clone(input), Tensor._from_op(np.zeros((), dtype=np.int64)))
    data = input.data
    order = _order(data, axis, False)  # NaN last
    n = data.shape[axis]
    if data.dtype.kind == "f":
        nan_count = np.isnan(data).sum(axis=axis, keepdims=True)
    else:
        nan_count = np.zeros_like(np.take(data, [0], axis=axis), dtype=np.int64)
    if ignore_nan:  # lower median of the non-NaN values; all NaN: the first NaN
        valid = n - nan_count
        position = np.where(valid > 0, (valid - 1) // 2, 0)
    else:  # any NaN: the first NaN (NaN sorts last, so at position n - nan_count)
        position = np.where(nan_count > 0, n - nan_count, (n - 1) // 2)
    index = np.take_along_axis(order, position.astype(np.int64), axis=axis).astype(np.int64)
    values = _pick(input, axis, index)
    return result_type(_keep(values, axis, keepdim),
                       Tensor._from_op(index if keepdim else np.squeeze(index, axis)))


def _median_all(where: str, input: Tensor, ignore_nan: bool) -> Tensor:
    """The lower median of every element; the gradient is shared among the elements equal
    to it (the NaNs when it is NaN)."""
    if input.numel() == 0:
        return Tensor._from_op(np.array(np.nan, dtype=input.dtype))
    flat = mv.reshape(input, (-1,))
    value = _median_slices(where, flat, 0, False, ignore_nan, MedianResult).values
    data = flat.data
    if data.dtype.kind == "f" and np.isnan(value.data):
        ties = np.isnan(data)
    else:
        ties = data == value.data
    if not input.requires_grad:
        return value
    share = Tensor._from_op((ties / ties.sum()).astype(input.dtype))
    picked = ew.where(Tensor._from_op(ties), flat, Tensor._from_op(np.zeros((), input.dtype)))
    return rd.sum(share * picked)  # the tied elements' mean: the value, shared gradient


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower of the two middle values (NaN if a slice holds NaN): over every element,
    or (values, indices) along `dim`."""
    check_tensor("median", "input", input)
    if dim is None:
        return _median_all("median", input, False)
    return _median_slices("median", input, dim, keepdim, False, MedianResult)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """median ignoring NaN (NaN only where a slice is all NaN)."""
    check_tensor("nanmedian", "input", input)
    if dim is None:
        return _median_all("nanmedian", input, True)
    return _median_slices("nanmedian", input, dim, keepdim, True, NanmedianResult)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> ModeResult:
    """The most frequent value along `dim` (the smallest among equally frequent ones) and
    the index of its last occurrence."""
    check_tensor("mode", "input", input)
    if input.ndim == 0:
        return ModeResult(mv.clone(input), Tensor._from_op(np.zeros((), dtype=np.int64)))
    axis = normalize_dim(dim, input.ndim, "mode")
    moved = np.moveaxis(input.data, axis, -1)
    n = moved.shape[-1]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
    order = np.argsort(moved, axis=-1, kind="stable")
    ordered = np.take_along_axis(moved, order, axis=-1)
    # run lengths of equal values in sorted order: the start of each run
    starts = np.ones(ordered.shape, dtype=bool)
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    if ordered.dtype.kind == "f":
        both_nan = np.isnan(ordered[..., 1:]) & np.isnan(ordered[..., :-1])
        starts[..., 1:] &= ~both_nan
    ends = np.ones(ordered.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    positions = np.arange(n)
    run_start = np.maximum.accumulate(np.where(starts, positions, 0), axis=-1)
    run_end = np.flip(np.minimum.accumulate(np.flip(np.where(ends, positions, n), -1), axis=-1),
                      -1)
    best = np.argmax(run_end - run_start, axis=-1)[..., None]  # first: the smallest value
    last = np.take_along_axis(run_end, best, axis=-1)  # stable: its last occurrence
    index = np.moveaxis(np.take_along_axis(order, last, axis=-1), -1, axis).astype(np.int64)
    values = _pick(input, axis, index)
    return ModeResult(_keep(values, axis, keepdim),
                      Tensor._from_op(index if keepdim else np.squeeze(index, axis)))


def _unique_outputs(values: np.ndarray, inverse: np.ndarray, counts: np.ndarray,
                    return_inverse: bool, return_counts: bool) -> Any:
    result = [Tensor._from_op(values)]
    if return_inverse:
        result.append(Tensor._from_op(inverse.astype(np.int64)))
    if return_counts:
        result.append(Tensor._from_op(counts.astype(np.int64)))
    return result[0] if len(result) == 1 else tuple(result)


def _check_zero_sized(where: str, input: Tensor, axis: int) -> None:
    if any(size == 0 for other, size in enumerate(input.shape) if other != axis):
        raise RuntimeError(f"{where}: There are 0 sized dimensions, and they aren't selected, "
                           f"so unique cannot be applied (shape {input.shape}, dim {axis})")


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values (sorted), or distinct slices along `dim`; optionally the index
    of each element's value (inverse) and each value's count. Not differentiable."""
    check_tensor("unique", "input", input)
    if dim is None:
        values, inverse, counts = np.unique(input.data.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        return _unique_outputs(values, inverse.reshape(input.shape), counts, return_inverse,
                               return_counts)
    axis = normalize_dim(dim, input.ndim, "unique")
    _check_zero_sized("unique", input, axis)
    values, inverse, counts = np.unique(input.data, return_inverse=True, return_counts=True,
                                        axis=axis)
    return _unique_outputs(values, inverse.reshape(-1), counts, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim: int | None = None) -> Any:
    """Collapse runs of equal consecutive values (or slices along `dim`) to one."""
    check_tensor("unique_consecutive", "input", input)
    if dim is None:
        data, axis = input.data.reshape(-1), 0
    else:
        axis = normalize_dim(dim, input.ndim, "unique_consecutive")
        _check_zero_sized("unique_consecutive", input, axis)
        data = np.moveaxis(input.data, axis, 0)
    n = data.shape[0]
    if n == 0:
        return _unique_outputs(data.copy() if dim is None else np.moveaxis(data, 0, axis),
                               np.zeros(input.shape if dim is None else (0,), np.int64),
                               np.zeros(0, np.int64), return_inverse, return_counts)
    changed = np.ones(n, dtype=bool)
    flat = data.reshape(n, -1)
    changed[1:] = (flat[1:] != flat[:-1]).any(axis=1)
    starts = np.flatnonzero(changed)
    inverse = np.cumsum(changed) - 1
    counts = np.diff(np.append(starts, n))
    values = data[starts]
    if dim is not None:
        values = np.moveaxis(values, 0, axis)
    else:
        inverse = inverse.reshape(input.shape)
    return _unique_outputs(values, inverse, counts, return_inverse, return_counts)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value, the index where it would go in the sorted innermost rows of
    sorted_sequence (left of equal values, or right with right=True / side='right')."""
    check_tensor("searchsorted", "sorted_sequence", sorted_sequence)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    sequence = sorted_sequence.data
    if sorter is not None:
        sequence = np.take_along_axis(sequence, sorter.data, axis=-1)
    scalar = not isinstance(input, Tensor)
    values = np.asarray(input) if scalar else input.data
    if sequence.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           "the first N-1 dimensions of boundaries tensor and input value "
                           "tensor must match")
    if sequence.ndim > 1 and sequence.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           f"the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor "
                           f"{list(sequence.shape)} and input value tensor "
                           f"{list(values.shape)}")
    dtype = np.int32 if out_int32 else np.int64
    if sequence.ndim == 1:
        found = np.searchsorted(sequence, values, side="right" if right else "left")
    else:  # count, per row, the boundaries before each value
        compare = np.less_equal if right else np.less
        found = compare(sequence[..., None, :], values[..., :, None]).sum(axis=-1)
    return Tensor._from_op(np.asarray(found).astype(dtype))


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value among 1-d sorted `boundaries` (boundaries[i-1] < x <=
    boundaries[i]; with right=True, boundaries[i-1] <= x < boundaries[i])."""
    check_tensor("bucketize", "boundaries", boundaries)
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


TENSOR_METHODS = {
    "sort": sort,
    "argsort": argsort,
    "msort": msort,
    "topk": topk,
    "kthvalue": kthvalue,
    "median": median,
    "nanmedian": nanmedian,
    "mode": mode,
    "unique": unique,
    "unique_consecutive": unique_consecutive,
}
FUNCTIONAL: dict = {}
TOPLEVEL = {**TENSOR_METHODS, "searchsorted": searchsorted, "bucketize": bucketize}
