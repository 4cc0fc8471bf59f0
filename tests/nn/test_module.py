"""Module, Parameter and containers: registration, walks, modes, dtype, state_dict, repr, errors."""

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def build_net(torch_nn, ones):
    """The same small model in torch.nn or minigrad.nn (their APIs match)."""

    class Net(torch_nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch_nn.Sequential(
                torch_nn.Conv2d(1, 4, 3), torch_nn.BatchNorm2d(4), torch_nn.ReLU(),
                torch_nn.MaxPool2d(2))
            self.heads = torch_nn.ModuleDict({
                "fc": torch_nn.Linear(36, 10),
                "drop": torch_nn.Dropout(0.1),
            })
            self.blocks = torch_nn.ModuleList([torch_nn.Linear(10, 10, bias=False),
                                               torch_nn.BatchNorm1d(10)])
            self.register_buffer("scale", ones(1))
            self.register_buffer("cache", ones(2), persistent=False)
            self.gain = torch_nn.Parameter(ones(3))

    return Net()


class Tied(nn.Module):
    """One module reachable under two names and one Parameter under two names."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = self.a
        self.c = nn.Linear(2, 2)
        self.c.weight = self.a.weight


# ---- registration and walks -------------------------------------------------------------
def test_assignment_registers_parameters_modules_and_buffers():
    module = nn.Module()
    module.weight = nn.Parameter(mg.ones(2, 3))
    module.child = nn.Linear(3, 1)
    module.register_buffer("running", mg.zeros(3))
    module.plain = mg.zeros(1)  # a plain Tensor attribute is neither
    assert list(module._parameters) == ["weight"]
    assert list(module._modules) == ["child"]
    assert list(module._buffers) == ["running"]
    assert "plain" in module.__dict__
    assert module.weight is module._parameters["weight"]
    assert [name for name, _ in module.named_parameters()] == [
        "weight", "child.weight", "child.bias"]


def test_reassigning_kinds_and_errors():
    module = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'minigrad.Tensor' as parameter 'weight'"):
        module.weight = mg.zeros(2, 2)
    module.bias = None  # allowed: a parameter may become None
    assert module.bias is None and "bias" in module._parameters
    assert [name for name, _ in module.named_parameters()] == ["weight"]
    module.register_buffer("stat", mg.zeros(1))
    with pytest.raises(TypeError, match="buffer 'stat'"):
        module.stat = 3
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        module.register_buffer("weight", mg.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        module.register_buffer("a.b", mg.zeros(1))
    with pytest.raises(TypeError, match="not a Module subclass"):
        module.add_module("x", 3)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        _ = module.nope
    del module.stat
    assert "stat" not in module._buffers


def test_assign_before_init_is_an_attribute_error():
    class Broken(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_named_parameters_deduplicates_like_torch():
    model = Tied()
    assert [name for name, _ in model.named_parameters()] == ["a.weight", "a.bias", "c.bias"]
    assert len(list(model.parameters())) == 3
    assert [name for name, _ in model.named_modules()] == ["", "a", "c"]
    assert [name for name, _ in model.named_children()] == ["a", "c"]
    # state_dict keeps every name, as torch's does
    assert list(model.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias",
                                        "c.weight", "c.bias"]
    no_dedup = [name for name, _ in model.named_parameters(remove_duplicate=False)]
    assert no_dedup == ["a.weight", "a.bias", "b.weight", "b.bias", "c.weight", "c.bias"]


def test_named_parameters_prefix_and_recurse():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 1)))
    assert [name for name, _ in model.named_parameters(prefix="net")] == [
        "net.0.weight", "net.0.bias", "net.1.0.weight", "net.1.0.bias"]
    assert list(model.named_parameters(recurse=False)) == []
    assert [name for name, _ in model[1].named_parameters(recurse=False)] == []
    assert [name for name, _ in model.named_modules(prefix="m")] == ["m", "m.0", "m.1",
                                                                    "m.1.0"]


def test_buffers_persistent_and_not():
    model = build_net(nn, mg.ones)
    names = [name for name, _ in model.named_buffers()]
    assert "cache" in names and "scale" in names
    assert "cache" not in model.state_dict()
    assert "features.1.num_batches_tracked" in names


def test_walks_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = build_net(nn, mg.ones), build_net(torch.nn, torch.ones)
    assert ([name for name, _ in ours.named_parameters()]
            == [name for name, _ in theirs.named_parameters()])
    assert ([name for name, _ in ours.named_buffers()]
            == [name for name, _ in theirs.named_buffers()])
    assert ([name for name, _ in ours.named_modules()]
            == [name for name, _ in theirs.named_modules()])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
        assert ours.state_dict()[key].dtype == np.dtype(str(value.dtype).split(".")[1]), key


def test_get_submodule_and_parameter():
    model = build_net(nn, mg.ones)
    assert model.get_submodule("features.0") is model.features[0]
    assert model.get_submodule("") is model
    assert model.get_parameter("heads.fc.weight") is model.heads["fc"].weight
    assert model.get_buffer("features.1.running_var") is model.features[1].running_var
    with pytest.raises(AttributeError, match="no attribute `nope`"):
        model.get_submodule("features.nope")
    with pytest.raises(AttributeError, match="no buffer `weight`"):
        model.get_buffer("features.1.weight")


# ---- modes ------------------------------------------------------------------------------
def test_train_eval_propagate():
    model = build_net(nn, mg.ones)
    assert all(module.training for module in model.modules())
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())
    model.features.train(False)
    assert not model.features[1].training and model.heads.training
    with pytest.raises(ValueError, match="boolean"):
        model.train("yes")


def test_train_calls_childrens_train_override():
    calls = []

    class Custom(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    nn.Sequential(Custom()).eval()
    assert calls == [False]


def test_requires_grad_and_zero_grad():
    model = nn.Linear(3, 2)
    for param in model.parameters():
        param.grad = mg.ones(*param.shape)
    model.zero_grad(set_to_none=False)
    assert all(np.all(param.grad.data == 0) for param in model.parameters())
    model.zero_grad()
    assert all(param.grad is None for param in model.parameters())
    model.requires_grad_(False)
    assert not any(param.requires_grad for param in model.parameters())


def test_apply_visits_children_first():
    visited = []
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    assert model.apply(lambda module: visited.append(type(module).__name__)) is model
    assert visited == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_to_float64_converts_float_params_and_buffers_only():
    model = build_net(nn, mg.ones)
    model.heads["fc"].weight.grad = mg.ones(10, 36)
    weight = model.heads["fc"].weight
    assert model.to(mg.float64) is model
    assert model.heads["fc"].weight is weight  # same Parameter object, new data
    assert weight.dtype == np.float64 and weight.grad.dtype == np.float64
    assert all(param.dtype == np.float64 for param in model.parameters())
    assert model.features[1].running_mean.dtype == np.float64
    assert model.cache.dtype == np.float64
    assert model.features[1].num_batches_tracked.dtype == np.int64
    model.float()
    assert all(param.dtype == np.float32 for param in model.parameters())
    model.double()
    assert model.scale.dtype == np.float64
    assert model.to("cpu") is model
    model.to("cpu", dtype=mg.float32)
    assert model.scale.dtype == np.float32
    with pytest.raises(TypeError, match="floating point"):
        model.to(mg.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        model.to("cuda")


# ---- state_dict -------------------------------------------------------------------------
def test_state_dict_is_detached_and_shares_data():
    model = nn.Linear(2, 3)
    state = model.state_dict()
    assert list(state) == ["weight", "bias"]
    assert not state["weight"].requires_grad and state["weight"].grad_fn is None
    assert not isinstance(state["weight"], nn.Parameter)
    assert np.shares_memory(state["weight"].data, model.weight.data)
    kept = model.state_dict(keep_vars=True)
    assert kept["weight"] is model.weight


def test_state_dict_round_trip():
    mg.manual_seed(0)
    source = build_net(nn, mg.ones)
    mg.manual_seed(1)
    target = build_net(nn, mg.ones)
    saved = {key: value.data.copy() for key, value in source.state_dict().items()}
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value.data, saved[key])
        assert value.dtype == saved[key].dtype


def test_load_casts_to_model_dtype_and_bumps_versions():
    model = nn.Linear(2, 2)
    versions = [param.version for param in model.parameters()]
    state = {"weight": np.arange(4.0).reshape(2, 2), "bias": mg.tensor([1, 2])}
    model.load_state_dict(state)
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    np.testing.assert_array_equal(model.weight.data, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(model.bias.data, [1, 2])
    assert [param.version for param in model.parameters()] == [v + 1 for v in versions]


def test_load_0d_buffer_from_one_element_vector():
    model = nn.BatchNorm1d(2)
    state = model.state_dict()
    state["num_batches_tracked"] = mg.tensor([7])
    model.load_state_dict(state)
    assert model.num_batches_tracked.shape == () and int(model.num_batches_tracked) == 7


class LeNet5(nn.Module):
    def __init__(self, hidden=4):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3)
        self.fc1 = nn.Linear(hidden, 10)
        self.bn = nn.BatchNorm1d(10)


def test_strict_load_lists_all_problems_and_changes_nothing():
    model = LeNet5(hidden=4)
    before = {key: value.data.copy() for key, value in model.state_dict().items()}
    versions = {key: value.version for key, value in model.state_dict(keep_vars=True).items()}
    checkpoint = {key: value.data + 1 for key, value in LeNet5(hidden=5).state_dict().items()}
    del checkpoint["conv1.bias"]
    checkpoint["extra.weight"] = np.zeros(3)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(checkpoint)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for LeNet5:\n\t")
    assert 'Missing key(s) in state_dict: "conv1.bias". ' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight". ' in message
    assert ("size mismatch for fc1.weight: copying a param with shape (10, 5) from checkpoint, "
            "the shape in current model is (10, 4).") in message
    lines = message.split("\n\t")
    assert lines[1].startswith("Missing") and lines[2].startswith("Unexpected")
    assert lines[3].startswith("size mismatch")
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before[key])
    assert versions == {key: value.version
                        for key, value in model.state_dict(keep_vars=True).items()}


def test_non_strict_load_returns_keys_but_refuses_shapes():
    model = nn.Linear(2, 3)
    result = model.load_state_dict({"weight": np.ones((3, 2)), "other": np.ones(1)},
                                   strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert result == (["bias"], ["other"])
    assert repr(result) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['other'])"
    np.testing.assert_array_equal(model.weight.data, np.ones((3, 2)))
    bias = model.bias.data.copy()
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        model.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(4)}, strict=False)
    np.testing.assert_array_equal(model.weight.data, np.ones((3, 2)))  # unchanged
    np.testing.assert_array_equal(model.bias.data, bias)


def test_load_rejects_non_tensors_and_non_mappings():
    model = nn.Linear(1, 1)
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias"'):
        model.load_state_dict({"weight": np.ones((1, 1)), "bias": "nope"})
    with pytest.raises(TypeError, match="dict-like"):
        model.load_state_dict([("weight", np.ones((1, 1)))])


def test_strict_error_messages_match_torch():
    torch = pytest.importorskip("torch")

    def message(module_nn, make, state):
        model = module_nn.Sequential(module_nn.Linear(2, 3), module_nn.ReLU(),
                                     module_nn.Linear(3, 1))
        with pytest.raises(RuntimeError) as info:
            model.load_state_dict({key: make(shape) for key, shape in state.items()})
        return str(info.value)

    state = {"0.weight": (3, 5), "2.weight": (1, 3), "2.bias": (1,), "9.bias": (1,)}
    ours = message(nn, lambda shape: mg.zeros(*shape), state)
    theirs = message(torch.nn, lambda shape: torch.zeros(*shape), state)
    assert ours == theirs.replace("torch.Size([3, 5])", "(3, 5)").replace(
        "torch.Size([3, 2])", "(3, 2)")


def test_load_torch_state_dict_into_minigrad():
    torch = pytest.importorskip("torch")
    theirs = build_net(torch.nn, torch.ones)
    ours = build_net(nn, mg.ones)
    ours.load_state_dict(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].data, value.numpy())


# ---- Parameter --------------------------------------------------------------------------
def test_parameter_basics():
    data = mg.tensor([1.0, 2.0])
    param = nn.Parameter(data)
    assert isinstance(param, mg.Tensor) and param.is_leaf and param.requires_grad
    assert np.shares_memory(param.data, data.data)
    assert repr(param) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    frozen = nn.Parameter(mg.ones(1), requires_grad=False)
    assert not frozen.requires_grad
    assert repr(frozen) == "Parameter containing:\ntensor([1.])"
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(mg.tensor([1, 2]))
    product = param * 2
    assert type(product) is mg.Tensor and not product.is_leaf


def test_parameter_repr_matches_torch():
    torch = pytest.importorskip("torch")
    assert repr(nn.Parameter(mg.tensor([1.0, 2.0]))) == repr(
        torch.nn.Parameter(torch.tensor([1.0, 2.0])))


def test_deepcopy_and_pickle_keep_structure():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3),
                          nn.ModuleDict({"fc": nn.Linear(3, 1)}))
    model[0].weight.grad = mg.ones(3, 2)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert list(clone.state_dict()) == list(model.state_dict())
        assert isinstance(clone[2]["fc"].weight, nn.Parameter)
        assert clone[0].weight is not model[0].weight
        assert clone[0].weight.requires_grad
        np.testing.assert_array_equal(clone[0].weight.data, model[0].weight.data)
        np.testing.assert_array_equal(clone[0].weight.grad.data, np.ones((3, 2)))
        assert not np.shares_memory(clone[0].weight.data, model[0].weight.data)
    for tied in (copy.deepcopy(Tied()), pickle.loads(pickle.dumps(Tied()))):
        assert tied.a is tied.b and tied.c.weight is tied.a.weight


# ---- containers -------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    assert list(head._modules) == ["0", "1"]
    assert list(model[1:]._modules) == ["1", "2"]  # slices keep names, as torch
    with pytest.raises(IndexError, match="index 3 is out of range"):
        model[3]
    model.append(nn.Tanh())
    assert list(model._modules) == ["0", "1", "2", "3"]
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and model[1] is layers[2]
    model.insert(1, nn.Sigmoid())
    assert [type(layer).__name__ for layer in model] == ["Linear", "Sigmoid", "Linear", "Tanh"]
    model[0] = nn.Identity()
    assert isinstance(model[0], nn.Identity)
    assert isinstance(model.pop(-1), nn.Tanh) and len(model) == 3
    combined = model + nn.Sequential(nn.ReLU())
    assert len(combined) == 4
    named = nn.Sequential(__import__("collections").OrderedDict(first=nn.ReLU()))
    assert list(named._modules) == ["first"]


def test_module_list_and_dict():
    blocks = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(blocks) == 3 and isinstance(blocks[1:], nn.ModuleList)
    assert len(list(blocks.parameters())) == 6
    blocks.append(nn.ReLU())
    blocks.extend([nn.Tanh()])
    blocks.insert(0, nn.Sigmoid())
    assert [type(block).__name__ for block in blocks][:2] == ["Sigmoid", "Linear"]
    del blocks[0]
    assert list(blocks._modules) == [str(i) for i in range(5)]
    blocks += [nn.ReLU()]
    assert len(blocks) == 6
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.ReLU()
    heads.update([("c", nn.Tanh())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert list(heads.keys()) == ["a", "b", "c"]
    assert isinstance(heads.pop("b"), nn.ReLU) and list(heads) == ["a", "c"]
    assert [name for name, _ in heads.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(ValueError, match="has length 3"):
        heads.update([("x", nn.ReLU(), 1)])


def test_sequential_forward_runs_in_order():
    class Append(nn.Module):
        def __init__(self, value):
            super().__init__()
            self.value = value

        def forward(self, items):
            return [*items, self.value]

    model = nn.Sequential(Append(1), Append(2), nn.Sequential(Append(3)), nn.Identity())
    assert model([]) == [1, 2, 3]


def test_container_reprs_match_torch():
    torch = pytest.importorskip("torch")

    def build(module_nn):
        return module_nn.Sequential(
            module_nn.Linear(2, 3), module_nn.ReLU(),
            module_nn.Sequential(module_nn.Linear(3, 3), module_nn.Linear(3, 3)),
            module_nn.ModuleList([module_nn.ReLU(), module_nn.ReLU(), module_nn.Tanh(),
                                  module_nn.Linear(1, 1), module_nn.Linear(1, 1)]),
            module_nn.ModuleDict({"head": module_nn.Linear(3, 1)}),
            module_nn.ModuleList(), module_nn.Sequential())

    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(build_net(nn, mg.ones)) == repr(build_net(torch.nn, torch.ones))


# ---- calling: module scope, hooks, error paths ------------------------------------------
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


class Fails(nn.Module):
    def __init__(self, error):
        super().__init__()
        self.error = error

    def forward(self, x):
        raise self.error


def test_call_records_module_scope_on_ops():
    from minigrad.engine import current_module

    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(current_module())
            return x * 2

    inner = Probe()
    model = nn.Sequential(inner)
    output = model(mg.ones(2, requires_grad=True))
    assert seen == [(model, inner)]
    assert output.grad_fn.modules == (model, inner)
    assert current_module() == ()


def test_error_from_forward_gets_module_path_once():
    model = nn.Sequential(nn.Identity(), nn.Sequential(Scale(2), Fails(ValueError("bad x"))))
    with pytest.raises(ValueError) as info:
        model(mg.ones(1))
    assert str(info.value) == "1.1 (Fails): bad x"
    assert isinstance(info.value.__cause__, ValueError)
    assert str(info.value.__cause__) == "bad x"


@pytest.mark.parametrize("error_type", [RuntimeError, ValueError, TypeError, IndexError,
                                        NotImplementedError])
def test_error_type_is_kept(error_type):
    model = nn.Sequential(Fails(error_type("boom")))
    with pytest.raises(error_type, match=r"^0 \(Fails\): boom$"):
        model(mg.ones(1))


def test_error_in_root_forward_names_the_class_and_others_pass_through():
    with pytest.raises(RuntimeError, match=r"^Fails: boom$"):
        Fails(RuntimeError("boom"))(mg.ones(1))
    with pytest.raises(KeyError):
        nn.Sequential(Fails(KeyError("k")))(mg.ones(1))


def test_error_path_is_relative_to_the_called_root():
    inner = nn.Sequential(Scale(1), Fails(IndexError("out")))
    model = nn.Sequential(nn.Identity(), inner)
    with pytest.raises(IndexError, match=r"^1 \(Fails\): out$"):
        inner(mg.ones(1))
    with pytest.raises(IndexError, match=r"^1\.1 \(Fails\): out$"):
        model(mg.ones(1))


def test_real_op_error_gets_prefixed():
    model = nn.Sequential(nn.Identity(), nn.Flatten(start_dim=5))
    with pytest.raises(IndexError, match=r"^1 \(Flatten\): flatten"):
        model(mg.ones(2, 3))


def test_forward_hooks():
    model = Scale(3)
    calls = []
    pre = model.register_forward_pre_hook(lambda module, args: (args[0] + 1,))
    post = model.register_forward_hook(
        lambda module, args, output: calls.append(output.item()) or output * 10)
    assert model(mg.tensor(1.0)).item() == 60.0
    assert calls == [6.0]
    pre.remove()
    post.remove()
    assert model(mg.tensor(1.0)).item() == 3.0


def test_missing_forward():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)
