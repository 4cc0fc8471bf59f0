"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor
from .optimizer import Optimizer, ParamsT, _check_non_negative, _lerp_, _next_step, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop with PyTorch's update, for each parameter p with gradient g:

        g = g + weight_decay * p                                (if weight_decay)
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - mean_g**2) + eps with mean_g = alpha * mean_g + (1 - alpha) * g
              if centered, else sqrt(v) + eps
        buf = momentum * buf + g / avg;  p = p - lr * buf       (if momentum > 0)
        p = p - lr * g / avg                                    (otherwise)

    State: 'step', 'square_avg' (v), 'momentum_buffer' (momentum > 0), 'grad_avg' (centered).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_non_negative(group["lr"], "learning rate")
        _check_non_negative(group["eps"], "epsilon value")
        _check_non_negative(group["momentum"], "momentum value")
        _check_non_negative(group["weight_decay"], "weight_decay value")
        _check_non_negative(group["alpha"], "alpha value")

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        alpha = group["alpha"]
        momentum = group["momentum"]
        if not state:
            state["step"] = Tensor(0.0)
            state["square_avg"] = _zeros_like(param)
        # made when first needed, also when a scheduler turns momentum on later
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = _zeros_like(param)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = _zeros_like(param)
        square_avg = state["square_avg"].data
        _next_step(state)

        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"].data
            _lerp_(grad_avg, grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buffer = state["momentum_buffer"].data
            buffer *= momentum
            buffer += grad / avg
            param.data += -group["lr"] * buffer
        else:
            param.data += -group["lr"] * grad / avg
