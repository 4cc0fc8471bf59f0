"""A small GPT that learns to make up English-looking words, character by character.

Token and position embeddings, causal self-attention blocks (nn.MultiheadAttention with a
causal mask, nn.LayerNorm before each sub-block, a GELU MLP), a final LayerNorm and a linear
head, trained with AdamW on the lower-case words of Debian's word list
(/usr/share/dict/words, package `wamerican`). It prints the training and validation loss
(nats per character) as it goes, then words sampled from the model, starting from ".".

    python examples/char_transformer.py            # 2000 steps, about 2-3 minutes
    python examples/char_transformer.py --quick    # 100 steps (the test runs this)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from words import ALPHABET, decode, encode, load_words, split_words

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

CONTEXT = 12  # "." + up to 10 letters + "."


class Block(nn.Module):
    """x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x)) (a pre-norm GPT block)."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                 nn.Linear(4 * width, width), nn.Dropout(dropout))

    def forward(self, x: mg.Tensor, causal_mask: mg.Tensor) -> mg.Tensor:
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=causal_mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    """Shape: (N, T) int64 tokens -> (N, T, vocab) logits for the next token."""

    def __init__(self, vocab: int, width: int = 64, heads: int = 4, layers: int = 2,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position_embedding = nn.Embedding(CONTEXT, width)
        self.blocks = nn.ModuleList([Block(width, heads, dropout) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)

    def forward(self, tokens: mg.Tensor) -> mg.Tensor:
        length = tokens.shape[1]
        x = self.token_embedding(tokens) + self.position_embedding(mg.arange(length))
        mask = nn.Transformer.generate_square_subsequent_mask(length)  # -inf above diagonal
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln_f(x))


def loss_of(model: nn.Module, inputs: np.ndarray, targets: np.ndarray) -> mg.Tensor:
    logits = model(mg.tensor(inputs))
    return F.cross_entropy(logits.reshape(-1, len(ALPHABET)), mg.tensor(targets.reshape(-1)))


def sample(model: nn.Module, count: int, rng: np.random.Generator) -> list[str]:
    """Words drawn one character at a time from the model's next-character distribution."""
    model.eval()
    tokens = np.zeros((count, 1), dtype=np.int64)
    done = np.zeros(count, dtype=bool)
    with mg.no_grad():
        for _ in range(CONTEXT - 1):
            logits = model(mg.tensor(tokens))[:, -1]
            probabilities = F.softmax(logits, dim=-1).numpy().astype(np.float64)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            drawn = np.array([rng.choice(len(ALPHABET), p=row) for row in probabilities])
            drawn[done] = 0
            done |= drawn == 0
            tokens = np.concatenate([tokens, drawn[:, None]], axis=1)
            if done.all():
                break
    model.train()
    return [decode(row[1:]).split(".")[0] for row in tokens.tolist()]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="100 steps (for the tests)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    steps = 100 if args.quick else args.steps
    mg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_words, valid_words = split_words(load_words(max_length=CONTEXT - 2), args.seed)
    train_x, train_y = encode(train_words, CONTEXT)
    valid_x, valid_y = encode(valid_words[:500 if args.quick else 2000], CONTEXT)
    model = TinyGPT(len(ALPHABET))
    optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    print(f"{len(train_words)} training words, {len(valid_words)} validation words, "
          f"{sum(p.numel() for p in model.parameters())} parameters")
    with mg.no_grad():
        first_valid = loss_of(model, valid_x, valid_y).item()
    print(f"step    0  validation loss {first_valid:.3f}")
    history = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        batch = rng.integers(0, len(train_x), args.batch_size)
        optimizer.zero_grad()
        loss = loss_of(model, train_x[batch], train_y[batch])
        loss.backward()
        optimizer.step()
        scheduler.step()
        history.append(loss.item())
        if step % max(steps // 10, 1) == 0 or step == steps:
            with mg.no_grad():
                valid = loss_of(model, valid_x, valid_y).item()
            print(f"step {step:4d}  train loss {np.mean(history[-50:]):.3f}  validation loss "
                  f"{valid:.3f}  ({time.perf_counter() - start:.0f} s)")
    print("samples:", " ".join(sample(model, 12, rng)))
    return {"first_valid": first_valid, "last_valid": valid, "history": history}


if __name__ == "__main__":
    main()
