"""`torch.autograd.functional`'s helpers: jacobian, hessian, vjp, jvp, hvp, vhp.

`inputs` is a Tensor or a tuple of Tensors, and results follow it: a Tensor for a Tensor, a
tuple for a tuple (a tuple of tuples for a Jacobian of several outputs and inputs). Without
`create_graph=True` the results are detached, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Tensor, enable_grad
from .grad import grad as autograd_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(value: Any, where: str, what: str) -> tuple[bool, tuple]:
    if isinstance(value, Tensor):
        return False, (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(item, Tensor) for item in value):
        return True, tuple(value)
    raise TypeError(f"The {what} given to {where} must be either a Tensor or a tuple of "
                    f"Tensors but the given {what} has type {type(value).__name__}.")


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs that require grad: themselves when create_graph (to stay in the outer graph),
    otherwise fresh leaves sharing their data."""
    prepared = []
    for tensor in inputs:
        if create_graph and tensor.requires_grad:
            prepared.append(tensor.clone())
        else:
            prepared.append(Tensor._from_op(tensor.data).requires_grad_(True))
    return tuple(prepared)


def _grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None, create_graph: bool,
          strict: bool, where: str) -> tuple:
    pairs = [(out, co) for out, co in zip(outputs, grad_outputs or (None,) * len(outputs))
             if out.requires_grad]
    if pairs:
        grads = autograd_grad([p[0] for p in pairs], inputs,
                              grad_outputs=[p[1] for p in pairs], create_graph=True,
                              allow_unused=True)
    else:
        grads = (None,) * len(inputs)
    result = []
    for index, (tensor, value) in enumerate(zip(inputs, grads)):
        if value is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {index}. This is not allowed in strict mode.")
            value = Tensor._from_op(np.zeros_like(tensor.data))
        result.append(value if create_graph else value.detach())
    return tuple(result)


def _detach(values: tuple, create_graph: bool) -> tuple:
    return values if create_graph else tuple(value.detach() for value in values)


def _check_v(v: Any, reference: tuple, where: str, what: str) -> tuple:
    _, given = _as_tuple(v, where, "v")
    if len(given) != len(reference):
        raise RuntimeError(f"{where}: v has {len(given)} Tensors but the {what} has "
                           f"{len(reference)}")
    for value, tensor in zip(given, reference):
        if value.shape != tensor.shape:
            raise RuntimeError(f"{where}: Mismatch in shape: v has a shape of {value.shape} "
                               f"and the {what} has a shape of {tensor.shape}")
    return given


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`."""
    is_tuple, values = _as_tuple(inputs, "vjp", "inputs")
    with enable_grad():
        prepared = _prepare(values, create_graph)
        raw = func(*prepared)
        out_tuple, outputs = _as_tuple(raw, "vjp", "outputs of the user-provided function")
        if v is None:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided "
                                   "function returns a single Tensor with a single element.")
            weights = None
        else:
            weights = _check_v(v, outputs, "vjp", "output")
        grads = _grad(outputs, prepared, weights, create_graph, strict, "vjp")
    outputs = _detach(outputs, create_graph)
    return (outputs if out_tuple else outputs[0]), (grads if is_tuple else grads[0])


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product, by the double-vjp trick."""
    is_tuple, values = _as_tuple(inputs, "jvp", "inputs")
    if v is None:
        if len(values) != 1 or values[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        tangents = (Tensor._from_op(np.ones_like(values[0].data)),)
    else:
        tangents = _check_v(v, values, "jvp", "input")
    with enable_grad():
        prepared = _prepare(values, create_graph)
        raw = func(*prepared)
        out_tuple, outputs = _as_tuple(raw, "jvp", "outputs of the user-provided function")
        dummies = tuple(Tensor._from_op(np.zeros_like(out.data)).requires_grad_(True)
                        for out in outputs)
        transposed = _grad(outputs, prepared, dummies, True, strict, "jvp")
        result = _grad(transposed, dummies, tangents, create_graph, strict, "jvp")
    outputs = _detach(outputs, create_graph)
    return (outputs if out_tuple else outputs[0]), (result if out_tuple else result[0])


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of func at `inputs`; shape output.shape + input.shape per pair."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    is_tuple, values = _as_tuple(inputs, "jacobian", "inputs")
    with enable_grad():
        prepared = _prepare(values, create_graph)
        raw = func(*prepared)
        out_tuple, outputs = _as_tuple(raw, "jacobian", "outputs of the user-provided function")
        blocks = []
        for output in outputs:
            flat = output.reshape(-1)
            rows = [[] for _ in prepared]
            for position in range(flat.shape[0]):
                grads = _grad((flat[position],), prepared, None, create_graph, strict,
                              "jacobian")
                for row, value in zip(rows, grads):
                    row.append(value)
            blocks.append(tuple(_stack(row, output.shape, tensor.shape)
                                for row, tensor in zip(rows, prepared)))
    if not out_tuple and not is_tuple:
        return blocks[0][0]
    if not out_tuple:
        return blocks[0]
    if not is_tuple:
        return tuple(block[0] for block in blocks)
    return tuple(blocks)


def _stack(rows: list, out_shape: tuple, in_shape: tuple) -> Tensor:
    from .. import ops

    if not rows:
        return Tensor._from_op(np.zeros(tuple(out_shape) + tuple(in_shape)))
    return ops.TOPLEVEL["stack"](rows, 0).reshape(tuple(out_shape) + tuple(in_shape))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of scalar func at `inputs`: the Jacobian of its gradient."""
    is_tuple, values = _as_tuple(inputs, "hessian", "inputs")

    def gradient(*args: Tensor) -> tuple:
        output = func(*args)
        _, outputs = _as_tuple(output, "hessian", "outputs of the user-provided function")
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element")
        return _grad(outputs, args, None, True, strict, "hessian")

    result = jacobian(gradient, tuple(values), create_graph=create_graph, strict=strict)
    return result if is_tuple else result[0][0]


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T H): the vector-Hessian product of scalar func."""
    is_tuple, values = _as_tuple(inputs, "vhp", "inputs")
    weights = _check_v(v, values, "vhp", "input") if v is not None else None
    if weights is None and (len(values) != 1 or values[0].numel() != 1):
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    if weights is None:
        weights = (Tensor._from_op(np.ones_like(values[0].data)),)
    with enable_grad():
        prepared = _prepare(values, create_graph)
        output = func(*prepared)
        _, outputs = _as_tuple(output, "vhp", "outputs of the user-provided function")
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The function given to vhp should return a single Tensor with "
                               "a single element")
        first = _grad(outputs, prepared, None, True, strict, "vhp")
        second = _grad(first, prepared, weights, create_graph, strict, "vhp")
    value = outputs[0] if create_graph else outputs[0].detach()
    return value, (second if is_tuple else second[0])


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), H v): the Hessian-vector product (H is symmetric, so it is v^T H)."""
    return vhp(func, inputs, v, create_graph, strict)
