"""RNN, LSTM, GRU and their cells against PyTorch: state_dict keys both ways, outputs, final
states, input and parameter gradients, second derivatives; init, errors, gradcheck.

Sections: the option matrix against torch (float32 and float64), cells, the fused LSTM gate
op (gradcheck, gradgradcheck, second derivative against torch), init and errors.
"""

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import grad as mg_grad
from minigrad.func import functional_call
from minigrad.ops.recurrent import LSTMCellUpdate, LSTMSequence, lstm_cell_update
from minigrad.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

TOLERANCE = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-11}}
LAYER_CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"bias": False, "bidirectional": True, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 3, "batch_first": True}),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True, "bias": False}),
    ("GRU", {}),
    ("GRU", {"num_layers": 3, "bidirectional": True, "batch_first": True}),
    ("GRU", {"bias": False}),
]
INPUT, HIDDEN, LENGTH, BATCH = 4, 5, 6, 3


def twins(name, kwargs, dtype, *args):
    """PyTorch's layer and ours with PyTorch's weights (checking the keys match)."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    ours = getattr(nn, name)(*args, **kwargs).to(mg.float64 if dtype == np.float64
                                                 else mg.float32)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return theirs, ours


def assert_close(ours, theirs, dtype):
    np.testing.assert_allclose(ours.detach().numpy() if hasattr(ours, "detach") else ours,
                               theirs.detach().numpy(), **TOLERANCE[dtype])


def initial_states(name, kwargs, batch, rng, dtype):
    directions = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1) * directions
    out = kwargs.get("proj_size") or HIDDEN
    lead = (layers, batch) if batch else (layers,)
    states = [rng.standard_normal(lead + (out,)).astype(dtype)]
    if name == "LSTM":
        states.append(rng.standard_normal(lead + (HIDDEN,)).astype(dtype))
    return states


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "kwargs"), LAYER_CONFIGS)
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_matches_torch(name, kwargs, dtype, with_state):
    rng = np.random.default_rng(0)
    theirs, ours = twins(name, kwargs, dtype, INPUT, HIDDEN)
    shape = (BATCH, LENGTH, INPUT) if kwargs.get("batch_first") else (LENGTH, BATCH, INPUT)
    x = rng.standard_normal(shape).astype(dtype)
    x_ours, x_theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    states = initial_states(name, kwargs, BATCH, rng, dtype) if with_state else None
    if states is None:
        out_ours, final_ours = ours(x_ours)
        out_theirs, final_theirs = theirs(x_theirs)
    elif name == "LSTM":
        out_ours, final_ours = ours(x_ours, tuple(mg.tensor(s) for s in states))
        out_theirs, final_theirs = theirs(x_theirs, tuple(torch.tensor(s) for s in states))
    else:
        out_ours, final_ours = ours(x_ours, mg.tensor(states[0]))
        out_theirs, final_theirs = theirs(x_theirs, torch.tensor(states[0]))
    assert out_ours.dtype == (mg.float32 if dtype == np.float32 else mg.float64)
    assert_close(out_ours, out_theirs, dtype)
    finals_ours = final_ours if name == "LSTM" else (final_ours,)
    finals_theirs = final_theirs if name == "LSTM" else (final_theirs,)
    for a, b in zip(finals_ours, finals_theirs, strict=True):
        assert a.shape == tuple(b.shape)
        assert_close(a, b, dtype)
    weights = rng.standard_normal(out_ours.shape).astype(dtype)
    loss_ours = (out_ours * mg.tensor(weights)).sum() + sum((f * f).sum() for f in finals_ours)
    loss_theirs = ((out_theirs * torch.tensor(weights)).sum()
                   + sum((f * f).sum() for f in finals_theirs))
    loss_ours.backward()
    loss_theirs.backward()
    assert_close(x_ours.grad, x_theirs.grad, dtype)
    torch_parameters = dict(theirs.named_parameters())
    for key, parameter in ours.named_parameters():
        assert parameter.grad.dtype == parameter.dtype
        assert_close(parameter.grad, torch_parameters[key].grad, dtype)


@pytest.mark.parametrize(("name", "kwargs"), [LAYER_CONFIGS[4], LAYER_CONFIGS[6],
                                              LAYER_CONFIGS[8]])
def test_minigrad_state_dict_loads_into_torch(name, kwargs):
    mg.manual_seed(1)
    ours = getattr(nn, name)(INPUT, HIDDEN, **kwargs)
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN, **kwargs)
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    shape = (BATCH, LENGTH, INPUT) if kwargs.get("batch_first") else (LENGTH, BATCH, INPUT)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    assert_close(ours(mg.tensor(x))[0], theirs(torch.tensor(x))[0], np.float32)


@pytest.mark.parametrize(("name", "kwargs"), [("LSTM", {"num_layers": 2}),
                                              ("GRU", {"bidirectional": True}),
                                              ("RNN", {})])
def test_unbatched_input(name, kwargs):
    rng = np.random.default_rng(3)
    theirs, ours = twins(name, kwargs, np.float64, INPUT, HIDDEN)
    x = rng.standard_normal((LENGTH, INPUT))
    states = initial_states(name, kwargs, None, rng, np.float64)
    hx_ours = tuple(map(mg.tensor, states)) if name == "LSTM" else mg.tensor(states[0])
    hx_theirs = tuple(map(torch.tensor, states)) if name == "LSTM" else torch.tensor(states[0])
    out_ours, final_ours = ours(mg.tensor(x), hx_ours)
    out_theirs, final_theirs = theirs(torch.tensor(x), hx_theirs)
    assert out_ours.shape == tuple(out_theirs.shape)
    assert_close(out_ours, out_theirs, np.float64)
    first_ours = final_ours[0] if name == "LSTM" else final_ours
    first_theirs = final_theirs[0] if name == "LSTM" else final_theirs
    assert first_ours.shape == tuple(first_theirs.shape)
    assert_close(first_ours, first_theirs, np.float64)


def test_dropout_between_layers_only_in_training():
    mg.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lstm = nn.LSTM(INPUT, HIDDEN, num_layers=2, dropout=0.5)
    x = mg.randn(LENGTH, BATCH, INPUT)
    reference = nn.LSTM(INPUT, HIDDEN, num_layers=2)
    reference.load_state_dict(lstm.state_dict())

    def run(model):
        return model(x)[0].detach().numpy()

    lstm.eval()
    np.testing.assert_array_equal(run(lstm), run(reference))
    lstm.train()
    assert not np.allclose(run(lstm), run(reference))
    mg.manual_seed(5)
    first = run(lstm)
    mg.manual_seed(5)
    np.testing.assert_array_equal(first, run(lstm))


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(INPUT, HIDDEN, dropout=0.2)


# ---- cells ---------------------------------------------------------------------------------
CELL_CONFIGS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu", "bias": False}),
                ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}),
                ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "kwargs"), CELL_CONFIGS)
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(name, kwargs, dtype, batched):
    rng = np.random.default_rng(4)
    theirs, ours = twins(name, kwargs, dtype, INPUT, HIDDEN)
    lead = (BATCH,) if batched else ()
    x = rng.standard_normal(lead + (INPUT,)).astype(dtype)
    h = rng.standard_normal(lead + (HIDDEN,)).astype(dtype)
    c = rng.standard_normal(lead + (HIDDEN,)).astype(dtype)
    x_ours, x_theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if name == "LSTMCell":
        out_ours = ours(x_ours, (mg.tensor(h), mg.tensor(c)))
        out_theirs = theirs(x_theirs, (torch.tensor(h), torch.tensor(c)))
        loss_ours = (out_ours[0] * 2 + out_ours[1] * out_ours[1]).sum()
        loss_theirs = (out_theirs[0] * 2 + out_theirs[1] * out_theirs[1]).sum()
        for a, b in zip(out_ours, out_theirs, strict=True):
            assert_close(a, b, dtype)
    else:
        out_ours, out_theirs = ours(x_ours, mg.tensor(h)), theirs(x_theirs, torch.tensor(h))
        assert_close(out_ours, out_theirs, dtype)
        loss_ours, loss_theirs = (out_ours * out_ours).sum(), (out_theirs * out_theirs).sum()
    loss_ours.backward()
    loss_theirs.backward()
    assert_close(x_ours.grad, x_theirs.grad, dtype)
    torch_parameters = dict(theirs.named_parameters())
    for key, parameter in ours.named_parameters():
        assert_close(parameter.grad, torch_parameters[key].grad, dtype)
    default_ours = ours(mg.tensor(x))  # no state: zeros, as in PyTorch
    default_theirs = theirs(torch.tensor(x))
    first = default_ours[0] if name == "LSTMCell" else default_ours
    assert_close(first, default_theirs[0] if name == "LSTMCell" else default_theirs, dtype)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_pass_gradcheck_and_gradgradcheck(name):
    mg.manual_seed(0)
    cell = getattr(nn, name)(3, 2).double()
    names = [key for key, _ in cell.named_parameters()]

    def step(x, h, c, *parameters):
        values = dict(zip(names, parameters, strict=True))
        if name == "LSTMCell":
            return functional_call(cell, values, (x, (h, c)))[1]
        return functional_call(cell, values, (x, h))

    inputs = [mg.randn(2, 3, dtype=mg.float64), mg.randn(2, 2, dtype=mg.float64),
              mg.randn(2, 2, dtype=mg.float64),
              *[p.detach().clone() for p in cell.parameters()]]
    assert gradcheck(step, inputs)
    assert gradgradcheck(step, inputs)


# ---- the fused LSTM gate op ------------------------------------------------------------------
def torch_lstm_update(gates, c):
    i, f, g, o = gates.chunk(4, 1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_next.tanh(), c_next


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_gate_op_forward_and_gradient_match_torch(dtype):
    rng = np.random.default_rng(5)
    gates = (3 * rng.standard_normal((4, 12))).astype(dtype)
    c = rng.standard_normal((4, 3)).astype(dtype)
    before = gates.copy(), c.copy()
    ours = [mg.tensor(gates, requires_grad=True), mg.tensor(c, requires_grad=True)]
    theirs = [torch.tensor(gates, requires_grad=True), torch.tensor(c, requires_grad=True)]
    h_ours, c_ours = lstm_cell_update(*ours)
    h_theirs, c_theirs = torch_lstm_update(*theirs)
    assert h_ours.dtype == c_ours.dtype == ours[0].dtype
    assert_close(h_ours, h_theirs, dtype)
    assert_close(c_ours, c_theirs, dtype)
    (h_ours * 3 + c_ours * c_ours).sum().backward()
    (h_theirs * 3 + c_theirs * c_theirs).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        assert a.grad.dtype == a.dtype
        assert_close(a.grad, b.grad, dtype)
    np.testing.assert_array_equal(before[0], gates)
    np.testing.assert_array_equal(before[1], c)


def test_lstm_gate_op_gradcheck_and_gradgradcheck():
    gates = mg.randn(3, 8, dtype=mg.float64)
    c = mg.randn(3, 2, dtype=mg.float64)
    assert gradcheck(LSTMCellUpdate.apply, [gates, c])
    assert gradgradcheck(LSTMCellUpdate.apply, [gates, c])


def test_lstm_gate_op_second_derivative_matches_torch():
    rng = np.random.default_rng(6)
    gates, c = rng.standard_normal((3, 8)), rng.standard_normal((3, 2))
    v = rng.standard_normal((3, 2))
    ours = [mg.tensor(gates, requires_grad=True), mg.tensor(c, requires_grad=True)]
    theirs = [torch.tensor(gates, requires_grad=True), torch.tensor(c, requires_grad=True)]
    results = []
    for library, tensors, update, grad in ((mg, ours, lstm_cell_update, mg_grad),
                                           (torch, theirs, torch_lstm_update,
                                            torch.autograd.grad)):
        h, c_next = update(*tensors)
        first = grad((h * h + c_next).sum(), tensors, create_graph=True)
        second = grad(sum((g * library.tensor(v if g.shape == v.shape else
                                              np.ones(g.shape))).sum() for g in first),
                      tensors)
        results.append([s.detach().numpy() for s in second])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(("reverse", "projection"), [(False, False), (True, True)])
def test_lstm_sequence_op_gradcheck_and_gradgradcheck(reverse, projection):
    """The whole-direction LSTM op: 2 steps, batch 1, hidden 2 (projected to 1) or 1."""
    mg.manual_seed(1)
    size = 2 if projection else 1
    out_size = 1
    inputs = [mg.randn(2, 1, 4 * size, dtype=mg.float64), mg.randn(1, out_size, dtype=mg.float64),
              mg.randn(1, size, dtype=mg.float64), mg.randn(4 * size, out_size, dtype=mg.float64)]
    if projection:
        inputs.append(mg.randn(out_size, size, dtype=mg.float64))

    def run(projected, h0, c0, weight_hh, weight_hr=None):
        return LSTMSequence.apply(projected, h0, c0, weight_hh, weight_hr, reverse=reverse)

    assert gradcheck(run, inputs)
    assert gradgradcheck(run, inputs)


def test_lstm_sequence_op_keeps_float32_and_leaves_inputs_alone():
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(shape).astype(np.float32)
              for shape in ((4, 2, 12), (2, 3), (2, 3), (12, 3))]
    before = [a.copy() for a in arrays]
    tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
    output = LSTMSequence.apply(*tensors, None, reverse=True)
    assert output.dtype == mg.float32
    output.sum().backward()
    for tensor, array, kept in zip(tensors, arrays, before, strict=True):
        assert tensor.grad.dtype == mg.float32
        np.testing.assert_array_equal(array, kept)


# ---- second derivative through a whole layer -----------------------------------------------
@pytest.mark.parametrize(("name", "kwargs"), [("LSTM", {"num_layers": 2, "proj_size": 2}),
                                              ("GRU", {"bidirectional": True}),
                                              ("RNN", {})])
def test_gradient_penalty_through_layer_matches_torch(name, kwargs):
    """d/dweights ||d loss / d input||^2 (a gradient penalty) in both frameworks."""
    rng = np.random.default_rng(7)
    theirs, ours = twins(name, kwargs, np.float64, INPUT, HIDDEN)
    x = rng.standard_normal((4, 2, INPUT))
    x_ours, x_theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g_ours,) = mg_grad((ours(x_ours)[0] ** 2).sum(), x_ours, create_graph=True)
    (g_theirs,) = torch.autograd.grad((theirs(x_theirs)[0] ** 2).sum(), x_theirs,
                                      create_graph=True)
    assert_close(g_ours, g_theirs, np.float64)
    (g_ours ** 2).sum().backward()
    (g_theirs ** 2).sum().backward()
    torch_parameters = dict(theirs.named_parameters())
    for key, parameter in ours.named_parameters():
        assert_close(parameter.grad, torch_parameters[key].grad, np.float64)


# ---- init, repr, errors --------------------------------------------------------------------
def test_init_is_uniform_within_one_over_sqrt_hidden():
    mg.manual_seed(0)
    lstm = nn.LSTM(10, 64, num_layers=2, bidirectional=True)
    bound = 1 / np.sqrt(64)
    values = np.concatenate([p.detach().numpy().ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.99 * bound
    assert abs(values.mean()) < 0.01
    np.testing.assert_allclose(values.std(), bound / np.sqrt(3), rtol=0.02)
    cell = nn.GRUCell(3, 16)
    assert all(np.abs(p.detach().numpy()).max() <= 0.25 for p in cell.parameters())


def test_repr_matches_torch():
    for name, kwargs in LAYER_CONFIGS + CELL_CONFIGS:
        args = (INPUT, HIDDEN)
        assert repr(getattr(nn, name)(*args, **kwargs)) == repr(
            getattr(torch.nn, name)(*args, **kwargs))


def test_bad_arguments_raise_torch_errors():
    with pytest.raises(ValueError, match="proj_size"):
        nn.GRU(4, 5, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(4, 5, proj_size=5)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(4, 5, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(4, 5, dropout=1.5)
    lstm = nn.LSTM(4, 5, num_layers=2)
    with pytest.raises(RuntimeError, match="input_size. Expected 4, got 3"):
        lstm(mg.randn(6, 2, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 5\)"):
        lstm(mg.randn(6, 2, 4), (mg.zeros(1, 2, 5), mg.zeros(2, 2, 5)))
    with pytest.raises(RuntimeError, match="same dtype"):
        lstm(mg.randn(6, 2, 4), (mg.zeros(2, 2, 5, dtype=mg.float64), mg.zeros(2, 2, 5)))
    with pytest.raises(ValueError, match="2D or 3D"):
        lstm(mg.randn(6, 2, 4, 1))
    with pytest.raises(RuntimeError, match="input_size"):
        nn.LSTMCell(4, 5)(mg.randn(2, 3))
