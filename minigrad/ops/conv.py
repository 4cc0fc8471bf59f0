"""Convolution over NCHW images: conv2d, conv_transpose2d and the weight-gradient correlation.

The three form a closed family, each op's derivative written with the three:

    conv2d(x, w)            d/dx = conv_transpose2d(g, w)    d/dw = conv2d_weight(x, g)
    conv_transpose2d(y, w)  d/dy = conv2d(g, w)              d/dw = conv2d_weight(g, y)
    conv2d_weight(x, y)     d/dx = conv_transpose2d(y, g)    d/dy = conv2d(x, g)

so gradients of gradients stay convolutions. Each works per kernel offset, never per pixel
(see `_windows`): conv copies the windows into a column matrix for one batched GEMM, the
transposed convolution adds GEMM results back one kernel offset (or kernel row) at a time.
All take an unbatched (C, H, W) input too, as PyTorch does. The NumPy kernels below are what
an ordinary backward runs (`NUMPY_XP`); the ops wrap the same kernels for `create_graph`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ..engine.namespace import graph as graph_namespace
from ._windows import (
    as_batch,
    columns_to_image,
    conv_windows,
    conv_windows_by_columns,
    copy_windows_by_planes,
    pad_hw,
    pair,
    row_transposed_conv,
    wide_columns_to_image,
    widen_rows,
)
from .kernels import kernel_for

__all__ = ["conv2d", "conv_transpose2d"]

IntPair = int | tuple[int, int]
Padding4 = tuple[int, int, int, int]


# ---- NumPy kernels ----------------------------------------------------------------------
def conv_output_size(in_size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                     padding: Padding4, dilation: tuple[int, int]) -> tuple[int, int]:
    """(Ho, Wo) of a conv over an (H, W) plane with (top, bottom, left, right) padding."""
    top, bottom, left, right = padding
    return ((in_size[0] + top + bottom - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1,
            (in_size[1] + left + right - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1)


# The column matrix of a whole batch is tens of MB for ResNet-sized layers (9x the input for
# a 3x3 kernel): memory-bound to build and to read, and kept from forward to backward it was
# most of a step's peak memory. Batches whose columns exceed this many bytes are done a few
# images at a time (the columns of a chunk stay in cache), and forward keeps no columns:
# the weight gradient rebuilds them chunk by chunk. Measured in benchmarks/RESULTS.md.
CHUNK_BYTES = 4 * 2**20


CHUNK_MIN_PLANE = 256  # output planes smaller than 16x16 are done whole (chunks were slower)
# Below this many output pixels per image (ResNet's 8x8 and 4x4 stages), a per-image GEMM is
# too narrow for OpenBLAS (512@4x4: L = 16): the batch is folded into the GEMM instead.
FOLD_MAX_PLANE = 256


def folds_batch(groups: int, plane: int, out_channels: int, channels: int) -> bool:
    """Whether the GEMMs fold the batch in: small planes of wide layers (ResNet-18's 256 and
    512 channel stages), where per-image GEMMs were 1.1-3x slower; LeNet-sized layers keep
    their tuned paths."""
    return groups == 1 and plane < FOLD_MAX_PLANE and out_channels >= 128 and channels >= 64


def fold_batch(per_image: np.ndarray) -> np.ndarray:
    """(N, R, L) -> (R, N * L), a contiguous copy: the batch inside one GEMM."""
    count, rows, length = per_image.shape
    return np.ascontiguousarray(per_image.transpose(1, 0, 2)).reshape(rows, count * length)


def _unfold_batch(folded: np.ndarray, count: int) -> np.ndarray:
    """(R, N * L) -> (N, R, L), contiguous."""
    rows = folded.shape[0]
    return np.ascontiguousarray(folded.reshape(rows, count, -1).transpose(1, 0, 2))


def chunk_images(count: int, bytes_per_image: int, plane: int) -> int:
    """How many images of `bytes_per_image` columns to process at once: all if they fit in
    CHUNK_BYTES or the output plane is small (narrow GEMMs cost more than the columns)."""
    if plane < CHUNK_MIN_PLANE:
        return count
    return max(1, min(count, CHUNK_BYTES // max(bytes_per_image, 1)))


def conv_columns(batch: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                 padding: Padding4, dilation: tuple[int, int], groups: int,
                 with_bias: bool) -> np.ndarray:
    """The (N, G, K [+ 1], L) column matrix of an (N, C, H, W) batch: every window copied
    once, K = kH * kW * C/G ordered (offset, channel), L = Ho * Wo; then, `with_bias`, a row
    of ones so a bias rides along in the GEMM."""
    count, channels, height, width = batch.shape
    kernel_h, kernel_w = kernel
    per_group = channels // groups
    out_size = conv_output_size((height, width), kernel, stride, padding, dilation)
    rows = kernel_h * kernel_w * per_group
    length = out_size[0] * out_size[1]
    if stride == (1, 1) and out_size[1] == width and kernel_w > 1:
        columns = np.empty((count, groups, rows + with_bias, length), dtype=batch.dtype)
        # output rows as wide as input rows: whole shifted planes (see the helper)
        target = columns[:, :, :rows].reshape(count, groups, kernel_h, kernel_w, per_group,
                                              *out_size)
        copy_windows_by_planes(batch, target, padding, dilation)
        if with_bias:
            columns[:, :, rows] = 1
        return columns
    padded = pad_hw(batch, *padding)
    # row stride 1: build from column-offset copies, long runs (see the helper)
    find_windows = conv_windows_by_columns if stride[0] == 1 and kernel_w > 1 else conv_windows
    windows = find_windows(padded, groups, kernel, out_size, stride, dilation)
    if not with_bias:
        return np.ascontiguousarray(windows).reshape(count, groups, rows, length)
    columns = np.empty((count, groups, rows + 1, length), dtype=batch.dtype)
    np.copyto(columns[:, :, :rows].reshape(windows.shape), windows)
    columns[:, :, rows] = 1
    return columns


def conv2d_array(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                 stride: tuple[int, int], padding: Padding4, dilation: tuple[int, int],
                 groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Cross-correlation of (N, C, H, W) or (C, H, W) with weight (O, C/G, kH, kW) as one
    batched GEMM, weight (G, O/G, K [+ 1]) @ columns: (output, columns)."""
    batch = as_batch(x)
    out_channels, per_group, kernel_h, kernel_w = weight.shape
    out_size = conv_output_size(batch.shape[2:], (kernel_h, kernel_w), stride, padding,
                                dilation)
    count = batch.shape[0]
    rows = kernel_h * kernel_w * per_group * groups + (bias is not None) * groups
    plane = out_size[0] * out_size[1]
    chunk = chunk_images(count, rows * plane * batch.itemsize, plane)
    columns = None
    if chunk == count:
        columns = conv_columns(batch, (kernel_h, kernel_w), stride, padding, dilation, groups,
                               bias is not None)
    # (G, O/G, K [+ 1]), K ordered like the columns: (kH, kW, C/G), then the bias
    kernel = weight.reshape(groups, out_channels // groups, per_group, kernel_h, kernel_w)
    kernel = kernel.transpose(0, 1, 3, 4, 2).reshape(groups, out_channels // groups, -1)
    if bias is not None:
        kernel = np.concatenate([kernel, bias.reshape(groups, -1, 1)], axis=2)
    if columns is not None and folds_batch(groups, plane, out_channels, batch.shape[1]):
        # small planes: one GEMM over the whole batch, (O, K) @ (K, N * L) (see fold_batch)
        columns = fold_batch(columns[:, 0])
        out = _unfold_batch(kernel[0] @ columns, count)
    elif columns is not None:
        out = np.matmul(kernel, columns)
    else:  # a few images at a time; no columns kept (see CHUNK_BYTES)
        out = np.empty((count, groups, out_channels // groups, out_size[0] * out_size[1]),
                       dtype=np.result_type(batch, kernel))
        for start in range(0, count, chunk):
            part = conv_columns(batch[start:start + chunk], (kernel_h, kernel_w), stride,
                                padding, dilation, groups, bias is not None)
            np.matmul(kernel, part, out=out[start:start + chunk])
    out = out.reshape(count, out_channels, *out_size)
    return (out[0] if x.ndim == 3 else out), columns


def _conv2d_xp(x: np.ndarray, weight: np.ndarray, stride: tuple[int, int], padding: Padding4,
               dilation: tuple[int, int], groups: int) -> np.ndarray:
    """conv2d without bias on arrays (the backward namespace's `conv2d`)."""
    return conv2d_array(x, weight, None, stride, padding, dilation, groups)[0]


def _weight_gradient_sums(x: np.ndarray, grad: np.ndarray, kernel_size: tuple[int, int],
                          stride: tuple[int, int], padding: Padding4,
                          dilation: tuple[int, int], groups: int, columns: np.ndarray | None,
                          with_bias: bool) -> np.ndarray:
    """columns @ grad^T summed over the batch: (G, K [+ 1], O/G), the last row the bias
    gradient when the columns carry the row of ones."""
    batch, batch_grad = as_batch(x), as_batch(grad)
    count = batch.shape[0]
    out_channels, out_h, out_w = batch_grad.shape[1:]
    # (N, G, L, O/G): columns @ grad^T for each image, summed over the batch
    grad_t = batch_grad.reshape(count, groups, out_channels // groups, out_h * out_w)
    grad_t = grad_t.transpose(0, 1, 3, 2)
    if out_h * out_w <= 128:
        # short output planes (LeNet's 8x8): OpenBLAS runs these small GEMMs faster on a
        # contiguous copy than on the transposed view, and the copy is cheap
        grad_t = np.ascontiguousarray(grad_t)
    if columns is None and folds_batch(groups, out_h * out_w, out_channels, batch.shape[1]):
        columns = fold_batch(conv_columns(batch, kernel_size, stride, padding, dilation, 1,
                                          with_bias)[:, 0])
    if columns is not None and columns.ndim == 2:
        # forward's columns folded to (K [+ 1], N * L): one GEMM with the folded gradient
        folded = np.ascontiguousarray(batch_grad.reshape(count, out_channels, -1)
                                      .transpose(0, 2, 1)).reshape(-1, out_channels)
        return (columns @ folded)[None]
    if columns is not None:
        return np.matmul(columns, grad_t).sum(axis=0)
    rows = (kernel_size[0] * kernel_size[1] * batch.shape[1] // groups + with_bias) * groups
    chunk = chunk_images(count, rows * out_h * out_w * batch.itemsize, out_h * out_w)
    total = None
    for start in range(0, count, chunk):  # one chunk when the columns fit (CHUNK_BYTES)
        part = conv_columns(batch[start:start + chunk], kernel_size, stride, padding,
                            dilation, groups, with_bias)
        sums = np.matmul(part, grad_t[start:start + chunk]).sum(axis=0)
        total = sums if total is None else np.add(total, sums, out=total)
    return total


def _as_weight(summed: np.ndarray, channels: int, kernel_size: tuple[int, int],
               groups: int) -> np.ndarray:
    """The weight gradient (O, C/G, kH, kW) from the (G, K [+ 1], O/G) sums."""
    kernel_h, kernel_w = kernel_size
    per_group = channels // groups
    rows = kernel_h * kernel_w * per_group
    weights = summed[:, :rows].reshape(groups, kernel_h, kernel_w, per_group, -1)
    return weights.transpose(0, 4, 3, 1, 2).reshape(-1, per_group, kernel_h, kernel_w)


def conv2d_weight_array(x: np.ndarray, grad: np.ndarray, kernel_size: tuple[int, int],
                        stride: tuple[int, int], padding: Padding4, dilation: tuple[int, int],
                        groups: int, columns: np.ndarray | None = None) -> np.ndarray:
    """The weight gradient of conv2d, a correlation of the input x (N, C, H, W) with the
    output gradient (N, O, Ho, Wo): (O, C/G, kH, kW), columns @ grad^T summed over the batch.

    `columns` (first order only): the forward's column matrix, bias row allowed, to reuse.
    """
    summed = _weight_gradient_sums(x, grad, kernel_size, stride, padding, dilation, groups,
                                   columns, False)
    return _as_weight(summed, x.shape[-3], kernel_size, groups)


def conv2d_weight_bias_array(x: np.ndarray, grad: np.ndarray, kernel_size: tuple[int, int],
                             stride: tuple[int, int], padding: Padding4,
                             dilation: tuple[int, int], groups: int,
                             columns: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`conv2d_weight_array` and the bias gradient (O,) in one GEMM: the bias rides along
    as the row of ones that `columns` (the forward's, first order only) carry."""
    summed = _weight_gradient_sums(x, grad, kernel_size, stride, padding, dilation, groups,
                                   columns, True)
    out_channels = grad.shape[-3]
    return (_as_weight(summed, x.shape[-3], kernel_size, groups),
            summed[:, -1].reshape(out_channels))


def by_kernel_rows(weight_shape: tuple[int, ...], stride: tuple[int, int],
                   dilation: tuple[int, int], groups: int) -> bool:
    """Whether the input gradient goes through `row_transposed_conv`: stride 1, no
    dilation or groups, and fewer values per pixel to move (O * kW gradient copies and
    kH * C row results) than the kH * kW * C column gradients of the usual way. Measured
    (1 thread, batch 64): half the time on LeNet's second conv (6 -> 16, 5x5), 25% less
    on 16 -> 16 3x3; ties where the counts are equal (SimpleCNN's 32 -> 64); up to 3.5x
    slower with one input channel and many outputs, which this rule keeps away."""
    out_channels, channels, kernel_h, kernel_w = weight_shape
    moved = out_channels * kernel_w + kernel_h * channels
    return (stride == (1, 1) and dilation == (1, 1) and groups == 1
            and moved < kernel_h * kernel_w * channels)


def conv_transpose2d_array(grad: np.ndarray, weight: np.ndarray, input_size: tuple[int, int],
                           stride: tuple[int, int], padding: Padding4,
                           dilation: tuple[int, int], groups: int,
                           scratch: np.ndarray | None = None) -> np.ndarray:
    """The input gradient of conv2d, a transposed convolution: grad (N, O, Ho, Wo) and weight
    (O, C/G, kH, kW) -> (N, C, H, W) with (H, W) = `input_size`.

    weight^T @ grad gives column gradients, added back into the padded input one kernel
    offset at a time (or by kernel rows, see `by_kernel_rows`). `scratch` (first order only):
    a spent (N, G, K, L) column matrix to hold the column gradients.
    """
    batch_grad = as_batch(grad)
    count, out_channels, out_h, out_w = batch_grad.shape
    _, per_group, kernel_h, kernel_w = weight.shape
    height, width = input_size
    groups_out = out_channels // groups
    chunk = chunk_images(count, kernel_h * kernel_w * per_group * groups * out_h
                         * (width + padding[2] + padding[3]) * batch_grad.itemsize,
                         out_h * out_w)
    if chunk < count:  # a few images at a time (see CHUNK_BYTES)
        grad_input = None
        for start in range(0, count, chunk):
            part = conv_transpose2d_array(batch_grad[start:start + chunk], weight, input_size,
                                          stride, padding, dilation, groups)
            if grad_input is None:
                grad_input = np.empty((count, *part.shape[1:]), dtype=part.dtype)
            grad_input[start:start + chunk] = part
        return grad_input[0] if grad.ndim == 3 else grad_input
    if folds_batch(groups, out_h * out_w, out_channels, per_group):
        # small planes: (K, O) @ (O, N * L) in one GEMM, then added back per offset
        kernel_t = weight.transpose(2, 3, 1, 0).reshape(-1, out_channels)
        column_grad = (kernel_t @ fold_batch(batch_grad.reshape(count, out_channels, -1)))
        column_grad = column_grad.reshape(-1, count, out_h * out_w).transpose(1, 0, 2).reshape(
            count, 1, kernel_h, kernel_w, per_group, out_h, out_w)
        grad_input = columns_to_image(column_grad, height, width, padding, stride, dilation)
        return grad_input[0] if grad.ndim == 3 else grad_input
    if by_kernel_rows(weight.shape, stride, dilation, groups):
        # fewer values to move than kH * kW column gradients (see by_kernel_rows)
        row_kernel = weight.transpose(2, 1, 0, 3).reshape(kernel_h * per_group, -1)
        grad_input = row_transposed_conv(batch_grad, row_kernel, kernel_h, padding, height,
                                         width)
        return grad_input[0] if grad.ndim == 3 else grad_input
    # (G, K, O/G), K ordered like the columns: (kH, kW, C/G)
    kernel = weight.reshape(groups, groups_out, per_group, kernel_h, kernel_w)
    kernel_t = kernel.transpose(0, 1, 3, 4, 2).reshape(groups, groups_out, -1).transpose(0, 2, 1)
    grad_groups = batch_grad.reshape(count, groups, groups_out, out_h * out_w)
    if stride == (1, 1) and out_w != width:
        # gradient rows as wide as the padded input: one long add per offset plane
        padded_width = width + padding[2] + padding[3]
        wide = widen_rows(grad_groups.reshape(count, groups, -1, out_h, out_w), padded_width)
        column_grad = np.matmul(kernel_t, wide).reshape(
            count, groups, kernel_h, kernel_w, per_group, out_h * padded_width)
        grad_input = wide_columns_to_image(column_grad, height, width, padding, dilation)
    else:
        # (N, G, kH, kW, C/G, Ho, Wo): the gradient of every column entry
        column_grad = np.matmul(kernel_t, grad_groups, out=scratch).reshape(
            count, groups, kernel_h, kernel_w, per_group, out_h, out_w)
        grad_input = columns_to_image(column_grad, height, width, padding, stride, dilation)
    return grad_input[0] if grad.ndim == 3 else grad_input


# ---- the three ops ----------------------------------------------------------------------
def _bias_axes(array: Any) -> tuple[int, ...]:
    """The axes a per-channel bias is broadcast over: N, H, W (or H, W unbatched)."""
    return (1, 2) if array.ndim == 3 else (0, 2, 3)


class Conv2d(Function):
    """Cross-correlation of (N, C, H, W) with weight (O, C // G, kH, kW) as one batched GEMM.

    Columns (N, G, K, L) hold every window, K = kH * kW * C/G ordered (offset, channel) and
    L = Ho * Wo; the output is weight (G, O/G, K) @ columns. A bias rides along as one more
    weight column against a row of ones. Backward: the input gradient is the transposed
    convolution `conv_transpose2d(grad, weight)`, the weight gradient the correlation
    `conv2d_weight(x, grad)` (reusing the columns, first order only), the bias gradient the
    sum over N, H, W.
    """

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                stride: tuple[int, int], padding: Padding4, dilation: tuple[int, int],
                groups: int) -> np.ndarray:
        out, columns = conv2d_array(x, weight, bias, stride, padding, dilation, groups)
        self.input_size = x.shape[-2:]
        self.kernel_size = weight.shape[2:]
        self.column_rows = weight.shape[1] * weight.shape[2] * weight.shape[3]
        self.columns = self.columns_are_scratch = None
        if self.needs_input_grad[1] and columns is not None:
            self.columns = columns
            # a column matrix of our own can hold the column gradient later (saves memory)
            # (not when the columns are a read-only view, as for some 1x1 kernels)
            self.columns_are_scratch = (columns.ndim == 4 and columns.flags.writeable
                                        and not np.may_share_memory(columns, x))
        # x for the weight gradient, the weight for the input gradient
        self.save(x if self.needs_input_grad[1] else None,
                  weight if self.needs_input_grad[0] else None)
        return out

    def backward(self, xp: Any, grad: Any, x: Any, weight: Any) -> tuple:
        stride, padding = self.options["stride"], self.options["padding"]
        dilation, groups = self.options["dilation"], self.options["groups"]
        grad_input = grad_weight = grad_bias = None
        scratch = None
        if self.needs_input_grad[1] and self.needs_input_grad[2]:
            # one GEMM gives both: the bias rides along in the columns (first order)
            grad_weight, grad_bias = xp.conv2d_weight_bias(
                x, grad, self.kernel_size, stride, padding, dilation, groups,
                columns=self.columns)
        elif self.needs_input_grad[1]:
            grad_weight = xp.conv2d_weight(x, grad, self.kernel_size, stride, padding,
                                           dilation, groups, columns=self.columns)
        elif self.needs_input_grad[2]:
            grad_bias = xp.sum(grad, axis=_bias_axes(grad))
        if self.needs_input_grad[1]:
            if self.columns is not None and self.columns_are_scratch:
                scratch = self.columns[:, :, :self.column_rows]  # spent: reuse its memory
            self.columns = None  # a second backward rebuilds them from x
        if self.needs_input_grad[0]:
            grad_input = xp.conv_transpose2d(grad, weight, self.input_size, stride, padding,
                                             dilation, groups, scratch=scratch)
        return grad_input, grad_weight, grad_bias


class ConvTranspose2d(Function):
    """The transposed convolution: the adjoint of conv2d in its input, y (N, O, Ho, Wo) and
    weight (O, C/G, kH, kW) -> (N, C, H, W) with (H, W) = `input_size`, plus a bias (C,).

    Backward: d/dy = conv2d(g, weight), d/dweight = conv2d_weight(g, y), d/dbias = sum of g
    over N, H, W.
    """

    def forward(self, y: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                input_size: tuple[int, int], stride: tuple[int, int], padding: Padding4,
                dilation: tuple[int, int], groups: int) -> np.ndarray:
        out = conv_transpose2d_array(y, weight, input_size, stride, padding, dilation, groups)
        if bias is not None:
            out += bias.reshape(-1, 1, 1)  # out is fresh memory of its own
        self.kernel_size = weight.shape[2:]
        self.save(y if self.needs_input_grad[1] else None,
                  weight if self.needs_input_grad[0] else None)
        return out

    def backward(self, xp: Any, grad: Any, y: Any, weight: Any) -> tuple:
        stride, padding = self.options["stride"], self.options["padding"]
        dilation, groups = self.options["dilation"], self.options["groups"]
        grad_y = grad_weight = grad_bias = None
        if self.needs_input_grad[0]:
            grad_y = xp.conv2d(grad, weight, stride, padding, dilation, groups)
        if self.needs_input_grad[1]:
            grad_weight = xp.conv2d_weight(grad, y, self.kernel_size, stride, padding,
                                           dilation, groups)
        if self.needs_input_grad[2]:
            grad_bias = xp.sum(grad, axis=_bias_axes(grad))
        return grad_y, grad_weight, grad_bias


class Conv2dWeight(Function):
    """conv2d's weight gradient as an op: the correlation of x (N, C, H, W) with y
    (N, O, Ho, Wo) -> (O, C/G, kH, kW), bilinear in x and y.

    Backward: d/dx = conv_transpose2d(y, g), d/dy = conv2d(x, g).
    """

    def forward(self, x: np.ndarray, y: np.ndarray, kernel_size: tuple[int, int],
                stride: tuple[int, int], padding: Padding4, dilation: tuple[int, int],
                groups: int) -> np.ndarray:
        self.input_size = x.shape[-2:]
        self.save(x if self.needs_input_grad[1] else None,
                  y if self.needs_input_grad[0] else None)
        return conv2d_weight_array(x, y, kernel_size, stride, padding, dilation, groups)

    def backward(self, xp: Any, grad: Any, x: Any, y: Any) -> tuple:
        stride, padding = self.options["stride"], self.options["padding"]
        dilation, groups = self.options["dilation"], self.options["groups"]
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            grad_x = xp.conv_transpose2d(y, grad, self.input_size, stride, padding, dilation,
                                         groups)
        if self.needs_input_grad[1]:
            grad_y = xp.conv2d(x, grad, stride, padding, dilation, groups)
        return grad_x, grad_y


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))


def _conv2d_graph(x: Any, weight: Any, stride: tuple[int, int], padding: Padding4,
                  dilation: tuple[int, int], groups: int) -> Tensor:
    return Conv2d.apply(_as_tensor(x), _as_tensor(weight), None, stride=stride,
                        padding=padding, dilation=dilation, groups=groups)


def _conv_transpose2d_graph(y: Any, weight: Any, input_size: tuple[int, int],
                            stride: tuple[int, int], padding: Padding4,
                            dilation: tuple[int, int], groups: int,
                            scratch: Any = None) -> Tensor:
    """The recorded transposed convolution (`scratch` is a first-order cache: unused)."""
    return ConvTranspose2d.apply(_as_tensor(y), _as_tensor(weight), None,
                                 input_size=tuple(input_size), stride=stride, padding=padding,
                                 dilation=dilation, groups=groups)


def _conv2d_weight_graph(x: Any, y: Any, kernel_size: tuple[int, int],
                         stride: tuple[int, int], padding: Padding4,
                         dilation: tuple[int, int], groups: int, columns: Any = None) -> Tensor:
    """The recorded weight-gradient correlation (`columns` is a first-order cache: unused)."""
    return Conv2dWeight.apply(_as_tensor(x), _as_tensor(y), kernel_size=tuple(kernel_size),
                              stride=stride, padding=padding, dilation=dilation, groups=groups)


def _conv2d_weight_bias_graph(x: Any, y: Any, kernel_size: tuple[int, int],
                              stride: tuple[int, int], padding: Padding4,
                              dilation: tuple[int, int], groups: int,
                              columns: Any = None) -> tuple[Tensor, Tensor]:
    """The recorded weight gradient and the bias gradient, the sum of y over N, H, W."""
    grad_weight = _conv2d_weight_graph(x, y, kernel_size, stride, padding, dilation, groups)
    return grad_weight, graph_namespace.sum(y, axis=_bias_axes(y))


NUMPY_XP = {
    "conv2d": _conv2d_xp,
    "conv_transpose2d": conv_transpose2d_array,
    "conv2d_weight": conv2d_weight_array,
    "conv2d_weight_bias": conv2d_weight_bias_array,
}
GRAPH_XP = {
    "conv2d": _conv2d_graph,
    "conv_transpose2d": _conv_transpose2d_graph,
    "conv2d_weight": _conv2d_weight_graph,
    "conv2d_weight_bias": _conv2d_weight_bias_graph,
}


# ---- public functions -------------------------------------------------------------------
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
    _check_conv_tensors("conv2d", input, weight, bias)
    stride, dilation, groups = _check_conv_numbers("conv2d", stride, dilation, groups)
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
                          groups=groups)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntPair = 1, padding: IntPair = 0, output_padding: IntPair = 0,
                     groups: int = 1, dilation: IntPair = 1) -> Tensor:
    """2-D transposed convolution, as `torch.nn.functional.conv_transpose2d`: the gradient
    of `conv2d` with respect to its input, so `conv_transpose2d(conv2d(x, w), w)` maps back
    to x's size.

    Shape: input (N, C_in, H, W) or (C_in, H, W), weight (C_in, C_out // groups, kH, kW),
    bias (C_out,) -> (N, C_out, H_out, W_out), with
    H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1.
    output_padding (smaller than stride or dilation) adds rows and columns at the bottom
    and right that only the bias reaches, choosing among the sizes a strided conv2d maps
    to the same output size.
    """
    _check_conv_tensors("conv_transpose2d", input, weight, bias)
    stride, dilation, groups = _check_conv_numbers("conv_transpose2d", stride, dilation,
                                                   groups)
    pad = pair("conv_transpose2d", "padding", padding)
    extra = pair("conv_transpose2d", "output_padding", output_padding)
    if min(pad) < 0 or min(extra) < 0:
        raise RuntimeError(f"conv_transpose2d: negative padding is not supported (padding="
                           f"{pad}, output_padding={extra})")
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise RuntimeError(f"conv_transpose2d: output padding must be smaller than either "
                           f"stride or dilation, but got output_padding={extra}, "
                           f"stride={stride}, dilation={dilation}")
    in_channels = weight.shape[0]
    if in_channels == 0 or in_channels % groups:
        raise RuntimeError(f"conv_transpose2d: weight's in_channels {in_channels} must be a "
                           f"positive multiple of groups={groups} (weight {weight.shape})")
    if input.shape[-3] != in_channels:
        raise RuntimeError(f"conv_transpose2d: input has {input.shape[-3]} channels, weight "
                           f"expects {in_channels} (input {input.shape}, weight "
                           f"{weight.shape})")
    out_channels = weight.shape[1] * groups
    if bias is not None and bias.shape != (out_channels,):
        raise RuntimeError(f"conv_transpose2d: bias must have shape ({out_channels},), one "
                           f"value per output channel, got bias {bias.shape} (weight "
                           f"{weight.shape}, groups={groups})")
    kernel = weight.shape[2:]
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e in zip(
        input.shape[-2:], stride, pad, dilation, kernel, extra))
    if min(size) < 1:
        raise RuntimeError(f"conv_transpose2d: given input size per channel "
                           f"{tuple(input.shape[-2:])}, calculated output size {size} is too "
                           f"small")
    pads = (pad[0], pad[0], pad[1], pad[1])
    # with output_padding >= stride (allowed under dilation), conv2d of that size gives
    # more positions than the input has: the missing ones are zeros
    covered = conv_output_size(size, kernel, stride, pads, dilation)
    missing = (covered[0] - input.shape[-2], covered[1] - input.shape[-1])
    if missing != (0, 0):
        from .movement import pad as pad_op

        input = pad_op(input, (0, missing[1], 0, missing[0]))
    return ConvTranspose2d.apply(input, weight, bias, input_size=size, stride=stride,
                                 padding=pads, dilation=dilation, groups=groups)


# ---- argument checks --------------------------------------------------------------------
def _check_tensor(where: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: {name} must be a Tensor, got {type(value).__name__}")


def _check_conv_tensors(where: str, input: Any, weight: Any, bias: Any) -> None:
    """Types, ranks and dtypes of a conv's tensors."""
    _check_tensor(where, "input", input)
    _check_tensor(where, "weight", weight)
    if bias is not None:
        _check_tensor(where, "bias", bias)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{where}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                           f"got input of shape {input.shape}")
    if weight.ndim != 4:
        layout = "C_in, C_out // groups" if where == "conv_transpose2d" else (
            "C_out, C_in // groups")
        raise RuntimeError(f"{where}: expected a 4-D weight ({layout}, kH, kW), got weight "
                           f"of shape {weight.shape}")
    if input.dtype.kind == "b":
        raise NotImplementedError(f"{where}: not implemented for bool input")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"{where}: input dtype {input.dtype} and weight dtype "
                           f"{weight.dtype} should be the same")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"{where}: input dtype {input.dtype} and bias dtype {bias.dtype} "
                           f"should be the same")


def _check_conv_numbers(where: str, stride: Any, dilation: Any,
                        groups: Any) -> tuple[tuple[int, int], tuple[int, int], int]:
    """stride and dilation as positive pairs, groups as a positive int."""
    stride = pair(where, "stride", stride)
    dilation = pair(where, "dilation", dilation)
    if not (isinstance(groups, (int, np.integer)) and not isinstance(groups, bool)):
        raise TypeError(f"{where}: groups must be an int, got {type(groups).__name__}")
    if min(stride) <= 0:
        raise RuntimeError(f"{where}: stride must be positive, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{where}: dilation must be positive, got dilation={dilation}")
    if groups <= 0:
        raise RuntimeError(f"{where}: groups must be positive, got groups={groups}")
    return stride, dilation, int(groups)


def _conv_padding(padding: Any, stride: tuple[int, int], dilation: tuple[int, int],
                  kernel: tuple[int, ...]) -> Padding4:
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


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"conv2d": conv2d, "conv_transpose2d": conv_transpose2d}
TOPLEVEL = {"conv2d": conv2d, "conv_transpose2d": conv_transpose2d}
