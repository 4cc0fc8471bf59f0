"""In-place forms of the indexing writes: index_add_, index_copy_, index_fill_, scatter_,
scatter_add_, scatter_reduce_.

Each checks its arguments through the out-of-place op, then takes the one in-place path of
`ops/inplace.py` (version counter, PyTorch's leaf rule, history rewritten when recorded).
"""

from __future__ import annotations

from typing import Any

from ..engine import Tensor, no_grad
from . import indexing as ix
from .inplace import _check_target, _modify
from .movement import scatter_add

__all__ = ["index_add_", "index_copy_", "index_fill_", "scatter_", "scatter_add_",
           "scatter_reduce_"]


def _in_place(where: str, self: Tensor, compute: Any, operands: tuple) -> Tensor:
    _check_target(where, self)
    with no_grad():
        compute(self)  # every argument error before anything changes
    return _modify(self, compute, tuple(op for op in operands if isinstance(op, Tensor)))


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *,
               alpha: Any = 1) -> Tensor:
    return _in_place("index_add_", self,
                     lambda old: ix.index_add(old, dim, index, source, alpha=alpha), (source,))


def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    return _in_place("index_copy_", self, lambda old: ix.index_copy(old, dim, index, source),
                     (source,))


def index_fill_(self: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    return _in_place("index_fill_", self, lambda old: ix.index_fill(old, dim, index, value),
                     (value,))


def scatter_(self: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    return _in_place("scatter_", self,
                     lambda old: ix.scatter(old, dim, index, src, value=value, reduce=reduce),
                     (src,))


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return _in_place("scatter_add_", self, lambda old: scatter_add(old, dim, index, src),
                     (src,))


def scatter_reduce_(self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    return _in_place("scatter_reduce_", self,
                     lambda old: ix.scatter_reduce(old, dim, index, src, reduce,
                                                   include_self=include_self), (src,))


TENSOR_METHODS = {
    "index_add_": index_add_,
    "index_copy_": index_copy_,
    "index_fill_": index_fill_,
    "scatter_": scatter_,
    "scatter_add_": scatter_add_,
    "scatter_reduce_": scatter_reduce_,
}
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
