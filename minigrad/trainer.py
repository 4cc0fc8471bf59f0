"""The training and evaluation loops the CLI, the demo and the examples share.

Nothing here computes a gradient by hand: the loss's `backward()` does it all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .engine import Tensor, no_grad
from .nn import Module
from .nn import functional as F

__all__ = ["History", "evaluate", "train_epoch"]


@dataclass
class History:
    """Per-epoch and per-batch numbers, enough to plot the curves and to resume."""

    batch_loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[float]]:
        return {name: list(values) for name, values in vars(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, list[float]]) -> History:
        return cls(**{name: list(values.get(name, [])) for name in vars(cls())})


def train_epoch(model: Module, loader: Any, optimizer: Any,
                loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy,
                scheduler: Any = None, description: str = "train", progress: bool = True,
                history: History | None = None) -> tuple[float, float]:
    """One pass over `loader`; returns (mean loss, accuracy). A tqdm bar shows both live.

    `scheduler.step()` runs after every batch when given (OneCycleLR-style schedules);
    per-epoch schedules are stepped by the caller.
    """
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=description, leave=False, disable=not progress, unit="batch")
    for images, labels in bar:
        optimizer.zero_grad()
        logits = model(images)
        loss = loss_fn(logits, labels)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        batch = labels.shape[0]
        loss_value = loss.item()          # .item(): keep no graph alive across steps
        total_loss += loss_value * batch
        correct += int((logits.data.argmax(axis=1) == labels.data).sum())
        seen += batch
        if history is not None:
            history.batch_loss.append(loss_value)
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
    bar.close()
    return total_loss / max(seen, 1), correct / max(seen, 1)


@no_grad()
def evaluate(model: Module, loader: Any,
             loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy) -> tuple[float, float]:
    """Mean loss and accuracy over `loader` in eval mode, recording no graph."""
    was_training = model.training
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in loader:
        logits = model(images)
        batch = labels.shape[0]
        total_loss += loss_fn(logits, labels).item() * batch
        correct += int(np.sum(logits.data.argmax(axis=1) == labels.data))
        seen += batch
    model.train(was_training)
    return total_loss / max(seen, 1), correct / max(seen, 1)
