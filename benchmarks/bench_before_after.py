"""First-order speed of this checkout against an earlier commit, in one process, interleaved.

    python benchmarks/bench_before_after.py --before REV [--repeats 30] [--no-append]

The earlier commit's `minigrad/` is extracted (git archive) into a temporary folder and
imported a second time under the name `minigrad_before` (minigrad imports itself only by
relative imports, so both versions live side by side). Each workload is built twice with the
same weights and inputs, and the two versions' steps alternate, so load from other processes
hits both alike. One BLAS thread. Rows: median wall ms of each, their ratio (after/before)
and the ratio of median CPU times; appended to RESULTS.md unless --no-append.

Workloads: LeNet-5 and SimpleCNN SGD train steps at batch 64 and 256, a 200-op elementwise
chain forward + backward, and per-op forward + backward rows (conv2d, max/avg pool, linear,
cross-entropy).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import interleaved_timings, machine_line, reexec_without_blas_overrides, threads

reexec_without_blas_overrides()

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
sys.path.insert(0, str(ROOT))

import minigrad as after  # noqa: E402


def load_before(revision: str, folder: Path):
    """Import `revision`'s minigrad package as `minigrad_before`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "minigrad"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = folder / "minigrad"
    spec = importlib.util.spec_from_file_location(
        "minigrad_before", package / "__init__.py",
        submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["minigrad_before"] = module
    spec.loader.exec_module(module)
    return module


def train_step(mg, model_name: str, batch: int):
    """An SGD step of `model_name` in library `mg`, same weights and data for both."""
    import importlib

    mg.manual_seed(0)
    model = getattr(mg.models, model_name)()
    functional = importlib.import_module(mg.__name__ + ".nn.functional")
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32))
    y = mg.tensor(rng.integers(0, 10, batch))
    optimizer = mg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        optimizer.zero_grad()
        functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step


def chain(mg, length: int = 200):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.random((16, 16), dtype=np.float32), requires_grad=True)

    def step() -> None:
        h = x
        for index in range(length // 4):
            h = ((h * 1.01 + 0.1) - 0.05).tanh() if index % 2 else (h * 0.99 + 0.2).exp() * 0.1
        h.sum().backward()
    return step


def op_step(mg, name: str):
    import importlib

    functional = importlib.import_module(mg.__name__ + ".nn.functional")
    rng = np.random.default_rng(0)

    def leaf(*shape):
        return mg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    if name.startswith("conv2d"):
        cin, cout, size, k, pad = {"conv2d 6->16 5x5 12x12": (6, 16, 12, 5, 0),
                                   "conv2d 32->64 3x3 p1 14x14": (32, 64, 14, 3, 1)}[name]
        x, w, b = leaf(64, cin, size, size), leaf(cout, cin, k, k), leaf(cout)
        forward = lambda: functional.conv2d(x, w, b, padding=pad)  # noqa: E731
    elif name.startswith("max_pool2d"):
        x = leaf(64, 32, 28, 28)
        forward = lambda: functional.max_pool2d(x, 2)  # noqa: E731
    elif name.startswith("avg_pool2d"):
        x = leaf(64, 32, 28, 28)
        forward = lambda: functional.avg_pool2d(x, 2)  # noqa: E731
    elif name.startswith("linear"):
        x, w, b = leaf(256, 400), leaf(120, 400), leaf(120)
        forward = lambda: functional.linear(x, w, b)  # noqa: E731
    else:
        x = leaf(256, 10)
        y = mg.tensor(rng.integers(0, 10, 256))
        forward = lambda: functional.cross_entropy(x, y)  # noqa: E731

    def step() -> None:
        out = forward()
        out.backward(mg.ones_like(out))
    return step


OPS = ("conv2d 6->16 5x5 12x12", "conv2d 32->64 3x3 p1 14x14", "max_pool2d 2x2 (64,32,28,28)",
       "avg_pool2d 2x2 (64,32,28,28)", "linear (256,400)->120", "cross_entropy (256,10)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the earlier commit (any git rev)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = load_before(args.before, Path(folder))
        workloads = [(f"{name} step, batch {batch}",
                      lambda mg, name=name, batch=batch: train_step(mg, name, batch))
                     for name in ("LeNet5", "SimpleCNN") for batch in (64, 256)]
        workloads.append(("200-op elementwise chain, forward + backward", chain))
        workloads += [(f"{name}, forward + backward", lambda mg, name=name: op_step(mg, name))
                      for name in OPS]
        revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                  capture_output=True, text=True).stdout.strip()
        rows = []
        with threads(1):
            for label, build in workloads:
                steps = {"before": build(before), "after": build(after)}
                timings = interleaved_timings(steps, args.repeats)
                wall, cpu = timings["wall"], timings["cpu"]
                rows.append(f"| {label} | {wall['before'] * 1e3:.3f} | {wall['after'] * 1e3:.3f} "
                            f"| {wall['after'] / wall['before']:.3f} | "
                            f"{cpu['after'] / cpu['before']:.3f} |")
                print(rows[-1], flush=True)
    header = (f"\n## First order before/after ({args.before} -> {revision}), "
              f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n\n"
              f"{machine_line()}; 1 thread; median of {args.repeats} interleaved steps.\n\n"
              "| workload | before ms | after ms | after/before (wall) | after/before (CPU) |\n"
              "|---|---|---|---|---|")
    table = header + "\n" + "\n".join(rows) + "\n"
    if not args.no_append:
        with RESULTS.open("a") as handle:
            handle.write(table)
    print(table)


if __name__ == "__main__":
    main()
