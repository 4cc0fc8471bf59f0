"""`Optimizer`: parameter groups, per-parameter state, `step`, `zero_grad` and state dicts.

A subclass describes one parameter's update in `_update(param, grad, state, group)`. The base
class checks every gradient before it changes anything, so a failed `step()` leaves all
parameters and all state as they were; then it runs the updates and bumps each changed
parameter's version counter.

State follows PyTorch: `optimizer.state[param]` is a dict of Tensors ('step' is a 0-d float32
tensor, the rest have the parameter's shape and dtype), and `state_dict()` keys it by the
parameter's position across all groups.
"""

from __future__ import annotations

import copy
import functools
import itertools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..engine import Tensor, enable_grad
from .graph_leak import LeakWatch

__all__ = ["Optimizer"]

ParamsT = Iterable[Tensor] | Iterable[dict]

_UNORDERED_MESSAGE = ("optimizer parameters need to be organized in ordered collections, but "
                      "the ordering of tensors in sets will change between runs. Please use a "
                      "list instead.")


def _marking_step_called(step: Callable) -> Callable:
    @functools.wraps(step)
    def marked(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        self._opt_called = True
        return step(self, *args, **kwargs)

    marked._marks_step_called = True  # type: ignore[attr-defined]
    return marked


class Optimizer:
    """Base class of all optimizers: holds `param_groups`, `state` and `defaults`.

    `params` is an iterable of Tensors, or of dicts (parameter groups) with a "params" entry
    and per-group options that override `defaults`.
    """

    _opt_called = False  # set by the first step(); lr schedulers warn when they step first

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass's own `step` also records that a step was taken (see `_opt_called`)."""
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_marks_step_called", False):
            cls.step = _marking_step_called(step)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self._validate_group(defaults)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got minigrad.Tensor")
        if isinstance(params, set):
            raise TypeError(_UNORDERED_MESSAGE)  # torch checks this only inside groups
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ---- hooks for subclasses ---------------------------------------------------------
    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError for an invalid option (lr < 0, ...) of a group or the defaults."""

    def _update(self, param: Tensor, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Change `param.data` in place by one step; `grad` must not be modified."""
        raise NotImplementedError

    # ---- parameter groups -------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones come from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(_UNORDERED_MESSAGE)
        else:
            params = list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not (param.is_leaf or param._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate_group(group)
        if len({id(param) for param in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        seen = {id(param) for existing in self.param_groups for param in existing["params"]}
        if any(id(param) in seen for param in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ---- gradients and steps ----------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: set them to None (default), or fill them with zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                    continue
                grad.grad_fn = None  # detach in place, as torch's zero_grad does
                grad.requires_grad = False
                grad.data.fill(0)
                grad._version[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return `closure()` if one is given.

        The closure (which recomputes the loss and its gradients) runs with grad mode on.
        Each step also checks for a tensor that keeps a growing graph alive across steps
        (`total_loss += loss`) and warns once with a GraphLeakWarning (see `graph_leak`).
        """
        self._opt_called = True
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        updates = self._checked_gradients()
        for group, param, grad in updates:
            state = self.state.get(param, {})
            self._update(param, grad, state, group)
            if state:
                self.state[param] = state
            param._version[0] += 1  # the data changed in place
        self._leak_watch().after_step(stacklevel=2)
        return loss

    def _leak_watch(self) -> LeakWatch:
        """This optimizer's watch for graphs kept alive across its steps (made on first use)."""
        watch = self.__dict__.get("_graph_leak_watch")
        if watch is None:
            watch = self._graph_leak_watch = LeakWatch()
        return watch

    def _checked_gradients(self) -> list[tuple[dict[str, Any], Tensor, np.ndarray]]:
        """(group, parameter, gradient array) for each parameter with a gradient, after
        checking every gradient's type, shape and dtype, so a bad one stops the step before
        any parameter moves."""
        where = f"{type(self).__name__}.step"
        updates = []
        index = 0
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is not None:
                    if not isinstance(grad, Tensor):
                        raise TypeError(f"{where}: grad of parameter {index} must be a Tensor "
                                        f"or None, got {_typename(grad)}")
                    if grad.shape != param.shape:
                        raise RuntimeError(f"{where}: grad of parameter {index} has shape "
                                           f"{grad.shape}, the parameter has shape "
                                           f"{param.shape}")
                    if grad.dtype != param.dtype:
                        raise RuntimeError(f"{where}: grad of parameter {index} has dtype "
                                           f"{grad.dtype}, the parameter has dtype "
                                           f"{param.dtype}")
                    updates.append((group, param, grad.data))
                index += 1
        return updates

    # ---- saving and loading -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's format.

        {"state": {index: {name: Tensor}}, "param_groups": [{option: value, "params": [index]}]}
        where `index` is a parameter's position across all groups. As in PyTorch, the state
        tensors are shared, not copied: deep-copy the dict to keep a snapshot.
        """
        index_of: dict[int, int] = {}
        position = 0
        param_groups = []
        for group in self.param_groups:
            packed = {name: value for name, value in group.items() if name != "params"}
            for param in group["params"]:
                index_of.setdefault(id(param), position)
                position += 1
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            param_groups.append(packed)
        state = {(index_of[id(key)] if isinstance(key, Tensor) else key): dict(values)
                 for key, values in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a dict made by `state_dict()` (ours or PyTorch's layout).

        Groups are matched by order and must have the same sizes; state arrays are copied and
        cast to their parameter's dtype ('step' keeps its own). Everything is checked before
        anything changes, so a ValueError leaves the optimizer as it was.
        """
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for group, saved in zip(groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        param_of = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                            itertools.chain.from_iterable(g["params"] for g in groups)))

        new_state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if key not in param_of:
                new_state[key] = values  # state of no parameter: kept as is, like torch
                continue
            param = param_of[key]
            new_state[param] = {name: _loaded_value(value, name, param, key)
                                for name, value in values.items()}
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
            self._validate_group(saved)
        self.state = new_state
        self.param_groups = saved_groups

    # ---- printing ---------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            for name in sorted(group):
                if name != "params":
                    lines.append(f"    {name}: {group[name]}")
        lines.append(")")
        return "\n".join(lines)


# ---- helpers shared by the optimizers -------------------------------------------------
def _typename(value: Any) -> str:
    """`int`, `numpy.ndarray`, ...: the name torch.typename gives in its error messages."""
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _loaded_value(value: Any, name: str, param: Tensor, index: Any) -> Any:
    """A copy of one loaded state value: arrays become Tensors with the parameter's dtype
    ('step' keeps its dtype); numbers stay numbers, except a numeric 'step' (old format),
    which becomes a 0-d float32 tensor as in torch."""
    if isinstance(value, Tensor):
        value = value.data
    if name == "step" and isinstance(value, (int, float)):
        return Tensor(float(value))
    if not hasattr(value, "__array__"):
        return copy.deepcopy(value)
    array = np.asarray(value).copy()  # the loaded optimizer must not share the dict's arrays
    if name != "step":
        if array.shape != param.shape:
            raise ValueError(f"load_state_dict: state '{name}' of parameter {index} has shape "
                             f"{array.shape}, the parameter has shape {param.shape}")
        if np.dtype(param.dtype).kind == "f":
            array = array.astype(param.dtype, copy=False)
    return Tensor(array, dtype=array.dtype)


def _zeros_like(param: Tensor) -> Tensor:
    """A state tensor of zeros with the parameter's shape and dtype."""
    return Tensor(np.zeros_like(param.data), dtype=param.dtype)


def _next_step(state: dict[str, Any]) -> float:
    """Count one more step in state['step'] (a 0-d float32 tensor, as in torch) and return
    the new count as a Python float, so bias corrections are computed in double precision."""
    state["step"].data += 1
    return state["step"].item()


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start += weight * (end - start), in place, in torch's two-branch form (same rounding).

    Torch computes from the nearer end: `start + w * (end - start)` for |w| < 0.5, else
    `end - (end - start) * (1 - w)`.
    """
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (start.dtype.type(1) - weight)


def _check_non_negative(value: Any, what: str) -> None:
    """ValueError "Invalid <what>: <value>" unless value >= 0 (NaN is invalid too)."""
    if not value >= 0.0:
        raise ValueError(f"Invalid {what}: {value}")
