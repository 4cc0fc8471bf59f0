"""`gradcheck`: compare an op's analytic gradient with central differences in float64."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..engine import Tensor, no_grad

__all__ = ["gradcheck", "GradcheckError", "numerical_gradient"]


class GradcheckError(AssertionError):
    """The analytic and numeric gradients disagree; the message says where and by how much."""


def _as_output_scalar(output: Any, projections: list[np.ndarray]) -> Tensor:
    """Reduce fn's output(s) to one number with fixed random weights (a random projection)."""
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    total = None
    for tensor, projection in zip(outputs, projections):
        term = (tensor * Tensor._from_op(projection.astype(tensor.dtype))).sum()
        total = term if total is None else total + term
    return total


def numerical_gradient(fn: Callable[..., Any], inputs: Sequence[Tensor], index: int,
                       projections: list[np.ndarray], eps: float) -> np.ndarray:
    """d(projected output)/d(inputs[index]) by central differences, in the input's dtype."""
    target = inputs[index]
    flat = target.data.reshape(-1)  # a view: perturb in place, restore afterwards
    gradient = np.zeros(flat.shape, dtype=np.float64)
    with no_grad():
        _perturb_each(fn, inputs, flat, gradient, projections, eps)
    return gradient.reshape(target.shape)


def _perturb_each(fn: Callable[..., Any], inputs: Sequence[Tensor], flat: np.ndarray,
                  gradient: np.ndarray, projections: list[np.ndarray], eps: float) -> None:
    for position in range(flat.size):
        original = flat[position]
        flat[position] = original + eps
        plus = float(_as_output_scalar(fn(*inputs), projections).item())
        flat[position] = original - eps
        minus = float(_as_output_scalar(fn(*inputs), projections).item())
        flat[position] = original
        gradient[position] = (plus - minus) / (2 * eps)


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check `fn`'s backward against central differences for every float input.

    Inputs are copied to float64 with requires_grad=True, so the check is as exact as the
    arithmetic allows. `fn` may return a tensor or a tuple of tensors; each output is weighted
    by a fixed random tensor, so every output element takes part. Returns True, or raises
    GradcheckError naming the input, the element index, and both values.
    """
    prepared = []
    for value in inputs:
        if isinstance(value, Tensor) and value.dtype.kind == "f":
            prepared.append(Tensor(value.data.astype(np.float64), requires_grad=True))
        else:
            prepared.append(value)
    output = fn(*prepared)
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    rng = np.random.default_rng(seed)
    projections = [rng.standard_normal(tensor.shape) for tensor in outputs]
    _as_output_scalar(output, projections).backward()
    for index, tensor in enumerate(prepared):
        if not (isinstance(tensor, Tensor) and tensor.requires_grad):
            continue
        analytic = np.zeros(tensor.shape) if tensor.grad is None else tensor.grad.data
        numeric = numerical_gradient(fn, prepared, index, projections, eps)
        close = np.isclose(analytic, numeric, atol=atol, rtol=rtol)
        if not close.all():
            where = tuple(int(i) for i in np.argwhere(~close)[0])
            raise GradcheckError(
                f"gradcheck: gradient of input {index} (shape {tensor.shape}) differs at "
                f"element {where}: analytic {analytic[where]!r}, numeric {numeric[where]!r} "
                f"(atol={atol}, rtol={rtol})")
    return True
