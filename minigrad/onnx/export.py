"""`export`: run a model once in eval mode, record its ops and write them as an ONNX file.

Spelled as `torch.onnx.export`. Parameters and buffers become initializers named by their
state_dict keys; each recorded op becomes ONNX nodes through the table in `export_ops`, except
the ops of a module call that `module_patterns` writes as one node (an eval-mode BatchNorm
becomes BatchNormalization).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, Any

import numpy as np
import onnx
from onnx import helper

from ..engine import Tensor, no_grad
from .builder import GraphBuilder
from .export_ops import EXPORT_OPS
from .export_recurrent import RecurrentCall, emit_recurrent, recurrent_calls
from .module_patterns import MODULE_PATTERNS
from .trace import RecordedOp, record_ops

__all__ = ["DEFAULT_OPSET", "export"]

DEFAULT_OPSET = 17
_BATCH_AXIS_NAME = "batch_size"


def export(model: Any, args: Tensor | Sequence[Tensor], f: str | os.PathLike | IO[bytes],
           input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None,
           dynamic_axes: Mapping[str, Any] | None = None,
           opset_version: int | None = None) -> onnx.ModelProto:
    """Write `model` (run on `args`) to `f` as an ONNX model; returns the ModelProto.

    args: one example input Tensor or a tuple of them (the model's positional arguments).
    input_names / output_names: the graph's value names (default "input", "output", or
        "input_0", "input_1", ... when there are several).
    dynamic_axes: as in torch.onnx.export, {name: [axis, ...]} or {name: {axis: dim_name}};
        only the axes listed vary. None (the default) makes axis 0 of every input and output
        a dynamic "batch_size".
    opset_version: 17 (default) up to the newest opset the installed onnx knows.

    The file passes `onnx.checker.check_model(full_check=True)`. An op with no ONNX mapping
    raises NotImplementedError naming the op and the module it ran in.
    """
    opset = _check_opset(opset_version)
    inputs = _as_tensors(args)
    modes = [(module, module.training) for module in _modules(model)]
    for module, _ in modes:
        module.training = False
    try:
        with no_grad(), record_ops() as recorder, recurrent_calls(model, recorder) as calls:
            result = model(*inputs)
        proto = _build(model, recorder.ops, recorder.made, inputs, _output_tensors(result),
                       input_names, output_names, dynamic_axes, opset, calls)
    finally:
        for module, training in modes:
            module.training = training  # each module's own mode, as it was
    serialized = proto.SerializeToString()  # once, for the check and the file
    onnx.checker.check_model(serialized, full_check=True)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as handle:
            handle.write(serialized)
    else:
        f.write(serialized)
    return proto


def _modules(model: Any) -> list:
    return list(model.modules()) if hasattr(model, "modules") else []


def _build(model: Any, ops: list[RecordedOp], made: dict, inputs: tuple, outputs: tuple,
           input_names: Sequence[str] | None, output_names: Sequence[str] | None,
           dynamic_axes: Mapping[str, Any] | None, opset: int,
           calls: dict[int, RecurrentCall]) -> onnx.ModelProto:
    """The ModelProto for the recorded ops (modules still in eval mode); the ops of a
    recurrent module call (`calls`) are written as that call's ONNX RNN / LSTM / GRU."""
    input_names = _names("input", input_names, len(inputs))
    output_names = _names("output", output_names, len(outputs))
    axes = _dynamic_axes(dynamic_axes, input_names, output_names, inputs, outputs)

    builder = GraphBuilder(opset, dynamic_batch=any(axes.values()))
    values: dict[int, str] = {}
    for tensor, name in zip(inputs, input_names):
        values[id(tensor)] = builder.reserve(name)
        builder.dynamic.add(name)
    state_names = _state_names(model)
    for name in output_names:
        if name in input_names:
            raise ValueError(f"onnx.export: {name!r} is both an input and an output name")
        builder.reserve(name)
    for name in state_names.values():
        if name not in input_names + output_names:
            builder.reserve(name)
    ops = _same_array_as_known(ops, inputs)
    _emit_all(builder, _ops_reaching(ops, outputs), values, state_names, made, calls)

    graph_outputs = []
    for tensor, name in zip(outputs, output_names):
        source = _value_of(builder, tensor, values, state_names)
        builder.node("Identity", [source], name)
        graph_outputs.append(_value_info(name, tensor, axes.get(name, {})))
    graph_inputs = [_value_info(name, tensor, axes.get(name, {}))
                    for tensor, name in zip(inputs, input_names)]
    graph = helper.make_graph(_without_output_copies(builder.nodes, output_names),
                              type(model).__name__, graph_inputs, graph_outputs)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="minigrad")
    builder.write_initializers(proto.graph)  # after make_model, which copies the graph
    return proto


# ---- arguments -------------------------------------------------------------------------------
def _check_opset(opset_version: int | None) -> int:
    newest = onnx.defs.onnx_opset_version()
    if opset_version is None:
        return DEFAULT_OPSET
    if not isinstance(opset_version, int) or not DEFAULT_OPSET <= opset_version <= newest:
        raise ValueError(f"onnx.export: opset_version must be an int from {DEFAULT_OPSET} to "
                         f"{newest}, got {opset_version!r}")
    return opset_version


def _as_tensors(args: Any) -> tuple[Tensor, ...]:
    values = (args,) if isinstance(args, Tensor) else tuple(args)
    for index, value in enumerate(values):
        if not isinstance(value, Tensor):
            raise TypeError(f"onnx.export: args must be a Tensor or a tuple of Tensors; "
                            f"argument {index} is {type(value).__name__}")
    return values


def _output_tensors(result: Any) -> tuple[Tensor, ...]:
    values = (result,) if isinstance(result, Tensor) else result
    if not isinstance(values, (tuple, list)) or not all(isinstance(v, Tensor) for v in values):
        raise TypeError(f"onnx.export: the model must return a Tensor or a tuple of Tensors, "
                        f"got {type(result).__name__}")
    return tuple(values)


def _names(kind: str, given: Sequence[str] | None, count: int) -> list[str]:
    if given is None:
        return [kind] if count == 1 else [f"{kind}_{index}" for index in range(count)]
    names = list(given)
    if len(names) != count or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"onnx.export: {kind}_names must be {count} non-empty strings, got "
                         f"{given!r}")
    return names


def _dynamic_axes(dynamic_axes: Mapping[str, Any] | None, input_names: list[str],
                  output_names: list[str], inputs: tuple, outputs: tuple) -> dict:
    """{value name: {axis: dim_name}} for the graph's inputs and outputs."""
    known = dict(zip(input_names, inputs)) | dict(zip(output_names, outputs))
    if dynamic_axes is None:
        return {name: {0: _BATCH_AXIS_NAME} for name, tensor in known.items() if tensor.ndim}
    axes: dict[str, dict[int, str]] = {}
    for name, spec in dynamic_axes.items():
        if name not in known:
            raise ValueError(f"onnx.export: dynamic_axes names {name!r}, which is not an "
                             f"input or output name ({sorted(known)})")
        spec = dict(spec) if isinstance(spec, Mapping) else {
            axis: f"{name}_dim_{axis}" for axis in spec}
        for axis in spec:
            if not isinstance(axis, int) or not 0 <= axis < known[name].ndim:
                raise ValueError(f"onnx.export: dynamic_axes[{name!r}] has axis {axis!r}, "
                                 f"but {name} has {known[name].ndim} dims")
        axes[name] = spec
    return axes


def _state_names(model: Any) -> dict[int, str]:
    """id(parameter or buffer) -> its state_dict key (the first one for shared tensors)."""
    names: dict[int, str] = {}
    for getter in ("named_parameters", "named_buffers"):
        for name, tensor in getattr(model, getter, lambda: ())():
            if tensor is not None:
                names.setdefault(id(tensor), name)
    return names


# ---- walking the recording -------------------------------------------------------------------
def _ops_reaching(ops: list[RecordedOp], outputs: tuple) -> list[RecordedOp]:
    """The ops the outputs depend on, in the order they ran."""
    needed = {id(tensor) for tensor in outputs}
    kept = []
    for op in reversed(ops):
        if id(op.output) in needed:
            kept.append(op)
            needed.update(id(tensor) for tensor in op.inputs if tensor is not None)
    return kept[::-1]


def _same_array_as_known(ops: list[RecordedOp], inputs: tuple) -> list[RecordedOp]:
    """Replace an op input that wraps the very array of a graph input or of an earlier op's
    output (getitem wraps its index tensor anew: `weight[indices]`) by that tensor; an
    EmbeddingLookup gets the tensor of its `indices` option as a second input."""
    known = {id(tensor.data): tensor for tensor in inputs}
    for op in ops:
        op.inputs = tuple(
            known.get(id(tensor.data), tensor) if tensor is not None else None
            for tensor in op.inputs)
        if op.name == "EmbeddingLookup":  # its indices are an option: the input's array
            source = known.get(id(op.options["indices"]))
            if source is not None:
                op.inputs = op.inputs + (source,)
        known.setdefault(id(op.output.data), op.output)
    return ops


def _value_of(builder: GraphBuilder, tensor: Tensor | None, values: dict[int, str],
              state_names: dict[int, str]) -> str | None:
    """The ONNX name of a tensor: an earlier op's output, a graph input, a parameter or
    buffer (initializer under its state_dict key) or else a constant initializer."""
    if tensor is None:
        return None
    name = values.get(id(tensor))
    if name is not None:
        return name
    if id(tensor) in state_names:
        name = builder.initializer(state_names[id(tensor)], tensor.data)
    else:
        name = builder.constant(tensor.data, "const")
    values[id(tensor)] = name
    return name


def _emit_all(builder: GraphBuilder, ops: list[RecordedOp], values: dict[int, str],
              state_names: dict[int, str], made: dict,
              calls: dict[int, RecurrentCall]) -> None:
    index = 0
    while index < len(ops):
        call = calls.get(id(ops[index]))
        if call is not None:  # a recurrent module call: written whole at its first op
            if not call.emitted:
                call.emitted = True
                values.update(emit_recurrent(
                    builder, call, lambda t: _value_of(builder, t, values, state_names)))
            index += 1
            continue
        group_end = _module_group(ops, index)
        if group_end is not None and _emit_module(builder, ops[index:group_end],
                                                  ops[group_end:], values, state_names):
            index = group_end
            continue
        op = ops[index]
        for tensor, version in zip(op.inputs, op.input_versions):
            if tensor is not None and tensor._version[0] != version:
                raise NotImplementedError(
                    f"onnx.export: a tensor used by {op.name} (in {op.where()}) was changed in "
                    f"place afterwards; in-place ops cannot be exported")
        emitter = EXPORT_OPS.get(op.name)
        if emitter is None:
            raise NotImplementedError(f"onnx.export: no ONNX mapping for op {op.name} (from "
                                      f"module {op.where()})")
        _check_no_untraced_inputs(op, values, state_names, made)
        inputs = [_value_of(builder, tensor, values, state_names) for tensor in op.inputs]
        output = builder.fresh(op.name.lower())
        try:
            emitter(builder, op, inputs, output)
        except NotImplementedError as error:
            raise NotImplementedError(f"{error} (op {op.name} in module {op.where()})") from None
        values[id(op.output)] = output
        index += 1


def _check_no_untraced_inputs(op: RecordedOp, values: dict[int, str],
                              state_names: dict[int, str], made: dict) -> None:
    """Refuse an input that forward made outside the recorded ops (a comparison, argmax,
    mg.zeros(...)): written as a constant it would freeze values that may depend on the
    input. Python scalars (0-d) are fine."""
    for position, tensor in enumerate(op.inputs):
        if (tensor is None or id(tensor) in values or id(tensor) in state_names
                or id(tensor) not in made or tensor.ndim == 0):
            continue
        raise NotImplementedError(
            f"onnx.export: input {position} of {op.name} (in {op.where()}), of shape "
            f"{tuple(tensor.shape)}, was made during forward outside the recorded ops (by a "
            f"comparison, argmax, max-pool indices or a creation function such as mg.zeros); "
            f"ONNX export would freeze its values. Register constants as buffers in __init__.")


# ---- module calls written as one node (module_patterns) --------------------------------------
def _pattern_module(op: RecordedOp) -> Any:
    """The innermost module of `op` when a pattern in MODULE_PATTERNS applies to it."""
    module = op.modules[-1] if op.modules else None
    pattern = MODULE_PATTERNS.get(type(module).__name__)
    return module if pattern is not None and pattern.applies(module) else None


def _module_group(ops: list[RecordedOp], start: int) -> int | None:
    """The end of the run of ops of one patterned module call starting at `start`."""
    module = _pattern_module(ops[start])
    if module is None:
        return None
    end = start + 1
    while end < len(ops) and _pattern_module(ops[end]) is module:
        end += 1
    return end


def _emit_module(builder: GraphBuilder, group: list[RecordedOp], later: list[RecordedOp],
                 values: dict[int, str], state_names: dict[int, str]) -> bool:
    """Write the group as its module's pattern, when its only input from outside the module
    is the data (the rest are the module's own tensors or constants) and only its last
    output is used; otherwise leave it to the op table."""
    module = group[0].modules[-1]
    produced = {id(op.output) for op in group}
    outside = [tensor for op in group for tensor in op.inputs
               if tensor is not None and id(tensor) not in produced and id(tensor) in values
               and builder.is_dynamic(values[id(tensor)])]
    used_later = {id(tensor) for op in later for tensor in op.inputs}
    if len({id(tensor) for tensor in outside}) != 1 or any(
            id(op.output) in used_later for op in group[:-1]):
        return False
    data = outside[0]

    def state(tensor: Tensor | None, fill: float, size: int) -> str:
        if tensor is None:
            return builder.constant(np.full(size, fill, dtype=data.dtype), "default")
        return _value_of(builder, tensor, values, state_names)

    pattern = MODULE_PATTERNS[type(module).__name__]
    values[id(group[-1].output)] = pattern.emit(builder, module, values[id(data)], state)
    return True


# ---- graph inputs and outputs ----------------------------------------------------------------
def _value_info(name: str, tensor: Tensor, dynamic: Mapping[int, str]) -> onnx.ValueInfoProto:
    shape = [dynamic.get(axis, size) for axis, size in enumerate(tensor.shape)]
    element_type = helper.np_dtype_to_tensor_dtype(np.dtype(tensor.dtype))
    return helper.make_tensor_value_info(name, element_type, shape)


def _without_output_copies(nodes: list, output_names: list[str]) -> list:
    """Rename an op's output to the graph output it feeds, dropping the Identity copy, when
    the op's value is used nowhere else (keeps graphs as torch writes them)."""
    producers = {node.output[0]: node for node in nodes}
    uses: dict[str, int] = {}
    for node in nodes:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    kept = []
    renamed: set[int] = set()
    for node in nodes:
        if node.op_type == "Identity" and node.output[0] in output_names:
            source = producers.get(node.input[0])
            if source is not None and uses.get(node.input[0]) == 1 and id(source) not in renamed:
                source.output[0] = node.output[0]
                renamed.add(id(source))
                continue
        kept.append(node)
    return kept
