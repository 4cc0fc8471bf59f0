"""More losses, PyTorch's names and options: l1, smooth_l1, huber, kl_div, poisson_nll,
gaussian_nll, soft_margin, multilabel_soft_margin, multilabel_margin, multi_margin,
hinge_embedding, cosine_embedding, margin_ranking, triplet_margin(_with_distance).

l1, smooth_l1 and huber are one fused Function (`RegressionLoss`) with its backward as one
formula of `xp`. The others are composites of differentiable ops written the way PyTorch
writes them (most are composites in PyTorch too), so their gradients, including the
conventions at kinks, are PyTorch's and they are twice differentiable for free. Where PyTorch
clamps with a strict `z > 0` in a C++ kernel (multi_margin, multilabel_margin) the composite
uses relu, whose gradient at 0 is 0; where it calls `clamp_min` (hinge, ranking, triplet,
cosine) it uses clamp, whose gradient at the bound is 1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from ._broadcast import broadcast_shapes
from ._convert import promote
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor
from .activation import relu
from .activation_extra import logsigmoid, softplus
from .cast import cast
from .distance import pairwise_distance
from .elementwise import clamp, exp, log, masked_fill, minimum, sqrt, where
from .loss import _check_reduction, _legacy_reduction, _reduce
from .movement import gather, reshape, unsqueeze
from .reduce import mean as _mean
from .reduce import sum as _sum

__all__ = [
    "cosine_embedding_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]


def _reduce_tensor(loss: Tensor, reduction: str) -> Tensor:
    """'none' | 'mean' | 'sum' of elementwise losses, as ops."""
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


def _check_number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}(): argument '{name}' must be a number, not "
                        f"{type(value).__name__}")
    return float(value)


def _constant(array: np.ndarray) -> Tensor:
    return Tensor._from_op(array)


# ---- l1, smooth_l1, huber: one fused op -----------------------------------------------------
def _difference(xp: Any, x: Any, target: Any) -> Any:
    """input - target, broadcast."""
    return x - target


class RegressionLoss(Function):
    """|d| (l1), smooth_l1 with `beta` or huber with delta = `beta`, d = input - target.

    smooth_l1: 0.5 d^2 / beta inside |d| < beta, |d| - 0.5 beta outside; huber is delta
    times that with beta = delta. The gradient inside is d / beta (d for huber), outside
    sign(d) (delta * sign(d)); sign and the inside mask are constants. weight multiplies
    each loss; 'mean' divides by `denominator` (the count, or sum(weight) for l1).
    """

    def forward(self, x: np.ndarray, target: np.ndarray, kind: str, beta: float,
                reduction: str, weight: np.ndarray | None) -> np.ndarray:
        self.save(x, target)
        self.difference = _difference(np, x, target)
        magnitude = np.abs(self.difference)
        self.sign = np.sign(self.difference)
        half = x.dtype.type(0.5)
        if kind == "l1" or beta == 0:
            loss = magnitude
            self.inside = None
        elif kind == "smooth_l1":
            self.inside = magnitude < beta
            loss = np.where(self.inside, half * self.difference ** 2 / x.dtype.type(beta),
                            magnitude - half * x.dtype.type(beta))
        else:
            self.inside = magnitude <= beta
            loss = np.where(self.inside, half * self.difference ** 2,
                            x.dtype.type(beta) * (magnitude - half * x.dtype.type(beta)))
        loss = loss.astype(x.dtype, copy=False)
        if weight is not None:
            loss = loss * weight
        self.denominator = loss.size
        if reduction == "mean" and weight is not None and kind == "l1":
            self.denominator = weight.sum()
            return np.asarray(loss.sum() / self.denominator, dtype=loss.dtype)
        return _reduce(loss, reduction)

    def backward(self, xp: Any, grad: Any, x: Any, target: Any) -> tuple:
        kind, beta = self.options["kind"], self.options["beta"]
        weight = self.options["weight"]  # a constant, broadcast to the loss's shape
        scale = grad / self.denominator if self.options["reduction"] == "mean" else grad
        if self.inside is None:
            grad_difference = scale * self.sign
        else:
            difference = xp.recompute(self.difference, _difference, x, target)
            if kind == "smooth_l1":
                grad_difference = xp.where(self.inside, scale * difference / beta,
                                           scale * self.sign)
            else:
                grad_difference = xp.where(self.inside, scale * difference,
                                           scale * (beta * self.sign))
        if weight is not None:
            grad_difference = grad_difference * weight
        grad_x = grad_target = None
        if self.needs_input_grad[0]:
            grad_x = xp.sum_to(grad_difference, x.shape)
        if self.needs_input_grad[1]:
            grad_target = xp.sum_to(-grad_difference, target.shape)
        return grad_x, grad_target


def _regression(where: str, kind: str, input: Tensor, target: Tensor, reduction: str,
                beta: float, weight: Tensor | None) -> Tensor:
    _check_tensor(where, "input", input)
    _check_tensor(where, "target", target)
    _check_reduction(where, reduction)
    shape = broadcast_shapes(where, input.shape, target.shape)
    if input.shape != target.shape:
        warnings.warn(f"{where}: Using a target size ({target.shape}) that is different to "
                      f"the input size ({input.shape}). This will likely lead to incorrect "
                      f"results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)
    input, target = promote(input, target)
    _check_floating(where, input)
    weight_array = None
    if weight is not None:
        _check_tensor(where, "weight", weight)
        if weight.shape != input.shape:
            raise ValueError(f"{where}: Weights and input must have the same size (weight "
                             f"{weight.shape}, input {input.shape})")
        weight_array = np.broadcast_to(cast(weight, input.dtype).data, shape)
    return RegressionLoss.apply(input, target, kind=kind, beta=float(beta), reduction=reduction,
                                weight=weight_array)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """|input - target|, broadcast; with `weight`, 'mean' is sum(w * loss) / sum(w).

    Shape: input, target broadcastable -> () or, for 'none', the broadcast shape.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _regression("l1_loss", "l1", input, target, reduction, 0.0, weight)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0
    is l1. Shape: as l1_loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    beta = _check_number("smooth_l1_loss", "beta", beta)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: smooth_l1_loss does not support negative values "
                           f"for beta (got {beta}).")
    return _regression("smooth_l1_loss", "smooth_l1", input, target, reduction, beta, None)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta); `weight` per element.

    Shape: as l1_loss.
    """
    delta = _check_number("huber_loss", "delta", delta)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: huber_loss does not support non-positive values for "
                           f"delta (got {delta}).")
    return _regression("huber_loss", "huber", input, target, reduction, delta, weight)


# ---- distribution losses --------------------------------------------------------------------
def _xlogx(x: Tensor) -> Tensor:
    """x log x with 0 at x = 0 (PyTorch's xlogy(x, x)); no 0 * inf in either pass."""
    positive = Tensor._from_op(x.data > 0)
    safe = where(positive, x, 1.0)
    return where(positive, x * log(safe), 0.0)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence with `input` log-probabilities: target * (log(target) - input), or
    exp(target) * (target - input) when log_target. 'batchmean' divides the sum by N.

    Shape: input, target broadcastable -> () or, for 'none', the broadcast shape.
    """
    where_ = "kl_div"
    _check_tensor(where_, "input", input)
    _check_tensor(where_, "target", target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if reduction != "batchmean":
        _check_reduction(where_, reduction)
    broadcast_shapes(where_, input.shape, target.shape)
    input, target = promote(input, target)
    _check_floating(where_, input)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = _xlogx(target) - target * input
    if reduction == "batchmean":
        total = _sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce_tensor(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,
                     full: bool = False, size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: exp(input) - target * input (log_input), else
    input - target * log(input + eps); `full` adds Stirling's term for target > 1.

    Shape: input, target broadcastable -> () or, for 'none', the broadcast shape.
    """
    where_ = "poisson_nll_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_tensor(where_, "input", input)
    _check_tensor(where_, "target", target)
    _check_reduction(where_, reduction)
    broadcast_shapes(where_, input.shape, target.shape)
    input, target = promote(input, target)
    _check_floating(where_, input)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        small = Tensor._from_op(target.data <= 1)
        safe = where(small, 2.0, target)  # log of targets <= 1 is never formed
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        loss = loss + masked_fill(stirling, small, 0.0)
    return _reduce_tensor(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 * (log(var) + (input - target)^2 / var) (+ 0.5 log(2 pi) when full).

    var is clamped at eps without changing its gradient (as PyTorch's no_grad clamp_);
    var may have input's shape, one dim fewer, or one broadcast dim (homoscedastic).
    Shape: input (N, *), target like input, var as above -> () or, for 'none', input's.
    """
    where_ = "gaussian_nll_loss"
    _check_tensor(where_, "input", input)
    _check_tensor(where_, "target", target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = Tensor._from_op(np.full(input.shape, var, dtype=input.dtype))
    _check_tensor(where_, "var", var)
    if (var.data < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = unsqueeze(var, -1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size (var {var.shape}, "
                             f"input {input.shape})")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"gaussian_nll_loss: {reduction} is not valid")
    lift = np.maximum(var.data, var.data.dtype.type(eps)) - var.data
    if lift.any():
        var = var + Tensor._from_op(lift)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce_tensor(loss, reduction)


# ---- margin losses ----------------------------------------------------------------------------
def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)), target in {-1, 1}. Shape: input, target the same."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_pair("soft_margin_loss", input, target, reduction)
    input, target = promote(input, target)
    return _reduce_tensor(softplus(-(target * input)), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """Per-class binary logistic loss averaged over the C classes (last dim), then reduced.

    Shape: input, target (N, C) (or (C,)) -> (N,) for 'none', else ().
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_pair("multilabel_soft_margin_loss", input, target, reduction)
    input, target = promote(input, target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * cast(weight, input.dtype)
    class_dim = input.ndim - 1
    loss = _sum(loss, dim=class_dim) / input.shape[class_dim]
    return _reduce_tensor(loss, reduction)


def _check_pair(where: str, input: Tensor, target: Tensor, reduction: str) -> None:
    _check_tensor(where, "input", input)
    _check_tensor(where, "target", target)
    _check_reduction(where, reduction)
    broadcast_shapes(where, input.shape, target.shape)
    _check_floating(where, input)


def _class_rows(where: str, input: Tensor, target: Tensor) -> tuple[Tensor, np.ndarray]:
    """input as (N, C) and the int64 target array, as multi(label)_margin_loss accept them."""
    _check_tensor(where, "input", input)
    _check_tensor(where, "target", target)
    _check_floating(where, input)
    if input.ndim > 2:
        raise RuntimeError(f"{where}: Expected non-empty vector or matrix with optional 0-dim "
                           f"batch size, but got: {input.shape}")
    if target.dtype != dtypes.int64:
        raise RuntimeError(f"{where}: expected scalar type Long for target but found "
                           f"{target.dtype}")
    rows = reshape(input, (1, -1)) if input.ndim <= 1 else input
    return rows, target.data


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                           reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C.

    target holds class indices, ended early by -1 (the rest ignored).
    Shape: input, target (N, C) or (C,) -> (N,) (or ()) for 'none', else ().
    """
    where_ = "multilabel_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(where_, reduction)
    rows, labels = _class_rows(where_, input, target)
    labels = labels.reshape(rows.shape)
    if labels.shape != tuple(rows.shape):
        raise RuntimeError(f"{where_}: inconsistent target size: {target.shape} for input of "
                           f"size: {input.shape}")
    classes = rows.shape[1]
    if ((labels < -1) | (labels >= classes)).any():
        raise RuntimeError(f"{where_}: target values must lie in [-1, {classes - 1}]")
    # counts[n, j]: how often class j is listed before the first -1 (duplicates count twice)
    listed = np.cumprod(labels != -1, axis=1).astype(bool)
    counts = np.zeros(rows.shape, dtype=rows.dtype)
    row_index = np.broadcast_to(np.arange(rows.shape[0])[:, None], labels.shape)
    np.add.at(counts, (row_index[listed], labels[listed]), 1)
    is_target = counts > 0
    # pair_weight[n, j, i] = count of target j when i is not a target: (N, C, C)
    pair_weight = counts[:, :, None] * ~is_target[:, None, :]
    margins = relu(1 - unsqueeze(rows, 2) + unsqueeze(rows, 1))
    loss = _sum(margins * _constant(pair_weight.astype(rows.dtype)), dim=(1, 2)) / classes
    if input.ndim <= 1:
        loss = reshape(loss, ())
    return _reduce_tensor(loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge: sum over i != y of w[y] * max(0, margin - x[y] + x[i])^p / C.

    Shape: input (N, C) or (C,), target (N,) or () int64 -> (N,) for 'none', else ().
    """
    where_ = "multi_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(where_, reduction)
    if p not in (1, 2):
        raise ValueError(f"{where_}: only p == 1 and p == 2 supported (got p={p})")
    margin = _check_number(where_, "margin", margin)
    rows, labels = _class_rows(where_, input, target)
    labels = labels.reshape(-1)
    classes = rows.shape[1]
    if labels.shape[0] != rows.shape[0]:
        raise RuntimeError(f"{where_}: inconsistent target size: {target.shape} for input of "
                           f"size: {input.shape}")
    if ((labels < 0) | (labels >= classes)).any():
        raise RuntimeError(f"{where_}: target out of range (targets must lie in "
                           f"[0, {classes}))")
    index = Tensor._from_op(labels[:, None])
    picked = gather(rows, 1, index)  # x[y], (N, 1)
    hinge = relu(margin - picked + rows)
    if p == 2:
        hinge = hinge * hinge
    others = np.ones(rows.shape, dtype=rows.dtype)
    others[np.arange(rows.shape[0]), labels] = 0
    scale = others
    if weight is not None:
        _check_tensor(where_, "weight", weight)
        if weight.ndim != 1 or weight.shape[0] != classes:
            raise RuntimeError(f"{where_}: inconsistent weight size, expected {classes} but "
                               f"got {weight.shape}")
        scale = others * weight.data.astype(rows.dtype)[labels][:, None]
    loss = _sum(hinge * _constant(scale), dim=1) / classes
    if input.ndim <= 1:
        loss = reshape(loss, ())
    return _reduce_tensor(loss, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """x where target == 1, max(0, margin - x) where target == -1 (summed if neither).

    Shape: input, target the same -> () or, for 'none', that shape.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_pair("hinge_embedding_loss", input, target, reduction)
    margin = _check_number("hinge_embedding_loss", "margin", margin)
    not_positive = Tensor._from_op(target.data != 1)
    not_negative = Tensor._from_op(target.data != -1)
    margin_term = where(not_positive, clamp(margin - input, min=0), 0.0)
    self_term = where(not_negative, input, 0.0)
    return _reduce_tensor(margin_term + self_term, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin), target in {-1, 1}.

    Shape: input1, input2, target the same (N,) or () -> () or, for 'none', that shape.
    """
    where_ = "margin_ranking_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    for name, value in (("input1", input1), ("input2", input2), ("target", target)):
        _check_tensor(where_, name, value)
    _check_reduction(where_, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"{where_} : All input tensors should have same dimension but got "
                           f"sizes: input1: {input1.shape}, input2: {input2.shape}, target: "
                           f"{target.shape} ")
    broadcast_shapes(where_, input1.shape, input2.shape, target.shape)
    _check_floating(where_, input1)
    loss = clamp(-target * (input1 - input2) + margin, min=0)
    return _reduce_tensor(loss, reduction)


_COSINE_EPSILON = 1e-12  # PyTorch's, added to each squared magnitude


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1.

    Shape: input1, input2 (N, D) or (D,), target (N,) or () -> () or, for 'none', (N,).
    """
    where_ = "cosine_embedding_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    for name, value in (("input1", input1), ("input2", input2), ("target", target)):
        _check_tensor(where_, name, value)
    _check_reduction(where_, reduction)
    if input1.shape != input2.shape:
        raise RuntimeError(f"{where_}: input1 {input1.shape} and input2 {input2.shape} must "
                           f"have the same shape")
    if input1.ndim not in (1, 2) or target.ndim != input1.ndim - 1:
        raise RuntimeError(f"{where_}: {input1.ndim}D target tensor expected, multi-target "
                           f"not supported (inputs {input1.shape}, target {target.shape})")
    _check_floating(where_, input1)
    dim = input1.ndim - 1
    product = _sum(input1 * input2, dim=dim)
    magnitude1 = _sum(input1 * input1, dim=dim) + _COSINE_EPSILON
    magnitude2 = _sum(input2 * input2, dim=dim) + _COSINE_EPSILON
    cosine = product / sqrt(magnitude1 * magnitude2)
    positive = where(Tensor._from_op(target.data == 1), 1 - cosine, 0.0)
    negative = where(Tensor._from_op(target.data == -1), clamp(cosine - margin, min=0), 0.0)
    return _reduce_tensor(positive + negative, reduction)


def _check_triplet(where: str, anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    for name, value in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _check_tensor(where, name, value)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"{where}: The anchor, positive, and negative tensors are expected "
                           f"to have the same number of dimensions, but got: anchor "
                           f"{anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)), d the pairwise p-norm distance (+ eps); `swap`
    uses min(d(a, n), d(p, n)). Shape: (N, D) or (D,) each -> (N,) for 'none', else ()."""
    where_ = "triplet_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_triplet(where_, anchor, positive, negative)
    _check_reduction(where_, reduction)
    if margin <= 0:
        raise ValueError(f"{where_}: margin must be greater than 0, got {margin}")
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_negative = minimum(distance_negative,
                                    pairwise_distance(positive, negative, p, eps))
    loss = clamp(margin + distance_positive - distance_negative, min=0)
    return _reduce_tensor(loss, reduction)


def triplet_margin_with_distance_loss(
        anchor: Tensor, positive: Tensor, negative: Tensor, *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """triplet_margin_loss with any distance (default pairwise_distance).

    Shape: as triplet_margin_loss.
    """
    where_ = "triplet_margin_with_distance_loss"
    _check_triplet(where_, anchor, positive, negative)
    _check_reduction(where_, reduction)
    if margin <= 0:
        raise ValueError(f"{where_}: expected margin to be greater than 0, got {margin} "
                         f"instead")
    distance = pairwise_distance if distance_function is None else distance_function
    distance_positive = distance(anchor, positive)
    distance_negative = distance(anchor, negative)
    if swap:
        distance_negative = minimum(distance_negative, distance(positive, negative))
    loss = clamp(margin + distance_positive - distance_negative, min=0)
    return _reduce_tensor(loss, reduction)


TENSOR_METHODS: dict = {}
FUNCTIONAL = {name: globals()[name] for name in __all__}
TOPLEVEL: dict = {}
NUMPY_XP: dict = {}
GRAPH_XP: dict = {}
