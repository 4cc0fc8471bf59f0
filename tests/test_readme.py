"""The README's guide runs as written: every Python block before "Extending and debugging",
in order, in one namespace (that section has its own test)."""

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_guide_blocks_run_in_order(tmp_path, capsys):
    guide = README.read_text().split("## Extending and debugging", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    assert len(blocks) >= 6
    namespace: dict = {"__name__": "readme"}
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        for number, block in enumerate(blocks):
            exec(compile(block, f"README.md block {number}", "exec"), namespace)  # noqa: S102
    finally:
        os.chdir(here)
    printed = capsys.readouterr().out
    assert "(6, 1, 5, 5) float32" in printed
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", printed).group(1))
    assert accuracy > 0.9
    assert "168" in printed and "Self CPU time total" in printed
    assert "returned nan values" in printed
    assert (tmp_path / "lenet5.safetensors").exists()
    assert (tmp_path / "lenet5_graph.svg").read_text().lstrip().startswith("<?xml")
