"""One full LeNet-5 training epoch over the 60,000 Fashion-MNIST training images, timed.

    python benchmarks/bench_epoch.py [--batch 64] [--threads 1 2] [--malloc tuned|default]
                                     [--no-append]

Reads Fashion-MNIST with `minigrad.data.FashionMNIST` (Debian's dataset-fashion-mnist puts
it in /usr/share/datasets/fashion-mnist), shuffles with a seeded DataLoader and runs
forward, cross-entropy, backward and an SGD step (lr 0.01, momentum 0.9) per batch, the last
short batch included. The time covers the whole epoch loop, data loading included, not the
one-off file read. Prints one row per thread count (threads for NumPy's BLAS: 1, then 2 on
this 2-core machine) and appends them to benchmarks/RESULTS.md; the goal is under 30 s on
2 cores. On a busy machine two BLAS threads can be far slower than one: LeNet-5's GEMMs are
small, and every call waits for both threads to get a core.
`bench_train_step.py --epoch` runs the same and files the rows with its own.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (
    blas_description,
    machine_line,
    reexec_without_blas_overrides,
    threads,
    tune_malloc,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
EPOCH_HEADER = ("| model | images | batch | threads | seconds | steps/s | mean loss | numpy | "
                "BLAS | malloc | date |\n|---|---|---|---|---|---|---|---|---|---|---|")


def time_epoch(batch_size: int = 64, thread_count: int = 1) -> tuple[int, int, float, float]:
    """(images, steps, seconds, mean training loss) of one LeNet-5 epoch."""
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import models, optim
    from minigrad.data import DataLoader, FashionMNIST

    dataset = FashionMNIST(train=True)
    mg.manual_seed(0)
    model = models.LeNet5()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, seed=0)
    total_loss, steps = 0.0, 0
    with threads(thread_count):
        start = time.perf_counter()
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
            steps += 1
        seconds = time.perf_counter() - start
    return len(dataset), steps, seconds, total_loss / steps


def epoch_row(malloc: str, batch_size: int = 64, thread_count: int = 1) -> str:
    import numpy as np

    images, steps, seconds, mean_loss = time_epoch(batch_size, thread_count)
    date = datetime.date.today().isoformat()
    return (f"| LeNet5 | {images} | {batch_size} | {thread_count} | {seconds:.1f} | "
            f"{steps / seconds:.0f} | {mean_loss:.3f} | {np.__version__} | "
            f"{blas_description()} | {malloc} | {date} |")


def main() -> None:
    reexec_without_blas_overrides()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--malloc", choices=("tuned", "default"), default="tuned")
    parser.add_argument("--no-append", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    malloc = args.malloc
    if malloc == "tuned" and not tune_malloc():
        malloc = "default (mallopt unavailable)"
    print(machine_line())
    print(EPOCH_HEADER)
    rows = []
    for count in args.threads:
        rows.append(epoch_row(malloc, args.batch, count))
        print(rows[-1], flush=True)
    if not args.no_append:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a") as results:
            results.write(f"\n## LeNet-5 epoch, {stamp} ({machine_line()})\n\n{EPOCH_HEADER}\n"
                          + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
