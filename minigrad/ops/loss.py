"""Losses: nll_loss, cross_entropy (class indices or probabilities), mse_loss and binary
cross-entropy (on probabilities or logits), with PyTorch's options and reductions.

Every op is one Function on NumPy arrays with its backward right below its forward. The public
functions check their arguments the way PyTorch does, then call `apply`.

Each backward is one formula against the namespace `xp` (CONTRIBUTING.md), so a loss can be
differentiated twice (gradient penalties, Hessian-vector products). Losses save their inputs;
what forward derived from them and backward needs again (cross_entropy's softmax, the softplus
of BCE with logits) goes through `xp.recompute(cache, formula, ...)`: the NumPy side reuses
forward's array, a graph pass recomputes it as ops. Class indices and class weights are
constants; the gather/scatter by class index is the PickClass/PlaceClass pair.

Deliberate difference from PyTorch, documented at the function: `cross_entropy(
label_smoothing<0)` is an error (PyTorch only rejects values above 1).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from ._broadcast import broadcast_shapes
from ._convert import promote
from ._shared import as_tensor as _as_tensor
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor
from ._shared import row_max as _row_max
from .cast import cast

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "mse_loss",
    "nll_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


# ---- argument checks and reductions -------------------------------------------------------
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


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    """Apply 'none' | 'sum' | 'mean' to elementwise losses, keeping their dtype."""
    if reduction == "none":
        return loss
    total = loss.sum() if reduction == "sum" else loss.mean()
    return np.asarray(total, dtype=loss.dtype)


def _reduced_grad(grad: Any, reduction: str, size: int) -> Any:
    """The gradient reaching each elementwise loss from the reduced output (either side)."""
    if reduction == "mean":
        return grad / size
    return grad


# ---- values forward computes and backward reuses: formulas of xp --------------------------
def _softplus_of_negative(xp: Any, x: Any) -> Any:
    """log(1 + exp(-x)), stable for large |x|."""
    return xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _difference(xp: Any, x: Any, target: Any) -> Any:
    """input - target, broadcast (MSE)."""
    return x - target


def _log_weight(xp: Any, target: Any, pos_weight: Any) -> Any:
    """The factor of log(1 + exp(-x)) in BCE with logits: 1 + (pos_weight - 1) * target."""
    return 1 + (pos_weight - 1) * target


def _softmax(xp: Any, x: Any, axis: int) -> Any:
    return xp.softmax(x, axis)


def _log_softmax(xp: Any, x: Any, axis: int) -> Any:
    return xp.log_softmax(x, axis)


def _class_target(xp: Any, target: Any, smoothing: float, class_weight: Any) -> Any:
    """Class-probability targets mixed with the uniform distribution, times class weights:
    ((1 - e) * target + e / C) * w, (N, C, d1, ...)."""
    if smoothing > 0:
        target = (1 - smoothing) * target + smoothing / target.shape[1]
    return target * class_weight


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


def _per_target_grad(xp: Any, grad: Any, reduction: str, denominator: np.ndarray,
                     kept: np.ndarray) -> Any:
    """d(output)/d(loss_n) for each target; 0 for ignored ones even when the mean is 0/0."""
    if reduction == "none":
        return xp.reshape(grad, kept.shape)
    if reduction == "sum":
        return grad
    return grad * _mean_factor(kept, denominator)


def _mean_factor(kept: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """A constant: 1 / denominator for kept targets, 0 for ignored ones (and when all are)."""
    if denominator == 0:
        return np.zeros_like(kept)
    return kept * (1 / denominator)


def _reduce_weighted(loss: np.ndarray, reduction: str, denominator: np.ndarray,
                     output_shape: tuple) -> np.ndarray:
    """Reduce per-target losses; 'mean' divides by the summed weight of kept targets."""
    if reduction == "none":
        return loss.reshape(output_shape)
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(loss.sum() / denominator, dtype=loss.dtype)


class PickClass(Function):
    """x[n, index[n, 0, ...], ...]: (N, C, d1, ...) -> (N, 1, d1, ...), index a constant.

    Its backward places the gradient back at the index (PlaceClass), and back.
    """

    def forward(self, x: np.ndarray, index: np.ndarray) -> np.ndarray:
        self.index, self.input_shape = index, x.shape
        return np.take_along_axis(x, index, axis=1)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.place_class(grad, self.index, self.input_shape)


class PlaceClass(Function):
    """Zeros of `shape` (N, C, d1, ...) holding values (N, 1, d1, ...) at the class index."""

    def forward(self, values: np.ndarray, index: np.ndarray, shape: tuple) -> np.ndarray:
        self.index = index
        return _place_class_array(values, index, shape)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.pick_class(grad, self.index)


def _place_class_array(values: np.ndarray, index: np.ndarray, shape: tuple) -> np.ndarray:
    placed = np.zeros(shape, dtype=values.dtype)
    np.put_along_axis(placed, index, values, axis=1)
    return placed


def _scaled_minus_at_class_array(a: np.ndarray, scale: np.ndarray, index: np.ndarray,
                                 values: np.ndarray, minus: Any = None) -> np.ndarray:
    """a * scale (- minus), then values subtracted at the class index: one new array,
    written in place."""
    result = a * scale
    if minus is not None:
        result -= minus
    at_index = np.take_along_axis(result, index, axis=1)
    np.put_along_axis(result, index, at_index - values, axis=1)
    return result


class NLLLoss(Function):
    """-weight[t] * input[n, t] per target (input holds log-probabilities), then reduced.

    Linear in the input: its gradient places -weight[t] * grad at each target, and the
    second derivative with respect to the input is zero.
    """

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

    def backward(self, xp: Any, grad: Any) -> tuple:
        per_target = _per_target_grad(xp, grad, self.reduction, self.denominator, self.kept)
        values = xp.expand_dims(-(self.target_weight * per_target), 1)
        grad_input = xp.place_class(values, self.index, self.layout_shape)
        if self.layout_shape != self.input_shape:
            grad_input = xp.reshape(grad_input, self.input_shape)
        return grad_input, None, None


class CrossEntropy(Function):
    """log_softmax + nll_loss (+ label smoothing) in one pass; gradient softmax - one-hot.

    Per target n with class t, weights w and smoothing e over C classes (PyTorch's formula):
        loss_n = (1 - e) * w[t] * -logp[n, t] + (e / C) * sum_c w[c] * -logp[n, c]
    Ignored targets lose both terms; 'mean' divides by sum of w[t] over kept targets.
    Backward reuses forward's softmax; a graph pass recomputes it from the saved logits.
    """

    def forward(self, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                ignore_index: int, reduction: str, label_smoothing: float) -> np.ndarray:
        self.input_shape, self.reduction, self.smoothing = x.shape, reduction, label_smoothing
        self.save(x)
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
            self.probabilities = exps  # softmax, (N, C, d1, ...): a first-order cache
            self.index, self.target_weight, self.kept = index, target_weight, kept
            self.weight, self.layout_shape = weight, x.shape
        self.denominator = target_weight.sum()
        return _reduce_weighted(loss, reduction, self.denominator, output_shape)

    def backward(self, xp: Any, grad: Any, x: Any) -> tuple:
        if not self.needs_input_grad[0]:
            return None, None, None
        smoothing, layout_shape = self.smoothing, self.layout_shape
        num_classes = layout_shape[1]
        per_target = _per_target_grad(xp, grad, self.reduction, self.denominator, self.kept)
        # d loss_n / d x_n = row_scale * p - target_scale * onehot(t) - (e / C) * w * kept,
        # each scale already multiplied by the gradient reaching loss_n
        target_scale = (1 - smoothing) * self.target_weight * per_target  # (N, d1, ...)
        row_scale, smoothing_term = target_scale, None
        if smoothing > 0:
            weight_total = num_classes if self.weight is None else float(self.weight.sum())
            smooth_scale = (smoothing / num_classes) * self.kept * per_target
            row_scale = target_scale + weight_total * smooth_scale
            class_weight = 1 if self.weight is None else _class_view(self.weight,
                                                                      len(layout_shape))
            smoothing_term = class_weight * xp.expand_dims(smooth_scale, 1)
        logits = x if layout_shape == self.input_shape else xp.reshape(x, layout_shape)
        probabilities = xp.recompute(self.probabilities, _softmax, logits, 1)
        grad_input = xp.scaled_minus_at_class(probabilities, xp.expand_dims(row_scale, 1),
                                              self.index, xp.expand_dims(target_scale, 1),
                                              smoothing_term)
        if layout_shape != self.input_shape:
            grad_input = xp.reshape(grad_input, self.input_shape)
        return grad_input, None, None


class CrossEntropyProbabilities(Function):
    """Cross-entropy against class probabilities: -sum_c w[c] * q[n, c] * logp[n, c].

    With smoothing e, q = (1 - e) * target + e / C; 'mean' divides by the number of
    positions N * d1 * ..., not by the weights (PyTorch's rule for probability targets).
    Backward reuses forward's softmax, log-softmax and q * w; a graph pass recomputes them.
    """

    def forward(self, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                reduction: str, label_smoothing: float) -> np.ndarray:
        self.input_shape, self.reduction, self.smoothing = x.shape, reduction, label_smoothing
        self.save(x, target)
        unbatched = x.ndim == 1
        if unbatched:
            x, target = x[None], target[None]
        self.layout_shape = x.shape
        shifted = x - _row_max(x, 1)  # subtract the max so exp cannot overflow
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        log_probs = shifted - np.log(sums)
        class_weight = 1 if weight is None else _class_view(weight, x.ndim)
        weighted_target = _class_target(np, target, label_smoothing, class_weight)
        loss = -(log_probs * weighted_target).sum(axis=1)  # (N, d1, ...)
        self.weighted_target, self.class_weight = weighted_target, class_weight
        self.probabilities = exps / sums if self.needs_input_grad[0] else None
        self.log_probs = log_probs if self.needs_input_grad[1] else None
        self.positions = loss.size
        return _reduce(loss[0] if unbatched else loss, reduction)

    def backward(self, xp: Any, grad: Any, x: Any, target: Any) -> tuple:
        layout_shape = self.layout_shape
        per_position = _reduced_grad(grad, self.reduction, self.positions)
        if len(per_position.shape):
            positions_shape = layout_shape[:1] + layout_shape[2:]
            per_position = xp.expand_dims(xp.reshape(per_position, positions_shape), 1)
        if layout_shape != self.input_shape:
            x, target = xp.reshape(x, layout_shape), xp.reshape(target, layout_shape)
        grad_input = grad_target = None
        if self.needs_input_grad[0]:
            weighted_target = xp.recompute(self.weighted_target, _class_target, target,
                                           self.smoothing, self.class_weight)
            probabilities = xp.recompute(self.probabilities, _softmax, x, 1)
            total = xp.sum(weighted_target, axis=1, keepdims=True)
            grad_input = (probabilities * total - weighted_target) * per_position
            grad_input = xp.reshape(grad_input, self.input_shape)
        if self.needs_input_grad[1]:
            log_probs = xp.recompute(self.log_probs, _log_softmax, x, 1)
            scale = -(1 - self.smoothing) * per_position
            grad_target = xp.reshape(log_probs * self.class_weight * scale, self.input_shape)
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
    """(input - target) ** 2 with broadcasting, then reduced; backward reuses the difference."""

    def forward(self, x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
        self.reduction = reduction
        self.save(x, target)
        self.difference = _difference(np, x, target)
        return _reduce(self.difference * self.difference, reduction)

    def backward(self, xp: Any, grad: Any, x: Any, target: Any) -> tuple:
        difference = xp.recompute(self.difference, _difference, x, target)
        size = math.prod(self.difference.shape)
        grad_difference = 2 * difference * _reduced_grad(grad, self.reduction, size)
        grad_x = grad_target = None
        if self.needs_input_grad[0]:
            grad_x = xp.sum_to(grad_difference, x.shape)
        if self.needs_input_grad[1]:
            grad_target = xp.sum_to(-grad_difference, target.shape)
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
        self.weight, self.reduction = weight, reduction
        self.save(p, target)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), _LOG_FLOOR)
            log_q = np.maximum(np.log1p(-p), _LOG_FLOOR)
        loss = -(target * log_p + (1 - target) * log_q)
        if weight is not None:
            loss = loss * weight
        return _reduce(loss, reduction)

    def backward(self, xp: Any, grad: Any, p: Any, target: Any) -> tuple:
        scale = _reduced_grad(grad, self.reduction, math.prod(p.shape))
        if self.weight is not None:
            scale = scale * self.weight
        grad_p = grad_target = None
        if self.needs_input_grad[0]:
            # PyTorch's clamp keeps the gradient finite at p = 0 and p = 1
            grad_p = scale * (p - target) / xp.maximum((1 - p) * p, _BCE_EPSILON)
        if self.needs_input_grad[1]:
            # unclamped, as PyTorch: infinite where p is exactly 0 or 1
            with np.errstate(divide="ignore"):
                grad_target = scale * (xp.log1p(-p) - xp.log(p))
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
        self.reduction, self.weight, self.pos_weight = reduction, weight, pos_weight
        self.save(x, target)
        self.softplus = _softplus_of_negative(np, x)  # log(1 + exp(-x))
        self.log_weight = None
        if pos_weight is not None:
            self.log_weight = _log_weight(np, target, pos_weight)
        loss = (1 - target) * x + (self.softplus if pos_weight is None
                                   else self.log_weight * self.softplus)
        if weight is not None:
            loss = loss * weight
        return _reduce(loss, reduction)

    def backward(self, xp: Any, grad: Any, x: Any, target: Any) -> tuple:
        scale = _reduced_grad(grad, self.reduction, math.prod(x.shape))
        if self.weight is not None:
            scale = scale * self.weight
        pos_weight = self.pos_weight
        softplus = xp.recompute(self.softplus, _softplus_of_negative, x)
        grad_x = grad_target = None
        if self.needs_input_grad[0]:
            sigmoid_of_negative = xp.exp(-x - softplus)  # 1 - sigmoid(x), stably
            if pos_weight is not None:
                log_weight = xp.recompute(self.log_weight, _log_weight, target, pos_weight)
                sigmoid_of_negative = log_weight * sigmoid_of_negative
            grad_x = scale * ((1 - target) - sigmoid_of_negative)
        if self.needs_input_grad[1]:
            d_target = -x
            if pos_weight is not None:
                d_target = d_target + (pos_weight - 1) * softplus
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


TENSOR_METHODS: dict = {}
FUNCTIONAL = {
    "nll_loss": nll_loss,
    "cross_entropy": cross_entropy,
    "mse_loss": mse_loss,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
}
TOPLEVEL: dict = {}


# ---- this family's names in the backward namespaces (see ops/namespace.py) ------------------
def _pick_class_array(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.take_along_axis(x, index, axis=1)


def _scaled_minus_at_class_graph(a: Any, scale: Any, index: np.ndarray, values: Any,
                                 minus: Any = None) -> Tensor:
    scaled = _as_tensor(a) * scale
    if minus is not None:
        scaled = scaled - minus
    return scaled - PlaceClass.apply(_as_tensor(values), index=index, shape=scaled.shape)


NUMPY_XP = {
    "pick_class": _pick_class_array,
    "place_class": _place_class_array,
    "scaled_minus_at_class": _scaled_minus_at_class_array,
}
GRAPH_XP = {
    "pick_class": lambda x, index: PickClass.apply(_as_tensor(x), index=index),
    "place_class": lambda values, index, shape: PlaceClass.apply(
        _as_tensor(values), index=index, shape=tuple(shape)),
    "scaled_minus_at_class": _scaled_minus_at_class_graph,
}
