"""Norms and distances: linalg.vector_norm / matrix_norm / norm, Tensor.norm, dist, cdist.

A p-norm (0 < p < inf) is one op whose gradient g x |x|^(p-2) / ||x||^(p-1) is zero where
the norm is zero (PyTorch's subgradient), written against `xp` so it differentiates again;
inf/-inf norms are amax/amin of |x| (ties share the gradient, as in PyTorch), matrix norms
are reductions of those or of singular values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, normalize_dim
from . import elementwise as ew
from . import movement as mv
from . import reduce as rd
from .decomposition import svdvals
from .indexing import check_tensor
from .reduce import _reduced_axes, _restore
from .shaping import movedim

__all__ = ["cdist", "dist", "matrix_norm", "norm", "tensor_norm", "vector_norm"]


class PNorm(Function):
    """(sum |x|^p)^(1/p) over `dim` for 0 < p < inf."""

    def forward(self, x: np.ndarray, p: float, dim: tuple[int, ...],
                keepdim: bool) -> np.ndarray:
        if p == 2:
            output = np.sqrt(np.sum(x * x, axis=dim, keepdims=keepdim))
        elif p == 1:
            output = np.sum(np.abs(x), axis=dim, keepdims=keepdim)
        else:
            output = np.sum(np.abs(x) ** p, axis=dim, keepdims=keepdim) ** (1 / p)
        output = np.asarray(output, dtype=x.dtype)
        self.save(x, output)
        return output

    def backward(self, xp: Any, grad: Any, x: Any, output: Any) -> Any:
        p, dim, keepdim = self.options["p"], self.options["dim"], self.options["keepdim"]
        grad = _restore(xp, grad, dim, keepdim)
        norm = _restore(xp, output, dim, keepdim)
        if p == 1:
            return grad * xp.sign(x)
        zero = norm == 0
        safe = xp.where(zero, 1, norm)
        if p == 2:
            return xp.where(zero, 0, grad * x / safe)
        scale = xp.where(zero, 0, grad / safe ** (p - 1))
        return scale * xp.sign(x) * xp.abs(x) ** (p - 1)


def _float_input(where: str, x: Tensor, dtype: Any) -> Tensor:
    check_tensor(where, "x", x)
    if dtype is not None:
        x = x.to(dtype)
    if not dtypes.is_floating(x.dtype):
        raise RuntimeError(f"{where}: Expected a floating point or complex tensor as input. "
                           f"Got {x.dtype}")
    return x


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The ord-norm of x over `dim` (None: every element) as a vector: ord in (0, inf),
    inf, -inf (max/min |x|), 0 (count of nonzeros), or negative (harmonic-like)."""
    x = _float_input("linalg.vector_norm", x, dtype)
    if isinstance(ord, str):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not str ({ord!r})")
    axes = _reduced_axes("linalg.vector_norm", dim, x.ndim)
    ord = float(ord)
    if ord == math.inf or ord == -math.inf:
        if x.numel() == 0 and ord == math.inf and (dim is None or any(
                x.shape[a] == 0 for a in axes)):
            raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty "
                               "tensor because the operation does not have an identity")
        reduce = rd.amax if ord > 0 else rd.amin
        return reduce(ew.abs(x), dim=axes, keepdim=keepdim) if axes else ew.abs(x)
    if ord == 0:
        count = np.sum(x.data != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
        return Tensor._from_op(np.asarray(count)) + 0 * rd.sum(x, dim=axes, keepdim=keepdim)
    if ord < 0:
        powered = ew.abs(x) ** ord
        return rd.sum(powered, dim=axes, keepdim=keepdim) ** (1 / ord)
    if not axes:
        return ew.abs(x)
    return PNorm.apply(x, p=ord, dim=axes, keepdim=bool(keepdim))


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The ord-norm of the matrices in dims `dim`: 'fro', 'nuc', inf/-inf (max/min row sum
    of |A|), 1/-1 (max/min column sum), 2/-2 (largest/smallest singular value)."""
    A = _float_input("linalg.matrix_norm", A, dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions (got {A.ndim})")
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    first, second = (normalize_dim(one, A.ndim, "linalg.matrix_norm") for one in dims)
    if first == second:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({first}, {second})")
    if ord == "fro":
        return vector_norm(A, 2, (first, second), keepdim)
    if ord in ("nuc", 2, -2):
        moved = movedim(A, (first, second), (-2, -1))
        values = svdvals(moved)
        if ord == "nuc":
            result = rd.sum(values, dim=-1)
        else:
            result = (rd.amax if ord == 2 else rd.amin)(values, dim=-1)
        if keepdim:
            for axis in sorted((first, second)):
                result = mv.unsqueeze(result, axis)
        return result
    if ord in (math.inf, -math.inf, 1, -1):
        summed_dim, picked_dim = (second, first) if abs(ord) == math.inf else (first, second)
        sums = rd.sum(ew.abs(A), dim=summed_dim, keepdim=True)
        reduce = rd.amax if ord > 0 else rd.amin
        result = reduce(sums, dim=picked_dim, keepdim=True)
        return result if keepdim else mv.squeeze(result, (first, second))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """linalg.norm: a vector norm (ord None is 2 over every element, or over a single dim)
    or, for two dims or a 2-d input with ord given, a matrix norm."""
    check_tensor("linalg.norm", "A", A)
    if dim is not None:
        dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                       f"1D or 2D. Got {A.ndim}D.")


def tensor_norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
                dtype: Any = None) -> Tensor:
    """torch.norm / Tensor.norm: 'fro' (2-norm over `dim` or everything), 'nuc', or a
    number p (vector norm over `dim`)."""
    check_tensor("norm", "input", input)
    if p == "fro":
        if dim is not None and len(dim if isinstance(dim, (tuple, list)) else (dim,)) > 2:
            raise RuntimeError("norm: 'fro' needs at most two dims")
        return vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if p is None:
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of input - other (broadcast)."""
    check_tensor("dist", "input", input)
    check_tensor("dist", "other", other)
    return vector_norm(input - other, p)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distance between every row of x1 (..., P, M) and of x2 (..., R, M):
    (..., P, R)."""
    check_tensor("cdist", "x1", x1)
    check_tensor("cdist", "x2", x2)
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values (got {p})")
    differences = mv.unsqueeze(x1, -2) - mv.unsqueeze(x2, -3)  # (..., P, R, M)
    return vector_norm(differences, p, -1)


TENSOR_METHODS = {"norm": tensor_norm, "dist": dist}
FUNCTIONAL: dict = {}
TOPLEVEL = {"norm": tensor_norm, "dist": dist, "cdist": cdist}
LINALG = {"vector_norm": vector_norm, "matrix_norm": matrix_norm, "norm": norm}
