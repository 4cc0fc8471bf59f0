"""Conv and pooling ops, minigrad vs PyTorch, one thread each (a scratch check, not a test).

Forward + backward of the SimpleCNN convolutions (1->32 and 32->64, 3x3, padding 1, 28x28,
with and without an input gradient), the two LeNet-5 convolutions, and pooling. Calls
alternate between the two libraries so that load from other processes hits both alike;
times are per-call medians of CPU time (process_time), which a busy machine disturbs less
than wall time. Fresh memory is expensive here (page faults on every new large array);
glibc's MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ keep freed memory for reuse and
speed up both libraries.

    .venv/bin/python benchmarks/bench_ops_conv_scratch.py [--batch 64] [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import minigrad as mg
from minigrad.nn import functional as F


def medians(steps: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median CPU seconds per call of each step, calling them in turn."""
    for step in steps.values():
        step()
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.process_time()
            step()
            samples[name].append(time.process_time() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def compare(label: str, ours: Callable[[], None], theirs: Callable[[], None],
            repeats: int) -> None:
    result = medians({"minigrad": ours, "torch": theirs}, repeats)
    print(f"{label:56s} minigrad {result['minigrad'] * 1e3:7.2f} ms   torch "
          f"{result['torch'] * 1e3:7.2f} ms   ratio {result['minigrad'] / result['torch']:.2f}")


def conv_case(batch: int, c_in: int, c_out: int, input_grad: bool, repeats: int,
              size: int = 28, kernel: int = 3, padding: int = 1) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, c_in, size, size), dtype=np.float32)
    weight = rng.standard_normal((c_out, c_in, kernel, kernel), dtype=np.float32)
    bias = rng.standard_normal(c_out, dtype=np.float32)
    out_size = size + 2 * padding - kernel + 1
    grad = rng.standard_normal((batch, c_out, out_size, out_size), dtype=np.float32)
    ours = [mg.tensor(x, requires_grad=input_grad), mg.tensor(weight, requires_grad=True),
            mg.tensor(bias, requires_grad=True)]
    theirs = [torch.tensor(x, requires_grad=input_grad),
              torch.tensor(weight, requires_grad=True), torch.tensor(bias, requires_grad=True)]
    ours_grad, theirs_grad = mg.tensor(grad), torch.tensor(grad)
    compare(f"conv {c_in}->{c_out} {kernel}x{kernel} pad {padding} on {size}x{size}, "
            f"input grad {input_grad}",
            lambda: F.conv2d(*ours, padding=padding).backward(ours_grad),
            lambda: torch.nn.functional.conv2d(*theirs, padding=padding).backward(theirs_grad),
            repeats)


def pool_case(batch: int, channels: int, size: int, name: str, kwargs: dict,
              repeats: int) -> None:
    x = np.random.default_rng(1).standard_normal((batch, channels, size, size),
                                                 dtype=np.float32)
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    shape = getattr(F, name)(ours, **kwargs).shape
    grad = np.random.default_rng(2).standard_normal(shape, dtype=np.float32)
    ours_grad, theirs_grad = mg.tensor(grad), torch.tensor(grad)
    compare(f"{name} {kwargs} on {channels}x{size}x{size}"[:56],
            lambda: getattr(F, name)(ours, **kwargs).backward(ours_grad),
            lambda: getattr(torch.nn.functional, name)(theirs, **kwargs).backward(theirs_grad),
            repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"batch {args.batch}, forward + backward, 1 thread, median CPU time")
    with threadpool_limits(1):
        for c_in, c_out in [(1, 32), (32, 64)]:  # SimpleCNN
            for input_grad in (False, True):
                conv_case(args.batch, c_in, c_out, input_grad, args.repeats)
        conv_case(args.batch, 1, 6, False, args.repeats, size=28, kernel=5, padding=2)  # LeNet-5
        conv_case(args.batch, 6, 16, True, args.repeats, size=14, kernel=5, padding=0)
        pool_case(args.batch, 32, 28, "max_pool2d", {"kernel_size": 2}, args.repeats)
        pool_case(args.batch, 64, 14, "max_pool2d", {"kernel_size": 2}, args.repeats)
        pool_case(args.batch, 32, 28, "avg_pool2d", {"kernel_size": 2}, args.repeats)
        pool_case(args.batch, 64, 7, "adaptive_avg_pool2d", {"output_size": 1}, args.repeats)


if __name__ == "__main__":
    main()
