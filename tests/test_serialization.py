"""mg.save / mg.load: safetensors checkpoints, nesting, dtypes, PyTorch interop, atomicity."""

import json
import math
import os
import struct

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import Tensor
from minigrad.serialization import load, save


def assert_same(loaded, expected, where="obj"):
    """Deep equality that also checks types: int keys stay ints, tuples stay tuples, tensors
    keep dtype and shape, floats match bit for bit (-0.0 included; NaN is any NaN)."""
    if isinstance(expected, (Tensor, np.ndarray)):
        assert isinstance(loaded, Tensor), where
        expected_array = np.asarray(expected.data if isinstance(expected, Tensor) else expected)
        assert loaded.dtype == expected_array.dtype, where
        assert loaded.shape == expected_array.shape, where
        np.testing.assert_array_equal(loaded.numpy(), expected_array, err_msg=where)
    elif isinstance(expected, dict):
        assert type(loaded) is dict, where
        assert list(loaded) == list(expected), where
        for key in expected:
            assert type(key) is type(next(k for k in loaded if k == key)), where
            assert_same(loaded[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(loaded) is type(expected) and len(loaded) == len(expected), where
        for position, (item, expected_item) in enumerate(zip(loaded, expected, strict=True)):
            assert_same(item, expected_item, f"{where}[{position}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert type(loaded) is float and math.isnan(loaded), where  # JSON keeps no NaN sign
    elif isinstance(expected, float):
        assert type(loaded) is float, where
        assert struct.pack("<d", loaded) == struct.pack("<d", expected), where
    else:
        assert type(loaded) is type(expected) and loaded == expected, where


def header_of(path) -> dict:
    with open(path, "rb") as file:
        raw = file.read()
    (size,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + size])


def optimizer_like_state() -> dict:
    return {
        "state": {0: {"step": 3, "exp_avg": mg.randn(4, 3), "exp_avg_sq": mg.rand(4, 3)},
                  1: {"step": 3, "exp_avg": mg.randn(4), "exp_avg_sq": mg.rand(4)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                          "amsgrad": False, "foreach": None, "params": [0, 1]}],
    }


# ---- round trips ------------------------------------------------------------------------------

def test_plain_state_dict_round_trips_without_metadata(tmp_path):
    state = {"conv1.weight": mg.randn(6, 1, 5, 5), "conv1.bias": mg.zeros(6),
             "fc.weight": mg.randn(10, 6)}
    save(state, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    assert list(loaded) == sorted(state)  # no metadata, so the order is by name
    assert_same(loaded, {name: state[name] for name in sorted(state)})
    assert "__metadata__" not in header_of(tmp_path / "model.safetensors")


def test_nested_checkpoint_round_trips(tmp_path):
    checkpoint = {
        "model": {"conv1.weight": mg.randn(2, 1, 3, 3), "bn.num_batches_tracked": mg.tensor(7)},
        "optimizer": optimizer_like_state(),
        "epoch": 12, "best": float("inf"), "loss": float("nan"), "zero": -0.0,
        "name": "lenet ✓", "done": True, "note": None,
        "history": {"train_loss": [2.3, 1.1, 0.25], "lr": (0.1, 0.01)},
        "tensors_in_list": [mg.ones(2), {"inner": np.arange(3)}, 5],
        "empty": {}, "empty_list": [],
    }
    save(checkpoint, tmp_path / "checkpoint.safetensors")
    loaded = load(tmp_path / "checkpoint.safetensors")
    expected = dict(checkpoint, tensors_in_list=[checkpoint["tensors_in_list"][0],
                                                 {"inner": np.arange(3)}, 5])
    assert_same(loaded, expected)


def test_optimizer_state_keeps_int_keys_and_tuples(tmp_path):
    state = optimizer_like_state()
    save(state, tmp_path / "optimizer.safetensors")
    loaded = load(tmp_path / "optimizer.safetensors")
    assert list(loaded["state"]) == [0, 1]
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert_same(loaded, state)
    names = set(header_of(tmp_path / "optimizer.safetensors")) - {"__metadata__"}
    assert names == {"state.0.exp_avg", "state.0.exp_avg_sq", "state.1.exp_avg",
                     "state.1.exp_avg_sq"}


def test_rng_state_with_128_bit_ints_round_trips(tmp_path):
    mg.manual_seed(2024)
    state = mg.get_rng_state()
    assert state["state"]["state"] >= 2**64  # PCG64's state is a 128-bit int
    save({"rng_state": state}, tmp_path / "rng.safetensors")
    expected = mg.randn(5).numpy().copy()
    loaded = load(tmp_path / "rng.safetensors")["rng_state"]
    assert_same(loaded, state)
    mg.set_rng_state(loaded)
    np.testing.assert_array_equal(mg.randn(5).numpy(), expected)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "int32", "uint8",
                                   "float16"])
@pytest.mark.parametrize("shape", [(), (0, 3), (2, 3, 4)])
def test_dtypes_and_shapes_round_trip(tmp_path, dtype, shape):
    values = (np.arange(int(np.prod(shape))) % 5 - 2).reshape(shape).astype(dtype)
    state = {"array": values, "tensor": Tensor(values, dtype=dtype)}  # sorted: no metadata
    save(state, tmp_path / "values.safetensors")
    assert_same(load(tmp_path / "values.safetensors", half_dtype=None), state)


def test_awkward_arrays_are_stored_by_value(tmp_path):
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    state = {"transposed": base.T, "strided": base[:, ::2], "big_endian": base.astype(">f4"),
             "grad": mg.randn(3, requires_grad=True)}
    save(state, tmp_path / "awkward.safetensors")
    loaded = load(tmp_path / "awkward.safetensors")
    np.testing.assert_array_equal(loaded["transposed"].numpy(), base.T)
    np.testing.assert_array_equal(loaded["strided"].numpy(), base[:, ::2])
    assert loaded["big_endian"].dtype == np.float32
    np.testing.assert_array_equal(loaded["big_endian"].numpy(), base)
    assert not loaded["grad"].requires_grad
    np.testing.assert_array_equal(loaded["grad"].numpy(), state["grad"].data)


def test_loaded_tensors_are_writable_and_independent(tmp_path):
    save({"a": mg.zeros(3), "b": mg.zeros(3)}, tmp_path / "x.safetensors")
    loaded = load(tmp_path / "x.safetensors")
    loaded["a"].data += 1  # in-place updates, as an optimizer does after resuming
    np.testing.assert_array_equal(loaded["b"].numpy(), [0, 0, 0])


def test_numpy_scalars_load_as_python_numbers(tmp_path):
    save({"lr": np.float32(0.5), "step": np.int64(4), "flag": np.bool_(True)},
         tmp_path / "scalars.safetensors")
    assert_same(load(tmp_path / "scalars.safetensors"), {"lr": 0.5, "step": 4, "flag": True})


json_scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                | st.floats(allow_nan=True, allow_infinity=True))
small_tensors = st.builds(
    lambda values, dtype: Tensor(np.asarray(values).astype(dtype)),
    st.lists(st.integers(-3, 3), max_size=4),
    st.sampled_from(["float32", "float64", "int64", "bool"]))
# keys: letters (no dots, so dotted tensor names never collide) or ints
keys = st.text("abcxyz", min_size=1, max_size=3) | st.integers(-5, 5)
trees = st.recursive(json_scalars | small_tensors,
                     lambda children: st.lists(children, max_size=3)
                     | st.lists(children, max_size=3).map(tuple)
                     | st.dictionaries(keys, children, max_size=3),
                     max_leaves=10)


@given(tree=st.dictionaries(keys, trees, max_size=4))
def test_any_nested_tree_round_trips(tmp_path_factory, tree):
    path = tmp_path_factory.mktemp("tree") / "tree.safetensors"
    save(tree, path)
    assert_same(load(path), tree)


# ---- PyTorch interop ----------------------------------------------------------------------------

def torch_model():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 10))


def test_flat_state_dict_has_pytorch_keys_and_loads_into_torch(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = torch_model()
    ours = {name: Tensor(value.numpy()) for name, value in model.state_dict().items()}
    save(ours, tmp_path / "model.safetensors")
    loaded = safetensors_torch.load_file(tmp_path / "model.safetensors")
    assert sorted(loaded) == sorted(model.state_dict())
    for name, value in model.state_dict().items():
        assert loaded[name].dtype == value.dtype and loaded[name].shape == value.shape
        assert bool((loaded[name] == value).all())
    fresh = torch_model()
    fresh.load_state_dict(loaded, strict=True)
    assert bool((fresh[0].weight == model[0].weight).all())


def test_nested_checkpoint_reads_in_torch_with_dotted_names(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    state = {"model": {"fc.weight": mg.randn(2, 3)}, "optimizer": optimizer_like_state(),
             "epoch": 3}
    save(state, tmp_path / "checkpoint.safetensors")
    loaded = safetensors_torch.load_file(tmp_path / "checkpoint.safetensors")
    assert set(loaded) == {"model.fc.weight", "optimizer.state.0.exp_avg",
                           "optimizer.state.0.exp_avg_sq", "optimizer.state.1.exp_avg",
                           "optimizer.state.1.exp_avg_sq"}
    np.testing.assert_array_equal(loaded["optimizer.state.1.exp_avg"].numpy(),
                                  state["optimizer"]["state"][1]["exp_avg"].numpy())


def test_file_written_by_torch_loads(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = torch_model()
    tensors = dict(model.state_dict(), mask=torch.tensor([True, False]),
                   double=torch.arange(3, dtype=torch.float64))
    safetensors_torch.save_file(tensors, tmp_path / "torch.safetensors",
                                metadata={"format": "pt"})
    loaded = load(tmp_path / "torch.safetensors")
    assert list(loaded) == sorted(tensors)
    for name, value in tensors.items():
        assert isinstance(loaded[name], Tensor)
        assert str(loaded[name].dtype) == str(value.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy())


# ---- atomic writes ------------------------------------------------------------------------------

@pytest.mark.parametrize("failing", ["fsync", "replace"])
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch, failing, error):
    path = tmp_path / "checkpoint.safetensors"
    previous = {"weight": mg.randn(3, 3), "epoch": 1}
    save(previous, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(type(error)):
        save({"weight": mg.randn(50, 50), "epoch": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert_same(load(path), previous)
    assert [entry.name for entry in tmp_path.iterdir()] == ["checkpoint.safetensors"]


def test_save_replaces_an_existing_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    save({"epoch": 1, "w": mg.zeros(2)}, path)
    save({"epoch": 2, "w": mg.ones(2)}, str(path))
    assert_same(load(str(path)), {"epoch": 2, "w": mg.ones(2)})
    assert [entry.name for entry in tmp_path.iterdir()] == ["checkpoint.safetensors"]


@pytest.mark.parametrize("obj, error, match", [
    ([mg.zeros(2)], TypeError, "expected a dict"),
    ({"a": {1.5: mg.zeros(2)}}, TypeError, "keys must be str or int, got 1.5 .* at key a"),
    ({"a": {"b": {1, 2}}}, TypeError, "cannot store set at key a.b"),
    ({"a": np.array(["x"], dtype=object)}, TypeError, "tensor 'a' has dtype object"),
    ({"a.b": mg.zeros(1), "a": {"b": mg.zeros(1)}}, ValueError, "'a.b'"),
    ({"__metadata__": mg.zeros(1)}, ValueError, "reserved"),
])
def test_bad_objects_raise_before_touching_the_file(tmp_path, obj, error, match):
    path = tmp_path / "checkpoint.safetensors"
    save({"epoch": 1}, path)
    before = path.read_bytes()
    with pytest.raises(error, match=match):
        save(obj, path)
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


def test_missing_directory_raises_like_torch_save(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .*nowhere does not exist"):
        save({"a": mg.zeros(1)}, tmp_path / "nowhere" / "x.safetensors")


# ---- broken files -------------------------------------------------------------------------------

def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        load(tmp_path / "nothing.safetensors")


def valid_file_bytes(tmp_path) -> bytes:
    save({"weight": mg.randn(4, 4), "epoch": 3}, tmp_path / "valid.safetensors")
    return (tmp_path / "valid.safetensors").read_bytes()


@pytest.mark.parametrize("damage, reason", [
    (lambda raw: b"", "too short"),
    (lambda raw: raw[:5], "too short"),
    (lambda raw: raw[:40], "header size"),
    (lambda raw: raw[:-7], "truncated: the header describes 64 bytes of tensor data"),
    (lambda raw: b"PK\x03\x04" + bytes(60), "header size"),
    (lambda raw: b"this is definitely not a checkpoint at all", "header size"),
    (lambda raw: raw[:8] + b"\xff" + raw[9:], "corrupt header"),
    (lambda raw: raw[:8] + b"[" + raw[9:], "corrupt header"),
])
def test_broken_files_raise_value_error_naming_the_file(tmp_path, damage, reason):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(damage(valid_file_bytes(tmp_path)))
    with pytest.raises(ValueError,
                       match=f"broken.safetensors is not a valid safetensors checkpoint: .*{reason}"):
        load(path)


def test_header_not_an_object_is_rejected(tmp_path):
    path = tmp_path / "list.safetensors"
    path.write_bytes(struct.pack("<Q", 2) + b"[]")
    with pytest.raises(ValueError, match="not a JSON object"):
        load(path)


@pytest.mark.parametrize("metadata, reason", [
    ("{not json", "corrupt minigrad metadata"),
    (json.dumps({"version": 99, "tree": {"dict": []}}), "unsupported format version"),
    (json.dumps({"version": 1, "tree": {"dict": [["w", {"tensor": "other"}]]}}), "other"),
    (json.dumps({"version": 1, "tree": {"dict": [["w", {"weird": 1}]]}}), "weird"),
    (json.dumps({"version": 1, "tree": {"dict": []}}), "not in the minigrad metadata"),
])
def test_corrupt_minigrad_metadata_is_rejected(tmp_path, metadata, reason):
    path = tmp_path / "meta.safetensors"
    path.write_bytes(safetensors.numpy.save({"w": np.zeros(2, np.float32)},
                                            metadata={"minigrad": metadata}))
    with pytest.raises(ValueError, match=f"meta.safetensors is not a valid .*{reason}"):
        load(path)


def test_floats_are_exact(tmp_path):
    values = [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -2.5e-10]
    save({"values": values}, tmp_path / "floats.safetensors")
    loaded = load(tmp_path / "floats.safetensors")["values"]
    assert all(math.copysign(1, a) == math.copysign(1, b) and a == b
               for a, b in zip(loaded, values, strict=True))
