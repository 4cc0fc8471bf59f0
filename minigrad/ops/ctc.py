"""CTC loss (Graves et al. 2006): the forward-backward algorithm in log space.

The recursions run as a loop over time steps, each step vectorised over the batch and the
extended label sequence (blank, l1, blank, l2, ..., blank). Forward computes alpha, beta, the
loss and its gradient at once; backward only scales that gradient by the incoming one.

The gradient is PyTorch's: d/d log_probs = exp(log_probs) - posterior, which is the gradient
with respect to the logits when log_probs = log_softmax(logits) (the intended use; PyTorch
documents the same). Times at or after a sample's input length get 0.

`once_differentiable`: the gradient is made of alpha and beta, which no formula of `xp` can
rebuild short of differentiating through the whole recursion; PyTorch's CTC has no double
backward either. Differentiating the gradient raises the engine's error naming this op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor

__all__ = ["ctc_loss"]

_REDUCTIONS = ("none", "mean", "sum")


def _logsumexp(*terms: np.ndarray) -> np.ndarray:
    """log(sum(exp(terms))) elementwise, -inf where every term is -inf."""
    top = np.maximum.reduce(terms)
    safe = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return safe + np.log(sum(np.exp(term - safe) for term in terms))


def _logsumexp_rows(values: np.ndarray) -> np.ndarray:
    """log(sum(exp(values), axis=1)), -inf for a row of -inf."""
    top = values.max(axis=1, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return (safe + np.log(np.exp(values - safe).sum(axis=1, keepdims=True)))[:, 0]


def _shift(values: np.ndarray, by: int) -> np.ndarray:
    """values moved `by` places along the last axis (right if > 0), filled with -inf."""
    shifted = np.full_like(values, -np.inf)
    if by > 0:
        shifted[..., by:] = values[..., :-by]
    else:
        shifted[..., :by] = values[..., -by:]
    return shifted


class CTCLoss(Function):
    """Per-sample negative log-likelihood of the targets under all CTC alignments.

    log_probs (T, N, C); labels (N, L) int64 padded with `blank`; lengths (N,) each.
    Returns (N,) losses, reduced as asked.
    """

    once_differentiable = True

    def forward(self, log_probs: np.ndarray, labels: np.ndarray, input_lengths: np.ndarray,
                target_lengths: np.ndarray, blank: int, reduction: str,
                zero_infinity: bool) -> np.ndarray:
        steps, batch, _ = log_probs.shape
        dtype = log_probs.dtype
        # extended labels (N, S): blank, l1, blank, l2, ..., blank
        extended = np.full((batch, 2 * labels.shape[1] + 1), blank, dtype=np.int64)
        extended[:, 1::2] = labels
        width = extended.shape[1]
        position = np.arange(width)
        valid = position[None] < (2 * target_lengths + 1)[:, None]  # (N, S)
        # a jump over a blank is allowed onto a label that differs from the one 2 back
        two_back = np.full_like(extended, -1)
        two_back[:, 2:] = extended[:, :-2]
        skip = (extended != blank) & (extended != two_back) & (position[None] >= 2)
        picked = np.take_along_axis(log_probs, np.broadcast_to(extended[None],
                                                               (steps, batch, width)), axis=2)
        picked = np.where(valid[None], picked, -np.inf)  # log p(extended label) (T, N, S)
        alpha = np.full((steps, batch, width), -np.inf, dtype=dtype)
        if steps:
            alpha[0, :, 0] = picked[0, :, 0]
            if width > 1:
                alpha[0, :, 1] = np.where(target_lengths > 0, picked[0, :, 1], -np.inf)
        for t in range(1, steps):
            previous = alpha[t - 1]
            jumped = np.where(skip, _shift(previous, 2), -np.inf)
            alpha[t] = _logsumexp(previous, _shift(previous, 1), jumped) + picked[t]
        last = input_lengths - 1  # (N,)
        final = (position[None] == 2 * target_lengths[:, None]) | (
            (position[None] == 2 * target_lengths[:, None] - 1) & (target_lengths > 0)[:, None])
        ended = alpha[np.maximum(last, 0), np.arange(batch)]  # (N, S)
        nll = -_logsumexp_rows(np.where(final, ended, -np.inf))
        nll = np.where(input_lengths > 0, nll, np.where(target_lengths > 0, np.inf, 0))
        nll = nll.astype(dtype)
        self.unit_gradient = self._gradient(log_probs, picked, alpha, nll, extended, skip,
                                            final, input_lengths) \
            if self.needs_input_grad[0] else None
        infinite = np.isinf(nll)
        if zero_infinity and infinite.any():
            nll = np.where(infinite, 0, nll).astype(dtype)
            if self.unit_gradient is not None:
                self.unit_gradient[:, infinite] = 0
        self.scale = np.ones(batch, dtype=dtype)
        if reduction == "mean":
            self.scale = (1 / (np.maximum(target_lengths, 1) * batch)).astype(dtype)
            return np.asarray((nll * self.scale).sum(), dtype=dtype)
        if reduction == "sum":
            return np.asarray(nll.sum(), dtype=dtype)
        return nll

    def _gradient(self, log_probs: np.ndarray, picked: np.ndarray, alpha: np.ndarray,
                  nll: np.ndarray, extended: np.ndarray, skip: np.ndarray, final: np.ndarray,
                  input_lengths: np.ndarray) -> np.ndarray:
        """exp(log_probs) - sum over s with label c of alpha * beta / p, per (t, n, c)."""
        steps, _, classes = log_probs.shape
        last = input_lengths - 1
        beta = np.full_like(alpha, -np.inf)
        skip_ahead = np.zeros_like(skip)  # may jump from s to s + 2
        skip_ahead[:, :-2] = skip[:, 2:]
        for t in range(steps - 1, -1, -1):
            started = np.where(final, picked[t], -np.inf)
            if t < steps - 1:
                following = beta[t + 1]
                jumped = np.where(skip_ahead, _shift(following, -2), -np.inf)
                inner = _logsumexp(following, _shift(following, -1), jumped) + picked[t]
            else:
                inner = np.full_like(started, -np.inf)
            beta[t] = np.where((t == last)[:, None], started,
                               np.where((t < last)[:, None], inner, -np.inf))
        with np.errstate(invalid="ignore", over="ignore"):
            posterior = np.exp(alpha + beta + nll[None, :, None] - picked)  # (T, N, S)
        posterior = np.where(np.isnan(posterior), 0, posterior)
        one_hot = extended[..., None] == np.arange(classes)  # (N, S, C)
        occupancy = np.einsum("tns,nsc->tnc", posterior, one_hot.astype(log_probs.dtype))
        running = (np.arange(steps)[:, None] < input_lengths[None])[..., None]  # (T, N, 1)
        return np.where(running, np.exp(log_probs) - occupancy, 0).astype(log_probs.dtype)

    def backward(self, xp: Any, grad: Any) -> tuple:
        batch = self.scale.shape[0]
        per_sample = xp.reshape(grad, (1, batch, 1)) if self.options["reduction"] == "none" \
            else grad * xp.reshape(self.scale, (1, batch, 1))
        return per_sample * self.unit_gradient, None, None, None


def _lengths(where: str, name: str, value: Any, batch: int) -> np.ndarray:
    if isinstance(value, Tensor):
        if value.dtype.kind not in "iu":
            raise RuntimeError(f"{where}: {name} must be integral, got {value.dtype}")
        array = value.data.astype(np.int64).reshape(-1)
    else:
        array = np.asarray(value, dtype=np.int64).reshape(-1)
    if array.shape[0] != batch:
        raise RuntimeError(f"{where}: Expected {name} to have size {batch} (one per sample), "
                           f"got {array.shape[0]}")
    if (array < 0).any():
        raise RuntimeError(f"{where}: {name} must be non-negative, got {array.tolist()}")
    return array


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss of log-probabilities over classes.

    targets: (N, S) padded, or 1-D concatenated (sum(target_lengths),); unbatched log_probs
    (T, C) take targets (target_length,). 'mean' divides each loss by its target length, then averages.
    zero_infinity: impossible alignments (infinite loss) give 0 and a 0 gradient.
    Shape: log_probs (T, N, C) -> (N,) for 'none', else ().
    """
    where = "ctc_loss"
    _check_tensor(where, "log_probs", log_probs)
    _check_tensor(where, "targets", targets)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: {reduction} is not a valid value for reduction")
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"{where}: log_probs must be (T, N, C) or (T, C), got "
                           f"{log_probs.shape}")
    _check_floating(where, log_probs)
    unbatched = log_probs.ndim == 2
    steps, batch, classes = (log_probs.shape[0], 1, log_probs.shape[1]) if unbatched \
        else log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"{where}: blank must be in label range [0, {classes}), got {blank}")
    if targets.dtype.kind not in "iu":
        raise RuntimeError(f"{where}: targets must be integral class indices, got "
                           f"{targets.dtype}")
    inputs = _lengths(where, "input_lengths", input_lengths, batch)
    lengths = _lengths(where, "target_lengths", target_lengths, batch)
    if (inputs > steps).any():
        raise RuntimeError(f"{where}: Expected input_lengths to have value at most {steps}, "
                           f"but got value {int(inputs.max())}")
    values = targets.data.astype(np.int64)
    labels = np.full((batch, int(lengths.max()) if batch else 0), blank, dtype=np.int64)
    if values.ndim == 2 and not unbatched:
        rows = values
        if rows.shape[0] != batch or (lengths > rows.shape[1]).any():
            raise RuntimeError(f"{where}: targets {targets.shape} do not hold target_lengths "
                               f"{lengths.tolist()}")
        for_rows = np.arange(labels.shape[1])[None] < lengths[:, None]
        labels = np.where(for_rows, rows[:, :labels.shape[1]], blank)
    else:
        if values.ndim != 1 or values.shape[0] != lengths.sum():
            raise RuntimeError(f"{where}: 1-D targets must hold sum(target_lengths) = "
                               f"{int(lengths.sum())} labels, got {targets.shape}")
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        offsets = np.arange(labels.shape[1])
        inside = offsets[None] < lengths[:, None]
        index = np.where(inside, starts[:, None] + offsets[None], 0)
        labels = np.where(inside, values[index] if values.size else blank, blank)
    if labels.size and ((labels < 0) | (labels >= classes)).any():
        raise RuntimeError(f"{where}: target labels must lie in [0, {classes})")
    probabilities = log_probs
    if unbatched:
        probabilities = log_probs.reshape(steps, 1, classes)
    result = CTCLoss.apply(probabilities, Tensor._from_op(labels), Tensor._from_op(inputs),
                           Tensor._from_op(lengths), blank=int(blank), reduction=reduction,
                           zero_infinity=bool(zero_infinity))
    if unbatched and reduction == "none":
        result = result.reshape(())
    return result


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"ctc_loss": ctc_loss}
TOPLEVEL = {"ctc_loss": ctc_loss}
NUMPY_XP: dict = {}
GRAPH_XP: dict = {}
