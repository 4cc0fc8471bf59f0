"""Module backward hooks: `register_full_backward_pre_hook` and `register_full_backward_hook`.

Built on tensor hooks, so no gradient code lives here: the module's tensor input is passed
through `clone()` (a node of its own, whose gradient is exactly the module's grad_input) and
a hook on the output sees grad_output. As in PyTorch, a hook's replacement must have the
gradient's size and dtype ("hook 'name' has changed the size of value") and the right count.

Supported: modules called with one Tensor argument (plus any non-tensor arguments) that
return one Tensor, which covers the built-in layers; others get a clear NotImplementedError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine import Tensor, is_grad_enabled
from ..engine.backward import check_hook_result

__all__ = ["call_with_backward_hooks"]


def call_with_backward_hooks(module: Any, forward: Callable[..., Any], args: tuple,
                             kwargs: dict) -> Any:
    """`forward(*args, **kwargs)` with the module's backward hooks attached to this call."""
    name = type(module).__name__
    positions = [index for index, arg in enumerate(args) if isinstance(arg, Tensor)]
    if len(positions) != 1:
        raise NotImplementedError(f"{name}: full backward hooks support modules called with "
                                  f"one Tensor argument, got {len(positions)}")
    position = positions[0]
    tracked = args[position].requires_grad and is_grad_enabled()
    if tracked:
        args = args[:position] + (args[position].clone(),) + args[position + 1:]
    output = forward(*args, **kwargs)
    if not isinstance(output, Tensor):
        raise NotImplementedError(f"{name}: full backward hooks support modules returning one "
                                  f"Tensor, got {type(output).__name__}")
    if not output.requires_grad:
        return output
    seen: dict[str, Tensor] = {}

    def on_grad_output(grad: Tensor) -> Tensor:
        for hook in list(module._backward_pre_hooks.values()):
            replaced = _single(hook(module, (grad,)), "grad_output", "pre hook")
            if replaced is not None:
                grad = check_hook_result(hook, replaced, grad)
        seen["grad_output"] = grad
        if not tracked:
            for hook in list(module._backward_hooks.values()):
                returned = hook(module, (None,), (grad,))
                if returned is not None and any(item is not None for item in returned):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
        return grad

    def on_grad_input(grad: Tensor) -> Tensor:
        for hook in list(module._backward_hooks.values()):
            replaced = _single(hook(module, (grad,), (seen["grad_output"],)), "grad_input",
                               "hook")
            if replaced is not None:
                grad = check_hook_result(hook, replaced, grad)
        return grad

    output.register_hook(on_grad_output)
    if tracked:
        args[position].register_hook(on_grad_input)
    return output


def _single(returned: Any, what: str, kind: str) -> Any:
    """The one gradient in a hook's returned tuple (None: keep the gradient)."""
    if returned is None:
        return None
    if isinstance(returned, Tensor):
        returned = (returned,)
    if not isinstance(returned, (tuple, list)) or len(returned) != 1:
        count = len(returned) if isinstance(returned, (tuple, list)) else type(returned).__name__
        raise RuntimeError(f"Backward {kind} returned an invalid number of {what}, got "
                           f"{count}, but expected 1")
    return returned[0]
