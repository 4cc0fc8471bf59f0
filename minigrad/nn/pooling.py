"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (thin wrappers over F)."""

from __future__ import annotations

from typing import Any

from ..engine import Tensor
from . import functional as F
from .module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


class MaxPool2d(Module):
    """The maximum of each kernel_size window (stride defaults to kernel_size).

    Shape: (N, C, H, W) -> (N, C, H_out, W_out) with
    H_out = floor((H + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)
    (ceil with ceil_mode=True), W_out likewise.
    """

    def __init__(self, kernel_size: Any, stride: Any | None = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean of each kernel_size window (stride defaults to kernel_size).

    count_include_pad counts zero padding in the divisor; divisor_override replaces it.
    Shape: (N, C, H, W) -> (N, C, H_out, W_out) with
    H_out = floor((H + 2 * padding - kernel_size) / stride + 1), W_out likewise.
    """

    def __init__(self, kernel_size: Any, stride: Any | None = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling whose windows are chosen so the output is `output_size` (int or pair;
    None in a pair keeps that input size).

    Shape: (N, C, H, W) -> (N, C, *output_size).
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
