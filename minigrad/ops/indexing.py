"""Indexing ops with PyTorch's names: index_select, take, take_along_dim, index_add/copy/fill,
scatter (src, value, reduce), scatter_reduce, nonzero/argwhere, masked_select.

Each selection is a `getitem` with an index array (its gradient scatters back, accumulating
repeats) and each write is a scatter by that index into zeros of the input's shape (its
gradient selects again): the pair in `ops/_select.py`, so every op here is differentiable
to any order without a backward of its own. Index arrays are constants of the graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, normalize_dim
from . import elementwise as ew
from . import movement as mv
from ._select import IndexScatter, along_axis_key

__all__ = [
    "argwhere", "index_add", "index_copy", "index_fill", "index_select", "masked_select",
    "nonzero", "scatter", "scatter_reduce", "take", "take_along_dim",
]


# ---- helpers ---------------------------------------------------------------------------------
def check_tensor(where: str, name: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}(): argument '{name}' must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def _index_vector(where: str, index: Any) -> np.ndarray:
    """A 0-d or 1-d int32/int64 index as a 1-d int64 array, PyTorch's errors otherwise."""
    index = check_tensor(where, "index", index)
    if index.dtype.kind not in "iu" or index.dtype == np.uint8:
        raise RuntimeError(f"{where}(): Expected dtype int32 or int64 for index (got "
                           f"{index.dtype})")
    if index.ndim > 1:
        raise IndexError(f"{where}(): Index is supposed to be a vector (got shape "
                         f"{index.shape})")
    return index.data.reshape(-1).astype(np.int64, copy=False)


def _check_bounds(where: str, index: np.ndarray, size: int, axis: int,
                  negative: bool = False) -> np.ndarray:
    """Indices in [0, size) (negative ones wrap once where `negative`, as in take); anything
    else is PyTorch's IndexError."""
    low = -size if negative else 0
    if index.size:
        for value in (int(index.min()), int(index.max())):
            if not low <= value < size:
                raise IndexError(f"{where}(): index {value} is out of bounds for dimension "
                                 f"{axis} with size {size}")
    return np.where(index < 0, index + size, index)


def along(axis: int, index: np.ndarray) -> tuple:
    """The key that picks `index` along `axis`: x[:, :, index] for axis 2."""
    return (slice(None),) * axis + (index,)


def _as_1d(input: Tensor) -> Tensor:
    return mv.reshape(input, (1,)) if input.ndim == 0 else input


def _scatter_into(values: Tensor, shape: tuple[int, ...], key: tuple,
                  accumulate: bool) -> Tensor:
    """zeros(shape) with values written (or added) at key: differentiable in `values`."""
    return IndexScatter.apply(values, shape=tuple(shape), basic=None, advanced=key,
                              accumulate=accumulate)


def _written_mask(shape: tuple[int, ...], key: tuple) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[key] = True
    return mask


# ---- selections ------------------------------------------------------------------------------
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """input's slices at `index` (a 1-d int tensor) along `dim`; repeats allowed."""
    check_tensor("index_select", "input", input)
    axis = normalize_dim(dim, input.ndim, "index_select")
    positions = _index_vector("index_select", index)
    if input.ndim == 0:
        _check_bounds("index_select", positions, 1, 0)
        return mv.reshape(mv.getitem(_as_1d(input), positions), ()) \
            if index.ndim == 0 else mv.getitem(_as_1d(input), positions)
    positions = _check_bounds("index_select", positions, input.shape[axis], axis)
    return mv.getitem(input, along(axis, positions))


def take(input: Tensor, index: Tensor) -> Tensor:
    """input treated as 1-d, picked at `index` (any shape; the result has index's shape)."""
    check_tensor("take", "input", input)
    index = check_tensor("take", "index", index)
    if index.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
    flat = mv.reshape(input, (-1,))
    positions = _check_bounds("take", index.data, flat.shape[0], 0, negative=True)
    return mv.getitem(flat, positions)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Values at `indices` along `dim` (input and indices broadcast on the other dims);
    dim=None works on both flattened."""
    check_tensor("take_along_dim", "input", input)
    indices = check_tensor("take_along_dim", "indices", indices)
    if indices.dtype.kind not in "iu" or indices.dtype == np.uint8:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be int64 but got "
                           f"{indices.dtype}")
    if dim is None:
        return take(mv.reshape(input, (-1,)), mv.reshape(indices, (-1,)).long())
    if input.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {indices.ndim} dimensions for indices")
    axis = normalize_dim(dim, input.ndim, "take_along_dim")
    input_shape, index_shape = list(input.shape), list(indices.shape)
    input_shape[axis], index_shape[axis] = 1, 1
    common = np.broadcast_shapes(tuple(input_shape), tuple(index_shape))
    wanted_input = tuple(n if a != axis else input.shape[axis] for a, n in enumerate(common))
    wanted_index = tuple(n if a != axis else indices.shape[axis] for a, n in enumerate(common))
    if input.shape != wanted_input:
        input = mv.expand(input, wanted_input)
    positions = np.broadcast_to(indices.data, wanted_index)
    positions = _check_bounds("take_along_dim", positions, input.shape[axis], axis)
    return mv.getitem(input, along_axis_key(positions, axis))


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of input where mask is True, as a 1-d tensor (the two broadcast)."""
    check_tensor("masked_select", "input", input)
    mask = check_tensor("masked_select", "mask", mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask (got {mask.dtype})")
    shape = np.broadcast_shapes(input.shape, mask.shape)
    if input.shape != shape:
        input = mv.expand(input, shape)
    return mv.getitem(mv.reshape(input, (-1,)), np.broadcast_to(mask.data, shape).reshape(-1))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-d tensor per dim
    with as_tuple=True (a 0-d input counts as 1-d there, as in PyTorch)."""
    check_tensor("nonzero", "input", input)
    data = input.data
    if as_tuple:
        found = np.nonzero(data.reshape(1) if data.ndim == 0 else data)
        return tuple(Tensor._from_op(axis.astype(np.int64)) for axis in found)
    found = np.argwhere(data).astype(np.int64)
    return Tensor._from_op(found.reshape(np.count_nonzero(data), data.ndim))


def argwhere(input: Tensor) -> Tensor:
    """nonzero(input): one row of indices per nonzero element."""
    return nonzero(input)


# ---- writes by index --------------------------------------------------------------------------
def _index_write_args(where: str, input: Tensor, dim: int, index: Tensor,
                      source: Tensor) -> tuple[int, np.ndarray, Tensor]:
    check_tensor(where, "input", input)
    source = check_tensor(where, "source", source)
    axis = normalize_dim(dim, input.ndim, where)
    positions = _index_vector(where, index)
    size = input.shape[axis] if input.ndim else 1
    positions = _check_bounds(where, positions, size, axis)
    if source.dtype != input.dtype:
        raise RuntimeError(f"{where}(): self ({input.dtype}) and source ({source.dtype}) must "
                           f"have the same scalar type")
    expected = list(input.shape) if input.ndim else [1]
    expected[axis] = positions.size
    got = list(source.shape) if source.ndim else [1]
    if got != expected:
        raise RuntimeError(f"{where}(): source {list(source.shape)} must have the shape of "
                           f"self {list(input.shape)} with dimension {axis} of size "
                           f"{positions.size} (the number of indices)")
    return axis, positions, source


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,
              alpha: Any = 1) -> Tensor:
    """A copy of input with alpha * source's slices added at `index` along `dim` (repeated
    indices add up)."""
    axis, positions, source = _index_write_args("index_add", input, dim, index, source)
    shape = input.shape if input.ndim else (1,)
    added = _scatter_into(mv.reshape(source, tuple(
        positions.size if a == axis else n for a, n in enumerate(shape))), shape,
        along(axis, positions), True)
    if alpha != 1:
        added = added * alpha
    return input + mv.reshape(added, input.shape)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of input with its slices at `index` along `dim` replaced by source's."""
    axis, positions, source = _index_write_args("index_copy", input, dim, index, source)
    shape = input.shape if input.ndim else (1,)
    key = along(axis, positions)
    copied = _scatter_into(mv.reshape(source, tuple(
        positions.size if a == axis else n for a, n in enumerate(shape))), shape, key, False)
    mask = _written_mask(shape, key).reshape(input.shape)
    return ew.where(Tensor._from_op(mask), mv.reshape(copied, input.shape), input)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of input with its slices at `index` along `dim` set to `value` (a number or a
    0-d tensor)."""
    check_tensor("index_fill", "input", input)
    axis = normalize_dim(dim, input.ndim, "index_fill")
    positions = _index_vector("index_fill", index)
    shape = input.shape if input.ndim else (1,)
    positions = _check_bounds("index_fill", positions, shape[axis], axis)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill_(): Expected 0-dim value tensor (got {value.ndim} dims)")
    mask = _written_mask(shape, along(axis, positions)).reshape(input.shape)
    return ew.masked_fill(input, Tensor._from_op(mask), value)


def _scatter_args(where: str, input: Tensor, dim: int, index: Tensor,
                  src: Tensor | None) -> tuple[int, np.ndarray]:
    check_tensor(where, "input", input)
    axis, index = mv._check_index(where, input, dim, index, src)
    if src is not None and src.dtype != input.dtype:
        raise RuntimeError(f"{where}(): Expected self.dtype to be equal to src.dtype "
                           f"(self {input.dtype}, src {src.dtype})")
    positions = index.data.astype(np.int64, copy=False)
    return axis, positions


def _window(src: Tensor, index_shape: tuple[int, ...]) -> Tensor:
    """The part of src the index covers (src may be larger than index)."""
    if src.shape == index_shape:
        return src
    return mv.getitem(src, tuple(slice(0, n) for n in index_shape))


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of input with out[index[i][j]][j] = src[i][j] for dim=0 (likewise other dims);
    `value` writes a number instead; reduce='add' or 'multiply' combines instead of
    overwriting (no gradient for 'multiply', as in PyTorch)."""
    if src is not None and value is not None:
        raise TypeError("scatter(): give either src or value, not both")
    if src is None and value is None:
        raise TypeError("scatter(): missing argument 'src' or 'value'")
    if not isinstance(src, Tensor) and src is not None:
        value, src = src, None  # scatter(input, dim, index, 1.5): the value form
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply (got {reduce!r})")
    if input.ndim == 0 or index.ndim == 0 or (src is not None and src.ndim == 0):
        flat_src = None if src is None else mv.reshape(src, (-1,))
        flat = scatter(mv.reshape(input, (-1,)), 0, mv.reshape(index, (-1,)), flat_src,
                       value=value, reduce=reduce)
        return mv.reshape(flat, input.shape)
    axis, positions = _scatter_args("scatter", input, dim, index, src)
    key = along_axis_key(positions, axis)
    if src is None:
        src = Tensor._from_op(np.full(positions.shape, value, dtype=input.dtype))
    src = _window(src, positions.shape)
    if reduce == "add":
        return input + _scatter_into(src, input.shape, key, True)
    if reduce == "multiply":
        return ScatterMultiply.apply(input, src, key=key)
    mask = _written_mask(input.shape, key)
    written = _scatter_into(src, input.shape, key, False)
    return ew.where(Tensor._from_op(mask), written, input)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """input with src's values reduced into out[index[i][j]][j] (dim=0) by 'sum', 'prod',
    'mean', 'amax' or 'amin'; include_self=False leaves input's own value out of the
    reduction at the positions written. Gradients as PyTorch's (ties in amax/amin share
    evenly; 'prod' needs no zeros)."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    src = check_tensor("scatter_reduce", "src", src)
    if input.ndim == 0 or index.ndim == 0 or src.ndim == 0:
        flat = scatter_reduce(mv.reshape(input, (-1,)), 0, mv.reshape(index, (-1,)),
                              mv.reshape(src, (-1,)), reduce, include_self=include_self)
        return mv.reshape(flat, input.shape)
    axis, positions = _scatter_args("scatter_reduce", input, dim, index, src)
    key = along_axis_key(positions, axis)
    src = _window(src, positions.shape)
    written = _written_mask(input.shape, key)
    keep = Tensor._from_op(~written | include_self)  # where input's own value takes part
    if reduce in ("sum", "mean"):
        total = ew.where(keep, input, 0) + _scatter_into(src, input.shape, key, True)
        if reduce == "sum":
            return total
        counts = np.zeros(input.shape, dtype=np.int64)
        np.add.at(counts, key, 1)
        counts = counts + keep.data
        counts = np.maximum(counts, 1)
        if dtypes.is_floating(input.dtype):
            return total / Tensor._from_op(counts.astype(input.dtype))
        return Tensor._from_op(np.floor_divide(total.data, counts).astype(input.dtype))
    if reduce == "prod":
        return ScatterProd.apply(input, src, key=key, include_self=include_self)
    return _scatter_extreme(input, src, key, keep, reduce)


def _scatter_extreme(input: Tensor, src: Tensor, key: tuple, keep: Tensor,
                     reduce: str) -> Tensor:
    """amax/amin: the extreme value per position; the gradient is shared evenly among every
    contributor equal to it (input's own value included when it takes part)."""
    low = np.array(-np.inf if input.dtype.kind == "f" else np.iinfo(input.dtype).min,
                   dtype=input.dtype) if reduce == "amax" else np.array(
        np.inf if input.dtype.kind == "f" else np.iinfo(input.dtype).max, dtype=input.dtype)
    ufunc = np.maximum if reduce == "amax" else np.minimum
    result = np.where(keep.data, input.data, low)
    ufunc.at(result, key, src.data)
    result = np.where(_written_mask(input.shape, key) | keep.data, result, input.data)
    if not (input.requires_grad or src.requires_grad):
        return Tensor._from_op(result)
    # differentiable form: each contributor equal to the result gets grad / count
    hits_self = keep.data & (input.data == result)
    hits_src = src.data == result[key]
    count = hits_self.astype(np.int64)
    np.add.at(count, key, hits_src)
    share_self = Tensor._from_op((hits_self / np.maximum(count, 1)).astype(input.dtype))
    share_src = Tensor._from_op((hits_src / np.maximum(count[key], 1)).astype(input.dtype))
    # value = result (a constant) + (contributions - their detached values): exact forward,
    # gradient share * grad to each contributor
    constant = Tensor._from_op(result)
    from_self = share_self * (input - Tensor._from_op(input.data))
    from_src = _scatter_into(share_src * (src - Tensor._from_op(src.data)), input.shape, key,
                             True)
    return constant + from_self + from_src


class ScatterMultiply(Function):
    """scatter(..., reduce='multiply'): PyTorch defines no derivative for it, so backward
    raises (scatter_reduce(..., 'prod') has one)."""

    def forward(self, x: np.ndarray, src: np.ndarray, key: tuple) -> np.ndarray:
        output = x.copy()
        np.multiply.at(output, key, src)
        return output

    def backward(self, xp: Any, grad: Any) -> tuple:
        raise RuntimeError("derivative for scatter with reduce='multiply' is not implemented "
                           "(as in PyTorch); use scatter_reduce(..., 'prod')")


class ScatterProd(Function):
    """out = input (or 1 when include_self=False) times every src value scattered onto the
    same position; the gradient of a factor is grad * out / factor (no zeros)."""

    def forward(self, x: np.ndarray, src: np.ndarray, key: tuple,
                include_self: bool) -> np.ndarray:
        output = x.copy()
        if not include_self:
            output[key] = 1
        np.multiply.at(output, key, src)
        self.save(x, src, output)
        return output

    def backward(self, xp: Any, grad: Any, x: Any, src: Any, output: Any) -> tuple:
        key, include_self = self.options["key"], self.options["include_self"]
        weighted = grad * output
        grad_x = grad_src = None
        if self.needs_input_grad[0]:
            written = _written_mask(x.shape, key)
            grad_x = xp.where(written, weighted / x, grad) if include_self else xp.where(
                written, 0, grad)
        if self.needs_input_grad[1]:
            grad_src = xp.index_select(weighted, None, key) / src
        return grad_x, grad_src


TENSOR_METHODS = {
    "index_select": index_select,
    "take": take,
    "take_along_dim": take_along_dim,
    "masked_select": masked_select,
    "nonzero": nonzero,
    "argwhere": argwhere,
    "index_add": index_add,
    "index_copy": index_copy,
    "index_fill": index_fill,
    "scatter": scatter,
    "scatter_reduce": scatter_reduce,
}
FUNCTIONAL: dict = {}
TOPLEVEL = dict(TENSOR_METHODS)
