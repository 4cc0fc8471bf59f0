"""Why the seed notebook's LeNet did not learn: look at its gradients.

The seed notebook built LeNet-5 by hand (conv 6@5x5, ReLU, max-pool 2, conv 16@5x5, ReLU,
max-pool 2, fc 120, fc 84, fc 10), drew every weight from a normal distribution with std 0.01,
set every bias to 0 and trained with SGD, lr 0.01, batch 16. Its loss sat at 2.3026 = ln 10,
the loss of a uniform guess, for two epochs, and its test accuracy was 10%.

This script builds the same LeNet-5 twice for scikit-learn's 8x8 digits, once with the seed's
recipe and once with PyTorch's default init (what `nn.Conv2d` and `nn.Linear` do in
`reset_parameters`: Kaiming-uniform weights, small uniform biases), then:

1. takes one SGD step on the same batch with each, draws both graphs coloured by gradient
   norm (`seed_init.svg`, `pytorch_init.svg`, and `*_collapsed.svg` with one node per layer)
   and prints each parameter's gradient norm, and its ratio to the parameter's own norm (how
   far one step moves it, over lr), as a table;
2. trains both for one epoch with the seed's SGD and, for contrast, with Adam (which rescales
   every parameter's step), then prints and plots (`loss_curves.png`) the four loss curves.

    python examples/why_the_seed_did_not_learn.py [OUT_DIR] [--epochs 1] [--seed 0]

What to look for: with weights of std 0.01 each layer shrinks its input by about
0.01 * sqrt(fan_in) (0.05 to 0.12 here), so the logits are almost zero whatever the image
(hence a loss of ln 10), and each layer's gradient is shrunk again by every layer above it.
In the pictures the seed's weights sit at the blue end of the scale, about three decades
below the default init's; in the table their relative gradients are 100 to 1000 times smaller,
so an SGD step at lr 0.01 moves each weight by about a millionth of its size. (At lr 0.01 the
default init learns slowly too: one epoch is 90 small steps. Adam shows that it does learn,
while the seed's network, whose output barely depends on its input, stays at ln 10.)
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, load_digits, random_split
from minigrad.models import LeNet5
from minigrad.viz import draw_graph, record_grads

BATCH_SIZE = 16           # the seed's batch size
LEARNING_RATE = 0.01      # the seed's learning rate (plain SGD)
ADAM_LEARNING_RATE = 1e-3  # PyTorch's default for Adam
SEED_STD = 0.01           # the seed's np.random.randn(...) * 0.01
INITS = {"seed": "seed init (N(0, 0.01^2), bias 0)", "default": "PyTorch default init"}
OPTIMIZERS = {"sgd": f"SGD lr {LEARNING_RATE}", "adam": f"Adam lr {ADAM_LEARNING_RATE:g}"}


def seed_init_(model: nn.Module) -> nn.Module:
    """The seed's recipe: weights ~ N(0, 0.01^2), biases 0."""
    for name, parameter in model.named_parameters():
        if name.endswith("bias"):
            nn.init.zeros_(parameter)
        else:
            nn.init.normal_(parameter, mean=0.0, std=SEED_STD)
    return model


def build(init: str, seed: int) -> nn.Module:
    """LeNet-5 for 1x8x8 digits, with the seed's init or PyTorch's default."""
    mg.manual_seed(seed)
    model = LeNet5(in_channels=1, num_classes=10, input_size=8)
    return seed_init_(model) if init == "seed" else model


def one_step(model: nn.Module, images: mg.Tensor, labels: mg.Tensor, out_dir: Path,
             name: str) -> dict[str, tuple[float, float]]:
    """Forward, backward and one SGD step on one batch; draw the graph with its gradients.

    Returns each parameter's (weight norm, gradient norm) from before the step.
    """
    with record_grads() as grads:
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
    tensors = {"images": images, "labels": labels}
    for collapse, suffix in ((False, ""), (True, "_collapsed")):
        graph = draw_graph({"loss": loss}, model, show_grads=True, grads=grads, names=tensors,
                           collapse_modules=collapse)
        (out_dir / f"{name}{suffix}.svg").write_bytes(graph.pipe(format="svg"))
    norms = {parameter_name: (_norm(parameter.data), _norm(parameter.grad.data))
             for parameter_name, parameter in model.named_parameters()}
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    optimizer.step()
    optimizer.zero_grad()
    print(f"{name}: loss on the first batch {loss.item():.4f} (ln 10 = {math.log(10):.4f})")
    return norms


def print_gradient_table(seed: dict, default: dict) -> None:
    """One row per parameter: gradient norm, and gradient norm over weight norm (how far one
    SGD step moves the parameter, divided by lr), for both inits."""
    header = (f"{'parameter':<13}{'seed |grad|':>13}{'default |grad|':>16}"
              f"{'seed |grad|/|w|':>17}{'default |grad|/|w|':>20}")
    print("\nGradient norms after one backward (same batch, before the step)")
    print(header)
    print("-" * len(header))
    for name, (seed_weight, seed_grad) in seed.items():
        default_weight, default_grad = default[name]
        print(f"{name:<13}{seed_grad:>13.2e}{default_grad:>16.2e}"
              f"{_ratio(seed_grad, seed_weight):>17}{_ratio(default_grad, default_weight):>20}")
    print("(the seed's biases start at 0, so their |grad|/|w| is not defined: '-')")


def _ratio(grad_norm: float, weight_norm: float) -> str:
    return f"{grad_norm / weight_norm:.2e}" if weight_norm else "-"


def train(model: nn.Module, loader: DataLoader, optimizer_name: str, epochs: int) -> list[float]:
    """`epochs` passes over `loader` with the named optimizer; the loss of every step."""
    if optimizer_name == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    else:
        optimizer = optim.Adam(model.parameters(), lr=ADAM_LEARNING_RATE)
    losses = []
    for _ in range(epochs):
        for images, labels in loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


@mg.no_grad()
def accuracy(model: nn.Module, images: mg.Tensor, labels: mg.Tensor) -> float:
    predictions = model(images).data.argmax(axis=1)
    return float((predictions == labels.data).mean())


def plot_losses(curves: dict[tuple[str, str], list[float]], path: Path) -> None:
    """One panel per optimizer, one curve per init."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, len(OPTIMIZERS), figsize=(11, 4), sharey=True)
    for panel, (optimizer_name, optimizer_label) in zip(panels, OPTIMIZERS.items()):
        for init, init_label in INITS.items():
            panel.plot(curves[init, optimizer_name], label=init_label, linewidth=1)
        panel.axhline(math.log(10), color="grey", linestyle="--", linewidth=0.8, label="ln 10")
        panel.set_title(f"LeNet-5 on 8x8 digits, {optimizer_label}")
        panel.set_xlabel(f"step (batch {BATCH_SIZE})")
        panel.legend()
    panels[0].set_ylabel("cross-entropy loss")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="runs/why_seed",
                        help="where the pictures go (default runs/why_seed)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    mg.manual_seed(args.seed)
    train_set, test_set = random_split(load_digits(), [0.8, 0.2])
    test_images, test_labels = next(iter(DataLoader(test_set, batch_size=len(test_set))))
    images, labels = next(iter(DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)))

    # 1. one step each on the same batch: pictures and a table
    seed_norms = one_step(build("seed", args.seed), images, labels, out_dir, "seed_init")
    default_norms = one_step(build("default", args.seed), images, labels, out_dir,
                             "pytorch_init")
    print_gradient_table(seed_norms, default_norms)

    # 2. both inits trained from scratch: with the seed's SGD, and with Adam, which rescales
    #    each parameter's step and so takes small gradients out of the picture
    curves = {}
    print(f"\nTraining for {args.epochs} epoch(s), {len(train_set)} images, batch {BATCH_SIZE}")
    print(f"{'init':<34}{'optimizer':<20}{'first 10 steps':>15}{'last 10 steps':>15}"
          f"{'test accuracy':>15}")
    for optimizer_name, optimizer_label in OPTIMIZERS.items():
        for init, init_label in INITS.items():
            model = build(init, args.seed)
            loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, seed=args.seed)
            losses = train(model, loader, optimizer_name, args.epochs)
            curves[init, optimizer_name] = losses
            test_accuracy = accuracy(model, test_images, test_labels)
            print(f"{init_label:<34}{optimizer_label:<20}{np.mean(losses[:10]):>15.4f}"
                  f"{np.mean(losses[-10:]):>15.4f}{test_accuracy:>15.1%}")
    print_curves(curves)
    plot_losses(curves, out_dir / "loss_curves.png")
    print(f"\nwrote {', '.join(sorted(path.name for path in out_dir.iterdir()))} to {out_dir} "
          f"in {time.perf_counter() - start:.1f} s")


def print_curves(curves: dict[tuple[str, str], list[float]]) -> None:
    """The loss curves as a table: the mean loss over each tenth of training."""
    columns = list(curves)
    steps = len(curves[columns[0]])
    every = max(1, steps // 10)
    print("\nLoss curves (mean over each window of steps)")
    print(f"{'steps':>10}" + "".join(f"{init + ' + ' + name:>18}" for init, name in columns))
    for first in range(0, steps, every):
        row = "".join(f"{np.mean(curves[column][first:first + every]):>18.4f}"
                      for column in columns)
        print(f"{first:>4}-{min(first + every, steps) - 1:<5}" + row)


def _norm(array: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))


if __name__ == "__main__":
    main()
