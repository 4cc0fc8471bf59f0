"""ONNX export and import (the optional extra: `pip install minigrad[onnx]`).

    minigrad.onnx.export(model, example_input, "model.onnx")   # as torch.onnx.export
    model = minigrad.onnx.load_model("model.onnx")            # a trainable minigrad Module

The core package never imports this one; it needs the `onnx` package.
"""

from __future__ import annotations

try:
    import onnx as _onnx  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("minigrad.onnx needs the onnx package: pip install 'minigrad[onnx]' "
                      "(onnx and onnxruntime)") from error

from .export import export
from .load import OnnxModule, load_model

__all__ = ["OnnxModule", "export", "load_model"]
