"""unfold (im2col) and fold (col2im): a closed pair, each the other's derivative.

    unfold(x)     (N, C, H, W) -> (N, C * kH * kW, L)   every sliding window as a column
    fold(cols)    (N, C * kH * kW, L) -> (N, C, H, W)   columns summed back onto the image

unfold copies, fold adds; they are adjoint linear maps, so d unfold = fold and d fold = unfold.
Both work per kernel offset on strided views (see `_windows`), never per pixel. Rows are
ordered (channel, kernel row, kernel column), as in PyTorch; L = H_out * W_out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._windows import as_batch, columns_to_image, conv_windows, pad_hw, pair

__all__ = ["fold", "unfold"]

Pair = tuple[int, int]


def _blocks(size: Pair, kernel: Pair, dilation: Pair, padding: Pair, stride: Pair) -> Pair:
    """Window positions (H_out, W_out) along each axis."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, d, p, s in zip(size, kernel, dilation, padding, stride))


def unfold_array(x: np.ndarray, kernel_size: Pair, dilation: Pair, padding: Pair,
                 stride: Pair) -> np.ndarray:
    """(N, C, H, W) or (C, H, W) -> (N, C * kH * kW, L) or (C * kH * kW, L)."""
    batch = as_batch(x)
    count, channels = batch.shape[:2]
    out_size = _blocks(batch.shape[2:], kernel_size, dilation, padding, stride)
    padded = pad_hw(batch, padding[0], padding[0], padding[1], padding[1])
    # one group per channel: (N, C, kH, kW, 1, Ho, Wo), PyTorch's row order
    windows = conv_windows(padded, channels, kernel_size, out_size, stride, dilation)
    columns = windows.reshape(count, channels * kernel_size[0] * kernel_size[1], -1)
    return columns[0] if x.ndim == 3 else columns


def fold_array(columns: np.ndarray, output_size: Pair, kernel_size: Pair, dilation: Pair,
               padding: Pair, stride: Pair) -> np.ndarray:
    """(N, C * kH * kW, L) or (C * kH * kW, L) -> (N, C, H, W) or (C, H, W), H, W =
    output_size: each column entry added to the pixel it was copied from."""
    batch = columns[None] if columns.ndim == 2 else columns
    count = batch.shape[0]
    channels = batch.shape[1] // (kernel_size[0] * kernel_size[1])
    out_size = _blocks(output_size, kernel_size, dilation, padding, stride)
    # a fresh copy: columns_to_image overwrites its argument on one path
    column_grad = np.array(batch.reshape(count, channels, *kernel_size, 1, *out_size))
    image = columns_to_image(column_grad, *output_size,
                             (padding[0], padding[0], padding[1], padding[1]), stride, dilation)
    return image[0] if columns.ndim == 2 else np.ascontiguousarray(image)


class Unfold(Function):
    """Every sliding window as a column. Backward: fold of the gradient."""

    def forward(self, x: np.ndarray, kernel_size: Pair, dilation: Pair, padding: Pair,
                stride: Pair) -> np.ndarray:
        self.input_size = x.shape[-2:]
        return unfold_array(x, kernel_size, dilation, padding, stride)

    def backward(self, xp: Any, grad: Any) -> Any:
        options = self.options
        return xp.fold2d(grad, self.input_size, options["kernel_size"], options["dilation"],
                       options["padding"], options["stride"])


class Fold(Function):
    """Columns summed back onto an image. Backward: unfold of the gradient."""

    def forward(self, columns: np.ndarray, output_size: Pair, kernel_size: Pair,
                dilation: Pair, padding: Pair, stride: Pair) -> np.ndarray:
        return fold_array(columns, output_size, kernel_size, dilation, padding, stride)

    def backward(self, xp: Any, grad: Any) -> Any:
        options = self.options
        return xp.unfold2d(grad, options["kernel_size"], options["dilation"], options["padding"],
                         options["stride"])


def _unfold_graph(x: Tensor, kernel_size: Pair, dilation: Pair, padding: Pair,
                  stride: Pair) -> Tensor:
    return Unfold.apply(x, kernel_size=kernel_size, dilation=dilation, padding=padding,
                        stride=stride)


def _fold_graph(columns: Tensor, output_size: Pair, kernel_size: Pair, dilation: Pair,
                padding: Pair, stride: Pair) -> Tensor:
    return Fold.apply(columns, output_size=tuple(output_size), kernel_size=kernel_size,
                      dilation=dilation, padding=padding, stride=stride)


NUMPY_XP = {"unfold2d": unfold_array, "fold2d": fold_array}
GRAPH_XP = {"unfold2d": _unfold_graph, "fold2d": _fold_graph}


def _window_arguments(where: str, kernel_size: Any, dilation: Any, padding: Any,
                      stride: Any) -> tuple[Pair, Pair, Pair, Pair]:
    kernel = pair(where, "kernel_size", kernel_size)
    dilation = pair(where, "dilation", dilation)
    padding = pair(where, "padding", padding)
    stride = pair(where, "stride", stride)
    for name, value, low in (("kernel_size", kernel, 1), ("dilation", dilation, 1),
                             ("padding", padding, 0), ("stride", stride, 1)):
        if min(value) < low:
            sign = "positive" if low else "non-negative"
            raise RuntimeError(f"{where}: {name} should be {sign}, got {name}={value}")
    return kernel, dilation, padding, stride


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Extract sliding windows as columns (im2col), as `torch.nn.functional.unfold`.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C * kH * kW, L) or (C * kH * kW, L), with
    L = H_out * W_out, H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1.
    """
    where = "unfold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"{where}: Input Error: Only 3D or 4D input Tensors are "
                                  f"supported (got {input.ndim}D)")
    kernel, dilation, padding, stride = _window_arguments(where, kernel_size, dilation,
                                                          padding, stride)
    blocks = _blocks(input.shape[-2:], kernel, dilation, padding, stride)
    if min(blocks) < 1:
        raise RuntimeError(f"{where}: Given input with spatial size {tuple(input.shape[-2:])}, "
                           f"kernel_size={kernel}, dilation={dilation}, padding={padding}, "
                           f"calculated shape of the array of sliding blocks as {blocks}, "
                           f"but its components must be at least one.")
    return Unfold.apply(input, kernel_size=kernel, dilation=dilation, padding=padding,
                        stride=stride)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sum columns back onto an image (col2im), as `torch.nn.functional.fold`: the adjoint
    of `unfold` (overlapping windows add up).

    Shape: (N, C * kH * kW, L) or (C * kH * kW, L) -> (N, C, H, W) or (C, H, W), (H, W) =
    output_size, L the number of windows `unfold` finds in that size.
    """
    where = "fold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"{where}: Input Error: Only unbatched (2D) or batched (3D) "
                                  f"input Tensors are supported (got {input.ndim}D)")
    size = pair(where, "output_size", output_size)
    kernel, dilation, padding, stride = _window_arguments(where, kernel_size, dilation,
                                                          padding, stride)
    rows = input.shape[-2]
    if rows % (kernel[0] * kernel[1]):
        raise RuntimeError(f"{where}: Expected size of input's dimension 1 to be divisible by "
                           f"the product of kernel_size, but got input.size(1)={rows} and "
                           f"kernel_size={kernel}")
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if min(blocks) < 1 or blocks[0] * blocks[1] != input.shape[-1]:
        raise RuntimeError(f"{where}: Given output_size={size}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}, expected "
                           f"size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={input.shape[-1]}.")
    return Fold.apply(input, output_size=size, kernel_size=kernel, dilation=dilation,
                      padding=padding, stride=stride)


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"fold": fold, "unfold": unfold}
TOPLEVEL: dict = {}
