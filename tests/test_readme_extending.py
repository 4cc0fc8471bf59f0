"""The README's "Extending and debugging" snippets run as written, in order, in one namespace."""

import re
from pathlib import Path

import pytest

import minigrad as mg

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Extending and debugging"


def snippets():
    text = README.read_text()
    if SECTION not in text:
        return []
    section = text.split(SECTION, 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]   # up to the next top-level section
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture(autouse=True)
def fast_kernels_afterwards():
    yield
    mg.set_kernels("fast")


def test_the_section_has_runnable_examples_of_items_1_to_5(capsys):
    blocks = snippets()
    assert len(blocks) >= 6, "the README's Extending and debugging section is missing"
    namespace: dict = {"__name__": "readme"}
    for number, block in enumerate(blocks):
        exec(compile(block, f"README.md snippet {number}", "exec"), namespace)  # noqa: S102
    printed = capsys.readouterr().out
    assert "SoftplusBackward" in printed
    assert "Kink(input=0, index=(1,)" in printed
    assert "gradcheck: gradient of input 0" in printed
    assert "grad_fn=<AddBackward>" in printed and ".item()" in printed
    assert "features.0 (Conv2d): conv2d: input has 3 channels" in printed
    assert "Grad norm" in printed
    assert "MaxPool2dReferenceBackward" in printed
