"""Mistakes that are not a single exception: what `.data` assignment and hooks still allow,
grad-mode decorators on generators, the scheduler-before-optimizer warning, saving through
links and devices, killed saves, and half-precision safetensors files. PyTorch is the
reference where it has the same thing."""

from __future__ import annotations

import json
import os
import stat
import struct
import threading
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim


# ---- .data assignment ----------------------------------------------------------------------
def test_data_assignment_keeps_the_parameter_and_shares_a_tensors_array():
    layer = nn.Linear(3, 2)
    weight = layer.weight
    new = mg.zeros(2, 3)
    layer.weight.data = new
    assert layer.weight is weight and isinstance(layer.weight, nn.Parameter)
    assert layer.weight.requires_grad and layer.weight.is_leaf
    new.data[0, 0] = 7.0  # shares memory, as `p.data = t` does in PyTorch
    assert layer.weight.data[0, 0] == 7.0
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_data_assignment_of_its_own_arithmetic_and_of_another_float_dtype():
    torch = pytest.importorskip("torch")
    layer = nn.Linear(3, 2)
    before = layer.weight.data.copy()
    layer.weight.data = layer.weight.data * 0.5
    np.testing.assert_array_equal(layer.weight.data, before * 0.5)
    layer.weight.data = layer.weight.data.astype(np.float64)  # PyTorch allows a float dtype
    assert layer.weight.dtype == np.float64
    reference = torch.nn.Linear(3, 2)
    reference.weight.data = reference.weight.data.double()
    assert reference.weight.dtype == torch.float64


def test_data_assignment_on_a_plain_tensor_may_change_shape_as_in_pytorch():
    x = mg.ones(3)
    x.data = np.zeros((2, 2), np.float32)
    assert x.shape == (2, 2)
    x.data = np.float32(3.0)  # a NumPy reduction's scalar
    assert x.shape == () and x.item() == 3.0


def test_a_hook_returning_a_same_shaped_gradient_still_replaces_it():
    x = mg.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda grad: grad * 10)
    x.register_hook(lambda grad: grad + 1)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [21.0, 21.0, 21.0])


# ---- grad-mode decorators -------------------------------------------------------------------
def _generator_modes(grad_module, decorator):
    @decorator
    def generate():
        received = yield grad_module.is_grad_enabled()
        yield (received, grad_module.is_grad_enabled())

    outside = []
    iterator = generate()
    first = next(iterator)
    outside.append(grad_module.is_grad_enabled())
    second = iterator.send("hello")
    outside.append(grad_module.is_grad_enabled())
    return first, second, outside


@pytest.mark.parametrize("name", ["no_grad", "enable_grad"])
def test_decorated_generators_run_each_resumption_in_the_mode_like_pytorch(name):
    torch = pytest.importorskip("torch")
    for module in (mg, torch):
        context = module.no_grad() if name == "enable_grad" else module.enable_grad()
        with context:  # start from the opposite mode, so the decorator has work to do
            ours = _generator_modes(module, getattr(module, name)())
        assert ours == (name == "enable_grad", ("hello", name == "enable_grad"),
                        [name != "enable_grad"] * 2)


def test_set_grad_enabled_decorates_generators():
    @mg.set_grad_enabled(False)
    def generate():
        yield mg.is_grad_enabled()
        yield (mg.ones(1, requires_grad=True) * 2).requires_grad

    assert mg.is_grad_enabled()
    assert list(generate()) == [False, False]
    assert mg.is_grad_enabled()


def test_bare_no_grad_and_enable_grad_decorate_like_pytorch():
    torch = pytest.importorskip("torch")
    for module in (mg, torch):
        @module.no_grad
        def double(x):
            return x * 2

        @module.enable_grad
        def triple(x):
            return x * 3

        x = module.ones(2, requires_grad=True)
        assert not double(x).requires_grad
        with module.no_grad():
            assert triple(x).requires_grad
        assert double.__name__ == "double"


def test_grad_mode_is_restored_when_a_decorated_generator_raises_or_closes():
    @mg.no_grad()
    def generate():
        yield 1
        raise ValueError("inside")

    iterator = generate()
    next(iterator)
    with pytest.raises(ValueError, match="inside"):
        next(iterator)
    assert mg.is_grad_enabled()
    iterator = generate()
    next(iterator)
    iterator.close()
    assert mg.is_grad_enabled()


# ---- lr_scheduler.step() before optimizer.step() -------------------------------------------
def _schedule(module, optimizer_first: bool) -> list:
    param = module.nn.Parameter(module.ones(2))
    optimizer = module.optim.SGD([param], lr=0.1)
    scheduler = module.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            if optimizer_first:
                optimizer.step()
            scheduler.step()
            if not optimizer_first:
                optimizer.step()
    return [str(warning.message) for warning in caught if "lr_scheduler" in
            str(warning.message)]


@pytest.mark.parametrize("optimizer_first", [True, False])
def test_scheduler_stepping_first_warns_once_like_pytorch(optimizer_first):
    torch = pytest.importorskip("torch")
    ours, theirs = _schedule(mg, optimizer_first), _schedule(torch, optimizer_first)
    assert len(ours) == len(theirs) == (0 if optimizer_first else 1)
    if ours:
        assert ours[0].startswith("Detected call of `lr_scheduler.step()` before "
                                  "`optimizer.step()`.")


def test_a_custom_optimizers_own_step_counts_too():
    class Halve(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.5})

        def step(self, closure=None):
            for group in self.param_groups:
                for param in group["params"]:
                    param.data = param.data * 0.5

    param = nn.Parameter(mg.ones(2))
    optimizer = Halve([param])
    scheduler = optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()
    assert param.data.tolist() == [0.5, 0.5]


# ---- saving never replaces what the user pointed at -------------------------------------------
STATE = {"weight": mg.arange(6, dtype=mg.float32).reshape(2, 3)}


def test_saving_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "store" / "weights.safetensors"
    real.parent.mkdir()
    mg.save({"weight": mg.zeros(1)}, real)
    os.chmod(real, 0o640)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(real)
    mg.save(STATE, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    np.testing.assert_array_equal(mg.load(real)["weight"].numpy(), STATE["weight"].numpy())
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640  # the file's mode is kept
    assert sorted(os.listdir(real.parent)) == ["weights.safetensors"]


def test_saving_through_a_dangling_or_relative_symlink_creates_the_target(tmp_path):
    (tmp_path / "runs").mkdir()
    link = tmp_path / "runs" / "model.safetensors"
    link.symlink_to("../model-v2.safetensors")
    mg.save(STATE, link)
    assert link.is_symlink()
    assert (tmp_path / "model-v2.safetensors").is_file()
    assert mg.load(link)["weight"].shape == (2, 3)


def test_saving_through_a_link_into_a_missing_directory_names_it(tmp_path):
    link = tmp_path / "model.safetensors"
    link.symlink_to(tmp_path / "gone" / "model.safetensors")
    with pytest.raises(FileNotFoundError, match=r"directory .*gone does not exist"):
        mg.save(STATE, link)
    assert link.is_symlink() and sorted(path.name for path in tmp_path.iterdir()) == [link.name]


def test_saving_to_dev_null_writes_through_and_keeps_the_device():
    mg.save(STATE, "/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_saving_to_a_fifo_writes_through_to_its_reader(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    mg.save(STATE, fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    copy = tmp_path / "copy.safetensors"
    copy.write_bytes(received[0])
    np.testing.assert_array_equal(mg.load(copy)["weight"].numpy(), STATE["weight"].numpy())


def test_saving_to_a_directory_is_refused_and_leaves_it_alone(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="checkpoints: it is a directory"):
        mg.save(STATE, folder)
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_a_killed_saves_temporary_file_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "model.safetensors"
    dead = tmp_path / ".model.safetensors.999999999-0123456789ab.tmp"  # no such process
    old = tmp_path / ".model.safetensors.0123456789ab.tmp"  # earlier naming, long abandoned
    fresh = tmp_path / ".model.safetensors.fedcba987654.tmp"  # earlier naming, maybe in use
    alive = tmp_path / f".model.safetensors.{os.getppid()}-0123456789ab.tmp"
    other = tmp_path / ".other.safetensors.999999999-0123456789ab.tmp"
    for leftover in (dead, old, fresh, alive, other):
        leftover.write_bytes(b"partial")
    os.utime(old, (0, 0))
    mg.save(STATE, path)
    remaining = sorted(entry.name for entry in tmp_path.iterdir())
    assert remaining == sorted([path.name, fresh.name, alive.name, other.name])


def test_a_killed_save_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "model.safetensors"
    mg.save(STATE, path)
    script = ("import os, minigrad as mg, minigrad._files as files\n"
              "def die(path, payload):\n"
              "    os.replace = lambda *a: os.kill(os.getpid(), 9)\n"
              "    original(path, payload)\n"
              "original = files.write_atomically\n"
              "import minigrad.serialization as s; s.write_atomically = die\n"
              f"mg.save({{'weight': mg.zeros(5)}}, {str(path)!r})\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == -9
    leftovers = [entry for entry in tmp_path.iterdir() if entry.name.endswith(".tmp")]
    assert len(leftovers) == 1
    assert mg.load(path)["weight"].shape == (2, 3)  # the old checkpoint is intact
    mg.save(STATE, path)
    assert [entry.name for entry in tmp_path.iterdir()] == [path.name]


# ---- half-precision safetensors files ---------------------------------------------------------
def _safetensors_bytes(tensors: dict[str, tuple[str, tuple, bytes]]) -> bytes:
    """A safetensors file built by hand: {name: (dtype code, shape, raw bytes)}."""
    header, offset, blobs = {}, 0, []
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


VALUES = np.array([[1.0, -2.5], [0.15625, 32768.0]], dtype=np.float32)


def _bfloat16_bits(values: np.ndarray) -> bytes:
    return (values.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()


def test_bfloat16_and_float16_files_load_as_float32(tmp_path):
    path = tmp_path / "downloaded.safetensors"
    path.write_bytes(_safetensors_bytes({
        "brain": ("BF16", (2, 2), _bfloat16_bits(VALUES)),
        "half": ("F16", (2, 2), VALUES.astype("<f2").tobytes()),
        "steps": ("I64", (1,), np.array([7], "<i8").tobytes())}))
    loaded = mg.load(path)
    assert {name: tensor.dtype for name, tensor in loaded.items()} == {
        "brain": np.float32, "half": np.float32, "steps": np.int64}
    np.testing.assert_array_equal(loaded["brain"].numpy(), VALUES)  # all exact in bfloat16
    np.testing.assert_array_equal(loaded["half"].numpy(), VALUES)
    kept = mg.load(path, half_dtype=None)
    assert kept["half"].dtype == np.float16 and kept["brain"].dtype == np.float32
    assert mg.load(path, half_dtype=mg.float64)["brain"].dtype == np.float64


def test_pytorch_bfloat16_weights_load_into_a_float32_model(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    reference = torch.nn.Linear(3, 2).to(torch.bfloat16)
    safetensors_torch.save_file(reference.state_dict(), tmp_path / "bf16.safetensors")
    layer = nn.Linear(3, 2)
    layer.load_state_dict(mg.load(tmp_path / "bf16.safetensors"))
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.detach().numpy(),
                                  reference.weight.detach().float().numpy())


def test_unreadable_dtypes_and_bad_half_dtype_are_named(tmp_path):
    path = tmp_path / "fp8.safetensors"
    path.write_bytes(_safetensors_bytes({"w": ("F8_E4M3", (2,), b"\x01\x02")}))
    with pytest.raises(ValueError, match=r"tensor 'w' has dtype 'F8_E4M3', which minigrad "
                                         r"cannot represent"):
        mg.load(path)
    with pytest.raises(TypeError, match="half_dtype must be a float dtype or None"):
        mg.load(path, half_dtype=mg.int32)


# ---- module backward hooks ------------------------------------------------------------------
def _hooked_linear_grads(module, weight, bias, x):
    layer = module.nn.Linear(3, 2)
    with module.no_grad():
        layer.weight.copy_(module.tensor(weight))
        layer.bias.copy_(module.tensor(bias))
    seen = []
    layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
    handle = layer.register_full_backward_hook(
        lambda m, gi, go: seen.append((tuple(gi[0].shape), tuple(go[0].shape))) or (gi[0] * 2,))
    inputs = module.tensor(x, requires_grad=True)
    (layer(inputs) ** 2).sum().backward()
    first = (inputs.grad.detach().numpy().copy(), layer.weight.grad.detach().numpy().copy())
    handle.remove()
    inputs.grad = None
    (layer(inputs) ** 2).sum().backward()
    return first, inputs.grad.detach().numpy().copy(), seen


def test_module_backward_hooks_change_gradients_as_in_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    weight, bias = rng.standard_normal((2, 3), np.float32), rng.standard_normal(2, np.float32)
    x = rng.standard_normal((4, 3), np.float32)
    (ours, ours_weight), ours_after, ours_seen = _hooked_linear_grads(mg, weight, bias, x)
    (theirs, theirs_weight), theirs_after, theirs_seen = _hooked_linear_grads(torch, weight,
                                                                              bias, x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(ours_weight, theirs_weight, rtol=1e-5)
    np.testing.assert_allclose(ours_after, theirs_after, rtol=1e-5)  # after handle.remove()
    assert ours_seen == theirs_seen == [((4, 3), (4, 2))]


def test_module_backward_hooks_on_modules_of_several_tensors_say_so():
    class Pair(nn.Module):
        def forward(self, a, b):
            return a + b

    pair = Pair()
    pair.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(NotImplementedError, match="one Tensor argument, got 2"):
        pair(mg.ones(2, requires_grad=True), mg.ones(2))
    with pytest.raises(TypeError, match="hook must be callable"):
        pair.register_full_backward_pre_hook("not a function")
