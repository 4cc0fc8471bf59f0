"""Optimizer errors word for word (PyTorch's where PyTorch has the same mistake), and the
paths a plain run never takes: state for a group added after construction, the default
dtype of state, AdamW's maximize and decoupled decay surviving a state dict."""

import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim


def leaf(values=(1.0, 2.0), dtype=mg.float64):
    return mg.tensor(np.array(values), dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("make, error, message", [
    (lambda: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda: optim.SGD([leaf() * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda: optim.SGD([leaf()], lr=0.1).add_param_group([leaf()]), TypeError,
     "param_group must be a dict, but got list"),
    (lambda: optim.SGD([leaf(), 3], lr=0.1), TypeError,
     "optimizer can only optimize Tensors, but one of the params is int"),
])
def test_parameter_errors_word_for_word(make, error, message):
    with pytest.raises(error) as caught:
        make()
    assert str(caught.value) == message


def test_bad_gradient_message_names_the_optimizer_and_the_parameter():
    params = [leaf(), leaf(), leaf()]
    optimizer = optim.Adam(params)
    params[0].grad = mg.ones(2, dtype=mg.float64)
    params[2].grad = np.ones(2)
    with pytest.raises(TypeError) as caught:
        optimizer.step()
    assert str(caught.value) == ("Adam.step: grad of parameter 2 must be a Tensor or None, "
                                 "got numpy.ndarray")


def test_repr_leaves_out_the_params():
    text = repr(optim.SGD([leaf()], lr=0.1))
    assert "params" not in text and "lr: 0.1" in text


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
@pytest.mark.parametrize("name", ["Adagrad", "Adam", "Adadelta", "RMSprop"])
def test_group_added_later_gets_state_like_torch(name, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    first, second = rng.standard_normal(3), rng.standard_normal(2)
    grads = [(rng.standard_normal(3), rng.standard_normal(2)) for _ in range(4)]
    results = []
    for library in (mg, torch):
        tensor = mg.tensor if library is mg else library.tensor
        kind = dtype if library is mg else getattr(library, str(np.dtype(dtype)))
        params = [tensor(first, dtype=kind, requires_grad=True),
                  tensor(second, dtype=kind, requires_grad=True)]
        optimizers = optim if library is mg else library.optim
        optimizer = getattr(optimizers, name)([params[0]], lr=0.1, weight_decay=0.5)
        optimizer.add_param_group({"params": [params[1]], "lr": 0.05})
        for grad_first, grad_second in grads:
            params[0].grad = tensor(grad_first, dtype=kind)
            params[1].grad = tensor(grad_second, dtype=kind)
            optimizer.step()
        state = optimizer.state[params[1]]
        results.append(([np.array(param.detach().numpy()) for param in params],
                        {key: (np.asarray(value.detach().numpy()).dtype
                               if key != "step" else None) for key, value in state.items()}))
    (ours, our_state), (theirs, their_state) = results
    for mine, reference in zip(ours, theirs):
        assert mine.dtype == reference.dtype
        np.testing.assert_allclose(mine, reference, rtol=1e-5 if dtype == mg.float32 else 1e-11)
    assert our_state == their_state


def test_adamw_keeps_maximize_and_decoupled_decay_through_a_state_dict():
    param = leaf((1.0, -1.0))
    optimizer = optim.AdamW([param], lr=0.1, weight_decay=0.5, maximize=True)
    assert optimizer.param_groups[0]["maximize"] is True
    saved = copy.deepcopy(optimizer.state_dict())
    saved["param_groups"][0].pop("decoupled_weight_decay", None)
    other = optim.AdamW([leaf((1.0, -1.0))], lr=0.1, weight_decay=0.5, maximize=True)
    other.load_state_dict(saved)
    assert other.param_groups[0]["decoupled_weight_decay"] is True
