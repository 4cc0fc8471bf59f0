"""`gradgradcheck`: check second derivatives by running `gradcheck` on the gradient itself.

The first derivative is taken with `create_graph=True`, as a function of the inputs and of
the weights on the outputs (`grad_outputs`, random by default); `gradcheck` then compares its
backward, which is the second derivative, with finite differences of that first derivative.
Same tolerances and kink handling as `gradcheck`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import Tensor, enable_grad
from .gradcheck import GradcheckResult, _float_outputs, gradcheck

__all__ = ["gradgradcheck"]


def gradgradcheck(fn: Callable[..., Any], inputs: Sequence[Any],
                  grad_outputs: Sequence[Tensor] | None = None, eps: float | None = None,
                  atol: float | None = None, rtol: float | None = None, seed: int = 0,
                  *, kinks: str = "subgradient") -> GradcheckResult:
    """Check the gradient of `fn`'s gradient against finite differences, in float64.

    `grad_outputs` weight `fn`'s float outputs in the first derivative (random normal when
    not given); they are inputs of the checked function too, so the check covers the second
    derivative with respect to them (the "double backward" of the op). Raises GradcheckError
    naming the input and element where it fails; returns a truthy GradcheckResult.

        >>> gradgradcheck(mg.tanh, [mg.randn(3, dtype=mg.float64)])
    """
    from ..autograd import grad as autograd_grad

    prepared = [Tensor(value.data.astype(np.float64), requires_grad=True)
                if isinstance(value, Tensor) and value.dtype.kind == "f" else value
                for value in inputs]
    outputs = _float_outputs(fn(*prepared))
    if not outputs:
        raise TypeError("gradgradcheck: fn returned no floating-point tensor to check")
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        weights = [Tensor(rng.standard_normal(tensor.shape), requires_grad=True)
                   for tensor in outputs]
    else:
        weights = [Tensor(np.asarray(getattr(value, "data", value), dtype=np.float64),
                          requires_grad=True) for value in grad_outputs]
        if len(weights) != len(outputs):
            raise ValueError(f"gradgradcheck: {len(weights)} grad_outputs for "
                             f"{len(outputs)} float outputs")
    count = len(prepared)

    def first_derivative(*args: Any) -> tuple[Tensor, ...]:
        values, given_weights = args[:count], args[count:]
        with enable_grad():
            result = _float_outputs(fn(*values))
            wrt = [value for value in values if isinstance(value, Tensor) and value.requires_grad]
            grads = autograd_grad(result, wrt, grad_outputs=list(given_weights),
                                  create_graph=True, allow_unused=True)
        return tuple(Tensor._from_op(np.zeros(value.shape)) if grad is None else grad
                     for value, grad in zip(wrt, grads))

    return gradcheck(first_derivative, [*prepared, *weights], eps=eps, atol=atol, rtol=rtol,
                     seed=seed, kinks=kinks)
