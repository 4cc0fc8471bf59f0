"""Padding: `nn.functional.pad` in PyTorch's four modes, a movement op family member.

"constant" frames the input with a value (negative padding crops): its gradient is the inner
window of the output gradient. "reflect", "replicate" and "circular" gather edge elements
along each padded dim: their gradient is the adjoint, a scatter-add of the output gradient
back onto the positions that were copied. Both gradients go through the select / scatter
pair of `ops/_select.py`, so they are differentiable again at any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Function, Tensor

__all__ = ["pad"]


class ConstantPad(Function):
    """y = x framed by `value` (negative padding crops); the gradient is the inner window."""

    def forward(self, x: np.ndarray, pad: tuple[int, ...], value: Any) -> np.ndarray:
        self.input_shape = x.shape
        output_shape, source, target = _pad_windows(x.shape, pad)
        # Ellipsis keeps a 0-d selection a view, so the gradient can be written through it
        self.source, self.target = source + (Ellipsis,), target + (Ellipsis,)
        output = np.full(output_shape, value, dtype=x.dtype)
        output[self.target] = x[self.source]
        return output

    def backward(self, xp: Any, grad: Any) -> Any:
        inner = xp.index_select(grad, self.target, None)
        return xp.index_scatter(inner, self.input_shape, self.source, None, False)


def _pad_windows(shape: tuple[int, ...], pad: tuple[int, ...]) -> tuple:
    """Output shape and the matching (source, target) slices for constant padding."""
    output_shape = list(shape)
    source = [slice(None)] * len(shape)
    target = [slice(None)] * len(shape)
    for pair in range(len(pad) // 2):
        axis = len(shape) - 1 - pair
        left, right = pad[2 * pair], pad[2 * pair + 1]
        size = shape[axis]
        output_size = size + left + right
        # input element j lands at j + left when 0 <= j + left < output_size
        low = max(0, -left)
        high = max(min(size, output_size - left), low)
        output_shape[axis] = output_size
        source[axis] = slice(low, high)
        target[axis] = slice(low + left, high + left)
    return tuple(output_shape), tuple(source), tuple(target)


class IndexPad(Function):
    """Reflect / replicate / circular padding as a gather along each padded dim."""

    def forward(self, x: np.ndarray, pad: tuple[int, ...], mode: str) -> np.ndarray:
        self.input_shape = x.shape
        self.gathers = []
        for pair in range(len(pad) // 2):
            axis = x.ndim - 1 - pair
            positions = _pad_positions(x.shape[axis], pad[2 * pair], pad[2 * pair + 1], mode)
            self.gathers.append((axis, positions, x.shape[axis]))
            x = np.take(x, positions, axis=axis)
        return x

    def backward(self, xp: Any, grad: Any) -> Any:
        # the adjoint of each gather: scatter-add back (edge elements were copied many times)
        for axis, positions, size in reversed(self.gathers):
            shape = list(grad.shape)
            shape[axis] = size
            grad = xp.index_scatter(grad, tuple(shape), None,
                                    (slice(None),) * axis + (positions,), True)
        return grad


def _pad_positions(size: int, left: int, right: int, mode: str) -> np.ndarray:
    """For each output position along one dim, the input position it copies."""
    positions = np.arange(-left, size + right)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        # PyTorch crops negative padding first, then wraps around what is left
        low, high = max(0, -left), size - max(0, -right)
        return low + np.arange(-max(left, 0), high - low + max(right, 0)) % (high - low)
    period = 2 * (size - 1)  # reflect: mirror about the edges without repeating them
    folded = np.abs(positions) % max(period, 1)
    return np.where(folded > size - 1, period - folded, folded)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last dims: `pad = (left, right, top, bottom, front, back)`, last dim first.

    mode "constant" fills with `value` (default 0; negative padding crops); "reflect",
    "replicate" and "circular" copy edge values and pad 1 to 3 trailing dims as in PyTorch.
    Shape: (N, C, H, W) with pad (l, r, t, b) -> (N, C, H + t + b, W + l + r).
    """
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' must be a tuple of ints, got "
                        f"{type(pad).__name__}")
    for position, amount in enumerate(pad):
        if not isinstance(amount, (int, np.integer)) or isinstance(amount, bool):
            raise TypeError(f"pad(): argument 'pad' must be tuple of ints, but found element "
                            f"of type {type(amount).__name__} at pos {position}")
    pad = tuple(int(amount) for amount in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2 (pad {pad})")
    if len(pad) > 2 * input.ndim:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times "
                           f"the input dimension but got padding length {len(pad)} and input "
                           f"of dimension {input.ndim} (shape {input.shape})")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode!r} "
                                  f"(expected one of {_PAD_MODES})")
    for pair in range(len(pad) // 2):
        axis = input.ndim - 1 - pair
        left, right = pad[2 * pair], pad[2 * pair + 1]
        if input.shape[axis] + left + right < 0:
            raise RuntimeError(
                f"pad: The input size {input.shape[axis]}, plus negative padding {left} and "
                f"{right} resulted in a negative output size, which is invalid. Check "
                f"dimension {axis} of your input (shape {input.shape}).")
    if mode == "constant":
        fill = 0 if value is None else value
        return ConstantPad.apply(input, pad=pad, value=fill)
    if value:
        raise RuntimeError(f"pad: Padding mode {mode!r} doesn't take in value argument "
                           f"(got value={value})")
    _check_index_pad(input, pad, mode)
    if any(size == 0 for size in _padded_sizes(input.shape, pad)):
        return ConstantPad.apply(input, pad=pad, value=0)  # an empty result: nothing to copy
    return IndexPad.apply(input, pad=pad, mode=mode)


def _padded_sizes(shape: tuple[int, ...], pad: tuple[int, ...]) -> list[int]:
    """The output size of each padded dim, last dim first."""
    return [shape[len(shape) - 1 - pair] + pad[2 * pair] + pad[2 * pair + 1]
            for pair in range(len(pad) // 2)]


def _check_index_pad(input: Tensor, pad: tuple[int, ...], mode: str) -> None:
    """PyTorch's limits for reflect / replicate / circular padding."""
    padded = len(pad) // 2
    if padded == 0 or input.ndim not in (padded + 1, padded + 2):
        raise NotImplementedError(
            f"pad: Padding size {len(pad)} is not supported for {input.ndim}D input tensor "
            f"in mode {mode!r} (pads of 2, 4, 6 need 2-3D, 3-4D, 4-5D inputs; shape "
            f"{input.shape})")
    sizes = _padded_sizes(input.shape, pad)
    # PyTorch refuses reflect / replicate only when every padded dim comes out empty
    if mode != "circular" and all(size < 1 for size in sizes):
        raise RuntimeError(f"pad: input {list(input.shape)} is too small for padding {pad} "
                           f"in mode {mode!r}: calculated output sizes {sizes[::-1]}")
    for pair in range(padded):
        axis = input.ndim - 1 - pair
        size = input.shape[axis]
        left, right = pad[2 * pair], pad[2 * pair + 1]
        if mode == "reflect" and max(left, right) >= size:
            raise RuntimeError(
                f"pad: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({left}, {right}) at dimension {axis} of input "
                f"{list(input.shape)}")
        kept = size + min(left, 0) + min(right, 0)  # what is left after negative padding
        if mode == "circular" and max(left, right) > kept:
            raise RuntimeError(f"pad: Padding value causes wrapping around more than once "
                               f"(padding ({left}, {right}) at dimension {axis} of input "
                               f"{list(input.shape)})")
