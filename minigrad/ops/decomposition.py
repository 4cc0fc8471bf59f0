"""Matrix functions with PyTorch's gradients: det, slogdet, inv, solve, cholesky, eigh, svd,
qr, matrix_power, pinv (`minigrad.linalg`).

Every backward is a formula of matmul, solve, inv and indexing written against `xp`, so
second derivatives come from the same formulas (`xp.inv` and `xp.solve` are the ops
below). An op with several results (eigh's values and vectors, svd's U, S, Vh, qr's Q, R)
is one op whose output packs them along the last axis; the public function unpacks views,
so the gradient arriving at the op holds every result's gradient (zeros for unused ones).
Formulas follow PyTorch's FunctionsManual (cholesky_backward, linalg_eig_backward with
is_hermitian, svd_backward, linalg_qr_backward for m >= n) and assume distinct eigen- and
singular values (a well-conditioned input), as PyTorch's do.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from . import movement as mv
from .indexing import check_tensor

__all__ = ["cholesky", "det", "eigh", "inv", "matrix_power", "pinv", "qr", "slogdet", "solve",
           "svd", "svdvals"]

SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
EighResult = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
SvdResult = namedtuple("svd", ["U", "S", "Vh"])
TorchSvdResult = namedtuple("svd", ["U", "S", "V"])
QrResult = namedtuple("qr", ["Q", "R"])


def _mT(xp: Any, x: Any) -> Any:
    return xp.swapaxes(x, -1, -2)


def _check_matrix(where: str, A: Any, square: bool = True) -> Tensor:
    check_tensor(where, "A", A)
    if A.ndim < 2:
        raise RuntimeError(f"{where}: The input tensor A must have at least 2 dimensions (got "
                           f"shape {A.shape})")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{where}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if not dtypes.is_floating(A.dtype) or A.dtype == np.float16:
        raise RuntimeError(f"{where}: Expected a floating point tensor as input (float32 or "
                           f"float64). Got {A.dtype}")
    return A


def _eye(n: int, dtype: Any) -> np.ndarray:
    return np.eye(n, dtype=dtype)


# ---- inverse, solve, determinant ------------------------------------------------------------
class Inv(Function):
    """A^-1; gradient -A^-T g A^-T from the saved output."""

    def forward(self, A: np.ndarray) -> np.ndarray:
        output = np.linalg.inv(A)
        self.save(output)
        return output

    def backward(self, xp: Any, grad: Any, inverse: Any) -> Any:
        inverse_t = _mT(xp, inverse)
        return -(inverse_t @ grad @ inverse_t)


class Solve(Function):
    """X with A X = B (B a batch of matrices); gB = A^-T g, gA = -gB X^T."""

    def forward(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        output = np.linalg.solve(A, B)
        self.save(A, output)
        return output

    def backward(self, xp: Any, grad: Any, A: Any, X: Any) -> tuple:
        grad_B = xp.solve(_mT(xp, A), grad)
        grad_A = -(grad_B @ _mT(xp, X)) if self.needs_input_grad[0] else None
        return grad_A, grad_B if self.needs_input_grad[1] else None


class Det(Function):
    """det(A); gradient g det(A) A^-T."""

    def forward(self, A: np.ndarray) -> np.ndarray:
        output = np.asarray(np.linalg.det(A))
        self.save(A, output)
        return output

    def backward(self, xp: Any, grad: Any, A: Any, determinant: Any) -> Any:
        scale = xp.expand_dims(xp.expand_dims(grad * determinant, -1), -1)
        return scale * _mT(xp, xp.inv(A))


class LogAbsDet(Function):
    """log |det(A)|; gradient g A^-T."""

    def forward(self, A: np.ndarray) -> np.ndarray:
        self.save(A)
        return np.asarray(np.linalg.slogdet(A)[1])

    def backward(self, xp: Any, grad: Any, A: Any) -> Any:
        return xp.expand_dims(xp.expand_dims(grad, -1), -1) * _mT(xp, xp.inv(A))


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix; RuntimeError for a singular one."""
    A = _check_matrix("linalg.inv", A)
    if np.any(np.linalg.matrix_rank(A.data) < A.shape[-1]) if A.numel() else False:
        raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not "
                           "be completed because the input matrix is singular.")
    return Inv.apply(A)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (left=True) or X A = B; B may be a vector or a batch of them."""
    A = _check_matrix("linalg.solve", A)
    check_tensor("linalg.solve", "B", B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {A.dtype} and B of type {B.dtype} instead")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return mv.transpose(solve(mv.transpose(A, -1, -2), mv.transpose(B, -1, -2)), -1, -2)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    matrix_B = mv.unsqueeze(B, -1) if vector else B
    if matrix_B.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{matrix_B.shape[-2]}x{matrix_B.shape[-1]})")
    batch = np.broadcast_shapes(A.shape[:-2], matrix_B.shape[:-2])
    if A.shape[:-2] != batch:
        A = mv.expand(A, batch + A.shape[-2:])
    if matrix_B.shape[:-2] != batch:
        matrix_B = mv.expand(matrix_B, batch + matrix_B.shape[-2:])
    _check_invertible("linalg.solve", A)
    X = Solve.apply(A, matrix_B)
    return mv.squeeze(X, -1) if vector else X


def _check_invertible(where: str, A: Tensor) -> None:
    if A.numel() and np.any(np.linalg.matrix_rank(A.data) < A.shape[-1]):
        raise RuntimeError(f"{where}: The solver failed because the input matrix is singular.")


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix."""
    return Det.apply(_check_matrix("linalg.det", A))


def slogdet(A: Tensor) -> SlogdetResult:
    """(sign, log|det|) of each square matrix; the sign carries no gradient."""
    A = _check_matrix("linalg.slogdet", A)
    sign = Tensor._from_op(np.asarray(np.linalg.slogdet(A.data)[0]).astype(A.dtype))
    return SlogdetResult(sign, LogAbsDet.apply(A))


def logdet(A: Tensor) -> Tensor:
    """log det(A): nan for a negative determinant, as in PyTorch."""
    sign, logabsdet = slogdet(A)
    return logabsdet + Tensor._from_op(np.where(sign.data < 0, np.nan, 0).astype(A.dtype))


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A @ A @ ... (n times); n = 0 gives identities, n < 0 powers of the inverse."""
    A = _check_matrix("linalg.matrix_power", A)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        return Tensor._from_op(np.broadcast_to(_eye(A.shape[-1], A.dtype), A.shape).copy())
    base = inv(A) if n < 0 else A
    result, power, remaining = None, base, abs(int(n))
    while remaining:  # binary powering: log2(n) products
        if remaining & 1:
            result = power if result is None else result @ power
        remaining >>= 1
        if remaining:
            power = power @ power
    return result


# ---- cholesky -------------------------------------------------------------------------------
class Cholesky(Function):
    """L with A = L L^T (lower); PyTorch's cholesky_backward."""

    def forward(self, A: np.ndarray) -> np.ndarray:
        output = np.linalg.cholesky(A)
        self.save(output)
        return output

    def backward(self, xp: Any, grad: Any, L: Any) -> Any:
        phi = xp.tril(_mT(xp, L) @ grad)
        phi = 0.5 * (phi + _mT(xp, xp.tril(phi, -1)))
        left = xp.solve(_mT(xp, L), phi)  # L^-T phi
        return _mT(xp, xp.solve(_mT(xp, L), _mT(xp, left)))  # (L^-T phi) L^-1


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix (lower unless upper)."""
    A = _check_matrix("linalg.cholesky", A)
    if A.numel() and np.any(np.linalg.eigvalsh(A.data) <= 0):
        raise RuntimeError("linalg.cholesky: The factorization could not be completed because "
                           "the input is not positive-definite.")
    L = Cholesky.apply(A)
    return mv.transpose(L, -1, -2) if upper else L


# ---- eigh -----------------------------------------------------------------------------------
class Eigh(Function):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices (lower triangle read),
    packed as (..., n + 1, n): row 0 the values, rows 1: the vectors (as columns)."""

    def forward(self, A: np.ndarray, UPLO: str) -> np.ndarray:
        values, vectors = np.linalg.eigh(A, UPLO=UPLO)
        output = np.concatenate([values[..., None, :], vectors], axis=-2)
        self.save(output)
        return output

    def backward(self, xp: Any, grad: Any, packed: Any) -> Any:
        values, vectors = packed[..., 0, :], packed[..., 1:, :]
        grad_values, grad_vectors = grad[..., 0, :], grad[..., 1:, :]
        n = values.shape[-1]
        eye = _eye(n, grad.dtype)
        projected = _mT(xp, vectors) @ grad_vectors
        projected = 0.5 * (projected - _mT(xp, projected))  # skew part
        gaps = xp.expand_dims(values, -2) - xp.expand_dims(values, -1) + eye  # E_ij = L_j - L_i
        inner = projected / gaps + xp.expand_dims(grad_values, -2) * eye
        return vectors @ inner @ _mT(xp, vectors)


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """(eigenvalues ascending, eigenvectors as columns) of symmetric matrices."""
    A = _check_matrix("linalg.eigh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    packed = Eigh.apply(A, UPLO=UPLO)
    return EighResult(mv.getitem(packed, (Ellipsis, 0, slice(None))),
                      mv.getitem(packed, (Ellipsis, slice(1, None), slice(None))))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    return eigh(A, UPLO).eigenvalues


# ---- svd ------------------------------------------------------------------------------------
class Svd(Function):
    """Reduced or full SVD packed along one last axis: U (m x u), S (k), Vh (v x n) flattened;
    gradient as PyTorch's svd_backward on the first k columns of U and rows of Vh."""

    def forward(self, A: np.ndarray, full_matrices: bool) -> np.ndarray:
        U, S, Vh = np.linalg.svd(A, full_matrices=full_matrices)
        batch = A.shape[:-2]
        flat_U = U.reshape(batch + (U.shape[-2] * U.shape[-1],))
        flat_Vh = Vh.reshape(batch + (Vh.shape[-2] * Vh.shape[-1],))
        output = np.concatenate([flat_U, S, flat_Vh], axis=-1)
        self.save(output)
        self.layout = (A.shape[-2], A.shape[-1], U.shape[-1], S.shape[-1], Vh.shape[-2])
        return output

    def backward(self, xp: Any, grad: Any, packed: Any) -> Any:
        m, n, _u, k, _v = self.layout
        U, S, Vh = _unpack_svd(xp, packed, self.layout)
        gU, gS, gVh = _unpack_svd(xp, grad, self.layout)
        U, gU, Vh, gVh = U[..., :, :k], gU[..., :, :k], Vh[..., :k, :], gVh[..., :k, :]
        V, gV = _mT(xp, Vh), _mT(xp, gVh)
        UhgU = _mT(xp, U) @ gU
        VhgV = _mT(xp, V) @ gV
        UhgU = UhgU - _mT(xp, UhgU)
        VhgV = VhgV - _mT(xp, VhgV)
        eye = _eye(k, grad.dtype)
        squares = S * S
        gaps = xp.expand_dims(squares, -2) - xp.expand_dims(squares, -1) + eye
        inner = (UhgU * xp.expand_dims(S, -2) + xp.expand_dims(S, -1) * VhgV) / gaps
        inner = inner + xp.expand_dims(gS, -2) * eye
        if m > k:
            left = U @ inner
            gU_scaled = gU / xp.expand_dims(S, -2)
            left = left + gU_scaled - U @ (_mT(xp, U) @ gU_scaled)
            return left @ Vh
        if n > k:
            right = inner @ Vh
            gV_scaled = gV / xp.expand_dims(S, -2)
            right = right + _mT(xp, gV_scaled - V @ (Vh @ gV_scaled))
            return U @ right
        return U @ inner @ Vh


def _unpack_svd(xp: Any, packed: Any, layout: tuple) -> tuple:
    m, n, u, k, v = layout
    batch = tuple(packed.shape[:-1])
    U = xp.reshape(packed[..., :m * u], batch + (m, u))
    S = packed[..., m * u:m * u + k]
    Vh = xp.reshape(packed[..., m * u + k:], batch + (v, n))
    return U, S, Vh


def svd(A: Tensor, full_matrices: bool = True) -> SvdResult:
    """(U, S, Vh) with A = U diag(S) Vh, S descending (torch.linalg.svd)."""
    A = _check_matrix("linalg.svd", A, square=False)
    packed = Svd.apply(A, full_matrices=bool(full_matrices))
    m, n = A.shape[-2:]
    k = min(m, n)
    u, v = (m, n) if full_matrices else (k, k)
    batch = A.shape[:-2]
    U = mv.reshape(mv.getitem(packed, (Ellipsis, slice(0, m * u))), batch + (m, u))
    S = mv.getitem(packed, (Ellipsis, slice(m * u, m * u + k)))
    Vh = mv.reshape(mv.getitem(packed, (Ellipsis, slice(m * u + k, None))), batch + (v, n))
    return SvdResult(U, S, Vh)


def svdvals(A: Tensor) -> Tensor:
    """The singular values, descending."""
    return svd(A, full_matrices=False).S


def torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> TorchSvdResult:
    """torch.svd: (U, S, V) with V (not Vh); reduced unless some=False."""
    U, S, Vh = svd(input, full_matrices=not some)
    if not compute_uv:
        return TorchSvdResult(Tensor._from_op(np.zeros_like(U.data)), S,
                              Tensor._from_op(np.zeros_like(Vh.data)))
    return TorchSvdResult(U, S, mv.transpose(Vh, -1, -2))


def pinv(A: Tensor, *, atol: float | None = None, rtol: float | None = None,
         hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse through the SVD; singular values at or below
    max(atol, rtol * largest) count as zero (rtol defaults to eps * max(m, n))."""
    A = _check_matrix("linalg.pinv", A, square=False)
    U, S, Vh = svd(A, full_matrices=False)
    if rtol is None:
        rtol = np.finfo(A.dtype).eps * max(A.shape[-2:]) if atol is None else 0.0
    largest = S.data.max(axis=-1, keepdims=True) if S.numel() else np.zeros(S.shape[:-1] + (1,))
    cutoff = np.maximum(atol or 0.0, rtol * largest)
    keep = S.data > cutoff
    safe = S + Tensor._from_op(np.where(keep, 0, 1).astype(A.dtype))
    inverse_S = (1 / safe) * Tensor._from_op(keep.astype(A.dtype))
    return mv.transpose(Vh, -1, -2) @ (mv.unsqueeze(inverse_S, -1) * mv.transpose(U, -1, -2))


# ---- qr -------------------------------------------------------------------------------------
class Qr(Function):
    """Reduced QR of tall or square matrices packed as (..., m, n + n) after padding R's
    rows: [Q | R padded]; gradient gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""

    def forward(self, A: np.ndarray) -> np.ndarray:
        Q, R = np.linalg.qr(A, mode="reduced")
        m, n = A.shape[-2:]
        padded = np.zeros(A.shape[:-2] + (m, n), dtype=A.dtype)
        padded[..., :n, :] = R
        output = np.concatenate([Q, padded], axis=-1)
        self.save(output)
        return output

    def backward(self, xp: Any, grad: Any, packed: Any) -> Any:
        n = packed.shape[-1] // 2
        Q, R = packed[..., :, :n], packed[..., :n, n:]
        gQ, gR = grad[..., :, :n], grad[..., :n, n:]
        M = R @ _mT(xp, gR) - _mT(xp, gQ) @ Q
        lower = xp.tril(M, -1)
        copyltu = lower + _mT(xp, lower) + xp.tril(xp.triu(M))
        right = gQ + Q @ copyltu  # (m, n); gA = right R^-T  <=>  R gA^T = right^T
        return _mT(xp, xp.solve(R, _mT(xp, right)))


def qr(A: Tensor, mode: str = "reduced") -> QrResult:
    """(Q, R) with A = Q R, Q with orthonormal columns, R upper triangular. Gradients for
    mode 'reduced' with m >= n (as PyTorch's, which refuses the wide case too)."""
    A = _check_matrix("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    m, n = A.shape[-2:]
    if mode != "reduced" or m < n:
        Q, R = np.linalg.qr(A.data, mode="complete" if mode == "complete" else "reduced")
        if A.requires_grad:
            raise RuntimeError(f"linalg.qr: gradients are implemented for mode='reduced' with "
                               f"rows >= columns only (got mode={mode!r}, {m}x{n})")
        if mode == "r":
            return QrResult(Tensor._from_op(np.zeros((0,), dtype=A.dtype)),
                            Tensor._from_op(R.astype(A.dtype)))
        return QrResult(Tensor._from_op(Q.astype(A.dtype)), Tensor._from_op(R.astype(A.dtype)))
    packed = Qr.apply(A)
    Q = mv.getitem(packed, (Ellipsis, slice(None), slice(0, n)))
    R = mv.getitem(packed, (Ellipsis, slice(0, n), slice(n, None)))
    return QrResult(Q, R)


# ---- backward namespace ---------------------------------------------------------------------
def _graph(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))


NUMPY_XP: dict[str, Any] = {"inv": np.linalg.inv, "solve": np.linalg.solve}
GRAPH_XP: dict[str, Any] = {
    "inv": lambda A: Inv.apply(_graph(A)),
    "solve": lambda A, B: Solve.apply(_graph(A), _graph(B)),
}

LINALG = {
    "inv": inv, "solve": solve, "det": det, "slogdet": slogdet, "matrix_power": matrix_power,
    "cholesky": cholesky, "eigh": eigh, "eigvalsh": eigvalsh, "svd": svd, "svdvals": svdvals,
    "pinv": pinv, "qr": qr,
}
TENSOR_METHODS = {
    "inverse": inv,
    "det": det,
    "slogdet": slogdet,
    "logdet": logdet,
    "matrix_power": matrix_power,
    "cholesky": lambda self, upper=False: cholesky(self, upper=upper),
    "svd": torch_svd,
    "pinverse": lambda self, rcond=1e-15: pinv(self, rtol=rcond),
    "qr": lambda self, some=True: qr(self, "reduced" if some else "complete"),
}
FUNCTIONAL: dict = {}
TOPLEVEL = {
    "inverse": inv,
    "det": det,
    "slogdet": slogdet,
    "logdet": logdet,
    "matrix_power": matrix_power,
    "cholesky": TENSOR_METHODS["cholesky"],
    "svd": torch_svd,
    "pinverse": TENSOR_METHODS["pinverse"],
    "qr": TENSOR_METHODS["qr"],
}
