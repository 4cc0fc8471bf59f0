"""PyTorch API breadth (issue 8, item 6): every listed name called on the same inputs in
minigrad and in PyTorch, outputs, dtypes and gradients compared.

The same test code runs against both libraries: each case is a function `case(lib, *inputs)`
with `lib` either `minigrad` or `torch`, written only with names both share.
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn as mg_nn
from minigrad import optim as mg_optim
from minigrad.data import DataLoader, TensorDataset

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)).astype(np.float32)
Y = RNG.standard_normal((3, 4)).astype(np.float32)
POSITIVE = (np.abs(X) + 0.5).astype(np.float32)
ROW = RNG.standard_normal((4,)).astype(np.float32)
HALF_EQUAL = np.where(np.arange(12).reshape(3, 4) % 2 == 0, X, Y)  # equal in half the places
INDEX = np.array([[0, 2, 1, 0], [1, 1, 0, 2], [2, 0, 2, 1]], dtype=np.int64)


def as_lib(lib, array, requires_grad):
    if lib is torch:
        tensor = torch.tensor(array)
        return tensor.requires_grad_() if requires_grad else tensor
    return mg.tensor(array, requires_grad=requires_grad)


def dtype_name(tensor):
    return str(tensor.dtype).replace("torch.", "")


def run(case, arrays, lib):
    """Outputs and input gradients of case(lib, *inputs) as NumPy arrays."""
    inputs = [as_lib(lib, array, array.dtype.kind == "f") for array in arrays]
    output = case(lib, *inputs)
    outputs = tuple(output) if isinstance(output, (tuple, list)) else (output,)
    total = None
    for position, tensor in enumerate(outputs):
        if tensor.requires_grad:
            weights = np.random.default_rng(position).standard_normal(tuple(tensor.shape))
            term = (tensor * as_lib(lib, weights.astype(np.float32), False)).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    values = [(tensor.detach().numpy().copy(), dtype_name(tensor)) for tensor in outputs]
    grads = [None if tensor.grad is None else tensor.grad.numpy().copy()
             for tensor in inputs if tensor.requires_grad]
    return values, grads


def assert_same(case, *arrays):
    mine, theirs = run(case, arrays, mg), run(case, arrays, torch)
    assert len(mine[0]) == len(theirs[0])
    for (value, dtype), (expected, expected_dtype) in zip(mine[0], theirs[0]):
        assert dtype == expected_dtype
        assert value.shape == expected.shape
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)
    for grad, expected in zip(*[result[1] for result in (mine, theirs)]):
        if expected is None:
            assert grad is None or not grad.any()
        else:
            np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


# ---- top-level functions ----------------------------------------------------------------
TOPLEVEL = {
    "flatten": (lambda lib, x: lib.flatten(x), [X]),
    "flatten(start_dim)": (lambda lib, x: lib.flatten(x.reshape(3, 2, 2), 1), [X]),
    "cat": (lambda lib, x, y: lib.cat([x, y], dim=1), [X, Y]),
    "cat(dim=0)": (lambda lib, x, y: lib.cat((x, y)), [X, Y]),
    "stack": (lambda lib, x, y: lib.stack([x, y]), [X, Y]),
    "stack(dim=-1)": (lambda lib, x, y: lib.stack([x, y], dim=-1), [X, Y]),
    "where": (lambda lib, x, y: lib.where(x > 0, x, y), [X, Y]),
    "where(scalar)": (lambda lib, x: lib.where(x > 0, x, 0.0), [X]),
    "argmax": (lambda lib, x: lib.argmax(x), [X]),
    "argmax(dim, keepdim)": (lambda lib, x: lib.argmax(x, dim=1, keepdim=True), [X]),
    "max": (lambda lib, x: lib.max(x), [X]),
    "max(dim)": (lambda lib, x: lib.max(x, dim=0), [X]),
    "max(dim, keepdim)": (lambda lib, x: lib.max(x, 1, keepdim=True), [X]),
    "max(other)": (lambda lib, x, y: lib.max(x, y), [X, Y]),
    "exp": (lambda lib, x: lib.exp(x), [X]),
    "log": (lambda lib, x: lib.log(x), [POSITIVE]),
    "sum": (lambda lib, x: lib.sum(x), [X]),
    "sum(dims, keepdim)": (lambda lib, x: lib.sum(x, dim=(0, 1), keepdim=True), [X]),
    "mean": (lambda lib, x: lib.mean(x), [X]),
    "mean(dim)": (lambda lib, x: lib.mean(x, dim=-1), [X]),
}


@pytest.mark.parametrize("name", list(TOPLEVEL))
def test_toplevel_functions_match_torch(name):
    case, arrays = TOPLEVEL[name]
    assert_same(case, *arrays)


def test_max_with_dim_returns_named_values_and_indices():
    values, indices = mg.max(mg.tensor(X), dim=1)
    result = mg.max(mg.tensor(X), dim=1)
    expected = torch.max(torch.tensor(X), dim=1)
    np.testing.assert_array_equal(result.values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(result.indices.numpy(), expected.indices.numpy())
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    assert indices.dtype == mg.int64


# ---- Tensor methods ---------------------------------------------------------------------
METHODS = {
    "eq": (lambda lib, x, y: x.eq(y), [X, HALF_EQUAL]),
    "eq(scalar)": (lambda lib, x: x.eq(float(X[1, 2])), [X]),
    "ne": (lambda lib, x, y: x.ne(y), [X, HALF_EQUAL]),
    "lt": (lambda lib, x, y: x.lt(y), [X, Y]),
    "gt": (lambda lib, x: x.gt(0), [X]),
    "view_as": (lambda lib, x, y: x.view_as(y), [X, Y.reshape(2, 6)]),
    "reshape_as": (lambda lib, x, y: x.reshape_as(y), [X, Y.reshape(6, 2)]),
    "expand_as": (lambda lib, r, x: r.expand_as(x), [ROW, X]),
    "argmax(dim, keepdim)": (lambda lib, x: x.argmax(dim=1, keepdim=True), [X]),
    "argmax(dim=0)": (lambda lib, x: x.argmax(0), [X]),
    "float": (lambda lib, x: x.double().float(), [X]),
    "long": (lambda lib, x: (x * 3).long(), [X]),
    "double": (lambda lib, x: x.double(), [X]),
    "to(dtype)": (lambda lib, x: x.to(lib.float64), [X]),
    "to(int64)": (lambda lib, x: (x * 3).to(lib.int64), [X]),
    "to(tensor)": (lambda lib, x, y: x.to(y.double()), [X, Y]),
    "t": (lambda lib, x: x.t(), [X]),
    "T": (lambda lib, x: x.T, [X]),
    "clone": (lambda lib, x: x.clone(), [X]),
    "contiguous": (lambda lib, x: x.t().contiguous(), [X]),
    "masked_fill": (lambda lib, x, y: x.masked_fill(y > 0, -1.5), [X, Y]),
    "gather": (lambda lib, x, index: x.gather(1, index), [X, INDEX[:, :2]]),
    "gather(dim=0)": (lambda lib, x, index: x.gather(0, index), [X, INDEX]),
    "scatter_add": (lambda lib, x, index, y: x.scatter_add(0, index, y), [X, INDEX, Y]),
    "scatter_add(dim=1)": (lambda lib, x, index, y: x.scatter_add(1, index[:, :3], y[:, :3]),
                           [X, INDEX, Y]),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_tensor_methods_match_torch(name):
    case, arrays = METHODS[name]
    assert_same(case, *arrays)


def test_argmax_eq_sum_item_counts_correct_predictions_like_torch():
    labels = np.array([1, 0, 3], dtype=np.int64)
    counts = []
    for lib in (mg, torch):
        output = as_lib(lib, X, False)
        target = as_lib(lib, labels, False)
        pred = output.argmax(dim=1, keepdim=True)
        counts.append(pred.eq(target.view_as(pred)).sum().item())
    assert counts[0] == counts[1] and isinstance(counts[0], int)


# ---- nn layers --------------------------------------------------------------------------
def copy_parameters(mine, theirs):
    with torch.no_grad():
        for (name, param), (their_name, their_param) in zip(mine.named_parameters(),
                                                            theirs.named_parameters()):
            assert name == their_name
            their_param.copy_(torch.tensor(param.detach().numpy()))


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_matches_torch(padding_idx):
    mine = mg_nn.Embedding(5, 3, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    copy_parameters(mine, theirs)
    assert repr(mine) == repr(theirs)
    indices = np.array([[0, 2, 4], [2, 2, 1]])
    output = mine(mg.tensor(indices))
    expected = theirs(torch.tensor(indices))
    np.testing.assert_allclose(output.detach().numpy(), expected.detach().numpy())
    weights = RNG.standard_normal(output.shape).astype(np.float32)
    (output * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-6)


def test_unflatten_matches_torch():
    case = (lambda lib, x: (mg_nn if lib is mg else torch.nn).Unflatten(1, (2, 2))(x))
    assert_same(case, X)
    assert repr(mg_nn.Unflatten(1, (2, 2))) == repr(torch.nn.Unflatten(1, (2, 2)))


def test_dropout2d_zeroes_whole_channels_like_torch():
    shape = (8, 16, 3, 3)
    for lib, module in ((mg, mg_nn.Dropout2d(0.5)), (torch, torch.nn.Dropout2d(0.5))):
        lib.manual_seed(0)
        x = as_lib(lib, np.ones(shape, dtype=np.float32), True)
        output = module(x)
        planes = output.detach().numpy().reshape(8 * 16, 9)
        # each (sample, channel) plane is all dropped or all kept and scaled by 1 / (1 - p)
        assert set(np.unique(planes)) <= {0.0, 2.0}
        assert all(len(set(row)) == 1 for row in planes)
        assert 0.25 < (planes[:, 0] == 0).mean() < 0.75
        output.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), output.detach().numpy())
        module.eval()
        np.testing.assert_array_equal(module(x).detach().numpy(), np.ones(shape))
    assert repr(mg_nn.Dropout2d(0.3)) == repr(torch.nn.Dropout2d(0.3))


# ---- optimizers, schedulers, gradient clipping ------------------------------------------
OPTIMIZERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 1.0}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
]


def train_quadratic(lib, optim_module, name, options, steps=5):
    """Minimise sum((w - 1)^2 * c) with `name`; return w after each step."""
    weight = as_lib(lib, X.copy(), True)
    scale = as_lib(lib, POSITIVE, False)
    optimizer = getattr(optim_module, name)([weight], **options)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        (((weight - 1) ** 2) * scale).sum().backward()
        optimizer.step()
        history.append(weight.detach().numpy().copy())
    return history


@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=[name for name, _ in OPTIMIZERS])
def test_optimizers_match_torch(name, options):
    mine = train_quadratic(mg, mg_optim, name, options)
    theirs = train_quadratic(torch, torch.optim, name, options)
    for step, (weight, expected) in enumerate(zip(mine, theirs)):
        np.testing.assert_allclose(weight, expected, rtol=1e-5, atol=1e-6,
                                   err_msg=f"step {step}")


SCHEDULERS = {
    "ExponentialLR": (lambda scheduler_module, optimizer:
                      scheduler_module.ExponentialLR(optimizer, gamma=0.8)),
    "LambdaLR": (lambda scheduler_module, optimizer:
                 scheduler_module.LambdaLR(optimizer, lr_lambda=lambda epoch: 1 / (1 + epoch))),
    "StepLR": (lambda scheduler_module, optimizer:
               scheduler_module.StepLR(optimizer, step_size=2, gamma=0.5)),
}
METRICS = [1.0, 0.9, 0.95, 0.97, 0.99, 0.5, 0.6, 0.7, 0.8, 0.9]


def learning_rates(lib, optim_module, name):
    optimizer = optim_module.SGD([as_lib(lib, ROW, True)], lr=0.5)
    if name == "ReduceLROnPlateau":
        scheduler = optim_module.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                                patience=1)
    else:
        scheduler = SCHEDULERS[name](optim_module.lr_scheduler, optimizer)
    rates = []
    for metric in METRICS:
        optimizer.step()
        if name == "ReduceLROnPlateau":
            scheduler.step(metric)
        else:
            scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return rates, scheduler.get_last_lr()


@pytest.mark.parametrize("name", [*SCHEDULERS, "ReduceLROnPlateau"])
def test_lr_schedulers_match_torch(name):
    mine = learning_rates(mg, mg_optim, name)
    theirs = learning_rates(torch, torch.optim, name)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_matches_torch(norm_type):
    results = []
    for lib, utils in ((mg, mg_nn.utils), (torch, torch.nn.utils)):
        params = [as_lib(lib, X, True), as_lib(lib, ROW, True)]
        (params[0] * 3).sum().backward()
        (params[1] * params[1]).sum().backward()
        total = utils.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
        results.append((float(total), [param.grad.numpy().copy() for param in params]))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5)
    for grad, expected in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)


def test_clip_grad_value_matches_torch():
    grads = []
    for lib, utils in ((mg, mg_nn.utils), (torch, torch.nn.utils)):
        param = as_lib(lib, X, True)
        (param * as_lib(lib, Y * 3, False)).sum().backward()
        assert utils.clip_grad_value_([param], clip_value=0.5) is None
        grads.append(param.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])


# ---- data loading -----------------------------------------------------------------------
@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (4, False), (4, True),
                                                   (10, False), (32, True)])
def test_loader_len_and_dataset_match_torch(batch_size, drop_last):
    images = RNG.standard_normal((10, 1, 2, 2)).astype(np.float32)
    labels = np.arange(10)
    mine_dataset = TensorDataset(mg.tensor(images), mg.tensor(labels))
    theirs_dataset = torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels))
    mine = DataLoader(mine_dataset, batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(theirs_dataset, batch_size=batch_size,
                                         drop_last=drop_last)
    assert len(mine) == len(theirs)
    assert mine.dataset is mine_dataset and len(mine.dataset) == len(theirs.dataset)
    for (x, y), (expected_x, expected_y) in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(x.numpy(), expected_x.numpy())
        np.testing.assert_array_equal(y.numpy(), expected_y.numpy())
        assert dtype_name(x) == dtype_name(expected_x) and dtype_name(y) == dtype_name(expected_y)
