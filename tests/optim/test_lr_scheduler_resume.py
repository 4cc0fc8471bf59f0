"""Schedulers resumed with last_epoch, and ReduceLROnPlateau restored from a state dict, step
for step against PyTorch (the paths a fresh schedule never takes)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler

RESUMABLE = [
    ("StepLR", {"step_size": 3}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 11], "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7}),
    ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.9**epoch}),
]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def two_groups(library):
    """SGD over two parameter groups (lr 0.1 and 0.02) from minigrad or torch."""
    tensor = mg.tensor if library is mg else library.tensor
    optimizers = optim if library is mg else library.optim
    params = [tensor(np.zeros(3), requires_grad=True), tensor(np.zeros(2), requires_grad=True)]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.02}]
    return optimizers.SGD(groups, lr=0.1, momentum=0.9)


def resumed_lrs(library, name, kwargs, before, after):
    """lrs of a schedule run `before` steps, then rebuilt with last_epoch and run `after`."""
    optimizer = two_groups(library)
    schedulers = lr_scheduler if library is mg else library.optim.lr_scheduler
    first = getattr(schedulers, name)(optimizer, **kwargs)
    for _ in range(before):
        optimizer.step()
        first.step()
    resumed = getattr(schedulers, name)(optimizer, **kwargs, last_epoch=before)
    lrs = [list(resumed.get_last_lr())]
    for _ in range(after):
        optimizer.step()
        resumed.step()
        lrs.append(list(resumed.get_last_lr()))
    return lrs, resumed.last_epoch


@pytest.mark.parametrize("before", [1, 3, 6])
@pytest.mark.parametrize("name, kwargs", RESUMABLE, ids=[name for name, _ in RESUMABLE])
def test_resumed_schedule_matches_torch(torch, name, kwargs, before):
    ours = resumed_lrs(mg, name, kwargs, before, 12)
    theirs = resumed_lrs(torch, name, kwargs, before, 12)
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=0)


# ---- ReduceLROnPlateau: ties, thresholds, restored state, groups added later ----------------
PLATEAU_CONFIGS = [
    {"patience": 0},
    {"mode": "max", "patience": 0},
    {"threshold_mode": "abs", "threshold": 1.0, "patience": 0},
    {"mode": "max", "threshold_mode": "abs", "threshold": 1.0, "patience": 0},
    {"patience": 0, "factor": 0.5, "min_lr": 0.02, "eps": 0.005},
    {"patience": 0, "cooldown": 1},
]
# exact repeats (ties with the best), steps of exactly the threshold, and real moves
PLATEAU_METRICS = [10.0, 10.0, 9.0, 9.0, 8.0, 9.0, 10.0, 10.0, 11.0, 12.0, 12.0, 5.0, 5.0,
                   4.0, 4.0, 3.0, 3.0]


def plateau_run(library, kwargs, metrics, state=None):
    optimizer = two_groups(library)
    schedulers = lr_scheduler if library is mg else library.optim.lr_scheduler
    scheduler = schedulers.ReduceLROnPlateau(optimizer, **kwargs)
    if state is not None:
        scheduler.load_state_dict(state)
    trace = []
    for metric in metrics:
        scheduler.step(metric)
        trace.append((list(scheduler.get_last_lr()), scheduler.best, scheduler.num_bad_epochs,
                      scheduler.cooldown_counter))
    return trace, scheduler


@pytest.mark.parametrize("kwargs", PLATEAU_CONFIGS)
def test_reduce_on_plateau_ties_and_thresholds_match_torch(torch, kwargs):
    assert plateau_run(mg, kwargs, PLATEAU_METRICS)[0] == \
        plateau_run(torch, kwargs, PLATEAU_METRICS)[0]


@pytest.mark.parametrize("kwargs", PLATEAU_CONFIGS)
def test_reduce_on_plateau_restored_mid_run_matches_torch(torch, kwargs):
    """Run half, save, restore into a scheduler built with default options, run the rest."""
    half = len(PLATEAU_METRICS) // 2
    _, ours = plateau_run(mg, kwargs, PLATEAU_METRICS[:half])
    _, theirs = plateau_run(torch, kwargs, PLATEAU_METRICS[:half])
    ours_rest = plateau_run(mg, {}, PLATEAU_METRICS[half:], ours.state_dict())[0]
    theirs_rest = plateau_run(torch, {}, PLATEAU_METRICS[half:], theirs.state_dict())[0]
    assert [lrs for lrs, *_ in ours_rest] != []
    # the restored optimizer starts from the default lrs, so compare the bookkeeping
    assert [rest[1:] for rest in ours_rest] == [rest[1:] for rest in theirs_rest]


def test_reduce_on_plateau_restored_with_a_bad_mode_raises():
    scheduler = lr_scheduler.ReduceLROnPlateau(two_groups(mg))
    state = scheduler.state_dict()
    with pytest.raises(ValueError, match="mode maximum is unknown"):
        scheduler.load_state_dict({**state, "mode": "maximum"})
    with pytest.raises(ValueError, match="threshold mode ratio is unknown"):
        scheduler.load_state_dict({**state, "threshold_mode": "ratio"})


def test_reduce_on_plateau_covers_a_group_added_later(torch):
    """A scalar min_lr covers groups added after construction; a list cannot."""
    traces = []
    for library in (mg, torch):
        optimizer = two_groups(library)
        schedulers = lr_scheduler if library is mg else library.optim.lr_scheduler
        scheduler = schedulers.ReduceLROnPlateau(optimizer, patience=0, min_lr=0.005)
        tensor = mg.tensor if library is mg else library.tensor
        optimizer.add_param_group({"params": [tensor(np.zeros(1), requires_grad=True)],
                                   "lr": 0.3})
        for metric in (1.0, 1.0, 1.0, 1.0):
            scheduler.step(metric)
        traces.append(list(scheduler.get_last_lr()))
    assert traces[0] == traces[1]
    assert traces[0][2] == pytest.approx(0.005)
    optimizer = two_groups(mg)
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.0, 0.0])
    optimizer.add_param_group({"params": [mg.tensor(np.zeros(1), requires_grad=True)]})
    before = [group["lr"] for group in optimizer.param_groups]
    scheduler.step(1.0)
    with pytest.raises(RuntimeError, match="number of param groups"):
        scheduler.step(1.0)
    assert [group["lr"] for group in optimizer.param_groups] == before


# ---- OneCycleLR and argument edges ---------------------------------------------------------
ONE_CYCLE_EDGES = [
    {"max_lr": 1.0, "epochs": 1, "steps_per_epoch": 6},
    {"max_lr": 1.0, "epochs": 6, "steps_per_epoch": 1},
    {"max_lr": 1.0, "total_steps": 6, "pct_start": 0.0},
    {"max_lr": 1.0, "total_steps": 6, "pct_start": 1.0},
    {"max_lr": 1.0, "total_steps": 7, "max_momentum": [0.95, 0.9],
     "base_momentum": [0.8, 0.85]},
    {"max_lr": 1.0, "total_steps": 9, "three_phase": True, "pct_start": 0.5},
]


def one_cycle_trace(library, kwargs):
    optimizer = two_groups(library)
    schedulers = lr_scheduler if library is mg else library.optim.lr_scheduler
    scheduler = schedulers.OneCycleLR(optimizer, **kwargs)
    total = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    trace = [[(group["lr"], group["momentum"]) for group in optimizer.param_groups]]
    for _ in range(total - 1):
        optimizer.step()
        scheduler.step()
        trace.append([(group["lr"], group["momentum"]) for group in optimizer.param_groups])
    return trace


@pytest.mark.parametrize("kwargs", ONE_CYCLE_EDGES)
def test_one_cycle_edges_match_torch(torch, kwargs):
    ours, theirs = one_cycle_trace(mg, kwargs), one_cycle_trace(torch, kwargs)
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, kwargs", [
    ("OneCycleLR", {"max_lr": 1.0, "epochs": 0, "steps_per_epoch": 3}),
    ("OneCycleLR", {"max_lr": 1.0, "epochs": 2}),
    ("OneCycleLR", {"max_lr": 1.0, "steps_per_epoch": 2}),
    ("OneCycleLR", {"max_lr": 1.0, "epochs": 2, "steps_per_epoch": 0}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 4, "pct_start": -0.1}),
])
def test_more_error_messages_match_torch(torch, name, kwargs):
    messages = []
    for library in (mg, torch):
        schedulers = lr_scheduler if library is mg else library.optim.lr_scheduler
        with pytest.raises(Exception) as caught:
            getattr(schedulers, name)(two_groups(library), **kwargs)
        messages.append((type(caught.value), str(caught.value)))
    assert messages[0] == messages[1]


def test_not_an_optimizer_message_names_the_type():
    with pytest.raises(TypeError, match="^str is not an Optimizer$"):
        lr_scheduler.StepLR("sgd", step_size=1)
    with pytest.raises(TypeError, match="^list is not an Optimizer$"):
        lr_scheduler.ReduceLROnPlateau([])
    with pytest.raises(TypeError, match="^lr_lambda should be a function, but got int$"):
        lr_scheduler.LambdaLR(two_groups(mg), [lambda epoch: 1.0, 3])


def test_lambda_lr_state_dict_holds_neither_optimizer_nor_functions():
    state = lr_scheduler.LambdaLR(two_groups(mg), lambda epoch: 0.5).state_dict()
    assert "optimizer" not in state
    assert not any(callable(value) or (isinstance(value, list) and any(map(callable, value)))
                   for value in state.values())


@pytest.mark.parametrize("T_max", [1, 2])
def test_cosine_annealing_short_periods_match_torch(torch, T_max):
    ours = resumed_lrs(mg, "CosineAnnealingLR", {"T_max": T_max, "eta_min": 0.001}, 0, 9)
    theirs = resumed_lrs(torch, "CosineAnnealingLR", {"T_max": T_max, "eta_min": 0.001}, 0, 9)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=0)
