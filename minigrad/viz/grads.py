"""`record_grads()`: remember the norm of every activation's gradient during one backward.

The engine keeps no gradient of a non-leaf tensor. While the context is open, this module's
observer sits in `minigrad.engine.hooks.backward_observers` and the engine hands it each op's
output gradient once it is complete; only its norm is kept (a float per op, weakly keyed by
the op), never the array. Outside the context the observer list is empty again, so backward
costs nothing extra.

    with minigrad.viz.record_grads() as grads:
        loss.backward()
    draw_graph(loss, model, show_grads=True, grads=grads)
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..engine import Function, hooks
from .style import grad_norm

__all__ = ["GradNorms", "record_grads"]


class GradNorms:
    """The gradient norm of each op's output seen during backward, keyed by the op.

    Keys are weak: a graph that is dropped takes its entries with it. If backward runs through
    the same graph twice (retain_graph=True), the latest norm wins.
    """

    def __init__(self) -> None:
        self._norms: weakref.WeakKeyDictionary[Function, float] = weakref.WeakKeyDictionary()

    def __call__(self, function: Function, grad: np.ndarray) -> None:
        """The engine's observer callback: store the norm of `function`'s output gradient."""
        self._norms[function] = grad_norm(grad)

    def get(self, function: Any) -> float | None:
        """The recorded norm for `function`, or None if backward never reached it."""
        try:
            return self._norms.get(function)
        except TypeError:  # not weak-referenceable, so never recorded
            return None

    def __contains__(self, function: Any) -> bool:
        return self.get(function) is not None

    def __len__(self) -> int:
        return len(self._norms)

    def __repr__(self) -> str:
        return f"GradNorms({len(self)} ops)"


@contextmanager
def record_grads() -> Iterator[GradNorms]:
    """Record activation-gradient norms for every backward run inside the block."""
    norms = GradNorms()
    hooks.backward_observers.append(norms)
    try:
        yield norms
    finally:
        hooks.backward_observers.remove(norms)
