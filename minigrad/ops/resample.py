"""Resampling: `interpolate` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area), pixel_shuffle / pixel_unshuffle and channel_shuffle.

Every interpolation mode PyTorch has is separable: along each spatial axis the output is a
fixed linear map of the input (a gather of source indices for the nearest modes, a small
weight matrix for the linear, cubic and area modes). One op applies one such map along one
axis, `AxisMap`; its backward applies the adjoint map (a segment sum for a gather, the
transposed matrix for weights), and the adjoint of the adjoint is the map again, so the
pair is differentiable to any order. No loop runs over pixels: a gather is `np.take`, a
segment sum `np.add.reduceat`, a weight matrix one `matmul`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor

__all__ = [
    "channel_shuffle",
    "interpolate",
    "pixel_shuffle",
    "pixel_unshuffle",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]


# ---- linear maps along one axis ---------------------------------------------------------
class GatherMap:
    """y[j] = x[index[j]] along the axis; `index` non-decreasing, in [0, in_size)."""

    def __init__(self, index: np.ndarray, in_size: int) -> None:
        self.index, self.in_size = index, in_size
        self.repeats = _uniform_repeats(index, in_size)

    def apply(self, x: np.ndarray, axis: int) -> np.ndarray:
        if self.repeats:  # integer upsampling: every source repeated the same number of times
            return np.repeat(x, self.repeats, axis=axis)
        return np.take(x, self.index, axis=axis)

    def adjoint(self) -> SegmentSumMap:
        return SegmentSumMap(self.index, self.in_size)


def _uniform_repeats(index: np.ndarray, in_size: int) -> int:
    """k when index is [0]*k + [1]*k + ... + [in_size - 1]*k, else 0."""
    if in_size == 0 or index.size % in_size:
        return 0
    k = index.size // in_size
    return k if np.array_equal(index, np.arange(index.size) // k) else 0


class SegmentSumMap:
    """The adjoint of a gather: y[i] = sum of x[j] over j with index[j] == i (0 if none)."""

    def __init__(self, index: np.ndarray, out_size: int) -> None:
        self.index, self.out_size = index, out_size
        self.targets, self.starts = np.unique(index, return_index=True)
        self.repeats = _uniform_repeats(index, out_size)

    def apply(self, x: np.ndarray, axis: int) -> np.ndarray:
        axis = axis % x.ndim
        if self.repeats:  # sum each run of k equal indices: a reshape and one reduction
            shape = x.shape[:axis] + (self.out_size, self.repeats) + x.shape[axis + 1:]
            runs = x.reshape(shape)
            lead = (slice(None),) * (axis + 1)
            # k - 1 adds of strided views: faster than a reduction over a tiny axis
            total = runs[lead + (0,)].copy()
            for offset in range(1, self.repeats):
                total += runs[lead + (offset,)]
            return total
        if self.index.size == 0:
            shape = list(x.shape)
            shape[axis] = self.out_size
            return np.zeros(shape, dtype=x.dtype)
        sums = np.add.reduceat(x, self.starts, axis=axis)
        if self.targets.size == self.out_size:  # every position is some output's source
            return sums
        shape = list(x.shape)
        shape[axis] = self.out_size
        result = np.zeros(shape, dtype=x.dtype)
        result[(slice(None),) * axis + (self.targets,)] = sums
        return result

    def adjoint(self) -> GatherMap:
        return GatherMap(self.index, self.out_size)


class MatrixMap:
    """y = matrix @ x along the axis; matrix (out_size, in_size), float64 until applied."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix

    def apply(self, x: np.ndarray, axis: int) -> np.ndarray:
        matrix = self.matrix.astype(x.dtype, copy=False)
        moved = np.moveaxis(x, axis, -1)
        return np.moveaxis(moved @ matrix.T, -1, axis)

    def adjoint(self) -> MatrixMap:
        return MatrixMap(self.matrix.T)


class AxisMap(Function):
    """y = map applied along `axis` of x, for a constant linear map; backward its adjoint."""

    def forward(self, x: np.ndarray, map: Any, axis: int) -> np.ndarray:
        self.map, self.axis = map, axis
        return np.ascontiguousarray(map.apply(x, axis))

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.axis_map(grad, self.map.adjoint(), self.axis)


def _axis_map_graph(x: Any, map: Any, axis: int) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor._from_op(np.asarray(x))
    return AxisMap.apply(x, map=map, axis=axis)


NUMPY_XP = {"axis_map": lambda x, map, axis: map.apply(x, axis)}
GRAPH_XP = {"axis_map": _axis_map_graph}


# ---- PyTorch's source coordinates, per mode -------------------------------------------------
def _linear_scale(in_size: int, out_size: int, align_corners: bool,
                  scale: float | None) -> float:
    """Source step per output step (PyTorch's area_pixel_compute_scale)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale is not None and scale > 0:
        return 1.0 / scale
    return in_size / out_size


def _source(in_size: int, out_size: int, align_corners: bool, scale: float | None,
            cubic: bool) -> np.ndarray:
    """Source coordinate of each output position (area_pixel_compute_source_index)."""
    step = _linear_scale(in_size, out_size, align_corners, scale)
    positions = np.arange(out_size, dtype=np.float64)
    if align_corners:
        return step * positions
    source = step * (positions + 0.5) - 0.5
    return source if cubic else np.maximum(source, 0.0)


def _nearest_map(in_size: int, out_size: int, scale: float | None, exact: bool) -> GatherMap:
    # PyTorch computes this in float32: the same rounding at the cell edges
    step = np.float32(1.0 / scale if scale is not None and scale > 0 else in_size / out_size)
    positions = np.arange(out_size, dtype=np.float32)
    if exact:
        positions = positions + np.float32(0.5)
    index = np.floor(positions * step).astype(np.int64)
    return GatherMap(np.minimum(index, in_size - 1), in_size)


def _weights_matrix(in_size: int, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(out, in) matrix with weights[j, t] added at (j, index[j, t]) (clamped taps add up)."""
    out_size = index.shape[0]
    matrix = np.zeros((out_size, in_size))
    rows = np.repeat(np.arange(out_size), index.shape[1])
    np.add.at(matrix, (rows, index.ravel()), weights.ravel())
    return matrix


def _linear_map(in_size: int, out_size: int, align_corners: bool,
                scale: float | None) -> MatrixMap:
    source = _source(in_size, out_size, align_corners, scale, cubic=False)
    low = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    frac = source - low
    index = np.stack([low, high], axis=1)
    return MatrixMap(_weights_matrix(in_size, index, np.stack([1 - frac, frac], axis=1)))


_CUBIC_A = -0.75


def _cubic_near(t: np.ndarray) -> np.ndarray:
    return ((_CUBIC_A + 2) * t - (_CUBIC_A + 3)) * t * t + 1


def _cubic_far(t: np.ndarray) -> np.ndarray:
    return ((_CUBIC_A * t - 5 * _CUBIC_A) * t + 8 * _CUBIC_A) * t - 4 * _CUBIC_A


def _cubic_map(in_size: int, out_size: int, align_corners: bool,
               scale: float | None) -> MatrixMap:
    source = _source(in_size, out_size, align_corners, scale, cubic=True)
    base = np.floor(source).astype(np.int64)
    t = source - base
    weights = np.stack([_cubic_far(t + 1), _cubic_near(t), _cubic_near(1 - t),
                        _cubic_far(2 - t)], axis=1)
    index = np.clip(base[:, None] + np.arange(-1, 3), 0, in_size - 1)
    return MatrixMap(_weights_matrix(in_size, index, weights))


def _area_map(in_size: int, out_size: int) -> MatrixMap:
    """Adaptive average pooling: output j averages [floor(j in / out), ceil((j+1) in / out))."""
    positions = np.arange(out_size)
    starts = (positions * in_size) // out_size
    ends = -((-(positions + 1) * in_size) // out_size)
    columns = np.arange(in_size)
    inside = (columns >= starts[:, None]) & (columns < ends[:, None])
    return MatrixMap(inside / (ends - starts)[:, None])


def _axis_maps(mode: str, in_size: int, out_size: int, align_corners: bool,
               scale: float | None) -> Any:
    if mode in ("nearest", "nearest-exact"):
        return _nearest_map(in_size, out_size, scale, mode == "nearest-exact")
    if mode == "area":
        return _area_map(in_size, out_size)
    if mode == "bicubic":
        return _cubic_map(in_size, out_size, align_corners, scale)
    return _linear_map(in_size, out_size, align_corners, scale)


# ---- interpolate ------------------------------------------------------------------------
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _per_dim(where: str, name: str, value: Any, dims: int) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ValueError(f"{where}: Input and {name} must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {dims} "
                             f"and {name} of length {len(value)}.")
        return list(value)
    return [value] * dims


def _check_mode(input: Tensor, mode: str, align_corners: Any) -> None:
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got mode {mode!r})")
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got mode {mode!r})")
    needed = _MODE_DIMS.get(mode)
    if needed is not None and input.ndim != needed + 2:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{needed + 2}D input")


def _output_sizes(input: Tensor, size: Any, scale_factor: Any,
                  recompute_scale_factor: Any) -> tuple[list[int], list[float | None]]:
    """Output sizes and the scales used for source coordinates (None: in / out)."""
    dims = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        sizes = _per_dim("interpolate", "size", size, dims)
        for side in sizes:
            if not isinstance(side, (int, np.integer)) or isinstance(side, bool):
                raise TypeError(f"interpolate: expected size to be ints, got {size!r}")
        if any(side <= 0 for side in sizes):
            raise ValueError(f"interpolate: output sizes must be positive, got {size!r}")
        return [int(side) for side in sizes], [None] * dims
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = [float(scale) for scale in _per_dim("interpolate", "scale_factor", scale_factor,
                                                  dims)]
    sizes = [math.floor(float(input.shape[2 + i]) * scales[i]) for i in range(dims)]
    if any(side <= 0 for side in sizes):
        raise RuntimeError(f"interpolate: scale_factor {scale_factor!r} gives an empty "
                           f"output {sizes} for input {list(input.shape)}")
    if recompute_scale_factor:
        return sizes, [None] * dims
    return sizes, scales


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *spatial) by `size` or `scale_factor`, as PyTorch.

    Modes: nearest (source floor(j * in / out)), nearest-exact (floor((j + 0.5) in / out)),
    linear / bilinear / trilinear and bicubic (A = -0.75, edge samples repeated), area
    (adaptive average pooling). Without recompute_scale_factor a given scale_factor is also
    the step between source coordinates, as in PyTorch.
    Shape: (N, C, *in) -> (N, C, *out), out = size or floor(in * scale_factor).
    """
    _check_tensor("interpolate", "input", input)
    _check_mode(input, mode, align_corners)
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        scales = [None] * len(sizes)
    if mode not in ("nearest", "nearest-exact"):
        _check_floating("interpolate", input)
    corners = bool(align_corners)
    output = input
    for position, (out_size, scale) in enumerate(zip(sizes, scales)):
        axis = 2 + position
        in_size = input.shape[axis]
        if in_size == 0:
            raise RuntimeError(f"interpolate: input {list(input.shape)} has an empty spatial "
                               f"dim {axis}")
        if out_size == in_size and (mode == "area" or corners or scale is None
                                    or scale == 1.0):
            continue  # the identity map
        map = _axis_maps(mode, in_size, out_size, corners, scale)
        output = AxisMap.apply(output, map=map, axis=axis)
    return output if output is not input else input * 1


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None,
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of interpolate (PyTorch warns the same way)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: interpolate(mode="nearest")."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: interpolate(mode="bilinear", align_corners=True)."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel and channel shuffles: reshape / permute composites ---------------------------------
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): sub-pixel rearrangement.

    Shape: (*, C * r * r, H, W) -> (*, C, H * r, W * r).
    """
    _check_tensor("pixel_shuffle", "input", input)
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{channels} is not divisible by {r * r}")
    lead = tuple(lead)
    k = len(lead)
    x = input.reshape(lead + (channels // (r * r), r, r, height, width))
    x = x.permute(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return x.reshape(lead + (channels // (r * r), height * r, width * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle.

    Shape: (*, C, H * r, W * r) -> (*, C * r * r, H, W).
    """
    _check_tensor("pixel_unshuffle", "input", input)
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, "
                           f"but got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, channels, height, width = input.shape
    if height % r or width % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but input.size(-2)={height} and "
                           f"input.size(-1)={width} are not divisible by {r}")
    lead = tuple(lead)
    k = len(lead)
    x = input.reshape(lead + (channels, height // r, r, width // r, r))
    x = x.permute(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return x.reshape(lead + (channels * r * r, height // r, width // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave channels of `groups` groups: (N, g * c, *) viewed (N, g, c, *) -> (N, c, g, *).

    Shape: (N, C, *) -> same.
    """
    _check_tensor("channel_shuffle", "input", input)
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    channels = input.shape[1]
    if channels % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} "
                           f"channels and {groups} groups.")
    batch, rest = input.shape[0], tuple(input.shape[2:])
    x = input.reshape((batch, int(groups), channels // groups) + rest)
    return x.transpose(1, 2).reshape(input.shape)


TENSOR_METHODS: dict = {}
FUNCTIONAL = {
    "channel_shuffle": channel_shuffle,
    "interpolate": interpolate,
    "pixel_shuffle": pixel_shuffle,
    "pixel_unshuffle": pixel_unshuffle,
    "upsample": upsample,
    "upsample_bilinear": upsample_bilinear,
    "upsample_nearest": upsample_nearest,
}
TOPLEVEL = {
    "channel_shuffle": channel_shuffle,
    "pixel_shuffle": pixel_shuffle,
    "pixel_unshuffle": pixel_unshuffle,
}
