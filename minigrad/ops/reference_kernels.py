"""Reference conv2d, max_pool2d and avg_pool2d: one loop over output positions, on paper's terms.

These are the seed notebook's loops, corrected: NCHW instead of NHWC, every argument PyTorch
takes (stride, padding, dilation and groups for conv; kernel, stride, padding, dilation,
ceil_mode, count_include_pad and divisor_override for pooling), gradients for padded inputs,
and the batch and channels handled by NumPy inside each position instead of more loops.
They are slow and meant to be read, and to check the fast kernels in `conv` and `pool` against:
`mg.set_kernels("reference")` makes the public functions run these.

Each Function takes exactly the options its fast twin gets from the public function (which
has validated them): conv padding as (top, bottom, left, right), pooling padding as a pair.
Their backward loops write into arrays, so they are once differentiable (PyTorch's
@once_differentiable): first order only; gradients of gradients need the fast kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function

__all__ = [
    "REFERENCE_KERNELS",
    "AvgPool2dReference",
    "Conv2dReference",
    "MaxPool2dReference",
]


def _window(start: int, size: int, dilation: int) -> slice:
    """The rows (or columns) a window starting at `start` reads: size taps, dilation apart."""
    return slice(start, start + dilation * (size - 1) + 1, dilation)


def _pool_output_length(size: int, kernel: int, stride: int, pad: int, dilation: int,
                        ceil_mode: bool) -> int:
    """floor (ceil in ceil_mode) of (size + 2 pad - dilation (kernel - 1) - 1) / stride, + 1.

    In ceil_mode a last window that would start past the input (in the right padding) is
    dropped, as PyTorch does.
    """
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    length = -(-span // stride) + 1 if ceil_mode else span // stride + 1
    if ceil_mode and (length - 1) * stride >= size + pad:
        length -= 1
    return length


# ---- conv2d ---------------------------------------------------------------------------
class Conv2dReference(Function):
    """out[n, o, i, j] = bias[o] + sum over the window at (i, j) of input * weight[o].

    Channels are split into `groups`: output channel o sees only the input channels of its
    group. The window of output (i, j) starts at (i * stride, j * stride) in the padded input
    and reads kH x kW pixels `dilation` apart.
    """

    once_differentiable = True

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                stride: tuple[int, int], padding: tuple[int, int, int, int],
                dilation: tuple[int, int], groups: int) -> np.ndarray:
        self.unbatched = x.ndim == 3
        batch = x[None] if self.unbatched else x
        count, _, height, width = batch.shape
        out_channels, per_group, kernel_h, kernel_w = weight.shape
        top, bottom, left, right = padding
        padded = np.pad(batch, ((0, 0), (0, 0), (top, bottom), (left, right)))
        out_h = (height + top + bottom - dilation[0] * (kernel_h - 1) - 1) // stride[0] + 1
        out_w = (width + left + right - dilation[1] * (kernel_w - 1) - 1) // stride[1] + 1
        # (G, O/G, C/G, kH, kW): the filters of each group
        filters = weight.reshape(groups, out_channels // groups, per_group, kernel_h, kernel_w)
        out = np.zeros((count, out_channels, out_h, out_w), dtype=x.dtype)
        for i in range(out_h):
            for j in range(out_w):
                rows = _window(i * stride[0], kernel_h, dilation[0])
                cols = _window(j * stride[1], kernel_w, dilation[1])
                # (N, G, C/G, kH, kW): this position's window, split into groups
                window = padded[:, :, rows, cols].reshape(count, groups, per_group, kernel_h,
                                                          kernel_w)
                out[:, :, i, j] = np.einsum("ngchw,gochw->ngo", window, filters).reshape(
                    count, out_channels)
        if bias is not None:
            out += bias.reshape(1, out_channels, 1, 1)
        self.padded, self.filters = padded, filters
        self.input_shape = batch.shape
        return out[0] if self.unbatched else out

    def backward(self, xp: Any, grad: np.ndarray) -> tuple:
        batch_grad = grad[None] if self.unbatched else grad
        count, channels, height, width = self.input_shape
        groups, per_out, per_group, kernel_h, kernel_w = self.filters.shape
        stride, dilation = self.options["stride"], self.options["dilation"]
        top, _, left, _ = self.options["padding"]
        out_h, out_w = batch_grad.shape[2:]
        grad_padded = np.zeros(self.padded.shape, dtype=grad.dtype)
        grad_filters = np.zeros(self.filters.shape, dtype=grad.dtype)
        for i in range(out_h):
            for j in range(out_w):
                rows = _window(i * stride[0], kernel_h, dilation[0])
                cols = _window(j * stride[1], kernel_w, dilation[1])
                window = self.padded[:, :, rows, cols].reshape(count, groups, per_group,
                                                               kernel_h, kernel_w)
                # (N, G, O/G): the gradient of this output position
                here = batch_grad[:, :, i, j].reshape(count, groups, per_out)
                # each weight met this window's pixel, each pixel met the weights
                grad_filters += np.einsum("ngo,ngchw->gochw", here, window)
                grad_padded[:, :, rows, cols] += np.einsum(
                    "ngo,gochw->ngchw", here, self.filters).reshape(count, channels, kernel_h,
                                                                    kernel_w)
        grad_input = grad_padded[:, :, top:top + height, left:left + width]
        if self.unbatched:
            grad_input = grad_input[0]
        grad_weight = grad_filters.reshape(groups * per_out, per_group, kernel_h, kernel_w)
        grad_bias = batch_grad.sum(axis=(0, 2, 3)) if self.needs_input_grad[2] else None
        return (grad_input if self.needs_input_grad[0] else None,
                grad_weight if self.needs_input_grad[1] else None, grad_bias)


# ---- max_pool2d -----------------------------------------------------------------------
def _lowest(dtype: np.dtype) -> float | int:
    """What padding holds for max pooling: a value no pixel loses to."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


class MaxPool2dReference(Function):
    """out[n, c, i, j] = max of the window at (i, j); the gradient goes to that one pixel.

    Padding counts as -inf, so it never wins. On ties the first maximum in row-major window
    order wins (np.argmax's rule and PyTorch's).
    """

    once_differentiable = True

    def forward(self, x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dilation: tuple[int, int],
                ceil_mode: bool) -> np.ndarray:
        self.unbatched = x.ndim == 3
        batch = x[None] if self.unbatched else x
        count, channels, height, width = batch.shape
        (kernel_h, kernel_w), (pad_h, pad_w) = kernel_size, padding
        out_h = _pool_output_length(height, kernel_h, stride[0], pad_h, dilation[0], ceil_mode)
        out_w = _pool_output_length(width, kernel_w, stride[1], pad_w, dilation[1], ceil_mode)
        # ceil_mode may let the last window hang past the padding: pad that too
        extra_h = max((out_h - 1) * stride[0] + dilation[0] * (kernel_h - 1) + 1
                      - height - 2 * pad_h, 0)
        extra_w = max((out_w - 1) * stride[1] + dilation[1] * (kernel_w - 1) + 1
                      - width - 2 * pad_w, 0)
        padded = np.pad(batch, ((0, 0), (0, 0), (pad_h, pad_h + extra_h),
                                (pad_w, pad_w + extra_w)), constant_values=_lowest(x.dtype))
        out = np.empty((count, channels, out_h, out_w), dtype=x.dtype)
        self.winner = np.empty((count, channels, out_h, out_w), dtype=np.int64)
        for i in range(out_h):
            for j in range(out_w):
                rows = _window(i * stride[0], kernel_h, dilation[0])
                cols = _window(j * stride[1], kernel_w, dilation[1])
                window = padded[:, :, rows, cols].reshape(count, channels, -1)
                winner = np.argmax(window, axis=-1)  # (N, C): first max in the window
                self.winner[:, :, i, j] = winner
                out[:, :, i, j] = np.take_along_axis(window, winner[..., None], -1)[..., 0]
        self.padded_shape = padded.shape
        self.input_shape = batch.shape
        return out[0] if self.unbatched else out

    def backward(self, xp: Any, grad: np.ndarray) -> np.ndarray:
        batch_grad = grad[None] if self.unbatched else grad
        count, channels, height, width = self.input_shape
        kernel_h, kernel_w = self.options["kernel_size"]
        stride, dilation = self.options["stride"], self.options["dilation"]
        pad_h, pad_w = self.options["padding"]
        out_h, out_w = batch_grad.shape[2:]
        grad_padded = np.zeros(self.padded_shape, dtype=grad.dtype)
        taps = np.arange(kernel_h * kernel_w)
        for i in range(out_h):
            for j in range(out_w):
                rows = _window(i * stride[0], kernel_h, dilation[0])
                cols = _window(j * stride[1], kernel_w, dilation[1])
                # (N, C, kH, kW): 1 at the pixel that won this window, 0 elsewhere
                won = (taps == self.winner[:, :, i, j, None]).reshape(count, channels,
                                                                      kernel_h, kernel_w)
                grad_padded[:, :, rows, cols] += won * batch_grad[:, :, i, j, None, None]
        grad_input = grad_padded[:, :, pad_h:pad_h + height, pad_w:pad_w + width]
        return grad_input[0] if self.unbatched else grad_input


# ---- avg_pool2d -----------------------------------------------------------------------
class AvgPool2dReference(Function):
    """out[n, c, i, j] = sum of the window at (i, j) / divisor; backward shares the gradient
    out evenly, grad / divisor to each pixel of the window.

    Padding is zeros. The divisor is divisor_override if given; else the window's size after
    clipping it to the padded input (count_include_pad=True) or to the input itself (False).
    A ceil_mode window hanging past the padding is clipped in both cases.
    """

    once_differentiable = True

    def forward(self, x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], ceil_mode: bool, count_include_pad: bool,
                divisor_override: int | None) -> np.ndarray:
        self.unbatched = x.ndim == 3
        batch = x[None] if self.unbatched else x
        count, channels, height, width = batch.shape
        (kernel_h, kernel_w), (pad_h, pad_w) = kernel_size, padding
        out_h = _pool_output_length(height, kernel_h, stride[0], pad_h, 1, ceil_mode)
        out_w = _pool_output_length(width, kernel_w, stride[1], pad_w, 1, ceil_mode)
        out = np.empty((count, channels, out_h, out_w), dtype=x.dtype)
        self.windows = []  # per output position: (rows, cols, divisor), for backward
        for i in range(out_h):
            for j in range(out_w):
                rows, cols, divisor = self._window_at(i, j, height, width)
                total = batch[:, :, rows, cols].sum(axis=(2, 3), dtype=np.float64
                                                    if x.dtype.kind != "f" else x.dtype)
                if x.dtype.kind == "f":
                    out[:, :, i, j] = total / divisor
                else:  # integer pooling divides rounding toward zero, as C++ does
                    out[:, :, i, j] = np.trunc(total / divisor)
                self.windows.append((i, j, rows, cols, divisor))
        self.input_shape = batch.shape
        return out[0] if self.unbatched else out

    def _window_at(self, i: int, j: int, height: int, width: int) -> tuple[slice, slice, int]:
        """The input rows and columns window (i, j) covers, and its divisor."""
        (kernel_h, kernel_w), (pad_h, pad_w) = self.options["kernel_size"], self.options[
            "padding"]
        stride = self.options["stride"]
        # window bounds in input coordinates; the padded input spans [-pad, size + pad)
        top = i * stride[0] - pad_h
        left = j * stride[1] - pad_w
        bottom = min(top + kernel_h, height + pad_h)
        right = min(left + kernel_w, width + pad_w)
        padded_size = (bottom - top) * (right - left)
        rows = slice(max(top, 0), min(bottom, height))
        cols = slice(max(left, 0), min(right, width))
        inside_size = (rows.stop - rows.start) * (cols.stop - cols.start)
        divisor = self.options["divisor_override"]
        if divisor is None:
            divisor = padded_size if self.options["count_include_pad"] else inside_size
        return rows, cols, divisor

    def backward(self, xp: Any, grad: np.ndarray) -> np.ndarray:
        batch_grad = grad[None] if self.unbatched else grad
        grad_input = np.zeros(self.input_shape, dtype=grad.dtype)
        for i, j, rows, cols, divisor in self.windows:
            grad_input[:, :, rows, cols] += batch_grad[:, :, i, j, None, None] / divisor
        return grad_input[0] if self.unbatched else grad_input


REFERENCE_KERNELS = {
    "conv2d": Conv2dReference,
    "max_pool2d": MaxPool2dReference,
    "avg_pool2d": AvgPool2dReference,
}
