"""Warn when a tensor keeps an autograd graph alive across optimizer steps and it keeps growing.

The classic leak is `total_loss += loss` in a training loop: `total_loss` is a tensor whose
graph holds every step's loss and, through it, every step's whole graph, so memory grows
until it runs out. PyTorch leaves this to the user; minigrad notices it cheaply:

  - every optimizer step counts `hooks.optimizer_steps`;
  - every recorded op notes in `oldest_step` the oldest step its graph reaches back to (the
    minimum over its inputs' nodes, one comparison per input), and when that is before the
    current step it leaves a weak reference to itself in `hooks.graph_across_steps`;
  - after each step the optimizer keeps (weakly) the newest such node of that step, and
    asks: did each of the last `STEPS_TO_WARN` steps make one, are they all still alive
    (each later graph holds the earlier ones: the graph grows), and does the newest reach
    `STEPS_TO_WARN` steps back? Then it warns once, naming the node's output shape and op.

A correct loop (`total_loss += loss.item()`) never records an op whose graph reaches into an
earlier step, so it never warns. A graph carried over a single step (a GAN's generator
output used by the next optimizer) does not reach far enough back; a fixed old graph that
each step's loss uses (with retain_graph=True) is not growing: each step's node dies when the
next loss replaces it.
"""

from __future__ import annotations

import warnings
from collections import deque
from typing import Any

from ..engine import hooks

__all__ = ["STEPS_TO_WARN", "GraphLeakWarning", "LeakWatch"]

STEPS_TO_WARN = 5


class GraphLeakWarning(UserWarning):
    """A tensor holds an autograd graph that spans optimizer steps and grows every step."""


class LeakWatch:
    """One optimizer's view of the graph across its steps (see the module docstring)."""

    def __init__(self) -> None:
        # per step: a weak reference to the newest node that step made reaching further
        # back, or None when it made none
        self.newest: deque[Any] = deque(maxlen=STEPS_TO_WARN)
        self.seen = hooks.graphs_across_steps
        self.warned = False

    def after_step(self, stacklevel: int) -> None:
        """Count this step and warn if a graph has grown across the last steps."""
        hooks.optimizer_steps += 1
        made = hooks.graphs_across_steps
        self.newest.append(hooks.graph_across_steps if made > self.seen else None)
        self.seen = made
        if (self.warned or len(self.newest) < STEPS_TO_WARN
                or any(reference is None for reference in self.newest)):
            return
        nodes = [reference() for reference in self.newest]
        if any(node is None for node in nodes):
            return  # an earlier step's node died: nothing holds the old graphs together
        node = nodes[-1]
        span = hooks.optimizer_steps - node.oldest_step
        if span < STEPS_TO_WARN:
            return
        self.warned = True
        warnings.warn(_message(node, span), GraphLeakWarning, stacklevel=stacklevel + 1)


def _message(node: Any, span: int) -> str:
    shape = tuple(node.output_shape)
    return (f"a tensor of shape {shape} with grad_fn=<{node.name}Backward> still holds the "
            f"autograd graph of the last {span} optimizer steps, and the graph grows every step, "
            f"so memory will too. This is usually `total_loss += loss` (or a running average of "
            f"losses, or a hidden state carried over) in the training loop: accumulate a "
            f"number with `total_loss += loss.item()`, or cut the graph with `.detach()`.")
