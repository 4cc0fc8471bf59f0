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


def _corner_gather(input: Tensor, corners: list[list[np.ndarray]]) -> Tensor:
    """input (N, C, *spatial) at K corner positions, each a list of per-dim integer indices
    (N, *out), outermost dim first; invalid ones read position 0: -> (N, C, K, *out)."""
    batch, channels, *spatial = input.shape
    out_shape = corners[0][0].shape[1:]
    flat = []
    for corner in corners:
        position = np.zeros(corner[0].shape, dtype=np.int64)
        for index, size in zip(corner, spatial):
            position = position * size + np.clip(index, 0, size - 1)
        flat.append(position)
    flat_index = np.stack(flat, axis=1).reshape(batch, -1)  # (N, K * out)
    values = PointGather.apply(input.reshape(batch, channels, -1), index=flat_index)
    return values.reshape((batch, channels, len(corners)) + tuple(out_shape))


def _inside(corner: list[np.ndarray], spatial: tuple[int, ...]) -> np.ndarray:
    inside = np.ones(corner[0].shape, dtype=bool)
    for index, size in zip(corner, spatial):
        inside &= (index >= 0) & (index < size)
    return inside


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample input (N, C, H, W) at grid (N, Ho, Wo, 2) points given as (x, y) in [-1, 1]
    (or (N, C, D, H, W) at (N, Do, Ho, Wo, 3) points (x, y, z); "bilinear" is then
    trilinear, as in PyTorch).

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
    if input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same "
                           f"number of dimensions, but got input with sizes "
                           f"{list(input.shape)} and grid with sizes {list(grid.shape)}")
    dims = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != dims or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid of shape (N, *out, {dims}) with "
                           f"N = {input.shape[0]} for {input.ndim}D input, but got grid with "
                           f"shape {tuple(grid.shape)}")
    if not dtypes.is_floating(input.dtype) or grid.dtype != input.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same floating "
                           f"dtype, but input has {input.dtype} and grid has {grid.dtype}")
    corners = bool(align_corners)
    spatial = tuple(input.shape[2:])
    # the grid's last dim is (x, y[, z]): x runs along the last spatial dim
    coordinates = [_source_coordinate(grid[..., dims - 1 - axis], size, padding_mode, corners)
                   for axis, size in enumerate(spatial)]  # outermost dim first, (N, *out)
    if mode == "nearest":
        # round half to even, as PyTorch's nearbyint
        corner = [np.rint(c.data).astype(np.int64) for c in coordinates]
        values = _corner_gather(input, [corner])[:, :, 0]
        inside = _inside(corner, spatial).astype(input.dtype)
        return values * Tensor._from_op(inside[:, None])
    lows = [np.floor(c.data) for c in coordinates]
    highs_weight = [c - low for c, low in zip(coordinates, lows)]  # differentiable in grid
    lows = [low.astype(np.int64) for low in lows]
    corner_list, weight_list = [], []
    for bits in np.ndindex(*(2,) * dims):  # 4 or 8 corners
        corner_list.append([low + bit for low, bit in zip(lows, bits)])
        weight = None
        for high_weight, bit in zip(highs_weight, bits):
            factor = high_weight if bit else 1 - high_weight
            weight = factor if weight is None else weight * factor
        weight_list.append(weight)
    inside = np.stack([_inside(corner, spatial) for corner in corner_list], axis=1)
    weights = _mv.stack(weight_list, 1) * Tensor._from_op(inside.astype(input.dtype))
    values = _corner_gather(input, corner_list)  # (N, C, K, *out)
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
