"""Forward + backward of the normalization and resampling ops against PyTorch, one thread.

    python benchmarks/bench_norm_resample.py [--repeats 15] [--no-append]

Rows: median wall ms of minigrad and PyTorch per forward + backward (interleaved), their
ratio, and for layer_norm the same layer built from tensor ops (mean, var, sqrt, ...), which
the fused op replaces. Appended to RESULTS.md unless --no-append.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import interleaved_timings, machine_line, reexec_without_blas_overrides, threads

reexec_without_blas_overrides()

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
sys.path.insert(0, str(ROOT))

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402


def _layer_norm_composite(x, weight, bias):
    mean = x.mean(-1, keepdim=True)
    centered = x - mean
    variance = (centered * centered).mean(-1, keepdim=True)
    return centered * (1.0 / (variance + 1e-5).sqrt()) * weight + bias


def workloads(torch):
    """name -> (shapes, minigrad function, torch function) of float32 inputs."""
    tf = torch.nn.functional
    return {
        "layer_norm (32, 128, 256)": (
            [(32, 128, 256), (256,), (256,)],
            lambda x, w, b: F.layer_norm(x, (256,), w, b),
            lambda x, w, b: tf.layer_norm(x, (256,), w, b)),
        "layer_norm as tensor ops (32, 128, 256)": (
            [(32, 128, 256), (256,), (256,)], _layer_norm_composite,
            lambda x, w, b: tf.layer_norm(x, (256,), w, b)),
        "group_norm 8 groups (16, 64, 32, 32)": (
            [(16, 64, 32, 32), (64,), (64,)],
            lambda x, w, b: F.group_norm(x, 8, w, b),
            lambda x, w, b: tf.group_norm(x, 8, w, b)),
        "interpolate nearest x2 (16, 32, 32, 32)": (
            [(16, 32, 32, 32)], lambda x: F.interpolate(x, scale_factor=2),
            lambda x: tf.interpolate(x, scale_factor=2)),
        "interpolate bilinear x2 (16, 32, 32, 32)": (
            [(16, 32, 32, 32)], lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
            lambda x: tf.interpolate(x, scale_factor=2, mode="bilinear")),
        "grid_sample bilinear (8, 16, 32, 32)": (
            [(8, 16, 32, 32), (8, 32, 32, 2)],
            lambda x, g: F.grid_sample(x, g.tanh(), align_corners=False),
            lambda x, g: tf.grid_sample(x, g.tanh(), align_corners=False)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    import torch

    rows = []
    with threads(1):
        torch.set_num_threads(1)
        for name, (shapes, ours, theirs) in workloads(torch).items():
            rng = np.random.default_rng(0)
            arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
            mg_inputs = [mg.tensor(a, requires_grad=True) for a in arrays]
            torch_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]

            def step_minigrad(f=ours, inputs=mg_inputs):
                f(*inputs).sum().backward()

            def step_torch(f=theirs, inputs=torch_inputs):
                f(*inputs).sum().backward()

            timing = interleaved_timings({"minigrad": step_minigrad, "torch": step_torch},
                                         args.repeats)["wall"]
            rows.append((name, timing["minigrad"] * 1e3, timing["torch"] * 1e3))
    today = datetime.date.today().isoformat()
    lines = [f"\n## Normalization and resampling ops, forward + backward, 1 thread ({today})\n",
             f"{machine_line()}\n", "| op | minigrad ms | PyTorch ms | ratio |",
             "|---|---|---|---|"]
    lines += [f"| {name} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |"
              for name, ours, theirs in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_append:
        with RESULTS.open("a") as results:
            results.write(text)


if __name__ == "__main__":
    main()
