"""`GraphBuilder`: the ONNX nodes and initializers an export writes, with unique names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = ["GraphBuilder"]


class GraphBuilder:
    """Collects nodes and initializers for one graph at one opset.

    `dynamic` holds the names of values computed from the graph's inputs (their batch size
    can change); everything else is fixed by the parameters and constants.
    """

    def __init__(self, opset: int, dynamic_batch: bool = True) -> None:
        self.opset = opset
        self.dynamic_batch = dynamic_batch  # whether any input or output axis may vary
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, np.ndarray] = {}  # name -> array, written by write_to
        self.dynamic: set[str] = set()
        self._taken: set[str] = set()
        self._counters: dict[str, int] = {}

    def reserve(self, name: str) -> str:
        """Claim `name` as is (graph inputs, parameter names); it must be free."""
        if name in self._taken:
            raise ValueError(f"onnx.export: the name {name!r} is used twice")
        self._taken.add(name)
        return name

    def fresh(self, hint: str) -> str:
        """A new unique value name starting with `hint`."""
        while True:
            count = self._counters.get(hint, 0)
            self._counters[hint] = count + 1
            name = f"{hint}_{count}"
            if name not in self._taken:
                self._taken.add(name)
                return name

    def node(self, op_type: str, inputs: Sequence[str | None], output: str | None = None,
             **attributes: Any) -> str:
        """Append one node with a single output (a fresh name unless given); returns it.

        An absent optional input is None (written as the empty name ONNX uses).
        """
        if output is None:
            output = self.fresh(op_type.lower())
        names = [name or "" for name in inputs]
        while names and names[-1] == "":
            names.pop()  # trailing absent inputs are simply left out
        if any(name in self.dynamic for name in names):
            self.dynamic.add(output)
        self.nodes.append(helper.make_node(op_type, names, [output],
                                           name=f"{op_type}_{len(self.nodes)}", **attributes))
        return output

    def node_outputs(self, op_type: str, inputs: Sequence[str | None], count: int,
                     **attributes: Any) -> list[str]:
        """Append one node with `count` fresh outputs (LSTM's Y, Y_h, Y_c); returns them."""
        outputs = [self.fresh(f"{op_type.lower()}_out") for _ in range(count)]
        names = [name or "" for name in inputs]
        while names and names[-1] == "":
            names.pop()
        if any(name in self.dynamic for name in names):
            self.dynamic.update(outputs)
        self.nodes.append(helper.make_node(op_type, names, outputs,
                                           name=f"{op_type}_{len(self.nodes)}", **attributes))
        return outputs

    def initializer(self, name: str, array: np.ndarray) -> str:
        """Add a named initializer (a parameter or buffer under its state_dict key)."""
        if name not in self.initializers:
            self.initializers[name] = np.asarray(array)
        return name

    def constant(self, array: Any, hint: str = "const", dtype: Any = None) -> str:
        """Add an anonymous constant as a Constant node (as torch.onnx does: initializers
        are for the state_dict, which importers turn into parameters); returns its name."""
        value = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        name = self.fresh(hint)
        self.nodes.append(helper.make_node("Constant", [], [name], name=f"Constant_{name}",
                                           value=numpy_helper.from_array(value, name)))
        return name

    def ints(self, values: Sequence[int], hint: str = "ints") -> str:
        """A 1-D int64 constant (shapes, axes, pads)."""
        return self.constant(np.asarray(list(values), dtype=np.int64), hint)

    def write_initializers(self, graph: onnx.GraphProto) -> None:
        """Add the initializers to `graph` in place (no copy of a whole list of big tensors,
        which is what `helper.make_graph(initializer=...)` would make)."""
        for name, array in self.initializers.items():
            tensor = graph.initializer.add()
            tensor.name = name
            tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
            tensor.dims.extend(array.shape)
            tensor.raw_data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"),
                                                                 copy=False).tobytes()

    def is_dynamic(self, name: str | None) -> bool:
        return name is not None and name in self.dynamic
