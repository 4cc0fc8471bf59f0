"""One training step of LeNet-5 and SimpleCNN, minigrad against PyTorch, steps interleaved.

    python benchmarks/bench_train_step.py [--repeats 20] [--quick] [--no-append]

Prints and appends to benchmarks/RESULTS.md: per model, batch and thread count, the median
ms/step of each framework and their ratio; then per-op forward+backward micro-benchmarks,
the profiler table of one LeNet-5 step and the peak memory of a SimpleCNN step.
Headline figures use one thread on both sides; two-thread figures follow as a second row.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (interleaved_medians, machine_line,  # noqa: E402
                    reexec_without_blas_overrides, threads)

reexec_without_blas_overrides()

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import models, optim  # noqa: E402

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


def train_step_rows(repeats: int, batches: list[int], thread_counts: list[int]) -> list[str]:
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
                    medians = interleaved_medians(steps, repeats)
                rows.append(_row(model_class.__name__, batch, count, medians))
                print(rows[-1], flush=True)
    return rows


def _row(name: str, batch: int, count: int, medians: dict[str, float]) -> str:
    ours = medians["minigrad"] * 1e3
    theirs = medians.get("torch")
    theirs_text = f"{theirs * 1e3:.1f}" if theirs else "n/a"
    ratio = f"{ours / (theirs * 1e3):.2f}" if theirs else "n/a"
    return f"| {name} | {batch} | {count} | {ours:.1f} | {theirs_text} | {ratio} |"


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


def op_rows(repeats: int) -> list[str]:
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
            medians = interleaved_medians(steps, repeats)
        rows.append(_row(name, shapes[0][0], 1, medians))
        print(rows[-1], flush=True)
    return rows


def profile_lenet_step() -> str:
    mg.manual_seed(0)
    model = models.LeNet5()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    x = mg.rand(64, 1, 28, 28)
    y = mg.randint(0, 10, (64,))
    step = minigrad_step(model, optimizer, x, y)
    with threads(1):
        step()
        with mg.profile() as prof:
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
    args = parser.parse_args()
    print(machine_line())
    print(f"torch {torch.__version__}" if torch else "torch not installed: minigrad only")
    header = ("| model | batch | threads | minigrad ms/step | PyTorch ms/step | "
              "ratio minigrad/PyTorch |\n|---|---|---|---|---|---|")
    print(header)
    batches = [64] if args.quick else [64, 256]
    thread_counts = [1] if args.quick else [1, 2]
    step_rows = train_step_rows(args.repeats, batches, thread_counts)
    print("\nPer-op forward+backward (1 thread)\n" + header.replace("model", "op"))
    ops = op_rows(args.repeats)
    memory = simplecnn_memory()
    print("\n" + memory)
    table = profile_lenet_step()
    print("\nProfile of one LeNet-5 step (batch 64, 1 thread)\n" + table)
    if not args.no_append:
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        torch_version = torch.__version__ if torch else "not installed"
        with RESULTS.open("a") as results:
            results.write(f"\n## Train step, {stamp} ({machine_line()}, torch {torch_version})\n\n")
            results.write(header + "\n" + "\n".join(step_rows) + "\n")
            results.write("\nPer-op forward+backward\n\n" + header.replace("model", "op") + "\n")
            results.write("\n".join(ops) + "\n\nMemory\n\n" + memory + "\n")
            results.write("\nProfile of one LeNet-5 step (batch 64, 1 thread)\n\n```\n" + table
                          + "\n```\n")


if __name__ == "__main__":
    main()
