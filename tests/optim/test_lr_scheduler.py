"""Learning-rate schedulers: known sequences, errors, state dicts, and PyTorch parity.

The parity tests step our scheduler and torch's side by side for 20 steps on optimizers with
two parameter groups and compare every lr (and OneCycleLR's momentum / beta1) exactly: both
compute in Python floats with the same recursive formulas.
"""

import copy
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler

STEPS = 20


def _decay(epoch):
    return 0.95**epoch


def _inverse(epoch):
    return 1.0 / (epoch + 1)


def _half(epoch):
    return 0.5


class Warmup:
    """A callable object: LambdaLR saves its attributes in state_dict."""

    def __init__(self, length):
        self.length = length

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.length)


SCHEDULERS = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 11], "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7}),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": _decay}),
    ("LambdaLR", {"lr_lambda": [_inverse, _half]}),
    ("LambdaLR", {"lr_lambda": Warmup(5)}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": STEPS + 1, "pct_start": 0.25,
                    "anneal_strategy": "linear", "three_phase": True}),
    ("OneCycleLR", {"max_lr": 0.1, "epochs": 4, "steps_per_epoch": 5, "cycle_momentum": False,
                    "div_factor": 10.0, "final_div_factor": 100.0}),
]
SCHEDULER_IDS = [f"{name}-{index}" for index, (name, _) in enumerate(SCHEDULERS)]
OPTIMIZERS = [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.1})]


# ---- helpers ----------------------------------------------------------------------------
def make_params(library, initial):
    tensor = mg.tensor if library is mg else library.tensor
    return [tensor(array, requires_grad=True) for array in initial]


def make_optimizer(library, name, kwargs, params):
    """An optimizer over two groups (the second with lr 0.02) from minigrad or torch."""
    optimizers = optim if library is mg else library.optim
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.02}]
    return getattr(optimizers, name)(groups, **kwargs)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def run(optimizer, scheduler, params, grads, tensor):
    """Step optimizer then scheduler; record lrs, momenta and parameters after each step."""
    lrs, momenta = [scheduler.get_last_lr()], []
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            param.grad = tensor(grad)
        optimizer.step()
        scheduler.step()
        lrs.append(list(scheduler.get_last_lr()))
        momenta.append([momentum_of(group) for group in optimizer.param_groups])
    return lrs, momenta


def gradients(steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(3), rng.standard_normal(2)] for _ in range(steps)]


def sgd(lr=1.0, groups=1, **kwargs):
    params = [mg.tensor(np.ones(2), requires_grad=True) for _ in range(groups)]
    return optim.SGD([{"params": [param]} for param in params], lr=lr, **kwargs)


def lrs_over(scheduler, steps):
    values = []
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        values.append(scheduler.get_last_lr()[0])
    return values


# ---- known values -----------------------------------------------------------------------
def test_step_lr_known_values():
    scheduler = lr_scheduler.StepLR(sgd(1.0), step_size=2, gamma=0.5)
    assert scheduler.get_last_lr() == [1.0]
    assert lrs_over(scheduler, 6) == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_multistep_lr_applies_repeated_milestones_twice():
    scheduler = lr_scheduler.MultiStepLR(sgd(1.0), milestones=[1, 3, 3], gamma=0.5)
    assert lrs_over(scheduler, 4) == [0.5, 0.5, 0.125, 0.125]


def test_exponential_lr_known_values():
    scheduler = lr_scheduler.ExponentialLR(sgd(2.0), gamma=0.5)
    assert lrs_over(scheduler, 3) == [1.0, 0.5, 0.25]


def test_lambda_lr_scales_the_initial_lr():
    scheduler = lr_scheduler.LambdaLR(sgd(0.5), lr_lambda=lambda epoch: epoch + 1)
    assert scheduler.get_last_lr() == [0.5]
    assert lrs_over(scheduler, 3) == [1.0, 1.5, 2.0]


def test_cosine_annealing_follows_the_closed_form_over_two_periods():
    scheduler = lr_scheduler.CosineAnnealingLR(sgd(1.0), T_max=5, eta_min=0.1)
    values = lrs_over(scheduler, 20)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * epoch / 5)) / 2 for epoch in range(1, 21)]
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-12)
    assert values[4] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)


def test_one_cycle_warms_up_then_anneals_and_cycles_beta1():
    param = mg.tensor(np.ones(2), requires_grad=True)
    optimizer = optim.Adam([param], betas=(0.5, 0.99))
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10, pct_start=0.5)
    group = optimizer.param_groups[0]
    assert scheduler.get_last_lr() == [pytest.approx(1.0 / 25)]
    assert group["betas"] == (0.95, 0.99)
    values, betas = [], []
    for _ in range(9):
        optimizer.step()
        scheduler.step()
        values.append(scheduler.get_last_lr()[0])
        betas.append(group["betas"][0])
    assert values[3] == pytest.approx(1.0)  # epoch 4 = pct_start * total_steps - 1: the peak
    assert betas[3] == pytest.approx(0.85)
    assert values[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert betas[-1] == pytest.approx(0.95)
    assert group["betas"][1] == 0.99
    assert group["initial_lr"] == 0.04 and group["max_lr"] == 1.0


def test_reduce_on_plateau_waits_for_patience_then_cools_down():
    optimizer = sgd(1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=2, cooldown=1, min_lr=0.005)
    lrs = []
    for metric in [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    # 3 bad epochs > patience 2 -> 0.1; one cooldown epoch, then 3 bad epochs again -> 0.01;
    # then 0.001 would go below min_lr, so 0.005
    assert lrs == pytest.approx([1.0] * 4 + [0.1] * 4 + [0.01] * 4 + [0.005])
    assert scheduler.best == 4.0


def test_reduce_on_plateau_accepts_a_one_element_tensor():
    scheduler = lr_scheduler.ReduceLROnPlateau(sgd(1.0), patience=0)
    scheduler.step(mg.tensor(1.0))
    scheduler.step(mg.tensor(2.0))
    assert scheduler.get_last_lr() == [pytest.approx(0.1)]


def test_scheduler_sets_initial_lr_and_base_lrs():
    optimizer = sgd(0.3, groups=2)
    optimizer.param_groups[1]["lr"] = 0.7
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1)
    assert [group["initial_lr"] for group in optimizer.param_groups] == [0.3, 0.7]
    assert scheduler.base_lrs == [0.3, 0.7]
    assert scheduler.last_epoch == 0
    assert "optimizer" not in scheduler.state_dict()


def test_resuming_with_last_epoch_continues_the_schedule():
    optimizer = sgd(1.0)
    straight = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    lrs_over(straight, 3)
    resumed = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5, last_epoch=3)
    assert resumed.last_epoch == 4
    assert resumed.get_last_lr() == [0.25]


def test_import_paths():
    import minigrad.optim.lr_scheduler as module

    assert module.StepLR is optim.lr_scheduler.StepLR is lr_scheduler.StepLR


# ---- errors -----------------------------------------------------------------------------
def test_scheduler_needs_an_optimizer():
    for make in (lambda: lr_scheduler.StepLR("sgd", step_size=1),
                 lambda: lr_scheduler.LambdaLR(object(), lr_lambda=_decay),
                 lambda: lr_scheduler.OneCycleLR(None, max_lr=1.0, total_steps=5),
                 lambda: lr_scheduler.ReduceLROnPlateau([])):
        with pytest.raises(TypeError, match="is not an Optimizer"):
            make()


def test_resuming_without_initial_lr_raises_key_error():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(sgd(), gamma=0.9, last_epoch=4)


@pytest.mark.parametrize("make, error, match", [
    (lambda opt: lr_scheduler.StepLR(opt, step_size=0), ValueError, "step_size"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=0), ValueError, "T_max"),
    (lambda opt: lr_scheduler.LambdaLR(opt, [_decay, _decay]), ValueError,
     "Expected 1 lr_lambdas, but got 2"),
    (lambda opt: lr_scheduler.LambdaLR(opt, 3), TypeError, "lr_lambda should be a function"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0), ValueError,
     "You must define either total_steps OR"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=-1),
     ValueError, "Expected positive integer steps_per_epoch, but got -1"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=9, pct_start=1.5),
     ValueError, "Expected float between 0 and 1 pct_start, but got 1.5"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=9,
                                         anneal_strategy="step"),
     ValueError, "anneal_strategy must be one of 'cos' or 'linear', instead got step"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=9), ValueError,
     "max_lr must have the same length as optimizer.param_groups"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=1.0), ValueError,
     "Factor should be < 1.0."),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, mode="maximum"), ValueError,
     "mode maximum is unknown!"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="ratio"), ValueError,
     "threshold mode ratio is unknown!"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2]), ValueError,
     "expected 1 min_lrs, got 2"),
])
def test_bad_arguments_raise_and_leave_the_optimizer_alone(make, error, match):
    optimizer = sgd(0.5, momentum=0.9)
    before = copy.deepcopy(optimizer.state_dict()["param_groups"])
    with pytest.raises(error, match=match):
        make(optimizer)
    assert optimizer.state_dict()["param_groups"] == before


def test_one_cycle_needs_momentum_or_betas_and_changes_nothing_otherwise():
    param = mg.tensor(np.ones(2), requires_grad=True)
    optimizer = optim.Adagrad([param], lr=0.5)
    before = copy.deepcopy(optimizer.param_groups[0]["lr"])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=5)
    assert optimizer.param_groups[0]["lr"] == before
    assert "initial_lr" not in optimizer.param_groups[0]
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=5,
                                        cycle_momentum=False)
    assert scheduler.get_last_lr() == [pytest.approx(0.04)]


def test_one_cycle_past_its_end_raises_and_keeps_its_epoch():
    optimizer = sgd(1.0, momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    lrs_over(scheduler, 3)
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of "
                                         "total steps is 3"):
        scheduler.step()
    assert scheduler.last_epoch == 3
    assert scheduler.get_last_lr() == [optimizer.param_groups[0]["lr"]]


# ---- state dicts ------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=SCHEDULER_IDS)
def test_state_dict_round_trip_continues_the_schedule(name, kwargs):
    grads = gradients()
    options = {"lr": 0.1, "momentum": 0.9}
    params = make_params(mg, [np.zeros(3), np.zeros(2)])
    optimizer = make_optimizer(mg, "SGD", options, params)
    scheduler = getattr(lr_scheduler, name)(optimizer, **kwargs)
    straight, _ = run(optimizer, scheduler, params, grads, mg.Tensor)

    params = make_params(mg, [np.zeros(3), np.zeros(2)])
    optimizer = make_optimizer(mg, "SGD", options, params)
    scheduler = getattr(lr_scheduler, name)(optimizer, **kwargs)
    run(optimizer, scheduler, params, grads[:7], mg.Tensor)
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    saved_scheduler = copy.deepcopy(scheduler.state_dict())

    fresh_optimizer = make_optimizer(mg, "SGD", options, params)
    fresh_scheduler = getattr(lr_scheduler, name)(fresh_optimizer, **kwargs)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh_scheduler.load_state_dict(saved_scheduler)
    resumed, _ = run(fresh_optimizer, fresh_scheduler, params, grads[7:], mg.Tensor)
    assert resumed == straight[7:]


def test_lambda_lr_state_dict_keeps_callable_objects_attributes():
    optimizer = sgd(1.0)
    warmup = Warmup(5)
    scheduler = lr_scheduler.LambdaLR(optimizer, [warmup])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"length": 5}]
    state["lr_lambdas"] = [{"length": 10}]
    scheduler.load_state_dict(state)
    assert warmup.length == 10
    assert "lr_lambdas" in state
    plain = lr_scheduler.LambdaLR(sgd(1.0), _decay)
    assert plain.state_dict()["lr_lambdas"] == [None]


def test_reduce_on_plateau_state_dict_round_trip():
    optimizer = sgd(1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", patience=1)
    for metric in (1.0, 0.5, 0.5):
        scheduler.step(metric)
    saved = copy.deepcopy(scheduler.state_dict())
    other = lr_scheduler.ReduceLROnPlateau(sgd(1.0))
    other.load_state_dict(saved)
    assert (other.mode, other.best, other.patience, other.last_epoch) == ("max", 1.0, 1, 3)
    assert other.mode_worse == -math.inf


# ---- PyTorch parity ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("optimizer_name, optimizer_kwargs", OPTIMIZERS,
                         ids=[name for name, _ in OPTIMIZERS])
@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=SCHEDULER_IDS)
def test_matches_torch_step_by_step(torch, name, kwargs, optimizer_name, optimizer_kwargs):
    initial = [np.zeros(3), np.zeros(2)]
    grads = gradients()
    params = make_params(mg, initial)
    optimizer = make_optimizer(mg, optimizer_name, optimizer_kwargs, params)
    scheduler = getattr(lr_scheduler, name)(optimizer, **kwargs)
    lrs, momenta = run(optimizer, scheduler, params, grads, mg.Tensor)

    their_params = make_params(torch, initial)
    their_optimizer = make_optimizer(torch, optimizer_name, optimizer_kwargs, their_params)
    their_scheduler = getattr(torch.optim.lr_scheduler, name)(their_optimizer, **kwargs)
    their_lrs, their_momenta = run(their_optimizer, their_scheduler, their_params, grads,
                                   torch.tensor)
    assert lrs == their_lrs
    assert momenta == their_momenta
    for group, their_group in zip(optimizer.param_groups, their_optimizer.param_groups):
        for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            assert group.get(key) == their_group.get(key), key
    for param, their_param in zip(params, their_params):
        np.testing.assert_allclose(param.data, their_param.detach().numpy(), rtol=1e-11,
                                   atol=1e-13)
    ours, theirs = scheduler.state_dict(), their_scheduler.state_dict()
    for key in ("last_epoch", "base_lrs", "_last_lr", "_step_count"):
        assert ours[key] == theirs[key], key


REDUCE_CONFIGS = [
    {"patience": 2},
    {"mode": "max", "factor": 0.5, "patience": 1, "cooldown": 2},
    {"threshold_mode": "abs", "threshold": 0.5, "patience": 0, "min_lr": [0.05, 0.001]},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.1, "eps": 0.05, "patience": 1},
]


@pytest.mark.parametrize("kwargs", REDUCE_CONFIGS)
def test_reduce_on_plateau_matches_torch(torch, kwargs):
    metrics = np.cumsum(np.random.default_rng(1).standard_normal(40)) + 50
    initial = [np.zeros(3), np.zeros(2)]
    optimizer = make_optimizer(mg, "SGD", {"lr": 0.1}, make_params(mg, initial))
    their_optimizer = make_optimizer(torch, "SGD", {"lr": 0.1}, make_params(torch, initial))
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    their_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(their_optimizer, **kwargs)
    for metric in metrics:
        scheduler.step(float(metric))
        their_scheduler.step(float(metric))
        assert scheduler.get_last_lr() == their_scheduler.get_last_lr()
        assert (scheduler.best, scheduler.num_bad_epochs, scheduler.cooldown_counter) == (
            their_scheduler.best, their_scheduler.num_bad_epochs,
            their_scheduler.cooldown_counter)
    assert scheduler.get_last_lr() != [0.1, 0.02]  # the sequence did reduce


ERROR_CASES = [
    ("OneCycleLR", {"max_lr": 1.0}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 0}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 9, "pct_start": 1.5}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 9, "anneal_strategy": "step"}),
    ("OneCycleLR", {"max_lr": [1.0, 2.0, 3.0], "total_steps": 9}),
    ("LambdaLR", {"lr_lambda": [_decay]}),
    ("ReduceLROnPlateau", {"factor": 2.0}),
    ("ReduceLROnPlateau", {"mode": "maximum"}),
    ("ReduceLROnPlateau", {"min_lr": [0.1]}),
]


@pytest.mark.parametrize("name, kwargs", ERROR_CASES)
def test_error_messages_match_torch(torch, name, kwargs):
    initial = [np.zeros(3), np.zeros(2)]
    options = {"lr": 0.1, "momentum": 0.9}
    optimizer = make_optimizer(mg, "SGD", options, make_params(mg, initial))
    their_optimizer = make_optimizer(torch, "SGD", options, make_params(torch, initial))
    with pytest.raises(Exception) as ours:
        getattr(lr_scheduler, name)(optimizer, **kwargs)
    with pytest.raises(Exception) as theirs:
        getattr(torch.optim.lr_scheduler, name)(their_optimizer, **kwargs)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_lrs_are_written_as_python_floats():
    optimizer = sgd(1.0)
    lr_scheduler.LambdaLR(optimizer, lambda epoch: np.float64(0.5))
    assert type(optimizer.param_groups[0]["lr"]) is float
