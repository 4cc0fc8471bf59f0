"""Adagrad: per-element learning rates scaled by the sum of all past squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor
from .optimizer import Optimizer, ParamsT, _check_non_negative, _next_step

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with PyTorch's update, for each parameter p with gradient g at step t:

        g = g + weight_decay * p                     (if weight_decay)
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)

    State: 'step', 'sum' (starts at initial_accumulator_value). As in torch the state is made
    for every parameter when the optimizer is built. Unlike torch, a group's own
    initial_accumulator_value is honoured (torch uses the constructor's for every group).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param] = _initial_state(param, group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_non_negative(group["lr"], "learning rate")
        _check_non_negative(group["lr_decay"], "lr_decay value")
        _check_non_negative(group["weight_decay"], "weight_decay value")
        _check_non_negative(group["initial_accumulator_value"],
                            "initial_accumulator_value value")
        _check_non_negative(group["eps"], "epsilon value")

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:  # a parameter added by add_param_group after construction
            state.update(_initial_state(param, group))
        state_sum = state["sum"].data
        step = _next_step(state)

        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum += grad * grad
        std = np.sqrt(state_sum) + group["eps"]
        param.data += -clr * grad / std


def _initial_state(param: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
    """Step 0 and a sum filled with the group's initial_accumulator_value."""
    initial = np.full_like(param.data, group["initial_accumulator_value"])
    return {"step": Tensor(0.0), "sum": Tensor(initial, dtype=param.dtype)}
