"""Movement composites with PyTorch's names: roll, rot90, repeat_interleave, tile, movedim,
narrow, Tensor.unfold, as_strided, ravel, atleast_1d/2d/3d, tensor_split and h/v/dsplit,
hstack/vstack/dstack/column_stack.

Each is built from the movement ops (getitem with slices or index arrays, permute, flip,
reshape, cat), so its gradient, and the gradient of that, come from those ops.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..engine import Tensor, normalize_dim
from . import movement as mv
from .indexing import along, check_tensor

__all__ = [
    "as_strided", "atleast_1d", "atleast_2d", "atleast_3d", "column_stack", "dsplit", "dstack",
    "hsplit", "hstack", "movedim", "narrow", "ravel", "repeat_interleave", "roll", "rot90",
    "tensor_split", "tile", "unfold", "vsplit", "vstack",
]


def _ints(where: str, name: str, values: Any) -> tuple[int, ...]:
    values = tuple(values) if isinstance(values, (tuple, list)) else (values,)
    for value in values:
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{where}(): argument '{name}' must be int or tuple of ints, got "
                            f"{values!r}")
    return tuple(int(value) for value in values)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Elements shifted by `shifts` along `dims`, wrapping around; dims=None rolls the
    flattened tensor and restores the shape."""
    check_tensor("roll", "input", input)
    shifts = _ints("roll", "shifts", shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll(): shifts and dimensions must align (shifts {shifts}, "
                               f"dims None)")
        return mv.reshape(roll(mv.reshape(input, (-1,)), shifts, 0), input.shape)
    dims = _ints("roll", "dims", dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims: {len(dims)}")
    result = input
    for shift, dim in zip(shifts, dims):
        axis = normalize_dim(dim, input.ndim, "roll")
        size = input.shape[axis] if input.ndim else 1
        if size == 0 or shift % size == 0:
            continue
        positions = (np.arange(size) - shift) % size
        result = mv.getitem(result, along(axis, positions))
    return result


def rot90(input: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:
    """Rotated by 90 degrees k times in the plane of `dims`, from the first towards the
    second."""
    check_tensor("rot90", "input", input)
    dims = _ints("rot90", "dims", dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    first, second = (normalize_dim(dim, input.ndim, "rot90") for dim in dims)
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {first} "
                           f"and dim1 = {second}")
    k = k % 4
    if k == 1:
        return mv.transpose(mv.flip(input, second), first, second)
    if k == 2:
        return mv.flip(input, (first, second))
    if k == 3:
        return mv.transpose(mv.flip(input, first), first, second)
    return mv.getitem(input, (Ellipsis,))  # a view, as PyTorch's clone-free k=0


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along `dim`) repeated `repeats` times in place; repeats is an
    int or a tensor with one count per element. repeat_interleave(counts) alone gives
    the indices 0, 1, ... each repeated by its count."""
    check_tensor("repeat_interleave", "input", input)
    if repeats is None:
        counts = input.data
        if counts.ndim > 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim int tensor")
        return Tensor._from_op(np.repeat(np.arange(counts.size), counts.reshape(-1)))
    if dim is None:
        input, axis = mv.reshape(input, (-1,)), 0
    else:
        axis = normalize_dim(dim, input.ndim, "repeat_interleave")
        if input.ndim == 0:
            input = mv.reshape(input, (1,))
    size = input.shape[axis]
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1 or repeats.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim int tensor")
        counts = repeats.data.reshape(-1)
        if counts.size not in (1, size):
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim, but got repeats.size(0) = {counts.size} and "
                               f"input.size({axis}) = {size}")
    else:
        counts = np.asarray(_ints("repeat_interleave", "repeats", repeats))
        if counts.size != 1:
            raise TypeError("repeat_interleave(): argument 'repeats' must be an int or a Tensor")
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    positions = np.repeat(np.arange(size), np.broadcast_to(counts, (size,)))
    if output_size is not None and output_size != positions.size:
        raise RuntimeError(f"repeat_interleave: allocated size does not match required size "
                           f"(output_size {output_size}, required {positions.size})")
    return mv.getitem(input, along(axis, positions))


def tile(input: Tensor, dims: Any) -> Tensor:
    """input repeated `dims` times per dimension; fewer dims than input count from the right
    (PyTorch pads them with leading 1s)."""
    check_tensor("tile", "input", input)
    dims = _ints("tile", "dims", dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return mv.repeat(input, *dims)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """input with dims `source` moved to positions `destination` (the others keep their
    order)."""
    check_tensor("movedim", "input", input)
    source = _ints("movedim", "source", source)
    destination = _ints("movedim", "destination", destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(source)}"
                           f" dims) should contain the same number of dims as destination "
                           f"({list(destination)} dims)")
    source = tuple(normalize_dim(dim, input.ndim, "movedim") for dim in source)
    destination = tuple(normalize_dim(dim, input.ndim, "movedim") for dim in destination)
    if len(set(source)) != len(source):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(destination)) != len(destination):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination)})")
    if input.ndim == 0:
        return input
    order = [dim for dim in range(input.ndim) if dim not in source]
    for target, dim in sorted(zip(destination, source)):
        order.insert(target, dim)
    return mv.permute(input, tuple(order))


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The view input[..., start:start + length, ...] along `dim` (start may be negative or a
    0-d tensor)."""
    check_tensor("narrow", "input", input)
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = normalize_dim(dim, input.ndim, "narrow")
    if isinstance(start, Tensor):
        start = int(start.item())
    size = input.shape[axis]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    start = start % size if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return mv.getitem(input, along(axis, slice(start, start + length)))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of `size` elements along `dimension`, `step` apart: that dim becomes the
    window count and a new last dim of `size` holds each window.

    Shape: (..., n, ...) -> (..., (n - size) // step + 1, ..., size)
    """
    check_tensor("unfold", "input", input)
    axis = normalize_dim(dimension, input.ndim, "unfold")
    length = input.shape[axis] if input.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {length} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if input.ndim == 0:
        return mv.reshape(input, (1,))
    count = (length - size) // step + 1
    windows = np.arange(count)[:, None] * step + np.arange(size)  # (count, size)
    picked = mv.getitem(input, along(axis, windows))  # (..., count, size, ...)
    return movedim(picked, axis + 1, -1)


def as_strided(input: Tensor, size: Any, stride: Any, storage_offset: int = 0) -> Tensor:
    """The elements a strided view of input's (contiguous) storage would show: element
    i of the result is storage[offset + sum(i_k * stride_k)]. minigrad returns a copy
    (writes do not reach input); the gradient adds up overlapping elements."""
    check_tensor("as_strided", "input", input)
    size = _ints("as_strided", "size", size)
    stride = _ints("as_strided", "stride", stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(size)} sizes, "
                           f"{len(stride)} strides)")
    if any(value < 0 for value in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")
    flat_positions = np.full(size, storage_offset, dtype=np.int64)
    for axis, (length, step) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = length
        flat_positions = flat_positions + np.arange(length).reshape(shape) * step
    if flat_positions.size and flat_positions.max() >= input.numel():
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {storage_offset} require more elements than the "
                           f"{input.numel()} of the input")
    return mv.getitem(mv.reshape(input, (-1,)), flat_positions)


def ravel(input: Tensor) -> Tensor:
    """input flattened to 1-d."""
    return mv.reshape(input, (-1,))


def _atleast(where: str, ndim: int, tensors: tuple) -> Any:
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
        else tensors
    results = []
    for tensor in tensors:
        check_tensor(where, "tensors", tensor)
        if tensor.ndim == 0:
            tensor = mv.reshape(tensor, (1,) * ndim)
        elif tensor.ndim == 1 and ndim >= 2:
            tensor = mv.unsqueeze(tensor, 0)
            if ndim == 3:
                tensor = mv.unsqueeze(tensor, 2)
        elif tensor.ndim == 2 and ndim == 3:
            tensor = mv.unsqueeze(tensor, 2)
        results.append(tensor)
    return results[0] if len(results) == 1 else tuple(results)


def atleast_1d(*tensors: Any) -> Any:
    return _atleast("atleast_1d", 1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    return _atleast("atleast_2d", 2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """(n,) -> (1, n, 1) and (m, n) -> (m, n, 1), as NumPy and PyTorch."""
    return _atleast("atleast_3d", 3, tensors)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views along `dim`: n near-equal sections (the first size % n one longer) or the pieces
    between the listed indices."""
    check_tensor("tensor_split", "input", input)
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    axis = normalize_dim(dim, input.ndim, "tensor_split")
    size = input.shape[axis]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        lengths = [small + 1] * extra + [small] * (sections - extra)
        stops = np.cumsum(lengths)
        bounds = [(int(stop - length), int(stop)) for stop, length in zip(stops, lengths)]
    else:
        points = [int(point) for point in indices_or_sections]
        edges = [0] + points + [size]
        bounds = []
        for start, stop in itertools.pairwise(edges):
            start = min(max(start + size if start < 0 else start, 0), size)
            stop = min(max(stop + size if stop < 0 else stop, 0), size)
            bounds.append((start, max(start, stop)))
    return tuple(mv.getitem(input, along(axis, slice(start, stop))) for start, stop in bounds)


def _directional_split(where: str, input: Tensor, sections: Any, dim: int,
                       min_dims: int) -> tuple[Tensor, ...]:
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{where} requires a tensor with at least {min_dims} "
                           f"dimension, but got a tensor with {input.ndim} dimensions!")
    if isinstance(sections, (int, np.integer)) and input.shape[dim] % sections:
        raise RuntimeError(f"torch.{where} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {input.shape[dim]} is not divisible by the "
                           f"split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:
    return _directional_split("hsplit", input, sections, 1 if input.ndim > 1 else 0, 1)


def vsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:
    return _directional_split("vsplit", input, sections, 0, 2)


def dsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:
    return _directional_split("dsplit", input, sections, 2, 3)


def _sequence(where: str, tensors: Any) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{where}(): argument 'tensors' must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    return list(tensors)


def hstack(tensors: Any) -> Tensor:
    """cat along dim 1 (dim 0 for 1-d tensors)."""
    tensors = _atleast("hstack", 1, (_sequence("hstack", tensors),))
    tensors = tensors if isinstance(tensors, tuple) else (tensors,)
    return mv.cat(list(tensors), 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Any) -> Tensor:
    """cat along dim 0 of the tensors made at least 2-d."""
    tensors = _atleast("vstack", 2, (_sequence("vstack", tensors),))
    return mv.cat(list(tensors) if isinstance(tensors, tuple) else [tensors], 0)


def dstack(tensors: Any) -> Tensor:
    """cat along dim 2 of the tensors made at least 3-d."""
    tensors = _atleast("dstack", 3, (_sequence("dstack", tensors),))
    return mv.cat(list(tensors) if isinstance(tensors, tuple) else [tensors], 2)


def column_stack(tensors: Any) -> Tensor:
    """1-d and 0-d tensors become columns, then hstack."""
    columns = []
    for tensor in _sequence("column_stack", tensors):
        check_tensor("column_stack", "tensors", tensor)
        columns.append(mv.reshape(tensor, (-1, 1)) if tensor.ndim <= 1 else tensor)
    return mv.cat(columns, 1)


TENSOR_METHODS = {
    "roll": roll,
    "rot90": rot90,
    "repeat_interleave": repeat_interleave,
    "tile": tile,
    "movedim": movedim,
    "moveaxis": movedim,
    "narrow": narrow,
    "unfold": unfold,
    "as_strided": as_strided,
    "ravel": ravel,
    "tensor_split": tensor_split,
    "hsplit": hsplit,
    "vsplit": vsplit,
    "dsplit": dsplit,
}
FUNCTIONAL: dict = {}
TOPLEVEL = {
    **{name: fn for name, fn in TENSOR_METHODS.items() if name != "unfold"},
    "atleast_1d": atleast_1d,
    "atleast_2d": atleast_2d,
    "atleast_3d": atleast_3d,
    "hstack": hstack,
    "vstack": vstack,
    "dstack": dstack,
    "column_stack": column_stack,
}
