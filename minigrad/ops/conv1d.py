"""Convolution over NCL sequences: conv1d and conv_transpose1d as 2-D convolutions of height 1.

A sequence (N, C, L) is an image (N, C, 1, L) and a kernel (O, C/G, k) a (O, C/G, 1, k) one:
the 2-D kernels do the work, and the reshapes around them are differentiable ops, so both
functions are twice differentiable through the 2-D family (no backward of their own).
"""

from __future__ import annotations

from typing import Any

from ..engine import Tensor
from ._windows import _is_int
from .conv import conv2d, conv_transpose2d

__all__ = ["conv1d", "conv_transpose1d"]


def single(where: str, name: str, value: Any) -> int:
    """An int or a 1-sequence of ints as one int, PyTorch's accepted forms for 1-D."""
    if _is_int(value):
        return int(value)
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and _is_int(value[0]):
            return int(value[0])
        if all(_is_int(item) for item in value):
            raise RuntimeError(f"{where}: {name} must be a single int or a tuple of one int, "
                               f"got {value!r}")
    raise TypeError(f"{where}: {name} must be an int or a tuple of one int, got "
                    f"{type(value).__name__} {value!r}")


def _check_ranks(where: str, input: Any, weight: Any, bias: Any) -> None:
    for name, value in (("input", input), ("weight", weight), ("bias", bias)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{where}: {name} must be a Tensor, got {type(value).__name__}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{where}: expected a 2-D (C, L) or 3-D (N, C, L) input, got "
                           f"input of shape {input.shape}")
    if weight.ndim != 3:
        raise RuntimeError(f"{where}: expected a 3-D weight, got weight of shape "
                           f"{weight.shape}")


def _as_image(tensor: Tensor) -> Tensor:
    """(..., C, L) -> (..., C, 1, L)."""
    return tensor.reshape(*tensor.shape[:-1], 1, tensor.shape[-1])


def _as_sequence(tensor: Tensor) -> Tensor:
    """(..., C, 1, L) -> (..., C, L)."""
    return tensor.reshape(*tensor.shape[:-2], tensor.shape[-1])


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation, as `torch.nn.functional.conv1d`.

    Shape: input (N, C_in, L) or (C_in, L), weight (C_out, C_in // groups, k), bias (C_out,)
    -> (N, C_out, L_out), L_out = floor((L + 2 * padding - dilation * (k - 1) - 1) / stride)
    + 1. padding: an int, "valid" or "same" (stride 1).
    """
    where = "conv1d"
    _check_ranks(where, input, weight, bias)
    stride = single(where, "stride", stride)
    dilation = single(where, "dilation", dilation)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"conv1d: invalid padding string {padding!r} "
                               f"(expected 'same' or 'valid')")
        if padding == "same" and stride != 1:
            raise RuntimeError(f"conv1d: padding='same' is not supported for strided "
                               f"convolutions (stride={stride})")
        padding_2d: Any = padding
    else:
        padding_2d = (0, single(where, "padding", padding))
    out = conv2d(_as_image(input), _as_image(weight), bias, stride=(1, stride),
                 padding=padding_2d, dilation=(1, dilation), groups=groups)
    return _as_sequence(out)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-D transposed convolution, as `torch.nn.functional.conv_transpose1d`: the gradient
    of `conv1d` with respect to its input.

    Shape: input (N, C_in, L) or (C_in, L), weight (C_in, C_out // groups, k), bias (C_out,)
    -> (N, C_out, L_out), L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1)
    + output_padding + 1.
    """
    where = "conv_transpose1d"
    _check_ranks(where, input, weight, bias)
    stride = single(where, "stride", stride)
    dilation = single(where, "dilation", dilation)
    padding = single(where, "padding", padding)
    output_padding = single(where, "output_padding", output_padding)
    out = conv_transpose2d(_as_image(input), _as_image(weight), bias, stride=(1, stride),
                           padding=(0, padding), output_padding=(0, output_padding),
                           groups=groups, dilation=(1, dilation))
    return _as_sequence(out)


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"conv1d": conv1d, "conv_transpose1d": conv_transpose1d}
TOPLEVEL = {"conv1d": conv1d, "conv_transpose1d": conv_transpose1d}
