"""`backward()` and `autograd.grad()`: walk the recorded graph from outputs to inputs, iteratively.

The walk is Kahn's algorithm over Function nodes: first count, for every node, how many
recorded consumers will send it a gradient; then run each node once all of them have, summing
the incoming gradients. An explicit stack replaces recursion, so a chain of 100,000 ops works.

Each node's one backward formula runs against a namespace `xp` the walk chooses: NumPy arrays
and fast kernels normally, or minigrad's differentiable ops on Tensors when `create_graph=True`
(then the gradients are recorded ops themselves and can be differentiated again). When only
some `inputs` are asked for, nodes that cannot reach them are skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import grad_mode, hooks, namespace
from .function import Function, refresh_view
from .tensor import Tensor

__all__ = ["check_hook_result", "run_backward"]

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the "
          "graph are freed when you call .backward() or autograd.grad(). Specify "
          "retain_graph=True if you need to backward through the graph a second time.")


def run_backward(roots: tuple, seeds: tuple, retain_graph: bool, create_graph: bool,
                 inputs: tuple | None = None, accumulate: bool = True) -> list | None:
    """Backpropagate from `roots` (with gradients `seeds`, None meaning 1 for scalars).

    With `accumulate`, sum the gradients into `.grad` of the leaves that require grad (only
    of `inputs` when given, leaf or not); otherwise return the gradient of each of `inputs`
    (None where it was not reached), touching no `.grad`.
    """
    xp = namespace.graph if create_graph else namespace.arrays
    with grad_mode.set_grad_enabled(create_graph):
        return _walk(roots, seeds, retain_graph, xp, inputs, accumulate)


def _walk(roots: tuple, seeds: tuple, retain_graph: bool, xp: Any, inputs: tuple | None,
          accumulate: bool) -> list | None:
    graph = xp.graph
    starts: dict[int, Any] = {}   # id(node) -> summed seed of the roots it makes
    leaf_grads: dict[int, tuple[Tensor, Any]] = {}
    for index, (root, seed) in enumerate(zip(roots, seeds)):
        if not root.requires_grad:
            raise RuntimeError(f"element {index} of tensors does not require grad and does "
                               f"not have a grad_fn")
        if root._base is not None:
            refresh_view(root)  # a view whose base changed in place since: replay its history
        seed = _seed_gradient(root, seed, index, graph)
        if root.grad_fn is None:
            _add_to(leaf_grads, root, seed)
        else:
            key = id(root.grad_fn)
            starts[key] = (root.grad_fn, seed if key not in starts else starts[key][1] + seed)
    wanted = None if inputs is None else _wanted(inputs)
    captured: dict[int, Any] = {}
    start_nodes = [node for node, _ in starts.values()]
    pending, needed = _plan(start_nodes, wanted)
    grads = {key: seed for key, (_, seed) in starts.items()}
    ready = [node for node in start_nodes if pending[id(node)] == 0
             and (needed is None or id(node) in needed)]
    while ready:
        function = ready.pop()
        grad = grads.pop(id(function))
        grad = _run_hooks(function.output_hooks, grad, graph)
        if wanted is not None and id(function) in wanted[1]:
            captured[id(function)] = grad
        if function.released:
            raise RuntimeError(_FREED)
        function._check_versions()
        for observer in hooks.backward_observers:
            observer(function, grad)
        input_grads = _call_backward(function, grad, xp)
        if not retain_graph:
            function._release()
        for edge, input_grad in zip(function.next_edges, input_grads):
            if edge is None or input_grad is None:
                continue
            if isinstance(edge, Function):
                key = id(edge)
                if needed is not None and key not in needed:
                    continue
                grads[key] = input_grad if key not in grads else grads[key] + input_grad
                pending[key] -= 1
                if pending[key] == 0:
                    ready.append(edge)
            else:
                _add_to(leaf_grads, edge, input_grad)
    if wanted is None:
        _accumulate_leaves(leaf_grads.values(), graph)
        return None
    results = []
    for tensor in inputs:
        if tensor.grad_fn is None:
            entry = leaf_grads.get(id(tensor))
            results.append(None if entry is None else _run_hooks(tensor._hooks, entry[1], graph))
        else:
            results.append(captured.get(id(tensor.grad_fn)))
    if accumulate:
        for tensor, grad in zip(inputs, results):
            if grad is not None:
                _accumulate(tensor, grad, graph)
        return None
    return results


def _add_to(leaf_grads: dict, leaf: Tensor, grad: Any) -> None:
    key = id(leaf)
    if key in leaf_grads:
        leaf_grads[key] = (leaf, leaf_grads[key][1] + grad)
    else:
        leaf_grads[key] = (leaf, grad)


def _wanted(inputs: tuple) -> tuple[set, set]:
    """(ids of leaf inputs, ids of the grad_fn of non-leaf inputs)."""
    leaves = {id(tensor) for tensor in inputs if tensor.grad_fn is None}
    nodes = {id(tensor.grad_fn) for tensor in inputs if tensor.grad_fn is not None}
    return leaves, nodes


def _seed_gradient(root: Tensor, gradient: Any, index: int, graph: bool) -> Any:
    """The gradient of root with respect to itself: 1 for scalars, else the user's."""
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                               f"(output has shape {root.shape}); pass gradient=")
        ones = np.ones(root.shape, dtype=root.dtype)
        return Tensor._from_op(ones) if graph else ones
    if not isinstance(gradient, Tensor):
        raise TypeError(f"backward: gradient can be either a Tensor or None, but got "
                        f"{type(gradient).__name__}")
    data = gradient.data
    if data.shape != root.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[{index}] has a shape of "
                           f"{data.shape} and output[{index}] has a shape of {root.shape}.")
    if graph and isinstance(gradient, Tensor):
        return gradient if gradient.dtype == root.dtype else gradient.to(root.dtype)
    seed = data.astype(root.dtype, copy=True)
    return Tensor._from_op(seed) if graph else seed


def _plan(starts: list, wanted: tuple[set, set] | None) -> tuple[dict, set | None]:
    """Consumer counts per node, and (when only some inputs are wanted) the nodes that can
    reach one of them; the others are skipped by the walk."""
    pending: dict[int, int] = {id(node): 0 for node in starts}
    order: list[Function] = list(starts)
    stack = list(starts)
    while stack:
        function = stack.pop()
        for edge in function.next_edges:
            if isinstance(edge, Function):
                key = id(edge)
                if key in pending:
                    pending[key] += 1
                else:
                    pending[key] = 1
                    order.append(edge)
                    stack.append(edge)
    if wanted is None:
        return pending, None
    needed = _reaching(order, wanted)
    pending = {id(function): 0 for function in order}
    for function in order:
        if id(function) in needed:
            for edge in function.next_edges:
                if isinstance(edge, Function):
                    pending[id(edge)] += 1
    return pending, needed


def _reaching(order: list, wanted: tuple[set, set]) -> set:
    """The ids of the nodes from which a wanted input can be reached: one pass over the
    nodes in reverse topological order (consumers last), no recursion."""
    counts = {id(function): 0 for function in order}
    for function in order:
        for edge in function.next_edges:
            if isinstance(edge, Function):
                counts[id(edge)] += 1
    stack = [function for function in order if counts[id(function)] == 0]
    topological = []
    while stack:
        function = stack.pop()
        topological.append(function)
        for edge in function.next_edges:
            if isinstance(edge, Function):
                counts[id(edge)] -= 1
                if counts[id(edge)] == 0:
                    stack.append(edge)
    leaves, nodes = wanted
    needed = set(nodes)
    for function in reversed(topological):
        if id(function) in needed:
            continue
        for edge in function.next_edges:
            if edge is None:
                continue
            if (id(edge) in needed) if isinstance(edge, Function) else (id(edge) in leaves):
                needed.add(id(function))
                break
    return needed


def _call_backward(function: Function, grad: Any, xp: Any) -> tuple:
    """Run one node's backward formula and return one gradient (or None) per input."""
    profiler = hooks.active_profiler
    graph = xp.graph
    if graph and function.once_differentiable:
        if profiler is None:
            result = _backward_once(function, grad, xp)
        else:
            result = profiler.time_backward(function, lambda: _backward_once(function, grad, xp))
    else:
        saved = function.saved_values(True) if graph else function.__dict__.get("saved", ())
        if profiler is None:
            result = function.backward(xp, grad, *saved)
        else:
            result = profiler.time_backward(function, lambda: function.backward(xp, grad, *saved))
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) != len(function.next_edges):
        raise RuntimeError(f"{function.name}.backward returned {len(result)} gradients for "
                           f"{len(function.next_edges)} inputs")
    if graph:
        result = tuple(_as_graph_tensor(grad) for grad in result)
    _check_gradients(function, result)
    if hooks.anomaly_checker is not None:
        hooks.anomaly_checker.check_backward(function, result)
    return result


def _backward_once(function: Function, grad: Any, xp: Any) -> tuple:
    """Backward of an op that works on arrays only; in a graph its gradients carry a node
    that raises PyTorch's error if anything differentiates through them."""
    array = grad.data if isinstance(grad, Tensor) else grad
    result = function.backward(namespace.arrays, array, *function.saved_values(False))
    if not isinstance(result, tuple):
        result = (result,)
    # the stand-in node links to the op's inputs and to the incoming gradient, so any pass
    # that differentiates through this gradient reaches it and raises
    grad_edge = None
    if isinstance(grad, Tensor) and grad.requires_grad:
        grad_edge = grad.grad_fn if grad.grad_fn is not None else grad
    edges = function.next_edges + (grad_edge,)
    return tuple(None if value is None else _once_differentiable_tensor(function, value, edges)
                 for value in result)


class _OnceDifferentiable(Function):
    """Stands behind a gradient that a once-differentiable op computed on arrays."""

    op_name = ""

    def backward(self, xp: Any, grad: Any) -> Any:
        raise RuntimeError(f"trying to differentiate twice a function that was marked with "
                           f"@once_differentiable ({self.op_name}Backward is not twice "
                           f"differentiable)")


def _once_differentiable_tensor(function: Function, array: Any, edges: tuple) -> Tensor:
    tensor = Tensor._from_op(np.asarray(array), requires_grad=True)
    node = _OnceDifferentiable()
    node.op_name = function.name
    node.next_edges = edges
    node.needs_input_grad = tuple(edge is not None for edge in edges)
    node.output_hooks = []
    node.output_shape, node.output_dtype = tensor.shape, tensor.dtype
    node.oldest_step = hooks.optimizer_steps
    tensor.grad_fn = node
    return tensor


def _as_graph_tensor(value: Any) -> Any:
    """A gradient of a graph pass as a Tensor (a formula may return a constant array)."""
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor._from_op(np.asarray(value))


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


def _run_hooks(hook_list: list, grad: Any, graph: bool) -> Any:
    """Call tensor hooks in order; a hook may return a replacement gradient."""
    if not hook_list:
        return grad
    for hook in list(hook_list):
        replaced = hook(grad if graph else Tensor._from_op(grad))
        if replaced is not None:
            checked = check_hook_result(hook, replaced, grad)
            grad = checked if graph else checked.data
    return grad


def check_hook_result(hook: object, replaced: object, grad: Any) -> Tensor:
    """A hook's replacement gradient, which must be a Tensor of the gradient's shape and
    dtype: PyTorch's errors, never a silent broadcast or cast into `.grad`."""
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
    return replaced


def _accumulate_leaves(leaf_grads: Any, graph: bool) -> None:
    """Add each leaf's summed gradient into `.grad`, after the leaf's hooks ran."""
    for leaf, grad in leaf_grads:
        _accumulate(leaf, _run_hooks(leaf._hooks, grad, graph), graph)


def _accumulate(tensor: Tensor, grad: Any, graph: bool) -> None:
    """`.grad` += grad: a fresh array (no aliasing), or in a graph pass the recorded sum."""
    if graph:
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        tensor.grad = Tensor._from_op(np.array(grad, dtype=tensor.dtype, copy=True))
    else:
        tensor.grad.data = tensor.grad.data + grad
