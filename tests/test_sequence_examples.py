"""The sequence examples learn: examples/char_transformer.py and examples/lstm_sequence.py in
their quick modes (100 steps each) on Debian's word list."""

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WORDS = Path("/usr/share/dict/words")
needs_words = pytest.mark.skipif(not WORDS.exists(), reason="Debian's wamerican (the word list "
                                 "/usr/share/dict/words) is not installed")


def load_example(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


@needs_words
def test_char_transformer_quick_mode_learns_and_samples(capsys):
    result = load_example("char_transformer").main(["--quick"])
    printed = capsys.readouterr().out
    # uniform guessing over 27 characters is ln 27 = 3.30 nats; the model gets well below
    assert result["first_valid"] > 3.0
    assert result["last_valid"] < 2.6
    assert sum(result["history"][-20:]) / 20 < sum(result["history"][:20]) / 20 - 0.3
    samples = printed.split("samples:")[1].split()
    assert len(samples) >= 8
    assert all(word.isalpha() and word.islower() for word in samples)


@needs_words
def test_lstm_sequence_quick_mode_learns(capsys):
    result = load_example("lstm_sequence").main(["--quick"])
    printed = capsys.readouterr().out
    assert result["last_bits"] < result["first_bits"] - 1.0
    assert sum(result["history"][-20:]) / 20 < sum(result["history"][:20]) / 20 - 0.4
    assert result["accuracy"] > 0.2
    assert "next-character accuracy" in printed


def test_word_encoding_marks_ends_and_ignores_padding():
    words = load_example("words")
    inputs, targets = words.encode(["cab", "a"], 5)
    assert inputs.tolist() == [[0, 3, 1, 2, 0], [0, 1, 0, 0, 0]]
    assert targets.tolist() == [[3, 1, 2, 0, -100], [1, 0, -100, -100, -100]]
    assert words.decode([3, 1, 2]) == "cab"
