"""F.scaled_dot_product_attention: softmax(q k^T * scale + mask) v, PyTorch's semantics.

A composite of matmul, softmax and masking ops, so both gradient orders come from those ops.
Masks are constants: a boolean mask (True = may attend) becomes an additive 0 / -inf array.
A query row that may attend to nothing gets zero weights (as PyTorch's kernels), not NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Tensor, dtypes
from .activation import dropout, softmax
from .matmul import matmul

__all__ = ["attention_weights", "scaled_dot_product_attention"]


def _constant(array: np.ndarray) -> Tensor:
    return Tensor._from_op(array)


def additive_mask(mask: Any, dtype: Any, where: str, allowed_when: bool = True) -> Any:
    """A mask as something to add to the scores: a bool mask (True = `allowed_when`) becomes
    a constant 0 / -inf tensor of `dtype`; a float mask is returned as it is."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{where}: mask must be a Tensor, got {type(mask).__name__}")
    if mask.dtype == dtypes.bool_:
        allowed = mask.data if allowed_when else ~mask.data
        return _constant(np.where(allowed, 0, -np.inf).astype(dtype))
    if not dtypes.is_floating(mask.dtype):
        raise RuntimeError(f"{where}: only bool and floating types of masks are supported, "
                           f"got {mask.dtype}")
    if mask.dtype != dtype:
        raise RuntimeError(f"{where}: Expected attn_mask dtype to be bool or float or to match "
                           f"query dtype ({dtype}), got {mask.dtype}")
    return mask


def attention_weights(scores: Tensor, mask: Any) -> Tensor:
    """softmax(scores + mask) over the last dim; rows that allow nothing get zeros."""
    if mask is not None:
        scores = scores + mask
    dead = np.isneginf(scores.data).all(axis=-1, keepdims=True)  # rows with nothing allowed
    if not dead.any():
        return softmax(scores, dim=-1)
    dead_rows = _constant(dead)
    weights = softmax(scores.masked_fill(dead_rows, 0.0), dim=-1)
    return weights.masked_fill(dead_rows, 0.0)


def _check(query: Any, key: Any, value: Any, enable_gqa: bool) -> None:
    where = "scaled_dot_product_attention"
    for name, item in (("query", query), ("key", key), ("value", value)):
        if not isinstance(item, Tensor):
            raise TypeError(f"{where}(): argument '{name}' must be Tensor, not "
                            f"{type(item).__name__}")
        if item.ndim < 2:
            raise RuntimeError(f"{where}: {name} must be at least 2-D, got shape {item.shape}")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"{where}: Expected query, key, and value to have the same dtype, "
                           f"but got query.dtype: {query.dtype} key.dtype: {key.dtype} and "
                           f"value.dtype: {value.dtype} instead.")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{where}: query (..., L, E) and key (..., S, E) must share E and "
                           f"key and value must share S (query {query.shape}, key {key.shape}, "
                           f"value {value.shape})")
    if enable_gqa and query.ndim >= 3 and query.shape[-3] % key.shape[-3] != 0:
        raise RuntimeError(f"{where}: number of heads in key/value ({key.shape[-3]}) must "
                           f"divide the number of heads in query ({query.shape[-3]})")


def _repeat_heads(x: Tensor, groups: int) -> Tensor:
    """(..., Hk, S, E) -> (..., Hk * groups, S, E), each head repeated `groups` times in a
    row (repeat_interleave on dim -3)."""
    shape = x.shape
    widened = x.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return widened.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value, PyTorch's F.scaled_dot_product_attention.

    attn_mask: bool (True = may attend) or float (added to the scores), broadcastable to
    (..., L, S). is_causal: query i attends to keys j <= i (no attn_mask then). scale defaults
    to 1 / sqrt(E). dropout_p drops attention weights (always, as PyTorch's function does).
    enable_gqa: key and value may have fewer heads (dim -3) than query, each shared by a group.
    Shape: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).
    """
    _check(query, key, value, enable_gqa)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        mask = additive_mask(_constant(np.tril(np.ones((length, source), dtype=bool))),
                             query.dtype, "scaled_dot_product_attention")
    else:
        mask = additive_mask(attn_mask, query.dtype, "scaled_dot_product_attention")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key, value = _repeat_heads(key, groups), _repeat_heads(value, groups)
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query * factor, key.transpose(-2, -1))  # (..., L, S)
    weights = attention_weights(scores, mask)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"scaled_dot_product_attention": scaled_dot_product_attention}
TOPLEVEL: dict = {}
