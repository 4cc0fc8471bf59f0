"""Helpers around layers: output-size arithmetic, gradient clipping, parameters as one
vector (PyTorch's names)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..engine import Tensor, dtypes
from ..ops.movement import cat

__all__ = ["clip_grad_norm_", "clip_grad_value_", "conv2d_output_shape", "parameters_to_vector",
           "vector_to_parameters"]


def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise TypeError(f"conv2d_output_shape: {name} must be an int or a pair of ints, "
                    f"got {value!r}")


def conv2d_output_shape(input_size: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                        dilation: Any = 1) -> tuple[int, int]:
    """(H_out, W_out) of a 2-D convolution or pooling window over an (H, W) input.

    H_out = floor((H + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1,
    the same for W. A 28x28 input with a 3x3 kernel gives 26x26. `padding` may also be
    "valid" (no padding) or "same" (output size equals input size; stride must be 1).
    """
    height, width = _pair(input_size, "input_size")
    kernel = _pair(kernel_size, "kernel_size")
    strides = _pair(stride, "stride")
    dilations = _pair(dilation, "dilation")
    if padding == "valid":
        padding = 0
    elif padding == "same":
        if strides != (1, 1):
            raise ValueError("conv2d_output_shape: padding='same' needs stride 1, "
                             f"got stride {strides}")
        return height, width
    pads = _pair(padding, "padding")
    if min(kernel) < 1 or min(strides) < 1 or min(dilations) < 1 or min(pads) < 0:
        raise ValueError(f"conv2d_output_shape: kernel_size, stride and dilation must be "
                         f"positive and padding non-negative, got kernel_size {kernel}, "
                         f"stride {strides}, padding {pads}, dilation {dilations}")
    output = tuple(
        (size + 2 * pad - dil * (k - 1) - 1) // step + 1
        for size, k, step, pad, dil in zip((height, width), kernel, strides, pads, dilations))
    if min(output) < 1:
        raise ValueError(f"conv2d_output_shape: output size {output} is too small for input "
                         f"{(height, width)} with kernel_size {kernel}, padding {pads}, "
                         f"dilation {dilations}")
    return output


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [param.grad for param in parameters if param.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    """Scale all gradients together, in place, so their joint norm is at most `max_norm`.

    The joint norm is the `norm_type` norm of the per-tensor norms (as if all gradients were
    one vector); gradients are multiplied by min(1, max_norm / (norm + 1e-6)).
    Returns the joint norm before clipping, as a Tensor.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    result_dtype = np.result_type(*[grad.dtype for grad in grads])
    # per-tensor norms in float64, then the norm of those: like torch, but more exact
    norms = np.array([_vector_norm(grad.data.astype(np.float64), norm_type) for grad in grads])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm anyway, "
                           f"set `error_if_nonfinite=False`")
    scale = min(float(max_norm) / (total + 1e-6), 1.0)
    for grad in grads:
        with np.errstate(invalid="ignore"):  # inf * 0 -> nan, as in PyTorch, without a warning
            grad.data *= np.asarray(scale, dtype=grad.dtype)
        grad._version[0] += 1
    return Tensor(np.asarray(total, dtype=result_dtype))


def _vector_norm(values: np.ndarray, norm_type: float) -> float:
    values = np.abs(values.ravel())
    if values.size == 0:
        return 0.0
    if math.isinf(norm_type):
        return float(values.max() if norm_type > 0 else values.min())
    if norm_type == 0:
        return float(np.count_nonzero(values))
    return float(np.sum(values ** norm_type) ** (1.0 / norm_type))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: Any = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        if not dtypes.is_floating(grad.dtype):
            continue
        np.clip(grad.data, -clip_value, clip_value, out=grad.data)
        grad._version[0] += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable, a copy).

    Shape: params of n_1, n_2, ... elements -> (n_1 + n_2 + ...,).
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    tensors = list(parameters)
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"parameters_to_vector: expected Tensors, got "
                            f"{type(tensor).__name__} at position {position}")
    if not tensors:
        raise RuntimeError("parameters_to_vector: expected a non-empty list of Tensors")
    return cat([tensor.reshape(-1) for tensor in tensors])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D `vec` into each parameter, in place (no graph).

    Checks the length first, so a vector of the wrong size changes nothing.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected minigrad.Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {vec.shape}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    tensors = list(parameters)
    total = sum(tensor.data.size for tensor in tensors)
    if total != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: vec has {vec.shape[0]} elements, the "
                         f"parameters {total} (shapes {[tuple(t.shape) for t in tensors]})")
    offset = 0
    for tensor in tensors:
        size = tensor.data.size
        np.copyto(tensor.data, vec.data[offset:offset + size].reshape(tensor.shape),
                  casting="unsafe")
        tensor._version[0] += 1
        offset += size
