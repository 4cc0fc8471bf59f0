"""Lower-case words from Debian's word list (package `wamerican`) as character sequences.

Shared by examples/char_transformer.py and examples/lstm_sequence.py. Each word becomes the
token sequence "." w o r d "." (token 0 is the "." that starts and ends a word, letters
a-z are 1-26), padded to a fixed length with -100, which cross_entropy ignores.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WORDS = Path("/usr/share/dict/words")
ALPHABET = ".abcdefghijklmnopqrstuvwxyz"
IGNORE = -100


def load_words(min_length: int = 3, max_length: int = 10) -> list[str]:
    """The word list's plain lower-case words (no capitals, apostrophes or accents)."""
    if not WORDS.exists():
        raise SystemExit(f"{WORDS} is missing: install Debian's word list with "
                         f"`apt-get install wamerican`")
    words = WORDS.read_text(encoding="utf-8", errors="ignore").split()
    chosen = {word for word in words
              if min_length <= len(word) <= max_length and word.isascii()
              and word.isalpha() and word.islower()}
    return sorted(chosen)


def encode(words: list[str], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (len(words), length) and next-character targets of the same shape.

    Input row: "." then the word, padded with "."; target row: the word then ".", padded with
    IGNORE so padding positions do not count in the loss.
    """
    inputs = np.zeros((len(words), length), dtype=np.int64)
    targets = np.full((len(words), length), IGNORE, dtype=np.int64)
    for row, word in enumerate(words):
        codes = [ALPHABET.index(letter) for letter in word]
        inputs[row, 1:len(codes) + 1] = codes
        targets[row, :len(codes)] = codes
        targets[row, len(codes)] = 0
    return inputs, targets


def split_words(words: list[str], seed: int = 0,
                validation: float = 0.1) -> tuple[list[str], list[str]]:
    """A seeded shuffle into training and validation words."""
    order = np.random.default_rng(seed).permutation(len(words))
    cut = int(len(words) * (1 - validation))
    return [words[i] for i in order[:cut]], [words[i] for i in order[cut:]]


def decode(codes: list[int]) -> str:
    return "".join(ALPHABET[code] for code in codes)
