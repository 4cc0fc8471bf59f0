"""Stochastic gradient descent, optionally with momentum, dampening and Nesterov momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor
from .optimizer import Optimizer, ParamsT, _check_non_negative

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD with PyTorch's update, for each parameter p with gradient g:

        g = g + weight_decay * p                          (if weight_decay)
        buf = g on the first step, else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf       (if momentum)
        p = p - lr * g

    With maximize=True the gradient's sign is flipped first. State: 'momentum_buffer'
    (only when momentum != 0).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_non_negative(group["lr"], "learning rate")
        _check_non_negative(group["momentum"], "momentum value")
        _check_non_negative(group["weight_decay"], "weight_decay value")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        momentum = group["momentum"]
        if momentum != 0:
            if "momentum_buffer" not in state:
                # a copy: grad may still be the caller's p.grad array
                state["momentum_buffer"] = Tensor(grad, dtype=grad.dtype)
                buffer = state["momentum_buffer"].data
            else:
                buffer = state["momentum_buffer"].data
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param.data += -group["lr"] * grad
