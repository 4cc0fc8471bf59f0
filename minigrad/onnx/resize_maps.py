"""ONNX Resize along one axis as the linear map minigrad's `interpolate` applies
(`GatherMap` for nearest, `MatrixMap` for linear and cubic), computed in float32 as
onnxruntime does.

Export compares these maps with the one an `AxisMap` op ran, to write a Resize node only
where onnxruntime gives the same numbers; import runs a Resize as these maps.
"""

from __future__ import annotations

import numpy as np

from ..ops.resample import GatherMap, MatrixMap

__all__ = ["CUBIC_A", "output_size", "resize_map", "same_map"]

CUBIC_A = -0.75  # PyTorch's bicubic coefficient (ONNX's default is -0.75 too)


def output_size(in_size: int, scale: float) -> int:
    """ONNX's output length for a float32 scale: floor(in * scale); -1 when float32 (as
    onnxruntime computes it) and float64 (as onnx's shape inference does) disagree."""
    single = int(np.floor(np.float32(in_size) * np.float32(scale)))
    double = int(np.floor(float(in_size) * float(np.float32(scale))))
    return single if single == double else -1


def _source(in_size: int, out_size: int, scale: float, transform: str) -> np.ndarray:
    """Source coordinate of each output position (float32, as onnxruntime)."""
    x = np.arange(out_size, dtype=np.float32)
    s = np.float32(scale)
    if transform == "asymmetric":
        return x / s
    if transform == "half_pixel":
        return (x + np.float32(0.5)) / s - np.float32(0.5)
    if transform == "pytorch_half_pixel":
        if out_size == 1:
            return np.zeros(1, dtype=np.float32)
        return (x + np.float32(0.5)) / s - np.float32(0.5)
    if transform == "align_corners":
        if out_size == 1:
            return np.zeros(1, dtype=np.float32)
        return x * np.float32((in_size - 1) / (out_size - 1))
    raise NotImplementedError(f"Resize coordinate_transformation_mode={transform}")


def _nearest(source: np.ndarray, nearest_mode: str) -> np.ndarray:
    if nearest_mode == "floor":
        return np.floor(source)
    if nearest_mode == "ceil":
        return np.ceil(source)
    if nearest_mode == "round_prefer_ceil":
        return np.floor(source + np.float32(0.5))
    if nearest_mode == "round_prefer_floor":
        return np.ceil(source - np.float32(0.5))
    raise NotImplementedError(f"Resize nearest_mode={nearest_mode}")


def _matrix(in_size: int, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    out_size = index.shape[0]
    matrix = np.zeros((out_size, in_size))
    rows = np.repeat(np.arange(out_size), index.shape[1])
    np.add.at(matrix, (rows, np.clip(index, 0, in_size - 1).ravel()), weights.ravel())
    return matrix


def _cubic_weights(t: np.ndarray, a: float) -> np.ndarray:
    def near(u: np.ndarray) -> np.ndarray:
        return ((a + 2) * u - (a + 3)) * u * u + 1

    def far(u: np.ndarray) -> np.ndarray:
        return ((a * u - 5 * a) * u + 8 * a) * u - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


def resize_map(mode: str, transform: str, nearest_mode: str, in_size: int, scale: float,
               out_size: int | None = None, cubic_a: float = CUBIC_A) -> GatherMap | MatrixMap:
    """The map ONNX Resize applies along an axis of length `in_size` with `scale`."""
    out_size = output_size(in_size, scale) if out_size is None else out_size
    source = _source(in_size, out_size, scale, transform).astype(np.float64)
    if mode == "nearest":
        index = np.clip(_nearest(source.astype(np.float32), nearest_mode), 0, in_size - 1)
        return GatherMap(index.astype(np.int64), in_size)
    if mode == "linear":
        source = np.clip(source, 0, in_size - 1)
        low = np.floor(source).astype(np.int64)
        frac = source - low
        index = np.stack([low, low + 1], axis=1)
        return MatrixMap(_matrix(in_size, index, np.stack([1 - frac, frac], axis=1)))
    if mode == "cubic":
        base = np.floor(source).astype(np.int64)
        index = base[:, None] + np.arange(-1, 3)
        return MatrixMap(_matrix(in_size, index, _cubic_weights(source - base, cubic_a)))
    raise NotImplementedError(f"Resize mode={mode}")


def same_map(a: GatherMap | MatrixMap, b: GatherMap | MatrixMap) -> bool:
    """Whether two axis maps give the same output (float32 tolerance for weights)."""
    if isinstance(a, GatherMap) and isinstance(b, GatherMap):
        return a.in_size == b.in_size and np.array_equal(a.index, b.index)
    if isinstance(a, MatrixMap) and isinstance(b, MatrixMap):
        return a.matrix.shape == b.matrix.shape and np.allclose(a.matrix, b.matrix, rtol=0,
                                                               atol=1e-6)
    return False
