"""BatchNorm1d/2d, LayerNorm and the other normalization layers (calling `nn.functional`;
the gradients are the ops'). BatchNorm with batch statistics is the fused op
`ops.batch_norm.BatchNormTrain` (one forward, one backward formula); eval mode with running
statistics is a folded scale and shift of tensor ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import creation
from ..engine import Tensor, dtypes
from ..ops import normalization as F
from ..ops.batch_norm import batch_norm_train
from . import init
from ._utils import check_device
from .module import Module
from .parameter import Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "LocalResponseNorm",
    "RMSNorm",
]


class _BatchNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1).

    In training the mean and biased variance come from the batch (over every dim but 1),
    and the running estimates move toward the batch's mean and unbiased variance:
    running = (1 - momentum) * running + momentum * batch, or a cumulative average when
    momentum is None; num_batches_tracked counts the updates. In eval mode the running
    estimates are used. With track_running_stats=False batch statistics are always used.
    """

    _expected_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.empty(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"batch_norm: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in self._expected_dims:
            expected = " or ".join(f"{ndim}D" for ndim in self._expected_dims)
            raise ValueError(f"expected {expected} input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"batch_norm: expected input with {self.num_features} channels "
                               f"(dim 1), got {input.shape[1]} (input shape {input.shape})")
        if self.training and input.data.size // input.shape[1] == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        if input.dtype.kind != "f":
            raise NotImplementedError(f"batch_norm: not implemented for dtype {input.dtype} "
                                      f"(expected a floating point input)")
        reference = self.weight if self.weight is not None else self.running_mean
        if reference is not None and reference.dtype != input.dtype:
            raise RuntimeError(f"batch_norm: mixed dtype: input {input.dtype}, parameters and "
                               f"buffers {reference.dtype}; all inputs must share the same "
                               f"dtype (cast the input, or the layer with .to())")
        if self.training and not self.eps > 0:
            raise ValueError(f"batch_norm eps must be positive during training, but got "
                             f"{self.eps}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        channel_shape = (1, self.num_features) + (1,) * (input.ndim - 2)
        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats:
            update = self.training and self.track_running_stats
            statistics: list | None = [] if update else None
            output = batch_norm_train(input, self.weight, self.bias, self.eps, statistics)
            if update:
                mean, variance = statistics  # per channel; the variance is biased
                self._update_running_stats(mean, variance, input.data.size // input.shape[1])
            return output
        # eval: fold the running statistics and the affine map into one scale and shift
        scale = 1.0 / (self.running_var + self.eps).sqrt()
        if self.weight is not None:
            scale = scale * self.weight
        shift = -self.running_mean * scale
        if self.bias is not None:
            shift = shift + self.bias
        return input * scale.reshape(channel_shape) + shift.reshape(channel_shape)

    def _update_running_stats(self, mean: np.ndarray, variance: np.ndarray, count: int) -> None:
        """Move the running estimates toward this batch's (C,) statistics (no graph)."""
        self.num_batches_tracked.data += 1
        self.num_batches_tracked._version[0] += 1
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked.data)
        else:
            factor = float(self.momentum)
        batch_mean = mean
        unbiased = variance * (count / max(count - 1, 1))
        for running, batch in ((self.running_mean, batch_mean), (self.running_var, unbiased)):
            updated = (1.0 - factor) * running.data + factor * batch
            np.copyto(running.data, updated, casting="unsafe")
            running._version[0] += 1

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C.

    Shape: (N, C) -> (N, C) or (N, C, L) -> (N, C, L).
    """

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over NCHW inputs, per channel C.

    Shape: (N, C, H, W) -> (N, C, H, W).
    """

    _expected_dims = (4,)


def _shape_tuple(normalized_shape: Any) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(side) for side in normalized_shape)


class LayerNorm(Module):
    """Layer normalization over the last len(normalized_shape) dims, per sample.

    y = (x - mean) / sqrt(var + eps) * weight + bias, mean and biased var over those dims;
    weight starts at ones and bias at zeros (both normalized_shape), as in PyTorch.

    Shape: (*, *normalized_shape) -> same.
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.empty(*self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.empty(*self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalization: channels split into num_groups groups, each normalized per sample
    over its channels and spatial dims, then a per-channel affine map (ones / zeros init).

    Shape: (N, C, *) -> same.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        if num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        if affine:
            self.weight = Parameter(creation.empty(num_channels, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.empty(num_channels, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """Instance normalization: each channel of each sample over its spatial dims.

    Running estimates (track_running_stats=True) move toward the batch average of the
    per-instance statistics in training and replace them in eval mode; num_batches_tracked
    stays 0, as in PyTorch. An input without the batch dim is treated as a batch of one.
    """

    _batched_dims = 3

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"instance_norm: expected a Tensor input, got "
                            f"{type(input).__name__}")
        if input.ndim not in (self._batched_dims - 1, self._batched_dims):
            raise ValueError(f"expected {self._batched_dims - 1}D or {self._batched_dims}D "
                             f"input (got {input.ndim}D input)")
        feature_dim = input.ndim - (self._batched_dims - 1)
        if input.shape[feature_dim] != self.num_features and self.affine:
            raise ValueError(f"expected input's size at dim={feature_dim} to match "
                             f"num_features ({self.num_features}), but got: "
                             f"{input.shape[feature_dim]}.")
        unbatched = input.ndim == self._batched_dims - 1
        batched = input.unsqueeze(0) if unbatched else input
        use_input_stats = self.training or not self.track_running_stats
        output = F.instance_norm(batched, self.running_mean, self.running_var, self.weight,
                                 self.bias, use_input_stats,
                                 self.momentum if self.momentum is not None else 0.0,
                                 self.eps)
        return output.squeeze(0) if unbatched else output


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over (N, C, L) or (C, L) inputs. Shape: same as input."""

    _batched_dims = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over (N, C, H, W) or (C, H, W) inputs. Shape: same as input."""

    _batched_dims = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over (N, C, D, H, W) or (C, D, H, W) inputs. Shape: same."""

    _batched_dims = 5


class RMSNorm(Module):
    """y = x / sqrt(mean(x ** 2) + eps) * weight over the last len(normalized_shape) dims;
    eps None means the input dtype's machine epsilon; weight starts at ones.

    Shape: (*, *normalized_shape) -> same.
    """

    def __init__(self, normalized_shape: Any, eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.empty(*self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """x / (k + alpha / size * sum of x ** 2 over `size` neighbouring channels) ** beta.

    Shape: (N, C, *) -> same.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
