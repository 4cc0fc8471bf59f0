"""Export of `interpolate`'s AxisMap ops: a Resize node along the op's axis when ONNX's
Resize (nearest, linear or cubic, with some coordinate transform and a float32 scale) gives
exactly the op's map; otherwise the map itself, a Gather of constant indices (nearest) or a
MatMul with a constant weight matrix (linear, cubic, area), which is exact for every mode.
"""

from __future__ import annotations

import numpy as np

from ..ops.resample import GatherMap, MatrixMap
from .builder import GraphBuilder
from .resize_maps import CUBIC_A, output_size, resize_map, same_map
from .trace import RecordedOp

__all__ = ["emit_axis_map"]

# the Resize settings tried, per kind of map: (mode, coordinate transform, nearest_mode)
_CANDIDATES = {
    GatherMap: [("nearest", "asymmetric", "floor"),  # mode="nearest"
                ("nearest", "half_pixel", "round_prefer_ceil")],  # mode="nearest-exact"
    MatrixMap: [("linear", "half_pixel", "floor"), ("linear", "align_corners", "floor"),
                ("cubic", "half_pixel", "floor"), ("cubic", "align_corners", "floor")],
}


def _scale_for(in_size: int, out_size: int) -> float | None:
    """A float32 scale whose ONNX output length is `out_size` (None if none is near)."""
    scale = np.float32(out_size / in_size)
    for _ in range(4):
        if output_size(in_size, scale) == out_size:
            return float(scale)
        scale = np.nextafter(scale, np.float32(np.inf))
    return None


def _resize_settings(op: RecordedOp) -> tuple[tuple[str, str, str], float] | None:
    map, axis = op.options["map"], op.options["axis"]
    in_size, out_size = op.inputs[0].shape[axis], op.output.shape[axis]
    scale = _scale_for(in_size, out_size)
    if scale is None:
        return None
    for mode, transform, nearest_mode in _CANDIDATES.get(type(map), []):
        candidate = resize_map(mode, transform, nearest_mode, in_size, scale, out_size)
        if same_map(candidate, map):
            return (mode, transform, nearest_mode), scale
    return None


def emit_axis_map(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    map, axis = op.options["map"], op.options["axis"] % op.inputs[0].ndim
    settings = _resize_settings(op)
    if settings is not None:
        (mode, transform, nearest_mode), scale = settings
        scales = np.ones(op.inputs[0].ndim, dtype=np.float32)
        scales[axis] = scale
        b.node("Resize", [ins[0], None, b.constant(scales, "scales")], out, mode=mode,
               coordinate_transformation_mode=transform, nearest_mode=nearest_mode,
               cubic_coeff_a=CUBIC_A)
    elif isinstance(map, GatherMap):
        b.node("Gather", [ins[0], b.ints(map.index, "indices")], out, axis=axis)
    else:
        _matmul_along(b, op, ins[0], map.matrix.astype(op.output.dtype), axis, out)


def _matmul_along(b: GraphBuilder, op: RecordedOp, x: str, matrix: np.ndarray, axis: int,
                  out: str) -> None:
    """matrix (out, in) applied along `axis` of x: x @ matrix^T on the last axis,
    matrix @ x on the one before, else between two Transposes."""
    ndim = op.inputs[0].ndim
    if axis == ndim - 1:
        b.node("MatMul", [x, b.constant(matrix.T, "resample_matrix")], out)
        return
    if axis == ndim - 2:
        b.node("MatMul", [b.constant(matrix, "resample_matrix"), x], out)
        return
    perm = [d for d in range(ndim) if d != axis] + [axis]
    moved = b.node("Transpose", [x], perm=perm)
    mapped = b.node("MatMul", [moved, b.constant(matrix.T, "resample_matrix")])
    back = [perm.index(d) for d in range(ndim)]
    b.node("Transpose", [mapped], out, perm=back)
