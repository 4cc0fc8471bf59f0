"""ParameterList, ParameterDict, parameters_to_vector / vector_to_parameters, inference_mode:
the PyTorch habits, checked against PyTorch where it is installed."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim


class Mixture(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(mg.randn(3, 2)), mg.zeros(2)])
        self.scales = nn.ParameterDict({"a": mg.ones(2), "b": nn.Parameter(mg.full((1,), 2.0))})

    def forward(self, x):
        return (x @ self.weights[0] + self.weights[1]) * self.scales["a"] * self.scales["b"]


def test_parameter_containers_register_their_parameters():
    model = Mixture()
    assert [name for name, _ in model.named_parameters()] == [
        "weights.0", "weights.1", "scales.a", "scales.b"]
    assert list(model.state_dict()) == ["weights.0", "weights.1", "scales.a", "scales.b"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    before = model.weights[0].data.copy()
    loss = model(mg.randn(4, 3)).sum()
    loss.backward()
    optim.SGD(model.parameters(), lr=0.1).step()
    assert not np.array_equal(model.weights[0].data, before)
    assert model.scales["b"].grad is not None


def test_parameter_list_behaves_like_a_list():
    plist = nn.ParameterList()
    plist.append(mg.ones(2)).extend([mg.zeros(3), nn.Parameter(mg.ones(1))])
    plist += [mg.ones(4)]
    assert len(plist) == 4 and [p.shape for p in plist] == [(2,), (3,), (1,), (4,)]
    assert plist[-1].shape == (4,) and isinstance(plist[1:3], nn.ParameterList)
    shared = mg.ones(5)
    plist[0] = shared
    assert plist[0].shape == (5,) and plist[0]._version is shared._version  # shares the data
    with pytest.raises(IndexError):
        plist[7]
    with pytest.raises(TypeError, match="Parameter or Tensor"):
        plist.append(3.0)
    with pytest.raises(TypeError, match="Parameter or Tensor"):
        plist.extend([mg.ones(1), "no"])
    assert len(plist) == 4                                           # nothing was added
    with pytest.raises(RuntimeError, match="should not be called"):
        plist(mg.ones(1))


def test_parameter_dict_behaves_like_a_dict():
    pdict = nn.ParameterDict([("a", mg.ones(2))])
    pdict.update({"b": mg.zeros(3)})
    pdict["c"] = nn.Parameter(mg.ones(1))
    assert list(pdict) == ["a", "b", "c"] and "b" in pdict and len(pdict) == 3
    assert pdict.get("missing") is None and pdict.pop("c").shape == (1,)
    assert pdict.setdefault("d", mg.ones(4)).shape == (4,)
    assert [key for key, _ in pdict.items()] == ["a", "b", "d"]
    assert list(pdict.copy().keys()) == ["a", "b", "d"]
    with pytest.raises(TypeError, match="Parameter or Tensor"):
        pdict.update({"e": mg.ones(1), "f": [1.0]})
    assert "e" not in pdict
    with pytest.raises(ValueError, match="length 3; 2 is required"):
        pdict.update([("g", mg.ones(1), 1)])
    pdict.clear()
    assert len(pdict) == 0


def test_reprs_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = repr(nn.ParameterList([nn.Parameter(mg.ones(3, 4)), mg.zeros(2)]))
    theirs = repr(torch.nn.ParameterList([torch.nn.Parameter(torch.ones(3, 4)), torch.zeros(2)]))
    assert ours == theirs.replace("torch.", "minigrad.")
    assert repr(nn.ParameterList()) == "ParameterList()"
    assert repr(nn.ParameterDict({"a": mg.ones(3)})) == (
        "ParameterDict(\n    (a): Parameter containing: [minigrad.float32 of size 3]\n)")


def test_parameters_to_vector_and_back_match_pytorch():
    torch = pytest.importorskip("torch")
    model = Mixture()
    vector = nn.utils.parameters_to_vector(model.parameters())
    reference = torch.nn.utils.parameters_to_vector(
        [torch.tensor(p.data) for p in model.parameters()])
    assert vector.shape == (11,) and np.array_equal(vector.data, reference.numpy())
    assert vector.dtype == mg.float32
    vector.sum().backward()                                          # differentiable
    assert all(np.array_equal(p.grad.data, np.ones(p.shape)) for p in model.parameters())
    nn.utils.vector_to_parameters(mg.arange(11).float(), model.parameters())
    assert model.weights[0].data.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert model.scales["b"].data.tolist() == [10.0]
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="vec has 12 elements, the parameters 11"):
        nn.utils.vector_to_parameters(mg.zeros(12), model.parameters())
    with pytest.raises(TypeError, match="expected minigrad.Tensor, but got: list"):
        nn.utils.vector_to_parameters([0.0] * 11, model.parameters())
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))


def test_inference_mode_records_nothing_and_nests():
    x = mg.randn(3, requires_grad=True)
    with mg.inference_mode():
        assert mg.is_inference_mode_enabled() and not mg.is_grad_enabled()
        y = x * 2
        with mg.enable_grad():
            assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert mg.is_grad_enabled() and not mg.is_inference_mode_enabled()
    with mg.inference_mode(False):
        assert (x * 2).requires_grad

    @mg.inference_mode
    def bare():
        return (x * 2).requires_grad

    @mg.inference_mode()
    def called():
        return (x * 2).requires_grad

    assert bare() is False and called() is False and (x * 2).requires_grad
