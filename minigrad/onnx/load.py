"""`load_model`: an ONNX file as a minigrad Module whose weights are trainable Parameters.

The module runs the graph node by node with minigrad ops (the table in `import_ops`), so
gradients flow to every float initializer: the model can be evaluated and fine-tuned. The
initializers keep their ONNX names as state_dict keys ("conv1.weight" lives in a child
module "conv1"), so a model exported by minigrad or torch loads its own state_dict back.
Before running, `fuse` turns node patterns minigrad runs as one op (the Erf form of GELU)
into that op.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..engine import Tensor
from ..nn.module import Module
from ..nn.parameter import Parameter
from .fuse import fuse_erf_gelu
from .import_ops import ATTRIBUTE_LIMITS, IMPORT_OPS, Handler

__all__ = ["OnnxModule", "load_model"]

_NAME_PART = re.compile(r"[^0-9A-Za-z_]")
_BATCH_NORM_STATISTICS = (3, 4)  # BatchNormalization's mean and var inputs


@dataclass
class _Node:
    """One ONNX node, ready to run."""

    op_type: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict
    run: Handler


def _attribute_value(attribute: onnx.AttributeProto) -> Any:
    """An attribute as a Python value; strings as str (ONNX stores bytes)."""
    value = helper.get_attribute_value(attribute)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [item.decode() for item in value]
    return value


def _attributes(node: onnx.NodeProto) -> dict:
    attrs = {attribute.name: _attribute_value(attribute) for attribute in node.attribute}
    if node.op_type == "Split":
        attrs.setdefault("num_outputs", len(node.output))  # equal parts, one per output
    return attrs


class _Holder(Module):
    """A plain container for the parameters under one dotted prefix."""

    def forward(self, *args: Any) -> Any:  # pragma: no cover - never called
        raise RuntimeError("a parameter holder of an OnnxModule is not callable")


class OnnxModule(Module):
    """An ONNX graph as a Module: `forward(*inputs)` runs its nodes in order.

    Float initializers are Parameters (BatchNormalization's mean and var are buffers);
    `train()` makes BatchNormalization use batch statistics and Dropout drop, as in PyTorch.
    Returns one Tensor, or a tuple when the graph has several outputs.
    """

    def __init__(self, model: onnx.ModelProto) -> None:
        super().__init__()
        graph = model.graph
        nodes = fuse_erf_gelu(graph)
        initializer_names = {tensor.name for tensor in graph.initializer}
        self.input_names = [value.name for value in graph.input
                            if value.name not in initializer_names]
        self.output_names = [value.name for value in graph.output]
        self._nodes = [_Node(node.op_type, list(node.input), list(node.output),
                             _attributes(node), IMPORT_OPS[node.op_type]) for node in nodes]
        statistics = {node.input[index] for node in nodes
                      if node.op_type == "BatchNormalization"
                      for index in _BATCH_NORM_STATISTICS if index < len(node.input)}
        self._values: dict[str, str] = {}       # ONNX name -> dotted attribute path
        self._constants: dict[str, np.ndarray] = {}
        used = {name for node in nodes for name in node.input} | set(self.output_names)
        for tensor in graph.initializer:
            if tensor.name not in used:
                continue  # a constant of a fused pattern, or dead weight
            self._add_initializer(tensor.name, numpy_helper.to_array(tensor).copy(),
                                  tensor.name in statistics)

    def _add_initializer(self, name: str, array: np.ndarray, is_statistic: bool) -> None:
        if array.dtype.kind != "f":
            self._constants[name] = array  # shapes, axes, indices: not learnable
            return
        path = self._free_path(name)
        *parents, leaf = path.split(".")
        holder: Module = self
        for part in parents:
            if part not in holder._modules:
                holder.add_module(part, _Holder())
            holder = holder._modules[part]
        if is_statistic:
            holder.register_buffer(leaf, Tensor(array))
        else:
            holder.register_parameter(leaf, Parameter(array))
        self._values[name] = path

    def _free_path(self, name: str) -> str:
        """`name` as a dotted attribute path: odd characters become "_", clashes get a
        suffix ("onnx::Conv_16" -> "onnx__Conv_16")."""
        parts = [_NAME_PART.sub("_", part) or "_" for part in name.split(".")]
        parts = [f"_{part}" if part[0].isdigit() and index == len(parts) - 1 else part
                 for index, part in enumerate(parts)]
        path = ".".join(parts)
        taken = set(self._values.values())
        prefixes = {".".join(value.split(".")[:depth]) for value in taken
                    for depth in range(1, value.count(".") + 1)}
        candidate, count = path, 1
        while candidate in taken or candidate in prefixes or any(
                value.startswith(candidate + ".") for value in taken):
            candidate, count = f"{path}_{count}", count + 1
        return candidate

    def _tensor_at(self, path: str) -> Tensor:
        *parents, leaf = path.split(".")
        holder: Module = self
        for part in parents:
            holder = holder._modules[part]
        return holder._parameters[leaf] if leaf in holder._parameters else holder._buffers[leaf]

    def forward(self, *inputs: Any) -> Any:
        if len(inputs) != len(self.input_names):
            raise TypeError(f"OnnxModule.forward: the graph takes {len(self.input_names)} "
                            f"inputs ({', '.join(self.input_names)}), got {len(inputs)}")
        values: dict[str, Any] = dict(self._constants)
        values.update((name, self._tensor_at(path)) for name, path in self._values.items())
        values.update(zip(self.input_names, inputs))
        for node in self._nodes:
            arguments = [values[name] if name else None for name in node.inputs]
            result = node.run(self, node.attrs, arguments)
            results = result if isinstance(result, tuple) else (result,)
            values.update(zip(node.outputs, results))
        outputs = tuple(values[name] for name in self.output_names)
        outputs = tuple(value if isinstance(value, Tensor) else Tensor(value)
                        for value in outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def extra_repr(self) -> str:
        return (f"inputs={self.input_names}, outputs={self.output_names}, "
                f"nodes={len(self._nodes)}")


def load_model(path: str | os.PathLike | IO[bytes] | onnx.ModelProto) -> OnnxModule:
    """Read an ONNX model (a path, a binary file or a ModelProto) as an `OnnxModule`, in
    eval mode (an ONNX file is an inference graph); call `train()` to fine-tune.

    Raises NotImplementedError listing every op type minigrad cannot run, before building
    anything; ops outside the default ONNX domain count as unsupported.
    """
    model = path if isinstance(path, onnx.ModelProto) else onnx.load_model(path)
    onnx.checker.check_model(model)
    missing = sorted({node.op_type if node.domain in ("", "ai.onnx")
                      else f"{node.domain}::{node.op_type}"
                      for node in fuse_erf_gelu(model.graph)
                      if node.domain not in ("", "ai.onnx") or node.op_type not in IMPORT_OPS})
    if missing:
        raise NotImplementedError(f"load_model: unsupported ONNX ops: {', '.join(missing)} "
                                  f"(supported: {', '.join(sorted(IMPORT_OPS))})")
    limits = sorted({problem for node in model.graph.node if node.op_type in ATTRIBUTE_LIMITS
                     for problem in [ATTRIBUTE_LIMITS[node.op_type](_attributes(node))]
                     if problem})
    if limits:
        raise NotImplementedError(f"load_model: unsupported ONNX op settings: "
                                  f"{', '.join(limits)}")
    return OnnxModule(model).eval()
