"""The curves PNG: whole-epoch ticks, per-epoch numbers where they were measured."""

import numpy as np
import pytest

from minigrad.plots import history_figure, plot_history
from minigrad.trainer import History


def three_epochs() -> History:
    rng = np.random.default_rng(0)
    batch_loss = list(np.linspace(2.0, 0.3, 30) + rng.normal(0, 0.05, 30))
    return History(batch_loss=batch_loss,
                   train_loss=[float(np.mean(batch_loss[k * 10:(k + 1) * 10])) for k in range(3)],
                   train_accuracy=[0.5, 0.8, 0.9], test_loss=[1.2, 0.6, 0.4],
                   test_accuracy=[0.7, 0.85, 0.92], epoch_seconds=[1.0, 1.0, 1.0])


def test_epoch_ticks_are_whole_numbers_and_means_sit_mid_epoch():
    import matplotlib.pyplot as plt

    figure = history_figure(three_epochs(), "demo")
    loss_axis, accuracy_axis = figure.axes
    figure.canvas.draw()
    for axis in (loss_axis, accuracy_axis):
        ticks = [tick for tick in axis.get_xticks() if 0 <= tick <= 3]
        assert ticks and all(float(tick).is_integer() for tick in ticks), ticks
        assert axis.get_xlabel() == "epoch"
        labels = [text.get_text() for text in axis.get_xticklabels() if text.get_text()]
        assert all("." not in label for label in labels), labels
    lines = {line.get_label(): line for line in loss_axis.lines}
    assert set(lines) == {"batch loss", "train loss (epoch mean)", "test loss (end of epoch)"}
    assert list(lines["train loss (epoch mean)"].get_xdata()) == [0.5, 1.5, 2.5]
    assert list(lines["test loss (end of epoch)"].get_xdata()) == [1.0, 2.0, 3.0]
    batch_x = np.asarray(lines["batch loss"].get_xdata())
    assert batch_x[9] == pytest.approx(1.0) and batch_x[-1] == pytest.approx(3.0)
    # each epoch mean is the mean of the batch curve inside that epoch
    for epoch, mean in enumerate(lines["train loss (epoch mean)"].get_ydata()):
        inside = (batch_x > epoch) & (batch_x <= epoch + 1)
        assert mean == pytest.approx(np.mean(np.asarray(lines["batch loss"].get_ydata())[inside]))
    accuracy = {line.get_label(): list(line.get_xdata()) for line in accuracy_axis.lines}
    assert accuracy == {"train (epoch mean)": [0.5, 1.5, 2.5],
                        "test (end of epoch)": [1.0, 2.0, 3.0]}
    plt.close(figure)


def test_png_is_written(tmp_path):
    path = plot_history(three_epochs(), tmp_path / "runs" / "curves.png", title="demo")
    assert path.read_bytes().startswith(b"\x89PNG")
    from PIL import Image

    assert Image.open(path).size == (1210, 440)
    empty = plot_history(History(), tmp_path / "empty.png")                # nothing to draw
    assert empty.read_bytes().startswith(b"\x89PNG")
