"""`autograd.grad` and `autograd.backward`: PyTorch's functional entry points to the walk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engine import Tensor
from ..engine.backward import run_backward

__all__ = ["backward", "grad"]

TensorOrTensors = Tensor | Sequence[Tensor]


def _as_tuple(value: Any, what: str) -> tuple:
    items = (value,) if isinstance(value, Tensor) else tuple(value)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"grad: {what} must be Tensors, got {type(item).__name__}")
    return items


def _grad_outputs(grad_outputs: Any, count: int) -> tuple:
    if grad_outputs is None:
        return (None,) * count
    given = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    if len(given) != count:
        raise RuntimeError(f"grad requires one grad_output per output: got {len(given)} "
                           f"grad_outputs and {count} outputs")
    return given


def grad(outputs: TensorOrTensors, inputs: TensorOrTensors,
         grad_outputs: TensorOrTensors | None = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, returned (no `.grad` is touched).

    `grad_outputs` weights each output (needed for non-scalar outputs). With
    `create_graph=True` the returned gradients are recorded and can be differentiated again;
    `retain_graph` defaults to `create_graph`. An input the outputs do not depend on is an
    error unless `allow_unused=True` (then None) or `materialize_grads=True` (then zeros).
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs, "outputs")
    inputs = _as_tuple(inputs, "inputs")
    if not inputs:
        raise RuntimeError("grad requires non-empty inputs.")
    for tensor in inputs:
        if not tensor.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    seeds = _grad_outputs(grad_outputs, len(outputs))
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(outputs, seeds, retain_graph, create_graph, inputs,
                           accumulate=False)
    final = []
    for tensor, result in zip(inputs, results):
        if result is None:
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            if materialize_grads:
                result = Tensor._from_op(tensor.data * 0)
        elif not isinstance(result, Tensor):
            result = Tensor._from_op(result)
        final.append(result)
    return tuple(final)


def backward(tensors: TensorOrTensors, grad_tensors: TensorOrTensors | None = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: TensorOrTensors | None = None) -> None:
    """Accumulate the gradients of `tensors` (weighted by `grad_tensors`) into `.grad`."""
    tensors = _as_tuple(tensors, "tensors")
    seeds = _grad_outputs(grad_tensors, len(tensors))
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tuple(inputs, "inputs")
    run_backward(tensors, seeds, retain_graph, create_graph, inputs, accumulate=True)
