"""Loss and accuracy curves of a training run as a PNG (matplotlib, no display needed).

Both panels share one x axis in epochs, with whole-number ticks. A per-epoch number is drawn
where it was measured: the training loss and accuracy are means over the epoch's batches, so
they sit at the middle of their epoch (x = k - 0.5 for epoch k); the test numbers are
measured after the epoch, so they sit at its end (x = k). The per-batch loss runs underneath,
batch i of n per epoch at x = (i + 1) / n.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["history_figure", "plot_history"]


def history_figure(history: Any, title: str = "training") -> Any:
    """The matplotlib Figure of `history`: loss (per batch and per epoch) and accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 4))
    batches = len(history.batch_loss)
    epochs = len(history.train_loss)
    middles = [epoch + 0.5 for epoch in range(epochs)]
    ends = [epoch + 1.0 for epoch in range(epochs)]
    if batches:
        per_epoch = batches / epochs if epochs else float(batches)
        positions = [(index + 1) / per_epoch for index in range(batches)]
        loss_axis.plot(positions, history.batch_loss, lw=0.6, alpha=0.5, label="batch loss")
    if epochs:
        loss_axis.plot(middles, history.train_loss, "o-", label="train loss (epoch mean)")
        accuracy_axis.plot(middles, history.train_accuracy, "o-", label="train (epoch mean)")
    if history.test_loss:
        loss_axis.plot(ends[:len(history.test_loss)], history.test_loss, "s-",
                       label="test loss (end of epoch)")
    if history.test_accuracy:
        accuracy_axis.plot(ends[:len(history.test_accuracy)], history.test_accuracy, "s-",
                           label="test (end of epoch)")
    loss_axis.set(xlabel="epoch", ylabel="cross-entropy", title=f"{title}: loss")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", title=f"{title}: accuracy")
    for axis in (loss_axis, accuracy_axis):
        axis.set_xlim(0, max(epochs, 1) + 0.15)  # room for the last end-of-epoch marker
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend()
    figure.tight_layout()
    return figure


def plot_history(history: Any, path: str | Path, title: str = "training") -> Path:
    """Save `history_figure(history, title)` as a PNG at `path` (folders made as needed)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = history_figure(history, title)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
