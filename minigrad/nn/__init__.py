"""Neural-network building blocks, PyTorch-style."""

from . import functional

__all__ = ["functional"]
