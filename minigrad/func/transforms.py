"""The differentiation transforms of torch.func, built on `autograd.grad(create_graph=True)`.

Inputs may be Tensors or (nested) tuples, lists and dicts of Tensors, as in torch.func;
`argnums` picks the positional arguments to differentiate (an int or a tuple of ints).
Jacobians are built one row (reverse mode) or one column (forward mode) at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.grad import grad as autograd_grad
from ..engine import Tensor, enable_grad

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp"]


# ---- pytrees: tensors inside tuples, lists and dicts ------------------------------------
def _flatten(tree: Any) -> tuple[list, Any]:
    """The tensors of `tree` in order, and a spec to rebuild it."""
    if isinstance(tree, Tensor):
        return [tree], None
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            items, spec = _flatten(item)
            leaves += items
            specs.append((len(items), spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key, item in tree.items():
            items, spec = _flatten(item)
            leaves += items
            specs.append((key, len(items), spec))
        return leaves, (dict, specs)
    raise TypeError(f"expected Tensors or tuples, lists and dicts of Tensors, got "
                    f"{type(tree).__name__}")


def _unflatten(leaves: list, spec: Any) -> Any:
    if spec is None:
        return leaves[0]
    kind, parts = spec
    if kind is dict:
        result, start = {}, 0
        for key, count, inner in parts:
            result[key] = _unflatten(leaves[start:start + count], inner)
            start += count
        return result
    items, start = [], 0
    for count, inner in parts:
        items.append(_unflatten(leaves[start:start + count], inner))
        start += count
    return kind(items)


def _tracked(tensor: Tensor) -> Tensor:
    """A fresh node standing for `tensor` in this transform's graph: a copy recorded from
    it when it is already differentiable (so an outer transform sees through), else a new
    leaf that requires grad."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected a Tensor to differentiate, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                           f"(got dtype {tensor.dtype})")
    if tensor.requires_grad:
        return tensor.clone()
    return Tensor._from_op(tensor.data).requires_grad_(True)


def _argnums_tuple(argnums: Any, count: int, where: str) -> tuple[int, ...]:
    numbers = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not numbers:
        raise RuntimeError(f"{where}: argnums must be non-empty")
    for number in numbers:
        if not isinstance(number, int) or not -count <= number < count:
            raise RuntimeError(f"{where}: Got argnums={argnums}, but only {count} positional "
                               f"inputs")
    return tuple(number % count for number in numbers)


def _grads(outputs: list, inputs: list, cotangents: list | None) -> list:
    """d(outputs . cotangents)/d(inputs), recorded; zeros for inputs not used."""
    found = autograd_grad(outputs, inputs, grad_outputs=cotangents, create_graph=True,
                          allow_unused=True)
    return [Tensor._from_op(np.zeros_like(tensor.data)) if value is None else value
            for tensor, value in zip(inputs, found)]


# ---- grad ------------------------------------------------------------------------------
def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable:
    """`grad_and_value(f)(*args)` -> (gradient of f at args, f(args)); f returns a scalar
    Tensor (or (scalar, aux) with has_aux). The gradient has the structure of the
    differentiated argument(s)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = _argnums_tuple(argnums, len(args), "grad_and_value")
        with enable_grad():
            arguments = list(args)
            flat_per_arg = {}
            for number in numbers:
                leaves, spec = _flatten(args[number])
                tracked = [_tracked(leaf) for leaf in leaves]
                flat_per_arg[number] = (tracked, spec)
                arguments[number] = _unflatten(tracked, spec)
            result = func(*arguments, **kwargs)
            output, aux = _split_aux(result, has_aux, "grad_and_value")
            if not isinstance(output, Tensor) or output.numel() != 1:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got "
                                   f"{getattr(output, 'shape', type(output).__name__)}")
            flat_inputs = [leaf for number in numbers for leaf in flat_per_arg[number][0]]
            if output.requires_grad:
                flat_grads = _grads([output], flat_inputs, None)
            else:
                flat_grads = [Tensor._from_op(np.zeros_like(leaf.data)) for leaf in flat_inputs]
        gradients, start = [], 0
        for number in numbers:
            tracked, spec = flat_per_arg[number]
            gradients.append(_unflatten(flat_grads[start:start + len(tracked)], spec))
            start += len(tracked)
        gradient = gradients[0] if isinstance(argnums, int) else tuple(gradients)
        value = output if not has_aux else (output, aux)
        return gradient, value

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """`grad(f)(*args)`: the gradient of scalar-valued f with respect to args[argnums]
    (with has_aux, f returns (scalar, aux) and grad returns (gradient, aux))."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def _split_aux(result: Any, has_aux: bool, where: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, tuple) or len(result) != 2:
        raise RuntimeError(f"{where}(f, ...)(*args): output of function f should be a tuple: "
                           f"(output, aux) if has_aux is True")
    return result


# ---- vjp and jvp -------------------------------------------------------------------------
def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(f(*primals), vjp_fn[, aux]); vjp_fn(cotangents) gives the vector-Jacobian products,
    one per primal, with the primals' structure."""
    with enable_grad():
        flat, spec = _flatten(list(primals))
        tracked = [_tracked(leaf) for leaf in flat]
        result = func(*_unflatten(tracked, spec))
        output, aux = _split_aux(result, has_aux, "vjp")
    out_flat, out_spec = _flatten(output)

    def vjp_fn(cotangents: Any) -> tuple:
        co_flat, co_spec = _flatten(cotangents)
        if len(co_flat) != len(out_flat):
            raise RuntimeError(f"vjp: expected {len(out_flat)} cotangents, got {len(co_flat)}")
        for cotangent, out in zip(co_flat, out_flat):
            if cotangent.shape != out.shape:
                raise RuntimeError(f"vjp: cotangent of shape {cotangent.shape} for an output "
                                   f"of shape {out.shape}")
        with enable_grad():
            pairs = [(out, co) for out, co in zip(out_flat, co_flat) if out.requires_grad]
            if pairs:
                flat_grads = _grads([p[0] for p in pairs], tracked, [p[1] for p in pairs])
            else:
                flat_grads = [Tensor._from_op(np.zeros_like(leaf.data)) for leaf in tracked]
        return tuple(_unflatten(flat_grads, spec))

    return (output, vjp_fn, aux) if has_aux else (output, vjp_fn)


def jvp(func: Callable, primals: tuple, tangents: tuple, *, has_aux: bool = False) -> tuple:
    """(f(*primals), J @ tangents[, aux]), by the double-vjp trick: the vjp is linear in its
    cotangent u, so differentiating u -> J^T u along the tangents gives J @ tangents."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be "
                           "tuples")
    p_flat, _ = _flatten(list(primals))
    t_flat, _ = _flatten(list(tangents))
    if len(p_flat) != len(t_flat) or any(p.shape != t.shape for p, t in zip(p_flat, t_flat)):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same structure and shapes")
    result = vjp(func, *primals, has_aux=has_aux)
    output, vjp_fn = result[0], result[1]
    out_flat, out_spec = _flatten(output)
    with enable_grad():
        dummies = [Tensor._from_op(np.zeros_like(out.data)).requires_grad_(True)
                   for out in out_flat]
        transposed, _ = _flatten(list(vjp_fn(_unflatten(dummies, out_spec))))
        pairs = [(value, tangent) for value, tangent in zip(transposed, t_flat)
                 if value.requires_grad]
        if pairs:
            flat = _grads([p[0] for p in pairs], dummies, [p[1] for p in pairs])
        else:
            flat = [Tensor._from_op(np.zeros_like(out.data)) for out in out_flat]
    tangent_out = _unflatten(flat, out_spec)
    return (output, tangent_out, result[2]) if has_aux else (output, tangent_out)


# ---- Jacobians and the Hessian ------------------------------------------------------------
def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *,
           has_aux: bool = False) -> Callable:
    """The Jacobian of f with respect to args[argnums] by reverse mode, one output element
    at a time. Shape: output.shape + input.shape (a tuple per argnum when it is a tuple)."""

    def wrapper(*args: Any) -> Any:
        numbers = _argnums_tuple(argnums, len(args), "jacrev")
        with enable_grad():
            arguments = list(args)
            tracked = {}
            for number in numbers:
                tracked[number] = _tracked(args[number])
                arguments[number] = tracked[number]
            result = func(*arguments)
            output, aux = _split_aux(result, has_aux, "jacrev")
            inputs = [tracked[number] for number in numbers]
            rows: list[list[Tensor]] = [[] for _ in inputs]
            flat_output = output.reshape(-1)
            for position in range(flat_output.shape[0]):
                if flat_output.requires_grad:
                    grads = _grads([flat_output[position]], inputs, None)
                else:
                    grads = [Tensor._from_op(np.zeros_like(tensor.data)) for tensor in inputs]
                for row, value in zip(rows, grads):
                    row.append(value)
            jacobians = [_stack_rows(row, output.shape, tensor.shape)
                         for row, tensor in zip(rows, inputs)]
        jacobian = jacobians[0] if isinstance(argnums, int) else tuple(jacobians)
        return (jacobian, aux) if has_aux else jacobian

    return wrapper


def _stack_rows(rows: list, out_shape: tuple, in_shape: tuple) -> Tensor:
    from .. import ops

    if not rows:
        return Tensor._from_op(np.zeros(tuple(out_shape) + tuple(in_shape)))
    stacked = ops.TOPLEVEL["stack"](rows, 0)
    return stacked.reshape(tuple(out_shape) + tuple(in_shape))


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, *,
           has_aux: bool = False) -> Callable:
    """The Jacobian of f with respect to args[argnums] by forward mode (one jvp per input
    element). Shape: output.shape + input.shape."""

    def wrapper(*args: Any) -> Any:
        numbers = _argnums_tuple(argnums, len(args), "jacfwd")
        jacobians = []
        aux = None
        for number in numbers:
            columns = []
            base = args[number]
            output = None
            for position in range(base.numel()):
                basis = np.zeros(base.numel(), dtype=base.dtype)
                basis[position] = 1
                tangent = Tensor._from_op(basis.reshape(base.shape))

                def along(value: Tensor, number: int = number) -> Any:
                    arguments = list(args)
                    arguments[number] = value
                    return func(*arguments)

                result = jvp(along, (base,), (tangent,), has_aux=has_aux)
                output, column = result[0], result[1]
                if has_aux:
                    aux = result[2]
                columns.append(column)
            if output is None:
                output = func(*args)
                output = output[0] if has_aux else output
            jacobians.append(_stack_columns(columns, output.shape, base.shape))
        jacobian = jacobians[0] if isinstance(argnums, int) else tuple(jacobians)
        return (jacobian, aux) if has_aux else jacobian

    return wrapper


def _stack_columns(columns: list, out_shape: tuple, in_shape: tuple) -> Tensor:
    from .. import ops

    if not columns:
        return Tensor._from_op(np.zeros(tuple(out_shape) + tuple(in_shape)))
    stacked = ops.TOPLEVEL["stack"](columns, len(out_shape))
    return stacked.reshape(tuple(out_shape) + tuple(in_shape))


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Hessian of scalar f: jacfwd(jacrev(f)). Shape: input.shape + input.shape."""
    return jacfwd(jacrev(func, argnums), argnums)
