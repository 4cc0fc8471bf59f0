"""Models learn: the training CLI on digits, checkpoints, resuming, curves."""

import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import models, nn, optim
from minigrad.checkpoint import load_checkpoint, save_checkpoint
from minigrad.train import main


def test_lenet5_learns_digits_past_90_percent(tmp_path):
    result = main(["--dataset", "digits", "--model", "lenet5", "--epochs", "8", "--lr", "2e-3",
                   "--no-progress", "--plot", str(tmp_path / "curves.png")])
    history = result["history"]
    assert result["test_accuracy"] > 0.90
    assert history.train_loss[-1] < history.train_loss[0] / 5   # the seed's stayed at 2.3026
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _weights_and_state(path):
    state = mg.load(path)
    model = {key: value.numpy() for key, value in state["model"].items()}
    return model, state["optimizer"]


def test_resume_in_a_new_process_equals_training_straight_through(tmp_path):
    common = ["--dataset", "digits", "--model", "lenet5", "--train-limit", "256",
              "--batch-size", "32", "--no-progress", "--seed", "3"]
    main(common + ["--epochs", "2", "--save", str(tmp_path / "straight.safetensors")])
    main(common + ["--epochs", "1", "--save", str(tmp_path / "half.safetensors")])
    subprocess.run([sys.executable, "-m", "minigrad.train", *common, "--epochs", "2",
                    "--resume", str(tmp_path / "half.safetensors"),
                    "--save", str(tmp_path / "resumed.safetensors")], check=True,
                   capture_output=True)
    straight, straight_optimizer = _weights_and_state(tmp_path / "straight.safetensors")
    resumed, resumed_optimizer = _weights_and_state(tmp_path / "resumed.safetensors")
    assert straight.keys() == resumed.keys()
    for key in straight:
        np.testing.assert_array_equal(straight[key], resumed[key], err_msg=key)
    for index, state in straight_optimizer["state"].items():
        for name, value in state.items():
            other = resumed_optimizer["state"][index][name]
            np.testing.assert_array_equal(np.asarray(getattr(value, "data", value)),
                                          np.asarray(getattr(other, "data", other)))


def test_checkpoint_round_trip_restores_model_optimizer_and_rng(tmp_path):
    mg.manual_seed(0)
    model = models.LeNet5(input_size=8)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    x, y = mg.randn(4, 1, 8, 8), mg.tensor([0, 1, 2, 3])
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    save_checkpoint(tmp_path / "c.safetensors", model, optimizer, epoch=4)
    expected_next = mg.randn(3).numpy().copy()

    mg.manual_seed(99)
    fresh = models.LeNet5(input_size=8)
    fresh_optimizer = optim.Adam(fresh.parameters(), lr=1e-2)
    state = load_checkpoint(tmp_path / "c.safetensors", fresh, fresh_optimizer)
    assert state["epoch"] == 4
    np.testing.assert_array_equal(mg.randn(3).numpy(), expected_next)
    for (key, value), other in zip(model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(value.numpy(), other.numpy(), err_msg=key)
    assert fresh_optimizer.state_dict()["state"][0]["step"] == 1


def test_checkpoint_that_does_not_fit_leaves_the_model_unchanged(tmp_path):
    model = models.LeNet5(input_size=8)
    save_checkpoint(tmp_path / "lenet.safetensors", model)
    other = models.LeNet5(input_size=28)
    before = {key: value.numpy().copy() for key, value in other.state_dict().items()}
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        load_checkpoint(tmp_path / "lenet.safetensors", other)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])


def _train_with_schedule(model, optimizer, scheduler, steps, x, y):
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        scheduler.step()


def test_checkpoint_holds_the_scheduler_and_resuming_is_bit_identical(tmp_path):
    def setup(seed):
        mg.manual_seed(seed)
        model = models.LeNet5(input_size=8)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return model, optimizer, optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

    mg.manual_seed(5)
    x, y = mg.randn(4, 1, 8, 8), mg.tensor([0, 1, 2, 3])
    straight = setup(0)
    _train_with_schedule(*straight, 6, x, y)

    first = setup(0)
    _train_with_schedule(*first, 3, x, y)
    save_checkpoint(tmp_path / "c.safetensors", *first, epoch=3)
    resumed = setup(99)  # other weights, a fresh schedule
    state = load_checkpoint(tmp_path / "c.safetensors", *resumed)
    assert state["scheduler"]["last_epoch"] == 3
    assert resumed[2].get_last_lr() == first[2].get_last_lr()
    _train_with_schedule(*resumed, 3, x, y)
    assert resumed[2].get_last_lr() == straight[2].get_last_lr() == [0.1 * 0.5 ** 3]
    for (key, value), other in zip(straight[0].state_dict().items(),
                                   resumed[0].state_dict().values()):
        np.testing.assert_array_equal(value.numpy(), other.numpy(), err_msg=key)
