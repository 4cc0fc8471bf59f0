"""Ops that move elements without arithmetic: reshape, transpose, expand, indexing, cat, pad.

Forward returns a NumPy view of the input wherever NumPy can make one (reshape of contiguous
data, transpose, expand, basic indexing), as PyTorch does; the gradient of every op
here is the same movement run backwards: reshape back, transpose back, sum over the expanded
axes, scatter into zeros (accumulating repeated indices), split the concatenation.

Each gradient is written once against `xp` (CONTRIBUTING.md), and is itself a movement: a
scatter's gradient is the selection again (the pair in `ops/_select.py`), a flip's is a
flip, so gradients of any order stay in this family. Padding lives in `ops/padding.py`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Function, Tensor, normalize_dim
from . import _select
from ._convert import promote
from ._select import along_axis_key
from .padding import pad

__all__ = [
    "cat",
    "chunk",
    "clone",
    "contiguous",
    "expand",
    "expand_as",
    "flatten",
    "flip",
    "gather",
    "getitem",
    "pad",
    "permute",
    "repeat",
    "reshape",
    "reshape_as",
    "scatter_add",
    "split",
    "squeeze",
    "stack",
    "t",
    "transpose",
    "unbind",
    "unflatten",
    "unsqueeze",
    "view",
    "view_as",
]

# Marks where an index array sits in the printable key an Index op keeps in its options.
_ARRAY_SLOT = "tensor"


# ---- argument helpers ---------------------------------------------------------------------
def _sizes(args: tuple, where: str, keyword: Any = None) -> tuple[int, ...]:
    """Accept `f(2, 3)`, `f((2, 3))`, `f([2, 3])` and `f(shape=(2, 3))` like PyTorch (the
    keyword form comes in as `keyword`); every size an int."""
    if keyword is not None:
        if args:
            raise TypeError(f"{where}: sizes given both positionally and by keyword")
        args = (keyword,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for size in args:
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"{where}: sizes must be ints, got {args!r}")
    return tuple(int(size) for size in args)


def _infer_shape(shape: tuple[int, ...], numel: int, where: str) -> tuple[int, ...]:
    """Fill in a single -1 from the element count; PyTorch's RuntimeError when impossible."""
    if sum(size == -1 for size in shape) > 1:
        raise RuntimeError(f"{where}: only one dimension can be inferred (shape {list(shape)})")
    for size in shape:
        if size < -1:
            raise RuntimeError(f"{where}: invalid shape dimension {size} in {list(shape)}")
    known = math.prod(size for size in shape if size != -1)
    invalid = RuntimeError(f"{where}: shape '{list(shape)}' is invalid for input of size {numel}")
    if -1 in shape:
        if known == 0 or numel % known:
            raise invalid
        return tuple(numel // known if size == -1 else size for size in shape)
    if known != numel:
        raise invalid
    return shape


def _as_tensor(value: Any, where: str, argument: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._from_op(value)
    raise TypeError(f"{where}: {argument} must be a Tensor, got {type(value).__name__}")


# ---- reshape and friends ------------------------------------------------------------------
class Reshape(Function):
    """y = x with a new shape (a view when the strides allow, else a copy)."""

    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.reshape(grad, self.input_shape)


class View(Reshape):
    """Reshape that never copies (checked by the public `view`)."""


class Flatten(Reshape):
    """Reshape that merges dims start_dim..end_dim."""


class Unflatten(Reshape):
    """Reshape that splits one dim into several."""


class Squeeze(Reshape):
    """Reshape that drops size-1 dims."""


class Unsqueeze(Reshape):
    """Reshape that inserts a size-1 dim."""


def reshape(input: Tensor, *sizes: Any, shape: Any = None) -> Tensor:
    """`x.reshape(8, -1)` or `x.reshape((8, -1))`: same elements, new shape; one -1 inferred.

    A view when the data's strides allow it, else a copy (as in PyTorch).
    """
    target = _infer_shape(_sizes(sizes, "reshape", shape), input.numel(), "reshape")
    return Reshape.apply(input, shape=target)


def view(input: Tensor, *shape: Any) -> Tensor:
    """Like `reshape`, but only as a view: RuntimeError when the strides would need a copy."""
    target = _infer_shape(_sizes(shape, "view"), input.numel(), "view")
    try:
        np.reshape(input.data, target, copy=False)
    except ValueError:
        raise RuntimeError(
            f"view: view size is not compatible with input tensor's size and stride (at least "
            f"one dimension spans across two contiguous subspaces): shape {input.shape} to "
            f"{target}. Use .reshape(...) instead.") from None
    return View.apply(input, shape=target)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one. Shape: (2, 3, 4) -> (24,) by default."""
    start = normalize_dim(start_dim, input.ndim, "flatten")
    end = normalize_dim(end_dim, input.ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten() has invalid args: start_dim cannot come after end_dim "
                           f"(start_dim={start_dim}, end_dim={end_dim}, shape {input.shape})")
    shape = input.shape
    if input.ndim == 0:
        return Flatten.apply(input, shape=(1,))
    target = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    return Flatten.apply(input, shape=target)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim `dim` into `sizes` (one may be -1). Shape: (2, 6).unflatten(1, (2, 3)) -> (2, 2, 3)."""
    axis = normalize_dim(dim, input.ndim, "unflatten")
    sizes = _sizes((sizes,), "unflatten")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    length = input.shape[axis]
    try:
        sizes = _infer_shape(sizes, length, "unflatten")
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({length}) in the input tensor "
                           f"(shape {input.shape})") from None
    target = input.shape[:axis] + sizes + input.shape[axis + 1:]
    return Unflatten.apply(input, shape=target)


def squeeze(input: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Drop size-1 dims: all of them, or only those in `dim` (others are left alone)."""
    if dim is None:
        axes = {axis for axis, size in enumerate(input.shape) if size == 1}
    else:
        listed = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = set()
        for item in listed:
            axis = normalize_dim(item, input.ndim, "squeeze")
            if axis in axes:
                raise RuntimeError(f"squeeze: dim {axis} appears multiple times in the list of "
                                   f"dims {tuple(listed)}")
            axes.add(axis)
        axes = {axis for axis in axes if input.ndim > 0 and input.shape[axis] == 1}
    target = tuple(size for axis, size in enumerate(input.shape) if axis not in axes)
    return Squeeze.apply(input, shape=target)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at `dim` (in [-ndim-1, ndim])."""
    axis = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    target = input.shape[:axis] + (1,) + input.shape[axis:]
    return Unsqueeze.apply(input, shape=target)


# ---- transposes ---------------------------------------------------------------------------
class Permute(Function):
    """y = x with its dims reordered (a view)."""

    def forward(self, x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        self.dims = dims
        return x.transpose(dims)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.transpose(grad, tuple(np.argsort(self.dims)))


class Transpose(Permute):
    """Permute that swaps two dims."""


def permute(input: Tensor, *order: Any, dims: Any = None) -> Tensor:
    """Reorder dims: `x.permute(2, 0, 1)`, `x.permute((2, 0, 1))`, `mg.permute(x, dims=...)`."""
    dims = _sizes(order, "permute", dims)
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute: number of dims don't match in permute: input.dim() = "
                           f"{input.ndim} (shape {input.shape}) is not equal to "
                           f"len(dims) = {len(dims)}")
    axes: list[int] = []
    for dim in dims:  # one at a time, as PyTorch: (0, 0, 9) is a duplicate before a range error
        axis = normalize_dim(dim, input.ndim, "permute")
        if axis in axes:
            raise RuntimeError(f"permute(): duplicate dims are not allowed (dims {dims})")
        axes.append(axis)
    return Permute.apply(input, dims=tuple(axes))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dims dim0 and dim1 (a view)."""
    first = normalize_dim(dim0, input.ndim, "transpose")
    second = normalize_dim(dim1, input.ndim, "transpose")
    axes = list(range(input.ndim))
    if input.ndim > 0:
        axes[first], axes[second] = axes[second], axes[first]
    return Transpose.apply(input, dims=tuple(axes))


def t(input: Tensor) -> Tensor:
    """Transpose a matrix; 0-d and 1-d tensors come back as they are."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D (shape {input.shape})")
    return transpose(input, 0, -1) if input.ndim == 2 else transpose(input, 0, 0)


def _reverse_dims(input: Tensor) -> Tensor:
    """`x.T`: all dims reversed (PyTorch deprecates it for ndim != 2, but does the same)."""
    return Transpose.apply(input, dims=tuple(reversed(range(input.ndim))))


def _matrix_transpose(input: Tensor) -> Tensor:
    """`x.mT`: the last two dims swapped."""
    if input.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {input.ndim}-D tensor (shape {input.shape}).")
    return transpose(input, -2, -1)


# ---- expand, repeat, flip, copies ---------------------------------------------------------
class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view); the gradient sums the repeats."""

    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.input_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.sum_to(grad, self.input_shape)


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dims (and new leading dims) to `sizes`; -1 keeps a dim's size."""
    sizes = _sizes(sizes, "expand")
    shape = input.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)}) "
                           f"(target sizes {list(sizes)}, tensor sizes {list(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for axis, size in enumerate(sizes):
        if axis < lead:
            if size < 0:
                raise RuntimeError(f"expand: the expanded size of the tensor ({size}) isn't "
                                   f"allowed in a leading, non-existing dimension {axis} "
                                   f"(target sizes {list(sizes)})")
            target.append(size)
            continue
        existing = shape[axis - lead]
        if size == -1:
            size = existing
        if existing != size and existing != 1:
            raise RuntimeError(
                f"expand: The expanded size of the tensor ({size}) must match the existing "
                f"size ({existing}) at non-singleton dimension {axis}.  Target sizes: "
                f"{list(sizes)}.  Tensor sizes: {list(shape)}")
        if size < 0:
            raise RuntimeError(f"expand: invalid size {size} at dimension {axis} "
                               f"(target sizes {list(sizes)})")
        target.append(size)
    return Expand.apply(input, shape=tuple(target))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


class Repeat(Function):
    """y = x tiled `repeats` times along each dim (a copy)."""

    def forward(self, x: np.ndarray, repeats: tuple[int, ...]) -> np.ndarray:
        self.input_shape = x.shape
        return np.tile(x, repeats)

    def backward(self, xp: Any, grad: Any) -> Any:
        repeats = self.options["repeats"]
        shape = (1,) * (len(repeats) - len(self.input_shape)) + self.input_shape
        # view the grad as (r0, s0, r1, s1, ...) and sum over every r axis
        split = tuple(size for pair in zip(repeats, shape) for size in pair)
        summed = xp.sum(xp.reshape(grad, split), axis=tuple(range(0, len(split), 2)))
        return xp.reshape(summed, self.input_shape)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor: `x.repeat(2, 1)`; more sizes than dims add leading dims."""
    repeats = _sizes(sizes, "repeat")
    if len(repeats) < input.ndim:
        raise RuntimeError(f"repeat: Number of dimensions of repeat dims can not be smaller than "
                           f"number of dimensions of tensor (repeats {repeats}, shape "
                           f"{input.shape})")
    if any(size < 0 for size in repeats):
        raise RuntimeError(f"repeat: Trying to create tensor with negative dimension "
                           f"(repeats {repeats})")
    return Repeat.apply(input, repeats=repeats)


class Flip(Function):
    """y = x reversed along `dims` (a view with negative strides)."""

    def forward(self, x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        return np.flip(x, dims).copy()   # a copy, as torch.flip makes

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.flip(grad, self.options["dims"])


def flip(input: Tensor, *axes: Any, dims: Any = None) -> Tensor:
    """Reverse the order of elements along `dims`: `x.flip(0)`, `mg.flip(x, dims=(0, 1))`."""
    dims = _sizes(axes, "flip", dims)
    axes = tuple(normalize_dim(dim, input.ndim, "flip") for dim in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip: dims has duplicates: {dims}")
    if input.ndim == 0:
        axes = ()
    return Flip.apply(input, dims=axes)


class Contiguous(Function):
    """y = a C-contiguous copy of x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x)

    def backward(self, xp: Any, grad: Any) -> Any:
        return grad


class Clone(Function):
    """y = a copy of x that owns its memory."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, xp: Any, grad: Any) -> Any:
        return grad


def contiguous(input: Tensor) -> Tensor:
    """The tensor itself when its data is C-contiguous, else a contiguous copy."""
    if input.data.flags.c_contiguous:
        return input
    return Contiguous.apply(input)


def clone(input: Tensor) -> Tensor:
    """A copy with its own memory, still in the graph."""
    return Clone.apply(input)


# ---- indexing -----------------------------------------------------------------------------
class Index(Function):
    """y = x[key] with PyTorch's indexing rules.

    Index arrays come in as extra integer/bool inputs so the key in `options` stays small
    and printable; `_ARRAY_SLOT` marks where each one goes. PyTorch applies integers as plain
    selections before any advanced (array) index, whereas NumPy would count an integer next
    to an array as advanced too (and move dims differently), so a key with arrays runs in two
    steps: the basic part (a view), then the arrays on what is left. The gradient scatters
    into zeros; with integer arrays np.add.at accumulates repeated indices.
    """

    def forward(self, x: np.ndarray, *index_arrays: np.ndarray, key: tuple) -> np.ndarray:
        arrays = iter(index_arrays)
        items = [next(arrays) if item == _ARRAY_SLOT else item for item in key]
        basic, advanced = [], []
        for item in items:
            if isinstance(item, np.ndarray):
                basic.extend([slice(None)] * (item.ndim if item.dtype.kind == "b" else 1))
                advanced.append(item)
            elif item is Ellipsis:
                basic.append(item)
                advanced.append(item)
            elif item is None or isinstance(item, slice):
                basic.append(item)
                advanced.append(slice(None))
            else:
                basic.append(item)  # an integer: the dim is gone before the arrays apply
        if not any(item is Ellipsis for item in basic):
            basic.append(Ellipsis)  # so a full integer index gives a 0-d view, not a scalar
        self.basic = tuple(basic)
        self.advanced = tuple(advanced) if index_arrays else None
        self.input_shape = x.shape
        self.array_count = len(index_arrays)
        self.accumulate = any(array.dtype.kind != "b" for array in index_arrays)
        selected = x[self.basic]
        return selected if self.advanced is None else selected[self.advanced]

    def backward(self, xp: Any, grad: Any) -> tuple:
        input_grad = xp.index_scatter(grad, self.input_shape, self.basic, self.advanced,
                                      self.accumulate)
        return (input_grad,) + (None,) * self.array_count


def _index_item(item: Any) -> Any:
    """One entry of an index key as int, slice, None, Ellipsis or an int/bool ndarray."""
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, (bool, np.bool_)):
        return np.asarray(item, dtype=bool)
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, slice):
        if item.step is not None and item.step <= 0:
            if item.step == 0:
                raise ValueError("getitem: slice step cannot be zero")
            raise ValueError(f"getitem: step must be greater than zero (got {item}; use "
                             f"flip() to reverse)")
        return item
    if isinstance(item, range):
        item = np.arange(item.start, item.stop, item.step)  # x[range(3)]: an index array
    if isinstance(item, Tensor):
        array = item.data
        if array.dtype == np.uint8:
            array = array.astype(bool)  # PyTorch reads uint8 index tensors as masks
    elif isinstance(item, (np.ndarray, list, tuple)):
        array = np.asarray(item)
        if array.size == 0 and array.dtype.kind == "f":
            array = array.astype(np.int64)  # x[[]] selects nothing, as in PyTorch
    else:
        raise IndexError(f"getitem: only integers, slices (`:`), ellipsis (`...`), None and "
                         f"long or byte Variables are valid indices (got "
                         f"{type(item).__name__})")
    if array.dtype.kind not in "biu":
        raise IndexError(f"getitem: tensors used as indices must be long, int, byte or bool "
                         f"tensors (got dtype {array.dtype})")
    return array


def _check_key(key: tuple, shape: tuple[int, ...]) -> None:
    """PyTorch's IndexErrors for a normalised key on a tensor of `shape`."""
    ndim = len(shape)
    ellipses = sum(item is Ellipsis for item in key)
    if ellipses > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...')")
    consumed = 0
    for item in key:
        if isinstance(item, np.ndarray) and item.dtype.kind == "b":
            consumed += item.ndim
        elif item is not None and item is not Ellipsis:
            consumed += 1
    if consumed > ndim:
        raise IndexError(f"getitem: too many indices for tensor of dimension {ndim} "
                         f"(shape {shape})")
    axis = 0
    for item in key:
        if item is None:
            continue
        if item is Ellipsis:
            axis += ndim - consumed
            continue
        if isinstance(item, np.ndarray) and item.dtype.kind == "b":
            expected = shape[axis:axis + item.ndim]
            for offset, (got, want) in enumerate(zip(item.shape, expected)):
                if got != want:
                    raise IndexError(
                        f"getitem: The shape of the mask {list(item.shape)} at index {offset} "
                        f"does not match the shape of the indexed tensor {list(shape)} at "
                        f"index {axis + offset}")
            axis += item.ndim
            continue
        size = shape[axis]
        if isinstance(item, int):
            values = (item,)
        elif isinstance(item, np.ndarray) and item.size:
            values = (int(item.min()), int(item.max()))
        else:
            values = ()
        for value in values:
            if not -size <= value < size:
                raise IndexError(f"getitem: index {value} is out of bounds for dimension "
                                 f"{axis} with size {size} (shape {shape})")
        axis += 1


def getitem(input: Tensor, key: Any) -> Tensor:
    """`x[key]`: ints, slices (positive steps), None, Ellipsis, bool masks, integer arrays.

    Basic indexing returns a view; masks and integer arrays (advanced indexing) copy, and
    the gradient of a repeated index is the sum over its repeats.
    """
    items = key if isinstance(key, tuple) else (key,)
    items = tuple(_index_item(item) for item in items)
    _check_key(items, input.shape)
    arrays = [Tensor._from_op(item) for item in items if isinstance(item, np.ndarray)]
    template = tuple(_ARRAY_SLOT if isinstance(item, np.ndarray) else item for item in items)
    return Index.apply(input, *arrays, key=template)


def _narrow_all(input: Tensor, axis: int, bounds: list[tuple[int, int]]) -> tuple[Tensor, ...]:
    """Slices [start, stop) of `input` along `axis`, each a view."""
    lead = (slice(None),) * axis
    return tuple(getitem(input, lead + (slice(start, stop),)) for start, stop in bounds)


def split(input: Tensor, split_size_or_sections: int | Sequence[int],
          dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of `split_size` along `dim` (the last may be smaller), or of the listed sizes."""
    axis = normalize_dim(dim, input.ndim, "split")
    length = input.shape[axis] if input.ndim else 1
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and length != 0):
            raise RuntimeError(f"split: split_size must be positive, got {size} "
                               f"(dim {dim} has size {length})")
        starts = range(0, length, size) if size else [0]
        bounds = [(start, min(start + size, length)) for start in starts]
    else:
        sections = _sizes((split_size_or_sections,), "split")
        if sum(sections) != length or any(size < 0 for size in sections):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                               f"{length} (input tensor's size at dimension {dim}), but got "
                               f"split_sizes={list(sections)}")
        offsets = np.cumsum((0,) + sections).tolist()
        bounds = list(itertools.pairwise(offsets))
    return _narrow_all(input, axis, bounds)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into at most `chunks` pieces of equal size ceil(size / chunks) along `dim`."""
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = normalize_dim(dim, input.ndim, "chunk")
    length = input.shape[axis] if input.ndim else 1
    return split(input, max(-(-length // int(chunks)), 1), dim=axis)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along `dim`, with that dim removed."""
    if input.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    axis = normalize_dim(dim, input.ndim, "unbind")
    lead = (slice(None),) * axis
    return tuple(getitem(input, lead + (index,)) for index in range(input.shape[axis]))


# ---- cat and stack ------------------------------------------------------------------------
class Cat(Function):
    """y = the inputs joined along `dim`; the gradient splits back into the inputs' pieces."""

    def forward(self, *arrays: np.ndarray, dim: int) -> np.ndarray:
        self.offsets = np.cumsum([array.shape[dim] for array in arrays])[:-1].tolist()
        return np.concatenate(arrays, axis=dim)

    def backward(self, xp: Any, grad: Any) -> tuple:
        lead = (slice(None),) * self.options["dim"]
        bounds = zip([0] + self.offsets, self.offsets + [None])
        return tuple(grad[lead + (slice(start, stop),)] if needed else None
                     for (start, stop), needed in zip(bounds, self.needs_input_grad))


class Stack(Function):
    """y = the inputs stacked along a new dim `dim`; the gradient is the slices along it."""

    def forward(self, *arrays: np.ndarray, dim: int) -> np.ndarray:
        return np.stack(arrays, axis=dim)

    def backward(self, xp: Any, grad: Any) -> tuple:
        lead = (slice(None),) * self.options["dim"]
        return tuple(grad[lead + (index,)] if needed else None
                     for index, needed in enumerate(self.needs_input_grad))


def _tensor_list(tensors: Any, where: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{where}(): argument 'tensors' must be a tuple or list of Tensors, "
                        f"not {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{where}(): expected a non-empty list of Tensors")
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{where}(): expected Tensor as element {position} in argument "
                            f"'tensors', but got {type(tensor).__name__}")
    return list(tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; other dims must match; dtypes promote like torch.

    Shape: (2, 3) and (4, 3) with dim=0 -> (6, 3).
    """
    tensors = _tensor_list(tensors, "cat")
    shapes = [tensor.shape for tensor in tensors]
    for position, shape in enumerate(shapes):
        if not shape:
            raise RuntimeError(f"cat(): zero-dimensional tensor (at position {position}) "
                               f"cannot be concatenated (shapes {shapes})")
    first = shapes[0]
    axis = normalize_dim(dim, len(first), "cat")
    for position, shape in enumerate(shapes):
        if len(shape) != len(first):
            raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got "
                               f"{len(first)} and {len(shape)} (shapes {shapes}, dim {dim})")
        for other_axis, (want, got) in enumerate(zip(first, shape)):
            if other_axis != axis and want != got:
                raise RuntimeError(
                    f"cat(): Sizes of tensors must match except in dimension {axis}. Expected "
                    f"size {want} but got size {got} for tensor number {position} in the list "
                    f"(shapes {shapes}, dim {dim})")
    return Cat.apply(*promote(*tensors), dim=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equal-shape tensors along a new dim. Shape: 3 x (2, 4) with dim=1 -> (2, 3, 4)."""
    tensors = _tensor_list(tensors, "stack")
    shapes = [tensor.shape for tensor in tensors]
    axis = normalize_dim(dim, len(shapes[0]) + 1, "stack")
    for position, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shapes[0])} at entry 0 and {list(shape)} at entry "
                               f"{position} (dim {dim})")
    return Stack.apply(*promote(*tensors), dim=axis)


# ---- gather and scatter_add ---------------------------------------------------------------
class Gather(Function):
    """y[i][j][k] = x[index[i][j][k]][j][k] along `dim` (dim=0 here); index is an input."""

    def forward(self, x: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray:
        self.input_shape = x.shape
        self.key = along_axis_key(index, dim)
        return x[self.key]

    def backward(self, xp: Any, grad: Any) -> tuple:
        return xp.index_scatter(grad, self.input_shape, None, self.key, True), None


class ScatterAdd(Function):
    """y = x, then y[index[i][j]][j] += src[i][j] along `dim` (dim=0 here)."""

    def forward(self, x: np.ndarray, index: np.ndarray, src: np.ndarray,
                dim: int) -> np.ndarray:
        self.src_shape = src.shape
        self.key = along_axis_key(index, dim)
        self.window = tuple(slice(0, size) for size in index.shape)
        output = x.copy()
        np.add.at(output, self.key, src[self.window])
        return output

    def backward(self, xp: Any, grad: Any) -> tuple:
        src_grad = None
        if self.needs_input_grad[2]:
            picked = xp.index_select(grad, None, self.key)
            src_grad = xp.index_scatter(picked, self.src_shape, self.window, None, False)
        return grad if self.needs_input_grad[0] else None, None, src_grad


def _check_index(where: str, input: Tensor, dim: int, index: Any,
                 src: Tensor | None = None) -> tuple[int, Tensor]:
    """Validate gather/scatter arguments the way PyTorch does; returns (axis, index)."""
    index = _as_tensor(index, where, "index")
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{where}(): Expected dtype int32/int64 for index, got "
                           f"{index.dtype}")
    axis = normalize_dim(dim, input.ndim, where)
    if index.ndim != input.ndim and not (input.ndim <= 1 and index.ndim <= 1):
        raise RuntimeError(f"{where}(): Index tensor must have the same number of dimensions "
                           f"as input tensor (index {index.shape}, input {input.shape})")
    input_shape = input.shape if input.ndim else (1,)
    index_shape = index.shape if index.ndim else (1,)
    for other_axis, (want, got) in enumerate(zip(input_shape, index_shape)):
        too_big = got > want and other_axis != axis
        if src is not None:
            too_big = too_big or got > (src.shape if src.ndim else (1,))[other_axis]
        if too_big:
            extra = "" if src is None else f" and to be no larger size than src {list(src.shape)}"
            raise RuntimeError(f"{where}(): Size does not match at dimension {other_axis}: "
                               f"expected index {list(index.shape)} to be no larger than "
                               f"self {list(input.shape)} apart from dimension {axis}{extra}")
    if index.numel():
        size = input_shape[axis]
        low, high = int(index.data.min()), int(index.data.max())
        for value in (low, high):
            if not 0 <= value < size:
                raise RuntimeError(f"{where}(): index {value} is out of bounds for dimension "
                                   f"{axis} with size {size} (input {input.shape})")
    return axis, index


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j][k] = input[index[i][j][k]][j][k] for dim=0 (and likewise for other dims).

    Shape: index's shape; index.size(d) <= input.size(d) for d != dim.
    """
    axis, index = _check_index("gather", input, dim, index)
    if input.ndim == 0 or index.ndim == 0:  # PyTorch lets 0-d and 1-d operands mix
        flat = gather(reshape(input, -1), 0, reshape(index, -1))
        return reshape(flat, index.shape)
    return Gather.apply(input, index, dim=axis)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with out[index[i][j]][j] += src[i][j] for dim=0 (likewise other dims).

    Repeated indices accumulate. input and src must have the same dtype, as in PyTorch.
    """
    src = _as_tensor(src, "scatter_add", "src")
    axis, index = _check_index("scatter_add", input, dim, index, src)
    if input.dtype != src.dtype:
        raise RuntimeError(f"scatter_add(): Expected self.dtype to be equal to src.dtype "
                           f"(self {input.dtype}, src {src.dtype})")
    if index.ndim != src.ndim and not (src.ndim <= 1 and index.ndim <= 1):
        raise RuntimeError(f"scatter_add(): Index tensor must have the same number of "
                           f"dimensions as src tensor (index {index.shape}, src {src.shape})")
    if input.ndim == 0 or index.ndim == 0 or src.ndim == 0:
        flat = scatter_add(reshape(input, -1), 0, reshape(index, -1), reshape(src, -1))
        return reshape(flat, input.shape)
    return ScatterAdd.apply(input, index, src, dim=axis)


# ---- backward namespace: this family's own functions (see ops/namespace.py) ---------------
def _flip_graph(x: Any, axis: Any) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor._from_op(np.asarray(x))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return Flip.apply(x, dims=axes)


NUMPY_XP: dict[str, Any] = {"flip": np.flip, **_select.NUMPY_XP}
GRAPH_XP: dict[str, Any] = {"flip": _flip_graph, **_select.GRAPH_XP}


# ---- tables -------------------------------------------------------------------------------
TENSOR_METHODS = {
    "reshape": reshape,
    "view": view,
    "view_as": view_as,
    "reshape_as": reshape_as,
    "flatten": flatten,
    "unflatten": unflatten,
    "squeeze": squeeze,
    "unsqueeze": unsqueeze,
    "permute": permute,
    "transpose": transpose,
    "swapaxes": transpose,
    "swapdims": transpose,
    "t": t,
    "T": property(_reverse_dims),
    "mT": property(_matrix_transpose),
    "expand": expand,
    "expand_as": expand_as,
    "repeat": repeat,
    "flip": flip,
    "contiguous": contiguous,
    "clone": clone,
    "__getitem__": getitem,
    "split": split,
    "chunk": chunk,
    "unbind": unbind,
    "gather": gather,
    "scatter_add": scatter_add,
}
FUNCTIONAL = {
    "pad": pad,
}
TOPLEVEL = {
    "reshape": reshape,
    "flatten": flatten,
    "unflatten": unflatten,
    "squeeze": squeeze,
    "unsqueeze": unsqueeze,
    "permute": permute,
    "transpose": transpose,
    "swapaxes": transpose,
    "swapdims": transpose,
    "t": t,
    "flip": flip,
    "clone": clone,
    "split": split,
    "chunk": chunk,
    "unbind": unbind,
    "cat": cat,
    "concat": cat,
    "concatenate": cat,
    "stack": stack,
    "gather": gather,
    "scatter_add": scatter_add,
}
