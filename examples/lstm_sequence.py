"""An LSTM that learns to spell: next-character prediction on English words.

An nn.Embedding, a 2-layer nn.LSTM (batch_first) and a linear head read each word of Debian's
word list (/usr/share/dict/words, package `wamerican`) one character at a time and predict
the next one. The script prints the learning curve (training loss per stretch of steps,
validation loss in bits per character) and, at the end, the next-character accuracy on
held-out words against the best a model without memory can do (always guessing the most
frequent character after the current one, a bigram table from the training words).

    python examples/lstm_sequence.py            # 1500 steps, about 2-3 minutes
    python examples/lstm_sequence.py --quick    # 100 steps (the test runs this)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from words import ALPHABET, IGNORE, encode, load_words, split_words

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

LENGTH = 12  # "." + up to 10 letters + "."


class CharLSTM(nn.Module):
    """Shape: (N, T) int64 tokens -> (N, T, vocab) logits for the next token."""

    def __init__(self, vocab: int, embedding: int = 32, hidden: int = 128,
                 layers: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, num_layers=layers, batch_first=True,
                            dropout=0.1)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens: mg.Tensor) -> mg.Tensor:
        output, _ = self.lstm(self.embedding(tokens))  # (N, T, hidden)
        return self.head(output)


def evaluate(model: nn.Module, inputs: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """(bits per character, next-character accuracy) over the non-padding positions."""
    model.eval()
    with mg.no_grad():
        logits = model(mg.tensor(inputs))
        loss = F.cross_entropy(logits.reshape(-1, len(ALPHABET)),
                               mg.tensor(targets.reshape(-1))).item()
        predicted = logits.argmax(dim=-1).numpy()
    model.train()
    counted = targets != IGNORE
    return loss / math.log(2), float((predicted == targets)[counted].mean())


def bigram_accuracy(train: tuple[np.ndarray, np.ndarray],
                    valid: tuple[np.ndarray, np.ndarray]) -> float:
    """Accuracy of guessing the character seen most often after the current one."""
    counts = np.zeros((len(ALPHABET), len(ALPHABET)), dtype=np.int64)
    inputs, targets = train
    kept = targets != IGNORE
    np.add.at(counts, (inputs[kept], targets[kept]), 1)
    best = counts.argmax(axis=1)
    inputs, targets = valid
    kept = targets != IGNORE
    return float((best[inputs[kept]] == targets[kept]).mean())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--quick", action="store_true", help="100 steps (for the tests)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    steps = 100 if args.quick else args.steps
    mg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_words, valid_words = split_words(load_words(max_length=LENGTH - 2), args.seed)
    train = encode(train_words, LENGTH)
    valid = encode(valid_words[:500 if args.quick else 2000], LENGTH)
    model = CharLSTM(len(ALPHABET))
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    first_bits, _ = evaluate(model, *valid)
    print(f"{len(train_words)} training words; step    0  validation {first_bits:.3f} bits/char")
    history = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        batch = rng.integers(0, len(train[0]), args.batch_size)
        optimizer.zero_grad()
        logits = model(mg.tensor(train[0][batch]))
        loss = F.cross_entropy(logits.reshape(-1, len(ALPHABET)),
                               mg.tensor(train[1][batch].reshape(-1)))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        history.append(loss.item())
        if step % max(steps // 10, 1) == 0 or step == steps:
            bits, _ = evaluate(model, *valid)
            print(f"step {step:4d}  train loss {np.mean(history[-50:]):.3f}  validation "
                  f"{bits:.3f} bits/char  ({time.perf_counter() - start:.0f} s)")
    bits, accuracy = evaluate(model, *valid)
    baseline = bigram_accuracy(train, valid)
    print(f"next-character accuracy on held-out words: {accuracy:.3f} "
          f"(most frequent character after the current one: {baseline:.3f})")
    return {"first_bits": first_bits, "last_bits": bits, "accuracy": accuracy,
            "bigram_accuracy": baseline, "history": history}


if __name__ == "__main__":
    main()
