"""The two namespaces an op's backward formula runs against, chosen by the backward walk.

`arrays`: NumPy functions and fast kernels on plain arrays (an ordinary backward).
`graph`: the same names as minigrad's differentiable ops on Tensors (`create_graph=True`),
so the gradients are recorded and can be differentiated again.

Both are filled in by `minigrad.ops`, which owns every op; the engine only holds them.
Each has `graph` (bool) so code that must tell them apart (custom ops) can.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

__all__ = ["arrays", "graph", "register"]

arrays: Any = SimpleNamespace(graph=False)
graph: Any = SimpleNamespace(graph=True)


def register(array_functions: dict, graph_functions: dict) -> None:
    """Install the ops' functions; both tables must name the same functions."""
    missing = set(array_functions) ^ set(graph_functions)
    if missing:
        raise RuntimeError(f"backward namespaces differ: {sorted(missing)} in only one of them")
    for name, function in array_functions.items():
        setattr(arrays, name, function)
    for name, function in graph_functions.items():
        setattr(graph, name, function)
