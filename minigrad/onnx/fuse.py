"""Rewrites `load_model` applies before running a graph: patterns of several ONNX nodes that
minigrad runs as one op.

Only one so far: exact GELU, which ONNX before opset 20 has no op for, written by
torch.onnx (and by minigrad's export) as x * (1 + Erf(x / sqrt 2)) * 0.5. minigrad has no
erf op of its own, so the pattern runs as `F.gelu`.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = ["fuse_erf_gelu"]


def fuse_erf_gelu(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The graph's nodes with every Div -> Erf -> Add(1) -> Mul(x) -> Mul(0.5) chain
    (operands of Add and Mul in either order) replaced by one Gelu node."""
    nodes = list(graph.node)
    scalars = _scalar_constants(graph)
    producer = {name: node for node in nodes for name in node.output}
    consumers: dict[str, list] = defaultdict(list)
    for node in nodes:
        for name in node.input:
            consumers[name].append(node)
    graph_outputs = {value.name for value in graph.output}

    def only_consumer(node: onnx.NodeProto, op_type: str) -> onnx.NodeProto | None:
        name = node.output[0]
        users = consumers.get(name, [])
        if name in graph_outputs or len(users) != 1 or users[0].op_type != op_type:
            return None
        return users[0]

    def other_input(node: onnx.NodeProto, known: str) -> str | None:
        names = list(node.input)
        if len(names) != 2 or known not in names:
            return None
        return names[1] if names[0] == known else names[0]

    removed: set[int] = set()
    replacement: dict[int, onnx.NodeProto] = {}
    for erf in nodes:
        if erf.op_type != "Erf":
            continue
        div = producer.get(erf.input[0])
        if div is None or div.op_type != "Div" or not _is(scalars, div.input[1], math.sqrt(2)):
            continue
        x = div.input[0]
        add = only_consumer(erf, "Add")
        times_x = add and only_consumer(add, "Mul")
        half = times_x and only_consumer(times_x, "Mul")
        if not (add and times_x and half and len(consumers[div.output[0]]) == 1
                and _is(scalars, other_input(add, erf.output[0]), 1.0)
                and other_input(times_x, add.output[0]) == x
                and _is(scalars, other_input(half, times_x.output[0]), 0.5)):
            continue
        gelu = helper.make_node("Gelu", [x], [half.output[0]], name=f"{erf.name}_gelu")
        for node in (div, erf, add, times_x):
            removed.add(id(node))
        replacement[id(half)] = gelu
    return [replacement.get(id(node), node) for node in nodes if id(node) not in removed]


def _scalar_constants(graph: onnx.GraphProto) -> dict[str, float]:
    """Values of the one-element constants (Constant nodes and initializers) by name."""
    values = {}
    for tensor in graph.initializer:
        if int(np.prod(tensor.dims, dtype=np.int64)) == 1:
            values[tensor.name] = float(numpy_helper.to_array(tensor).reshape(-1)[0])
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            array = numpy_helper.to_array(node.attribute[0].t)
            if array.size == 1:
                values[node.output[0]] = float(array.reshape(-1)[0])
    return values


def _is(scalars: dict[str, float], name: str | None, value: float) -> bool:
    return name is not None and name in scalars and math.isclose(scalars[name], value,
                                                                 rel_tol=1e-6)
