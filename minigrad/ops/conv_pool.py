"""Convolution and pooling over NCHW images: conv2d, max/avg pooling, adaptive pooling.

Every op works per kernel offset, never per pixel (see `_windows`): conv copies the windows
into a column matrix and does one GEMM; pooling reduces over the kH * kW strided views of the
input; each backward sends gradients back through the same views. All ops also take an
unbatched (C, H, W) input, as PyTorch does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._windows import (
    PoolGeometry,
    as_batch,
    columns_to_image,
    conv_windows,
    conv_windows_by_columns,
    copy_windows_by_planes,
    offset_view,
    pad_hw,
    pair,
    pool_geometry,
    row_transposed_conv,
    wide_columns_to_image,
    widen_rows,
)
from .kernels import get_kernels, kernel_for, set_kernels

__all__ = ["adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "conv2d", "max_pool2d"]

IntPair = int | tuple[int, int]


# ---- conv2d ---------------------------------------------------------------------------
class Conv2d(Function):
    """Cross-correlation of (N, C, H, W) with weight (O, C // G, kH, kW) as one batched GEMM.

    Columns (N, G, K, L) hold every window, K = kH * kW * C/G ordered (offset, channel) and
    L = Ho * Wo; the output is weight (G, O/G, K) @ columns. A bias rides along as one more
    weight column against a row of ones, so the GEMM adds it and the weight-gradient GEMM
    sums its gradient. Backward: the weight gradient is columns @ grad^T summed over the
    batch; the input gradient is the transposed convolution: weight^T @ grad gives column
    gradients, added back into the padded input one kernel offset at a time.
    """

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                stride: tuple[int, int], padding: tuple[int, int, int, int],
                dilation: tuple[int, int], groups: int) -> np.ndarray:
        batch = as_batch(x)
        out_channels, per_group, kernel_h, kernel_w = weight.shape
        self.weight_shape = weight.shape
        self.input_shape = batch.shape
        self.unbatched = x.ndim == 3
        self.with_bias = bias is not None
        columns = self._columns(batch)
        # (G, O/G, K [+ 1]), K ordered like the columns: (kH, kW, C/G), then the bias
        kernel = weight.reshape(groups, out_channels // groups, per_group, kernel_h, kernel_w)
        kernel = kernel.transpose(0, 1, 3, 4, 2).reshape(groups, out_channels // groups, -1)
        if self.with_bias:
            kernel = np.concatenate([kernel, bias.reshape(groups, -1, 1)], axis=2)
        out = np.matmul(kernel, columns).reshape(batch.shape[0], out_channels, *self.out_size)
        if self.needs_input_grad[1]:
            self.columns = columns
            self.batch = batch  # to rebuild the columns if backward runs twice
            # a column matrix of our own can hold the column gradient later (saves memory)
            # (not when the columns are a read-only view, as for some 1x1 kernels)
            self.columns_are_scratch = (columns.flags.writeable
                                        and not np.may_share_memory(columns, x))
        if self.needs_input_grad[0]:
            self.kernel = kernel
        return out[0] if self.unbatched else out

    def _columns(self, batch: np.ndarray) -> np.ndarray:
        """The (N, G, K [+ 1], L) column matrix: every window of the padded batch, copied
        once, then a row of ones for the bias."""
        count, _, height, width = batch.shape
        _, per_group, kernel_h, kernel_w = self.weight_shape
        stride, dilation = self.options["stride"], self.options["dilation"]
        groups = self.options["groups"]
        top, bottom, left, right = self.options["padding"]
        self.out_size = (
            (height + top + bottom - dilation[0] * (kernel_h - 1) - 1) // stride[0] + 1,
            (width + left + right - dilation[1] * (kernel_w - 1) - 1) // stride[1] + 1)
        rows = kernel_h * kernel_w * per_group
        length = self.out_size[0] * self.out_size[1]
        if stride == (1, 1) and self.out_size[1] == width and kernel_w > 1:
            columns = np.empty((count, groups, rows + self.with_bias, length),
                               dtype=batch.dtype)
            # output rows as wide as input rows: whole shifted planes (see the helper)
            target = columns[:, :, :rows].reshape(count, groups, kernel_h, kernel_w, per_group,
                                                  *self.out_size)
            copy_windows_by_planes(batch, target, (top, bottom, left, right), dilation)
            if self.with_bias:
                columns[:, :, rows] = 1
            return columns
        padded = pad_hw(batch, top, bottom, left, right)
        # row stride 1: build from column-offset copies, long runs (see the helper)
        find_windows = conv_windows_by_columns if stride[0] == 1 and kernel_w > 1 else (
            conv_windows)
        windows = find_windows(padded, groups, (kernel_h, kernel_w), self.out_size, stride,
                               dilation)
        if not self.with_bias:
            return np.ascontiguousarray(windows).reshape(count, groups, rows, length)
        columns = np.empty((count, groups, rows + 1, length), dtype=batch.dtype)
        np.copyto(columns[:, :, :rows].reshape(windows.shape), windows)
        columns[:, :, rows] = 1
        return columns

    def backward(self, grad: np.ndarray) -> tuple:
        batch_grad = as_batch(grad)
        count, _, height, width = self.input_shape
        out_channels, per_group, kernel_h, kernel_w = self.weight_shape
        groups = self.options["groups"]
        out_h, out_w = self.out_size
        rows = kernel_h * kernel_w * per_group
        # (N, G, O/G, L)
        grad_groups = batch_grad.reshape(count, groups, out_channels // groups, out_h * out_w)
        grad_input = grad_weight = grad_bias = None
        scratch = None
        if self.needs_input_grad[2] and not self.needs_input_grad[1]:
            grad_bias = batch_grad.sum(axis=(0, 2, 3))
        if self.needs_input_grad[1]:
            columns = self._columns(self.batch) if self.columns is None else self.columns
            # (G, K [+ 1], O/G): columns @ grad^T for each image, summed over the batch
            grad_t = grad_groups.transpose(0, 1, 3, 2)  # (N, G, L, O/G)
            if out_h * out_w <= 128:
                # short output planes (LeNet's 8x8): OpenBLAS runs these small GEMMs faster
                # on a contiguous copy than on the transposed view, and the copy is cheap
                grad_t = np.ascontiguousarray(grad_t)
            summed = np.matmul(columns, grad_t).sum(axis=0)
            weights = summed[:, :rows].reshape(groups, kernel_h, kernel_w, per_group, -1)
            grad_weight = weights.transpose(0, 4, 3, 1, 2).reshape(self.weight_shape)
            if self.needs_input_grad[2]:
                grad_bias = summed[:, rows].reshape(out_channels)
            if self.columns_are_scratch:
                scratch, self.columns = columns[:, :, :rows], None  # backward again rebuilds
        if self.needs_input_grad[0]:
            kernel_t = self.kernel[:, :, :rows].transpose(0, 2, 1)  # (G, K, O/G)
            padding, dilation = self.options["padding"], self.options["dilation"]
            padded_width = width + padding[2] + padding[3]
            if self._by_kernel_rows():
                # fewer values to move than kH * kW column gradients (see _by_kernel_rows)
                row_kernel = self.kernel[0, :, :rows].reshape(
                    out_channels, kernel_h, kernel_w, per_group)
                row_kernel = row_kernel.transpose(1, 3, 0, 2).reshape(kernel_h * per_group, -1)
                grad_input = row_transposed_conv(batch_grad, row_kernel, kernel_h, padding,
                                                 height, width)
            elif self.options["stride"] == (1, 1) and out_w != width:
                # gradient rows as wide as the padded input: one long add per offset plane
                wide = widen_rows(grad_groups.reshape(count, groups, -1, out_h, out_w),
                                  padded_width)
                column_grad = np.matmul(kernel_t, wide).reshape(
                    count, groups, kernel_h, kernel_w, per_group, out_h * padded_width)
                grad_input = wide_columns_to_image(column_grad, height, width, padding,
                                                   dilation)
            else:
                # (N, G, kH, kW, C/G, Ho, Wo): the gradient of every column entry
                column_grad = np.matmul(kernel_t, grad_groups, out=scratch).reshape(
                    count, groups, kernel_h, kernel_w, per_group, out_h, out_w)
                grad_input = columns_to_image(column_grad, height, width, padding,
                                              self.options["stride"], dilation)
            if self.unbatched:
                grad_input = grad_input[0]
        return grad_input, grad_weight, grad_bias


    def _by_kernel_rows(self) -> bool:
        """Whether the input gradient goes through `row_transposed_conv`: stride 1, no
        dilation or groups, and fewer values per pixel to move (O * kW gradient copies and
        kH * C row results) than the kH * kW * C column gradients of the usual way. Measured
        (1 thread, batch 64): half the time on LeNet's second conv (6 -> 16, 5x5), 25% less
        on 16 -> 16 3x3; ties where the counts are equal (SimpleCNN's 32 -> 64); up to 3.5x
        slower with one input channel and many outputs, which this rule keeps away."""
        out_channels, channels, kernel_h, kernel_w = self.weight_shape
        moved = out_channels * kernel_w + kernel_h * channels
        return (self.options["stride"] == (1, 1) and self.options["dilation"] == (1, 1)
                and self.options["groups"] == 1 and moved < kernel_h * kernel_w * channels)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as `torch.nn.functional.conv2d`.

    Shape: input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in // groups, kH, kW),
    bias (C_out,) -> (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
    H_out = floor((H + pad_top + pad_bottom - dilation * (kH - 1) - 1) / stride) + 1.

    padding: an int, (pad_h, pad_w), "valid" (no padding) or "same" (output size equals
    input size; stride 1 only; an odd total padding puts the extra row/column at the
    bottom/right, as PyTorch does).
    """
    _check_tensor("conv2d", "input", input)
    _check_tensor("conv2d", "weight", weight)
    if bias is not None:
        _check_tensor("conv2d", "bias", bias)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                           f"got input of shape {input.shape}")
    if weight.ndim != 4:
        raise RuntimeError(f"conv2d: expected a 4-D weight (C_out, C_in // groups, kH, kW), "
                           f"got weight of shape {weight.shape}")
    _check_conv_dtypes(input, weight, bias)
    stride = pair("conv2d", "stride", stride)
    dilation = pair("conv2d", "dilation", dilation)
    if not (isinstance(groups, (int, np.integer)) and not isinstance(groups, bool)):
        raise TypeError(f"conv2d: groups must be an int, got {type(groups).__name__}")
    if min(stride) <= 0:
        raise RuntimeError(f"conv2d: stride must be positive, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"conv2d: dilation must be positive, got dilation={dilation}")
    if groups <= 0:
        raise RuntimeError(f"conv2d: groups must be positive, got groups={groups}")
    kernel = weight.shape[2:]
    pads = _conv_padding(padding, stride, dilation, kernel)
    _check_conv_channels(input, weight, bias, groups)
    padded = (input.shape[-2] + pads[0] + pads[1], input.shape[-1] + pads[2] + pads[3])
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if padded[0] < spans[0] or padded[1] < spans[1]:
        raise RuntimeError(f"conv2d: kernel size {tuple(kernel)} (dilated to {spans}) is larger "
                           f"than the padded input size {padded} (input {input.shape}, "
                           f"padding {pads})")
    op_class = kernel_for("conv2d", Conv2d)  # or the reference loops, see mg.set_kernels
    return op_class.apply(input, weight, bias, stride=stride, padding=pads, dilation=dilation,
                          groups=int(groups))


def _check_tensor(where: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: {name} must be a Tensor, got {type(value).__name__}")


def _check_conv_dtypes(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    if input.dtype.kind == "b":
        raise NotImplementedError("conv2d: not implemented for bool input")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"conv2d: input dtype {input.dtype} and weight dtype {weight.dtype} "
                           f"should be the same")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"conv2d: input dtype {input.dtype} and bias dtype {bias.dtype} "
                           f"should be the same")


def _conv_padding(padding: Any, stride: tuple[int, int], dilation: tuple[int, int],
                  kernel: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair, "valid" or "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise RuntimeError(f"conv2d: invalid padding string {padding!r} "
                               f"(expected 'same' or 'valid')")
        if stride != (1, 1):
            raise RuntimeError(f"conv2d: padding='same' is not supported for strided "
                               f"convolutions (stride={stride})")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return (totals[0] // 2, totals[0] - totals[0] // 2,
                totals[1] // 2, totals[1] - totals[1] // 2)
    pad_h, pad_w = pair("conv2d", "padding", padding)
    if pad_h < 0 or pad_w < 0:
        raise RuntimeError(f"conv2d: padding must be non-negative, got padding={padding!r}")
    return (pad_h, pad_h, pad_w, pad_w)


def _check_conv_channels(input: Tensor, weight: Tensor, bias: Tensor | None,
                         groups: int) -> None:
    out_channels = weight.shape[0]
    if out_channels == 0 or out_channels % groups:
        raise RuntimeError(f"conv2d: weight's out_channels {out_channels} must be a positive "
                           f"multiple of groups={groups} (weight {weight.shape})")
    channels = input.shape[-3]
    expected = weight.shape[1] * groups
    if channels != expected:
        grouping = f", groups={groups}" if groups != 1 else ""
        raise RuntimeError(f"conv2d: input has {channels} channels, weight expects {expected} "
                           f"(input {input.shape}, weight {weight.shape}{grouping})")
    if bias is not None and bias.shape != (out_channels,):
        raise RuntimeError(f"conv2d: bias must have shape ({out_channels},), one value per "
                           f"output channel, got bias {bias.shape} (weight {weight.shape})")


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
    """Max over each window; the gradient goes to the pixel that won (first max on ties)."""

    def forward(self, x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dilation: tuple[int, int],
                ceil_mode: bool) -> np.ndarray:
        batch = as_batch(x)
        self.geometry = _geometry_of(batch, self.options)
        window_max = _pairwise_max if _is_pairwise(self.geometry) else _window_max
        values, self.arg = window_max(batch, self.geometry)
        self.input_shape = x.shape
        return values[0] if x.ndim == 3 else values

    def backward(self, grad: np.ndarray) -> np.ndarray:
        geometry = self.geometry
        batch_grad = as_batch(grad)
        top, bottom, left, right = _pad_for(geometry)
        height, width = geometry.in_size
        # grad * mask is fastest, but inf * 0 would put NaN on pixels that did not win
        finite = np.isfinite(batch_grad).all()
        # windows that tile the input write every pixel once below: no need to zero first
        allocate = np.empty if finite and geometry.tiles else np.zeros
        padded_grad = allocate(batch_grad.shape[:2] + (height + top + bottom,
                                                       width + left + right), dtype=grad.dtype)
        zero = np.zeros((), dtype=grad.dtype)
        for k, i, j in _offsets(geometry):
            view = offset_view(padded_grad, i, j, geometry.out_size, geometry.stride,
                               geometry.dilation)
            won = self.arg == k
            if finite and geometry.disjoint:  # each pixel is seen by one window, once
                np.multiply(batch_grad, won, out=view)
            else:
                view += np.multiply(batch_grad, won) if finite else np.where(won, batch_grad,
                                                                              zero)
        grad_input = padded_grad[:, :, top:top + height, left:left + width]
        return grad_input.reshape(self.input_shape)


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


class AvgPool2d(Function):
    """Mean over each window with PyTorch's divisor; backward spreads grad / divisor back."""

    def forward(self, x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], ceil_mode: bool, count_include_pad: bool,
                divisor_override: int | None) -> np.ndarray:
        batch = as_batch(x)
        geometry = _geometry_of(batch, self.options)
        padded = pad_hw(batch, *_pad_for(geometry))
        total_type = x.dtype if x.dtype.kind == "f" else np.int64
        total = None
        for _, i, j in _offsets(geometry):
            view = offset_view(padded, i, j, geometry.out_size, geometry.stride, (1, 1))
            if total is None:
                total = view.astype(total_type, copy=True)
            else:
                total += view
        divisor = _avg_divisor(geometry, count_include_pad, divisor_override)
        if x.dtype.kind == "f":
            self.divisor = divisor.astype(x.dtype)
            out = np.divide(total, self.divisor, out=total)
        else:
            out = _truncating_divide(total, divisor).astype(x.dtype)
        self.geometry = geometry
        self.input_shape = x.shape
        return out[0] if x.ndim == 3 else out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        geometry = self.geometry
        share = as_batch(grad) / self.divisor  # (N, C, Ho, Wo)
        count, channels, out_h, out_w = share.shape
        kernel_h, kernel_w = geometry.kernel
        if geometry.tiles:  # every pixel is in exactly one window: broadcast, one copy
            tiled = np.broadcast_to(share[:, :, :, None, :, None],
                                    (count, channels, out_h, kernel_h, out_w, kernel_w))
            return tiled.reshape(self.input_shape)
        top, bottom, left, right = _pad_for(geometry)
        height, width = geometry.in_size
        padded_grad = np.zeros((count, channels, height + top + bottom, width + left + right),
                               dtype=grad.dtype)
        for _, i, j in _offsets(geometry):
            view = offset_view(padded_grad, i, j, geometry.out_size, geometry.stride, (1, 1))
            view += share
        grad_input = padded_grad[:, :, top:top + height, left:left + width]
        return grad_input.reshape(self.input_shape)


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
        self.rows = _adaptive_matrix(height, output_size[0], x.dtype)
        self.cols = _adaptive_matrix(width, output_size[1], x.dtype)
        self.counts = self.rows.sum(axis=1)[:, None] * self.cols.sum(axis=1)[None, :]
        return np.matmul(self.rows, np.matmul(x, self.cols.T)) / self.counts

    def backward(self, grad: np.ndarray) -> np.ndarray:
        share = grad / self.counts
        if self.options["output_size"] == (1, 1):
            return np.broadcast_to(share, self.input_shape).copy()
        return np.matmul(self.rows.T, np.matmul(share, self.cols))


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
    """Max over PyTorch's adaptive windows; the gradient goes to each window's winner."""

    def forward(self, x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
        batch = as_batch(x)
        values, self.arg = _adaptive_max(batch, output_size)
        self.input_shape = x.shape
        return values[0] if x.ndim == 3 else values

    def backward(self, grad: np.ndarray) -> np.ndarray:
        batch_grad = as_batch(grad)
        count, channels = batch_grad.shape[:2]
        planes = count * channels
        height, width = self.input_shape[-2:]
        grad_input = np.zeros((planes, height * width), dtype=grad.dtype)
        # windows overlap, so one pixel may win several: accumulate, don't assign
        np.add.at(grad_input, (np.arange(planes)[:, None], self.arg.reshape(planes, -1)),
                  batch_grad.reshape(planes, -1))
        return grad_input.reshape(self.input_shape)


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


TENSOR_METHODS: dict = {}
FUNCTIONAL = {
    "conv2d": conv2d,
    "max_pool2d": max_pool2d,
    "avg_pool2d": avg_pool2d,
    "adaptive_avg_pool2d": adaptive_avg_pool2d,
    "adaptive_max_pool2d": adaptive_max_pool2d,
}
TOPLEVEL = {"conv2d": conv2d, "set_kernels": set_kernels, "get_kernels": get_kernels}
