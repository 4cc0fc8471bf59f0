"""Linear algebra against PyTorch: tril/triu, diag/diagonal/diag_embed/trace, outer, kron,
cross, einsum (ellipsis, repeated letters, implicit output), tensordot; minigrad.linalg
inv/solve/det/slogdet/cholesky/eigh/svd/qr/matrix_power/pinv and the norms, cdist, dist.
Values, dtypes and input gradients in float32 and float64, gradcheck and gradgradcheck
(decompositions at well-conditioned inputs; sign-invariant functions of eigen- and singular
vectors), second derivatives against torch, PyTorch's exception types."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.torch_compare import compare_with_torch

torch = pytest.importorskip("torch")

float_dtypes = st.sampled_from([np.float32, np.float64])
batches = st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple)


def data(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def tolerances(dtype):
    return {"rtol": 2e-3, "atol": 2e-4} if dtype == np.float32 else {}


def second_order(fn, *arrays):
    inputs = [mg.tensor(array, requires_grad=True) for array in arrays]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# ---- structure ------------------------------------------------------------------------------
@settings(max_examples=15)
@given(batch=batches, rows=st.integers(0, 4), cols=st.integers(0, 4),
       diagonal=st.integers(-5, 5), dtype=float_dtypes)
def test_tril_triu_match_torch(batch, rows, cols, diagonal, dtype):
    x = data(batch + (rows, cols), dtype)
    compare_with_torch(lambda a: mg.tril(a, diagonal), lambda a: torch.tril(a, diagonal), [x])
    compare_with_torch(lambda a: a.triu(diagonal), lambda a: a.triu(diagonal), [x])
    ints = np.arange(rows * cols).reshape(rows, cols)
    compare_with_torch(lambda a: mg.triu(a, diagonal), lambda a: torch.triu(a, diagonal), [ints])


@settings(max_examples=15)
@given(shape=st.lists(st.integers(0, 4), min_size=2, max_size=4).map(tuple),
       offset=st.integers(-4, 4), dtype=float_dtypes, data_=st.data())
def test_diagonal_and_diag_embed_match_torch(shape, offset, dtype, data_):
    ndim = len(shape)
    dim1 = data_.draw(st.integers(-ndim, ndim - 1))
    dim2 = data_.draw(st.integers(-ndim, ndim - 1).filter(lambda d: d % ndim != dim1 % ndim))
    x = data(shape, dtype)
    compare_with_torch(lambda a: a.diagonal(offset, dim1, dim2),
                       lambda a: a.diagonal(offset, dim1, dim2), [x])
    embed1 = data_.draw(st.integers(-ndim - 1, ndim))
    embed2 = data_.draw(st.integers(-ndim - 1, ndim).filter(
        lambda d: d % (ndim + 1) != embed1 % (ndim + 1)))
    compare_with_torch(lambda a: mg.diag_embed(a, offset, embed1, embed2),
                       lambda a: torch.diag_embed(a, offset, embed1, embed2), [x])


@pytest.mark.parametrize("shape", [(0,), (3,), (3, 3), (2, 4), (4, 2), (0, 0)])
@pytest.mark.parametrize("k", [-1, 0, 2])
def test_diag_matches_torch(shape, k):
    compare_with_torch(lambda a: mg.diag(a, k), lambda a: torch.diag(a, k), [data(shape)])


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (0, 2)])
def test_trace_matches_torch(shape):
    compare_with_torch(mg.trace, torch.trace, [data(shape)])
    compare_with_torch(mg.trace, torch.trace, [np.arange(int(np.prod(shape))).reshape(shape)])


@settings(max_examples=15)
@given(n=st.integers(0, 4), m=st.integers(0, 4), dtype=float_dtypes)
def test_outer_matches_torch(n, m, dtype):
    compare_with_torch(mg.outer, torch.outer, [data((n,), dtype), data((m,), dtype, 1)])
    compare_with_torch(lambda a, b: a.ger(b), lambda a, b: a.ger(b),
                       [data((n,), dtype), data((m,), dtype, 1)])


@pytest.mark.parametrize(("a", "b"), [((2, 3), (4, 1)), ((3,), (2, 2)), ((2, 1, 2), (3, 2)),
                                      ((), (2,)), ((0, 2), (3, 3))])
def test_kron_matches_torch(a, b):
    for dtype in (np.float32, np.float64):
        compare_with_torch(mg.kron, torch.kron, [data(a, dtype), data(b, dtype, 1)])


@pytest.mark.parametrize(("a", "b", "dim"), [((3,), (3,), None), ((4, 3), (4, 3), 1),
                                             ((3, 5), (3, 1), 0), ((2, 3, 3), (1, 3, 3), -1),
                                             ((2, 3, 4), (2, 3, 4), None)])
def test_cross_matches_torch(a, b, dim):
    for dtype in (np.float32, np.float64):
        compare_with_torch(lambda x, y: mg.cross(x, y, dim=dim),
                           lambda x, y: torch.cross(x, y, dim=dim),
                           [data(a, dtype), data(b, dtype, 1)])
    compare_with_torch(mg.linalg.cross, torch.linalg.cross, [data((2, 3)), data((2, 3), seed=1)])


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,jk", [(2, 2, 3), (3, 4)]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 2)]),
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("bii->b", [(2, 3, 3)]), ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]), ("i,j->ij", [(2,), (3,)]), ("i,i->", [(4,), (4,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("ijk,k->ij", [(2, 3, 4), (4,)]), ("ij,jk,kl->il",
                                                                         [(2, 3), (3, 4), (4, 2)]),
    ("iij->j", [(2, 2, 3)]), ("ij,j", [(0, 3), (3,)]), ("...", [()]), ("i,i", [(1,), (3,)]),
    ("b i j, b j k -> b i k", [(2, 2, 3), (2, 3, 2)]), ("iji->j", [(2, 3, 2)]),
]


@pytest.mark.parametrize(("equation", "shapes"), EINSUMS)
def test_einsum_matches_torch(equation, shapes):
    for dtype in (np.float32, np.float64):
        arrays = [data(shape, dtype, seed) for seed, shape in enumerate(shapes)]
        compare_with_torch(lambda *xs: mg.einsum(equation, *xs),
                           lambda *xs: torch.einsum(equation, *xs), arrays, **tolerances(dtype))
    compare_with_torch(lambda *xs: mg.einsum(equation, list(xs)),
                       lambda *xs: torch.einsum(equation, list(xs)), arrays)


@pytest.mark.parametrize(("equation", "shapes"), EINSUMS[:10] + EINSUMS[14:15])
def test_einsum_second_order(equation, shapes):
    second_order(lambda *xs: mg.einsum(equation, *xs),
                 *[data(shape, seed=seed) for seed, shape in enumerate(shapes)])


def test_einsum_integers():
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    compare_with_torch(lambda x, y: mg.einsum("ij,jk->ik", x, y),
                       lambda x, y: torch.einsum("ij,jk->ik", x, y), [a, b])


@pytest.mark.parametrize(("a", "b", "dims"), [((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 2), 1),
                                              ((2, 3), (4,), 0), ((2, 3, 4), (4, 2, 3),
                                                                  ([1, 2], [2, 0]))])
def test_tensordot_matches_torch(a, b, dims):
    compare_with_torch(lambda x, y: mg.tensordot(x, y, dims),
                       lambda x, y: torch.tensordot(x, y, dims), [data(a), data(b, seed=1)])


def test_structure_second_order():
    x = data((3, 4))
    second_order(lambda a: mg.tril(a, 1) ** 2, x)
    second_order(lambda a: a.diagonal(1) ** 2, x)
    second_order(lambda a: mg.diag_embed(a, -1) ** 2, x)
    second_order(lambda a, b: mg.kron(a, b) ** 2, x, data((2, 2), seed=1))
    second_order(lambda a, b: mg.cross(a, b, dim=1) ** 2, data((4, 3)), data((4, 3), seed=1))


# ---- decompositions -------------------------------------------------------------------------
def well_conditioned(batch, n, dtype=np.float64, seed=0):
    return (data(batch + (n, n), np.float64, seed) + 3 * np.eye(n)).astype(dtype)


def spd(batch, n, dtype=np.float64, seed=0):
    a = data(batch + (n, n), np.float64, seed)
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def symmetric(f):
    """f of the symmetrised input: eigh and cholesky read one triangle, so a gradient
    check perturbing the other would see nothing."""
    return lambda a: f(a + a.mT)


def eigh_parts(module, a):
    values, vectors = module.linalg.eigh(a)
    return values, vectors ** 2  # the vectors' signs are LAPACK's choice


DECOMPOSITIONS = {
    "inv": (mg.linalg.inv, torch.linalg.inv, well_conditioned),
    "inverse": (lambda a: a.inverse(), lambda a: a.inverse(), well_conditioned),
    "det": (mg.linalg.det, torch.linalg.det, well_conditioned),
    "det_method": (lambda a: a.det(), lambda a: a.det(), well_conditioned),
    "logabsdet": (lambda a: mg.linalg.slogdet(a)[1], lambda a: torch.linalg.slogdet(a)[1],
                  well_conditioned),
    "logdet": (lambda a: mg.logdet(a), lambda a: torch.logdet(a), spd),
    "cholesky": (symmetric(mg.linalg.cholesky), symmetric(torch.linalg.cholesky), spd),
    "cholesky_upper": (symmetric(lambda a: mg.linalg.cholesky(a, upper=True)),
                       symmetric(lambda a: torch.linalg.cholesky(a, upper=True)), spd),
    "eigh": (symmetric(lambda a: eigh_parts(mg, a)), symmetric(lambda a: eigh_parts(torch, a)),
             spd),
    "eigvalsh": (symmetric(mg.linalg.eigvalsh), symmetric(torch.linalg.eigvalsh), spd),
    "matrix_power3": (lambda a: mg.linalg.matrix_power(a, 3),
                      lambda a: torch.linalg.matrix_power(a, 3), well_conditioned),
    "matrix_power-2": (lambda a: mg.linalg.matrix_power(a, -2),
                       lambda a: torch.linalg.matrix_power(a, -2), well_conditioned),
    "matrix_power0": (lambda a: mg.linalg.matrix_power(a, 0),
                      lambda a: torch.linalg.matrix_power(a, 0), well_conditioned),
}


@pytest.mark.parametrize("name", sorted(DECOMPOSITIONS))
@pytest.mark.parametrize("batch", [(), (2,), (0,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_square_decompositions_match_torch(name, batch, dtype):
    ours, theirs, make = DECOMPOSITIONS[name]
    compare_with_torch(ours, theirs, [make(batch, 3, dtype)], **tolerances(dtype))


@pytest.mark.parametrize("name", sorted(DECOMPOSITIONS))
def test_square_decompositions_second_order(name):
    ours, _, make = DECOMPOSITIONS[name]
    if name == "matrix_power0":
        return  # constant: no gradient to check
    second_order(ours, make((2,), 3))


def svd_parts(module, full_matrices):
    def call(a):
        U, S, Vh = module.linalg.svd(a, full_matrices=full_matrices)
        return U ** 2, S, Vh ** 2
    return call


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 5, 2), (0, 3, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_svd_matches_torch(shape, dtype):
    x = data(shape, dtype)
    compare_with_torch(svd_parts(mg, False), svd_parts(torch, False), [x], **tolerances(dtype))
    compare_with_torch(mg.linalg.svdvals, torch.linalg.svdvals, [x], **tolerances(dtype))
    compare_with_torch(mg.linalg.pinv, torch.linalg.pinv, [x], **tolerances(dtype))
    # full matrices: the extra columns carry no gradient in either framework
    full = compare_with_torch(lambda a: mg.linalg.svd(a)[1], lambda a: torch.linalg.svd(a)[1],
                              [x], **tolerances(dtype))
    assert full[0].shape == tuple(torch.linalg.svd(torch.tensor(x))[1].shape)
    U, _S, V = mg.svd(mg.tensor(x))
    TU, _TS, TV = torch.svd(torch.tensor(x))
    assert U.shape == tuple(TU.shape) and V.shape == tuple(TV.shape)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3)])
def test_svd_second_order(shape):
    second_order(svd_parts(mg, False), data(shape))
    second_order(mg.linalg.svdvals, data(shape))
    second_order(mg.linalg.pinv, data(shape))


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 5, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_qr_matches_torch(shape, dtype):
    def parts(module):
        return lambda a: tuple(r ** 2 for r in module.linalg.qr(a))  # signs are LAPACK's
    compare_with_torch(parts(mg), parts(torch), [data(shape, dtype)], **tolerances(dtype))


def test_qr_second_order_and_modes():
    second_order(lambda a: tuple(r ** 2 for r in mg.linalg.qr(a)), data((4, 3)))
    x = data((3, 5))
    for mode in ("reduced", "complete", "r"):
        ours, theirs = mg.linalg.qr(mg.tensor(x), mode), torch.linalg.qr(torch.tensor(x), mode)
        assert ours.R.shape == tuple(theirs.R.shape)
        np.testing.assert_allclose(np.abs(ours.R.numpy()), np.abs(theirs.R.numpy()), atol=1e-10)


@pytest.mark.parametrize("b_shape", [(3, 2), (3,), (2, 3, 2), (2, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_solve_matches_torch(b_shape, dtype):
    A = well_conditioned((2,), 3, dtype)
    compare_with_torch(mg.linalg.solve, torch.linalg.solve, [A, data(b_shape, dtype, 1)],
                       **tolerances(dtype))
    if len(b_shape) == 3:
        B = np.swapaxes(data(b_shape, dtype, 2), -1, -2).copy()
        compare_with_torch(lambda a, b: mg.linalg.solve(a, b, left=False),
                           lambda a, b: torch.linalg.solve(a, b, left=False), [A, B],
                           **tolerances(dtype))
    second_order(mg.linalg.solve, well_conditioned((2,), 3), data(b_shape, seed=1))


def test_second_derivatives_match_torch():
    A = spd((), 3)
    v = data((3, 3), seed=4)
    for ours_fn, torch_fn in [
            (lambda a: mg.linalg.eigh(a + a.mT)[1] ** 2, lambda a: torch.linalg.eigh(a + a.mT)[1] ** 2),
            (lambda a: mg.linalg.svd(a)[0] ** 2, lambda a: torch.linalg.svd(a)[0] ** 2),
            (lambda a: mg.linalg.inv(a) * mg.linalg.det(a), lambda a: torch.linalg.inv(a) * torch.linalg.det(a)),
            (lambda a: mg.linalg.cholesky(a + a.mT), lambda a: torch.linalg.cholesky(a + a.mT))]:
        ours = mg.tensor(A, requires_grad=True)
        (g,) = mg.autograd.grad((ours_fn(ours) * mg.tensor(v)).sum(), ours, create_graph=True)
        (gg,) = mg.autograd.grad((g * mg.tensor(v.T)).sum(), ours)
        theirs = torch.tensor(A, requires_grad=True)
        (tg,) = torch.autograd.grad((torch_fn(theirs) * torch.tensor(v)).sum(), theirs,
                                    create_graph=True)
        (tgg,) = torch.autograd.grad((tg * torch.tensor(v.T)).sum(), theirs)
        np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-6, atol=1e-8)


# ---- norms ----------------------------------------------------------------------------------
VECTOR_ORDS = [2, 1, 3, 0.5, math.inf, -math.inf, 0, -1]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize(("shape", "dim", "keepdim"),
                         [((2, 3, 4), None, False), ((2, 3, 4), 1, True), ((2, 3, 4), (0, 2), False),
                          ((5,), 0, False), ((), None, False), ((0, 3), 1, False)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_norm_matches_torch(ord, shape, dim, keepdim, dtype):
    x = data(shape, dtype)
    try:
        torch.linalg.vector_norm(torch.tensor(x), ord, dim, keepdim)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            mg.linalg.vector_norm(mg.tensor(x), ord, dim, keepdim)
        return
    compare_with_torch(lambda a: mg.linalg.vector_norm(a, ord, dim, keepdim),
                       lambda a: torch.linalg.vector_norm(a, ord, dim, keepdim), [x],
                       **tolerances(dtype))


def test_vector_norm_at_zero_has_zero_gradient_like_torch():
    compare_with_torch(lambda a: mg.linalg.vector_norm(a, 2, 1), lambda a:
                       torch.linalg.vector_norm(a, 2, 1), [np.zeros((2, 3))])
    compare_with_torch(lambda a: mg.linalg.vector_norm(a, 3), lambda a:
                       torch.linalg.vector_norm(a, 3), [np.zeros((2, 3))])


MATRIX_ORDS = ["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize(("shape", "dim"), [((3, 4), (-2, -1)), ((2, 4, 3), (-1, -2)),
                                            ((3, 2, 4), (0, 2))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_matches_torch(ord, shape, dim, keepdim):
    for dtype in (np.float32, np.float64):
        compare_with_torch(lambda a: mg.linalg.matrix_norm(a, ord, dim, keepdim),
                           lambda a: torch.linalg.matrix_norm(a, ord, dim, keepdim),
                           [data(shape, dtype)], **tolerances(dtype))


@pytest.mark.parametrize(("shape", "ord", "dim"),
                         [((2, 3), None, None), ((2, 3), "fro", None), ((2, 3), 2, None),
                          ((4,), 3, None), ((2, 3, 4), None, 1), ((2, 3, 4), "nuc", (1, 2)),
                          ((2, 3, 4), None, (0, 1))])
def test_linalg_norm_matches_torch(shape, ord, dim):
    compare_with_torch(lambda a: mg.linalg.norm(a, ord, dim),
                       lambda a: torch.linalg.norm(a, ord, dim), [data(shape)])


@pytest.mark.parametrize(("p", "dim"), [("fro", None), (2, 1), (1, None), ("nuc", None),
                                        (3, (0, 1)), (math.inf, 0)])
def test_tensor_norm_and_dist_match_torch(p, dim):
    compare_with_torch(lambda a: a.norm(p, dim), lambda a: a.norm(p, dim), [data((3, 4))])
    compare_with_torch(lambda a: mg.norm(a, p, dim), lambda a: torch.norm(a, p, dim),
                       [data((3, 4))])
    if not isinstance(p, str):
        compare_with_torch(lambda a, b: mg.dist(a, b, p), lambda a, b: torch.dist(a, b, p),
                           [data((3, 4)), data((4,), seed=1)])


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, math.inf])
@pytest.mark.parametrize(("a", "b"), [((4, 3), (5, 3)), ((2, 4, 3), (2, 1, 3)), ((0, 3), (2, 3))])
def test_cdist_matches_torch(p, a, b):
    for dtype in (np.float32, np.float64):
        compare_with_torch(lambda x, y: mg.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p),
                           [data(a, dtype), data(b, dtype, 1)], **tolerances(dtype))


def test_norms_second_order():
    x = data((3, 4))
    second_order(lambda a: mg.linalg.vector_norm(a, 2, 1), x)
    second_order(lambda a: mg.linalg.vector_norm(a, 3, 0), x)
    second_order(lambda a: mg.linalg.vector_norm(a, 1), x)
    second_order(lambda a: mg.linalg.matrix_norm(a, "nuc"), x)
    second_order(lambda a: mg.linalg.matrix_norm(a, 2), x)
    second_order(lambda a, b: mg.cdist(a, b), x, data((2, 4), seed=1))


def test_float32_stays_float32():
    x = mg.tensor(well_conditioned((), 3, np.float32), requires_grad=True)
    for fn in (mg.linalg.inv, mg.linalg.det, lambda a: mg.linalg.svd(a)[1],
               lambda a: mg.linalg.eigh(a)[0], lambda a: mg.linalg.matrix_norm(a, "nuc"),
               lambda a: mg.einsum("ij,jk", a, a), lambda a: mg.linalg.vector_norm(a, 3)):
        out = fn(x)
        assert out.dtype == mg.float32
        (g,) = mg.autograd.grad(out.sum(), x)
        assert g.dtype == mg.float32


# ---- errors ---------------------------------------------------------------------------------
def test_bad_arguments_raise_torch_exception_types():
    square, rect = np.eye(3), np.ones((2, 3))
    singular = np.ones((3, 3))
    cases = [
        (lambda m, a: m.linalg.inv(a), rect, RuntimeError),
        (lambda m, a: m.linalg.inv(a), singular, RuntimeError),
        (lambda m, a: m.linalg.det(a), np.ones(3), RuntimeError),
        (lambda m, a: m.linalg.cholesky(a), -square, RuntimeError),
        (lambda m, a: m.linalg.solve(a, a[:2]), square, RuntimeError),
        (lambda m, a: m.linalg.eigh(a, "X"), square, RuntimeError),
        (lambda m, a: m.linalg.qr(a, "bad"), square, RuntimeError),
        (lambda m, a: m.linalg.matrix_norm(a, 3), square, RuntimeError),
        (lambda m, a: m.linalg.vector_norm(a, "fro"), square, TypeError),
        (lambda m, a: m.linalg.norm(a, 2), np.ones((2, 2, 2)), RuntimeError),
        (lambda m, a: m.linalg.inv(a), np.eye(3, dtype=np.int64), RuntimeError),
        (lambda m, a: m.einsum("ij,jk", a), square, (ValueError, RuntimeError)),
        (lambda m, a: m.einsum("ij->ik", a), square, (ValueError, RuntimeError)),
        (lambda m, a: m.einsum("ijk", a), square, RuntimeError),
        (lambda m, a: m.tril(a), np.ones(3), RuntimeError),
        (lambda m, a: m.trace(a), np.ones(3), RuntimeError),
        (lambda m, a: m.diagonal(a, 0, 1, 1), square, RuntimeError),
        (lambda m, a: m.cross(a, a, dim=0), rect, RuntimeError),
        (lambda m, a: m.tensordot(a, a, 3), square, RuntimeError),
        (lambda m, a: m.cdist(a, a[:, :2]), square, RuntimeError),
        (lambda m, a: m.diag(a), np.ones((2, 2, 2)), RuntimeError),
        (lambda m, a: m.outer(a, a), square, RuntimeError),
    ]
    for call, array, error in cases:
        with pytest.raises(error):
            call(torch, torch.tensor(array))
        with pytest.raises(error):
            call(mg, mg.tensor(array))
