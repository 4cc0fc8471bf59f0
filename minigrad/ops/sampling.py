"""Spatial transformer sampling: `grid_sample` (bilinear / nearest, padding zeros / border /
reflection, align_corners) and `affine_grid`, with PyTorch's coordinate conventions.

Both are composites of differentiable ops, so they are twice differentiable: grid_sample
turns the grid into source pixel coordinates with elementwise ops, takes the integer corner
indices as constants (floor / round of the coordinates), gathers all corners of every output
point with one gather, and mixes them with weights that are differentiable in the grid
(bilinear) or constant (nearest). The gather (the same positions for every channel) and its
adjoint, a scatter-add by `np.bincount`, are the op pair PointGather / PointScatter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from . import elementwise as _ew
from . import matmul as _mm
from . import movement as _mv
from ._shared import as_tensor as _as_tensor
from ._shared import check_tensor as _check_tensor

__all__ = ["affine_grid", "grid_sample"]

class PointGather(Function):
    """y[n, c, m] = x[n, c, index[n, m]]: (N, C, L) -> (N, C, M), index a constant."""

    def forward(self, x: np.ndarray, index: np.ndarray) -> np.ndarray:
        self.index, self.size = index, x.shape[2]
        return _point_gather_array(x, index)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.point_scatter(grad, self.index, self.size)


class PointScatter(Function):
    """The adjoint of PointGather: y[n, c, l] = sum of x[n, c, m] over m with index[n, m] == l.

    (N, C, M) -> (N, C, size), summed by one np.bincount over flattened positions.
    """

    def forward(self, x: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
        self.index = index
        return _point_scatter_array(x, index, size)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.point_gather(grad, self.index)


def _flat_positions(index: np.ndarray, channels: int, size: int) -> np.ndarray:
    """Positions in the flattened (N, C, size) array of index (N, M), per channel:
    (N, C, M)."""
    rows = np.arange(index.shape[0] * channels).reshape(index.shape[0], channels, 1) * size
    return rows + index[:, None, :]


def _point_gather_array(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.take(x.reshape(-1), _flat_positions(index, x.shape[1], x.shape[2]))


def _point_scatter_array(x: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    batch, channels, _ = x.shape
    flat = _flat_positions(index, channels, size).ravel()
    sums = np.bincount(flat, weights=x.ravel(), minlength=batch * channels * size)
    return sums.astype(x.dtype, copy=False).reshape(batch, channels, size)


NUMPY_XP = {
    "point_gather": _point_gather_array,
    "point_scatter": _point_scatter_array,
}
GRAPH_XP = {
    "point_gather": lambda x, index: PointGather.apply(_as_tensor(x), index=index),
    "point_scatter": lambda x, index, size: PointScatter.apply(_as_tensor(x), index=index,
                                                               size=size),
}

_MODES = ("bilinear", "nearest")
_PADDING_MODES = ("zeros", "border", "reflection")


def _unnormalize(coordinate: Tensor, size: int, align_corners: bool) -> Tensor:
    """[-1, 1] -> pixel coordinates: corner pixel centres (align_corners) or edges."""
    if align_corners:
        return (coordinate + 1) * ((size - 1) / 2)
    return ((coordinate + 1) * size - 1) / 2


def _reflect(coordinate: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Mirror a coordinate into [twice_low / 2, twice_high / 2] (PyTorch's
    reflect_coordinates); how many flips is a constant, the rest is differentiable."""
    if twice_low == twice_high:
        return coordinate * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    distance = _ew.abs(coordinate - low)
    flips = np.floor(distance.data / span)
    extra = distance - flips * span
    even = Tensor._from_op((flips % 2) == 0)
    return _ew.where(even, extra + low, span - extra + low)


def _source_coordinate(coordinate: Tensor, size: int, padding_mode: str,
                       align_corners: bool) -> Tensor:
    source = _unnormalize(coordinate, size, align_corners)
    if padding_mode == "zeros":
        return source
    if padding_mode == "reflection":
        if align_corners:
            source = _reflect(source, 0, 2 * (size - 1))
        else:
            source = _reflect(source, -1, 2 * size - 1)
    return _ew.clamp(source, 0, size - 1)


def _corner_gather(input: Tensor, rows: list[np.ndarray], columns: list[np.ndarray]) -> Tensor:
    """input (N, C, H, W) at K corner positions (each (N, Ho, Wo)), invalid ones read as
    position 0: -> (N, C, K, Ho, Wo)."""
    batch, channels, height, width = input.shape
    out_shape = rows[0].shape[1:]
    flat_index = np.stack([np.clip(r, 0, height - 1) * width + np.clip(c, 0, width - 1)
                           for r, c in zip(rows, columns)], axis=1)  # (N, K, Ho, Wo)
    flat_index = flat_index.reshape(batch, -1).astype(np.int64)
    values = PointGather.apply(input.reshape(batch, channels, height * width),
                               index=flat_index)
    return values.reshape((batch, channels, len(rows)) + tuple(out_shape))


def _inside(rows: np.ndarray, columns: np.ndarray, height: int, width: int) -> np.ndarray:
    return (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample input (N, C, H, W) at grid (N, Ho, Wo, 2) points given as (x, y) in [-1, 1].

    -1 and 1 are the centres of the corner pixels with align_corners=True, the outer edges
    of the corner pixels otherwise. Points outside read zeros, the border value, or the
    input mirrored at its edges (padding_mode).
    Shape: (N, C, H, W), (N, Ho, Wo, 2) -> (N, C, Ho, Wo).
    """
    _check_tensor("grid_sample", "input", input)
    _check_tensor("grid_sample", "grid", grid)
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' (bicubic is not supported), but got: '{mode}'")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.ndim != 4:
        raise NotImplementedError(f"grid_sample: only 4D (N, C, H, W) inputs are supported, "
                                  f"got input of shape {tuple(input.shape)}")
    if grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid of shape (N, H_out, W_out, 2) with "
                           f"N = {input.shape[0]} for 4D input, but got grid with shape "
                           f"{tuple(grid.shape)}")
    if not dtypes.is_floating(input.dtype) or grid.dtype != input.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same floating "
                           f"dtype, but input has {input.dtype} and grid has {grid.dtype}")
    corners = bool(align_corners)
    height, width = input.shape[2], input.shape[3]
    x = _source_coordinate(grid[..., 0], width, padding_mode, corners)  # (N, Ho, Wo)
    y = _source_coordinate(grid[..., 1], height, padding_mode, corners)
    if mode == "nearest":
        # round half to even, as PyTorch's nearbyint
        column, row = np.rint(x.data).astype(np.int64), np.rint(y.data).astype(np.int64)
        values = _corner_gather(input, [row], [column])[:, :, 0]
        inside = _inside(row, column, height, width).astype(input.dtype)
        return values * Tensor._from_op(inside[:, None])
    left, top = np.floor(x.data), np.floor(y.data)
    right_weight = x - left  # (N, Ho, Wo), differentiable in the grid
    bottom_weight = y - top
    left_weight, top_weight = 1 - right_weight, 1 - bottom_weight
    left, top = left.astype(np.int64), top.astype(np.int64)
    rows = [top, top, top + 1, top + 1]
    columns = [left, left + 1, left, left + 1]
    inside = np.stack([_inside(r, c, height, width) for r, c in zip(rows, columns)], axis=1)
    weights = _mv.stack([top_weight * left_weight, top_weight * right_weight,
                         bottom_weight * left_weight, bottom_weight * right_weight], 1)
    weights = weights * Tensor._from_op(inside.astype(input.dtype))  # (N, 4, Ho, Wo)
    values = _corner_gather(input, rows, columns)  # (N, C, 4, Ho, Wo)
    return (values * weights.unsqueeze(1)).sum(2)


def _base_coordinates(size: int, align_corners: bool) -> np.ndarray:
    """The normalized coordinates of `size` pixel centres in [-1, 1]."""
    if size <= 1:
        return np.zeros(max(size, 0))
    points = np.linspace(-1.0, 1.0, size)
    return points if align_corners else points * ((size - 1) / size)


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps theta (N, 2, 3) for an output of `size`
    (N, C, H, W) -> (N, H, W, 2) in grid_sample's (x, y) convention; (N, 3, 4) for
    (N, C, D, H, W) -> (N, D, H, W, 3).
    """
    _check_tensor("affine_grid", "theta", theta)
    if not dtypes.is_floating(theta.dtype):
        raise ValueError(f"Expected theta to have floating point type, but got "
                         f"{theta.dtype}")
    size = tuple(int(side) for side in size)
    corners = bool(align_corners)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{list(size)}. Got {list(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[1:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{list(size)}. Got {list(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    if min(spatial) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    if theta.shape[0] != size[0]:
        raise ValueError(f"Expected theta batch {size[0]} to match size[0], got "
                         f"{theta.shape[0]}")
    # the (x, y[, z], 1) coordinates of every output point, x along the last dim
    axes = [_base_coordinates(side, corners) for side in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")  # each spatial-shaped, outermost dim first
    base = np.stack(list(mesh[::-1]) + [np.ones(spatial)], axis=-1).reshape(-1, len(spatial) + 1)
    base = Tensor._from_op(base.astype(theta.dtype))
    grid = _mm.matmul(base, _mv.transpose(theta, 1, 2))  # (N, points, dims)
    return grid.reshape((size[0],) + tuple(spatial) + (len(spatial),))


TENSOR_METHODS: dict = {}
FUNCTIONAL = {
    "affine_grid": affine_grid,
    "grid_sample": grid_sample,
}
TOPLEVEL: dict = {}
