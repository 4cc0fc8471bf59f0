"""Embedding lookups: F.embedding (padding_idx, max_norm, scale_grad_by_freq) and
F.embedding_bag (sum / mean / max over bags given by offsets or rows, per_sample_weights,
padding_idx).

`EmbeddingLookup` is the one fused op: rows of the weight picked by constant indices; its
gradient scatters the output gradient back into the weight's rows (skipping padding_idx,
optionally divided by each index's count), and the scatter's own gradient is the gather, so
the op is twice differentiable. embedding_bag is built on it with a (bags, longest bag)
table of positions: every bag reduced at once, no loop over bags.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._shared import check_tensor as _check_tensor
from .reduce import amax as _amax
from .reduce import sum as _sum

__all__ = ["embedding", "embedding_bag"]


class EmbeddingLookup(Function):
    """weight[indices]: (num_embeddings, D) and int indices (*) -> (*, D).

    Rows whose index is `padding_idx` pass no gradient; `frequency` (a constant, or None)
    divides each looked-up row's gradient by how often its index occurs.
    """

    def forward(self, weight: np.ndarray, indices: np.ndarray, padding_idx: int | None,
                scale_grad_by_freq: bool) -> np.ndarray:
        self.weight_shape = weight.shape
        self.key = (indices,)
        self.row_scale = None
        if padding_idx is not None or scale_grad_by_freq:
            scale = np.ones(indices.shape, dtype=weight.dtype)
            if scale_grad_by_freq:
                counts = np.bincount(indices.reshape(-1), minlength=weight.shape[0])
                scale = (scale / counts[indices]).astype(weight.dtype)
            if padding_idx is not None:
                scale = np.where(indices == padding_idx, 0, scale).astype(weight.dtype)
            self.row_scale = scale[..., None]  # (*, 1), a constant of both passes
        return weight[indices]

    def backward(self, xp: Any, grad: Any) -> Any:
        if self.row_scale is not None:
            grad = grad * self.row_scale
        return xp.index_scatter(grad, self.weight_shape, None, self.key, True)


def _check_indices(where: str, input: Any, rows: int) -> np.ndarray:
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}(): argument 'indices' must be Tensor, not "
                        f"{type(input).__name__}")
    indices = input.data
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"{where}: Expected tensor for argument #1 'indices' to have one of "
                           f"the following scalar types: Long, Int; but got {indices.dtype} "
                           f"instead (shape {input.shape})")
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError(f"{where}: index out of range in self (indices span "
                         f"[{indices.min()}, {indices.max()}], num_embeddings={rows})")
    return indices.astype(np.int64, copy=False)


def _padding_index(where: str, padding_idx: int | None, rows: int) -> int | None:
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ValueError(f"{where}: Padding_idx must be within num_embeddings (got "
                         f"padding_idx={padding_idx}, num_embeddings={rows})")
    return padding_idx % rows


def _renormalize(weight: Tensor, indices: np.ndarray, max_norm: float,
                 norm_type: float) -> None:
    """Scale the looked-up rows whose norm exceeds max_norm down to it, in place (PyTorch's
    embedding_renorm_, which is not recorded for autograd)."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight.data[rows].astype(np.float64), ord=norm_type, axis=1)
    too_long = norms > max_norm
    if not too_long.any():
        return
    scale = (max_norm / (norms[too_long] + 1e-7)).astype(weight.dtype)
    weight.data[rows[too_long]] *= scale[:, None]
    weight._version[0] += 1


def _check_weight(where: str, weight: Any) -> None:
    _check_tensor(where, "weight", weight)
    if weight.ndim != 2:
        raise RuntimeError(f"{where}: 'weight' must be 2-D, got {weight.shape}")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` at the indices in `input`.

    padding_idx: its row gets no gradient. max_norm: looked-up rows longer than it (in
    norm_type norm) are scaled down in place first, as PyTorch. scale_grad_by_freq: each
    row's gradient is divided by its index's count in `input`.
    Shape: (*) int -> (*, embedding_dim).
    """
    _check_weight("embedding", weight)
    indices = _check_indices("embedding", input, weight.shape[0])
    padding_idx = _padding_index("embedding", padding_idx, weight.shape[0])
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not "
                                  "implemented in minigrad")
    if max_norm is not None:
        _renormalize(weight, indices, float(max_norm), float(norm_type))
    if padding_idx is None and not scale_grad_by_freq:
        # the plain lookup is the indexing op itself (same values and gradients), which
        # tools that read recorded graphs know (ONNX export maps it to Gather)
        return weight[Tensor._from_op(indices)]
    return EmbeddingLookup.apply(weight, padding_idx=padding_idx,
                                 scale_grad_by_freq=bool(scale_grad_by_freq),
                                 indices=indices)


_BAG_MODES = ("sum", "mean", "max")


def _bag_table(where: str, indices: np.ndarray, offsets: Tensor | None,
               include_last_offset: bool) -> tuple[np.ndarray, np.ndarray]:
    """(positions (B, L), inside (B, L)): where each bag's entries sit in the flat input."""
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{where}: if input is 2D, then offsets has to be None, as input "
                             f"is treated is a mini-batch of fixed length sequences. However, "
                             f"found offsets of type {type(offsets).__name__}")
        bags, length = indices.shape
        positions = np.arange(bags * length).reshape(bags, length)
        return positions, np.ones((bags, length), dtype=bool)
    if indices.ndim != 1:
        raise ValueError(f"{where}: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {indices.ndim}")
    if offsets is None:
        raise ValueError(f"{where}: offsets has to be a 1D Tensor but got None")
    _check_tensor(where, "offsets", offsets)
    if offsets.ndim != 1:
        raise ValueError(f"{where}: offsets has to be a 1D Tensor, got {offsets.shape}")
    starts = offsets.data.astype(np.int64)
    if starts.size and starts[0] != 0:
        raise RuntimeError(f"{where}: offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got "
                           f"{int(starts[0])}")
    if starts.size and (np.diff(starts) < 0).any() or (starts > indices.shape[0]).any():
        raise RuntimeError(f"{where}: offsets must be non-decreasing and at most the input "
                           f"length {indices.shape[0]}, got {starts.tolist()}")
    if include_last_offset:
        ends = starts[1:]
        starts = starts[:-1]
    else:
        ends = np.append(starts[1:], indices.shape[0])
    lengths = ends - starts
    longest = max(int(lengths.max()) if lengths.size else 0, 1)  # >= 1: amax needs a column
    step = np.arange(longest)
    inside = step[None] < lengths[:, None]
    positions = np.where(inside, starts[:, None] + step[None], 0)
    return positions, inside


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of the embeddings in each bag, without building the (*, D) lookups
    one bag at a time.

    Bags: the rows of a 2-D input, or for a 1-D input the slices starting at `offsets`
    (with include_last_offset, offsets has B + 1 entries, the last being len(input)).
    Entries equal to padding_idx are left out (mean divides by the rest); an empty bag gives
    zeros. per_sample_weights (input's shape, mode='sum' only) scales each entry.
    Shape: (B, L) or (M,) with offsets (B,) -> (B, embedding_dim).
    """
    where = "embedding_bag"
    _check_weight(where, weight)
    indices = _check_indices(where, input, weight.shape[0])
    padding_idx = _padding_index(where, padding_idx, weight.shape[0])
    if mode not in _BAG_MODES:
        raise ValueError(f"{where}: mode has to be one of sum, mean or max, got {mode!r}")
    if sparse:
        raise NotImplementedError(f"{where}: sparse=True (sparse gradients) is not implemented "
                                  f"in minigrad")
    if per_sample_weights is not None:
        _check_tensor(where, "per_sample_weights", per_sample_weights)
        if mode != "sum":
            raise NotImplementedError(f"{where}: per_sample_weights was not None. "
                                      f"per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{mode}'). Please open a feature request on "
                                      f"GitHub.")
        if per_sample_weights.shape != input.shape:
            raise ValueError(f"{where}: per_sample_weights {per_sample_weights.shape} must have "
                             f"the input's shape {input.shape}")
    positions, inside = _bag_table(where, indices, offsets, include_last_offset)
    flat = indices.reshape(-1)
    table = flat[positions] if flat.size else np.zeros(positions.shape, dtype=np.int64)
    if padding_idx is not None:
        inside = inside & (table != padding_idx)
    if max_norm is not None:
        _renormalize(weight, flat, float(max_norm), float(norm_type))
    # (B, L, D) lookups; entries outside a bag point at row 0 and are masked below
    looked_up = EmbeddingLookup.apply(weight, padding_idx=None,
                                      scale_grad_by_freq=bool(scale_grad_by_freq),
                                      indices=np.where(inside, table, 0))
    mask = Tensor._from_op(inside[..., None].astype(weight.dtype))
    counts = inside.sum(axis=1, keepdims=True)  # (B, 1)
    if mode == "max":
        # -inf outside each bag; an empty bag keeps 0s (its row is zeroed below)
        outside = ~inside & (counts > 0)
        lowest = Tensor._from_op(np.where(outside[..., None], -np.inf, 0).astype(weight.dtype))
        peak = _amax(looked_up + lowest, dim=1)
        return peak * Tensor._from_op((counts > 0).astype(weight.dtype))
    if per_sample_weights is not None and per_sample_weights.numel():
        sample = per_sample_weights.reshape(-1)[Tensor._from_op(positions)]
        mask = mask * sample.reshape(positions.shape + (1,))
    total = _sum(looked_up * mask, dim=1)
    if mode == "mean":
        total = total / Tensor._from_op(np.maximum(counts, 1).astype(weight.dtype))
    return total


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"embedding": embedding, "embedding_bag": embedding_bag}
TOPLEVEL: dict = {"embedding": embedding, "embedding_bag": embedding_bag}
NUMPY_XP: dict = {}
GRAPH_XP: dict = {}

