"""One training step of LeNet-5 and SimpleCNN, minigrad against PyTorch, steps interleaved.

    python benchmarks/bench_train_step.py [--repeats 20] [--quick] [--no-append]
                                          [--malloc tuned|default] [--steps-only] [--epoch]
                                          [--threads 1 2]

Prints and appends to benchmarks/RESULTS.md: per model, batch and thread count, the median
ms/step (wall clock) of each framework, their ratio and the ratio of median CPU times (the
steadier figure on a busy machine), with the numpy and BLAS versions, the malloc setting and
the date on every row; then per-op forward+backward micro-benchmarks, the peak memory of a
SimpleCNN step and the profiler table of one LeNet-5 step (`--steps-only` skips those);
`--epoch` adds a timed LeNet-5 epoch over Fashion-MNIST (see bench_epoch.py).
Headline figures use one thread on both sides; two-thread figures follow as a second row.

`--malloc tuned` (the default) calls glibc's mallopt first so freed memory is reused
instead of page-faulted in again (see `_setup.tune_malloc`); it acts on the whole process,
so both frameworks get it. `--malloc default` leaves glibc as it is.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (
    blas_description,
    interleaved_timings,
    machine_line,
    reexec_without_blas_overrides,
    threads,
    tune_malloc,
)

reexec_without_blas_overrides()

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import models, optim

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


try:
    import torch
    from torch_twins import torch_twin
except ImportError:  # PyTorch is optional: minigrad alone is still timed
    torch = None


def minigrad_step(model, optimizer, x, y):
    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def torch_step(model, optimizer, x, y):
    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def train_step_rows(repeats: int, batches: list[int], thread_counts: list[int],
                    malloc: str) -> list[str]:
    rows = []
    for model_class in (models.LeNet5, models.SimpleCNN):
        for batch in batches:
            mg.manual_seed(0)
            model = model_class()
            rng = np.random.default_rng(0)
            images = rng.random((batch, 1, 28, 28), dtype=np.float32)
            labels = rng.integers(0, 10, batch)
            steps = {"minigrad": minigrad_step(model, optim.SGD(model.parameters(), lr=0.01),
                                               mg.tensor(images), mg.tensor(labels))}
            if torch is not None:
                twin = torch_twin(model)
                steps["torch"] = torch_step(twin, torch.optim.SGD(twin.parameters(), lr=0.01),
                                            torch.from_numpy(images), torch.from_numpy(labels))
            for count in thread_counts:
                with threads(count):
                    timings = interleaved_timings(steps, repeats)
                rows.append(_row(model_class.__name__, batch, count, timings, malloc))
                print(rows[-1], flush=True)
    return rows


HEADER = ("| model | batch | threads | minigrad ms/step | PyTorch ms/step | "
          "ratio minigrad/PyTorch | CPU-time ratio | numpy | BLAS | malloc | date |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|")


def _row(name: str, batch: int, count: int, timings: dict[str, dict[str, float]],
         malloc: str) -> str:
    wall, cpu = timings["wall"], timings["cpu"]
    ours = wall["minigrad"] * 1e3
    theirs = wall.get("torch")
    theirs_text = f"{theirs * 1e3:.2f}" if theirs else "n/a"
    ratio = f"{ours / (theirs * 1e3):.2f}" if theirs else "n/a"
    cpu_ratio = f"{cpu['minigrad'] / cpu['torch']:.2f}" if theirs and cpu["torch"] else "n/a"
    date = datetime.date.today().isoformat()
    return (f"| {name} | {batch} | {count} | {ours:.2f} | {theirs_text} | {ratio} | "
            f"{cpu_ratio} | {np.__version__} | {blas_description()} | {malloc} | {date} |")


def op_cases():
    """(name, minigrad forward fn, torch forward fn, input shapes) for micro-benchmarks."""
    def conv(stride=1, padding=0, dilation=1, groups=1):
        return (lambda x, w: F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation,
                                      groups=groups),
                lambda x, w: torch.nn.functional.conv2d(x, w, stride=stride, padding=padding,
                                                        dilation=dilation, groups=groups))
    cases = [
        ("conv2d LeNet 1->6 5x5 28x28", *conv(), [(64, 1, 28, 28), (6, 1, 5, 5)]),
        ("conv2d LeNet 6->16 5x5 12x12", *conv(), [(64, 6, 12, 12), (16, 6, 5, 5)]),
        ("conv2d Simple 1->32 3x3 p1 28x28", *conv(padding=1), [(64, 1, 28, 28), (32, 1, 3, 3)]),
        ("conv2d Simple 32->64 3x3 p1 14x14", *conv(padding=1),
         [(64, 32, 14, 14), (64, 32, 3, 3)]),
        ("conv2d 16->32 3x3 stride 2", *conv(stride=2, padding=1),
         [(64, 16, 28, 28), (32, 16, 3, 3)]),
        ("conv2d 16->32 3x3 dilation 2", *conv(padding=2, dilation=2),
         [(64, 16, 28, 28), (32, 16, 3, 3)]),
        ("conv2d 32->32 3x3 groups 4", *conv(padding=1, groups=4),
         [(64, 32, 14, 14), (32, 8, 3, 3)]),
        ("max_pool2d 2x2 (64,32,28,28)", lambda x: F.max_pool2d(x, 2),
         lambda x: torch.nn.functional.max_pool2d(x, 2), [(64, 32, 28, 28)]),
        ("max_pool2d 3x3 s2 (64,32,28,28)", lambda x: F.max_pool2d(x, 3, 2, 1),
         lambda x: torch.nn.functional.max_pool2d(x, 3, 2, 1), [(64, 32, 28, 28)]),
        ("avg_pool2d 2x2 (64,32,28,28)", lambda x: F.avg_pool2d(x, 2),
         lambda x: torch.nn.functional.avg_pool2d(x, 2), [(64, 32, 28, 28)]),
        ("matmul (256,3136)x(3136,128)", lambda a, b: a @ b, lambda a, b: a @ b,
         [(256, 3136), (3136, 128)]),
    ]
    return cases


def op_rows(repeats: int, malloc: str) -> list[str]:
    rows = []
    rng = np.random.default_rng(0)
    cases = op_cases()
    targets = rng.integers(0, 10, 256)
    cases.append(("log_softmax + nll (256, 10)",
                  lambda x: F.nll_loss(F.log_softmax(x, dim=1), mg.tensor(targets)),
                  lambda x: torch.nn.functional.nll_loss(
                      torch.nn.functional.log_softmax(x, dim=1), torch.from_numpy(targets)),
                  [(256, 10)]))
    for name, ours, theirs, shapes in cases:
        arrays = [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]

        def mg_step(arrays=arrays, ours=ours):
            inputs = [mg.tensor(a, requires_grad=True) for a in arrays]
            ours(*inputs).sum().backward()

        steps = {"minigrad": mg_step}
        if torch is not None:
            def torch_op_step(arrays=arrays, theirs=theirs):
                inputs = [torch.from_numpy(a).requires_grad_() for a in arrays]
                theirs(*inputs).sum().backward()
            steps["torch"] = torch_op_step
        with threads(1):
            timings = interleaved_timings(steps, repeats)
        rows.append(_row(name, shapes[0][0], 1, timings, malloc))
        print(rows[-1], flush=True)
    return rows


def profile_lenet_step(steps: int = 10) -> str:
    """The profiler table of `steps` LeNet-5 steps after two warm-up steps (times are totals
    over the steps: one step is a small sample on a busy machine)."""
    mg.manual_seed(0)
    model = models.LeNet5()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    x = mg.rand(64, 1, 28, 28)
    y = mg.randint(0, 10, (64,))
    step = minigrad_step(model, optimizer, x, y)
    with threads(1):
        step()
        step()
        with mg.profile() as prof:
            for _ in range(steps):
                step()
    return prof.table()


def simplecnn_memory(batch: int = 256) -> str:
    """Peak traced memory of one step against the activations and gradients it must hold."""
    mg.manual_seed(0)
    model = models.SimpleCNN()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    x = mg.rand(batch, 1, 28, 28)
    y = mg.randint(0, 10, (batch,))
    step = minigrad_step(model, optimizer, x, y)
    with threads(1):
        step()
        # what the step must hold: every op output of the forward pass plus one gradient
        # buffer per parameter
        logits = model(x)
        activations = _graph_output_bytes(F.cross_entropy(logits, y))
        del logits
        gradients = sum(p.data.nbytes for p in model.parameters())
        tracemalloc.start()
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        step()
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
    needed = activations + gradients
    return (f"| SimpleCNN step, batch {batch} | peak {peak / 2**20:.1f} MiB | activations "
            f"{activations / 2**20:.1f} MiB + gradients {gradients / 2**20:.1f} MiB = "
            f"{needed / 2**20:.1f} MiB | ratio {peak / needed:.2f} |")


def _graph_output_bytes(root) -> int:
    seen, stack, total = set(), [root.grad_fn], 0
    while stack:
        function = stack.pop()
        if function is None or id(function) in seen:
            continue
        seen.add(id(function))
        total += int(np.prod(function.output_shape)) * np.dtype(function.output_dtype).itemsize
        stack.extend(edge for edge in function.next_edges if isinstance(edge, mg.Function))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="batch 64 only, 1 thread")
    parser.add_argument("--no-append", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--malloc", choices=("tuned", "default"), default="tuned",
                        help="tuned: keep freed memory for reuse (glibc mallopt, see _setup)")
    parser.add_argument("--steps-only", action="store_true",
                        help="train steps only: no per-op rows, memory or profile")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts for the train steps (default: 1 2)")
    parser.add_argument("--epoch", action="store_true",
                        help="also time one LeNet-5 epoch over Fashion-MNIST, batch 64")
    args = parser.parse_args()
    malloc = args.malloc
    if malloc == "tuned" and not tune_malloc():
        malloc = "default (mallopt unavailable)"
    print(machine_line())
    print(f"torch {torch.__version__}" if torch else "torch not installed: minigrad only")
    print(f"malloc: {malloc}")
    print(HEADER)
    batches = [64] if args.quick else [64, 256]
    thread_counts = [1] if args.quick else args.threads
    step_rows = train_step_rows(args.repeats, batches, thread_counts, malloc)
    sections = [f"Train step (median of {args.repeats} interleaved steps after 3 warm-up "
                f"steps; malloc {malloc})\n\n" + HEADER + "\n" + "\n".join(step_rows)]
    if not args.steps_only:
        print("\nPer-op forward+backward (1 thread)\n" + HEADER.replace("model", "op", 1))
        ops = op_rows(args.repeats, malloc)
        sections.append("Per-op forward+backward (1 thread)\n\n"
                        + HEADER.replace("model", "op", 1) + "\n" + "\n".join(ops))
        memory = simplecnn_memory()
        print("\n" + memory)
        sections.append("Memory (tracemalloc)\n\n" + memory)
        table = profile_lenet_step()
        print("\nProfile of 10 LeNet-5 steps (batch 64, 1 thread; totals)\n" + table)
        sections.append("Profile of 10 LeNet-5 steps (batch 64, 1 thread; totals: divide "
                        "by 10 for one step)\n\n```\n" + table
                        + "\n```")
    if args.epoch:
        from bench_epoch import EPOCH_HEADER, epoch_row
        print("\nLeNet-5 epoch over Fashion-MNIST\n" + EPOCH_HEADER)
        epoch_rows = []
        for count in (1, 2):
            epoch_rows.append(epoch_row(malloc, 64, count))
            print(epoch_rows[-1], flush=True)
        sections.append("LeNet-5 epoch over Fashion-MNIST (batch 64, SGD lr 0.01 momentum 0.9)"
                        "\n\n" + EPOCH_HEADER + "\n" + "\n".join(epoch_rows))
    if not args.no_append:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        torch_version = torch.__version__ if torch else "not installed"
        with RESULTS.open("a") as results:
            results.write(f"\n## Train step, {stamp} ({machine_line()}, torch {torch_version}, "
                          f"malloc {malloc})\n\n")
            results.write("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
