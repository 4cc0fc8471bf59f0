"""`minigrad.linalg`: PyTorch's torch.linalg names (norms, det, inv, solve, cholesky, qr, svd,
eigh, matrix_power, pinv, cross, matmul), every one differentiable (see ops/decomposition.py
and ops/norms.py for the gradients)."""

from __future__ import annotations

from typing import Any

from .engine import Tensor
from .ops.decomposition import (
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matrix_power,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
)
from .ops.linalg import cross as _cross
from .ops.linalg import diagonal as _diagonal
from .ops.matmul import matmul
from .ops.norms import matrix_norm, norm, vector_norm

__all__ = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
    "matrix_power", "norm", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "vector_norm",
]


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product along `dim` (default the last, unlike torch.cross's first size-3)."""
    return _cross(input, other, dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:
    """The diagonals of the matrices in the last two dims."""
    return _diagonal(A, offset, dim1, dim2)
