"""Matrix products: `@` / matmul with PyTorch's 1-D and batch rules, mm, bmm, F.linear.

Every product ends in BLAS GEMM calls: operands are handed to np.matmul with strides BLAS
accepts (C- or Fortran-ordered matrices, so a transpose is free). When one side is a single
matrix, the other side's leading dims are flattened so the whole batch is ONE GEMM, forward
and backward; the weight's gradient then needs no separate sum over the batch.

The backward formulas call this family's `xp` functions (`NUMPY_XP` / `GRAPH_XP` below):
the GEMM kernels above on arrays, and the same products as differentiable matmuls,
transposes and sums when a gradient graph is built (`create_graph=True`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..engine import Function, Tensor
from ..engine import namespace as _namespaces
from ._broadcast import unbroadcast
from ._convert import promote

__all__ = ["bmm", "linear", "matmul", "mm"]


# ---- GEMM helpers -------------------------------------------------------------------------
def _blas_ready(matrix: np.ndarray) -> np.ndarray:
    """`matrix` itself when BLAS can read each (..., n, k) slice in place, else a C copy.

    np.matmul silently falls back to a slow loop for other strides (steps, broadcast views).
    """
    if matrix.dtype.kind != "f" or matrix.ndim < 2:
        return matrix
    rows, cols = matrix.shape[-2:]
    row_stride, col_stride = matrix.strides[-2:]
    item = matrix.itemsize
    c_like = col_stride == item and row_stride % item == 0 and row_stride >= max(cols, 1) * item
    f_like = row_stride == item and col_stride % item == 0 and col_stride >= max(rows, 1) * item
    if c_like or f_like:
        return matrix
    return np.ascontiguousarray(matrix)


def _gemm(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """left @ right for BLAS-ready copies (or views) of both."""
    return np.matmul(_blas_ready(left), _blas_ready(right))


def _rows(array: np.ndarray) -> np.ndarray:
    """(..., k) as one (N, k) matrix (sizes spelled out, so zero-size dims work)."""
    return array.reshape(math.prod(array.shape[:-1]), array.shape[-1])


def _swap(matrix: np.ndarray) -> np.ndarray:
    """The transpose of each matrix in a batch (a view)."""
    return matrix.swapaxes(-1, -2)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(size) for size in shape)


# ---- matmul -------------------------------------------------------------------------------
class MatmulShapes(NamedTuple):
    """The shapes a matmul's backward needs: the operands as given (`a`, `b`), as matrices
    (`a2` (..., n, k), `b2` (..., k, p): a 1-D operand made a row or a column) and the
    product of those (..., n, p)."""

    a: tuple[int, ...]
    b: tuple[int, ...]
    a2: tuple[int, ...]
    b2: tuple[int, ...]
    product: tuple[int, ...]


class MatMul(Function):
    """y = a @ b: 1-D operands become (1, k) / (k, 1) and lose that dim again afterwards;
    batch dims broadcast, so their gradient is summed back (unbroadcast)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # (..., n, k)
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # (..., k, p)
        # a's gradient needs only b, b's only a
        self.save(a if self.needs_input_grad[1] else None,
                  b if self.needs_input_grad[0] else None)
        if b2.ndim == 2:
            # (..., n, k) @ (k, p): all leading dims in one GEMM
            rows = _rows(a2)
            product = _gemm(rows, b2).reshape(a2.shape[:-1] + b2.shape[-1:])
        else:
            product = _gemm(a2, b2)
        self.shapes = MatmulShapes(a.shape, b.shape, a2.shape, b2.shape, product.shape)
        drop = [product.ndim - 2] * (a.ndim == 1) + [product.ndim - 1] * (b.ndim == 1)
        return product.reshape(tuple(size for axis, size in enumerate(product.shape)
                                     if axis not in drop))

    def backward(self, xp: Any, grad: Any, a: Any, b: Any) -> tuple:
        grad_a = xp.matmul_grad_input(grad, b, self.shapes) if self.needs_input_grad[0] else None
        grad_b = xp.matmul_grad_other(a, grad, self.shapes) if self.needs_input_grad[1] else None
        return grad_a, grad_b


def _grad_input_arrays(grad: np.ndarray, b: np.ndarray, shapes: MatmulShapes) -> np.ndarray:
    """d/da = grad @ b^T, summed over the batch dims a was broadcast along (1-D operands
    taken as a row / a column). Shapes: grad as the product, b -> shapes.a."""
    grad2 = grad.reshape(shapes.product)  # (..., n, p) with 1-D dims put back
    b2 = b.reshape(shapes.b2)
    if b2.ndim == 2:
        result = _gemm(_rows(grad2), b2.T)
    elif len(shapes.a2) == 2:
        # one matrix against a batch: contract over batch and p at once -> (n, k)
        contracted = tuple(range(b2.ndim - 2)) + (b2.ndim - 1,)
        result = np.tensordot(grad2, b2, axes=(contracted, contracted))
    else:
        result = unbroadcast(_gemm(grad2, _swap(b2)), shapes.a2)
    return result.reshape(shapes.a)


def _grad_other_arrays(a: np.ndarray, grad: np.ndarray, shapes: MatmulShapes) -> np.ndarray:
    """d/db = a^T @ grad, summed over the batch dims b was broadcast along (1-D operands
    taken as a row / a column). Shapes: a, grad as the product -> shapes.b."""
    grad2 = grad.reshape(shapes.product)
    a2 = a.reshape(shapes.a2)
    if len(shapes.b2) == 2:
        # every batch row meets the same b2: one GEMM does the batch sum too
        result = _gemm(_rows(a2).T, _rows(grad2))
    elif a2.ndim == 2:
        result = _gemm(a2.T, grad2)
    else:
        result = unbroadcast(_gemm(_swap(a2), grad2), shapes.b2)
    return result.reshape(shapes.b)


def _grad_input_graph(grad: Tensor, b: Tensor, shapes: MatmulShapes) -> Tensor:
    """`_grad_input_arrays` as differentiable ops."""
    xp = _namespaces.graph
    grad2, b2 = xp.reshape(grad, shapes.product), xp.reshape(b, shapes.b2)
    return xp.reshape(xp.sum_to(xp.matmul(grad2, xp.swapaxes(b2, -1, -2)), shapes.a2), shapes.a)


def _grad_other_graph(a: Tensor, grad: Tensor, shapes: MatmulShapes) -> Tensor:
    """`_grad_other_arrays` as differentiable ops."""
    xp = _namespaces.graph
    grad2, a2 = xp.reshape(grad, shapes.product), xp.reshape(a, shapes.a2)
    return xp.reshape(xp.sum_to(xp.matmul(xp.swapaxes(a2, -1, -2), grad2), shapes.b2), shapes.b)


class Mm(MatMul):
    """y = a @ b for two matrices."""


class Bmm(MatMul):
    """y = a @ b for two equal-size batches of matrices."""


def _check_operands(where: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    for argument, value in (("input", input), ("other", other)):
        if not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(f"{where}(): argument '{argument}' must be Tensor, not "
                            f"{type(value).__name__}")
    input, other = promote(input) + promote(other)  # NumPy arrays become tensors, as they are
    _check_same_dtype(where, ("input", input), ("other", other))
    return input, other


def _check_same_dtype(where: str, *named: tuple[str, Tensor | None]) -> None:
    """PyTorch's RuntimeError when a matrix product mixes dtypes (an int tensor into a float
    layer, float64 into float32): no silent promotion, the caller casts on purpose."""
    present = [(name, tensor) for name, tensor in named if tensor is not None]
    first_name, first = present[0]
    for name, tensor in present[1:]:
        if tensor.dtype != first.dtype:
            raise RuntimeError(f"{where}: expected {first_name} and {name} to have the same "
                               f"dtype, but got {first_name} {first.dtype} and {name} "
                               f"{tensor.dtype} (cast one with .to(), .float() or .double())")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules.

    1-D @ 1-D is a dot product; a 1-D first operand is a row (its dim removed after), a 1-D
    second operand a column; batch dims (all but the last two) broadcast.
    Shape: (..., n, k) @ (..., k, p) -> (broadcast(...), n, p).
    """
    input, other = _check_operands("matmul", input, other)
    a_shape, b_shape = input.shape, other.shape
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"matmul: both arguments to matmul need to be at least 1D, but they "
                           f"are {input.ndim}D and {other.ndim}D (shapes {a_shape} and "
                           f"{b_shape})")
    inner_b = b_shape[0] if other.ndim == 1 else b_shape[-2]
    if a_shape[-1] != inner_b:
        raise RuntimeError(f"matmul: mat1 and mat2 shapes cannot be multiplied "
                           f"({_shape_text(a_shape)} and {_shape_text(b_shape)})")
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions {a_shape[:-2]} and {b_shape[:-2]} cannot "
                           f"be broadcast together (shapes {a_shape} and {b_shape})") from None
    return MatMul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices. Shape: (n, k) @ (k, p) -> (n, p)."""
    input, mat2 = _check_operands("mm", input, mat2)
    if input.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix (got shape {input.shape})")
    if mat2.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix (got shape {mat2.shape})")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                           f"({_shape_text(input.shape)} and {_shape_text(mat2.shape)})")
    return Mm.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product without broadcasting. Shape: (b, n, k) @ (b, k, p) -> (b, n, p)."""
    input, mat2 = _check_operands("bmm", input, mat2)
    if input.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor (got shape {input.shape})")
    if mat2.ndim != 3:
        raise RuntimeError(f"bmm: batch2 must be a 3D tensor (got shape {mat2.shape})")
    expected = [input.shape[0], input.shape[2]]
    if list(mat2.shape[:2]) != expected:
        raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to "
                           f"be: {expected} but got: {list(mat2.shape[:2])} (batch1 "
                           f"{input.shape}, batch2 {mat2.shape})")
    return Bmm.apply(input, mat2)


def _tensor_matmul(self: Tensor, other: Any) -> Any:
    """`self @ other`; other types are left to Python (TypeError), as in PyTorch."""
    if not isinstance(other, (Tensor, np.ndarray)):
        return NotImplemented
    return matmul(self, other)


def _tensor_rmatmul(self: Tensor, other: Any) -> Any:
    """`other @ self` for an ndarray on the left."""
    if not isinstance(other, (Tensor, np.ndarray)):
        return NotImplemented
    return matmul(other, self)


# ---- linear -------------------------------------------------------------------------------
class Linear(Function):
    """y = x @ w^T + b over the flattened leading dims of x: one GEMM each way."""

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        self.input_shape = x.shape
        rows = _blas_ready(_rows(x))  # (N, in)
        # x's gradient needs only the weight, the weight's only x
        self.save(x if self.needs_input_grad[1] else None,
                  weight if self.needs_input_grad[0] else None)
        # a first-order cache: the rows when making them took a copy (x not contiguous)
        self.rows = (rows if self.needs_input_grad[1] and not np.may_share_memory(rows, x)
                     else None)
        self.bias_shape = None if bias is None else bias.shape
        output = _gemm(rows, weight.T)  # (N, out): weight.T is a free Fortran-ordered view
        output = output.reshape(x.shape[:-1] + weight.shape[:1])
        if bias is not None:
            output += bias  # output is a fresh array, so adding in place is safe
        return output

    def backward(self, xp: Any, grad: Any, x: Any, weight: Any) -> tuple:
        grad_rows = xp.blas_rows(grad)  # (N, out)
        grad_x = grad_weight = grad_bias = None
        if self.needs_input_grad[0]:
            grad_x = xp.linear_grad_input(grad_rows, weight, self.input_shape)
        if self.needs_input_grad[1]:
            grad_weight = xp.linear_grad_weight(grad_rows, x, self.rows)  # (out, in)
        if self.needs_input_grad[2]:
            grad_bias = xp.sum_to(grad, self.bias_shape)
        return grad_x, grad_weight, grad_bias


def _linear_grad_weight_arrays(grad_rows: np.ndarray, x: np.ndarray,
                               rows: np.ndarray | None = None) -> np.ndarray:
    """grad_rows^T @ x's rows: (N, out), (..., in) -> (out, in); `rows` is x's rows when
    forward had to copy them (a first-order cache)."""
    return _gemm(grad_rows.T, _rows(x) if rows is None else rows)


def _linear_grad_weight_graph(grad_rows: Tensor, x: Tensor, rows: Any = None) -> Tensor:
    """`_linear_grad_weight_arrays` as differentiable ops (the cache is not used)."""
    xp = _namespaces.graph
    return xp.matmul(xp.transpose(grad_rows), _blas_rows_graph(x))


def _linear_grad_input_arrays(grad_rows: np.ndarray, weight: np.ndarray,
                              input_shape: tuple[int, ...]) -> np.ndarray:
    """grad_rows @ weight: (N, out), (out, in) -> input_shape (..., in)."""
    return _gemm(grad_rows, weight).reshape(input_shape)


def _linear_grad_input_graph(grad_rows: Tensor, weight: Tensor,
                             input_shape: tuple[int, ...]) -> Tensor:
    """`_linear_grad_input_arrays` as differentiable ops."""
    xp = _namespaces.graph
    return xp.reshape(xp.matmul(grad_rows, weight), input_shape)


def _blas_rows(array: np.ndarray) -> np.ndarray:
    """(..., k) as one BLAS-ready (N, k) matrix."""
    return _blas_ready(_rows(array))


def _blas_rows_graph(tensor: Tensor) -> Tensor:
    """(..., k) as one (N, k) matrix, a differentiable reshape."""
    return _namespaces.graph.reshape(tensor, (math.prod(tensor.shape[:-1]), tensor.shape[-1]))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight.T + bias, PyTorch's `F.linear`.

    Shape: input (..., in_features), weight (out_features, in_features), bias (out_features)
    -> (..., out_features).
    """
    for argument, value in (("input", input), ("weight", weight), ("bias", bias)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"linear(): argument '{argument}' must be Tensor, not "
                            f"{type(value).__name__}")
    if weight is None:
        raise TypeError("linear(): argument 'weight' must be Tensor, not NoneType")
    if input.ndim == 0:
        raise RuntimeError(f"linear: both arguments to linear need to be at least 1D, but they "
                           f"are {input.ndim}D and {weight.ndim}D (input {input.shape}, "
                           f"weight {weight.shape})")
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got "
                           f"shape {weight.shape}")
    if input.shape[-1] != weight.shape[1]:
        rows = math.prod(input.shape[:-1])
        raise RuntimeError(f"linear: mat1 and mat2 shapes cannot be multiplied "
                           f"({rows}x{input.shape[-1]} and {weight.shape[1]}x{weight.shape[0]}) "
                           f"(input {input.shape}, weight {weight.shape})")
    output_shape = input.shape[:-1] + weight.shape[:1]
    if bias is not None:
        try:
            fits = np.broadcast_shapes(output_shape, bias.shape) == output_shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"linear: bias of shape {bias.shape} does not broadcast to the "
                               f"output shape {output_shape} (input {input.shape}, weight "
                               f"{weight.shape})")
    _check_same_dtype("linear", ("input", input), ("weight", weight), ("bias", bias))
    return Linear.apply(input, weight, bias)


# the backward formulas' kernels: on arrays, and as differentiable ops
NUMPY_XP = {
    "linear_grad_input": _linear_grad_input_arrays,
    "blas_rows": _blas_rows,
    "matmul_grad_input": _grad_input_arrays,
    "matmul_grad_other": _grad_other_arrays,
    "linear_grad_weight": _linear_grad_weight_arrays,
}
GRAPH_XP = {
    "linear_grad_input": _linear_grad_input_graph,
    "blas_rows": _blas_rows_graph,
    "matmul_grad_input": _grad_input_graph,
    "matmul_grad_other": _grad_other_graph,
    "linear_grad_weight": _linear_grad_weight_graph,
}

TENSOR_METHODS = {
    "__matmul__": _tensor_matmul,
    "__rmatmul__": _tensor_rmatmul,
    "matmul": matmul,
    "mm": mm,
    "bmm": bmm,
}
FUNCTIONAL = {
    "linear": linear,
}
TOPLEVEL = {
    "matmul": matmul,
    "mm": mm,
    "bmm": bmm,
}
