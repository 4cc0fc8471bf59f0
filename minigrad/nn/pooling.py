"""Pooling layers: max, average, adaptive, Lp pooling and max-unpooling in 1, 2 and 3
dimensions (thin wrappers over F)."""

from __future__ import annotations

from typing import Any

from ..engine import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "LPPool1d", "LPPool2d", "LPPool3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d",
    "MaxUnpool2d", "MaxUnpool3d",
]


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


def _ntuple(value: Any, dims: int) -> Any:
    """PyTorch's `_single`/`_pair`/`_triple`: an int becomes `dims` copies; a sequence stays
    (as a tuple)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def _single(value: Any) -> Any:
    return _ntuple(value, 1)


class _MaxPoolNd(Module):
    """Max pooling over kernel_size windows (stride defaults to kernel_size) with F's
    `function_name`; return_indices also returns each max's flat index."""

    function_name = "max_pool1d"

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
        function = getattr(F, self.function_name)
        return function(input, self.kernel_size, self.stride, self.padding, self.dilation,
                        ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """The maximum of each kernel_size window of a sequence (stride defaults to kernel_size).

    Shape: (N, C, L) -> (N, C, L_out) with
    L_out = floor((L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)
    (ceil with ceil_mode=True).
    """

    function_name = "max_pool1d"


class MaxPool3d(_MaxPoolNd):
    """The maximum of each kernel_size window of a volume (stride defaults to kernel_size).

    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out), each size
    floor((n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1).
    """

    function_name = "max_pool3d"


class AvgPool1d(Module):
    """The mean of each kernel_size window of a sequence (stride defaults to kernel_size).

    Shape: (N, C, L) -> (N, C, L_out), L_out = floor((L + 2 * padding - kernel_size) /
    stride + 1).
    """

    def __init__(self, kernel_size: Any, stride: Any | None = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool3d(Module):
    """The mean of each kernel_size window of a volume (stride defaults to kernel_size).

    count_include_pad counts zero padding in the divisor; divisor_override replaces it.
    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out), each size
    floor((n + 2 * padding - kernel_size) / stride + 1).
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
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveAvgPoolNd(Module):
    """Average pooling to `output_size` with F's `function_name`."""

    function_name = "adaptive_avg_pool1d"

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self.function_name)(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of a sequence to `output_size` positions.
    Shape: (N, C, L) -> (N, C, output_size)."""

    function_name = "adaptive_avg_pool1d"


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling of a volume to `output_size` (int or triple; None keeps a size).
    Shape: (N, C, D, H, W) -> (N, C, *output_size)."""

    function_name = "adaptive_avg_pool3d"


class _AdaptiveMaxPoolNd(Module):
    """Max pooling to `output_size` with F's `function_name`; return_indices also returns
    each max's flat index."""

    function_name = "adaptive_max_pool2d"

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return getattr(F, self.function_name)(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of a sequence to `output_size` positions.
    Shape: (N, C, L) -> (N, C, output_size)."""

    function_name = "adaptive_max_pool1d"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of an image to `output_size` (int or pair; None keeps a size).
    Shape: (N, C, H, W) -> (N, C, *output_size)."""

    function_name = "adaptive_max_pool2d"


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of a volume to `output_size` (int or triple; None keeps a size).
    Shape: (N, C, D, H, W) -> (N, C, *output_size)."""

    function_name = "adaptive_max_pool3d"


class _MaxUnpool(Module):
    """The partial inverse of a max pool: forward(input, indices, output_size=None) puts each
    value at its index and zeros elsewhere."""

    function_name = "max_unpool2d"
    dims = 2

    def __init__(self, kernel_size: Any, stride: Any | None = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self.dims)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self.dims)
        self.padding = _ntuple(padding, self.dims)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        function = getattr(F, self.function_name)
        return function(input, indices, self.kernel_size, self.stride, self.padding,
                        output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """Inverse of MaxPool1d. Shape: (N, C, L) -> (N, C, L_out),
    L_out = (L - 1) * stride - 2 * padding + kernel_size (or output_size)."""

    function_name = "max_unpool1d"
    dims = 1


class MaxUnpool2d(_MaxUnpool):
    """Inverse of MaxPool2d. Shape: (N, C, H, W) -> (N, C, H_out, W_out),
    H_out = (H - 1) * stride - 2 * padding + kernel_size (or output_size)."""

    function_name = "max_unpool2d"


class MaxUnpool3d(_MaxUnpool):
    """Inverse of MaxPool3d. Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    function_name = "max_unpool3d"
    dims = 3


class _LPPool(Module):
    """Power-average pooling: (sum of x ** norm_type over each window) ** (1 / norm_type)."""

    function_name = "lp_pool2d"

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any | None = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        function = getattr(F, self.function_name)
        return function(input, float(self.norm_type), self.kernel_size, self.stride,
                        self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """Lp pooling of a sequence. Shape: (N, C, L) -> (N, C, L_out) as AvgPool1d."""

    function_name = "lp_pool1d"


class LPPool2d(_LPPool):
    """Lp pooling of an image. Shape: (N, C, H, W) -> (N, C, H_out, W_out) as AvgPool2d."""

    function_name = "lp_pool2d"


class LPPool3d(_LPPool):
    """Lp pooling of a volume. Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    function_name = "lp_pool3d"
