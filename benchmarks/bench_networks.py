"""Real networks against PyTorch: CIFAR-style ResNet-18 and VGG-11 (BatchNorm) train steps,
the 200-op elementwise chain, the peak memory of a ResNet-18 step and its profile (issue 15).

    python benchmarks/bench_networks.py [--repeats 10] [--threads 1 2] [--no-append]
                                        [--only resnet32 resnet128 vgg32 chain memory profile]

One thread on both sides unless --threads says more, steps interleaved, the malloc setting a
user gets (glibc's default: nothing is tuned here), SGD with momentum 0.9, float32 CIFAR-sized
inputs (3x32x32, 10 classes). Rows: median ms/step of each framework, the ratio of wall-clock
medians and the ratio of CPU-time medians (steadier on a busy machine), appended to
RESULTS.md. Memory: the rise of the peak resident set (VmHWM, reset first) over two steps
after the model, data and imports are in place, each framework in a fresh child process (PyTorch's
allocations are invisible to tracemalloc, so both are measured the same way).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (
    blas_description,
    interleaved_timings,
    machine_line,
    reexec_without_blas_overrides,
    threads,
)

reexec_without_blas_overrides()

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import models, optim

HEADER = ("| workload | batch | threads | minigrad ms/step | PyTorch ms/step | "
          "ratio minigrad/PyTorch | CPU-time ratio | numpy | BLAS | malloc | date |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|")

NETWORKS = {
    "resnet32": ("ResNet-18 CIFAR (3x3 stem, 32x32)", 32),
    "resnet128": ("ResNet-18 CIFAR (3x3 stem, 32x32)", 128),
    "vgg32": ("VGG-11 BN CIFAR (32x32)", 32),
}


def build_minigrad(key: str):
    mg.manual_seed(0)
    if key.startswith("resnet"):
        return models.resnet18(num_classes=10, small_input=True)
    return models.vgg11_bn(num_classes=10, small_input=True)


def build_torch(model):
    from torch_twins import torch_twin

    kwargs = {"num_classes": 10, "small_input": True}
    if isinstance(model, models.VGG11):
        kwargs["batch_norm"] = True
    return torch_twin(model, **kwargs)


def data(batch: int):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, 3, 32, 32), dtype=np.float32),
            rng.integers(0, 10, batch))


def minigrad_step(model, images, labels):
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = mg.tensor(images), mg.tensor(labels)

    def step() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step


def torch_step(model, images, labels):
    import torch

    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step


def network_rows(keys: list[str], repeats: int, thread_counts: list[int]) -> list[str]:
    rows = []
    for key in keys:
        label, batch = NETWORKS[key]
        model = build_minigrad(key)
        images, labels = data(batch)
        steps = {"minigrad": minigrad_step(model, images, labels),
                 "torch": torch_step(build_torch(model), images, labels)}
        for count in thread_counts:
            with threads(count):
                timings = interleaved_timings(steps, repeats, warmup=2)
            rows.append(_row(label, batch, count, timings))
            print(rows[-1], flush=True)
    return rows


def chain_rows(repeats: int, length: int = 200) -> list[str]:
    """The 200-op elementwise chain on a 16x16 float32 tensor, forward + backward."""
    import torch

    start = np.random.default_rng(0).random((16, 16), dtype=np.float32)

    def make(lib, leaf):
        def step() -> None:
            h = leaf
            for index in range(length // 4):
                h = ((h * 1.01 + 0.1) - 0.05).tanh() if index % 2 else (h * 0.99 + 0.2).exp() * 0.1
            h.sum().backward()
        return step

    steps = {"minigrad": make(mg, mg.tensor(start, requires_grad=True)),
             "torch": make(torch, torch.from_numpy(start.copy()).requires_grad_())}
    with threads(1):
        timings = interleaved_timings(steps, repeats * 10)
    row = _row(f"{length}-op elementwise chain, forward + backward", 1, 1, timings)
    print(row, flush=True)
    return [row]


def _row(label: str, batch: int, count: int, timings) -> str:
    wall, cpu = timings["wall"], timings["cpu"]
    ours, theirs = wall["minigrad"] * 1e3, wall["torch"] * 1e3
    date = datetime.date.today().isoformat()
    return (f"| {label} | {batch} | {count} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} "
            f"| {cpu['minigrad'] / cpu['torch']:.2f} | {np.__version__} | "
            f"{blas_description()} | default | {date} |")


def memory_child(framework: str, batch: int) -> None:
    """Print the rise of the peak RSS (bytes) over two ResNet-18 steps, as JSON."""
    model = build_minigrad("resnet32")
    images, labels = data(batch)
    if framework == "torch":
        import torch

        torch.set_num_threads(1)
        step = torch_step(build_torch(model), images, labels)
        del model
    else:
        step = minigrad_step(model, images, labels)
    with threads(1):
        # Linux: writing 5 to clear_refs resets the peak (VmHWM) to the current RSS, so
        # what building the model touched before does not hide the step's peak
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_kib("VmRSS")
        step()
        step()
        after = _status_kib("VmHWM")
    print(json.dumps({"peak_rise_bytes": (after - before) * 1024}))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_row(batch: int = 32) -> str:
    rises = {}
    for framework in ("minigrad", "torch"):
        output = subprocess.run([sys.executable, __file__, "--memory-child", framework,
                                 "--batch", str(batch)], check=True, capture_output=True,
                                text=True).stdout
        rises[framework] = json.loads(output.strip().splitlines()[-1])["peak_rise_bytes"]
    if min(rises.values()) <= 0:  # the peak was reached before the steps: no figure
        raise RuntimeError(f"peak RSS did not rise during the steps: {rises}")
    ours, theirs = rises["minigrad"] / 2**20, rises["torch"] / 2**20
    row = (f"| ResNet-18 CIFAR step, batch {batch}, peak RSS rise over 2 steps | minigrad "
           f"{ours:.1f} MiB | PyTorch {theirs:.1f} MiB | ratio {ours / theirs:.2f} |")
    print(row, flush=True)
    return row


def profile_resnet(batch: int = 32) -> str:
    """mg.profile() table of one ResNet-18 CIFAR step after one warm-up step."""
    model = build_minigrad("resnet32")
    step = minigrad_step(model, *data(batch))
    with threads(1):
        step()
        with mg.profile() as prof:
            step()
    table = prof.table()
    print(table, flush=True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--only", nargs="+",
                        choices=[*NETWORKS, "chain", "memory", "profile"],
                        default=[*NETWORKS, "chain", "memory", "profile"])
    parser.add_argument("--no-append", action="store_true")
    parser.add_argument("--memory-child", choices=("minigrad", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.batch)
        return
    import torch

    print(f"{machine_line()}, torch {torch.__version__}, malloc default")
    sections = []
    keys = [key for key in args.only if key in NETWORKS]
    rows = network_rows(keys, args.repeats, args.threads) if keys else []
    if "chain" in args.only:
        rows += chain_rows(args.repeats)
    if rows:
        sections.append(f"Train steps (median of {args.repeats} interleaved steps after 2 "
                        f"warm-up steps; the chain: {args.repeats * 10} after 3)\n\n"
                        + HEADER + "\n" + "\n".join(rows))
    if "memory" in args.only:
        sections.append("Memory (peak RSS rise, fresh process each)\n\n" + memory_row())
    if "profile" in args.only:
        sections.append("Profile of one ResNet-18 CIFAR step (batch 32, 1 thread)\n\n```\n"
                        + profile_resnet() + "\n```")
    if not args.no_append:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a") as results:
            results.write(f"\n## Networks, {stamp} ({machine_line()}, torch "
                          f"{torch.__version__}, malloc default)\n\n")
            results.write("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
