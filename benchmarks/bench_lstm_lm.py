"""A 2-layer LSTM language-model train step, minigrad against PyTorch, steps interleaved.

    python benchmarks/bench_lstm_lm.py [--repeats 15] [--vocab 10000] [--no-append]

The model is PyTorch's word_language_model example (Embedding, LSTM, dropout, Linear
decoder) at issue 15's size: hidden 256, embedding 256, 2 layers, sequence 35, batch 20,
SGD with momentum, one thread on both sides. PyTorch's weights are copied into minigrad's
model. Prints the median ms/step of each, the wall and CPU-time ratios, and the LSTM alone
(forward + backward of the recurrent layer only); appends the rows to RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import interleaved_timings, machine_line, reexec_without_blas_overrides, threads

reexec_without_blas_overrides()

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import optim

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HIDDEN, LAYERS, SEQUENCE, BATCH = 256, 2, 35, 20


def language_model(library, vocab: int):
    """PyTorch's word_language_model RNNModel (LSTM), written once for either library."""

    class RNNModel(library.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = library.nn.Dropout(0.2)
            self.encoder = library.nn.Embedding(vocab, HIDDEN)
            self.rnn = library.nn.LSTM(HIDDEN, HIDDEN, LAYERS, dropout=0.2)
            self.decoder = library.nn.Linear(HIDDEN, vocab)

        def forward(self, tokens, hidden):
            embedded = self.drop(self.encoder(tokens))
            output, hidden = self.rnn(embedded, hidden)
            return self.decoder(self.drop(output)).view(-1, vocab), hidden

    return RNNModel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--vocab", type=int, default=10000)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    import torch

    torch.manual_seed(0)
    reference = language_model(torch, args.vocab)
    ours = language_model(mg, args.vocab)
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, args.vocab, (SEQUENCE, BATCH))
    targets = rng.integers(0, args.vocab, SEQUENCE * BATCH)
    torch_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    our_optimizer = optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    zeros = np.zeros((LAYERS, BATCH, HIDDEN), np.float32)

    def torch_step():
        torch_optimizer.zero_grad()
        state = (torch.tensor(zeros), torch.tensor(zeros))
        output, _ = reference(torch.tensor(tokens), state)
        torch.nn.functional.cross_entropy(output, torch.tensor(targets)).backward()
        torch_optimizer.step()

    def our_step():
        our_optimizer.zero_grad()
        state = (mg.tensor(zeros), mg.tensor(zeros))
        output, _ = ours(mg.tensor(tokens), state)
        F.cross_entropy(output, mg.tensor(targets)).backward()
        our_optimizer.step()

    x_numpy = rng.standard_normal((SEQUENCE, BATCH, HIDDEN)).astype(np.float32)

    def torch_lstm():
        output, _ = reference.rnn(torch.tensor(x_numpy, requires_grad=True))
        output.sum().backward()

    def our_lstm():
        output, _ = ours.rnn(mg.tensor(x_numpy, requires_grad=True))
        output.sum().backward()

    with threads(1):
        steps = interleaved_timings({"torch": torch_step, "minigrad": our_step}, args.repeats)
        lstm = interleaved_timings({"torch": torch_lstm, "minigrad": our_lstm}, args.repeats)
    rows = []
    for label, timing in ((f"LSTM LM train step (vocab {args.vocab})", steps),
                          ("LSTM layer forward+backward", lstm)):
        wall, cpu = timing["wall"], timing["cpu"]
        rows.append(f"| {label}, hidden {HIDDEN}, seq {SEQUENCE}, batch {BATCH}, "
                    f"{LAYERS} layers, 1 thread | {wall['minigrad'] * 1e3:.1f} | "
                    f"{wall['torch'] * 1e3:.1f} | {wall['minigrad'] / wall['torch']:.2f} | "
                    f"{cpu['minigrad'] / cpu['torch']:.2f} | {datetime.date.today()} |")
    header = ("| step | minigrad ms | PyTorch ms | wall ratio | CPU ratio | date |\n"
              "|---|---|---|---|---|---|")
    text = "\n".join([header, *rows, f"({machine_line()})"])
    print(text)
    if not args.no_append:
        with RESULTS.open("a") as results:
            results.write(f"\n### LSTM language model (benchmarks/bench_lstm_lm.py)\n\n{text}\n")


if __name__ == "__main__":
    main()
