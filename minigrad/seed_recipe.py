"""The seed notebook's training recipe, reusable: its data, splits, init and training loop.

The seed trained on the first 2,000 MNIST images (`fetch_openml("mnist_784")`), split them
80/20 into train and test and the train part 80/20 again into train and validation, both with
`train_test_split(random_state=42)`, and trained with batch 16 for 2 epochs: 1,280 training,
320 validation and 400 test images. Its weights were N(0, 0.01^2), its biases 0 and its
optimizer plain SGD with lr 0.01.

    data = load_seed_data()          # MNIST if cached, else Fashion-MNIST, else digits
    history = fit(model, data, optim.SGD(model.parameters(), lr=SEED_LR))

Nothing here downloads: MNIST is used only when `fetch_openml`'s cache (or minigrad's MNIST
cache) already holds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .data import DataLoader, TensorDataset
from .nn import Module, init
from .trainer import History, evaluate, train_epoch

__all__ = ["SEED_BATCH_SIZE", "SEED_EPOCHS", "SEED_LR", "SEED_SAMPLES", "SEED_STD",
           "SeedData", "SeedHistory", "fit", "load_images", "load_seed_data",
           "openml_mnist_cached", "plot_histories", "seed_init_", "seed_splits"]

SEED_SAMPLES = 2000   # num_samples = 2000
SEED_BATCH_SIZE = 16  # batch_size=16
SEED_EPOCHS = 2       # epochs=2
SEED_LR = 0.01        # learning_rate = 0.01, plain SGD
SEED_STD = 0.01       # np.random.randn(...) * 0.01
RANDOM_STATE = 42     # train_test_split(..., random_state=42)
SOURCES = ("mnist", "fashion-mnist", "digits")

# where fetch_openml keeps its answer to "which data set is mnist_784 version 1"
_OPENML_MNIST_QUERY = "api/v1/json/data/list/data_name/mnist_784/limit/2/data_version/1.gz"


def openml_mnist_cached(data_home: str | Path | None = None) -> bool:
    """True if scikit-learn's `fetch_openml("mnist_784", version=1)` can answer from its cache
    (so calling it will not go to the network)."""
    from sklearn.datasets import get_data_home

    root = Path(get_data_home(data_home)) / "openml" / "openml.org"
    return (root / _OPENML_MNIST_QUERY).exists() and (root / "data").is_dir()


def load_images(num_samples: int = SEED_SAMPLES,
                sources: tuple[str, ...] = SOURCES) -> tuple[str, str, np.ndarray, np.ndarray]:
    """The first `num_samples` images of the first available source, as the seed took them.

    Returns (name, where it came from, images (N, 1, H, W) float32 in [0, 1], labels (N,)
    int64). Sources, in order: "mnist" (fetch_openml's cache, as the seed loaded it, or
    minigrad's MNIST IDX cache), "fashion-mnist" (Debian's IDX files), "digits" (ships with
    scikit-learn: 1,797 8x8 images, so fewer than 2,000).
    """
    reasons = []
    for source in sources:
        try:
            return _LOADERS[source](num_samples)
        except (FileNotFoundError, OSError) as error:
            reasons.append(f"{source}: {error}")
    raise FileNotFoundError("load_images: no data set available:\n" + "\n".join(reasons))


def _load_mnist(num_samples: int) -> tuple[str, str, np.ndarray, np.ndarray]:
    if openml_mnist_cached():
        from sklearn.datasets import fetch_openml

        try:
            import pandas  # noqa: F401 - the faster parser, if installed
            parser = "pandas"
        except ImportError:
            parser = "liac-arff"
        mnist = fetch_openml("mnist_784", version=1, cache=True, as_frame=False, parser=parser)
        images = mnist.data[:num_samples].astype(np.float32).reshape(-1, 1, 28, 28) / 255
        labels = mnist.target[:num_samples].astype(np.int64)
        return "MNIST", "fetch_openml('mnist_784') cache", images, labels
    from .data import MNIST

    dataset = MNIST(train=True, download=False)  # FileNotFoundError when not cached
    return ("MNIST", f"minigrad's MNIST cache ({dataset.root})",
            dataset.data.data[:num_samples].copy(), dataset.targets.data[:num_samples].copy())


def _load_fashion_mnist(num_samples: int) -> tuple[str, str, np.ndarray, np.ndarray]:
    from .data import FashionMNIST

    dataset = FashionMNIST(train=True)
    return ("Fashion-MNIST", f"IDX files in {dataset.root}",
            dataset.data.data[:num_samples].copy(), dataset.targets.data[:num_samples].copy())


def _load_digits(num_samples: int) -> tuple[str, str, np.ndarray, np.ndarray]:
    from .data import load_digits

    images, labels = load_digits().tensors
    return ("digits", "scikit-learn's load_digits (8x8)", images.data[:num_samples].copy(),
            labels.data[:num_samples].copy())


_LOADERS = {"mnist": _load_mnist, "fashion-mnist": _load_fashion_mnist,
            "digits": _load_digits}


def seed_splits(images: np.ndarray, labels: np.ndarray, random_state: int = RANDOM_STATE
                ) -> tuple[np.ndarray, ...]:
    """The seed's two splits: 80/20 train/test, then the train part 80/20 train/validation.

    Returns x_train, x_val, x_test, y_train, y_val, y_test.
    """
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, random_state=random_state)
    x_train, x_val, y_train, y_val = train_test_split(
        x_train, y_train, test_size=0.2, random_state=random_state)
    return x_train, x_val, x_test, y_train, y_val, y_test


@dataclass
class SeedData:
    """The three splits of one data set, as NumPy arrays (images (N, 1, H, W) float32)."""

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def image_size(self) -> int:
        return int(self.x_train.shape[-1])

    def loader(self, split: str, batch_size: int = SEED_BATCH_SIZE, shuffle: bool = False,
               seed: int | None = None) -> DataLoader:
        """A DataLoader over "train", "val" or "test"."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"SeedData.loader: split must be 'train', 'val' or 'test', "
                             f"got {split!r}")
        dataset = TensorDataset(getattr(self, f"x_{split}"), getattr(self, f"y_{split}"))
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def __str__(self) -> str:
        return (f"{self.name} from {self.source}: {len(self.x_train)} train, "
                f"{len(self.x_val)} validation, {len(self.x_test)} test images of "
                f"{self.image_size}x{self.image_size}")


def load_seed_data(num_samples: int = SEED_SAMPLES, random_state: int = RANDOM_STATE,
                   sources: tuple[str, ...] = SOURCES) -> SeedData:
    """The first available data set's first `num_samples` images, split as the seed did."""
    name, source, images, labels = load_images(num_samples, sources)
    x_train, x_val, x_test, y_train, y_val, y_test = seed_splits(images, labels, random_state)
    return SeedData(name, source, x_train, y_train, x_val, y_val, x_test, y_test)


def seed_init_(model: Module, std: float = SEED_STD) -> Module:
    """The seed's init: every weight ~ N(0, std^2), every bias 0."""
    for name, parameter in model.named_parameters():
        if name.endswith("bias"):
            init.zeros_(parameter)
        else:
            init.normal_(parameter, mean=0.0, std=std)
    return model


@dataclass
class SeedHistory:
    """The seed's history dict (per epoch) plus the loss of every batch."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    test_loss: float = math.nan
    test_acc: float = math.nan


def fit(model: Module, data: SeedData, optimizer: Any, epochs: int = SEED_EPOCHS,
        batch_size: int = SEED_BATCH_SIZE, seed: int = 0, progress: bool = True,
        name: str = "train") -> SeedHistory:
    """Train as the seed did: shuffled batches, then per epoch the mean training loss, the
    accuracy on the whole training set and the validation loss and accuracy, printed as the
    seed printed them; the test loss and accuracy at the end."""

    history = SeedHistory()
    batches = History()
    train_loader = data.loader("train", batch_size, shuffle=True, seed=seed)
    for epoch in range(epochs):
        train_loss, _ = train_epoch(model, train_loader, optimizer, progress=progress,
                                    description=f"{name} epoch {epoch + 1}/{epochs}",
                                    history=batches)
        _, train_acc = evaluate(model, data.loader("train", 256))
        val_loss, val_acc = evaluate(model, data.loader("val", 256))
        history.train_loss.append(train_loss)
        history.train_acc.append(train_acc)
        history.val_loss.append(val_loss)
        history.val_acc.append(val_acc)
        print(f"{name}: Epoch {epoch + 1}/{epochs}, Train Loss: {train_loss:.4f}, "
              f"Val Loss: {val_loss:.4f}, Train Acc: {train_acc:.4f}, Val Acc: {val_acc:.4f}")
    history.batch_loss = batches.batch_loss
    history.test_loss, history.test_acc = evaluate(model, data.loader("test", 256))
    print(f"{name}: Test accuracy: {history.test_acc:.4f}")
    return history


def plot_histories(histories: dict[str, SeedHistory], title: str = "") -> Any:
    """Loss per batch (left) and validation accuracy per epoch (right), one line per run.

    Returns the matplotlib Figure (shown inline in a notebook); the backend is left alone.
    """
    import matplotlib.pyplot as plt

    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 3.8))
    for label, history in histories.items():
        loss_axis.plot(range(1, len(history.batch_loss) + 1), history.batch_loss, lw=0.8,
                       label=label)
        epochs = range(1, len(history.val_acc) + 1)
        accuracy_axis.plot(epochs, history.val_acc, "o-", label=f"{label} (validation)")
    loss_axis.axhline(math.log(10), color="grey", ls="--", lw=0.8, label="ln 10 (uniform guess)")
    accuracy_axis.axhline(0.1, color="grey", ls=":", lw=0.8, label="chance (0.10)")
    loss_axis.set(xlabel="batch", ylabel="cross-entropy", title=f"{title} loss per batch")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1),
                      title=f"{title} validation accuracy")
    accuracy_axis.set_xticks(list(range(1, max(len(h.val_acc) for h in histories.values()) + 1)))
    for axis in (loss_axis, accuracy_axis):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure
