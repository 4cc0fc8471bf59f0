"""examples/export_onnx.py: the demo's model (here a briefly trained one) exported to ONNX
classifies the test set in onnxruntime exactly as in minigrad."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "export_onnx.py"


def test_example_exports_and_onnxruntime_agrees(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("export_onnx_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    checkpoint = tmp_path / "runs" / "lenet5.safetensors"
    result = example.main(["--checkpoint", str(checkpoint), "--epochs", "4"])
    printed = capsys.readouterr().out
    assert "not found" in printed and checkpoint.exists()
    assert result["output"] == checkpoint.with_suffix(".onnx") and result["output"].exists()
    assert result["agreement"] == 1.0
    assert result["difference"] < 1e-4
    assert result["onnx_accuracy"] == result["minigrad_accuracy"] > 0.7
    assert "onnxruntime accuracy" in printed
