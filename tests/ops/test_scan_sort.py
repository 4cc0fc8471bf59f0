"""Scans (cumsum, cumprod with zeros, cummax/cummin, logcumsumexp) and sorting (sort,
argsort, msort, topk, kthvalue, median/nanmedian, mode, unique, unique_consecutive,
searchsorted, bucketize) against PyTorch: values, dtypes, input gradients (float32 and
float64), tie and NaN rules, gradcheck and gradgradcheck, PyTorch's exception types."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.torch_compare import compare_with_torch

torch = pytest.importorskip("torch")

float_dtypes = st.sampled_from([np.float32, np.float64])
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
nonempty = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def data(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def distinct(shape, dtype=np.float64, seed=0):
    """Values with no ties (a permutation), so every index is determined."""
    count = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(count).reshape(shape) * 0.5 - 3).astype(dtype)


def tied(shape, dtype=np.float64, seed=0):
    """Few distinct values: many ties."""
    return np.random.default_rng(seed).integers(0, 3, shape).astype(dtype)


def with_nan(shape, dtype=np.float64, seed=0):
    values = tied(shape, dtype, seed)
    mask = np.random.default_rng(seed + 1).random(shape) < 0.2
    values[mask] = np.nan
    return values


def second_order(fn, *arrays):
    inputs = [mg.tensor(array, requires_grad=True) for array in arrays]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def dim_of(data_, shape):
    ndim = max(len(shape), 1)
    return data_.draw(st.integers(-ndim, ndim - 1))


# ---- scans ----------------------------------------------------------------------------------
@settings(max_examples=20)
@given(shape=shapes, dtype=float_dtypes, data_=st.data())
def test_cumsum_cumprod_match_torch(shape, dtype, data_):
    dim = dim_of(data_, shape)
    x = data(shape, dtype)
    compare_with_torch(lambda a: a.cumsum(dim), lambda a: a.cumsum(dim), [x])
    compare_with_torch(lambda a: mg.cumprod(a, dim), lambda a: torch.cumprod(a, dim), [x],
                       rtol=1e-4 if dtype == np.float32 else None)
    zeros = np.where(np.random.default_rng(3).random(shape) < 0.3, 0, x).astype(dtype)
    compare_with_torch(lambda a: mg.cumprod(a, dim), lambda a: torch.cumprod(a, dim), [zeros],
                       rtol=1e-4 if dtype == np.float32 else None)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_integer_scans_accumulate_in_int64(dtype):
    x = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    for name in ("cumsum", "cumprod"):
        compare_with_torch(lambda a, n=name: getattr(a, n)(1), lambda a, n=name: getattr(a, n)(1),
                           [x])
    compare_with_torch(lambda a: a.cumsum(0, dtype=mg.float64),
                       lambda a: a.cumsum(0, dtype=torch.float64), [x])


@settings(max_examples=20)
@given(shape=shapes, dtype=float_dtypes, data_=st.data(),
       make=st.sampled_from([data, tied, with_nan]))
def test_cummax_cummin_match_torch(shape, dtype, data_, make):
    dim = dim_of(data_, shape)
    x = make(shape, dtype)
    compare_with_torch(lambda a: mg.cummax(a, dim), lambda a: torch.cummax(a, dim), [x])
    compare_with_torch(lambda a: a.cummin(dim), lambda a: a.cummin(dim), [x])


@settings(max_examples=15)
@given(shape=shapes, dtype=float_dtypes, data_=st.data())
def test_logcumsumexp_matches_torch(shape, dtype, data_):
    dim = dim_of(data_, shape)
    x = data(shape, dtype) * 5
    compare_with_torch(lambda a: a.logcumsumexp(dim), lambda a: a.logcumsumexp(dim), [x],
                       rtol=1e-4 if dtype == np.float32 else None)


def test_logcumsumexp_wide_range():
    compare_with_torch(lambda a: mg.logcumsumexp(a, 0), lambda a: torch.logcumsumexp(a, 0),
                       [np.array([-100.0, 0.0, 50.0, -20.0])])


def test_scans_second_order():
    x = data((3, 4))
    second_order(lambda a: a.cumsum(1) ** 2, x)
    second_order(lambda a: a.cumprod(0), x)
    zeros = x.copy()
    zeros[1, 2] = 0
    zeros[0, 0] = 0
    second_order(lambda a: a.cumprod(1), zeros)
    second_order(lambda a: a.cummax(1).values ** 2, distinct((3, 4)))
    second_order(lambda a: a.logcumsumexp(1), x)


def test_cumprod_second_derivative_matches_torch():
    x = np.array([[2.0, 0.0, 3.0, 0.5], [1.5, -1.0, 0.0, 0.0]])
    v = data((2, 4), seed=1)
    ours = mg.tensor(x, requires_grad=True)
    (g,) = mg.autograd.grad((ours.cumprod(1) * mg.tensor(v)).sum(), ours, create_graph=True)
    (gg,) = mg.autograd.grad((g * mg.tensor(v)).sum(), ours)
    theirs = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad((theirs.cumprod(1) * torch.tensor(v)).sum(), theirs,
                                create_graph=True)
    (tgg,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), theirs)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-10, atol=1e-12)


# ---- sorting --------------------------------------------------------------------------------
@settings(max_examples=20)
@given(shape=shapes, dtype=float_dtypes, data_=st.data(),
       make=st.sampled_from([data, tied, with_nan]), descending=st.booleans())
def test_sort_argsort_match_torch(shape, dtype, data_, make, descending):
    dim = dim_of(data_, shape)
    x = make(shape, dtype)
    compare_with_torch(lambda a: a.sort(dim=dim, descending=descending, stable=True),
                       lambda a: a.sort(dim=dim, descending=descending, stable=True), [x])
    compare_with_torch(lambda a: mg.argsort(a, dim, descending, stable=True),
                       lambda a: torch.argsort(a, dim=dim, descending=descending, stable=True),
                       [x])
    if shape:
        compare_with_torch(mg.msort, torch.msort, [x])


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_sort_integers(dtype):
    x = (np.array([[3, 1, 2, 1], [0, 2, 2, 5]]) % 2 if dtype == "bool"
         else np.array([[3, 1, 2, 1], [0, 2, 2, 5]])).astype(dtype)
    for descending in (False, True):
        compare_with_torch(lambda a, d=descending: a.sort(dim=1, descending=d, stable=True),
                           lambda a, d=descending: a.sort(dim=1, descending=d, stable=True), [x])


@settings(max_examples=20)
@given(shape=nonempty, dtype=float_dtypes, data_=st.data(), largest=st.booleans())
def test_topk_matches_torch(shape, dtype, data_, largest):
    dim = dim_of(data_, shape)
    k = data_.draw(st.integers(0, shape[dim]))
    compare_with_torch(lambda a: a.topk(k, dim, largest), lambda a: a.topk(k, dim, largest),
                       [distinct(shape, dtype)])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_topk_nan_counts_as_largest_like_torch(k):
    x = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, 0.5, np.nan, -1.0]])
    compare_with_torch(lambda a: a.topk(k), lambda a: a.topk(k), [x])


def test_topk_ties_pick_values_like_torch():
    x = np.array([[1.0, 3.0, 3.0, 2.0, 3.0]])
    ours = mg.tensor(x).topk(2)
    theirs = torch.tensor(x).topk(2)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    assert (x[0, ours.indices.numpy()[0]] == 3).all()


@settings(max_examples=20)
@given(shape=nonempty, dtype=float_dtypes, data_=st.data(), keepdim=st.booleans())
def test_kthvalue_median_mode_match_torch(shape, dtype, data_, keepdim):
    dim = dim_of(data_, shape)
    k = data_.draw(st.integers(1, shape[dim]))
    x = distinct(shape, dtype)
    compare_with_torch(lambda a: a.kthvalue(k, dim, keepdim), lambda a: a.kthvalue(k, dim, keepdim),
                       [x])
    compare_with_torch(lambda a: a.median(dim, keepdim), lambda a: a.median(dim, keepdim), [x])
    compare_with_torch(lambda a: a.nanmedian(dim, keepdim), lambda a: a.nanmedian(dim, keepdim),
                       [x])
    compare_with_torch(mg.median, torch.median, [x])
    compare_with_torch(mg.nanmedian, torch.nanmedian, [x])
    compare_with_torch(lambda a: a.mode(dim, keepdim), lambda a: a.mode(dim, keepdim), [tied(shape)])


@pytest.mark.parametrize("values", [
    [2.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 1.0, np.nan], [np.nan, np.nan],
    [1.0, np.nan, 3.0, 2.0], [5.0], [3.0, 3.0, 3.0]])
def test_median_tie_and_nan_rules(values):
    x = np.array(values)
    compare_with_torch(mg.median, torch.median, [x])
    compare_with_torch(mg.nanmedian, torch.nanmedian, [x])
    compare_with_torch(lambda a: a.median(0), lambda a: a.median(0), [x])
    compare_with_torch(lambda a: a.nanmedian(0), lambda a: a.nanmedian(0), [x])


@pytest.mark.parametrize("values", [[1, 2, 2, 1, 3], [3.0, 3.0, 1.0, 1.0], [5, 4, 3], [7],
                                    [[1, 1, 2], [2, 3, 3]]])
def test_mode_tie_rules(values):
    x = np.array(values)
    compare_with_torch(lambda a: mg.mode(a), lambda a: torch.mode(a), [x])
    compare_with_torch(lambda a: mg.mode(a, 0), lambda a: torch.mode(a, 0), [x])


def test_median_of_empty_is_nan():
    assert np.isnan(mg.median(mg.zeros(0)).item()) and np.isnan(torch.median(torch.zeros(0)))


def test_sorting_second_order():
    x = distinct((3, 4))
    second_order(lambda a: a.sort(1, descending=True).values ** 2, x)
    second_order(lambda a: a.topk(2, 0).values ** 3, x)
    second_order(lambda a: a.median(1).values ** 2, x)
    second_order(lambda a: mg.median(a) ** 2, x)
    second_order(lambda a: a.kthvalue(2, 1).values ** 2, x)


# ---- unique, searches -----------------------------------------------------------------------
@settings(max_examples=20)
@given(shape=shapes, data_=st.data())
def test_unique_matches_torch(shape, data_):
    x = tied(shape).astype(np.int64)
    inverse, counts = data_.draw(st.booleans()), data_.draw(st.booleans())
    compare_with_torch(lambda a: mg.unique(a, return_inverse=inverse, return_counts=counts),
                       lambda a: torch.unique(a, return_inverse=inverse, return_counts=counts),
                       [x])
    compare_with_torch(lambda a: a.unique_consecutive(return_inverse=inverse,
                                                      return_counts=counts),
                       lambda a: a.unique_consecutive(return_inverse=inverse,
                                                      return_counts=counts), [x])
    if shape and shape[0]:
        dim = dim_of(data_, shape)
        if any(size == 0 for axis, size in enumerate(shape) if axis != dim % len(shape)):
            for module in (torch, mg):
                with pytest.raises(RuntimeError):
                    module.unique(module.tensor(x), dim=dim)
            return
        compare_with_torch(lambda a: mg.unique(a, dim=dim, return_inverse=inverse,
                                               return_counts=counts),
                           lambda a: torch.unique(a, dim=dim, return_inverse=inverse,
                                                  return_counts=counts), [x])
        compare_with_torch(lambda a: mg.unique_consecutive(a, return_inverse=inverse,
                                                           return_counts=counts, dim=dim),
                           lambda a: torch.unique_consecutive(a, return_inverse=inverse,
                                                              return_counts=counts, dim=dim),
                           [x])


def test_unique_floats_with_nan():
    compare_with_torch(mg.unique, torch.unique, [np.array([3.0, np.nan, 1.0, np.nan, 1.0])],
                       grad=False)


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("out_int32", [False, True])
def test_searchsorted_bucketize_match_torch(right, out_int32):
    sequence = np.array([1.0, 3.0, 3.0, 5.0, 7.0])
    values = np.array([[0.0, 3.0, 4.0], [7.0, 8.0, 5.0]])
    compare_with_torch(lambda s, v: mg.searchsorted(s, v, right=right, out_int32=out_int32),
                       lambda s, v: torch.searchsorted(s, v, right=right, out_int32=out_int32),
                       [sequence, values], grad=False)
    side = "right" if right else "left"
    compare_with_torch(lambda s, v: mg.searchsorted(s, v, side=side),
                       lambda s, v: torch.searchsorted(s, v, side=side), [sequence, values],
                       grad=False)
    rows = np.array([[1, 3, 5], [2, 4, 6]])
    queries = np.array([[3, 6], [1, 7]])
    compare_with_torch(lambda s, v: mg.searchsorted(s, v, right=right),
                       lambda s, v: torch.searchsorted(s, v, right=right), [rows, queries])
    compare_with_torch(lambda v, b: mg.bucketize(v, b, right=right, out_int32=out_int32),
                       lambda v, b: torch.bucketize(v, b, right=right, out_int32=out_int32),
                       [values, sequence], grad=False)
    shuffled = np.array([5.0, 1.0, 7.0, 3.0])
    sorter = np.argsort(shuffled)
    ours = mg.searchsorted(mg.tensor(shuffled), mg.tensor(values), sorter=mg.tensor(sorter))
    theirs = torch.searchsorted(torch.tensor(shuffled), torch.tensor(values),
                                sorter=torch.tensor(sorter))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert mg.searchsorted(mg.tensor(sequence), 3).item() == torch.searchsorted(
        torch.tensor(sequence), 3).item()


# ---- errors ---------------------------------------------------------------------------------
def test_bad_arguments_raise_torch_exception_types():
    x = np.arange(6.0).reshape(2, 3)
    cases = [
        (lambda m, a: a.topk(4), RuntimeError),
        (lambda m, a: a.topk(-1), RuntimeError),
        (lambda m, a: a.kthvalue(0), RuntimeError),
        (lambda m, a: a.kthvalue(4), RuntimeError),
        (lambda m, a: a.sort(2), IndexError),
        (lambda m, a: a.cumsum(3), IndexError),
        (lambda m, a: a.cummax(-3), IndexError),
        (lambda m, a: a.median(0)[0][:0].median(0), IndexError),
        (lambda m, a: m.searchsorted(a, a[:1]), RuntimeError),
        (lambda m, a: m.searchsorted(a[0], a, side="middle"), RuntimeError),
        (lambda m, a: m.bucketize(a, a), RuntimeError),
        (lambda m, a: m.logcumsumexp(a.long(), 0), RuntimeError),
    ]
    for call, error in cases:
        with pytest.raises(error):
            call(torch, torch.tensor(x))
        with pytest.raises(error):
            call(mg, mg.tensor(x))
