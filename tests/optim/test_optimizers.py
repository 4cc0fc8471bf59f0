"""Optimizers: hand-computed steps, errors, state dicts, and PyTorch parity over 20 steps.

The first part needs only NumPy; the PyTorch part runs each optimizer and torch's on the same
parameters with the same gradients (drawn with NumPy), in float32 and float64, and compares
parameters after every step, the final state, and state dicts loaded across both libraries.
"""

import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.engine import Function

SHAPES = [(3, 4), (5,), ()]
STEPS = 20
TOLERANCE = {np.float32: {"rtol": 1e-5, "atol": 1e-6},
             np.float64: {"rtol": 1e-11, "atol": 1e-13}}

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 1e-3, "alpha": 0.3, "centered": True, "momentum": 0.5,
                 "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    ("Adagrad", {"initial_accumulator_value": 0.5, "eps": 1e-6, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1}),
    ("Adadelta", {"eps": 1e-4, "maximize": True}),
    # edges: a weight decay of exactly 1, and the ends of each allowed range
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 1.0}),
    ("Adam", {"lr": 0.01, "betas": (0.0, 0.0), "weight_decay": 1.0}),
    ("AdamW", {"lr": 0.01, "maximize": True, "weight_decay": 1.0}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.0, "weight_decay": 1.0}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 1.0, "eps": 0.0, "initial_accumulator_value": 0.1}),
    ("Adadelta", {"rho": 0.0, "weight_decay": 1.0}),
    ("Adadelta", {"rho": 1.0, "lr": 0.0}),
]
CONFIG_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kwargs.items())}"
              for name, kwargs in CONFIGS]
DTYPES = [np.float32, np.float64]


# ---- helpers ----------------------------------------------------------------------------
def problem(dtype, seed=0):
    """Initial values and STEPS rounds of gradients; parameter 2 has no gradient every third
    step (so its update is skipped)."""
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    rounds = []
    for step in range(STEPS):
        grads = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
        if step % 3 == 1:
            grads[2] = None
        rounds.append(grads)
    return initial, rounds


def parameters(initial):
    return [mg.tensor(array, requires_grad=True) for array in initial]


def apply_rounds(optimizer, params, rounds):
    """Assign each round's gradients and step; return the parameter values after each step."""
    history = []
    for grads in rounds:
        for param, grad in zip(params, grads):
            param.grad = None if grad is None else mg.Tensor(grad)
        optimizer.step()
        history.append([param.data.copy() for param in params])
    return history


def assert_same_state(left, right):
    """Two optimizers' per-parameter state: same names, bitwise equal values and dtypes."""
    assert len(left.state) == len(right.state)
    for (param_a, state_a), (param_b, state_b) in zip(left.state.items(), right.state.items()):
        assert list(state_a) == list(state_b)
        for name in state_a:
            assert state_a[name].dtype == state_b[name].dtype, name
            np.testing.assert_array_equal(state_a[name].data, state_b[name].data, err_msg=name)


class Double(Function):
    """y = 2 * x, to make a non-leaf tensor without minigrad.ops."""

    def forward(self, x):
        return x * 2

    def backward(self, xp, grad):
        return grad * 2


class SquaredNorm(Function):
    """y = sum(x * x)."""

    def forward(self, x):
        self.x = x
        return np.asarray((x * x).sum(), dtype=x.dtype)

    def backward(self, xp, grad):
        return 2 * grad * self.x


# ---- known values -----------------------------------------------------------------------
def test_sgd_one_step_by_hand():
    param = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    param.grad = mg.Tensor(np.array([0.5, -1.0]))
    optim.SGD([param], lr=0.1).step()
    np.testing.assert_allclose(param.data, [0.95, 2.1], rtol=0, atol=1e-15)


@pytest.mark.parametrize("nesterov, expected", [(False, [0.9, 0.71]), (True, [0.81, 0.539])])
def test_sgd_momentum_two_steps_by_hand(nesterov, expected):
    # buf = 1 then 0.9 * 1 + 1 = 1.9; nesterov steps along g + 0.9 * buf = 1.9 then 2.71
    param = mg.tensor(np.array([1.0]), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9, nesterov=nesterov)
    values = []
    for _ in range(2):
        param.grad = mg.Tensor(np.array([1.0]))
        optimizer.step()
        values.append(param.data[0])
    np.testing.assert_allclose(values, expected, rtol=1e-14)
    np.testing.assert_allclose(optimizer.state[param]["momentum_buffer"].data, [1.9])


@pytest.mark.parametrize("name, kwargs, scale", [
    ("Adam", {"lr": 0.1}, 1.0),          # m_hat / sqrt(v_hat) = sign(g) on step 1
    ("AdamW", {"lr": 0.1, "weight_decay": 0.0}, 1.0),
    ("Adagrad", {"lr": 0.1}, 1.0),       # g / sqrt(g * g)
    ("RMSprop", {"lr": 0.1}, 10.0),      # g / sqrt(0.01 * g * g)
])
def test_first_step_moves_by_lr_times_sign(name, kwargs, scale):
    param = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    param.grad = mg.Tensor(np.array([0.5, -2.0]))
    getattr(optim, name)([param], **kwargs).step()
    np.testing.assert_allclose(param.data, [1.0 - 0.1 * scale, 2.0 + 0.1 * scale],
                               rtol=1e-6, atol=1e-6)


def test_adadelta_first_step_by_hand():
    param = mg.tensor(np.array([1.0]), requires_grad=True)
    param.grad = mg.Tensor(np.array([2.0]))
    optim.Adadelta([param], lr=1.0, rho=0.9, eps=1e-6).step()
    delta = np.sqrt(1e-6) / np.sqrt(0.1 * 4.0 + 1e-6) * 2.0
    np.testing.assert_allclose(param.data, [1.0 - delta], rtol=1e-14)


def test_adamw_decays_weights_without_gradient_signal():
    param = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    param.grad = mg.Tensor(np.zeros(2))
    optim.AdamW([param], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(param.data, [0.95, 1.9], rtol=1e-15)


def test_minimizes_a_quadratic_through_the_engine_with_a_closure():
    param = mg.tensor(np.array([3.0, -2.0]), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1, momentum=0.5)

    def closure():
        optimizer.zero_grad()
        loss = SquaredNorm.apply(param)
        loss.backward()
        return loss

    losses = [optimizer.step(closure).item() for _ in range(50)]
    assert losses[0] == 13.0
    assert losses[-1] < 1e-6
    assert param.is_leaf and param.grad_fn is None and param.requires_grad


def test_closure_runs_with_grad_enabled_inside_no_grad():
    param = mg.tensor(np.array([1.0]), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1)
    seen = []

    def closure():
        seen.append(mg.is_grad_enabled())
        return 7.0

    with mg.no_grad():
        assert optimizer.step(closure) == 7.0
        assert not mg.is_grad_enabled()
    assert seen == [True]


# ---- dtypes, versions, None gradients, zero_grad ----------------------------------------
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_float32_stays_float32(name, kwargs):
    initial, rounds = problem(np.float32)
    params = parameters(initial)
    optimizer = getattr(optim, name)(params, **kwargs)
    apply_rounds(optimizer, params, rounds[:3])
    for param in params:
        assert param.dtype == np.float32
        for key, value in optimizer.state[param].items():
            assert value.dtype == np.float32, key
            assert value.shape == (() if key == "step" else param.shape), key


def test_step_bumps_versions_and_skips_parameters_without_grad():
    first = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    second = mg.tensor(np.array([3.0]), requires_grad=True)
    optimizer = optim.Adam([first, second], lr=0.1)
    first.grad = mg.Tensor(np.array([1.0, 1.0]))
    optimizer.step()
    optimizer.step()
    assert first.version == 2
    assert second.version == 0
    np.testing.assert_array_equal(second.data, [3.0])
    assert second not in optimizer.state
    assert list(optimizer.state_dict()["state"]) == [0]


def test_step_does_not_modify_the_gradient():
    param = mg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    param.grad = mg.Tensor(np.array([0.5, 0.25]))
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True)
    optimizer.step()
    optimizer.step()
    np.testing.assert_array_equal(param.grad.data, [0.5, 0.25])
    assert optimizer.state[param]["momentum_buffer"].data is not param.grad.data


def test_zero_grad_sets_to_none_by_default():
    param = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    param.grad = mg.Tensor(np.array([3.0, 4.0]))
    optim.SGD([param], lr=0.1).zero_grad()
    assert param.grad is None


def test_zero_grad_without_set_to_none_zeroes_in_place():
    param = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    grad = mg.Tensor(np.array([3.0, 4.0], dtype=np.float32))
    param.grad = grad
    other = mg.tensor(np.array([5.0]), requires_grad=True)  # no grad: stays None
    optim.SGD([param, other], lr=0.1).zero_grad(set_to_none=False)
    assert param.grad is grad
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(grad.data, [0.0, 0.0])
    assert other.grad is None


def test_adagrad_builds_state_for_every_parameter_up_front():
    params = parameters([np.ones(2), np.ones(3)])
    optimizer = optim.Adagrad(params, initial_accumulator_value=0.25)
    state = optimizer.state_dict()["state"]
    assert list(state) == [0, 1]
    np.testing.assert_array_equal(state[1]["sum"].data, [0.25, 0.25, 0.25])
    assert state[0]["step"].item() == 0.0


def test_repr_lists_each_group_like_torch():
    param = mg.tensor(np.array([1.0]), requires_grad=True)
    text = repr(optim.SGD([param], lr=0.1, momentum=0.9))
    assert text.splitlines()[:3] == ["SGD (", "Parameter Group 0", "    dampening: 0"]
    assert "    lr: 0.1" in text and text.endswith(")")


# ---- param groups -----------------------------------------------------------------------
def test_param_groups_take_their_own_options_and_defaults():
    first, second = parameters([np.ones(2), np.ones(2)])
    optimizer = optim.SGD([{"params": [first]}, {"params": second, "lr": 1.0}], lr=0.1)
    first.grad = mg.Tensor(np.ones(2))
    second.grad = mg.Tensor(np.ones(2))
    optimizer.step()
    np.testing.assert_allclose(first.data, [0.9, 0.9])
    np.testing.assert_allclose(second.data, [0.0, 0.0])
    assert optimizer.param_groups[1]["momentum"] == 0
    assert optimizer.param_groups[1]["params"] == [second]


def test_add_param_group_and_state_dict_layout():
    first, second, third = parameters([np.ones(2), np.ones(3), np.ones(1)])
    optimizer = optim.Adam([first, second], lr=0.1)
    optimizer.add_param_group({"params": [third], "lr": 0.5})
    for param in (first, third):
        param.grad = mg.Tensor(np.ones(param.shape))
    optimizer.step()
    state_dict = optimizer.state_dict()
    assert [group["params"] for group in state_dict["param_groups"]] == [[0, 1], [2]]
    assert list(state_dict["state"]) == [0, 2]
    assert list(state_dict["state"][2]) == ["step", "exp_avg", "exp_avg_sq"]
    assert state_dict["state"][2]["step"].dtype == np.float32
    assert state_dict["param_groups"][1]["lr"] == 0.5
    assert state_dict["param_groups"][1]["betas"] == (0.9, 0.999)
    assert list(state_dict["param_groups"][0])[-1] == "params"


# ---- errors -----------------------------------------------------------------------------
INVALID_OPTIONS = [
    ("SGD", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("SGD", {"weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
    ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("AdamW", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
    ("RMSprop", {"alpha": -0.5}, "Invalid alpha value: -0.5"),
    ("RMSprop", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("RMSprop", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("Adagrad", {"lr_decay": -0.5}, "Invalid lr_decay value: -0.5"),
    ("Adagrad", {"initial_accumulator_value": -0.5},
     "Invalid initial_accumulator_value value: -0.5"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("Adadelta", {"lr": -0.5}, "Invalid learning rate: -0.5"),
    ("Adadelta", {"rho": -0.1}, "Invalid rho value: -0.1"),
    ("Adadelta", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("Adadelta", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("Adagrad", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("Adagrad", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("Adagrad", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("RMSprop", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("RMSprop", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("AdamW", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("AdamW", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("AdamW", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("AdamW", {"betas": (-0.1, 0.9)}, "Invalid beta parameter at index 0: -0.1"),
]


@pytest.mark.parametrize("name, kwargs, message", INVALID_OPTIONS)
def test_invalid_options_raise_value_error(name, kwargs, message):
    param = mg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError) as error:
        getattr(optim, name)([param], **kwargs)
    assert str(error.value) == message


def test_invalid_option_in_a_param_group_raises_and_adds_nothing():
    first, second = parameters([np.ones(2), np.ones(2)])
    optimizer = optim.SGD([first], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optimizer.add_param_group({"params": [second], "lr": -1})
    assert len(optimizer.param_groups) == 1


def test_non_tensor_parameter_raises_type_error():
    with pytest.raises(TypeError) as error:
        optim.SGD([mg.tensor(np.ones(2), requires_grad=True), 3], lr=0.1)
    assert str(error.value) == "optimizer can only optimize Tensors, but one of the params is int"
    with pytest.raises(TypeError, match="numpy.ndarray"):
        optim.Adam([np.ones(2)])


def test_a_tensor_instead_of_an_iterable_raises_type_error():
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(mg.tensor(np.ones(2), requires_grad=True), lr=0.1)


def test_a_set_of_parameters_raises_type_error():
    param = mg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {param}}], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):  # torch accepts this one
        optim.SGD({param}, lr=0.1)


def test_non_leaf_raises_value_error():
    leaf = mg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([Double.apply(leaf)], lr=0.1)


def test_empty_parameter_list_raises_value_error():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam([])


def test_parameter_in_two_groups_raises_value_error():
    param = mg.tensor(np.ones(2), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [param]})
    assert len(optimizer.param_groups) == 1
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [param]}, {"params": [param]}], lr=0.1)


def test_duplicate_parameter_in_one_group_warns():
    param = mg.tensor(np.ones(2), requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([param, param], lr=0.1)


@pytest.mark.parametrize("bad_grad, error, match", [
    (mg.Tensor(np.ones(3)), RuntimeError, r"grad of parameter 1 has shape \(3,\)"),
    (mg.Tensor(np.ones(2, dtype=np.float32)), RuntimeError, "grad of parameter 1 has dtype"),
    (np.ones(2), TypeError, "must be a Tensor or None"),
])
def test_bad_gradient_stops_step_before_anything_changes(bad_grad, error, match):
    first, second = parameters([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    optimizer = optim.Adam([first, second], lr=0.1)
    first.grad = mg.Tensor(np.ones(2))
    second.grad = bad_grad
    with pytest.raises(error, match=match):
        optimizer.step()
    np.testing.assert_array_equal(first.data, [1.0, 2.0])
    assert first.version == 0
    assert len(optimizer.state) == 0


# ---- state dicts ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip_equals_straight_run(name, kwargs, dtype):
    initial, rounds = problem(dtype)
    straight_params = parameters(initial)
    straight = getattr(optim, name)(straight_params, **kwargs)
    apply_rounds(straight, straight_params, rounds)

    params = parameters(initial)
    first = getattr(optim, name)(params, **kwargs)
    apply_rounds(first, params, rounds[:10])
    saved = copy.deepcopy(first.state_dict())
    fresh = getattr(optim, name)(params, lr=123.0)  # lr and all options come from `saved`
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == first.param_groups[0]["lr"]
    apply_rounds(fresh, params, rounds[10:])

    for param, expected in zip(params, straight_params):
        np.testing.assert_array_equal(param.data, expected.data)
    assert_same_state(fresh, straight)


def test_load_state_dict_copies_and_casts_to_the_parameter_dtype():
    source_param = mg.tensor(np.ones(3), requires_grad=True)
    source = optim.Adam([source_param], lr=0.1)
    source_param.grad = mg.Tensor(np.full(3, 0.5))
    source.step()
    saved = source.state_dict()

    param = mg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    target = optim.Adam([param])
    target.load_state_dict(saved)
    state = target.state[param]
    assert state["exp_avg"].dtype == np.float32
    assert state["step"].dtype == np.float32
    np.testing.assert_allclose(state["exp_avg"].data, 0.05, rtol=1e-6)
    saved["state"][0]["exp_avg"].data[...] = 99.0  # the loaded optimizer owns its copies
    assert state["exp_avg"].data[0] != 99.0
    assert target.param_groups[0]["lr"] == 0.1
    assert target.param_groups[0]["params"] == [param]


def test_load_state_dict_accepts_numpy_arrays_and_a_numeric_step():
    param = mg.tensor(np.ones(2), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9)
    optimizer.load_state_dict({
        "state": {0: {"momentum_buffer": np.array([1.0, 2.0])}},
        "param_groups": [{"lr": 0.5, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
                          "nesterov": False, "maximize": False, "params": [0]}],
    })
    param.grad = mg.Tensor(np.zeros(2))
    optimizer.step()
    np.testing.assert_allclose(param.data, [1 - 0.5 * 0.9, 1 - 0.5 * 1.8])

    adam_param = mg.tensor(np.ones(2), requires_grad=True)
    adam = optim.Adam([adam_param])
    state = adam.state_dict()
    state["state"] = {0: {"step": 3, "exp_avg": np.zeros(2), "exp_avg_sq": np.zeros(2)}}
    adam.load_state_dict(state)
    assert adam.state[adam_param]["step"].dtype == np.float32
    assert adam.state[adam_param]["step"].item() == 3.0


def _snapshot(optimizer):
    """A deep copy of the state dict, and the ids of each group's parameters."""
    return (copy.deepcopy(optimizer.state_dict()),
            [[id(param) for param in group["params"]] for group in optimizer.param_groups])


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd["param_groups"].append({"lr": 1.0, "params": []}),
     "different number of parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].append(7),
     "doesn't match the size of optimizer's group"),
    (lambda sd: sd["state"][1].update(exp_avg=mg.Tensor(np.zeros(5))),
     r"state 'exp_avg' of parameter 1 has shape \(5,\), the parameter has shape \(3,\)"),
    (lambda sd: sd["param_groups"][0].update(lr=-1.0), "Invalid learning rate"),
])
def test_bad_state_dict_raises_value_error_and_changes_nothing(mutate, match):
    params = parameters([np.ones(2), np.ones(3)])
    optimizer = optim.Adam(params, lr=0.1)
    for param in params:
        param.grad = mg.Tensor(np.ones(param.shape))
    optimizer.step()
    before = _snapshot(optimizer)
    state_before, groups_before = optimizer.state, optimizer.param_groups
    bad = copy.deepcopy(optimizer.state_dict())
    mutate(bad)
    with pytest.raises(ValueError, match=match):
        optimizer.load_state_dict(bad)
    assert optimizer.state is state_before and optimizer.param_groups is groups_before
    after = _snapshot(optimizer)
    assert after[1] == before[1]
    for index in before[0]["state"]:
        for name, value in before[0]["state"][index].items():
            np.testing.assert_array_equal(after[0]["state"][index][name].data, value.data)
    assert after[0]["param_groups"] == before[0]["param_groups"]


# ---- PyTorch parity ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def run_torch(torch, name, kwargs, initial, rounds, optimizer=None, params=None):
    """The same run in PyTorch: its optimizer, parameters and values after each step."""
    if params is None:
        params = [torch.tensor(array, requires_grad=True) for array in initial]
    if optimizer is None:
        optimizer = getattr(torch.optim, name)(params, **kwargs)
    history = []
    for grads in rounds:
        for param, grad in zip(params, grads):
            param.grad = None if grad is None else torch.tensor(grad)
        optimizer.step()
        history.append([param.detach().numpy().copy() for param in params])
    return optimizer, params, history


def assert_state_matches_torch(ours, ours_params, theirs, their_params, dtype):
    for param, their_param in zip(ours_params, their_params):
        state, their_state = ours.state[param], theirs.state[their_param]
        assert list(state) == list(their_state)
        for key, value in state.items():
            expected = their_state[key].detach().numpy()
            assert value.dtype == expected.dtype, key
            np.testing.assert_allclose(value.data, expected, err_msg=key, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_matches_torch_step_by_step(torch, name, kwargs, dtype):
    initial, rounds = problem(dtype)
    params = parameters(initial)
    optimizer = getattr(optim, name)(params, **kwargs)
    history = apply_rounds(optimizer, params, rounds)
    their_optimizer, their_params, their_history = run_torch(torch, name, kwargs, initial,
                                                             rounds)
    for step, (values, expected) in enumerate(zip(history, their_history)):
        for value, their_value in zip(values, expected):
            assert value.dtype == their_value.dtype == dtype
            np.testing.assert_allclose(value, their_value, err_msg=f"step {step}",
                                       **TOLERANCE[dtype])
    assert_state_matches_torch(optimizer, params, their_optimizer, their_params, dtype)


TORCH_ONLY_GROUP_KEYS = {"foreach", "fused", "capturable", "differentiable",
                         "decoupled_weight_decay"}


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_has_torch_layout(torch, name, kwargs):
    initial, rounds = problem(np.float64)
    params = parameters(initial)
    optimizer = getattr(optim, name)(params, **kwargs)
    apply_rounds(optimizer, params, rounds[:5])
    their_optimizer, _, _ = run_torch(torch, name, kwargs, initial, rounds[:5])
    ours, theirs = optimizer.state_dict(), their_optimizer.state_dict()
    assert {index: list(state) for index, state in ours["state"].items()} == \
        {index: list(state) for index, state in theirs["state"].items()}
    for group, their_group in zip(ours["param_groups"], theirs["param_groups"]):
        assert set(their_group) - set(group) <= TORCH_ONLY_GROUP_KEYS
        for key, value in group.items():
            assert their_group[key] == value, key


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_state_dicts_load_across_libraries(torch, name, kwargs, dtype):
    """Ten steps here, continue ten in torch from our state dict; and the other way round."""
    initial, rounds = problem(dtype)
    straight, straight_params, their_history = run_torch(torch, name, kwargs, initial, rounds)

    params = parameters(initial)
    optimizer = getattr(optim, name)(params, **kwargs)
    apply_rounds(optimizer, params, rounds[:10])
    ours = optimizer.state_dict()
    as_torch = {"state": {index: {key: torch.tensor(value.data) for key, value in state.items()}
                          for index, state in ours["state"].items()},
                "param_groups": copy.deepcopy(ours["param_groups"])}
    their_params = [torch.tensor(param.data, requires_grad=True) for param in params]
    their_optimizer = getattr(torch.optim, name)(their_params, **kwargs)
    their_optimizer.load_state_dict(as_torch)
    run_torch(torch, name, kwargs, None, rounds[10:], their_optimizer, their_params)
    for their_param, expected in zip(their_params, their_history[-1]):
        np.testing.assert_allclose(their_param.detach().numpy(), expected, **TOLERANCE[dtype])

    their_params = [torch.tensor(array, requires_grad=True) for array in initial]
    their_optimizer, _, _ = run_torch(torch, name, kwargs, None, rounds[:10],
                                      params=their_params)
    params = [mg.tensor(param.detach().numpy(), requires_grad=True) for param in their_params]
    optimizer = getattr(optim, name)(params, **kwargs)
    optimizer.load_state_dict(copy.deepcopy(their_optimizer.state_dict()))
    apply_rounds(optimizer, params, rounds[10:])
    for param, expected in zip(params, their_history[-1]):
        np.testing.assert_allclose(param.data, expected, **TOLERANCE[dtype])
    assert_state_matches_torch(optimizer, params, straight, straight_params, dtype)


def test_param_groups_and_add_param_group_match_torch(torch):
    initial, rounds = problem(np.float64)
    groups = [{"params": [0, 1], "momentum": 0.9}, {"params": [2], "lr": 0.5}]

    def build(library_params, make):
        optimizer = make([{**group, "params": [library_params[i] for i in group["params"]]}
                          for group in groups[:1]], lr=0.1, weight_decay=0.01)
        optimizer.add_param_group({**groups[1], "params": [library_params[2]]})
        return optimizer

    params = parameters(initial)
    optimizer = build(params, optim.SGD)
    history = apply_rounds(optimizer, params, rounds)
    their_params = [torch.tensor(array, requires_grad=True) for array in initial]
    their_optimizer = build(their_params, torch.optim.SGD)
    _, _, their_history = run_torch(torch, "SGD", {}, None, rounds, their_optimizer,
                                    their_params)
    for values, expected in zip(history, their_history):
        for value, their_value in zip(values, expected):
            np.testing.assert_allclose(value, their_value, **TOLERANCE[np.float64])


@pytest.mark.parametrize("name, kwargs, message", INVALID_OPTIONS)
def test_error_messages_match_torch(torch, name, kwargs, message):
    with pytest.raises(ValueError) as error:
        getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], **kwargs)
    assert str(error.value) == message


def test_parameter_error_messages_match_torch(torch):
    with pytest.raises(TypeError) as error:
        torch.optim.SGD([torch.ones(2, requires_grad=True), 3], lr=0.1)
    assert str(error.value) == "optimizer can only optimize Tensors, but one of the params is int"
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        torch.optim.Adam([])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        torch.optim.SGD([torch.ones(2, requires_grad=True) * 2], lr=0.1)
