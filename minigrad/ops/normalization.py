"""F.layer_norm: normalise over the trailing `normalized_shape` dims, then scale and shift.

A composite of reductions and elementwise ops (mean, subtract, mean of squares, rsqrt), so
both gradient orders come from those ops.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from ..engine import Tensor, dtypes

__all__ = ["layer_norm"]


def _normalized_shape(value: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral):
        return (int(value),)
    return tuple(int(size) for size in value)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias, with the mean and biased variance taken
    over the last len(normalized_shape) dims.

    Shape: (*, *normalized_shape) -> same; weight and bias have shape normalized_shape.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    shape = _normalized_shape(normalized_shape)
    if not shape or tuple(input.shape[input.ndim - len(shape):]) != shape or \
            len(shape) > input.ndim:
        raise RuntimeError(f"layer_norm: Given normalized_shape={list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                           f"size {list(input.shape)}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != shape:
            raise RuntimeError(f"layer_norm: Expected {name} to be of same shape as "
                               f"normalized_shape, but got {name} of shape "
                               f"{list(value.shape)} and normalized_shape = {list(shape)}")
    if not dtypes.is_floating(input.dtype):
        raise RuntimeError(f"layer_norm: expected a floating-point input, got {input.dtype}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    centered = input - input.mean(dims, keepdim=True)
    variance = (centered * centered).mean(dims, keepdim=True)
    output = centered * (variance + eps).rsqrt()
    if weight is not None:
        output = output * weight
    if bias is not None:
        output = output + bias
    return output


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"layer_norm": layer_norm}
TOPLEVEL: dict = {}
