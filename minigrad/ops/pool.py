"""Pooling over NCHW images: max, average and adaptive pooling, with their backward pairs.

Every op works per kernel offset, never per pixel (see `_windows`): pooling reduces over the
kH * kW strided views of the input and backward sends gradients back through the same views.
Each backward is an op of its own whose backward leads back, so gradients of gradients work:

    max_pool2d              scatter of grad by the saved winners  <->  gather by the same
    avg_pool2d              spread of grad / divisor (adjoint)    <->  window mean again
    adaptive_max_pool2d     scatter-add by saved flat indices     <->  gather by the same
    adaptive_avg_pool2d     matrix products with constant 0/1 window matrices (matmul)

All ops also take an unbatched (C, H, W) input, as PyTorch does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._windows import (
    PoolGeometry,
    as_batch,
    offset_view,
    pad_hw,
    pair,
    pool_geometry,
)
from .kernels import get_kernels, kernel_for, set_kernels

__all__ = ["adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d"]

IntPair = int | tuple[int, int]


def _check_tensor(where: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: {name} must be a Tensor, got {type(value).__name__}")


def _constant(array: np.ndarray) -> Tensor:
    """Indices as a tensor input of a recorded op (no gradient; released with the op)."""
    return Tensor._from_op(array)


# ---- pooling: shared argument checks ----------------------------------------------------
def _check_pool_input(where: str, input: Any) -> None:
    _check_tensor(where, "input", input)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{where}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                           f"got input of shape {input.shape}")
    if 0 in input.shape[-3:]:
        raise RuntimeError(f"{where}: expected non-zero channel and spatial sizes, got input "
                           f"of shape {input.shape}")
    if input.dtype.kind == "b":
        raise NotImplementedError(f"{where}: not implemented for bool input")


def _pool_arguments(where: str, input: Any, kernel_size: Any, stride: Any, padding: Any,
                    dilation: Any, ceil_mode: bool) -> PoolGeometry:
    """Validate a pooling call and return where its windows sit."""
    _check_pool_input(where, input)
    kernel = pair(where, "kernel_size", kernel_size)
    stride = kernel if stride is None or stride == [] or stride == () else pair(
        where, "stride", stride)
    padding = pair(where, "padding", padding)
    dilation = pair(where, "dilation", dilation)
    if min(kernel) <= 0:
        raise RuntimeError(f"{where}: kernel_size must be positive, got kernel_size={kernel}")
    if min(stride) <= 0:
        raise RuntimeError(f"{where}: stride must be positive, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{where}: dilation must be positive, got dilation={dilation}")
    if min(padding) < 0:
        raise RuntimeError(f"{where}: padding must be non-negative, got padding={padding}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise RuntimeError(f"{where}: pad should be at most half of effective kernel size, "
                           f"but got padding={padding}, kernel_size={kernel} and "
                           f"dilation={dilation}")
    geometry = pool_geometry(input.shape[-2:], kernel, stride, padding, dilation,
                             bool(ceil_mode))
    if min(geometry.out_size) < 1:
        channels = input.shape[-3]
        raise RuntimeError(f"{where}: Given input size {(channels, *input.shape[-2:])}, "
                           f"calculated output size {(channels, *geometry.out_size)} is too "
                           f"small")
    return geometry


def _geometry_of(batch: np.ndarray, options: dict) -> PoolGeometry:
    return pool_geometry(batch.shape[-2:], options["kernel_size"], options["stride"],
                         options["padding"], options.get("dilation", (1, 1)),
                         options["ceil_mode"])


def _pad_for(geometry: PoolGeometry) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding the window views of `geometry` read."""
    return (geometry.pad_before[0], geometry.pad_after[0],
            geometry.pad_before[1], geometry.pad_after[1])


def _offsets(geometry: PoolGeometry) -> list[tuple[int, int, int]]:
    """(k, i, j) for every kernel offset, k = i * kW + j, in row-major order."""
    kernel_w = geometry.kernel[1]
    return [(k, *divmod(k, kernel_w)) for k in range(geometry.kernel[0] * kernel_w)]


# ---- max_pool2d -------------------------------------------------------------------------
def _lowest(dtype: np.dtype) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _first_valid_offsets(geometry: PoolGeometry) -> np.ndarray:
    """(Ho, Wo) kernel offset of each window's first pixel inside the input (not padding)."""
    firsts = []
    for out, stride, pad, dilation in zip(geometry.out_size, geometry.stride,
                                          geometry.pad_before, geometry.dilation):
        starts = np.arange(out) * stride - pad
        firsts.append(np.maximum(-(starts // dilation), 0))
    return firsts[0][:, None] * geometry.kernel[1] + firsts[1][None, :]


def _window_max(batch: np.ndarray, geometry: PoolGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Max of each window and the kernel offset holding it, for a (N, C, H, W) batch.

    Ties go to the first maximum in row-major window order and a NaN always wins (the last
    NaN), as PyTorch's CPU kernel scans. Padding never wins: windows whose pixels are all
    -inf point at their first pixel inside the input.
    """
    lowest = _lowest(batch.dtype)
    padded = pad_hw(batch, *_pad_for(geometry), value=lowest)
    offsets = _offsets(geometry)
    offset_type = np.uint8 if len(offsets) <= 256 else np.int32
    out_shape = batch.shape[:2] + geometry.out_size
    views = [offset_view(padded, i, j, geometry.out_size, geometry.stride, geometry.dilation)
             for _, i, j in offsets]
    if geometry.needs_padding:
        best = np.full(out_shape, lowest, dtype=batch.dtype)
        arg = np.empty(out_shape, dtype=offset_type)
        arg[...] = _first_valid_offsets(geometry)
        start = 0
    else:
        best = views[0].copy()
        arg = np.zeros(out_shape, dtype=offset_type)
        start = 1
    take = np.empty(out_shape, dtype=bool)
    for k in range(start, len(offsets)):
        np.greater(views[k], best, out=take)
        np.maximum(best, views[k], out=best)  # keeps NaN, like the scan below
        np.copyto(arg, offset_type(k), where=take)
    if batch.dtype.kind == "f" and np.isnan(best).any():
        # `>` never picks a NaN: rescan with PyTorch's rule, a NaN replaces the max
        arg[...] = 0 if start else _first_valid_offsets(geometry)
        best[...] = views[0] if start else lowest
        for k in range(start, len(offsets)):
            np.greater(views[k], best, out=take)
            take |= np.isnan(views[k])
            np.copyto(best, views[k], where=take)
            np.copyto(arg, offset_type(k), where=take)
    return best, arg


def _is_pairwise(geometry: PoolGeometry) -> bool:
    """2x2 windows at stride 2 with no padding or dilation (a trailing odd row or column is
    simply never read): the common CNN pool, see `_pairwise_max`."""
    return (geometry.kernel == (2, 2) and geometry.stride == (2, 2)
            and geometry.dilation == (1, 1) and not geometry.needs_padding)


def _pairwise_max(batch: np.ndarray, geometry: PoolGeometry) -> tuple[np.ndarray, np.ndarray]:
    """`_window_max` for `_is_pairwise` geometry in two halving steps instead of four offsets.

    First the max of each horizontal pair (the right pixel only if strictly greater), then of
    each vertical pair of those (the bottom row only if strictly greater): the first maximum
    in row-major window order, as `_window_max`. NaN falls back to `_window_max`.
    """
    out_h, out_w = geometry.out_size
    inside = batch[:, :, :2 * out_h, :2 * out_w]
    left, right = inside[..., 0::2], inside[..., 1::2]  # (N, C, 2 Ho, Wo)
    right_wins = np.greater(right, left).view(np.uint8)
    row_max = np.maximum(left, right)
    top, bottom = row_max[:, :, 0::2], row_max[:, :, 1::2]  # (N, C, Ho, Wo)
    bottom_wins = np.greater(bottom, top)
    best = np.maximum(top, bottom)
    if batch.dtype.kind == "f" and np.isnan(best).any():
        return _window_max(batch, geometry)
    # offset k = 2 * row + column within the 2x2 window
    arg = np.where(bottom_wins, right_wins[:, :, 1::2] + np.uint8(2), right_wins[:, :, 0::2])
    return best, arg


class MaxPool2d(Function):
    """Max over each window; the gradient goes to the pixel that won (first max on ties):
    a scatter of grad by the saved winners (`max_pool2d_scatter`)."""

    def forward(self, x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dilation: tuple[int, int],
                ceil_mode: bool) -> np.ndarray:
        batch = as_batch(x)
        self.geometry = _geometry_of(batch, self.options)
        window_max = _pairwise_max if _is_pairwise(self.geometry) else _window_max
        values, self.arg = window_max(batch, self.geometry)
        self.input_shape = x.shape
        return values[0] if x.ndim == 3 else values

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.max_pool2d_scatter(grad, self.arg, self.geometry, self.input_shape)


def max_pool2d_scatter_array(grad: np.ndarray, arg: np.ndarray, geometry: PoolGeometry,
                             input_shape: tuple[int, ...]) -> np.ndarray:
    """Send each window's gradient (N, C, Ho, Wo) to its winner, `arg` the winning kernel
    offset per window: (N, C, H, W) of `input_shape`, one strided add per kernel offset."""
    batch_grad = as_batch(grad)
    top, bottom, left, right = _pad_for(geometry)
    height, width = geometry.in_size
    # grad * mask is fastest, but inf * 0 would put NaN on pixels that did not win
    finite = np.isfinite(batch_grad).all()
    # windows that tile the input write every pixel once below: no need to zero first
    allocate = np.empty if finite and geometry.tiles else np.zeros
    padded_grad = allocate(batch_grad.shape[:2] + (height + top + bottom, width + left + right),
                           dtype=grad.dtype)
    zero = np.zeros((), dtype=grad.dtype)
    for k, i, j in _offsets(geometry):
        view = offset_view(padded_grad, i, j, geometry.out_size, geometry.stride,
                           geometry.dilation)
        won = arg == k
        if finite and geometry.disjoint:  # each pixel is seen by one window, once
            np.multiply(batch_grad, won, out=view)
        else:
            view += np.multiply(batch_grad, won) if finite else np.where(won, batch_grad, zero)
    grad_input = padded_grad[:, :, top:top + height, left:left + width]
    return grad_input.reshape(input_shape)


class MaxPool2dScatter(Function):
    """max_pool2d's backward as an op: grad (N, C, Ho, Wo) scattered to the winners, with
    `arg` (the winning kernel offsets) a constant input. Backward: gather by the same
    winners."""

    def forward(self, grad: np.ndarray, arg: np.ndarray, geometry: PoolGeometry,
                input_shape: tuple[int, ...]) -> np.ndarray:
        self.arg = arg
        return max_pool2d_scatter_array(grad, arg, geometry, input_shape)

    def backward(self, xp: Any, grad: Any) -> tuple:
        index = _flat_indices(self.arg, self.options["geometry"])
        return xp.plane_gather(grad, index), None


def _max_pool2d_scatter_graph(grad: Any, arg: np.ndarray, geometry: PoolGeometry,
                              input_shape: tuple[int, ...]) -> Tensor:
    return MaxPool2dScatter.apply(grad, _constant(arg), geometry=geometry,
                                  input_shape=tuple(input_shape))


def _flat_indices(arg: np.ndarray, geometry: PoolGeometry) -> np.ndarray:
    """PyTorch's max-pool indices: row * W + column of each winner in its input plane."""
    kernel_w = geometry.kernel[1]
    rows = (np.arange(geometry.out_size[0]) * geometry.stride[0] - geometry.pad_before[0])
    cols = (np.arange(geometry.out_size[1]) * geometry.stride[1] - geometry.pad_before[1])
    offset_rows = (arg // kernel_w).astype(np.int64) * geometry.dilation[0]
    offset_cols = (arg % kernel_w).astype(np.int64) * geometry.dilation[1]
    return (rows[:, None] + offset_rows) * geometry.in_size[1] + cols[None, :] + offset_cols


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0, dilation: IntPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over sliding windows, as `torch.nn.functional.max_pool2d`.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), with
    H_out = floor((H + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1 (ceil in
    ceil_mode, dropping a last window that would start in the right padding).
    stride defaults to kernel_size; padding (at most kernel_size // 2) counts as -inf.
    return_indices: also return int64 indices row * W + col of each max in its input plane.
    """
    geometry = _pool_arguments("max_pool2d", input, kernel_size, stride, padding, dilation,
                               ceil_mode)
    op_class = kernel_for("max_pool2d", MaxPool2d)  # or the reference loops
    output = op_class.apply(input, kernel_size=geometry.kernel, stride=geometry.stride,
                            padding=geometry.pad_before, dilation=geometry.dilation,
                            ceil_mode=bool(ceil_mode))
    if not return_indices:
        return output
    _, arg = _window_max(as_batch(input.data), geometry)  # recomputed: indices need no grad
    indices = _flat_indices(arg, geometry).reshape(output.shape)
    return output, Tensor._from_op(indices)


# ---- avg_pool2d -------------------------------------------------------------------------
def _avg_divisor(geometry: PoolGeometry, count_include_pad: bool,
                 divisor_override: int | None) -> np.ndarray:
    """(Ho, Wo) divisor of each window, by PyTorch's rules.

    With count_include_pad the window is clipped to the padded input only (a ceil_mode
    overhang is never counted); without it, to the input itself.
    """
    if divisor_override is not None:
        return np.full(geometry.out_size, divisor_override, dtype=np.int64)
    lengths = []
    for size, out, kernel, stride, pad in zip(geometry.in_size, geometry.out_size,
                                              geometry.kernel, geometry.stride,
                                              geometry.pad_before):
        starts = np.arange(out) * stride - pad
        ends = np.minimum(starts + kernel, size + pad)
        if not count_include_pad:
            starts = np.maximum(starts, 0)
            ends = np.minimum(ends, size)
        lengths.append(ends - starts)
    return lengths[0][:, None] * lengths[1][None, :]


def _truncating_divide(total: np.ndarray, divisor: np.ndarray) -> np.ndarray:
    """Integer division rounding toward zero, as C++ (and PyTorch's integer avg_pool)."""
    quotient = np.abs(total) // np.abs(divisor)
    return np.where((total < 0) != (divisor < 0), -quotient, quotient)


def _window_sum(batch: np.ndarray, geometry: PoolGeometry, total_type: Any) -> np.ndarray:
    """The sum over each window (N, C, Ho, Wo) of a zero-padded batch, in `total_type`."""
    padded = pad_hw(batch, *_pad_for(geometry))
    total = None
    for _, i, j in _offsets(geometry):
        view = offset_view(padded, i, j, geometry.out_size, geometry.stride, (1, 1))
        if total is None:
            total = view.astype(total_type, copy=True)
        else:
            total += view
    return total


class AvgPool2d(Function):
    """Mean over each window with PyTorch's divisor; backward spreads grad / divisor back
    (`avg_pool2d_adjoint`)."""

    def forward(self, x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], ceil_mode: bool, count_include_pad: bool,
                divisor_override: int | None) -> np.ndarray:
        batch = as_batch(x)
        geometry = _geometry_of(batch, self.options)
        total = _window_sum(batch, geometry, x.dtype if x.dtype.kind == "f" else np.int64)
        divisor = _avg_divisor(geometry, count_include_pad, divisor_override)
        if x.dtype.kind == "f":
            self.divisor = divisor.astype(x.dtype)
            out = np.divide(total, self.divisor, out=total)
        else:
            out = _truncating_divide(total, divisor).astype(x.dtype)
        self.geometry = geometry
        self.input_shape = x.shape
        return out[0] if x.ndim == 3 else out

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.avg_pool2d_adjoint(grad, self.geometry, self.divisor, self.input_shape)


def avg_pool2d_windows_array(x: np.ndarray, geometry: PoolGeometry,
                             divisor: np.ndarray) -> np.ndarray:
    """Floating window means: the sum over each window / divisor (Ho, Wo), (N, C, Ho, Wo)."""
    total = _window_sum(as_batch(x), geometry, x.dtype)
    out = np.divide(total, divisor, out=total)
    return out[0] if x.ndim == 3 else out


def avg_pool2d_adjoint_array(grad: np.ndarray, geometry: PoolGeometry, divisor: np.ndarray,
                             input_shape: tuple[int, ...]) -> np.ndarray:
    """The adjoint of the window means: grad / divisor (N, C, Ho, Wo) added to every pixel
    of its window, (N, C, H, W) of `input_shape`."""
    share = as_batch(grad) / divisor  # (N, C, Ho, Wo)
    count, channels, out_h, out_w = share.shape
    kernel_h, kernel_w = geometry.kernel
    if geometry.tiles:  # every pixel is in exactly one window: broadcast, one copy
        tiled = np.broadcast_to(share[:, :, :, None, :, None],
                                (count, channels, out_h, kernel_h, out_w, kernel_w))
        return tiled.reshape(input_shape)
    top, bottom, left, right = _pad_for(geometry)
    height, width = geometry.in_size
    padded_grad = np.zeros((count, channels, height + top + bottom, width + left + right),
                           dtype=grad.dtype)
    for _, i, j in _offsets(geometry):
        view = offset_view(padded_grad, i, j, geometry.out_size, geometry.stride, (1, 1))
        view += share
    grad_input = padded_grad[:, :, top:top + height, left:left + width]
    return grad_input.reshape(input_shape)


class AvgPool2dWindows(Function):
    """Floating window means with a given geometry and divisor (the backward of the
    adjoint). Backward: the adjoint."""

    def forward(self, x: np.ndarray, geometry: PoolGeometry, divisor: np.ndarray) -> np.ndarray:
        self.input_shape = x.shape
        return avg_pool2d_windows_array(x, geometry, divisor)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.avg_pool2d_adjoint(grad, self.options["geometry"], self.options["divisor"],
                                     self.input_shape)


class AvgPool2dAdjoint(Function):
    """avg_pool2d's backward as an op: grad / divisor spread over each window. Backward:
    the window means again."""

    def forward(self, grad: np.ndarray, geometry: PoolGeometry, divisor: np.ndarray,
                input_shape: tuple[int, ...]) -> np.ndarray:
        return avg_pool2d_adjoint_array(grad, geometry, divisor, input_shape)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.avg_pool2d_windows(grad, self.options["geometry"], self.options["divisor"])


def _avg_pool2d_windows_graph(x: Any, geometry: PoolGeometry, divisor: np.ndarray) -> Tensor:
    return AvgPool2dWindows.apply(x, geometry=geometry, divisor=divisor)


def _avg_pool2d_adjoint_graph(grad: Any, geometry: PoolGeometry, divisor: np.ndarray,
                              input_shape: tuple[int, ...]) -> Tensor:
    return AvgPool2dAdjoint.apply(grad, geometry=geometry, divisor=divisor,
                                  input_shape=tuple(input_shape))


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over sliding windows, as `torch.nn.functional.avg_pool2d`.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), with
    H_out = floor((H + 2 * padding - kernel) / stride) + 1 (ceil in ceil_mode, dropping a
    last window that would start in the right padding). Zero padding (at most
    kernel_size // 2); the divisor is divisor_override if given, else the window size
    clipped to the padded input (count_include_pad=True) or to the input (False). Integer
    inputs divide rounding toward zero.
    """
    geometry = _pool_arguments("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or isinstance(
                divisor_override, bool):
            raise TypeError(f"avg_pool2d: divisor_override must be an int, got "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError("avg_pool2d: divisor_override must be non-zero, got 0")
        divisor_override = int(divisor_override)
    op_class = kernel_for("avg_pool2d", AvgPool2d)  # or the reference loops
    return op_class.apply(input, kernel_size=geometry.kernel, stride=geometry.stride,
                          padding=geometry.pad_before, ceil_mode=bool(ceil_mode),
                          count_include_pad=bool(count_include_pad),
                          divisor_override=divisor_override)


# ---- adaptive pooling -------------------------------------------------------------------
def _adaptive_bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows: start = floor(i * size / out), end = ceil((i+1) * size / out)."""
    index = np.arange(out)
    return (index * size) // out, -((-(index + 1) * size) // out)


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) 0/1 matrix: row i marks the pixels of window i."""
    starts, ends = _adaptive_bounds(size, out)
    pixels = np.arange(size)
    return ((pixels >= starts[:, None]) & (pixels < ends[:, None])).astype(dtype)


def _adaptive_output_size(where: str, input: Tensor, output_size: Any) -> tuple[int, int]:
    _check_tensor(where, "input", input)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{where}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                           f"got input of shape {input.shape}")
    if 0 in input.shape[-3:]:
        raise RuntimeError(f"{where}: expected non-zero channel and spatial sizes, got input "
                           f"of shape {input.shape}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{where}: not implemented for dtype {input.dtype}")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"{where}: output_size must be an int or a pair, got "
                             f"{output_size!r}")
        sizes = tuple(input.shape[-2 + axis] if value is None else value
                      for axis, value in enumerate(output_size))
    else:
        sizes = (output_size, output_size)
    sizes = pair(where, "output_size", sizes)
    if min(sizes) < 0:
        raise RuntimeError(f"{where}: output_size must be non-negative, got {sizes}")
    return sizes


class AdaptiveAvgPool2d(Function):
    """Average over PyTorch's adaptive windows as matrix products: the windows are 0/1
    matrices rows (Ho, H) and cols (Wo, W), and out = rows @ x @ cols^T / counts. A 1x1
    output (global average pooling) is a plain mean over each plane."""

    def forward(self, x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
        height, width = x.shape[-2:]
        self.input_shape = x.shape
        if output_size == (1, 1):
            self.counts = np.asarray(height * width, dtype=x.dtype)
            return x.sum(axis=(-2, -1), keepdims=True) / self.counts
        rows = _adaptive_matrix(height, output_size[0], x.dtype)
        self.cols = _adaptive_matrix(width, output_size[1], x.dtype)
        self.rows_t = rows.T
        self.counts = rows.sum(axis=1)[:, None] * self.cols.sum(axis=1)[None, :]
        return np.matmul(rows, np.matmul(x, self.cols.T)) / self.counts

    def backward(self, xp: Any, grad: Any) -> Any:
        share = grad / self.counts
        if self.options["output_size"] == (1, 1):
            return xp.broadcast_to(share, self.input_shape)
        # the windows are constants: the second derivative flows through matmul alone
        return xp.matmul(self.rows_t, xp.matmul(share, self.cols))


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple) -> Tensor:
    """Average pooling to a fixed output size, as `torch.nn.functional.adaptive_avg_pool2d`.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); output_size is an int or a
    pair whose None entries keep the input size. Output row i averages input rows
    floor(i * H / H_out) to ceil((i + 1) * H / H_out) - 1 (windows may overlap).
    """
    sizes = _adaptive_output_size("adaptive_avg_pool2d", input, output_size)
    return AdaptiveAvgPool2d.apply(input, output_size=sizes)


def _adaptive_max(batch: np.ndarray, out_size: tuple[int, int]) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Max of each adaptive window and its flat index row * W + col in the input plane.

    Scans offsets (i, j) up to the longest window; shorter windows repeat their last pixel,
    which never changes a max. Same tie and NaN rules as `_window_max`.
    """
    height, width = batch.shape[-2:]
    row_starts, row_ends = _adaptive_bounds(height, out_size[0])
    col_starts, col_ends = _adaptive_bounds(width, out_size[1])
    out_shape = batch.shape[:2] + tuple(out_size)
    best = np.full(out_shape, -np.inf, dtype=batch.dtype)
    arg = np.empty(out_shape, dtype=np.int64)
    arg[...] = row_starts[:, None] * width + col_starts[None, :]
    take = np.empty(out_shape, dtype=bool)
    longest_row = int((row_ends - row_starts).max(initial=0))
    longest_col = int((col_ends - col_starts).max(initial=0))
    for i in range(longest_row):
        rows = np.minimum(row_starts + i, row_ends - 1)[:, None]
        for j in range(longest_col):
            cols = np.minimum(col_starts + j, col_ends - 1)[None, :]
            view = batch[:, :, rows, cols]  # (N, C, Ho, Wo), gathered
            np.greater(view, best, out=take)
            take |= np.isnan(view)
            np.copyto(best, view, where=take)
            np.copyto(arg, rows * width + cols, where=take)
    return best, arg


class AdaptiveMaxPool2d(Function):
    """Max over PyTorch's adaptive windows; the gradient goes to each window's winner: a
    scatter-add by the saved flat indices (`plane_scatter_add`)."""

    def forward(self, x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
        batch = as_batch(x)
        values, self.arg = _adaptive_max(batch, output_size)
        self.input_shape = x.shape
        return values[0] if x.ndim == 3 else values

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.plane_scatter_add(grad, self.arg, self.input_shape)


def plane_scatter_add_array(grad: np.ndarray, index: np.ndarray,
                            input_shape: tuple[int, ...]) -> np.ndarray:
    """Add grad (N, C, Ho, Wo) into zeros of `input_shape` (N, C, H, W) at the flat in-plane
    positions `index` (N, C, Ho, Wo), row * W + col; a position may be hit several times."""
    batch_grad = as_batch(grad)
    count, channels = batch_grad.shape[:2]
    planes = count * channels
    height, width = input_shape[-2:]
    grad_input = np.zeros((planes, height * width), dtype=grad.dtype)
    # windows overlap, so one pixel may win several: accumulate, don't assign
    np.add.at(grad_input, (np.arange(planes)[:, None], index.reshape(planes, -1)),
              batch_grad.reshape(planes, -1))
    return grad_input.reshape(input_shape)


def plane_gather_array(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """x (N, C, H, W) read at the flat in-plane positions `index` (N, C, Ho, Wo): the
    adjoint of `plane_scatter_add_array`. An unbatched (C, H, W) x gives (C, Ho, Wo)."""
    shape = x.shape[:-2] + index.shape[-2:]
    planes = x.reshape(*x.shape[:-2], -1)
    flat = index.reshape(*x.shape[:-2], -1)
    return np.take_along_axis(planes, flat, axis=-1).reshape(shape)


class PlaneScatterAdd(Function):
    """Adaptive max-pool's backward as an op: grad scatter-added by constant flat indices.
    Backward: a gather by the same indices."""

    def forward(self, grad: np.ndarray, index: np.ndarray,
                input_shape: tuple[int, ...]) -> np.ndarray:
        self.index = index
        return plane_scatter_add_array(grad, index, input_shape)

    def backward(self, xp: Any, grad: Any) -> tuple:
        return xp.plane_gather(grad, self.index), None


class PlaneGather(Function):
    """x read at constant flat in-plane indices. Backward: a scatter-add by the same."""

    def forward(self, x: np.ndarray, index: np.ndarray) -> np.ndarray:
        self.index = index
        self.input_shape = x.shape
        return plane_gather_array(x, index)

    def backward(self, xp: Any, grad: Any) -> tuple:
        return xp.plane_scatter_add(grad, self.index, self.input_shape), None


def _plane_scatter_add_graph(grad: Any, index: np.ndarray,
                             input_shape: tuple[int, ...]) -> Tensor:
    return PlaneScatterAdd.apply(grad, _constant(index), input_shape=tuple(input_shape))


def _plane_gather_graph(x: Any, index: np.ndarray) -> Tensor:
    return PlaneGather.apply(x, _constant(index))


def adaptive_max_pool2d(input: Tensor, output_size: int | tuple,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling to a fixed output size, as `torch.nn.functional.adaptive_max_pool2d`.

    Shape and windows as `adaptive_avg_pool2d`; ties go to the first max in row-major order.
    return_indices: also return int64 indices row * W + col of each max in its input plane.
    """
    sizes = _adaptive_output_size("adaptive_max_pool2d", input, output_size)
    output = AdaptiveMaxPool2d.apply(input, output_size=sizes)
    if not return_indices:
        return output
    _, arg = _adaptive_max(as_batch(input.data), sizes)
    return output, Tensor._from_op(arg.reshape(output.shape))


NUMPY_XP = {
    "max_pool2d_scatter": max_pool2d_scatter_array,
    "avg_pool2d_windows": avg_pool2d_windows_array,
    "avg_pool2d_adjoint": avg_pool2d_adjoint_array,
    "plane_scatter_add": plane_scatter_add_array,
    "plane_gather": plane_gather_array,
}
GRAPH_XP = {
    "max_pool2d_scatter": _max_pool2d_scatter_graph,
    "avg_pool2d_windows": _avg_pool2d_windows_graph,
    "avg_pool2d_adjoint": _avg_pool2d_adjoint_graph,
    "plane_scatter_add": _plane_scatter_add_graph,
    "plane_gather": _plane_gather_graph,
}

TENSOR_METHODS: dict = {}
FUNCTIONAL = {
    "max_pool2d": max_pool2d,
    "avg_pool2d": avg_pool2d,
    "adaptive_avg_pool2d": adaptive_avg_pool2d,
    "adaptive_max_pool2d": adaptive_max_pool2d,
}
TOPLEVEL = {"set_kernels": set_kernels, "get_kernels": get_kernels}
