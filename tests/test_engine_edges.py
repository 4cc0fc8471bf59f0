"""Tensor protocol edges through the public API, word for word: len/bool/int/iter of 0-d and
multi-element tensors, retain_grad and hooks, repr, RNG state and grad-mode switching."""

import numpy as np
import pytest

import minigrad as mg


def test_len_bool_int_iter_follow_pytorch():
    assert len(mg.zeros(3, 2)) == 3
    with pytest.raises(TypeError) as caught:
        len(mg.tensor(1.0))
    assert str(caught.value) == "len() of a 0-d tensor"
    assert bool(mg.tensor([2.0])) is True and bool(mg.tensor(0.0)) is False
    with pytest.raises(RuntimeError) as caught:
        bool(mg.ones(2))
    assert str(caught.value) == "Boolean value of Tensor with more than one value is ambiguous"
    assert int(mg.tensor(3.7)) == 3
    with pytest.raises(TypeError) as caught:
        iter(mg.tensor(1.0))
    assert str(caught.value) == "iteration over a 0-d tensor"


def test_numpy_protocol_casts_only_when_asked():
    t = mg.tensor([1.5, 2.5])
    assert np.asarray(t).dtype == np.float32
    as_double = np.asarray(t, dtype=np.float64)
    assert as_double.dtype == np.float64 and as_double.tolist() == [1.5, 2.5]


def test_size_names_itself_in_the_error():
    with pytest.raises(IndexError) as caught:
        mg.randn(2, 3).size(5)
    assert str(caught.value) == ("size: Dimension out of range (expected to be in range of "
                                 "[-2, 1], but got 5)")
    assert mg.randn(2, 3).size(-1) == 3


def test_retain_grad_accumulates_like_torch_and_refuses_constants():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.retain_grad()  # twice is once
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_array_equal(y.grad.numpy(), [4.0, 8.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [8.0, 16.0])  # torch gives the same
    x.retain_grad()  # a leaf already keeps its grad
    assert x.grad is not None
    with pytest.raises(RuntimeError) as caught:
        mg.ones(2).retain_grad()
    assert str(caught.value) == "can't retain_grad on Tensor that has requires_grad=False"
    with pytest.raises(RuntimeError) as caught:
        mg.ones(2).register_hook(lambda grad: grad)
    assert str(caught.value) == ("cannot register a hook on a tensor that doesn't require "
                                 "gradient")


def test_repr_aligns_rows_and_names_dtype_and_grad_fn():
    text = repr(mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64))
    assert text == "tensor([[1., 2.],\n        [3., 4.]], dtype=minigrad.float64)"
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"


def test_rng_state_round_trip_and_seed_type():
    state = mg.get_rng_state()
    first = mg.randn(3).numpy()
    mg.set_rng_state(state)
    np.testing.assert_array_equal(mg.randn(3).numpy(), first)
    for bad, name in ((True, "bool"), ("1", "str"), (1.5, "float")):
        with pytest.raises(TypeError) as caught:
            mg.manual_seed(bad)
        assert str(caught.value) == f"manual_seed: seed must be an int, got {name}"


def test_set_grad_enabled_as_call_context_and_decorator():
    assert mg.is_grad_enabled()
    switch = mg.set_grad_enabled(False)  # applies at once, as in PyTorch
    assert not mg.is_grad_enabled()
    with switch:
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    with mg.set_grad_enabled(0):
        assert not mg.is_grad_enabled()
        with mg.set_grad_enabled(1):
            assert mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()

    @mg.set_grad_enabled(False)
    def frozen(t):
        return t * 2

    assert mg.is_grad_enabled()
    x = mg.ones(2, requires_grad=True)
    assert not frozen(x).requires_grad
    assert mg.is_grad_enabled()


def test_backward_errors_word_for_word_like_torch():
    with pytest.raises(RuntimeError) as caught:
        mg.ones(2).sum().backward()
    assert str(caught.value) == ("element 0 of tensors does not require grad and does not have "
                                 "a grad_fn")
    x = mg.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as caught:
        y.backward()
    assert str(caught.value) == (
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
        "backward through the graph a second time.")
