"""Test accuracy of the issue's training recipes, minigrad beside the same recipe in PyTorch.

    python benchmarks/bench_accuracy.py [--recipe {lenet5-fashion,simplecnn-fashion,
        lenet5-digits,all}] [--threads 2] [--seed 0] [--no-torch] [--no-append]

Both frameworks start from the same weights (minigrad's init, copied by `torch_twin`), see the
same normalised images in the same batches (one NumPy generator draws each epoch's order once
and both train on it), and use the same optimizer and hyper-parameters. Test accuracy is
measured after every epoch. Epochs alternate between the frameworks, so machine load falls on
both alike; wall times are still only as steady as the machine.

Prints and appends to benchmarks/ACCURACY.md one row per recipe and framework: epochs, test
accuracy per epoch, final accuracy, target, wall time, seed, threads, under a heading with the
date and the machine line.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import machine_line, reexec_without_blas_overrides, threads

reexec_without_blas_overrides()

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import optim
from minigrad.train import MODELS, load_arrays

RESULTS = Path(__file__).resolve().parent / "ACCURACY.md"
EVAL_BATCH = 512

try:
    import torch
    from torch_twins import torch_twin
except ImportError:  # PyTorch is optional: minigrad alone is still measured
    torch = None


@dataclass(frozen=True)
class Recipe:
    """One training recipe, run identically by both frameworks."""

    model: str
    dataset: str
    epochs: int
    batch_size: int
    lr: float
    target: float
    optimizer: str = "adam"
    normalize: bool = True
    schedule: str = "constant"  # or "cosine": CosineAnnealingLR to 0, stepped every batch

    def describe(self) -> str:
        inputs = "normalised" if self.normalize else "raw [0, 1]"
        schedule = "" if self.schedule == "constant" else f" {self.schedule}"
        return (f"{self.model} on {self.dataset}, {self.epochs} epochs, {self.optimizer} "
                f"lr {self.lr:g}{schedule}, batch {self.batch_size}, {inputs} input")


RECIPES = {
    "lenet5-fashion": Recipe("lenet5", "fashion-mnist", epochs=5, batch_size=64, lr=2e-3,
                             target=0.88),
    # a constant lr 1e-3 ends noisily (seeds 1 and 2 missed 90.5% in both frameworks);
    # annealing it to 0 over the three epochs met it on seeds 0, 1 and 2
    "simplecnn-fashion": Recipe("simplecnn", "fashion-mnist", epochs=3, batch_size=64, lr=1e-3,
                                target=0.905, schedule="cosine"),
    "lenet5-digits": Recipe("lenet5", "digits", epochs=30, batch_size=32, lr=2e-3,
                            target=0.97),
}
TOLERANCE = 0.005  # minigrad within 0.5 points of PyTorch


@dataclass
class Run:
    """One framework's side of a recipe: how to train an epoch, how to evaluate, its numbers."""

    framework: str
    train_epoch: Callable[[list[np.ndarray]], float]
    evaluate: Callable[[], float]
    accuracies: list[float]
    train_losses: list[float]
    seconds: float = 0.0


def prepare_data(recipe: Recipe, train_limit: int | None) -> tuple[np.ndarray, ...]:
    """The recipe's arrays, standardised with the training set's mean and std as train.py does."""
    train_x, train_y, test_x, test_y = load_arrays(recipe.dataset)
    if train_limit:
        train_x, train_y = train_x[:train_limit], train_y[:train_limit]
    if recipe.normalize:
        mean, std = float(train_x.mean()), float(train_x.std())
        train_x = ((train_x - mean) / std).astype(np.float32)
        test_x = ((test_x - mean) / std).astype(np.float32)
    return train_x, train_y.astype(np.int64), test_x, test_y.astype(np.int64)


def epoch_batches(count: int, batch_size: int, generator: np.random.Generator) -> list[np.ndarray]:
    """One epoch's shuffled batches of sample indices (the last batch may be short)."""
    order = generator.permutation(count)
    return [order[start:start + batch_size] for start in range(0, count, batch_size)]


def total_steps(recipe: Recipe, samples: int) -> int:
    return recipe.epochs * -(-samples // recipe.batch_size)


def minigrad_run(model: Any, recipe: Recipe, arrays: tuple[np.ndarray, ...]) -> Run:
    train_x, train_y, test_x, test_y = arrays
    if recipe.optimizer == "adam":
        optimizer = optim.Adam(model.parameters(), lr=recipe.lr)
    else:
        optimizer = optim.SGD(model.parameters(), lr=recipe.lr, momentum=0.9)
    scheduler = None
    if recipe.schedule == "cosine":
        scheduler = optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=total_steps(recipe, len(train_y)))

    def train_epoch(batches: list[np.ndarray]) -> float:
        model.train()
        total = 0.0
        for indices in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(mg.from_numpy(train_x[indices])),
                                   mg.from_numpy(train_y[indices]))
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(indices)
        return total / len(train_y)

    def evaluate() -> float:
        model.eval()
        correct = 0
        with mg.no_grad():
            for start in range(0, len(test_y), EVAL_BATCH):
                logits = model(mg.from_numpy(test_x[start:start + EVAL_BATCH]))
                correct += int((logits.data.argmax(axis=1) == test_y[start:start + EVAL_BATCH])
                               .sum())
        return correct / len(test_y)

    return Run("minigrad", train_epoch, evaluate, [], [])


def torch_run(model: Any, recipe: Recipe, arrays: tuple[np.ndarray, ...]) -> Run:
    train_x, train_y, test_x, test_y = arrays
    if recipe.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=0.9)
    scheduler = None
    if recipe.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=total_steps(recipe, len(train_y)))

    def train_epoch(batches: list[np.ndarray]) -> float:
        model.train()
        total = 0.0
        for indices in batches:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(train_x[indices])),
                                                     torch.from_numpy(train_y[indices]))
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(indices)
        return total / len(train_y)

    def evaluate() -> float:
        model.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(test_y), EVAL_BATCH):
                logits = model(torch.from_numpy(test_x[start:start + EVAL_BATCH]))
                predictions = logits.argmax(dim=1).numpy()
                correct += int((predictions == test_y[start:start + EVAL_BATCH]).sum())
        return correct / len(test_y)

    return Run("PyTorch", train_epoch, evaluate, [], [])


def run_recipe(recipe: Recipe, seed: int, use_torch: bool,
               train_limit: int | None) -> list[Run]:
    """Train every framework on the recipe, epochs alternating; returns their runs."""
    arrays = prepare_data(recipe, train_limit)
    train_x = arrays[0]
    mg.manual_seed(seed)
    size = {"in_channels": train_x.shape[1], "num_classes": 10, "input_size": train_x.shape[-1]}
    model = MODELS[recipe.model](**size)
    runs = [minigrad_run(model, recipe, arrays)]
    if use_torch:
        torch.manual_seed(seed)
        runs.append(torch_run(torch_twin(model, **size), recipe, arrays))
    order_generator = np.random.default_rng(seed)
    print(f"\n{recipe.describe()}: {len(train_x)} training and {len(arrays[3])} test images",
          flush=True)
    for epoch in range(recipe.epochs):
        batches = epoch_batches(len(train_x), recipe.batch_size, order_generator)
        for run in runs:
            started = time.perf_counter()
            run.train_losses.append(run.train_epoch(batches))
            run.accuracies.append(run.evaluate())
            elapsed = time.perf_counter() - started
            run.seconds += elapsed
            print(f"  epoch {epoch + 1}/{recipe.epochs} {run.framework:8s} train loss "
                  f"{run.train_losses[-1]:.4f} test acc {run.accuracies[-1]:.4f} "
                  f"({elapsed:.1f} s)", flush=True)
    return runs


def rows_for(name: str, recipe: Recipe, runs: list[Run], seed: int, thread_count: int,
             train_limit: int | None) -> list[str]:
    reference = runs[1].accuracies[-1] if len(runs) > 1 else None
    rows = []
    for run in runs:
        final = run.accuracies[-1]
        shortfall = 100 * (recipe.target - final)
        verdict = "met" if final >= recipe.target else f"MISSED by {shortfall:.2f}"
        if run.framework == "minigrad" and reference is not None:
            gap = 100 * (final - reference)
            within = "within 0.5" if abs(gap) <= 100 * TOLERANCE else "OUTSIDE 0.5"
            verdict += f"; {gap:+.2f} pts vs PyTorch ({within})"
        per_epoch = " ".join(f"{100 * value:.2f}" for value in run.accuracies)
        recipe_text = recipe.describe() + (f", first {train_limit} images" if train_limit else "")
        rows.append(f"| {name} | {recipe_text} | {run.framework} | {len(run.accuracies)} | "
                    f"{per_epoch} | **{100 * final:.2f}** | {100 * recipe.target:.1f} ({verdict}) "
                    f"| {run.seconds:.0f} | {seed} | {thread_count} |")
    return rows


def source_line() -> str:
    """'minigrad 80af7be' (plus ', uncommitted changes in minigrad/') as git reports it."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                                capture_output=True, text=True, check=True).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain", "--", "minigrad"], cwd=root,
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "minigrad (commit unknown)"
    return f"minigrad {commit}" + (", uncommitted changes in minigrad/" if changes else "")


HEADER = ("| recipe | setup | framework | epochs | test accuracy % per epoch | final % | "
          "target % | wall s (train + eval, noisy) | seed | threads |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=[*RECIPES, "all"], default="all")
    parser.add_argument("--threads", type=int, default=2,
                        help="BLAS and torch threads for both frameworks (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="train minigrad only")
    parser.add_argument("--no-append", action="store_true", help="do not write ACCURACY.md")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--lr", type=float, default=None, help="override the recipe's lr")
    parser.add_argument("--schedule", choices=("constant", "cosine"), default=None,
                        help="override the recipe's learning-rate schedule")
    parser.add_argument("--train-limit", type=int, default=None,
                        help="first N training images only (smoke runs)")
    args = parser.parse_args()
    use_torch = torch is not None and not args.no_torch
    torch_version = torch.__version__ if torch is not None else "not installed"
    # read once, before scikit-learn (digits) loads SciPy's own OpenBLAS next to NumPy's
    machine = machine_line()
    source = source_line()
    print(machine)
    print(source)
    print(f"torch {torch_version}" + ("" if use_torch else " (not used)"))
    names = list(RECIPES) if args.recipe == "all" else [args.recipe]
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    for name in names:
        recipe = RECIPES[name]
        overrides = {key: value for key, value in (("epochs", args.epochs), ("lr", args.lr),
                                                        ("schedule", args.schedule))
                     if value is not None}
        if overrides:
            recipe = Recipe(**{**vars(recipe), **overrides})
        with threads(args.threads):
            runs = run_recipe(recipe, args.seed, use_torch, args.train_limit)
        rows = rows_for(name, recipe, runs, args.seed, args.threads, args.train_limit)
        print(HEADER + "\n" + "\n".join(rows), flush=True)
        if not args.no_append:
            with RESULTS.open("a") as results:
                results.write(f"\n## {name}, {stamp} ({machine}, torch {torch_version}, "
                              f"{args.threads} threads, {source})\n\n{HEADER}\n"
                              + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
