"""`backward()`: walk the recorded graph from an output to the leaves, iteratively.

The walk is Kahn's algorithm over Function nodes: first count, for every node, how many
recorded consumers will send it a gradient; then run each node once all of them have, summing
the incoming gradients. An explicit stack replaces recursion, so a chain of 100,000 ops works.
Leaves collect their summed gradient last, after their hooks ran, into `.grad`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import hooks
from .function import Function, refresh_view

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["check_hook_result", "run_backward"]


def run_backward(root: Tensor, gradient: Tensor | None, retain_graph: bool) -> None:
    """Accumulate d(root)/d(leaf) into `leaf.grad` for every leaf that requires grad."""

    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")
    if root._base is not None:
        refresh_view(root)  # a view whose base changed in place since: replay its history
    seed = _seed_gradient(root, gradient)
    if root.grad_fn is None:
        _accumulate_leaves({id(root): (root, seed)})
        return
    pending = _count_consumers(root.grad_fn)
    grads: dict[int, np.ndarray] = {id(root.grad_fn): seed}
    leaf_grads: dict[int, tuple[Tensor, np.ndarray]] = {}
    ready: list[Function] = [root.grad_fn]
    while ready:
        function = ready.pop()
        grad = grads.pop(id(function))
        grad = _run_hooks(function.output_hooks, grad)
        if function.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time.")
        function._check_versions()
        for observer in hooks.backward_observers:
            observer(function, grad)
        input_grads = _call_backward(function, grad)
        if not retain_graph:
            function._release()
        for edge, input_grad in zip(function.next_edges, input_grads):
            if edge is None or input_grad is None:
                continue
            if isinstance(edge, Function):
                key = id(edge)
                grads[key] = input_grad if key not in grads else grads[key] + input_grad
                pending[key] -= 1
                if pending[key] == 0:
                    ready.append(edge)
            else:
                key = id(edge)
                if key in leaf_grads:
                    leaf_grads[key] = (edge, leaf_grads[key][1] + input_grad)
                else:
                    leaf_grads[key] = (edge, input_grad)
    _accumulate_leaves(leaf_grads)


def _seed_gradient(root: Tensor, gradient: Tensor | None) -> np.ndarray:
    """The gradient of root with respect to itself: 1 for scalars, else the user's."""
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                               f"(output has shape {root.shape}); pass gradient=")
        return np.ones(root.shape, dtype=root.dtype)
    from .tensor import Tensor

    if not isinstance(gradient, Tensor):
        raise TypeError(f"backward: gradient can be either a Tensor or None, but got "
                        f"{type(gradient).__name__}")
    data = gradient.data
    if data.shape != root.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {data.shape} and "
                           f"output[0] has a shape of {root.shape}.")
    return data.astype(root.dtype, copy=True)


def _count_consumers(start: Function) -> dict[int, int]:
    """For each Function reachable from `start`, how many recorded edges point at it."""
    pending: dict[int, int] = {id(start): 0}
    stack = [start]
    while stack:
        function = stack.pop()
        for edge in function.next_edges:
            if isinstance(edge, Function):
                key = id(edge)
                if key in pending:
                    pending[key] += 1
                else:
                    pending[key] = 1
                    stack.append(edge)
    return pending


def _call_backward(function: Function, grad: np.ndarray) -> tuple:
    """Run one node's backward and return one gradient (or None) per input."""
    profiler = hooks.active_profiler
    if profiler is None:
        result = function.backward(grad)
    else:
        result = profiler.time_backward(function, grad)
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) != len(function.next_edges):
        raise RuntimeError(f"{function.name}.backward returned {len(result)} gradients for "
                           f"{len(function.next_edges)} inputs")
    _check_gradients(function, result)
    if hooks.anomaly_checker is not None:
        hooks.anomaly_checker.check_backward(function, result)
    return result


def _check_gradients(function: Function, grads: tuple) -> None:
    """Each gradient must have its input's shape and dtype: a float64 temporary in a float32
    backward, or a missing unbroadcast, is a bug in that op, reported here by name."""
    for index, (edge, grad) in enumerate(zip(function.next_edges, grads)):
        if edge is None or grad is None:
            continue
        if isinstance(edge, Function):
            dtype, shape = edge.output_dtype, edge.output_shape
        else:
            dtype, shape = edge.data.dtype, edge.data.shape
        if grad.dtype != dtype or grad.shape != shape:
            raise RuntimeError(
                f"{function.name}.backward returned a gradient of dtype {grad.dtype} and shape "
                f"{grad.shape} for input {index}, which has dtype {dtype} and shape {shape}")


def _run_hooks(hook_list: list, grad: np.ndarray) -> np.ndarray:
    """Call tensor hooks in order; a hook may return a replacement gradient."""
    if not hook_list:
        return grad
    from .tensor import Tensor

    for hook in list(hook_list):
        replaced = hook(Tensor._from_op(grad))
        if replaced is not None:
            grad = check_hook_result(hook, replaced, grad)
    return grad


def check_hook_result(hook: object, replaced: object, grad: np.ndarray) -> np.ndarray:
    """The array of a hook's replacement gradient, which must be a Tensor of the gradient's
    shape and dtype: PyTorch's errors, never a silent broadcast or cast into `.grad`."""
    from .tensor import Tensor

    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(replaced, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(replaced).__name__}' "
                        f"(hook '{name}' must return a Tensor or None)")
    if replaced.shape != grad.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value (was {grad.shape} "
                           f"got {replaced.shape})")
    if replaced.dtype != grad.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.dtype} "
                           f"got {replaced.dtype})")
    return replaced.data


def _accumulate_leaves(leaf_grads: dict) -> None:
    """Add each leaf's summed gradient into `.grad` (a fresh array: no aliasing)."""
    from .tensor import Tensor

    for leaf, grad in leaf_grads.values():
        grad = _run_hooks(leaf._hooks, grad)
        if leaf.grad is None:
            leaf.grad = Tensor._from_op(np.array(grad, dtype=leaf.dtype, copy=True))
        else:
            leaf.grad.data = leaf.grad.data + grad
