"""Normalization ops: layer_norm (fused), group_norm, instance_norm, rms_norm
and local_response_norm, with PyTorch's names, arguments and errors.

layer_norm is one Function: forward computes the standardized input x_hat and 1 / std once,
and backward is the single formula

    grad_x = rstd * (g - mean(g) - x_hat * mean(g * x_hat)),   g = grad * weight

over the normalized dims. The NumPy side reuses forward's x_hat and rstd through
`xp.recompute(cache, formula, ...)`; a graph pass (`create_graph=True`) recomputes them from
the saved input as ops, so the gradient is differentiable again. The other normalizations
are composites of differentiable ops (one pass each, so twice differentiable for free).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..engine import Function, Tensor
from . import elementwise as _ew
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor
from .padding import pad as _pad

__all__ = [
    "group_norm",
    "instance_norm",
    "layer_norm",
    "local_response_norm",
    "rms_norm",
]


def _standardize(xp: Any, x: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any]:
    """(x_hat, rstd): x centered and scaled by 1 / sqrt(biased var + eps) over `axes`."""
    centered = x - xp.mean(x, axis=axes, keepdims=True)
    variance = xp.mean(centered * centered, axis=axes, keepdims=True)
    rstd = 1 / xp.sqrt(variance + eps)
    return centered * rstd, rstd


def _standardize_array(x: np.ndarray, axes: tuple[int, ...],
                       eps: float) -> tuple[np.ndarray, np.ndarray]:
    """_standardize on arrays, scaling its own temporary in place (one array fewer)."""
    centered = x - x.mean(axis=axes, keepdims=True)
    variance = np.square(centered).mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(variance + eps)
    centered *= rstd
    return centered, rstd


class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape) dims.

    weight and bias (normalized_shape) are optional (None). Gradients: x as in the module
    docstring, weight sum(grad * x_hat), bias sum(grad) over the leading dims.
    """

    def forward(self, x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                axes: tuple[int, ...], eps: float) -> np.ndarray:
        self.axes, self.eps = axes, eps
        self.has_weight = weight is not None
        self.bias_shape = None if bias is None else bias.shape
        x_hat, rstd = _standardize_array(x, axes, eps)
        # (x_hat, rstd) is a first-order cache only: a graph recomputes it from x
        self.cache = (x_hat, rstd)
        self.save(x, weight)
        # a new array even without weight: the cache must not alias the output
        output = x_hat.copy() if weight is None else x_hat * weight
        if bias is not None:
            output += bias
        return output

    def backward(self, xp: Any, grad: Any, x: Any, weight: Any) -> tuple:
        x_hat, rstd = xp.recompute(self.__dict__.get("cache"), _standardize, x, self.axes,
                                   self.eps)
        grad_weight = grad_bias = grad_x = None
        if self.needs_input_grad[1]:
            grad_weight = xp.sum_to(grad * x_hat, weight.shape)
        if self.needs_input_grad[2]:
            grad_bias = xp.sum_to(grad, self.bias_shape)
        if self.needs_input_grad[0]:
            g = grad * weight if self.has_weight else grad
            mean_g = xp.mean(g, axis=self.axes, keepdims=True)
            mean_gx = xp.mean(g * x_hat, axis=self.axes, keepdims=True)
            grad_x = rstd * (g - mean_g - x_hat * mean_gx)
        return grad_x, grad_weight, grad_bias


def _as_shape(where: str, normalized_shape: Any) -> tuple[int, ...]:
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape,
                                                                         bool):
        return (int(normalized_shape),)
    try:
        shape = tuple(int(side) for side in normalized_shape)
    except TypeError:
        raise TypeError(f"{where}(): argument 'normalized_shape' must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}") from None
    return shape


def _check_affine(where: str, name: str, value: Any, shape: tuple[int, ...],
                  input: Tensor) -> None:
    if value is None:
        return
    _check_tensor(where, name, value)
    if tuple(value.shape) != shape:
        raise RuntimeError(f"{where}: expected {name} of shape {list(shape)}, got "
                           f"{list(value.shape)}")
    if value.dtype != input.dtype:
        raise RuntimeError(f"{where}: expected {name} with dtype {input.dtype} (the input's), "
                           f"got {value.dtype}")


def _check_normalized(where: str, input: Tensor, shape: tuple[int, ...]) -> None:
    if len(shape) == 0:
        raise RuntimeError(f"{where}: Expected normalized_shape to be at least 1-dimensional, "
                           f"i.e., containing at least one element, but got "
                           f"normalized_shape = {list(shape)}")
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"{where}: Given normalized_shape={list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                           f"size{list(input.shape)}")


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) dims, then scale and shift.

    Shape: (*, *normalized_shape) -> same; weight and bias are normalized_shape.
    """
    _check_tensor("layer_norm", "input", input)
    shape = _as_shape("layer_norm", normalized_shape)
    _check_normalized("layer_norm", input, shape)
    _check_floating("layer_norm", input)
    _check_affine("layer_norm", "weight", weight, shape, input)
    _check_affine("layer_norm", "bias", bias, shape, input)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    return LayerNorm.apply(input, weight, bias, axes=axes, eps=float(eps))


def _channel_view(value: Tensor, ndim: int) -> Tensor:
    """A (C,) per-channel tensor shaped (1, C, 1, ...) to broadcast against (N, C, *)."""
    return value.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(output: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    if weight is not None:
        output = output * _channel_view(weight, output.ndim)
    if bias is not None:
        output = output + _channel_view(bias, output.ndim)
    return output


def _check_channels(where: str, input: Tensor, min_dims: int) -> None:
    _check_tensor(where, "input", input)
    if input.ndim < min_dims:
        raise RuntimeError(f"{where}: expected an input with at least {min_dims} dims "
                           f"(N, C, *), got shape {tuple(input.shape)}")
    _check_floating(where, input)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each of num_groups channel groups per sample, then scale and shift per
    channel. Uses layer_norm's fused op on the (N, G, C // G * spatial) view.

    Shape: (N, C, *) -> same; weight and bias (C,).
    """
    _check_channels("group_norm", input, 2)
    channels = input.shape[1]
    if not isinstance(num_groups, (int, np.integer)) or num_groups <= 0 or \
            channels % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible "
                           f"by num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    _check_affine("group_norm", "weight", weight, (channels,), input)
    _check_affine("group_norm", "bias", bias, (channels,), input)
    grouped = input.reshape(input.shape[0], int(num_groups), -1)
    if grouped.shape[0] * grouped.shape[1] == 0 or grouped.shape[2] == 0:
        return _affine(input * 1, weight, bias)
    normalized = LayerNorm.apply(grouped, None, None, axes=(2,), eps=float(eps))
    return _affine(normalized.reshape(input.shape), weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample over its spatial dims, then scale and shift.

    With use_input_stats and running buffers, these move toward the batch average of the
    per-instance mean and unbiased variance (in place, as in PyTorch); without
    use_input_stats the running estimates normalize instead.
    Shape: (N, C, *) -> same; weight, bias, running_mean, running_var (C,).
    """
    _check_channels("instance_norm", input, 3)
    channels = input.shape[1]
    for name, value in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
        _check_affine("instance_norm", name, value, (channels,), input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: Expected running_mean and running_var to be "
                               "defined when use_input_stats is false")
        scale = 1 / _ew.sqrt(running_var.detach() + eps)
        output = (input - _channel_view(running_mean.detach(), input.ndim)) * \
            _channel_view(scale, input.ndim)
        return _affine(output, weight, bias)
    spatial = int(np.prod(input.shape[2:]))
    if spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {list(input.shape)}")
    flat = input.reshape(input.shape[0], channels, spatial)
    if running_mean is not None or running_var is not None:
        _update_running(flat.data, running_mean, running_var, momentum)
    normalized = LayerNorm.apply(flat, None, None, axes=(2,), eps=float(eps))
    return _affine(normalized.reshape(input.shape), weight, bias)


def _update_running(flat: np.ndarray, running_mean: Tensor | None,
                    running_var: Tensor | None, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch average of the per-instance
    statistics (N, C, L) -> (C,), written in place (no graph), bumping the versions."""
    factor = float(momentum)
    for running, batch in ((running_mean, lambda: flat.mean(axis=2)),
                           (running_var, lambda: flat.var(axis=2, ddof=1))):
        if running is None:
            continue
        updated = (1 - factor) * running.data + factor * batch().mean(axis=0)
        np.copyto(running.data, updated, casting="unsafe")
        running._version[0] += 1


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x ** 2) + eps) * weight over the last len(normalized_shape) dims;
    eps None means the machine epsilon of the input's dtype, as in PyTorch.

    Shape: (*, *normalized_shape) -> same; weight normalized_shape.
    """
    _check_tensor("rms_norm", "input", input)
    shape = _as_shape("rms_norm", normalized_shape)
    _check_normalized("rms_norm", input, shape)
    _check_floating("rms_norm", input)
    _check_affine("rms_norm", "weight", weight, shape, input)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    output = input * _ew.rsqrt((input * input).mean(dims, keepdim=True) + float(eps))
    return output if weight is None else output * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + alpha * mean of x ** 2 over `size` neighbouring channels) ** beta.

    The channel window is zero-padded (size // 2 before, (size - 1) // 2 after) and always
    divided by `size`, as PyTorch's average pool with count_include_pad.
    Shape: (N, C, *) -> same.
    """
    _check_tensor("local_response_norm", "input", input)
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    _check_floating("local_response_norm", input)
    if not isinstance(size, (int, np.integer)) or size <= 0:
        raise RuntimeError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.numel() == 0:
        return input * 1
    channels = input.shape[1]
    squares = (input * input).reshape(input.shape[0], channels, -1)  # (N, C, S)
    padded = _pad(squares, (0, 0, size // 2, (size - 1) // 2))
    window = padded[:, 0:channels]
    for offset in range(1, size):  # the window's taps (a kernel loop, not one over channels)
        window = window + padded[:, offset:offset + channels]
    denominator = (window * (alpha / size) + k) ** beta
    return input / denominator.reshape(input.shape)


TENSOR_METHODS: dict = {}
FUNCTIONAL = {
    "group_norm": group_norm,
    "instance_norm": instance_norm,
    "layer_norm": layer_norm,
    "local_response_norm": local_response_norm,
    "rms_norm": rms_norm,
}
TOPLEVEL = {
    "group_norm": group_norm,
    "instance_norm": instance_norm,
    "layer_norm": layer_norm,
    "rms_norm": rms_norm,
}
