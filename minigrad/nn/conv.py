"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d over F, with PyTorch's
arguments, attributes, weight shapes, state_dict keys and init."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import creation
from ..engine import Tensor
from . import functional as F
from . import init
from ._utils import check_device
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d"]

_PADDING_STRINGS = ("same", "valid")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value: Any, dims: int, name: str) -> tuple[int, ...]:
    """An int becomes `dims` copies; a sequence of `dims` ints stays (as a tuple)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * dims
    if isinstance(value, (tuple, list)) and len(value) == dims and all(
            isinstance(item, (int, np.integer)) and not isinstance(item, bool)
            for item in value):
        return tuple(int(item) for item in value)
    raise TypeError(f"{name} must be an int or a tuple of {dims} ints, got {value!r}")


class _ConvNd(Module):
    """What every conv layer shares: checked arguments, PyTorch's attributes, parameters and
    init. weight and bias start as U(-k, k), k = 1 / sqrt(fan_in) with fan_in = weight.shape[1]
    times the kernel volume (in_channels // groups for a conv, out_channels // groups for a
    transposed one), PyTorch's default."""

    dims = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, output_padding: Any, groups: int, bias: bool,
                 padding_mode: str, device: Any, dtype: Any) -> None:
        super().__init__()
        where = type(self).__name__
        check_device(device, where)
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{where}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{where}: in_channels must be divisible by groups "
                             f"(in_channels={in_channels}, groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{where}: out_channels must be divisible by groups "
                             f"(out_channels={out_channels}, groups={groups})")
        dims = self.dims
        kernel_size = _ntuple(kernel_size, dims, f"{where}: kernel_size")
        stride = _ntuple(stride, dims, f"{where}: stride")
        dilation = _ntuple(dilation, dims, f"{where}: dilation")
        output_padding = _ntuple(output_padding, dims, f"{where}: output_padding")
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{set(_PADDING_STRINGS)}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, dims, f"{where}: padding")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {where}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if self.transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    """A cross-correlation layer; non-zero padding modes pad with F.pad first."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: str | Any = 0, dilation: Any = 1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0,
                         groups, bias, padding_mode, device, dtype)

    def _mode_padding(self) -> tuple[int, ...]:
        """F.pad's (last dim first) padding for a non-zero padding mode."""
        if self.padding == "valid":
            return (0,) * (2 * self.dims)
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return tuple(p for t in reversed(totals) for p in (t // 2, t - t // 2))
        return tuple(p for p in reversed(self.padding) for _ in range(2))

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        function = (F.conv1d, F.conv2d, F.conv3d)[self.dims - 1]
        if self.padding_mode != "zeros":
            input = F.pad(input, self._mode_padding(), mode=self.padding_mode)
            return function(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return function(input, weight, bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D cross-correlation of an (N, C, L) input with `out_channels` learned filters.

    weight (out_channels, in_channels // groups, k), bias (out_channels,).
    padding: an int, "valid" or "same"; padding_mode "zeros", "reflect", "replicate" or
    "circular". Shape: (N, C_in, L) -> (N, C_out, L_out) with
    L_out = floor((L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1).
    """

    dims = 1


class Conv2d(_Conv):
    """2-D cross-correlation of an NCHW input with `out_channels` learned filters.

    weight (out_channels, in_channels // groups, kH, kW), bias (out_channels,).
    padding: an int, a pair, "valid" or "same" (output size = input size; stride 1; odd
    total padding puts the extra row/column at the bottom/right, as PyTorch does);
    padding_mode "zeros", "reflect", "replicate" or "circular".

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out) with
    H_out = floor((H + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) / stride[0] + 1)
    and W_out likewise.
    """

    dims = 2


class Conv3d(_Conv):
    """3-D cross-correlation of an (N, C, D, H, W) input with `out_channels` learned filters.

    weight (out_channels, in_channels // groups, kD, kH, kW), bias (out_channels,); padding
    and padding_mode as Conv2d. Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
    each size floor((n + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1).
    """

    dims = 3


class _ConvTranspose(_ConvNd):
    """A transposed-convolution layer: forward(input, output_size=None), where output_size
    picks the output_padding among the sizes a strided conv maps to the input's size."""

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if isinstance(padding, str):  # a value PyTorch's transposed convs reject
            message = f"{type(self).__name__}: padding must be an int or a tuple of ints"
            raise ValueError(f"{message}, got {padding!r}")  # noqa: TRY004
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """PyTorch's output_padding for a requested output size (with or without N, C)."""
        if output_size is None:
            return self.output_padding
        sizes = tuple(int(n) for n in output_size)
        if len(sizes) > self.dims:
            sizes = sizes[-self.dims:]
        if len(sizes) != self.dims:
            raise ValueError(f"ConvTranspose{self.dims}D: for {input.ndim}D input, output_size "
                             f"must have {self.dims} or {self.dims + 2} elements (got "
                             f"{len(output_size)})")
        spatial = input.shape[-self.dims:]
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            spatial, self.stride, self.padding, self.dilation, self.kernel_size))
        largest = tuple(low + s - 1 for low, s in zip(smallest, self.stride))
        if any(not low <= n <= high for n, low, high in zip(sizes, smallest, largest)):
            raise ValueError(f"requested an output size of {list(sizes)}, but valid sizes "
                             f"range from {list(smallest)} to {list(largest)} (for an input "
                             f"of {list(spatial)})")
        return tuple(n - low for n, low in zip(sizes, smallest))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        function = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.dims - 1]
        extra = self._output_padding(input, output_size)
        return function(input, self.weight, self.bias, self.stride, self.padding, extra,
                        self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (the input gradient of Conv1d) with learned filters.

    weight (in_channels, out_channels // groups, k), bias (out_channels,).
    Shape: (N, C_in, L) -> (N, C_out, L_out) with L_out = (L - 1) * stride - 2 * padding
    + dilation * (kernel_size - 1) + output_padding + 1.
    """

    dims = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (the input gradient of Conv2d) with learned filters, the
    upsampling layer of autoencoders and DCGAN generators.

    weight (in_channels, out_channels // groups, kH, kW), bias (out_channels,).
    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out) with H_out = (H - 1) * stride[0]
    - 2 * padding[0] + dilation[0] * (kernel_size[0] - 1) + output_padding[0] + 1.
    """

    dims = 2


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution (the input gradient of Conv3d) with learned filters.

    weight (in_channels, out_channels // groups, kD, kH, kW), bias (out_channels,).
    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out), sizes as ConvTranspose2d.
    """

    dims = 3
