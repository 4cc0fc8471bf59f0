"""Matrix structure and products: tril, triu, diag, diagonal, diag_embed, trace, outer, kron,
cross, einsum (with ellipsis), tensordot.

tril/triu keep a constant mask (`where`), diagonal picks with index arrays and diag_embed
scatters by them, so their gradients are each other. einsum's gradient for each operand is
an einsum of the output gradient with the other operands (a closed family): a letter that
repeats within the operand ('ii->i') is written through an identity, a letter summed only
in that operand ('ij->i') through a vector of ones.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, normalize_dim
from . import elementwise as ew
from . import movement as mv
from . import reduce as rd
from ._convert import promote
from ._select import IndexScatter
from .indexing import check_tensor

__all__ = ["cross", "diag", "diag_embed", "diagonal", "einsum", "kron", "outer", "tensordot",
           "trace", "tril", "triu"]


# ---- triangles ------------------------------------------------------------------------------
def _triangle(where: str, input: Tensor, diagonal: int, lower: bool) -> Tensor:
    check_tensor(where, "input", input)
    if input.ndim < 2:
        raise RuntimeError(f"{where}: input tensor must have at least 2 dimensions (got shape "
                           f"{input.shape})")
    rows, cols = input.shape[-2:]
    maker = np.tri(rows, cols, diagonal, dtype=bool)
    mask = maker if lower else ~np.tri(rows, cols, diagonal - 1, dtype=bool)
    zero = np.zeros((), dtype=input.dtype)
    return ew.where(Tensor._from_op(mask), input, Tensor._from_op(zero))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (j <= i + diagonal), zeros above."""
    return _triangle("tril", input, diagonal, True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (j >= i + diagonal), zeros below."""
    return _triangle("triu", input, diagonal, False)


# ---- diagonals ------------------------------------------------------------------------------
def _diagonal_positions(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    return start_row + np.arange(length), start_col + np.arange(length)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, as a last dim (offset > 0: above)."""
    check_tensor("diagonal", "input", input)
    first = normalize_dim(dim1, input.ndim, "diagonal")
    second = normalize_dim(dim2, input.ndim, "diagonal")
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [axis for axis in range(input.ndim) if axis not in (first, second)]
    moved = mv.permute(input, tuple(rest + [first, second]))
    rows, cols = _diagonal_positions(input.shape[first], input.shape[second], offset)
    return mv.getitem(moved, (Ellipsis, rows, cols))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims dim1, dim2 of the result) with input's last dim on their diagonal."""
    check_tensor("diag_embed", "input", input)
    ndim = input.ndim + 1
    first = normalize_dim(dim1, ndim, "diag_embed")
    second = normalize_dim(dim2, ndim, "diag_embed")
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    length = input.shape[-1] if input.ndim else 1
    size = length + abs(offset)
    rows, cols = _diagonal_positions(size, size, offset)
    values = input if input.ndim else mv.reshape(input, (1,))
    embedded = IndexScatter.apply(values, shape=values.shape[:-1] + (size, size), basic=None,
                                  advanced=(Ellipsis, rows, cols), accumulate=False)
    # embedded is (..., size, size); place its last two dims at first, second
    order = list(range(ndim - 2))
    destination = sorted([(first, ndim - 2), (second, ndim - 1)])
    for target, source in destination:
        order.insert(target, source)
    return mv.permute(embedded, tuple(order))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-d input: a square matrix with it on the `diagonal`-th diagonal; 2-d: that diagonal."""
    check_tensor("diag", "input", input)
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-d tensor (integers sum in int64, as in PyTorch)."""
    check_tensor("trace", "input", input)
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return rd.sum(diagonal(input))


# ---- products -------------------------------------------------------------------------------
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """input[i] * vec2[j] for 1-d tensors."""
    check_tensor("outer", "input", input)
    check_tensor("outer", "vec2", vec2)
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got {input.ndim}-D and {vec2.ndim}-D")
    return mv.unsqueeze(input, 1) * mv.unsqueeze(vec2, 0)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other (the shorter
    shape is padded with leading 1s)."""
    check_tensor("kron", "input", input)
    check_tensor("kron", "other", other)
    ndim = max(input.ndim, other.ndim)
    a_shape = (1,) * (ndim - input.ndim) + input.shape
    b_shape = (1,) * (ndim - other.ndim) + other.shape
    a = mv.reshape(input, tuple(size for n in a_shape for size in (n, 1)))
    b = mv.reshape(other, tuple(size for n in b_shape for size in (1, n)))
    return mv.reshape(a * b, tuple(m * n for m, n in zip(a_shape, b_shape)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The 3-vector cross product along `dim` (None: the first dim of size 3), broadcasting
    the other dims."""
    check_tensor("cross", "input", input)
    check_tensor("cross", "other", other)
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions "
                           f"(got {input.ndim} and {other.ndim})")
    shape = np.broadcast_shapes(input.shape, other.shape)
    if dim is None:
        sizes = [axis for axis, n in enumerate(shape) if n == 3]
        if not sizes:
            raise RuntimeError(f"no dimension of size 3 in input (shape {shape})")
        dim = sizes[0]
    axis = normalize_dim(dim, len(shape), "cross")
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {axis} must have length 3. Got "
                           f"{input.shape[axis]} and {other.shape[axis]}")
    a, b = promote(input, other)

    def part(x: Tensor, i: int) -> Tensor:
        return mv.getitem(x, (slice(None),) * axis + (slice(i, i + 1),))

    pieces = [part(a, (i + 1) % 3) * part(b, (i + 2) % 3) - part(a, (i + 2) % 3) * part(b, (i + 1) % 3)
              for i in range(3)]
    return mv.cat(pieces, axis)


# ---- einsum ---------------------------------------------------------------------------------
def _parse(equation: str, operands: list[Tensor]) -> tuple[list[str], str]:
    """Explicit letters for every operand and the output, ellipses spelled out."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError("einsum(): more operands were provided than specified in the "
                         "equation" if len(operands) > len(terms) else
                         "einsum(): fewer operands were provided than specified in the equation")
    used = set(equation) - set(".,->")
    for letter in used:
        if letter not in string.ascii_letters:
            raise RuntimeError(f"einsum(): invalid subscript given at index "
                               f"{equation.index(letter)} in the equation string, subscripts "
                               f"must be in [a-zA-Z]")
    free = [letter for letter in string.ascii_letters if letter not in used]
    ellipsis_dims = 0
    for term, operand in zip(terms, operands):
        letters = term.replace("...", "")
        if "..." in term:
            ellipsis_dims = max(ellipsis_dims, operand.ndim - len(letters))
        elif len(letters) != operand.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(letters)}) does not match the number of dimensions "
                               f"({operand.ndim}) for operand {terms.index(term)} and no "
                               f"ellipsis was given")
    spelled = "".join(free[:ellipsis_dims])
    expanded = []
    for term, operand in zip(terms, operands):
        if "..." in term:
            count = operand.ndim - len(term.replace("...", ""))
            term = term.replace("...", spelled[ellipsis_dims - count:])
        expanded.append(term)
    if arrow:
        output = output.replace("...", spelled)
    else:  # implicit output: the ellipsis dims, then letters used once, sorted
        counts = {}
        for term in expanded:
            for letter in term:
                counts[letter] = counts.get(letter, 0) + 1
        output = spelled + "".join(sorted(letter for letter in counts
                                          if counts[letter] == 1 and letter not in spelled))
    return expanded, output


class Einsum(Function):
    """out = einsum(equation, *operands) with explicit letters and equal sizes per letter."""

    def forward(self, *arrays: np.ndarray, terms: tuple[str, ...], output: str) -> np.ndarray:
        self.save(*arrays)
        equation = ",".join(terms) + "->" + output
        return _einsum_arrays(equation, *arrays)

    def backward(self, xp: Any, grad: Any, *operands: Any) -> tuple:
        terms, output = self.options["terms"], self.options["output"]
        sizes = {letter: operand.shape[i] for term, operand in zip(terms, operands)
                 for i, letter in enumerate(term)}
        dtype = grad.dtype
        grads = []
        for k, term in enumerate(terms):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            pieces, arrays = [output], [grad]
            for j, other in enumerate(terms):
                if j != k:
                    pieces.append(other)
                    arrays.append(operands[j])
            available = set("".join(pieces))
            target = ""
            spare = iter(letter for letter in string.ascii_letters
                         if letter not in set("".join(terms)) | set(output))
            for letter in term:
                if letter in target:  # a repeat: a new letter tied to it by an identity
                    fresh = next(spare)
                    pieces.append(letter + fresh)
                    arrays.append(np.eye(sizes[letter], dtype=dtype))
                    target += fresh
                    continue
                if letter not in available:  # summed in this operand only: broadcast back
                    pieces.append(letter)
                    arrays.append(np.ones(sizes[letter], dtype=dtype))
                    available.add(letter)
                target += letter
            grads.append(xp.einsum(",".join(pieces) + "->" + target, *arrays))
        return tuple(grads)


def _einsum_arrays(equation: str, *arrays: np.ndarray) -> np.ndarray:
    # NumPy's path optimiser (BLAS for matrix-like contractions) pays off beyond tiny inputs
    optimize = len(arrays) > 2 or sum(np.size(array) for array in arrays) > 4096
    return np.asarray(np.einsum(equation, *arrays, optimize=optimize))


def _einsum_graph(equation: str, *operands: Any) -> Tensor:
    tensors = [value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))
               for value in operands]
    return einsum(equation, *tensors)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over the letters of `equation` ('ij,jk->ik', '...ij->...ji',
    'ii->i', implicit output); operands may also come as one list."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not "
                        f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for operand in operands:
        check_tensor("einsum", "operands", operand)
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    terms, output = _parse(equation, list(operands))
    tensors = list(promote(*operands)) if len(operands) > 1 else list(operands)
    # letters must agree in size; size 1 broadcasts (expand, so the gradient sums back)
    sizes: dict[str, int] = {}
    for term, tensor in zip(terms, tensors):
        for letter, size in zip(term, tensor.shape):
            known = sizes.get(letter)
            if known is None or known == 1:
                sizes[letter] = size
            elif size not in (known, 1):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(letter '{letter}' has sizes {known} and {size})")
    for position, (term, tensor) in enumerate(zip(terms, tensors)):
        wanted = tuple(sizes[letter] for letter in term)
        if tensor.shape != wanted:
            tensors[position] = mv.expand(tensor, wanted)
    for letter in output:
        if letter not in sizes:
            raise RuntimeError(f"einsum(): output subscript {letter} does not appear in the "
                               f"equation for any input operand")
    if len(set(output)) != len(output):
        raise RuntimeError("einsum(): output subscript appears more than once in the output")
    if not dtypes.is_floating(tensors[0].dtype):
        arrays = [tensor.data for tensor in tensors]
        return Tensor._from_op(np.asarray(np.einsum(",".join(terms) + "->" + output, *arrays)))
    return Einsum.apply(*tensors, terms=tuple(terms), output=output)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract the last `dims` dims of a with the first of b, or the listed dim pairs
    ([dims_a, dims_b])."""
    check_tensor("tensordot", "a", a)
    check_tensor("tensordot", "b", b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a = list(range(a.ndim - dims, a.ndim))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(dims_a) != len(dims_b):
            raise RuntimeError(f"both dimension lists should have same length (got {dims_a} and "
                               f"{dims_b})")
    dims_a = [normalize_dim(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [normalize_dim(d, b.ndim, "tensordot") for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} in "
                               f"dim {db}")
    letters = iter(string.ascii_letters)
    a_term = [next(letters) for _ in range(a.ndim)]
    b_term = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        b_term[db] = a_term[da]
    output = [a_term[d] for d in range(a.ndim) if d not in dims_a] + \
        [b_term[d] for d in range(b.ndim) if d not in dims_b]
    return einsum("".join(a_term) + "," + "".join(b_term) + "->" + "".join(output), a, b)


def _tril_graph(x: Any, k: int = 0) -> Tensor:
    return tril(x if isinstance(x, Tensor) else Tensor._from_op(np.asarray(x)), k)


def _triu_graph(x: Any, k: int = 0) -> Tensor:
    return triu(x if isinstance(x, Tensor) else Tensor._from_op(np.asarray(x)), k)


NUMPY_XP: dict[str, Any] = {"einsum": _einsum_arrays, "tril": np.tril, "triu": np.triu}
GRAPH_XP: dict[str, Any] = {"einsum": _einsum_graph, "tril": _tril_graph, "triu": _triu_graph}

TENSOR_METHODS = {
    "tril": tril,
    "triu": triu,
    "diag": diag,
    "diagonal": diagonal,
    "diag_embed": diag_embed,
    "trace": trace,
    "outer": outer,
    "ger": outer,
    "kron": kron,
    "cross": cross,
}
FUNCTIONAL: dict = {}
TOPLEVEL = {**TENSOR_METHODS, "einsum": einsum, "tensordot": tensordot}
