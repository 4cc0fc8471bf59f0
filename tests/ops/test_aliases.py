"""PyTorch's alias names (absolute, multiply, greater, ...), rsub, and the in-place `_`
forms of the elementwise ops, against PyTorch: values, dtypes, recorded gradients, errors."""

import numpy as np
import pytest

import minigrad as mg

ALIASES = {"absolute": "abs", "negative": "neg", "multiply": "mul", "subtract": "sub",
           "divide": "div", "greater": "gt", "greater_equal": "ge", "less": "lt",
           "less_equal": "le", "not_equal": "ne"}
FLOAT_IN_PLACE = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid",
                  "reciprocal", "log1p", "expm1"]
ANY_IN_PLACE = ["abs", "neg", "square", "absolute", "negative"]


def test_aliases_are_the_same_functions_and_methods():
    for alias, name in ALIASES.items():
        assert getattr(mg, alias) is getattr(mg, name)
        assert getattr(mg.Tensor, alias) is getattr(mg.Tensor, name)


def test_rsub_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([1.0, -2.0], dtype=np.float32)
    for other, alpha in [(3.0, 1), (np.array([0.5, 0.25], dtype=np.float32), 2)]:
        ours = mg.rsub(mg.tensor(x), mg.tensor(other) if isinstance(other, np.ndarray) else other,
                       alpha=alpha)
        theirs = torch.rsub(torch.tensor(x), torch.tensor(other) if isinstance(other, np.ndarray)
                            else other, alpha=alpha)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", FLOAT_IN_PLACE + ANY_IN_PLACE)
def test_unary_in_place_matches_torch_with_gradient(name):
    torch = pytest.importorskip("torch")
    values = np.array([0.5, 1.5, 2.0], dtype=np.float32)
    ours, theirs = mg.tensor(values.copy()), torch.tensor(values.copy())
    assert getattr(ours, f"{name}_")() is ours
    getattr(theirs, f"{name}_")()
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    leaf, t_leaf = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y, t_y = leaf * 1.0, t_leaf * 1.0
    getattr(y, f"{name}_")()
    getattr(t_y, f"{name}_")()
    (y * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    (t_y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", FLOAT_IN_PLACE)
def test_float_math_in_place_on_integers_is_refused_like_torch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="can't be cast"):
        getattr(mg.tensor([1, 2]), f"{name}_")()
    with pytest.raises(RuntimeError):
        getattr(torch.tensor([1, 2]), f"{name}_")()


def test_binary_and_comparison_in_place_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    for name, other in [("pow_", 2.0), ("multiply_", 3.0), ("subtract_", 1.0), ("divide_", 4.0),
                        ("gt_", 1.5), ("ge_", 2.0), ("lt_", 2.5), ("le_", 2.0), ("eq_", 2.0),
                        ("ne_", 2.0), ("greater_", 1.5), ("less_equal_", 2.0),
                        ("not_equal_", 3.0), ("greater_equal_", 2.0), ("less_", 2.0)]:
        ours, theirs = mg.tensor(values.copy()), torch.tensor(values.copy())
        getattr(ours, name)(other)
        getattr(theirs, name)(other)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, err_msg=name)
    counts, t_counts = mg.tensor([1, 5]), torch.tensor([1, 5])
    counts.gt_(2)
    t_counts.gt_(2)
    assert counts.dtype == mg.int64 and counts.tolist() == t_counts.tolist()
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).divide_(2)


def test_top_level_in_place_functions():
    x = mg.tensor([0.0, 1.0])
    assert mg.exp_(x) is x
    np.testing.assert_allclose(x.numpy(), [1.0, np.e], rtol=1e-6)
