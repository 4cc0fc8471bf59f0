"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor
from .optimizer import Optimizer, ParamsT, _check_non_negative, _next_step, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta with PyTorch's update, for each parameter p with gradient g:

        g = g + weight_decay * p                               (if weight_decay)
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    State: 'step', 'square_avg' (v), 'acc_delta' (u).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_non_negative(group["lr"], "learning rate")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        _check_non_negative(group["eps"], "epsilon value")
        _check_non_negative(group["weight_decay"], "weight_decay value")

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        rho = group["rho"]
        eps = group["eps"]
        if not state:
            state["step"] = Tensor(0.0)
            state["square_avg"] = _zeros_like(param)
            state["acc_delta"] = _zeros_like(param)
        square_avg = state["square_avg"].data
        acc_delta = state["acc_delta"].data
        _next_step(state)

        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(acc_delta + eps) / std * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param.data += -group["lr"] * delta
