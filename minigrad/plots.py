"""Loss and accuracy curves of a training run as a PNG (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_history"]


def plot_history(history: Any, path: str | Path, title: str = "training") -> Path:
    """Two panels: the loss per batch and per epoch, and train/test accuracy per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 4))
    batches = len(history.batch_loss)
    epochs = len(history.train_loss)
    if batches:
        loss_axis.plot(range(1, batches + 1), history.batch_loss, lw=0.6, alpha=0.5,
                       label="batch loss")
    if epochs:
        per_epoch = max(batches // epochs, 1)
        ticks = [per_epoch * (index + 1) for index in range(epochs)]
        loss_axis.plot(ticks, history.train_loss, "o-", label="train loss (epoch)")
        loss_axis.plot(ticks, history.test_loss, "s-", label="test loss (epoch)")
        accuracy_axis.plot(range(1, epochs + 1), history.train_accuracy, "o-", label="train")
        accuracy_axis.plot(range(1, epochs + 1), history.test_accuracy, "s-", label="test")
    loss_axis.set(xlabel="batch", ylabel="cross-entropy", title=f"{title}: loss")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", title=f"{title}: accuracy")
    for axis in (loss_axis, accuracy_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
