"""Module calls exported as one ONNX node instead of the ops their forward ran.

minigrad builds some layers from several ops (an eval-mode BatchNorm is an add, a sqrt, a
division, multiplications and reshapes); ONNX has one node for them, which reads better in
Netron and runs faster. The table maps a module class name to a `ModulePattern`: `applies`
says whether this call can be written as the node (eval mode, running statistics), `emit`
writes it, given the ONNX name of the call's one data input and a `state(tensor, fill, size)`
function that names a parameter or buffer (or `size` copies of `fill` when it is None).
Layers to come (LayerNorm -> LayerNormalization, ...) add a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .builder import GraphBuilder

__all__ = ["MODULE_PATTERNS", "ModulePattern"]


@dataclass(frozen=True)
class ModulePattern:
    applies: Callable[[Any], bool]
    emit: Callable[[GraphBuilder, Any, str, Callable], str]


def _batch_norm_applies(module: Any) -> bool:
    return not module.training and module.running_mean is not None


def _batch_norm(b: GraphBuilder, module: Any, data: str, state: Callable) -> str:
    # ONNX keeps `momentum` of the old estimate; PyTorch's momentum weighs the new batch
    momentum = 0.9 if module.momentum is None else 1.0 - float(module.momentum)
    size = module.num_features
    return b.node("BatchNormalization",
                  [data, state(module.weight, 1.0, size), state(module.bias, 0.0, size),
                   state(module.running_mean, 0.0, size), state(module.running_var, 1.0, size)],
                  b.fresh("batchnorm"), epsilon=float(module.eps), momentum=momentum)


_BATCH_NORM = ModulePattern(_batch_norm_applies, _batch_norm)

MODULE_PATTERNS: dict[str, ModulePattern] = {
    "BatchNorm1d": _BATCH_NORM,
    "BatchNorm2d": _BATCH_NORM,
}
