"""`unbroadcast`: the gradient rule shared by every op that broadcasts."""

from __future__ import annotations

import numpy as np

__all__ = ["broadcast_shapes", "unbroadcast"]


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient back down to `shape`, undoing NumPy broadcasting.

    Broadcasting repeats an input along new leading axes and along its size-1 axes,
    so the input's gradient is the sum over those repeats.
    """
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    summed = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if summed:
        grad = grad.sum(axis=summed, keepdims=True)
    return grad.reshape(shape)


def broadcast_shapes(where: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast shape, or PyTorch's RuntimeError naming `where` and the shapes."""
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return tuple(shapes[0])
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(tuple(shape)) for shape in shapes)
        raise RuntimeError(f"{where}: shapes {listed} cannot be broadcast together "
                           f"(sizes must match or be 1 in each trailing dimension)") from None
