"""MultiheadAttention with PyTorch's arguments, parameters, keys, init and mask conventions."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import creation
from ..engine import Tensor
from ..ops.attention import additive_mask, attention_weights
from ..ops.movement import cat
from . import functional as F
from . import init
from ._utils import check_device
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's name for MultiheadAttention.out_proj: an ordinary Linear."""


class MultiheadAttention(Module):
    """Attention over num_heads heads of size embed_dim // num_heads, PyTorch's layer.

    Parameters: in_proj_weight (3E, E) when query, key and value share embed_dim, else
    q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim); in_proj_bias (3E),
    out_proj (Linear E -> E), and bias_k, bias_v (1, 1, E) with add_bias_kv. Projection
    weights start xavier-uniform, biases zero (out_proj.weight keeps Linear's init).
    Masks follow PyTorch's module: a bool attn_mask or key_padding_mask is True where attention
    is NOT allowed; a float mask is added to the scores.
    Shape: query (L, N, E) (or (N, L, E) with batch_first, or (L, E)), key (S, N, kdim), value
    (S, N, vdim) -> output like query, weights (N, L, S) (per head (N, num_heads, L, S) with
    average_attn_weights=False) or None when need_weights=False.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        check_device(device, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads != 0:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim,
                                                           dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(creation.empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _check(self, query: Any, key: Any, value: Any) -> bool:
        """Check the inputs' types and shapes; returns True when batched (3-D)."""
        for name, item in (("query", query), ("key", key), ("value", value)):
            if not isinstance(item, Tensor):
                raise TypeError(f"MultiheadAttention: {name} must be a Tensor, got "
                                f"{type(item).__name__}")
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but "
                                 f"received {query.ndim}-D query, {key.ndim}-D key and "
                                 f"{value.ndim}-D value tensors")
        for name, item, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                                 ("value", value, self.vdim)):
            if item.shape[-1] != size:
                raise AssertionError(f"was expecting {name} embedding dimension of {size}, "
                                     f"but got {item.shape[-1]} ({name} shape {item.shape})")
        if key.shape[:-1] != value.shape[:-1]:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        return query.ndim == 3

    def _projections(self, query: Tensor, key: Tensor,
                     value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """q, k, v = the three input projections (one GEMM when query is key is value)."""
        biases: tuple = (None, None, None)
        if self.in_proj_bias is not None:
            biases = self.in_proj_bias.chunk(3)
        if self._qkv_same_embed_dim:
            if query is key and key is value:
                return F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, -1)
            weights = self.in_proj_weight.chunk(3)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(F.linear(item, weight, bias)  # type: ignore[return-value]
                     for item, weight, bias in zip((query, key, value), weights, biases,
                                                   strict=True))

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        batched = self._check(query, key, value)
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask` "
                               "to create this mask.")
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            same_key = key is query
            same_value = value is key
            query = query.transpose(0, 1)
            key = query if same_key else key.transpose(0, 1)
            value = key if same_value else value.transpose(0, 1)
        length, batch, _ = query.shape
        mask = self._merged_mask(attn_mask, key_padding_mask, length, key.shape[0], batch,
                                 query.dtype)
        q, k, v = self._projections(query, key, value)  # (L, N, E), (S, N, E), (S, N, E)
        k, v, mask = self._extra_keys(k, v, mask, batch)
        heads = self.num_heads
        q = q.reshape(length, batch, heads, self.head_dim).permute(1, 2, 0, 3)  # (N, H, L, d)
        k = k.reshape(k.shape[0], batch, heads, self.head_dim).permute(1, 2, 3, 0)  # (N,H,d,S)
        v = v.reshape(v.shape[0], batch, heads, self.head_dim).permute(1, 2, 0, 3)  # (N,H,S,d)
        scores = (q * (1.0 / self.head_dim ** 0.5)) @ k  # (N, H, L, S)
        weights = attention_weights(scores, mask)
        dropped = weights
        if self.training and self.dropout > 0:
            dropped = F.dropout(weights, self.dropout, training=True)
        output = (dropped @ v).permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim)
        output = self.out_proj(output)  # (L, N, E)
        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(1)
        return output, (weights if batched else weights.squeeze(0))

    def _merged_mask(self, attn_mask: Any, key_padding_mask: Any, length: int, source: int,
                     batch: int, dtype: Any) -> Tensor | None:
        """attn_mask (L, S) or (N * H, L, S) and key_padding_mask (N, S) as one additive
        mask broadcastable to (N, H, L, S)."""
        where = "MultiheadAttention"
        merged = None
        if attn_mask is not None:
            additive = additive_mask(attn_mask, dtype, where, allowed_when=False)
            if additive.shape == (length, source):
                merged = additive
            elif additive.shape == (batch * self.num_heads, length, source):
                merged = additive.reshape(batch, self.num_heads, length, source)
            else:
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(length, source)} (or 3D "
                                   f"{(batch * self.num_heads, length, source)}).")
        if key_padding_mask is not None:
            additive = additive_mask(key_padding_mask, dtype, where, allowed_when=False)
            if additive.shape != (batch, source):
                raise AssertionError(f"expecting key_padding_mask shape of {(batch, source)}, "
                                     f"but got {key_padding_mask.shape}")
            padding = additive.reshape(batch, 1, 1, source)
            merged = padding if merged is None else merged + padding
        return merged

    def _extra_keys(self, k: Tensor, v: Tensor, mask: Tensor | None,
                    batch: int) -> tuple[Tensor, Tensor, Tensor | None]:
        """Append bias_k / bias_v and a zero key and value when asked (a mask column each)."""
        extra = 0
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, batch, self.embed_dim)])
            v = cat([v, self.bias_v.expand(1, batch, self.embed_dim)])
            extra += 1
        if self.add_zero_attn:
            k = cat([k, creation.zeros(1, batch, self.embed_dim, dtype=k.dtype)])
            v = cat([v, creation.zeros(1, batch, self.embed_dim, dtype=v.dtype)])
            extra += 1
        if extra and mask is not None:
            zeros = np.zeros(mask.shape[:-1] + (extra,), dtype=mask.dtype)
            mask = cat([mask, Tensor._from_op(zeros)], dim=-1)
        return k, v, mask
