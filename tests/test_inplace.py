"""In-place ops and in-place safety: version counters, leaf rules, saved tensors, views.

PyTorch's behaviour is the reference: the same program either gives the same values and
gradients in both, or raises in both. Tests that need torch skip without it.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.testing.strategies import arrays

SAVED_MESSAGE = "modified by an inplace operation"
LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation"


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ---- version counters -----------------------------------------------------------------------
@pytest.mark.parametrize("change", [
    lambda x: x.add_(1), lambda x: x.sub_(1, alpha=2), lambda x: x.mul_(2), lambda x: x.div_(2),
    lambda x: x.clamp_(-1, 1), lambda x: x.clip_(max=0), lambda x: x.fill_(3), lambda x: x.zero_(),
    lambda x: x.copy_(mg.ones(3)), lambda x: x.__setitem__(0, 5.0) or x,
    lambda x: x.__iadd__(1), lambda x: x.__isub__(1), lambda x: x.__imul__(2),
    lambda x: x.__itruediv__(2),
], ids=["add_", "sub_", "mul_", "div_", "clamp_", "clip_", "fill_", "zero_", "copy_", "setitem",
        "+=", "-=", "*=", "/="])
def test_every_in_place_op_bumps_the_version_once_and_returns_the_tensor(change):
    x = mg.tensor([1.0, 2.0, 3.0])
    before = x.data
    assert change(x) is x
    assert x.version == 1
    assert x.data is before  # written into the same array, so views see it


def test_augmented_assignment_keeps_the_object():
    x = mg.tensor([1.0, 2.0])
    alias = x
    x += 1
    x *= 3
    assert x is alias and x.version == 2
    np.testing.assert_array_equal(alias.numpy(), [6.0, 9.0])


def test_out_of_place_ops_and_copies_do_not_share_the_counter():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    copies = [x + 0, x.clone(), x[mg.tensor([0, 1])], x[x > 2], x.contiguous() * 1]
    for copy in copies:
        copy.add_(1)
    assert x.version == 0


@pytest.mark.parametrize("make_view", [
    lambda x: x[0], lambda x: x[:, 1], lambda x: x.reshape(6), lambda x: x.view(3, 2),
    lambda x: x.t(), lambda x: x.transpose(0, 1), lambda x: x.unsqueeze(0),
    lambda x: x.flatten(), lambda x: x.chunk(3, dim=1)[1], lambda x: x.unbind(0)[1],
    lambda x: x.detach(), lambda x: x[0][1:],
], ids=["row", "column", "reshape", "view", "t", "transpose", "unsqueeze", "flatten", "chunk",
        "unbind", "detach", "view-of-view"])
def test_views_share_the_base_counter_and_memory(make_view):
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    view = make_view(x)
    view.mul_(10)
    assert x.version == view.version == 1
    assert (x.numpy() >= 10).sum() == view.numel() - (view.numpy() == 0).sum()
    x.add_(1)
    assert view.version == 2


def test_a_deep_copied_view_is_not_a_view():
    import copy

    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    copied = copy.deepcopy(x[0])
    assert not copied._is_view()
    copied.mul_(10)
    assert x.version == 0 and x.numpy()[0, 1] == 1.0


def test_views_know_their_base():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    row = x[0]
    assert row._is_view() and row._base is x
    assert row[1:]._base is x  # always the root, as in PyTorch
    assert not (x * 1)._is_view() and not x._is_view()
    assert not x.detach()._is_view()  # shares the counter, but is not a view (as torch)


# ---- leaves ---------------------------------------------------------------------------------
@pytest.mark.parametrize("change", [
    lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.zero_(), lambda x: x.fill_(1),
    lambda x: x.clamp_(0, 1), lambda x: x.copy_(mg.ones(3)), lambda x: x.__setitem__(0, 1.0),
    lambda x: x.div_(2), lambda x: x.sub_(1),
], ids=["add_", "mul_", "zero_", "fill_", "clamp_", "copy_", "setitem", "div_", "sub_"])
def test_leaf_requiring_grad_cannot_change_in_grad_mode(change):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=LEAF_MESSAGE):
        change(x)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        change(x.reshape(3))
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0, 3.0])
    assert x.version == 0
    with mg.no_grad():
        change(x)  # initialisation and updates happen under no_grad
    assert x.version == 1 and x.is_leaf and x.grad_fn is None


def test_augmented_assignment_on_a_parameter_raises_like_torch(torch):
    ours = nn.Parameter(mg.ones(2))
    theirs = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(RuntimeError, match=LEAF_MESSAGE):
        ours += 1
    with pytest.raises(RuntimeError, match=LEAF_MESSAGE):
        theirs += 1


def test_no_grad_init_and_manual_sgd_update_pattern():
    mg.manual_seed(0)
    layer = nn.Linear(3, 2)
    with mg.no_grad():
        layer.weight.mul_(0.5)
        layer.bias.zero_()
        layer.weight[0] = mg.tensor([1.0, -1.0, 0.5])
    x, target = mg.randn(4, 3), mg.randn(4, 2)
    expected_weight = layer.weight.detach().numpy().copy()
    for _ in range(3):
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        grad = layer.weight.grad.numpy().copy()
        with mg.no_grad():
            for param in layer.parameters():
                param -= 0.1 * param.grad
                param.grad.zero_()
        expected_weight -= 0.1 * grad
        np.testing.assert_allclose(layer.weight.detach().numpy(), expected_weight, rtol=1e-6)
    assert layer.weight.is_leaf and layer.weight.requires_grad
    assert layer.weight.grad.numpy().sum() == 0


# ---- saved tensors --------------------------------------------------------------------------
@pytest.mark.parametrize("op, name", [
    (lambda x: x.exp(), "Exp"), (lambda x: x.sigmoid(), "Sigmoid"), (lambda x: x.tanh(), "Tanh"),
    (lambda x: x.sqrt(), "Sqrt"), (lambda x: F.softmax(x, dim=1), "Softmax"),
    (lambda x: F.log_softmax(x, dim=1), "LogSoftmax"), (lambda x: 1 / x, "Div"),
])
def test_changing_a_saved_output_raises_naming_the_op(op, name):
    x = mg.tensor(np.full((3, 4), 0.5, dtype=np.float32), requires_grad=True)
    y = op(x)
    y.add_(1)
    with pytest.raises(RuntimeError, match=SAVED_MESSAGE) as caught:
        y.sum().backward()
    message = str(caught.value)
    assert "[float32 (3, 4)]" in message
    assert f"which is output 0 of {name}Backward" in message
    assert "is at version 1; expected version 0 instead" in message
    assert x.grad is None


def test_message_counts_versions_like_the_brief():
    x = mg.tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    y = x.exp()
    z = y * 2  # Mul keeps y
    y.add_(1)
    y.add_(1)
    with pytest.raises(RuntimeError) as caught:
        z.sum().backward()
    assert ("one of the variables needed for gradient computation has been modified by an "
            "inplace operation: [float32 (3, 4)], which is output 0 of ExpBackward, is at "
            "version 2; expected version 0 instead") in str(caught.value)
    assert "saved for backward by MulBackward (its input 0)" in str(caught.value)


def test_changing_a_saved_input_raises_and_an_unsaved_one_does_not():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    data = mg.tensor([3.0, 4.0])
    product = (w * data).sum()  # Mul keeps data
    total = (w + data).sum()    # Add keeps only shapes, as in PyTorch
    data.mul_(10)
    with pytest.raises(RuntimeError, match=r"\[float32 \(2,\)\] is at version 1; expected "
                                           r"version 0 instead.*MulBackward \(its input 1\)"):
        product.backward()
    total.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])


def test_changing_the_base_of_a_saved_view_raises():
    x = mg.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    h = x * 1
    y = h[0] ** 2  # Pow keeps a view of h
    with mg.no_grad():
        h[1] = 0.0  # another part of the same storage: torch raises too
    with pytest.raises(RuntimeError, match=SAVED_MESSAGE):
        y.sum().backward()


def test_optimizer_step_between_forward_and_backward_raises():
    mg.manual_seed(0)
    layer = nn.Linear(3, 2)
    optimizer = optim.SGD(layer.parameters(), lr=0.1)
    x = mg.randn(4, 3, requires_grad=True)
    loss = layer(x).sum()  # linear keeps the weight to send a gradient to x
    layer.weight.grad = mg.ones(2, 3)
    optimizer.step()
    with pytest.raises(RuntimeError, match=SAVED_MESSAGE):
        loss.backward()


def test_load_state_dict_and_optimizer_steps_bump_versions():
    layer = nn.Linear(3, 2)
    versions = [param.version for param in layer.parameters()]
    layer.load_state_dict({key: value.detach() * 2 for key, value in
                           layer.state_dict().items()})
    assert [param.version for param in layer.parameters()] == [v + 1 for v in versions]
    optimizer = optim.Adam(layer.parameters())
    layer(mg.randn(2, 3)).sum().backward()
    optimizer.step()
    assert [param.version for param in layer.parameters()] == [v + 2 for v in versions]


def test_relu_keeps_a_mask_so_changing_its_output_is_safe():
    """PyTorch's relu keeps its output and raises here; minigrad's keeps the mask x > 0, which
    the change cannot touch, so it gives the right gradient instead (never a wrong one)."""
    x = mg.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    y = F.relu(x)
    y.mul_(y.detach().clone())  # y = relu(x) ** 2 (the multiplier is a constant copy)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 3.0])


# ---- in-place in the graph: the same values and gradients as PyTorch ------------------------
def _add_then_scale(lib, x):
    h = x * 1
    h += 1
    h.mul_(h.detach().clone())
    return h


def _scale_a_row(lib, x):
    a = x * 1
    a[0].mul_(3)
    return a


def _shifted_rows(lib, x):
    a = x * 1
    a[1:] += a[:2].detach().clone()
    return a * a


def _base_changed_after_view(lib, x):
    a = x * 1
    view = a[1:]
    a.mul_(2)
    return view * view


def _view_changed_then_base_used(lib, x):
    a = x * 1
    a[1:].mul_(2)
    return a * a


def _buffer_filled_by_rows(lib, x):
    buffer = lib.zeros(2, 3)
    buffer[0] = x
    buffer[1] += x * x
    return buffer * buffer


def _mask_assignment(lib, x):
    a = x * 1
    a[a > 7] = 0
    return a * x


def _clamp(lib, x):
    a = x * 1
    a.clamp_(7, 9)
    return a * a


def _div_sub(lib, x):
    a = x * 1
    a.div_(x.detach() + 1)
    a.sub_(x, alpha=0.5)
    return a


def _copy(lib, x):
    a = x * 1
    a.copy_(x * x)
    return a


def _zero(lib, x):
    a = x * 1
    a.zero_()
    return a + x


def _transposed_view_setitem(lib, x):
    a = (x * 1).reshape(3, 1)
    a.t()[0, 1] = 5.0
    return a * x.reshape(3, 1)


def _fill_with_tensor(lib, x):
    a = x * 1
    a.fill_(x[0])
    return a


def _column_product(lib, x):
    a = x.reshape(3, 1) * lib.ones(1, 2)
    a[:, 0] *= x
    return a


def _view_of_view(lib, x):
    a = x * 1
    b = a[0:2]
    b[1:].mul_(x[0])
    return a * b.sum()


def _operand_requires_grad(lib, x):
    buffer = lib.zeros(3)
    buffer.add_(x, alpha=2)
    return buffer * buffer


def _retain_grad_follows(lib, x):
    a = x * 1
    a.retain_grad()
    a.mul_(2)
    return a * a


def _int_index_and_array(lib, x):
    a = x.reshape(3, 1) * lib.ones(1, 3)
    a[1, lib.tensor([0, 2])] = x[:2] * 10
    return a


PROGRAMS = [_add_then_scale, _scale_a_row, _shifted_rows, _base_changed_after_view,
            _view_changed_then_base_used, _buffer_filled_by_rows, _mask_assignment, _clamp,
            _div_sub, _copy, _zero, _transposed_view_setitem, _fill_with_tensor, _column_product,
            _view_of_view, _operand_requires_grad, _retain_grad_follows, _int_index_and_array]


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__.strip("_") for p in PROGRAMS])
def test_recorded_in_place_ops_give_pytorchs_values_and_gradients(torch, program):
    start = np.array([10.0, 6.0, 8.0], dtype=np.float32)
    ours_x = mg.tensor(start, requires_grad=True)
    theirs_x = torch.tensor(start, requires_grad=True)
    ours, theirs = program(mg, ours_x), program(torch, theirs_x)
    weights = np.random.default_rng(0).standard_normal(tuple(theirs.shape)).astype(np.float32)
    (ours * mg.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-5)
    assert ours_x.grad.dtype == np.float32


def test_retain_grad_gives_the_gradient_of_the_new_value(torch):
    ours = mg.tensor([1.0, 2.0], requires_grad=True) * 1
    theirs = torch.tensor([1.0, 2.0], requires_grad=True) * 1
    for a in (ours, theirs):
        a.retain_grad()
        a.mul_(3)
        (a * a).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_in_place_on_a_non_leaf_changes_its_grad_fn_and_keeps_float32():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    old = h.grad_fn
    h.add_(mg.tensor([1.0, 1.0], dtype=mg.float64))  # computed in float64, stored in float32
    assert h.grad_fn is not old and h.dtype == mg.float32 and not h.is_leaf
    h.sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_buffer_that_does_not_require_grad_joins_the_graph():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    buffer = mg.zeros(2)
    buffer.mul_(w)
    assert buffer.requires_grad and not buffer.is_leaf
    with mg.no_grad():
        constant = mg.zeros(2)
        constant.add_(w)
    assert not constant.requires_grad and constant.grad_fn is None


def test_view_made_under_no_grad_cannot_change_in_grad_mode(torch):
    for lib in (mg, torch):
        x = lib.ones(2, 3, requires_grad=True) * 1
        with lib.no_grad():
            view = x[0]
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
            view.add_(1)
        with lib.no_grad():
            view.add_(1)  # both inside no_grad: allowed, untracked
        assert float(x.detach()[0, 0]) == 2.0


def test_an_old_view_follows_its_base_changes():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1
    tail = a[1:]
    a.mul_(x.detach())  # a = x * c, recorded on the base
    tail.sum().backward()  # tail's history is replayed from a's new history
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 3.0])


# ---- argument errors: PyTorch's types, nothing changed --------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda x: x.add_(mg.ones(2, 3)), RuntimeError,
     r"add_: output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    (lambda x: x.mul_(mg.ones(2)), RuntimeError, r"mul_: shapes \(3,\), \(2,\) cannot be broad"),
    (lambda x: x.long().add_(1.5), RuntimeError,
     "result type float32 can't be cast to the desired output type int64"),
    (lambda x: x.long().div_(2), RuntimeError, "result type float32 can't be cast"),
    (lambda x: x.bool().add_(1), RuntimeError, "result type int64 can't be cast to the "
                                              "desired output type bool"),
    (lambda x: x.add_("1"), TypeError, "add_: argument 'other' must be a Tensor or a number"),
    (lambda x: x.fill_(mg.ones(2)), RuntimeError, "fill_ only supports 0-dimension value"),
    (lambda x: x.fill_([1]), TypeError, "fill_: argument 'value'"),
    (lambda x: x.copy_([1.0, 2.0, 3.0]), TypeError, r"copy_\(\): argument 'src'"),
    (lambda x: x.copy_(mg.ones(2)), RuntimeError, r"copy_: shapes \(3,\), \(2,\)"),
    (lambda x: x.clamp_(), RuntimeError, "At least one of 'min' or 'max'"),
    (lambda x: x.expand(2, 3).add_(1), RuntimeError, "more than one element of the written-to"),
    (lambda x: x.__setitem__(0, mg.ones(2)), RuntimeError,
     r"setitem: shape mismatch: value tensor of shape \[2\] cannot be broadcast to indexing "
     r"result of shape \[\]"),
    (lambda x: x.__setitem__(slice(0, 2), mg.ones(3)), RuntimeError,
     r"value tensor of shape \[3\] cannot be broadcast to indexing result of shape \[2\]"),
    (lambda x: x.__setitem__(5, 1.0), IndexError,
     r"setitem: index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x.__setitem__(0, "a"), TypeError, "can't assign a str"),
    (lambda x: x.__setitem__(0, np.ones(1)), TypeError, "can't assign a ndarray"),
], ids=lambda value: None)
def test_bad_arguments_raise_pytorchs_error_and_change_nothing(call, error, match):
    x = mg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(error, match=match):
        call(x)
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])
    assert x.version == 0


def test_float_into_integer_tensor_by_copy_and_setitem_truncates_like_torch(torch):
    ours = mg.zeros(3, dtype=mg.int64)
    theirs = torch.zeros(3, dtype=torch.int64)
    for t, lib in ((ours, mg), (theirs, torch)):
        t[0] = 1.7
        t[1:].copy_(lib.tensor([2.9, -3.9]))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("key", [
    0, -1, slice(1, None), (slice(None), 1), (0, slice(None, None, 2)), Ellipsis, None,
    (1, [0, 2]), ([0, 1], [2, 0]), (slice(None), [1, 1]), "mask",
], ids=lambda key: repr(key))
def test_setitem_matches_torch_for_every_kind_of_key(torch, key):
    start = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    ours, theirs = mg.tensor(start), torch.tensor(start)
    if isinstance(key, str):
        ours_key, theirs_key = ours > 5, theirs > 5
    elif isinstance(key, tuple):
        ours_key = tuple(mg.tensor(k) if isinstance(k, list) else k for k in key)
        theirs_key = tuple(torch.tensor(k) if isinstance(k, list) else k for k in key)
    else:
        ours_key = theirs_key = key
    shape = tuple(theirs[theirs_key].shape)
    value = np.random.default_rng(1).standard_normal(shape[-1:]).astype(np.float32)
    ours[ours_key] = mg.tensor(value)
    theirs[theirs_key] = torch.tensor(value)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours[ours_key] = -1.0
    theirs[theirs_key] = -1.0
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_setitem_strips_leading_ones_of_the_value_like_torch():
    x = mg.zeros(2, 3)
    x[0] = mg.ones(1, 3)
    np.testing.assert_array_equal(x.numpy()[0], [1.0, 1.0, 1.0])


@pytest.mark.parametrize("target_dtype, other", [
    ("float32", 2), ("float32", 2.5), ("float32", "float64"), ("float64", "float32"),
    ("int64", 2), ("int64", 2.5), ("int64", "float32"), ("int32", "int64"), ("bool", True),
    ("bool", 1), ("int64", True), ("float32", "bool"),
])
def test_in_place_result_type_rules_match_torch(torch, target_dtype, other):
    ours = mg.ones(3, dtype=target_dtype)
    theirs = torch.ones(3, dtype=getattr(torch, target_dtype))
    if isinstance(other, str):
        ours_other = mg.ones(3, dtype=other)
        theirs_other = torch.ones(3, dtype=getattr(torch, other))
    else:
        ours_other = theirs_other = other
    outcomes = []
    for target, operand in ((ours, ours_other), (theirs, theirs_other)):
        try:
            target.mul_(operand)
            outcomes.append("ok")
        except RuntimeError:
            outcomes.append("RuntimeError")
    assert outcomes[0] == outcomes[1]
    if outcomes[0] == "ok":
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


# ---- random programs against PyTorch --------------------------------------------------------
IN_PLACE_STEPS = {
    "add_": lambda t, c, lib: t.add_(c),
    "sub_": lambda t, c, lib: t.sub_(c, alpha=0.5),
    "mul_": lambda t, c, lib: t.mul_(c),
    "div_": lambda t, c, lib: t.div_(c * c + 1),
    "clamp_": lambda t, c, lib: t.clamp_(-0.5, 0.5),
    "copy_": lambda t, c, lib: t.copy_(c * 2),
    "row": lambda t, c, lib: t.__setitem__(0, c[0] * 3),
    "view mul_": lambda t, c, lib: t[:, 1:].mul_(c[:, 1:]),
    "+=": lambda t, c, lib: t.__iadd__(c.sum()),
}


@given(start=arrays((2, 3), distinct=True, avoid_zero=0.1), operand=arrays((2, 3)),
       steps=st.lists(st.sampled_from(sorted(IN_PLACE_STEPS)), min_size=1, max_size=4))
def test_random_in_place_programs_match_torch(torch, start, operand, steps):
    results = []
    for lib in (mg, torch):
        x = lib.tensor(start, requires_grad=True)
        c = lib.tensor(operand, requires_grad=True)
        t = x * 1
        for step in steps:
            IN_PLACE_STEPS[step](t, c, lib)
        (t * t).sum().backward()
        results.append([None if v is None else np.asarray(v.detach().numpy())
                        for v in (t, x.grad, c.grad)])
    for ours, theirs in zip(*results):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
