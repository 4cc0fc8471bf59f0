"""A convolutional autoencoder on Fashion-MNIST: Conv2d down, ConvTranspose2d back up.

The encoder squeezes each 28x28 image through two stride-2 convolutions (28 -> 14 -> 7) into
a 32-number code; the decoder maps the code back with two stride-2 transposed convolutions
(7 -> 14 -> 28, output_padding=1 picks the even size). Training minimises the pixelwise
binary cross-entropy between image and reconstruction. The script prints the test
reconstruction loss before and after training and writes a PNG grid: test images on the
odd rows, their reconstructions below them.

Reads Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist); nothing is
downloaded.

    python examples/autoencoder.py                 # 3 epochs on all 60,000 images
    python examples/autoencoder.py --quick         # a short run (the test runs this)
    python examples/autoencoder.py --out grid.png --epochs 5 --train-size 20000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.data import DataLoader, FashionMNIST, Subset


class AutoEncoder(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> (N, code_size) codes -> (N, 1, 28, 28) logits."""

    def __init__(self, code_size: int = 32) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),      # (N, 16, 14, 14)
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),     # (N, 32, 7, 7)
            nn.Flatten(), nn.Linear(32 * 7 * 7, code_size),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_size, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, images: mg.Tensor) -> mg.Tensor:
        return self.decoder(self.encoder(images))


def reconstruction_loss(model: AutoEncoder, images: mg.Tensor) -> mg.Tensor:
    """Mean pixelwise binary cross-entropy of the reconstructions (logits) against images."""
    return F.binary_cross_entropy_with_logits(model(images), images)


def evaluate(model: AutoEncoder, images: mg.Tensor, batch_size: int = 500) -> float:
    """Mean reconstruction loss over `images`, without recording a graph."""
    model.eval()
    total = 0.0
    with mg.no_grad():
        for start in range(0, images.shape[0], batch_size):
            batch = images[start:start + batch_size]
            total += reconstruction_loss(model, batch).item() * batch.shape[0]
    model.train()
    return total / images.shape[0]


def save_grid(model: AutoEncoder, images: mg.Tensor, path: Path, columns: int = 8) -> None:
    """A PNG of `images` (first `2 * columns`) and their reconstructions, row pairs:
    originals above, reconstructions below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = images[:2 * columns]
    with mg.no_grad():
        model.eval()
        rebuilt = mg.sigmoid(model(shown)).numpy()
        model.train()
    originals = shown.numpy()
    figure, axes = plt.subplots(4, columns, figsize=(columns * 1.1, 4.8))
    for index in range(2 * columns):
        pair_row, column = divmod(index, columns)
        for offset, picture in enumerate((originals[index, 0], rebuilt[index, 0])):
            axis = axes[2 * pair_row + offset, column]
            axis.imshow(picture, cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
    axes[0, 0].set_ylabel("image")
    axes[1, 0].set_ylabel("decoded")
    axes[2, 0].set_ylabel("image")
    axes[3, 0].set_ylabel("decoded")
    figure.suptitle("Fashion-MNIST test images and their reconstructions")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def train(epochs: int, train_size: int, test_size: int, batch_size: int, lr: float,
          out: Path, root: str | None, seed: int = 0) -> tuple[float, float]:
    """Train, write the grid to `out`; return the test loss (before, after)."""
    mg.manual_seed(seed)
    train_set = FashionMNIST(root, train=True)
    test_images = FashionMNIST(root, train=False).data[:test_size]
    chosen = np.random.default_rng(seed).permutation(len(train_set))[:train_size]
    loader = DataLoader(Subset(train_set, chosen.tolist()), batch_size=batch_size,
                        shuffle=True)
    model = AutoEncoder()
    optimizer = mg.optim.Adam(model.parameters(), lr=lr)
    before = evaluate(model, test_images)
    print(f"test reconstruction loss before training: {before:.4f}")
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        seen, running = 0, 0.0
        for images, _ in loader:
            loss = reconstruction_loss(model, images)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += images.shape[0]
            running += loss.item() * images.shape[0]
        test_loss = evaluate(model, test_images)
        print(f"epoch {epoch}: train loss {running / seen:.4f}  test loss {test_loss:.4f}  "
              f"({time.perf_counter() - started:.0f} s)")
    after = evaluate(model, test_images)
    save_grid(model, test_images, out)
    print(f"test reconstruction loss after training: {after:.4f}")
    print(f"wrote {out}")
    return before, after


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=positive_int, default=3, help="default 3")
    parser.add_argument("--train-size", type=positive_int, default=60_000,
                        help="training images used (default and at most 60000)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="default 64")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's step (default 2e-3)")
    parser.add_argument("--out", type=Path, default=Path("autoencoder_reconstructions.png"),
                        help="where the PNG grid goes")
    parser.add_argument("--root", default=None,
                        help="folder with the Fashion-MNIST IDX files (default: Debian's)")
    parser.add_argument("--quick", action="store_true",
                        help="1 epoch on 6000 images, 1000 test images (seconds)")
    args = parser.parse_args(argv)
    if args.train_size > 60_000:
        parser.error(f"--train-size must be at most 60000, got {args.train_size}")
    if not args.lr > 0:
        parser.error(f"--lr must be positive, got {args.lr}")
    epochs, train_size, test_size = args.epochs, args.train_size, 2000
    if args.quick:
        epochs, train_size, test_size = 1, 6000, 1000
    try:
        train(epochs, train_size, test_size, args.batch_size, args.lr, args.out, args.root)
    except FileNotFoundError as error:
        print(f"autoencoder: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
