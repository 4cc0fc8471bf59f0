"""examples/pytorch_style_script.py: a PyTorch training script that runs on minigrad after
changing only its imports and data loading; it learns, and (with torch) so does the PyTorch
version rebuilt from the `# torch:` comments on the changed lines."""

import re
import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "pytorch_style_script.py"
QUICK = ["--epochs", "2", "--batch-size", "16", "--log-interval", "1000"]
MARK = "  # torch: "


def run_script(path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(path), *QUICK])
    runpy.run_path(str(path), run_name="__main__")
    printed = capsys.readouterr().out
    correct, total = map(int, re.findall(r"Accuracy: (\d+)/(\d+)", printed)[-1])
    return correct / total, printed


def torch_version(source):
    """The PyTorch script: each marked line replaced by the line in its comment."""
    lines = []
    for line in source.splitlines():
        if MARK in line:
            indent = line[:len(line) - len(line.lstrip())]
            original = line.split(MARK, 1)[1]
            lines.append(indent + original)
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def test_only_imports_and_data_loading_differ():
    changed = [line.split(MARK)[0].strip() for line in SCRIPT.read_text().splitlines()
               if MARK in line]
    assert len(changed) == 8
    for line in changed:
        assert line.startswith(("import ", "from ")) or "load_digits()" in line, line
    rebuilt = torch_version(SCRIPT.read_text())
    assert "minigrad" not in rebuilt.split('"""', 2)[2]   # none left after the docstring
    assert "import torch\n" in rebuilt and "TensorDataset(torch.tensor(" in rebuilt


def test_the_script_learns_digits(monkeypatch, capsys):
    accuracy, printed = run_script(SCRIPT, monkeypatch, capsys)
    assert "Train Epoch: 2" in printed and "Test set: Average loss" in printed
    assert accuracy > 0.85   # chance is 0.1


def test_the_pytorch_version_runs_and_learns_too(monkeypatch, capsys, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    path = tmp_path / "pytorch_original.py"
    path.write_text(torch_version(SCRIPT.read_text()))
    accuracy, _ = run_script(path, monkeypatch, capsys)
    assert accuracy > 0.85   # chance is 0.1
