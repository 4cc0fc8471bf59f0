"""Pooling over sequences (N, C, L) and volumes (N, C, D, H, W), plus unpooling and Lp pooling.

Built from the 2-D family in `pool` and its closed op pairs, so every function here is twice
differentiable without a backward of its own:

    1-D pools               the 2-D pools on (N, C, 1, L) images
    avg_pool3d              window sums of (H, W) planes, then of depth runs, / divisor
    adaptive_avg_pool3d     adaptive means over (H, W), then over depth (windows separate)
    max_pool3d, adaptive_max_pool3d
                            winners found on arrays (no gradient), values read with
                            `plane_gather`, whose backward is `plane_scatter_add` and back
    max_unpool1d/2d/3d      values written at the indices; backward `plane_gather`
    lp_pool1d/2d/3d         (sum of x ** p over each window) ** (1 / p), as PyTorch does
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._windows import _is_int, pair, pool_output_length
from .activation import relu
from .conv1d import single
from .conv3d import triple
from .pool import (
    PlaneGather,
    _adaptive_bounds,
    _lowest,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
)

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool3d",
    "avg_pool1d", "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_pool1d",
    "max_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d",
]


def _check_input(where: str, input: Any, dims: int) -> None:
    """A Tensor with `dims` spatial dims, batched or not, no empty channel or spatial size."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        names = ("L", "H, W", "D, H, W")[dims - 1]
        raise RuntimeError(f"{where}: expected a {dims + 1}-D (C, {names}) or {dims + 2}-D "
                           f"(N, C, {names}) input, got input of shape {input.shape}")
    if 0 in input.shape[-dims - 1:]:
        raise RuntimeError(f"{where}: expected non-zero channel and spatial sizes, got input "
                           f"of shape {input.shape}")
    if input.dtype.kind == "b":
        raise NotImplementedError(f"{where}: not implemented for bool input")


def _image(input: Tensor) -> Tensor:
    """(..., C, L) -> (..., C, 1, L)."""
    return input.reshape(*input.shape[:-1], 1, input.shape[-1])


def _sequence(output: Tensor) -> Tensor:
    """(..., C, 1, L) -> (..., C, L)."""
    return output.reshape(*output.shape[:-2], output.shape[-1])


def _default_stride(stride: Any, kernel: Any) -> Any:
    return kernel if stride is None or stride == [] or stride == () else stride


def _constant(array: np.ndarray) -> Tensor:
    return Tensor._from_op(array)


# ---- 1-D pooling: the 2-D pools on height-1 images --------------------------------------
def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over sliding windows of a sequence, as `torch.nn.functional.max_pool1d`.

    Shape: (N, C, L) or (C, L) -> (N, C, L_out),
    L_out = floor((L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1 (ceil
    in ceil_mode). return_indices: also the int64 position of each max in its sequence.
    """
    where = "max_pool1d"
    _check_input(where, input, 1)
    kernel = single(where, "kernel_size", kernel_size)
    stride = single(where, "stride", _default_stride(stride, kernel))
    result = max_pool2d(_image(input), (1, kernel), (1, stride),
                        (0, single(where, "padding", padding)),
                        (1, single(where, "dilation", dilation)), ceil_mode, return_indices)
    if return_indices:
        return _sequence(result[0]), _sequence(result[1])
    return _sequence(result)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over sliding windows of a sequence, as `torch.nn.functional.avg_pool1d`.

    Shape: (N, C, L) or (C, L) -> (N, C, L_out),
    L_out = floor((L + 2 * padding - kernel_size) / stride) + 1 (ceil in ceil_mode).
    """
    where = "avg_pool1d"
    _check_input(where, input, 1)
    kernel = single(where, "kernel_size", kernel_size)
    stride = single(where, "stride", _default_stride(stride, kernel))
    return _sequence(avg_pool2d(_image(input), (1, kernel), (1, stride),
                                (0, single(where, "padding", padding)), ceil_mode,
                                count_include_pad))


def _adaptive_size_1d(where: str, output_size: Any) -> int:
    size = output_size
    if isinstance(size, (tuple, list)) and len(size) == 1:
        size = size[0]
    if not _is_int(size):
        raise TypeError(f"{where}: output_size must be an int or a tuple of one int, got "
                        f"{output_size!r}")
    if size < 0:
        raise RuntimeError(f"{where}: output_size must be non-negative, got {output_size!r}")
    return int(size)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of a sequence to `output_size` positions, as
    `torch.nn.functional.adaptive_avg_pool1d`. Shape: (N, C, L) -> (N, C, output_size)."""
    where = "adaptive_avg_pool1d"
    _check_input(where, input, 1)
    size = _adaptive_size_1d(where, output_size)
    return _sequence(adaptive_avg_pool2d(_image(input), (1, size)))


def adaptive_max_pool1d(input: Tensor, output_size: Any,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of a sequence to `output_size` positions, as
    `torch.nn.functional.adaptive_max_pool1d`. Shape: (N, C, L) -> (N, C, output_size)."""
    where = "adaptive_max_pool1d"
    _check_input(where, input, 1)
    size = _adaptive_size_1d(where, output_size)
    result = adaptive_max_pool2d(_image(input), (1, size), return_indices)
    if return_indices:
        return _sequence(result[0]), _sequence(result[1])
    return _sequence(result)


# ---- 3-D pooling ------------------------------------------------------------------------
def _pool3d_arguments(where: str, input: Any, kernel_size: Any, stride: Any, padding: Any,
                      dilation: Any, ceil_mode: bool) -> tuple:
    """Validated (kernel, stride, padding, dilation, out_size) triples of a 3-D pool."""
    _check_input(where, input, 3)
    kernel = triple(where, "kernel_size", kernel_size)
    stride = triple(where, "stride", _default_stride(stride, kernel))
    padding = triple(where, "padding", padding)
    dilation = triple(where, "dilation", dilation)
    if min(kernel) <= 0:
        raise RuntimeError(f"{where}: kernel_size must be positive, got kernel_size={kernel}")
    if min(stride) <= 0:
        raise RuntimeError(f"{where}: stride must be positive, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{where}: dilation must be positive, got dilation={dilation}")
    if min(padding) < 0:
        raise RuntimeError(f"{where}: padding must be non-negative, got padding={padding}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise RuntimeError(f"{where}: pad should be at most half of effective kernel size, "
                           f"but got padding={padding}, kernel_size={kernel} and "
                           f"dilation={dilation}")
    out_size = tuple(pool_output_length(n, k, s, p, d, bool(ceil_mode)) for n, k, s, p, d in
                     zip(input.shape[-3:], kernel, stride, padding, dilation))
    if min(out_size) < 1:
        channels = input.shape[-4]
        raise RuntimeError(f"{where}: Given input size {(channels, *input.shape[-3:])}, "
                           f"calculated output size {(channels, *out_size)} is too small")
    return kernel, stride, padding, dilation, out_size


def _argmax_in_windows(batch: np.ndarray, positions: list[np.ndarray],
                       pad_before: tuple[int, ...]) -> np.ndarray:
    """Flat index (d * H + h) * W + w of the max of every window of (N, C, D, H, W).

    positions[a] (out_a, k_a): the padded coordinate along axis a that window o's offset t
    reads. Windows are gathered as (N, C, Do, Ho, Wo, kD, kH, kW) from an input padded with
    the lowest value; the first max in (d, h, w) order wins (the last NaN, if any), as in
    PyTorch. A padding position can only win a window of lowest values, where PyTorch names
    the window's first pixel inside the input: clipping to the input gives exactly that.
    """
    sizes = batch.shape[2:]
    pad_after = [max(int(p.max()) + 1 - n - before, 0)
                 for p, n, before in zip(positions, sizes, pad_before)]
    widths = ((0, 0), (0, 0)) + tuple(zip(pad_before, pad_after))
    padded = np.pad(batch, widths, constant_values=_lowest(batch.dtype))
    d, h, w = positions
    windows = padded[:, :, d[:, None, None, :, None, None], h[None, :, None, None, :, None],
                     w[None, None, :, None, None, :]]
    out_shape = windows.shape[:5]
    flat = windows.reshape(*out_shape, -1)
    offset = flat.argmax(axis=-1)
    if batch.dtype.kind == "f" and np.isnan(flat).any():
        # PyTorch's scan lets every NaN replace the max: the last NaN of a window wins
        nan = np.isnan(flat)
        last_nan = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        offset = np.where(nan.any(axis=-1), last_nan, offset)
    t_d, t_h, t_w = np.unravel_index(offset, tuple(p.shape[1] for p in positions))
    o_d, o_h, o_w = np.indices(out_shape[2:], sparse=True)
    coords = [np.clip(p[o, t] - before, 0, n - 1) for p, o, t, before, n in
              zip(positions, (o_d, o_h, o_w), (t_d, t_h, t_w), pad_before, sizes)]
    return (coords[0] * sizes[1] + coords[1]) * sizes[2] + coords[2]


def _gather_volume(input: Tensor, index: np.ndarray) -> Tensor:
    """input (N, C, D, H, W) read at flat in-volume positions `index` (N, C, Do, Ho, Wo)."""
    lead = input.shape[:-3]
    flat = input.reshape(*lead, 1, -1)
    picked = PlaneGather.apply(flat, _constant(index.reshape(*lead, 1, -1)))
    return picked.reshape(*lead, *index.shape[-3:])


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over sliding 3-D windows, as `torch.nn.functional.max_pool3d`.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out), each size
    floor((n + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1 (ceil in ceil_mode).
    return_indices: also the int64 flat index (d * H + h) * W + w of each max.
    """
    kernel, stride, padding, dilation, out_size = _pool3d_arguments(
        "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode)
    positions = [np.arange(o)[:, None] * s + np.arange(k)[None, :] * d
                 for o, k, s, d in zip(out_size, kernel, stride, dilation)]
    batch = input.data if input.ndim == 5 else input.data[None]
    index = _argmax_in_windows(batch, positions, padding)
    index = index if input.ndim == 5 else index[0]
    output = _gather_volume(input, index)
    return (output, Tensor._from_op(index)) if return_indices else output


def _divisor_lengths(size: int, out: int, kernel: int, stride: int, pad: int,
                     count_include_pad: bool) -> np.ndarray:
    """How many pixels of each window along one axis the average divides by."""
    starts = np.arange(out) * stride - pad
    ends = np.minimum(starts + kernel, size + pad)
    if not count_include_pad:
        starts = np.maximum(starts, 0)
        ends = np.minimum(ends, size)
    return ends - starts


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over sliding 3-D windows, as `torch.nn.functional.avg_pool3d`.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out), each size
    floor((n + 2 * padding - kernel) / stride) + 1 (ceil in ceil_mode). The divisor is
    divisor_override, else the window clipped to the padded input (count_include_pad) or
    to the input. Computed as sums over (H, W) windows, then over depth runs of those.
    """
    where = "avg_pool3d"
    kernel, stride, padding, _, out_size = _pool3d_arguments(
        where, input, kernel_size, stride, padding, 1, ceil_mode)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{where}: not implemented for dtype {input.dtype}")
    if divisor_override is not None:
        if not _is_int(divisor_override):
            raise TypeError(f"{where}: divisor_override must be an int, got "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError(f"{where}: divisor_override must be non-zero, got 0")
        divisor = np.full(out_size, divisor_override, dtype=input.dtype)
    else:
        lengths = [_divisor_lengths(n, o, k, s, p, bool(count_include_pad)) for n, o, k, s, p
                   in zip(input.shape[-3:], out_size, kernel, stride, padding)]
        divisor = (lengths[0][:, None, None] * lengths[1][None, :, None]
                   * lengths[2][None, None, :]).astype(input.dtype)
    lead = input.shape[:-4]
    channels, depth, height, width = input.shape[-4:]
    # (…, C * D, H, W) -> sums over (H, W) windows (…, C * D, Ho, Wo)
    planes = input.reshape(*lead, channels * depth, height, width)
    sums = avg_pool2d(planes, kernel[1:], stride[1:], padding[1:], ceil_mode, True, 1)
    # depth last: (…, C, Ho * Wo, D) -> sums over depth windows (…, C, Ho * Wo, Do)
    runs = sums.reshape(*lead, channels, depth, -1).transpose(-1, -2)
    sums = avg_pool2d(runs, (1, kernel[0]), (1, stride[0]), (0, padding[0]), ceil_mode, True, 1)
    total = sums.transpose(-1, -2).reshape(*lead, channels, *out_size)
    return total / _constant(divisor)


def _adaptive_sizes_3d(where: str, input: Tensor, output_size: Any) -> tuple[int, int, int]:
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 3:
            raise ValueError(f"{where}: output_size must be an int or a triple, got "
                             f"{output_size!r}")
        sizes = tuple(input.shape[-3 + axis] if value is None else value
                      for axis, value in enumerate(output_size))
    else:
        sizes = output_size
    sizes = triple(where, "output_size", sizes)
    if min(sizes) < 0:
        raise RuntimeError(f"{where}: output_size must be non-negative, got {sizes}")
    return sizes


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of a volume to `output_size` (an int or a triple, None keeps a size),
    as `torch.nn.functional.adaptive_avg_pool3d`.

    Shape: (N, C, D, H, W) -> (N, C, *output_size). The windows are products of per-axis
    ranges, so the mean is the adaptive mean over (H, W), then over depth.
    """
    where = "adaptive_avg_pool3d"
    _check_input(where, input, 3)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{where}: not implemented for dtype {input.dtype}")
    sizes = _adaptive_sizes_3d(where, input, output_size)
    lead = input.shape[:-4]
    channels, depth, height, width = input.shape[-4:]
    planes = input.reshape(*lead, channels * depth, height, width)
    means = adaptive_avg_pool2d(planes, sizes[1:])  # (…, C * D, Ho, Wo)
    runs = means.reshape(*lead, channels, depth, -1).transpose(-1, -2)  # (…, C, Ho*Wo, D)
    means = adaptive_avg_pool2d(runs, (None, sizes[0]))
    return means.transpose(-1, -2).reshape(*lead, channels, *sizes)


def adaptive_max_pool3d(input: Tensor, output_size: Any,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of a volume to `output_size`, as `torch.nn.functional.adaptive_max_pool3d`.

    Windows as `adaptive_avg_pool3d`; the first max in (d, h, w) order wins.
    return_indices: also the int64 flat index (d * H + h) * W + w of each max.
    """
    where = "adaptive_max_pool3d"
    _check_input(where, input, 3)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{where}: not implemented for dtype {input.dtype}")
    sizes = _adaptive_sizes_3d(where, input, output_size)
    positions = []
    for size, out in zip(input.shape[-3:], sizes):
        starts, ends = _adaptive_bounds(size, out)
        longest = int((ends - starts).max(initial=1))
        # shorter windows repeat their last pixel, which never changes a first max
        positions.append(np.minimum(starts[:, None] + np.arange(longest)[None, :],
                                    ends[:, None] - 1))
    batch = input.data if input.ndim == 5 else input.data[None]
    index = _argmax_in_windows(batch, positions, (0, 0, 0))
    index = index if input.ndim == 5 else index[0]
    output = _gather_volume(input, index)
    return (output, Tensor._from_op(index)) if return_indices else output


# ---- max_unpool -------------------------------------------------------------------------
_SPATIAL = {1: lambda where, name, value: (single(where, name, value),), 2: pair, 3: triple}

def _max_unpool(where: str, dims: int, input: Any, indices: Any, kernel_size: Any,
                stride: Any, padding: Any, output_size: Any) -> Tensor:
    """Scatter `input` to zeros at the flat in-plane `indices` (a max pool's)."""
    as_tuple = _SPATIAL[dims]
    _check_input(where, input, dims)
    if not isinstance(indices, Tensor):
        raise TypeError(f"{where}: indices must be a Tensor, got {type(indices).__name__}")
    if indices.dtype != np.int64:
        raise RuntimeError(f"{where}: indices must be an int64 tensor, got {indices.dtype}")
    if indices.shape != input.shape:
        raise RuntimeError(f"{where}: expected shape of indices to be the same as that of "
                           f"the input, got indices {indices.shape} and input {input.shape}")
    kernel = as_tuple(where, "kernel_size", kernel_size)
    stride = as_tuple(where, "stride", _default_stride(stride, kernel))
    padding = as_tuple(where, "padding", padding)
    spatial = input.shape[-dims:]
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(spatial, stride, padding,
                                                                  kernel))
    if output_size is None:
        sizes = default
    else:
        sizes = tuple(int(n) for n in output_size)
        if len(sizes) in (dims + 1, dims + 2):
            sizes = sizes[-dims:]
        if len(sizes) != dims:
            raise ValueError(f"{where}: output_size should have {dims} or {dims + 2} "
                             f"elements, got {tuple(output_size)}")
        for size, low, s in zip(sizes, default, stride):
            if not low - s < size < low + s:
                raise ValueError(f"{where}: invalid output_size {tuple(output_size)} (dim "
                                 f"sizes must be between {tuple(d - s + 1 for d in default)} "
                                 f"and {tuple(d + s - 1 for d in default)})")
    length = int(np.prod(sizes))
    flat_index = indices.data.reshape(*input.shape[:-dims], 1, -1)
    if flat_index.size and (flat_index.min() < 0 or flat_index.max() >= length):
        raise RuntimeError(f"{where}: Found an invalid max index {int(flat_index.max())} "
                           f"(output volumes are of size {'x'.join(map(str, sizes))})")
    lead = input.shape[:-dims]
    values = input.reshape(*lead, 1, -1)
    out = MaxUnpool.apply(values, _constant(flat_index), input_shape=(*lead, 1, length))
    return out.reshape(*lead, *sizes)


class MaxUnpool(Function):
    """values (..., 1, L) written into zeros of `input_shape` (..., 1, M) at constant flat
    indices (..., 1, L). Overlapping max-pool windows repeat an index with the same value;
    as in PyTorch it is written, not added, and each copy's gradient is the gradient read
    there. Backward: `plane_gather` (whose own backward is `plane_scatter_add`)."""

    def forward(self, values: np.ndarray, index: np.ndarray,
                input_shape: tuple[int, ...]) -> np.ndarray:
        self.index = index
        out = np.zeros(input_shape, dtype=values.dtype)
        np.put_along_axis(out, index, values, axis=-1)
        return out

    def backward(self, xp: Any, grad: Any) -> tuple:
        return xp.plane_gather(grad, self.index), None


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool1d, as `torch.nn.functional.max_unpool1d`: each value
    goes to its index, every other position is zero. Shape: (N, C, L) -> (N, C, L_out),
    L_out = (L - 1) * stride - 2 * padding + kernel_size, or output_size."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool2d, as `torch.nn.functional.max_unpool2d`.
    Shape: (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - 1) * stride - 2 * padding
    + kernel_size, or output_size."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool3d, as `torch.nn.functional.max_unpool3d`.
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out), sizes as max_unpool2d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


# ---- Lp pooling -------------------------------------------------------------------------
def _lp_finish(sums: Tensor, norm_type: float, count: int) -> Tensor:
    """PyTorch's (sign(s) * relu(|s|) * count) ** (1 / p) of the window means s."""
    sign = _constant(np.sign(sums.data))  # piecewise constant: no gradient
    return (sign * relu(sums.abs()) * count) ** (1.0 / norm_type)


def _check_norm(where: str, norm_type: Any) -> float:
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.number)):
        raise TypeError(f"{where}: norm_type must be a number, got "
                        f"{type(norm_type).__name__}")
    return float(norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling, (sum of x ** p over each window) ** (1 / p), as
    `torch.nn.functional.lp_pool1d`. Shape: (N, C, L) -> (N, C, L_out) as avg_pool1d."""
    where = "lp_pool1d"
    norm = _check_norm(where, norm_type)
    _check_input(where, input, 1)
    kernel = single(where, "kernel_size", kernel_size)
    means = avg_pool1d(input ** norm, kernel, stride, 0, ceil_mode)
    return _lp_finish(means, norm, kernel)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over 2-D windows, as `torch.nn.functional.lp_pool2d`.
    Shape: (N, C, H, W) -> (N, C, H_out, W_out) as avg_pool2d without padding."""
    where = "lp_pool2d"
    norm = _check_norm(where, norm_type)
    _check_input(where, input, 2)
    kernel = pair(where, "kernel_size", kernel_size)
    means = avg_pool2d(input ** norm, kernel, _default_stride(stride, kernel), 0, ceil_mode)
    return _lp_finish(means, norm, kernel[0] * kernel[1])


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over 3-D windows, as `torch.nn.functional.lp_pool3d`.
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out) as avg_pool3d without padding."""
    where = "lp_pool3d"
    norm = _check_norm(where, norm_type)
    _check_input(where, input, 3)
    kernel = triple(where, "kernel_size", kernel_size)
    means = avg_pool3d(input ** norm, kernel, stride, 0, ceil_mode)
    return _lp_finish(means, norm, kernel[0] * kernel[1] * kernel[2])


_FUNCTIONS = {name: globals()[name] for name in __all__}
TENSOR_METHODS: dict = {}
FUNCTIONAL = dict(_FUNCTIONS)
TOPLEVEL: dict = {}
