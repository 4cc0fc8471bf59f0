"""Indexing (index_select, take, take_along_dim, index_add/copy/fill, scatter, scatter_reduce,
nonzero, masked_select) and movement composites (roll, rot90, repeat_interleave, tile,
movedim, narrow, unfold, as_strided, atleast_*, tensor_split, h/v/dstack...) against PyTorch:
values, dtypes and input gradients in float32 and float64, gradcheck and gradgradcheck."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.torch_compare import compare_with_torch

torch = pytest.importorskip("torch")

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
nonempty = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
float_dtypes = st.sampled_from([np.float32, np.float64])


def data(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def both(name, *args, **kwargs):
    """The same method call on minigrad and torch tensors."""
    return (lambda x: getattr(x, name)(*args, **kwargs),
            lambda x: getattr(x, name)(*args, **kwargs))


def second_order(fn, *arrays):
    inputs = [mg.tensor(array, requires_grad=True) for array in arrays]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# ---- movement composites -------------------------------------------------------------------
@settings(max_examples=15)
@given(shape=nonempty, dtype=float_dtypes, data_=st.data())
def test_roll_matches_torch(shape, dtype, data_):
    dim = data_.draw(st.integers(-len(shape), len(shape) - 1))
    shift = data_.draw(st.integers(-6, 6))
    compare_with_torch(*both("roll", shift, dim), [data(shape, dtype)])
    compare_with_torch(*both("roll", shift), [data(shape, dtype)])
    if len(shape) > 1:
        compare_with_torch(*both("roll", (shift, 1), (0, -1)), [data(shape, dtype)])


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (-1, 0)])
def test_rot90_matches_torch(k, dims):
    for dtype in (np.float32, np.float64):
        compare_with_torch(*both("rot90", k, dims), [data((2, 3, 4), dtype)])


@settings(max_examples=15)
@given(shape=shapes, dtype=float_dtypes, data_=st.data())
def test_repeat_interleave_matches_torch(shape, dtype, data_):
    repeats = data_.draw(st.integers(0, 3))
    compare_with_torch(*both("repeat_interleave", repeats), [data(shape, dtype)])
    if shape:
        dim = data_.draw(st.integers(-len(shape), len(shape) - 1))
        compare_with_torch(*both("repeat_interleave", repeats, dim), [data(shape, dtype)])
        counts = data_.draw(st.lists(st.integers(0, 3), min_size=shape[dim],
                                     max_size=shape[dim]))
        compare_with_torch(lambda x: x.repeat_interleave(mg.tensor(counts, dtype=mg.int64), dim),
                           lambda x: x.repeat_interleave(torch.tensor(counts, dtype=torch.int64), dim),
                           [data(shape, dtype)])


def test_repeat_interleave_counts_alone():
    counts = [2, 0, 3]
    assert mg.repeat_interleave(mg.tensor(counts)).tolist() == \
        torch.repeat_interleave(torch.tensor(counts)).tolist()


@settings(max_examples=15)
@given(shape=shapes, reps=st.lists(st.integers(0, 3), min_size=0, max_size=4),
       dtype=float_dtypes)
def test_tile_matches_torch(shape, reps, dtype):
    compare_with_torch(*both("tile", tuple(reps)), [data(shape, dtype)])


@pytest.mark.parametrize(("source", "destination"),
                         [(0, 2), (-1, 0), ((0, 1), (2, 0)), ((2, 0), (0, 1)), ((), ())])
def test_movedim_matches_torch(source, destination):
    compare_with_torch(*both("movedim", source, destination), [data((2, 3, 4))])
    compare_with_torch(lambda x: mg.moveaxis(x, source, destination),
                       lambda x: torch.moveaxis(x, source, destination), [data((2, 3, 4))])


@pytest.mark.parametrize(("dim", "start", "length"),
                         [(0, 0, 2), (1, 1, 3), (-1, -2, 2), (1, 4, 0), (0, 3, 0)])
def test_narrow_matches_torch(dim, start, length):
    compare_with_torch(*both("narrow", dim, start, length), [data((3, 4))])


@pytest.mark.parametrize(("shape", "dim", "size", "step"),
                         [((7,), 0, 3, 2), ((2, 5, 3), 1, 2, 1), ((4, 6), -1, 6, 3),
                          ((3, 4), 0, 0, 1), ((), 0, 1, 1), ((2, 3), 1, 1, 5)])
def test_unfold_matches_torch(shape, dim, size, step):
    for dtype in (np.float32, np.float64):
        compare_with_torch(*both("unfold", dim, size, step), [data(shape, dtype)])


@pytest.mark.parametrize(("size", "stride", "offset"),
                         [((2, 2), (1, 2), 0), ((3, 3), (1, 1), 1), ((2,), (5,), 2), ((0, 3), (1, 1), 0)])
def test_as_strided_matches_torch(size, stride, offset):
    compare_with_torch(lambda x: mg.as_strided(x, size, stride, offset),
                       lambda x: torch.as_strided(x, size, stride, offset), [data((3, 4))])


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4)])
def test_atleast_matches_torch(name, shape):
    compare_with_torch(getattr(mg, name), getattr(torch, name), [data(shape)])
    compare_with_torch(lambda a, b: getattr(mg, name)(a, b), lambda a, b: getattr(torch, name)(a, b),
                       [data(shape), data((2,))])


@pytest.mark.parametrize("sections", [1, 2, 3, 5, [1, 3], [0, -1], [2, 10], [3, 1]])
@pytest.mark.parametrize("dim", [0, 1])
def test_tensor_split_matches_torch(sections, dim):
    compare_with_torch(*both("tensor_split", sections, dim), [data((4, 5))])


@pytest.mark.parametrize(("name", "shape", "sections"),
                         [("hsplit", (4,), 2), ("hsplit", (3, 4), [1, 3]), ("vsplit", (4, 2), 2),
                          ("dsplit", (2, 2, 6), 3), ("hsplit", (2, 6, 2), 3)])
def test_directional_splits_match_torch(name, shape, sections):
    compare_with_torch(*both(name, sections), [data(shape)])


def test_directional_split_errors():
    with pytest.raises(RuntimeError):
        torch.hsplit(torch.zeros(2, 5), 2)
    with pytest.raises(RuntimeError, match="divisible"):
        mg.hsplit(mg.zeros(2, 5), 2)
    with pytest.raises(RuntimeError, match="at least 2"):
        mg.vsplit(mg.zeros(4), 2)


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack"])
@pytest.mark.parametrize("shapes_", [[(3,), (3,)], [(2, 3), (2, 3)], [(), ()], [(2, 3, 1), (2, 3, 2)]])
def test_stacks_match_torch(name, shapes_):
    try:
        getattr(torch, name)([torch.zeros(shape) for shape in shapes_])
    except RuntimeError:
        with pytest.raises(RuntimeError):
            getattr(mg, name)([mg.zeros(shape) for shape in shapes_])
        return
    compare_with_torch(lambda *xs: getattr(mg, name)(list(xs)),
                       lambda *xs: getattr(torch, name)(list(xs)),
                       [data(shape, seed=i) for i, shape in enumerate(shapes_)])


def test_ravel_and_flatten():
    compare_with_torch(*both("ravel"), [data((2, 3))])
    compare_with_torch(mg.ravel, torch.ravel, [data(())])


# ---- indexing -------------------------------------------------------------------------------
@settings(max_examples=15)
@given(shape=nonempty, dtype=float_dtypes, data_=st.data())
def test_index_select_take_matches_torch(shape, dtype, data_):
    dim = data_.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    positions = data_.draw(st.lists(st.integers(0, size - 1), min_size=0, max_size=5))
    index = np.array(positions, dtype=np.int64)
    compare_with_torch(lambda x: x.index_select(dim, mg.tensor(index)),
                       lambda x: x.index_select(dim, torch.tensor(index) % size),
                       [data(shape, dtype)])
    numel = int(np.prod(shape))
    flat = np.array([p % numel for p in positions], dtype=np.int64).reshape(-1, 1)
    compare_with_torch(lambda x: mg.take(x, mg.tensor(flat)),
                       lambda x: torch.take(x, torch.tensor(flat)), [data(shape, dtype)])


@settings(max_examples=15)
@given(shape=nonempty, dtype=float_dtypes, data_=st.data())
def test_take_along_dim_matches_torch(shape, dtype, data_):
    dim = data_.draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = list(shape)
    index_shape[dim] = data_.draw(st.integers(0, 4))
    if len(shape) > 1:  # broadcast the index over another dim
        other = (dim + 1) % len(shape)
        index_shape[other] = 1
    index = np.random.default_rng(1).integers(0, shape[dim], index_shape)
    compare_with_torch(lambda x: mg.take_along_dim(x, mg.tensor(index), dim),
                       lambda x: torch.take_along_dim(x, torch.tensor(index), dim),
                       [data(shape, dtype)])
    compare_with_torch(lambda x: mg.take_along_dim(x, mg.tensor(index)),
                       lambda x: torch.take_along_dim(x, torch.tensor(index)),
                       [data(shape, dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_copy_fill_match_torch(dtype, dim):
    x = data((3, 4), dtype)
    index = np.array([2, 0, 2] if dim == 0 else [1, 3, 1], dtype=np.int64)
    unique = np.array([2, 0], dtype=np.int64)
    source_shape = [3, 4]
    source_shape[dim] = 3
    source = data(source_shape, dtype, seed=2)
    compare_with_torch(lambda a, s: a.index_add(dim, mg.tensor(index), s, alpha=2),
                       lambda a, s: a.index_add(dim, torch.tensor(index), s, alpha=2), [x, source])
    source_shape[dim] = 2
    source = data(source_shape, dtype, seed=3)
    compare_with_torch(lambda a, s: a.index_copy(dim, mg.tensor(unique), s),
                       lambda a, s: a.index_copy(dim, torch.tensor(unique), s), [x, source])
    compare_with_torch(lambda a: a.index_fill(dim, mg.tensor(index), -1.5),
                       lambda a: a.index_fill(dim, torch.tensor(index), -1.5), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_matches_torch(dtype, dim):
    x = data((3, 4), dtype)
    rng = np.random.default_rng(4)
    # unique positions per column/row so the written value is defined (PyTorch leaves
    # duplicates unspecified)
    if dim == 0:
        index = np.stack([rng.permutation(3)[:2] for _ in range(4)], axis=1)
    else:
        index = np.stack([rng.permutation(4)[:3] for _ in range(3)], axis=0)
    src = data(index.shape, dtype, seed=5)  # PyTorch's src gradient needs src shaped as index
    compare_with_torch(lambda a, s: a.scatter(dim, mg.tensor(index), s),
                       lambda a, s: a.scatter(dim, torch.tensor(index), s), [x, src])
    compare_with_torch(lambda a: a.scatter(dim, mg.tensor(index), 2.5),
                       lambda a: a.scatter(dim, torch.tensor(index), 2.5), [x])
    # PyTorch has no derivative for scatter with reduce; minigrad's 'add' is scatter_add's
    compare_with_torch(lambda a, s: a.scatter(dim, mg.tensor(index), s, reduce="add"),
                       lambda a, s: a.scatter(dim, torch.tensor(index), s, reduce="add"), [x, src],
                       grad=False)
    compare_with_torch(lambda a, s: a.scatter(dim, mg.tensor(index), s, reduce="add"),
                       lambda a, s: a.scatter_add(dim, torch.tensor(index), s), [x, src])
    compare_with_torch(lambda a, s: a.scatter(dim, mg.tensor(index), s, reduce="multiply"),
                       lambda a, s: a.scatter(dim, torch.tensor(index), s, reduce="multiply"),
                       [x, src], grad=False)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_reduce_matches_torch(reduce, include_self, dtype):
    x = data((3, 4), dtype)
    index = np.array([[0, 1, 0, 2], [0, 0, 1, 2], [2, 0, 0, 0]])
    src = data((3, 4), dtype, seed=6)
    if reduce in ("amax", "amin"):
        src[0, 0] = src[1, 0]  # a tie between two contributors
    compare_with_torch(
        lambda a, s: a.scatter_reduce(0, mg.tensor(index), s, reduce, include_self=include_self),
        lambda a, s: a.scatter_reduce(0, torch.tensor(index), s, reduce,
                                      include_self=include_self), [x, src])


def test_scatter_reduce_integers():
    x = np.arange(6, dtype=np.int64).reshape(2, 3)
    index = np.array([[0, 1, 1]])
    src = np.array([[5, -3, 7]])
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        compare_with_torch(
            lambda a, s, r=reduce: a.scatter_reduce(1, mg.tensor(index), s, r),
            lambda a, s, r=reduce: a.scatter_reduce(1, torch.tensor(index), s, r), [x, src])


@settings(max_examples=15)
@given(shape=shapes, dtype=float_dtypes)
def test_nonzero_masked_select_match_torch(shape, dtype):
    values = np.round(data(shape, dtype))
    compare_with_torch(mg.nonzero, torch.nonzero, [values])
    compare_with_torch(mg.argwhere, torch.argwhere, [values])
    compare_with_torch(lambda x: mg.nonzero(x, as_tuple=True),
                       lambda x: torch.nonzero(x, as_tuple=True), [values])
    compare_with_torch(lambda x: mg.where(x > 0), lambda x: torch.where(x > 0), [values])
    compare_with_torch(lambda x: mg.masked_select(x, x > 0),
                       lambda x: torch.masked_select(x, x > 0), [values])
    if shape:
        row = np.zeros(shape[-1:], dtype=bool)
        row[::2] = True
        compare_with_torch(lambda x: x.masked_select(mg.tensor(row)),
                           lambda x: x.masked_select(torch.tensor(row)), [values])


def test_scatter_multiply_has_no_derivative_like_torch():
    for module in (torch, mg):
        x = module.ones(2, 3, requires_grad=True) * 2
        y = x.scatter(0, module.tensor([[0, 1, 0]]), module.full((1, 3), 3.0), reduce="multiply")
        assert y.tolist() == [[6, 2, 6], [2, 6, 2]]
        with pytest.raises(RuntimeError, match="derivative"):
            y.sum().backward()


# ---- second order ---------------------------------------------------------------------------
def test_second_order_through_the_composites():
    x = data((3, 4))
    second_order(lambda a: a.roll(1, 0) * a, x)
    second_order(lambda a: a.unfold(1, 2, 1) ** 2, x)
    second_order(lambda a: mg.as_strided(a, (2, 2), (1, 2)) ** 2, x)
    second_order(lambda a: a.repeat_interleave(2, 1) ** 2, x)
    second_order(lambda a: a.take_along_dim(mg.tensor([[0], [2], [1]]), 1) ** 3, x)
    second_order(lambda a, s: a.index_add(0, mg.tensor([0, 0]), s) ** 2, x, data((2, 4)))
    second_order(lambda a, s: a.index_copy(0, mg.tensor([1, 0]), s) ** 2, x, data((2, 4)))
    second_order(lambda a, s: a.scatter(1, mg.tensor([[1], [0], [3]]), s) ** 2, x, data((3, 1)))
    second_order(lambda a, s: a.scatter_reduce(0, mg.tensor([[0, 1, 0, 2]]), s, "amax") ** 2,
                 x, data((1, 4), seed=1))
    second_order(lambda a, s: a.scatter_reduce(0, mg.tensor([[0, 1, 0, 2]]), s, "mean") ** 2,
                 x, data((1, 4), seed=1))
    second_order(lambda a, s: a.scatter_reduce(0, mg.tensor([[0, 1, 0, 2]]), s, "prod"),
                 x + 3, data((1, 4), seed=1) + 3)


def test_second_derivative_matches_torch():
    x = data((3, 4))
    index = np.array([[0, 1, 0, 2]])
    v = data((3, 4), seed=9)
    ours = mg.tensor(x, requires_grad=True)
    (g,) = mg.autograd.grad((ours.scatter_reduce(0, mg.tensor(index), ours[:1] ** 2, "prod")
                             ** 2).sum(), ours, create_graph=True)
    (gg,) = mg.autograd.grad((g * mg.tensor(v)).sum(), ours)
    theirs = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad((theirs.scatter_reduce(0, torch.tensor(index), theirs[:1] ** 2,
                                                        "prod") ** 2).sum(), theirs,
                                create_graph=True)
    (tgg,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), theirs)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-8)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-8)


# ---- errors ---------------------------------------------------------------------------------
def test_bad_arguments_raise_torch_exception_types():
    x, tx = mg.zeros(3, 4), torch.zeros(3, 4)
    cases = [
        (lambda m: m.narrow(0, 2, 3), RuntimeError),
        (lambda m: m.index_select(0, (mg if m is x else torch).tensor([[0]])), IndexError),
        (lambda m: m.index_select(0, (mg if m is x else torch).tensor([0.0])), RuntimeError),
        (lambda m: m.index_select(0, (mg if m is x else torch).tensor([5])), IndexError),
        (lambda m: m.roll((1, 2), 0), RuntimeError),
        (lambda m: m.rot90(1, (0, 0)), RuntimeError),
        (lambda m: m.unfold(1, 5, 1), RuntimeError),
        (lambda m: m.unfold(1, 2, 0), RuntimeError),
        (lambda m: m.movedim((0, 0), (0, 1)), RuntimeError),
        (lambda m: m.movedim(0, 5), IndexError),
        (lambda m: m.scatter_reduce(0, (mg if m is x else torch).tensor([[0]]),
                                    m, "median"), RuntimeError),
        (lambda m: m.index_add(0, (mg if m is x else torch).tensor([0]), m), RuntimeError),
        (lambda m: m.tensor_split(0, 1), RuntimeError),
    ]
    for call, error in cases:
        with pytest.raises(error):
            call(tx)
        with pytest.raises(error):
            call(x)
