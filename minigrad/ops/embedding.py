"""F.embedding: rows of a weight matrix looked up by integer indices (PyTorch's semantics).

A composite of indexing (whose gradient scatters back into the looked-up rows) and a
constant mask for padding_idx, so both gradient orders come from those ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor, dtypes

__all__ = ["embedding"]


def _checked_indices(input: Any, weight: Tensor) -> np.ndarray:
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding: argument 'indices' must be Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding: argument 'weight' must be Tensor, not "
                        f"{type(weight).__name__}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {weight.shape}")
    indices = input.data
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have "
                           f"one of the following scalar types: Long, Int; but got "
                           f"{indices.dtype} instead (shape {input.shape})")
    rows = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError(f"embedding: index out of range in self (indices span "
                         f"[{indices.min()}, {indices.max()}], num_embeddings={rows})")
    return indices


def _renormalize(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows with norm > max_norm down to max_norm, in place."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight.data[rows].astype(np.float64), ord=norm_type, axis=1)
    too_long = norms > max_norm
    if not too_long.any():
        return
    scale = max_norm / (norms[too_long] + 1e-7)
    weight.data[rows[too_long]] *= scale[:, None].astype(weight.dtype)
    weight._version[0] += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """out[...] = weight[input[...]], PyTorch's F.embedding.

    Rows looked up at padding_idx keep their value but pass no gradient to weight; max_norm
    renormalises, in place, the looked-up rows whose norm_type norm exceeds it.
    Shape: (*) integer indices, weight (num_embeddings, embedding_dim) -> (*, embedding_dim).
    """
    indices = _checked_indices(input, weight)
    if scale_grad_by_freq:
        raise NotImplementedError("embedding: scale_grad_by_freq=True is not implemented in "
                                  "minigrad")
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not "
                                  "implemented in minigrad")
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= rows
    if max_norm is not None:
        _renormalize(weight, indices, max_norm, norm_type)
    output = weight[input]
    if padding_idx is None or not dtypes.is_floating(weight.dtype):
        return output
    is_padding = (indices == padding_idx)[..., None]
    if not is_padding.any():
        return output
    keep = Tensor._from_op((~is_padding).astype(weight.dtype))
    constant = Tensor._from_op(
        np.where(is_padding, weight.data[padding_idx], 0).astype(weight.dtype))
    return output * keep + constant


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"embedding": embedding}
TOPLEVEL: dict = {}
