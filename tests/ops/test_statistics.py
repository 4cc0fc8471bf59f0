"""std_mean/var_mean, aminmax, any/all, count_nonzero, histc, bincount, and the in-place
indexing writes (index_add_ ... scatter_reduce_) against PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing.torch_compare import compare_with_torch

torch = pytest.importorskip("torch")

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
float_dtypes = st.sampled_from([np.float32, np.float64])


def data(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@settings(max_examples=20)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), dtype=float_dtypes,
       data_=st.data(), keepdim=st.booleans(), correction=st.sampled_from([None, 0, 1]))
def test_std_var_mean_match_torch(shape, dtype, data_, keepdim, correction):
    dim = data_.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    x = data(shape, dtype)
    for name in ("std_mean", "var_mean"):
        compare_with_torch(
            lambda a, n=name: getattr(mg, n)(a, dim, keepdim=keepdim, correction=correction),
            lambda a, n=name: getattr(torch, n)(a, dim, keepdim=keepdim, correction=correction),
            [x], rtol=1e-4 if dtype == np.float32 else None, atol=1e-5 if dtype == np.float32
            else None)


@settings(max_examples=20)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), dtype=float_dtypes,
       data_=st.data(), keepdim=st.booleans())
def test_aminmax_matches_torch(shape, dtype, data_, keepdim):
    x = np.round(data(shape, dtype))  # ties share the gradient in both
    compare_with_torch(lambda a: mg.aminmax(a), lambda a: torch.aminmax(a), [x])
    if shape:
        dim = data_.draw(st.integers(-len(shape), len(shape) - 1))
        compare_with_torch(lambda a: a.aminmax(dim=dim, keepdim=keepdim),
                           lambda a: a.aminmax(dim=dim, keepdim=keepdim), [x])


@settings(max_examples=20)
@given(shape=shapes, data_=st.data(), keepdim=st.booleans(),
       dtype=st.sampled_from(["float32", "int64", "bool", "uint8"]))
def test_any_all_count_nonzero_match_torch(shape, data_, keepdim, dtype):
    x = (np.random.default_rng(1).integers(0, 2, shape) * 3).astype(dtype)
    compare_with_torch(mg.any, torch.any, [x], grad=False)
    compare_with_torch(lambda a: a.all(), lambda a: a.all(), [x], grad=False)
    compare_with_torch(mg.count_nonzero, torch.count_nonzero, [x], grad=False)
    if shape:
        dim = data_.draw(st.integers(-len(shape), len(shape) - 1))
        compare_with_torch(lambda a: mg.any(a, dim, keepdim), lambda a: torch.any(a, dim, keepdim),
                           [x], grad=False)
        compare_with_torch(lambda a: a.all(dim, keepdim), lambda a: a.all(dim, keepdim), [x],
                           grad=False)
        compare_with_torch(lambda a: a.count_nonzero(dim), lambda a: a.count_nonzero(dim), [x],
                           grad=False)
        if len(shape) > 1:
            compare_with_torch(lambda a: mg.any(a, (0, -1)), lambda a: torch.any(a, (0, -1)),
                               [x], grad=False)


@pytest.mark.parametrize(("values", "bins", "low", "high"),
                         [([1.0, 2, 1, 4], 4, 0, 3), ([1.0, 2, 1], 4, 0, 0), ([], 3, 0, 0),
                          ([2.0, 2.0], 5, 0, 0), ([0.5, -1, 7, 3], 7, -2, 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histc_matches_torch(values, bins, low, high, dtype):
    compare_with_torch(lambda a: mg.histc(a, bins, low, high),
                       lambda a: torch.histc(a, bins, low, high),
                       [np.array(values, dtype=dtype)], grad=False)


@pytest.mark.parametrize(("values", "weights", "minlength"),
                         [([0, 1, 1, 3], None, 0), ([0, 1, 1], [0.5, 1.0, 1.0], 4), ([], None, 2),
                          ([2, 2], [1, 2], 0), ([4], np.array([1.5], dtype=np.float32), 0)])
def test_bincount_matches_torch(values, weights, minlength):
    x = np.array(values, dtype=np.int64)
    if weights is None:
        compare_with_torch(lambda a: mg.bincount(a, minlength=minlength),
                           lambda a: torch.bincount(a, minlength=minlength), [x])
    else:
        compare_with_torch(lambda a, w: mg.bincount(a, w, minlength),
                           lambda a, w: torch.bincount(a, w, minlength),
                           [x, np.asarray(weights)], grad=False)


def test_in_place_indexing_writes_match_torch():
    index = np.array([2, 0, 2])
    scatter_index = np.array([[0, 1, 2, 0]])

    def run(module, x, s):
        y = x * 1.0
        y.index_add_(0, module.tensor(index), s, alpha=2)
        y.index_fill_(1, module.tensor([1]), -1.0)
        y.index_copy_(0, module.tensor([1]), s[:1])
        y.scatter_(0, module.tensor(scatter_index), s[:1])
        y.scatter_add_(0, module.tensor(scatter_index), s[1:2])
        y.scatter_reduce_(0, module.tensor(scatter_index), s[2:], "amax")
        return y

    compare_with_torch(lambda x, s: run(mg, x, s), lambda x, s: run(torch, x, s),
                       [data((3, 4)), data((3, 4), seed=1)])


def test_in_place_writes_refuse_leaves_and_bad_arguments_first():
    x = mg.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.index_fill_(0, mg.tensor([0]), 1.0)
    y = mg.zeros(3, 4)
    version = y.version
    with pytest.raises(IndexError):
        y.index_add_(0, mg.tensor([5]), mg.ones(1, 4))
    assert y.version == version and not y.data.any()
    y.index_add_(0, mg.tensor([1]), mg.ones(1, 4))
    assert y.version == version + 1 and y.data[1].tolist() == [1, 1, 1, 1]


def test_bad_arguments_raise_torch_exception_types():
    cases = [
        (lambda m: m.bincount(m.tensor([-1])), RuntimeError),
        (lambda m: m.bincount(m.tensor([[1]])), RuntimeError),
        (lambda m: m.histc(m.tensor([1, 2])), NotImplementedError),
        (lambda m: m.histc(m.tensor([1.0]), bins=0), RuntimeError),
        (lambda m: m.histc(m.tensor([1.0]), min=2, max=1), RuntimeError),
        (lambda m: m.aminmax(m.zeros(0)), RuntimeError),
        (lambda m: m.any(m.zeros(2), 1), IndexError),
    ]
    for call, error in cases:
        with pytest.raises(error):
            call(torch)
        with pytest.raises(error):
            call(mg)
