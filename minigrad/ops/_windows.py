"""Sliding windows for conv and pooling: argument pairs, output sizes, padding, window views.

A window op looks at `kH * kW` positions per output pixel. Rather than looping over pixels,
every helper here works per kernel offset `(i, j)`: the input pixels that offset sees, for all
outputs at once, form one strided view of the (padded) input. Conv copies those views into a
column matrix for one GEMM; pooling reduces over them directly; backward adds gradients back
through the same views, one offset at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "PoolGeometry",
    "as_batch",
    "columns_to_image",
    "conv_windows",
    "conv_windows_by_columns",
    "copy_windows_by_planes",
    "offset_view",
    "pad_hw",
    "pair",
    "pool_geometry",
    "row_transposed_conv",
    "wide_columns_to_image",
    "widen_rows",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def pair(where: str, name: str, value: Any) -> tuple[int, int]:
    """An int or a 1- or 2-sequence of ints as (height, width), PyTorch's accepted forms.

    Raises TypeError for non-integers (floats, bools) and RuntimeError for a wrong length.
    """
    if _is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)):
        if not all(_is_int(item) for item in value):
            raise TypeError(f"{where}: {name} must be an int or a tuple of two ints, "
                            f"got {value!r}")
        if len(value) == 1:
            return int(value[0]), int(value[0])
        if len(value) == 2:
            return int(value[0]), int(value[1])
        raise RuntimeError(f"{where}: {name} must be a single int or a tuple of two ints, "
                           f"got {value!r}")
    raise TypeError(f"{where}: {name} must be an int or a tuple of two ints, "
                    f"got {type(value).__name__} {value!r}")


def as_batch(array: np.ndarray) -> np.ndarray:
    """View an unbatched (C, H, W) array as a batch of one (1, C, H, W)."""
    return array[None] if array.ndim == 3 else array


@dataclass(frozen=True)
class PoolGeometry:
    """Where the windows of a pooling op sit on one (H, W) plane.

    `pad_before` is the user's padding; `pad_after` may exceed it when ceil_mode lets the
    last window run past the padded input (the overhang is filled like padding but never
    counted by avg_pool's divisor).
    """

    in_size: tuple[int, int]
    out_size: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad_before: tuple[int, int]
    pad_after: tuple[int, int]

    @property
    def tiles(self) -> bool:
        """Windows tile the input exactly: kernel == stride, no padding, no dilation, no
        remainder. Then the windows are a reshape of the input, and every input pixel lies
        in exactly one window."""
        return (self.kernel == self.stride and self.dilation == (1, 1)
                and self.pad_before == (0, 0) and self.pad_after == (0, 0)
                and all(o * k == n for o, k, n in zip(self.out_size, self.kernel,
                                                      self.in_size)))

    @property
    def disjoint(self) -> bool:
        """No input pixel lies in two windows (stride at least the dilated kernel span)."""
        return all(s >= d * (k - 1) + 1
                   for s, d, k in zip(self.stride, self.dilation, self.kernel))

    @property
    def needs_padding(self) -> bool:
        return self.pad_before != (0, 0) or self.pad_after != (0, 0)


def pool_output_length(size: int, kernel: int, stride: int, pad: int, dilation: int,
                       ceil_mode: bool) -> int:
    """PyTorch's pooling output length along one axis.

    floor (or ceil) of (size + 2 * pad - dilation * (kernel - 1) - 1) / stride, plus one;
    in ceil_mode the last window must still start inside the input or the left padding.
    """
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    length = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (length - 1) * stride >= size + pad:
        length -= 1
    return length


def pool_geometry(in_size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                  padding: tuple[int, int], dilation: tuple[int, int],
                  ceil_mode: bool) -> PoolGeometry:
    """Output size and the padding the window views need (arguments already validated)."""
    out_size = tuple(pool_output_length(*args, ceil_mode) for args in
                     zip(in_size, kernel, stride, padding, dilation))
    pad_after = []
    for n, o, k, s, p, d in zip(in_size, out_size, kernel, stride, padding, dilation):
        needed = (o - 1) * s + d * (k - 1) + 1  # padded length the last window reaches
        pad_after.append(max(needed - n - p, 0))
    return PoolGeometry(tuple(in_size), out_size, tuple(kernel), tuple(stride),
                        tuple(dilation), tuple(padding), tuple(pad_after))


def pad_hw(array: np.ndarray, top: int, bottom: int, left: int, right: int,
           value: Any = 0) -> np.ndarray:
    """A copy of `array` (..., H, W) with `value` around its last two axes (itself if no pad)."""
    if top == bottom == left == right == 0:
        return array
    *lead, height, width = array.shape
    padded = np.full((*lead, height + top + bottom, width + left + right), value,
                     dtype=array.dtype)
    padded[..., top:top + height, left:left + width] = array
    return padded


def offset_view(padded: np.ndarray, i: int, j: int, out_size: tuple[int, int],
                stride: tuple[int, int], dilation: tuple[int, int]) -> np.ndarray:
    """The pixels kernel offset (i, j) sees, for every output: a strided view (..., Ho, Wo)."""
    top = i * dilation[0]
    left = j * dilation[1]
    return padded[..., top:top + stride[0] * (out_size[0] - 1) + 1:stride[0],
                  left:left + stride[1] * (out_size[1] - 1) + 1:stride[1]]


def conv_windows(padded: np.ndarray, groups: int, kernel: tuple[int, int],
                 out_size: tuple[int, int], stride: tuple[int, int],
                 dilation: tuple[int, int]) -> np.ndarray:
    """All windows of a padded (N, C, Hp, Wp) input as a view (N, G, kH, kW, C // G, Ho, Wo).

    Offsets come before channels so that, after the GEMM, the column gradient of one offset
    is a contiguous block (N, C, Ho, Wo) per image; see `conv_transpose2d_array` in `conv`.
    """
    batch, channels = padded.shape[:2]
    stride_n, stride_c, stride_h, stride_w = padded.strides
    per_group = channels // groups
    shape = (batch, groups, kernel[0], kernel[1], per_group, out_size[0], out_size[1])
    strides = (stride_n, per_group * stride_c, dilation[0] * stride_h, dilation[1] * stride_w,
               stride_c, stride[0] * stride_h, stride[1] * stride_w)
    return as_strided(padded, shape=shape, strides=strides, writeable=False)


def columns_to_image(column_grad: np.ndarray, height: int, width: int,
                     padding: tuple[int, int, int, int], stride: tuple[int, int],
                     dilation: tuple[int, int]) -> np.ndarray:
    """Add column gradients (N, G, kH, kW, C/G, Ho, Wo) back onto the input: (N, C, H, W).

    The adjoint of `conv_windows`: each column entry was copied from one input pixel (or
    from padding), so its gradient is added there, one kernel offset at a time: kH * kW
    strided adds, never one per pixel. Overwrites `column_grad` (a scratch array) on the
    fast path.
    """
    count, groups, kernel_h, kernel_w, per_group, out_h, out_w = column_grad.shape
    top, bottom, left, right = padding
    if stride == (1, 1) and out_w == width:
        return _columns_to_image_by_planes(column_grad, height, width, padding, dilation)
    padded = np.zeros((count, groups, per_group, height + top + bottom, width + left + right),
                      dtype=column_grad.dtype)
    for i in range(kernel_h):
        for j in range(kernel_w):
            view = offset_view(padded, i, j, (out_h, out_w), stride, dilation)
            view += column_grad[:, :, i, j]
    image = padded.reshape(count, groups * per_group, *padded.shape[-2:])
    return image[:, :, top:top + height, left:left + width]


def _columns_to_image_by_planes(column_grad: np.ndarray, height: int, width: int,
                                padding: tuple[int, int, int, int],
                                dilation: tuple[int, int]) -> np.ndarray:
    """`columns_to_image` for stride 1 when output rows are as wide as input rows.

    Then, in a buffer whose rows carry no column padding, one kernel offset's whole
    (Ho, Wo) plane lands on consecutive pixels, shifted by the offset: one long run per
    plane instead of a short run per row. Entries that came from the left or right padding
    would wrap into a neighbouring row, so they are zeroed first (padding gets no gradient);
    `left` and `right` spare elements at the buffer's ends catch the first and last shifts.
    """
    count, groups, kernel_h, kernel_w, per_group, out_h, out_w = column_grad.shape
    top, bottom, left, right = padding
    rows = height + top + bottom
    plane = rows * width
    buffer = np.zeros(left + count * groups * per_group * plane + right,
                      dtype=column_grad.dtype)
    item = buffer.itemsize
    strides = (groups * per_group * plane * item, per_group * plane * item, plane * item, item)
    for i in range(kernel_h):
        for j in range(kernel_w):
            shift = j * dilation[1] - left  # input column that output column 0 reads
            source = column_grad[:, :, i, j]  # (N, G, C/G, Ho, Wo)
            if shift < 0:
                source[..., :-shift] = 0
            elif shift > 0:
                source[..., max(width - shift, 0):] = 0
            start = left + i * dilation[0] * width + shift
            target = as_strided(buffer[start:], shape=(count, groups, per_group, out_h * out_w),
                                strides=strides)
            target += source.reshape(count, groups, per_group, out_h * out_w)
    image = buffer[left:left + count * groups * per_group * plane]
    return image.reshape(count, groups * per_group, rows, width)[:, :, top:top + height]


def widen_rows(rows: np.ndarray, width: int) -> np.ndarray:
    """Copy (..., Ho, Wo) into zeros of shape (..., Ho, width), width >= Wo, flattened to
    (..., Ho * width): output rows as wide as the padded input's, for
    `wide_columns_to_image`."""
    wide = np.zeros(rows.shape[:-1] + (width,), dtype=rows.dtype)
    wide[..., :rows.shape[-1]] = rows
    return wide.reshape(*rows.shape[:-2], -1)


def wide_columns_to_image(column_grad: np.ndarray, height: int, width: int,
                          padding: tuple[int, int, int, int],
                          dilation: tuple[int, int]) -> np.ndarray:
    """`columns_to_image` for stride 1, from column gradients whose rows have the padded
    input's width: (N, G, kH, kW, C/G, Ho * Wp), zero past column Wo (see `widen_rows`).

    Then one kernel offset's whole plane lands on consecutive pixels of the padded input,
    shifted by the offset: one long add per plane instead of a short add per row. The zero
    columns land on the next row's first pixels and add nothing; `(kW - 1) * dilation`
    spare elements at the buffer's end catch the last plane's overhang.
    """
    count, groups, kernel_h, kernel_w, per_group, length = column_grad.shape
    top, bottom, left, right = padding
    rows, row_width = height + top + bottom, width + left + right
    plane = rows * row_width
    planes = count * groups * per_group
    buffer = np.zeros(planes * plane + (kernel_w - 1) * dilation[1], dtype=column_grad.dtype)
    item = buffer.itemsize
    strides = (groups * per_group * plane * item, per_group * plane * item, plane * item, item)
    for i in range(kernel_h):
        for j in range(kernel_w):
            start = i * dilation[0] * row_width + j * dilation[1]
            target = as_strided(buffer[start:], shape=(count, groups, per_group, length),
                                strides=strides)
            target += column_grad[:, :, i, j]
    image = buffer[:planes * plane].reshape(count, groups * per_group, rows, row_width)
    return image[:, :, top:top + height, left:left + width]


def row_transposed_conv(grad: np.ndarray, row_kernel: np.ndarray, kernel_h: int,
                        padding: tuple[int, int, int, int], height: int,
                        width: int) -> np.ndarray:
    """Input gradient of a stride-1, undilated, ungrouped conv: (N, O, Ho, Wo) -> (N, C, H, W).

    `row_kernel` is the weight as ((i, c), (o, j)): (kH * C, O * kW). The transposed
    convolution is split by kernel row: windows are taken along the width only (kW
    shifted copies of the zero-padded gradient, each one long run per plane), one GEMM
    gives every kernel row's contribution at once, and kH row-shifted adds sum them. This
    copies kW times the gradient instead of kH * kW times the input, and adds kH times
    instead of kH * kW times (see `wide_columns_to_image` for the kH * kW version).
    """
    count, out_channels, out_h, out_w = grad.shape
    kernel_w = row_kernel.shape[1] // out_channels
    channels = row_kernel.shape[0] // kernel_h
    padded_w = out_w + kernel_w - 1  # the padded input's width
    length = out_h * padded_w
    # gradient rows with kW - 1 zeros in front, as wide as the padded input, one flat
    # buffer with kW - 1 spare zeros at the end
    flat = np.zeros(count * out_channels * length + kernel_w - 1, dtype=grad.dtype)
    planes = flat[:count * out_channels * length].reshape(count, out_channels, out_h, padded_w)
    planes[..., kernel_w - 1:] = grad
    item = flat.itemsize
    # (N, O, kW, Ho * Wp): offset j sees the gradient shifted right by j; what a shift
    # pushes past a row's end reads the next row's leading zeros (or the spare ones)
    shifted = as_strided(flat[kernel_w - 1:], shape=(count, out_channels, kernel_w, length),
                         strides=(out_channels * length * item, length * item, -item, item),
                         writeable=False)
    columns = np.ascontiguousarray(shifted).reshape(count, out_channels * kernel_w, length)
    # (N, kH, C, Ho, Wp): what kernel row i sends to padded input rows i .. i + Ho - 1
    rows = np.matmul(row_kernel, columns).reshape(count, kernel_h, channels, out_h, padded_w)
    image = np.zeros((count, channels, out_h + kernel_h - 1, padded_w), dtype=grad.dtype)
    for i in range(kernel_h):
        image[:, :, i:i + out_h] += rows[:, i]
    top, _, left, _ = padding
    return image[:, :, top:top + height, left:left + width]


def conv_windows_by_columns(padded: np.ndarray, groups: int, kernel: tuple[int, int],
                            out_size: tuple[int, int], stride: tuple[int, int],
                            dilation: tuple[int, int]) -> np.ndarray:
    """`conv_windows` read from a copy cut to the output width: same shape and values.

    First the kW column offsets are copied out, each row cut to Wo pixels:
    (N, G, kW, C/G, Hp, Wo), kW times the input (runs of Wo). In that copy, with row
    stride 1, the Ho rows one kernel row sees are consecutive: copying the windows out of it
    moves runs of Ho * Wo pixels instead of Wo. On small planes (LeNet's 8x8 output) that
    makes the column matrix about 40% faster to build, first copy included.
    """
    batch, channels = padded.shape[:2]
    stride_n, stride_c, stride_h, stride_w = padded.strides
    per_group = channels // groups
    out_h, out_w = out_size
    shape = (batch, groups, kernel[1], per_group, padded.shape[2], out_w)
    strides = (stride_n, per_group * stride_c, dilation[1] * stride_w, stride_c, stride_h,
               stride[1] * stride_w)
    cut = np.ascontiguousarray(as_strided(padded, shape=shape, strides=strides,
                                          writeable=False))
    cut_n, cut_g, cut_j, cut_c, cut_h, cut_w = cut.strides
    shape = (batch, groups, kernel[0], kernel[1], per_group, out_h, out_w)
    strides = (cut_n, cut_g, dilation[0] * cut_h, cut_j, cut_c, stride[0] * cut_h, cut_w)
    return as_strided(cut, shape=shape, strides=strides, writeable=False)


def copy_windows_by_planes(batch: np.ndarray, target: np.ndarray,
                           padding: tuple[int, int, int, int],
                           dilation: tuple[int, int]) -> None:
    """Fill `target` (N, G, kH, kW, C/G, Ho, Wo) with the windows of a stride-1 conv whose
    output rows are as wide as the input's (Wo == W): the adjoint of
    `_columns_to_image_by_planes`.

    In a buffer whose rows carry no column padding, the pixels one kernel offset sees
    over the whole (Ho, Wo) plane are consecutive, shifted by the offset: one run of
    Ho * Wo pixels per plane instead of one per row. Pixels a shift wraps in from the
    neighbouring row stand for column padding and are zeroed afterwards.
    """
    count, groups, kernel_h, kernel_w, per_group, out_h, out_w = target.shape
    top, bottom, left, right = padding
    height, width = batch.shape[-2:]
    rows = height + top + bottom
    plane = rows * width
    planes = count * groups * per_group
    buffer = np.zeros(left + planes * plane + right, dtype=batch.dtype)
    buffer[left:left + planes * plane].reshape(count, groups * per_group, rows, width)[
        :, :, top:top + height] = batch
    item = buffer.itemsize
    shape = (count, groups, kernel_h, kernel_w, per_group, out_h * out_w)
    strides = (groups * per_group * plane * item, per_group * plane * item,
               dilation[0] * width * item, dilation[1] * item, plane * item, item)
    # offset (i, j) starts at buffer[left + i * d0 * W + j * d1 - left]
    windows = as_strided(buffer, shape=shape, strides=strides, writeable=False)
    np.copyto(target.reshape(shape), windows)
    for j in range(kernel_w):
        shift = j * dilation[1] - left  # input column that output column 0 reads
        if shift < 0:
            target[:, :, :, j, :, :, :-shift] = 0
        elif shift > 0:
            target[:, :, :, j, :, :, max(width - shift, 0):] = 0
