"""Padding layers: Constant/Zero/Reflection/Replication/Circular Pad 1d, 2d and 3d.

Each holds PyTorch's `padding` tuple (last dim first: left, right, top, bottom, front, back)
and calls `nn.functional.pad`; negative padding crops, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor
from ..ops.padding import pad
from .module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
    "ZeroPad3d",
]


def _padding_tuple(where: str, padding: Any, dims: int) -> tuple[int, ...]:
    """An int repeated to 2 * dims, or a tuple of exactly 2 * dims ints."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * (2 * dims)
    if not isinstance(padding, (tuple, list)) or len(padding) != 2 * dims or not all(
            isinstance(side, (int, np.integer)) and not isinstance(side, bool)
            for side in padding):
        raise TypeError(f"{where}: padding must be an int or a tuple of {2 * dims} ints, got "
                        f"{padding!r}")
    return tuple(int(side) for side in padding)


class _PadNd(Module):
    """Pads the last `_dims` dims of the input in `_mode`."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _padding_tuple(type(self).__name__, padding, self._dims)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`. Shape: (*, W) -> (*, W + left + right)."""

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with `value`. Shape: (*, H, W) -> (*, H + top + bottom,
    W + left + right)."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with `value`. Shape: (*, D, H, W) -> (*, D + front + back,
    H + top + bottom, W + left + right)."""

    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros. Shape: (*, W) -> (*, W + left + right)."""

    _dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros. Shape: (*, H, W) -> (*, H + top + bottom,
    W + left + right)."""

    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros. Shape: (*, D, H, W) -> (*, D + front + back,
    H + top + bottom, W + left + right)."""

    _dims = 3


class ReflectionPad1d(_PadNd):
    """Mirror the last dim about its edges. Shape: (N, C, W) or (C, W) -> W + left + right."""

    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror the last two dims about their edges. Shape: (N, C, H, W) or (C, H, W)."""

    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror the last three dims about their edges. Shape: (N, C, D, H, W) or (C, D, H, W)."""

    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge values of the last dim. Shape: (N, C, W) or (C, W)."""

    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the edge values of the last two dims. Shape: (N, C, H, W) or (C, H, W)."""

    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edge values of the last three dims. Shape: (N, C, D, H, W) or (C, D, H, W)."""

    _dims, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Wrap the last dim around. Shape: (N, C, W) or (C, W)."""

    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Wrap the last two dims around. Shape: (N, C, H, W) or (C, H, W)."""

    _dims, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Wrap the last three dims around. Shape: (N, C, D, H, W) or (C, D, H, W)."""

    _dims, _mode = 3, "circular"
