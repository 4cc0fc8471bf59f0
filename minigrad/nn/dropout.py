"""Dropout and Dropout2d: random zeroing in training mode, identity in eval mode.

The masks come from minigrad's global generator, so `mg.manual_seed` repeats them.
`inplace=True` is accepted for PyTorch compatibility; the result is a new tensor.
"""

from __future__ import annotations

from ..engine import Tensor
from . import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability p and scale the rest by 1 / (1 - p);
    in eval mode, return the input unchanged. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Like Dropout, but zeroes whole channels (one draw per sample and channel).

    Shape: (N, C, H, W) -> same.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)
