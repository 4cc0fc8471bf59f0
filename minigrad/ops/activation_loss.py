"""Activations, softmax, losses and dropout: relu ... cross_entropy, mse_loss, dropout.

Every op is one Function on NumPy arrays with its backward right below its forward; none is
composed from other families. The public functions check their arguments the way PyTorch
does (same exception types, messages naming the function and the shapes), then call `apply`.

Deliberate differences from PyTorch, all documented at the function:
  - `inplace=True` is accepted and ignored: minigrad always returns a new tensor.
  - `softmax(x)` / `log_softmax(x)` without `dim` follow PyTorch's deprecated implicit-dim
    rule (dim 0 for 0-, 1- and 3-D inputs, else 1) with the same warning.
  - `cross_entropy(label_smoothing<0)` is an error (PyTorch only rejects values above 1).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, normalize_dim
from ..engine.random import default_generator
from ._broadcast import broadcast_shapes, unbroadcast
from ._convert import promote
from .cast import cast

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "gelu",
    "leaky_relu",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "relu",
    "silu",
    "softmax",
]

_REDUCTIONS = ("none", "mean", "sum")


# ---- argument checks shared by the family ---------------------------------------------------
def _check_tensor(where: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def _check_floating(where: str, tensor: Tensor) -> None:
    """PyTorch raises NotImplementedError (a RuntimeError) for integer inputs to these ops."""
    if not dtypes.is_floating(tensor.dtype):
        raise NotImplementedError(f"{where}: not implemented for dtype {tensor.dtype} "
                                  f"(expected a floating point input, shape {tensor.shape})")


def _check_reduction(where: str, reduction: Any) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: {reduction} is not a valid value for reduction "
                         f"(expected 'none', 'mean' or 'sum')")


def _legacy_reduction(size_average: bool | None, reduce: bool | None,
                      reduction: str) -> str:
    """PyTorch's deprecated size_average/reduce pair, turned into a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=3)
    return reduction


def _check_probability(where: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: p must be a number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    """Apply 'none' | 'sum' | 'mean' to elementwise losses, keeping their dtype."""
    if reduction == "none":
        return loss
    total = loss.sum() if reduction == "sum" else loss.mean()
    return np.asarray(total, dtype=loss.dtype)


def _reduced_grad(grad: np.ndarray, reduction: str, size: int) -> np.ndarray:
    """The gradient reaching each elementwise loss from the reduced output."""
    if reduction == "mean":
        return grad / size
    return grad


def _row_max(x: np.ndarray, axis: int | None) -> np.ndarray:
    """The max along `axis`, keeping it; -inf for an empty axis instead of an error."""
    return x.max(axis=axis, keepdims=True, initial=-np.inf)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow for large |x|."""
    exps = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + exps), exps / (1 + exps))


def _softplus_of_negative(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(-x)), stable for large |x|."""
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


# ---- activations ----------------------------------------------------------------------------
class ReLU(Function):
    """y = max(x, 0); the gradient at 0 is 0, as in PyTorch."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.positive = x > 0
        return np.maximum(x, 0)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.positive


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0) elementwise. Integer tensors work too (no gradient); `inplace` is ignored.

    Shape: any -> same.
    """
    _check_tensor("relu", "input", input)
    if input.dtype == dtypes.bool_:
        raise RuntimeError("relu: Boolean inputs not supported for relu")
    return ReLU.apply(input)


class LeakyReLU(Function):
    """y = x for x > 0, else negative_slope * x; the gradient at 0 is negative_slope."""

    def forward(self, x: np.ndarray, negative_slope: float) -> np.ndarray:
        self.positive = x > 0
        self.negative_slope = negative_slope
        return np.where(self.positive, x, x * negative_slope)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return np.where(self.positive, grad, grad * self.negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x, elementwise; `inplace` is ignored.

    Shape: any -> same.
    """
    _check_tensor("leaky_relu", "input", input)
    _check_floating("leaky_relu", input)
    if not isinstance(negative_slope, (int, float, np.number)) or isinstance(negative_slope,
                                                                            bool):
        raise TypeError(f"leaky_relu(): argument 'negative_slope' must be Number, not "
                        f"{type(negative_slope).__name__}")
    return LeakyReLU.apply(input, negative_slope=float(negative_slope))


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function elementwise, in x's dtype (SciPy comes with scikit-learn)."""
    from scipy.special import erf  # imported on first use: `import minigrad` stays fast

    return erf(x)


class GELU(Function):
    """y = x * Phi(x) (Phi the standard normal CDF), or PyTorch's tanh approximation of it."""

    def forward(self, x: np.ndarray, approximate: str) -> np.ndarray:
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)
            self.tanh = np.tanh(inner)
            return 0.5 * x * (1 + self.tanh)
        self.cdf = 0.5 * (1 + _erf(x * _SQRT_HALF))
        return x * self.cdf

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x = self.x
        if self.approximate == "tanh":
            tanh = self.tanh
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return grad * (0.5 * (1 + tanh) + 0.5 * x * (1 - tanh * tanh) * d_inner)
        density = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return grad * (self.cdf + x * density)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with the exact erf form (approximate='none') or the tanh form ('tanh').

    Shape: any -> same.
    """
    _check_tensor("gelu", "input", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, "
                           f"got {approximate!r}")
    _check_floating("gelu", input)
    return GELU.apply(input, approximate=approximate)


class SiLU(Function):
    """y = x * sigmoid(x) (also called swish)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        self.sigmoid = _sigmoid(x)
        return x * self.sigmoid

    def backward(self, grad: np.ndarray) -> np.ndarray:
        sigmoid = self.sigmoid
        return grad * (sigmoid * (1 + self.x * (1 - sigmoid)))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) elementwise; `inplace` is ignored.

    Shape: any -> same.
    """
    _check_tensor("silu", "input", input)
    _check_floating("silu", input)
    return SiLU.apply(input)


class ELU(Function):
    """y = x for x > 0, else alpha * (exp(x) - 1); the gradient at 0 is alpha, as in PyTorch."""

    def forward(self, x: np.ndarray, alpha: float) -> np.ndarray:
        self.positive = x > 0
        self.alpha = alpha
        # clip before expm1 so large positive x (not used by where) cannot overflow
        self.output = np.where(self.positive, x, alpha * np.expm1(np.minimum(x, 0)))
        return self.output

    def backward(self, grad: np.ndarray) -> np.ndarray:
        # for x <= 0: d/dx alpha * (exp(x) - 1) = alpha * exp(x) = output + alpha
        return np.where(self.positive, grad, grad * (self.output + self.alpha))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1), elementwise; `inplace` is ignored.

    Shape: any -> same.
    """
    _check_tensor("elu", "input", input)
    _check_floating("elu", input)
    return ELU.apply(input, alpha=float(alpha))


# ---- softmax --------------------------------------------------------------------------------
class Softmax(Function):
    """exp(x) / sum(exp(x)) along `dim`; backward uses the saved output."""

    def forward(self, x: np.ndarray, dim: int | None) -> np.ndarray:
        self.dim = dim
        # subtract the max so exp cannot overflow (logits of 1e4 stay finite)
        exps = np.exp(x - _row_max(x, dim))
        self.output = exps / exps.sum(axis=dim, keepdims=True)
        return self.output

    def backward(self, grad: np.ndarray) -> np.ndarray:
        output = self.output
        return output * (grad - (grad * output).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """x - log(sum(exp(x))) along `dim`; backward uses the saved output."""

    def forward(self, x: np.ndarray, dim: int | None) -> np.ndarray:
        self.dim = dim
        shifted = x - _row_max(x, dim)  # subtract the max so exp cannot overflow
        self.output = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        return self.output

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad - np.exp(self.output) * grad.sum(axis=self.dim, keepdims=True)


def _softmax_axis(where: str, input: Tensor, dim: int | None) -> int | None:
    """The NumPy axis for `dim` (None for a 0-d input); dim=None follows PyTorch's old rule."""
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {where} has been deprecated. "
                      f"Change the call to include dim=X as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    axis = normalize_dim(dim, input.ndim, where)
    return axis if input.ndim > 0 else None


def _softmax_input(where: str, input: Tensor, dtype: Any) -> Tensor:
    _check_tensor(where, "input", input)
    if dtype is not None:
        input = cast(input, dtype)
    _check_floating(where, input)
    return input


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along `dim`, computed stably (the max is subtracted first).

    dtype: cast the input to it first (as PyTorch). dim=None is PyTorch's deprecated implicit
    choice (0 for 0-, 1- and 3-D inputs, else 1) and warns; pass `dim`.
    Shape: any -> same.
    """
    input = _softmax_input("softmax", input, dtype)
    return Softmax.apply(input, dim=_softmax_axis("softmax", input, dim))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """x_i - log(sum_j exp(x_j)) along `dim`, stable for large logits.

    dtype and dim=None as in `softmax`.
    Shape: any -> same.
    """
    input = _softmax_input("log_softmax", input, dtype)
    return LogSoftmax.apply(input, dim=_softmax_axis("log_softmax", input, dim))


def _softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """`x.softmax(dim)`: dim is required, as for torch.Tensor.softmax."""
    input = _softmax_input("softmax", self, dtype)
    return Softmax.apply(input, dim=_softmax_axis("softmax", input, dim))


def _log_softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """`x.log_softmax(dim)`: dim is required, as for torch.Tensor.log_softmax."""
    input = _softmax_input("log_softmax", self, dtype)
    return LogSoftmax.apply(input, dim=_softmax_axis("log_softmax", input, dim))


# ---- classification losses on class indices -------------------------------------------------
def _class_layout(x: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Input as (N, C, d1, ...) and int64 target as (N, d1, ...); unbatched (C,) gets N = 1."""
    if x.ndim == 1:
        x = x[None]
        target = target.reshape(1)
    return x, target.astype(np.int64, copy=False)


def _target_weights(target: np.ndarray, weight: np.ndarray | None, ignore_index: int,
                    dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-target index safe to gather with, its class weight (0 when ignored), and the mask.

    Returns (index (N, 1, d1, ...), target_weight (N, d1, ...), kept (N, d1, ...) as dtype).
    """
    ignored = target == ignore_index
    safe_target = np.where(ignored, 0, target)
    kept = (~ignored).astype(dtype)
    target_weight = kept if weight is None else weight[safe_target] * kept
    return np.expand_dims(safe_target, 1), target_weight, kept


def _drop_ignored(loss: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Zero the losses of ignored targets, even where their row holds -inf logits."""
    return np.where(kept > 0, loss, 0)


def _class_view(weight: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) class weight shaped (1, C, 1, ...) to broadcast against (N, C, d1, ...)."""
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


def _per_target_grad(grad: np.ndarray, reduction: str, denominator: np.ndarray,
                     kept: np.ndarray) -> np.ndarray:
    """d(output)/d(loss_n) for each target; 0 for ignored ones even when the mean is 0/0."""
    if reduction == "none":
        return grad.reshape(kept.shape)
    if reduction == "sum":
        return grad
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(kept > 0, grad / denominator, 0).astype(kept.dtype)


def _reduce_weighted(loss: np.ndarray, reduction: str, denominator: np.ndarray,
                     output_shape: tuple) -> np.ndarray:
    """Reduce per-target losses; 'mean' divides by the summed weight of kept targets."""
    if reduction == "none":
        return loss.reshape(output_shape)
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(loss.sum() / denominator, dtype=loss.dtype)


class NLLLoss(Function):
    """-weight[t] * input[n, t] per target (input holds log-probabilities), then reduced."""

    def forward(self, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                ignore_index: int, reduction: str) -> np.ndarray:
        self.input_shape, self.reduction = x.shape, reduction
        output_shape = target.shape
        x, target = _class_layout(x, target)
        index, target_weight, kept = _target_weights(target, weight, ignore_index, x.dtype)
        picked = np.take_along_axis(x, index, axis=1)[:, 0]  # (N, d1, ...)
        with np.errstate(invalid="ignore"):  # 0 * -inf for ignored rows, dropped below
            loss = _drop_ignored(-(target_weight * picked), kept)
        self.index, self.target_weight, self.kept = index, target_weight, kept
        self.layout_shape = x.shape
        self.denominator = target_weight.sum()
        return _reduce_weighted(loss, reduction, self.denominator, output_shape)

    def backward(self, grad: np.ndarray) -> tuple:
        per_target = _per_target_grad(grad, self.reduction, self.denominator, self.kept)
        grad_input = np.zeros(self.layout_shape, dtype=self.target_weight.dtype)
        values = np.expand_dims(-(self.target_weight * per_target), 1)
        np.put_along_axis(grad_input, self.index, values, axis=1)
        return grad_input.reshape(self.input_shape), None, None


class CrossEntropy(Function):
    """log_softmax + nll_loss (+ label smoothing) in one pass; gradient softmax - one-hot.

    Per target n with class t, weights w and smoothing e over C classes (PyTorch's formula):
        loss_n = (1 - e) * w[t] * -logp[n, t] + (e / C) * sum_c w[c] * -logp[n, c]
    Ignored targets lose both terms; 'mean' divides by sum of w[t] over kept targets.
    """

    def forward(self, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                ignore_index: int, reduction: str, label_smoothing: float) -> np.ndarray:
        self.input_shape, self.reduction, self.smoothing = x.shape, reduction, label_smoothing
        output_shape = target.shape
        x, target = _class_layout(x, target)
        index, target_weight, kept = _target_weights(target, weight, ignore_index, x.dtype)
        shifted = x - _row_max(x, 1)  # subtract the max so exp cannot overflow
        num_classes = x.shape[1]
        if label_smoothing > 0:
            # sum_c w[c] * logp[c] = sum_c w[c] * shifted[c] - sum(w) * log_sum, read off now
            # because shifted is overwritten by exp below
            if weight is None:
                weighted_shifted, weight_total = shifted.sum(axis=1), num_classes
            else:
                weighted_shifted = np.einsum("nc...,c->n...", shifted, weight)
                weight_total = weight.sum()
        picked = np.take_along_axis(shifted, index, axis=1)[:, 0]  # shifted logit at t
        exps = np.exp(shifted, out=shifted)
        sums = exps.sum(axis=1, keepdims=True)
        log_sums = np.log(sums)[:, 0]  # (N, d1, ...)
        with np.errstate(invalid="ignore"):  # 0 * -inf for ignored rows, dropped below
            loss = -(target_weight * (picked - log_sums))
            if label_smoothing > 0:
                smooth = weight_total * log_sums - weighted_shifted
                loss = (1 - label_smoothing) * loss + (label_smoothing / num_classes) * smooth
            loss = _drop_ignored(loss, kept)
        if self.needs_input_grad[0]:
            exps /= sums
            self.probabilities = exps  # softmax, (N, C, d1, ...)
            self.index, self.target_weight, self.kept = index, target_weight, kept
            self.weight, self.layout_shape = weight, x.shape
        self.denominator = target_weight.sum()
        return _reduce_weighted(loss, reduction, self.denominator, output_shape)

    def backward(self, grad: np.ndarray) -> tuple:
        if not self.needs_input_grad[0]:
            return None, None, None
        smoothing, num_classes = self.smoothing, self.layout_shape[1]
        per_target = _per_target_grad(grad, self.reduction, self.denominator, self.kept)
        # d loss_n / d x_n = row_scale * p - target_scale * onehot(t) - (e / C) * w * kept,
        # each scale already multiplied by the gradient reaching loss_n
        target_scale = (1 - smoothing) * self.target_weight * per_target  # (N, d1, ...)
        row_scale = target_scale
        if smoothing > 0:
            weight_total = num_classes if self.weight is None else self.weight.sum()
            smooth_scale = (smoothing / num_classes) * self.kept * per_target
            row_scale = target_scale + weight_total * smooth_scale
        grad_input = self.probabilities * np.expand_dims(row_scale, 1)
        at_target = np.take_along_axis(grad_input, self.index, axis=1)
        np.put_along_axis(grad_input, self.index, at_target - np.expand_dims(target_scale, 1),
                          axis=1)
        if smoothing > 0:
            class_weight = 1 if self.weight is None else _class_view(self.weight,
                                                                      grad_input.ndim)
            grad_input -= class_weight * np.expand_dims(smooth_scale, 1)
        return grad_input.reshape(self.input_shape), None, None


class CrossEntropyProbabilities(Function):
    """Cross-entropy against class probabilities: -sum_c w[c] * q[n, c] * logp[n, c].

    With smoothing e, q = (1 - e) * target + e / C; 'mean' divides by the number of
    positions N * d1 * ..., not by the weights (PyTorch's rule for probability targets).
    """

    def forward(self, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                reduction: str, label_smoothing: float) -> np.ndarray:
        self.input_shape, self.reduction, self.smoothing = x.shape, reduction, label_smoothing
        unbatched = x.ndim == 1
        if unbatched:
            x, target = x[None], target[None]
        shifted = x - _row_max(x, 1)  # subtract the max so exp cannot overflow
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        log_probs = shifted - np.log(sums)
        if label_smoothing > 0:
            target = (1 - label_smoothing) * target + label_smoothing / x.shape[1]
        class_weight = 1 if weight is None else _class_view(weight, x.ndim)
        weighted_target = target * class_weight
        loss = -(log_probs * weighted_target).sum(axis=1)  # (N, d1, ...)
        self.weighted_target, self.class_weight = weighted_target, class_weight
        self.probabilities = exps / sums if self.needs_input_grad[0] else None
        self.log_probs = log_probs if self.needs_input_grad[1] else None
        self.positions = loss.size
        return _reduce(loss[0] if unbatched else loss, reduction)

    def backward(self, grad: np.ndarray) -> tuple:
        per_position = _reduced_grad(grad, self.reduction, self.positions)
        if per_position.ndim:
            per_position = np.expand_dims(per_position.reshape(-1, *self.input_shape[2:]), 1)
        grad_input = grad_target = None
        if self.needs_input_grad[0]:
            weighted_target = self.weighted_target
            total = weighted_target.sum(axis=1, keepdims=True)
            grad_input = (self.probabilities * total - weighted_target) * per_position
            grad_input = grad_input.reshape(self.input_shape)
        if self.needs_input_grad[1]:
            scale = -(1 - self.smoothing) * per_position
            grad_target = (self.log_probs * self.class_weight * scale).reshape(self.input_shape)
        return grad_input, grad_target, None


def _check_weight(where: str, weight: Tensor | None, input: Tensor) -> None:
    if weight is None:
        return
    _check_tensor(where, "weight", weight)
    num_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight.ndim != 1 or weight.shape[0] != num_classes:
        raise RuntimeError(f"{where}: weight tensor should be defined either for all "
                           f"{num_classes} classes or no classes but got weight tensor of "
                           f"shape: {list(weight.shape)} (input {input.shape})")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"{where}: expected scalar type {input.dtype} but found "
                           f"{weight.dtype} for weight")
    if weight.requires_grad:
        raise RuntimeError(f"{where}: The function '{where}' is not differentiable with "
                           f"respect to argument 'weight'. This input cannot have "
                           f"requires_grad True.")


def _check_class_target(where: str, input: Tensor, target: Tensor, ignore_index: int) -> None:
    """PyTorch's checks for class-index targets: dtype, rank, batch size, shape, range."""
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        hint = ""
        if dtypes.is_floating(target.dtype) and where == "cross_entropy":
            hint = (f"; a float target must hold class probabilities of the input's shape "
                    f"{input.shape}")
        raise RuntimeError(f"{where}: expected target dtype to be Long or Byte (int64 or uint8 "
                           f"class indices), but got {target.dtype} (target {target.shape}, "
                           f"input {input.shape}){hint}")
    shapes = f"(input {input.shape}, target {target.shape})"
    if input.ndim > 1:  # PyTorch compares batch sizes first (a 0-d target counts as 0)
        batch = target.shape[0] if target.ndim else 0
        if batch != input.shape[0] or target.ndim == 0:
            raise ValueError(f"{where}: Expected input batch_size ({input.shape[0]}) to match "
                             f"target batch_size ({batch}). {shapes}")
    if input.ndim <= 2 and target.ndim > 1:
        raise RuntimeError(f"{where}: 0D or 1D target tensor expected, multi-target not "
                           f"supported {shapes}")
    if input.ndim == 1:
        if target.ndim == 1 and target.shape[0] != 1:
            raise ValueError(f"{where}: For 1D input, 1D target must have size 1, but got "
                             f"target size: {target.shape[0]} {shapes}")
    else:
        expected = (input.shape[0],) + input.shape[2:]
        if target.shape != expected:
            raise RuntimeError(f"{where}: Expected target size {list(expected)}, got "
                               f"{list(target.shape)} {shapes}")
    num_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    values = target.data
    out_of_range = ((values < 0) | (values >= num_classes)) & (values != ignore_index)
    if out_of_range.any():
        value = int(values[out_of_range].flat[0])
        raise IndexError(f"{where}: Target {value} is out of bounds. (targets must lie in "
                         f"[0, {num_classes}) for {num_classes} classes, or equal "
                         f"ignore_index={ignore_index})")


def _check_class_input(where: str, input: Tensor) -> None:
    _check_tensor(where, "input", input)
    if input.ndim == 0:
        raise ValueError(f"{where}: Expected 1 or more dimensions (got 0) for input")
    _check_floating(where, input)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices: loss_n = -weight[t_n] * input[n, t_n].

    input holds log-probabilities. Targets equal to ignore_index contribute 0, and 'mean'
    divides by the summed weight of the other targets (0/0 = nan if all are ignored).
    Shape: input (N, C) or (N, C, d1, ...) or (C,); target (N,) or (N, d1, ...) or () int64;
    output () or, for reduction='none', target's shape.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_class_input("nll_loss", input)
    _check_tensor("nll_loss", "target", target)
    _check_reduction("nll_loss", reduction)
    _check_class_target("nll_loss", input, target, ignore_index)
    _check_weight("nll_loss", weight, input)
    return NLLLoss.apply(input, target, weight, ignore_index=int(ignore_index),
                         reduction=reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits, log_softmax and nll_loss fused (gradient softmax - one-hot).

    target: int64 (or uint8) class indices, or float class probabilities of input's shape.
    label_smoothing e in [0, 1] mixes in the uniform distribution as PyTorch does: class
    targets get (1 - e) * nll + e / C * sum_c weight[c] * -logp[c], with the same 'mean'
    denominator as nll_loss. ignore_index applies to class targets only.
    Shape: input (N, C) or (N, C, d1, ...) or (C,); target (N,) or (N, d1, ...) or (), or
    the input's shape for probabilities; output () or, for reduction='none', (N, d1, ...).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_class_input("cross_entropy", input)
    _check_tensor("cross_entropy", "target", target)
    _check_reduction("cross_entropy", reduction)
    if isinstance(label_smoothing, bool) or not isinstance(
            label_smoothing, (int, float, np.integer, np.floating)):
        raise TypeError(f"cross_entropy: label_smoothing must be a float, got "
                        f"{type(label_smoothing).__name__}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. "
                           f"Got: {label_smoothing}")
    _check_weight("cross_entropy", weight, input)
    if dtypes.is_floating(target.dtype) and target.shape == input.shape:
        if ignore_index != -100:
            raise RuntimeError("cross_entropy: ignore_index is not supported for floating "
                               "point target (class-probability targets)")
        input, target = promote(input, target)
        if weight is not None:
            weight = cast(weight, input.dtype)
        return CrossEntropyProbabilities.apply(input, target, weight, reduction=reduction,
                                               label_smoothing=float(label_smoothing))
    _check_class_target("cross_entropy", input, target, ignore_index)
    return CrossEntropy.apply(input, target, weight, ignore_index=int(ignore_index),
                              reduction=reduction, label_smoothing=float(label_smoothing))


# ---- regression and binary losses -----------------------------------------------------------
class MSELoss(Function):
    """(input - target) ** 2 with broadcasting, then reduced."""

    def forward(self, x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
        self.x_shape, self.target_shape, self.reduction = x.shape, target.shape, reduction
        self.difference = x - target
        return _reduce(self.difference * self.difference, reduction)

    def backward(self, grad: np.ndarray) -> tuple:
        difference = self.difference
        grad_difference = 2 * difference * _reduced_grad(grad, self.reduction, difference.size)
        grad_x = grad_target = None
        if self.needs_input_grad[0]:
            grad_x = unbroadcast(grad_difference, self.x_shape)
        if self.needs_input_grad[1]:
            grad_target = unbroadcast(-grad_difference, self.target_shape)
        return grad_x, grad_target


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Mean squared error (input - target) ** 2, broadcasting like PyTorch (which warns).

    Shape: input and target broadcastable; output () or, for 'none', the broadcast shape.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_tensor("mse_loss", "input", input)
    _check_tensor("mse_loss", "target", target)
    _check_reduction("mse_loss", reduction)
    broadcast_shapes("mse_loss", input.shape, target.shape)
    if input.shape != target.shape:
        warnings.warn(f"mse_loss: Using a target size ({target.shape}) that is different to "
                      f"the input size ({input.shape}). This will likely lead to incorrect "
                      f"results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=2)
    input, target = promote(input, target)
    _check_floating("mse_loss", input)
    return MSELoss.apply(input, target, reduction=reduction)


_LOG_FLOOR = -100.0  # PyTorch clamps log(p) and log(1 - p) at -100 so loss stays finite
_BCE_EPSILON = float(np.float32(1e-12))  # PyTorch's clamp of (1 - p) * p, a C float


class BinaryCrossEntropy(Function):
    """-weight * (t * log(p) + (1 - t) * log(1 - p)), the logs clamped at -100 like PyTorch."""

    def forward(self, p: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                reduction: str) -> np.ndarray:
        self.p, self.target, self.weight, self.reduction = p, target, weight, reduction
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), _LOG_FLOOR)
            log_q = np.maximum(np.log1p(-p), _LOG_FLOOR)
        loss = -(target * log_p + (1 - target) * log_q)
        if weight is not None:
            loss = loss * weight
        return _reduce(loss, reduction)

    def backward(self, grad: np.ndarray) -> tuple:
        scale = _reduced_grad(grad, self.reduction, self.p.size)
        if self.weight is not None:
            scale = scale * self.weight
        p, target = self.p, self.target
        grad_p = grad_target = None
        if self.needs_input_grad[0]:
            # PyTorch's clamp keeps the gradient finite at p = 0 and p = 1
            grad_p = scale * (p - target) / np.maximum((1 - p) * p, _BCE_EPSILON)
        if self.needs_input_grad[1]:
            # unclamped, as PyTorch: infinite where p is exactly 0 or 1
            with np.errstate(divide="ignore"):
                grad_target = scale * (np.log1p(-p) - np.log(p))
        return grad_p, grad_target, None


def _check_loss_weight(where: str, name: str, weight: Tensor | None, input: Tensor) -> None:
    """An elementwise weight must broadcast to the input's shape and must not need grad."""
    if weight is None:
        return
    _check_tensor(where, name, weight)
    try:
        shape = np.broadcast_shapes(weight.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise RuntimeError(f"{where}: {name} of shape {weight.shape} cannot be broadcast to "
                           f"the input's shape {input.shape}")
    if weight.requires_grad:
        raise RuntimeError(f"{where}: The function '{where}' is not differentiable with "
                           f"respect to argument '{name}'. This input cannot have "
                           f"requires_grad True.")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities in [0, 1]; log terms are clamped at -100.

    weight: broadcastable to input, rescales each element's loss.
    Shape: input, target the same shape; output () or, for 'none', that shape.
    """
    where = "binary_cross_entropy"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_tensor(where, "input", input)
    _check_tensor(where, "target", target)
    _check_reduction(where, reduction)
    if target.shape != input.shape:
        raise ValueError(f"{where}: Using a target size ({target.shape}) that is different to "
                         f"the input size ({input.shape}) is deprecated. Please ensure they "
                         f"have the same size.")
    _check_floating(where, input)
    if target.dtype != input.dtype:
        raise RuntimeError(f"{where}: Found dtype {target.dtype} but expected {input.dtype} "
                           f"for target")
    _check_loss_weight(where, "weight", weight, input)
    if weight is not None:
        weight = cast(weight, input.dtype)
    data = input.data
    if not _all_in_unit_interval(data):
        raise RuntimeError(f"{where}: all elements of input should be between 0 and 1")
    if not _all_in_unit_interval(target.data):
        raise RuntimeError(f"{where}: all elements of target should be between 0 and 1 "
                           f"(found {_outside_unit_interval(target.data)})")
    return BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


def _all_in_unit_interval(data: np.ndarray) -> bool:
    """True when every element lies in [0, 1] (NaN does not)."""
    return bool(((data >= 0) & (data <= 1)).all())


def _outside_unit_interval(data: np.ndarray) -> str:
    """A short description of the first element outside [0, 1], for error messages."""
    flat = data.reshape(-1)
    position = int(np.flatnonzero(~((flat >= 0) & (flat <= 1)))[0])
    index = np.unravel_index(position, data.shape) if data.ndim else ()
    return f"{flat[position]} at index {tuple(int(i) for i in index)}"


class BinaryCrossEntropyWithLogits(Function):
    """weight * ((1 - t) * x + (1 + (pos_weight - 1) * t) * log(1 + exp(-x))), stably."""

    def forward(self, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                pos_weight: np.ndarray | None, reduction: str) -> np.ndarray:
        self.x, self.target, self.reduction = x, target, reduction
        self.weight, self.pos_weight = weight, pos_weight
        self.softplus = _softplus_of_negative(x)  # log(1 + exp(-x))
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        self.log_weight = log_weight
        loss = (1 - target) * x + log_weight * self.softplus
        if weight is not None:
            loss = loss * weight
        return _reduce(loss, reduction)

    def backward(self, grad: np.ndarray) -> tuple:
        scale = _reduced_grad(grad, self.reduction, self.x.size)
        if self.weight is not None:
            scale = scale * self.weight
        x, target = self.x, self.target
        grad_x = grad_target = None
        if self.needs_input_grad[0]:
            sigmoid_of_negative = np.exp(-x - self.softplus)  # 1 - sigmoid(x), stably
            grad_x = scale * ((1 - target) - self.log_weight * sigmoid_of_negative)
        if self.needs_input_grad[1]:
            d_target = -x
            if self.pos_weight is not None:
                d_target = d_target + (self.pos_weight - 1) * self.softplus
            grad_target = scale * d_target
        return grad_x, grad_target, None, None


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op (no log of 0 for large |logits|).

    weight rescales each element; pos_weight (broadcast along the last dims, usually (C,))
    rescales the positive term.
    Shape: input, target the same shape; output () or, for 'none', that shape.
    """
    where = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_tensor(where, "input", input)
    _check_tensor(where, "target", target)
    _check_reduction(where, reduction)
    if target.shape != input.shape:
        raise ValueError(f"{where}: Target size ({target.shape}) must be the same as input "
                         f"size ({input.shape})")
    _check_floating(where, input)
    if not dtypes.is_floating(target.dtype):
        raise RuntimeError(f"{where}: result type {input.dtype} can't be cast to the desired "
                           f"output type {target.dtype} (target must be floating point)")
    _check_loss_weight(where, "weight", weight, input)
    _check_loss_weight(where, "pos_weight", pos_weight, input)
    input, target = promote(input, target)
    if weight is not None:
        weight = cast(weight, input.dtype)
    if pos_weight is not None:
        pos_weight = cast(pos_weight, input.dtype)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight,
                                              reduction=reduction)


# ---- dropout --------------------------------------------------------------------------------
class Dropout(Function):
    """Inverted dropout: zero each element (or each channel) with probability p and scale
    the survivors by 1 / (1 - p), so the expected output equals the input."""

    def forward(self, x: np.ndarray, p: float, channelwise: bool) -> np.ndarray:
        mask_shape = x.shape[:2] + (1,) * (x.ndim - 2) if channelwise else x.shape
        keep = default_generator().random(mask_shape, dtype=np.float32) >= p
        scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        self.mask = keep * x.dtype.type(scale)  # (mask_shape) in x's dtype: 0 or 1 / (1 - p)
        return x * self.mask

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p, scale the rest by 1 / (1 - p) (inverted dropout).

    The mask comes from minigrad's global generator (`mg.manual_seed` repeats it). With
    training=False or p=0 the input itself is returned. `inplace` is ignored.
    Shape: any -> same.
    """
    _check_tensor("dropout", "input", input)
    p = _check_probability("dropout", p)
    if not training or p == 0.0:
        return input
    _check_floating("dropout", input)
    return Dropout.apply(input, p=p, channelwise=False)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels: one draw per (n, c), as PyTorch's feature dropout.

    Like PyTorch, a 3-D input is read as (N, C, L) (with its warning) and inputs that are not
    4-D warn; fewer than 2 dimensions is an error. `inplace` is ignored.
    Shape: (N, C, H, W) -> same.
    """
    _check_tensor("dropout2d", "input", input)
    p = _check_probability("dropout2d", p)
    if input.ndim < 2:
        raise RuntimeError(f"dropout2d: Feature dropout requires at least 2 dimensions in the "
                           f"input, got shape {input.shape}")
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim.", stacklevel=2)
    elif input.ndim != 4:
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      f"deprecated; dropout2d expects (N, C, H, W).", stacklevel=2)
    if not training or p == 0.0:
        return input
    _check_floating("dropout2d", input)
    return Dropout.apply(input, p=p, channelwise=True)


# ---- encoding -------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 class indices of shape (*) -> int64 (*, num_classes) with a 1 at each index.

    num_classes=-1 means max(tensor) + 1. Not differentiable (integer output).
    """
    _check_tensor("one_hot", "tensor", tensor)
    if tensor.dtype != dtypes.int64:
        raise RuntimeError(f"one_hot: one_hot is only applicable to index tensor of type "
                           f"LongTensor (int64), got {tensor.dtype}")
    values = tensor.data
    if num_classes == -1:
        if values.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty "
                               "tensor.")
        num_classes = int(values.max()) + 1
    if values.size and values.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative (got {values.min()}).")
    if values.size and values.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"(got {values.max()}, num_classes={num_classes}).")
    encoded = values[..., None] == np.arange(num_classes)
    return Tensor._from_op(encoded.astype(np.int64))


TENSOR_METHODS = {
    "relu": relu,
    "softmax": _softmax_method,
    "log_softmax": _log_softmax_method,
}
FUNCTIONAL = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "gelu": gelu,
    "silu": silu,
    "elu": elu,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "nll_loss": nll_loss,
    "cross_entropy": cross_entropy,
    "mse_loss": mse_loss,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "dropout": dropout,
    "dropout2d": dropout2d,
    "one_hot": one_hot,
}
TOPLEVEL = {
    "relu": relu,
    "softmax": softmax,
    "log_softmax": log_softmax,
}
