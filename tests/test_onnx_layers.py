"""minigrad.onnx export of the layers of issue 14 (LayerNorm, TransformerEncoderLayer,
ConvTranspose2d, interpolate, LSTM): files pass onnx's full check and onnxruntime gives
minigrad's outputs at the batch size of the export and at another one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import minigrad as mg
import minigrad.onnx as mg_onnx
from minigrad import nn


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _op_types(proto: onnx.ModelProto) -> set[str]:
    return {node.op_type for node in proto.graph.node}


def _check(model: nn.Module, shape: tuple, path: Path, batches=(2, 5), batch_axis: int = 0,
           round_trip: bool = False, atol: float = 1e-5) -> onnx.ModelProto:
    """Export on an input of `shape`, then compare onnxruntime (and, with round_trip,
    load_model) with minigrad at each batch size (on `batch_axis`)."""
    mg.manual_seed(0)
    model.eval()
    dynamic = {"input": {batch_axis: "batch"}, "output": {batch_axis: "batch"}}
    proto = mg_onnx.export(model, mg.randn(*shape), str(path), dynamic_axes=dynamic)
    onnx.checker.check_model(str(path), full_check=True)
    session = _session(path)
    loaded = mg_onnx.load_model(str(path)).eval() if round_trip else None
    for batch in batches:
        sized = list(shape)
        sized[batch_axis] = batch
        x = mg.randn(*sized)
        expected = model(x)
        expected = (expected[0] if isinstance(expected, tuple) else expected).data
        got = session.run(None, {"input": x.data})[0]
        assert got.shape == expected.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)
        if loaded is not None:
            np.testing.assert_allclose(loaded(x).data, expected, rtol=1e-4, atol=atol)
    return proto


# ---- LayerNorm and the transformer encoder layer -----------------------------------------
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_is_one_layer_normalization_node(affine, tmp_path):
    mg.manual_seed(1)
    model = nn.LayerNorm((6, 8), eps=1e-3, elementwise_affine=affine)
    if affine:
        model.weight.data[...] = np.random.default_rng(0).uniform(0.5, 1.5, (6, 8))
        model.bias.data[...] = np.random.default_rng(1).uniform(-0.5, 0.5, (6, 8))
    proto = _check(model, (3, 4, 6, 8), tmp_path / "ln.onnx", round_trip=True)
    assert _op_types(proto) == {"LayerNormalization"} | ({"Constant"} if not affine else set())
    (node,) = [node for node in proto.graph.node if node.op_type == "LayerNormalization"]
    attributes = {attribute.name: onnx.helper.get_attribute_value(attribute)
                  for attribute in node.attribute}
    assert attributes["axis"] == 2
    assert attributes["epsilon"] == pytest.approx(1e-3)


@pytest.mark.parametrize(("batch_first", "norm_first"), [(True, False), (True, True),
                                                         (False, False)])
def test_transformer_encoder_layer(batch_first, norm_first, tmp_path):
    mg.manual_seed(2)
    model = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.1,
                                       activation="gelu", batch_first=batch_first,
                                       norm_first=norm_first)
    shape, axis = ((2, 5, 16), 0) if batch_first else ((5, 2, 16), 1)
    proto = _check(model, shape, tmp_path / "encoder.onnx", batch_axis=axis, round_trip=True)
    assert {"LayerNormalization", "MatMul", "Softmax"} <= _op_types(proto)


# ---- transposed convolutions ----------------------------------------------------------------
CONV_TRANSPOSE_2D = {
    "plain": {"kernel_size": 3},
    "strided": {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
    "groups_dilation": {"kernel_size": (3, 2), "stride": (2, 1), "padding": (2, 1),
                        "groups": 2, "dilation": (1, 2), "bias": False},
    # output_padding >= stride (allowed under dilation): minigrad pads the input first
    "output_padding_over_stride": {"kernel_size": 3, "stride": 1, "dilation": 3,
                                   "output_padding": 2},
}


@pytest.mark.parametrize("name", list(CONV_TRANSPOSE_2D))
def test_conv_transpose2d_exports_and_imports(name, tmp_path):
    mg.manual_seed(3)
    model = nn.ConvTranspose2d(4, 6, **CONV_TRANSPOSE_2D[name])
    proto = _check(model, (2, 4, 5, 7), tmp_path / "convt.onnx", round_trip=True)
    assert "ConvTranspose" in _op_types(proto)


def test_conv_transpose1d_and_3d_export(tmp_path):
    mg.manual_seed(4)
    one = nn.ConvTranspose1d(3, 5, 4, stride=3, padding=1, output_padding=2)
    assert "ConvTranspose" in _op_types(_check(one, (2, 3, 9), tmp_path / "c1.onnx",
                                               round_trip=True))
    three = nn.ConvTranspose3d(2, 4, (2, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1),
                               output_padding=(0, 1, 0))
    proto = _check(three, (2, 2, 3, 4, 5), tmp_path / "c3.onnx")
    assert _op_types(proto) == {"ConvTranspose"}


def test_conv_transpose_import_refuses_output_shape(tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], output_shape=[6, 6],
                            strides=[2, 2])
    graph = helper.make_graph([node], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                             [1, 1, 3, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                             [1, 1, 6, 6])],
                              initializer=[weight])
    path = tmp_path / "shape.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(NotImplementedError, match="ConvTranspose with output_shape"):
        mg_onnx.load_model(str(path))


# ---- interpolate -> Resize ----------------------------------------------------------------
class _Interpolate(nn.Module):
    def __init__(self, **options) -> None:
        super().__init__()
        self.options = options

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return nn.functional.interpolate(x, **self.options)


# (input shape, interpolate options, the op types of the exported graph besides Constant)
INTERPOLATE = {
    "nearest_x2": ((2, 3, 5, 6), {"scale_factor": 2}, {"Resize"}),
    "nearest_sizes": ((2, 3, 9, 6), {"size": (4, 13)}, {"Resize"}),
    "nearest_exact": ((2, 3, 5, 6), {"size": (7, 13), "mode": "nearest-exact"}, {"Resize"}),
    "bilinear_x2": ((2, 3, 5, 6), {"scale_factor": 2, "mode": "bilinear"}, {"Resize"}),
    "bilinear_down": ((2, 3, 9, 6), {"size": (4, 5), "mode": "bilinear"}, {"Resize"}),
    "bilinear_corners": ((2, 3, 5, 6), {"size": (7, 13), "mode": "bilinear",
                                        "align_corners": True}, {"Resize"}),
    "bicubic": ((2, 3, 5, 6), {"size": (7, 13), "mode": "bicubic"}, {"Resize"}),
    "linear_1d": ((2, 3, 7), {"size": 11, "mode": "linear"}, {"Resize"}),
    "trilinear": ((2, 2, 3, 4, 5), {"scale_factor": 2, "mode": "trilinear"}, {"Resize"}),
    # no Resize gives these exactly: the map itself (MatMul / Gather of constants)
    "area": ((2, 3, 5, 6), {"size": (3, 4), "mode": "area"}, {"MatMul"}),
    "bilinear_scale_2_5": ((2, 3, 5, 6), {"scale_factor": 2.5, "mode": "bilinear"},
                           {"MatMul", "Resize"}),
}


@pytest.mark.parametrize("name", list(INTERPOLATE))
def test_interpolate_exports_as_resize_and_imports(name, tmp_path):
    shape, options, types = INTERPOLATE[name]
    proto = _check(_Interpolate(**options), shape, tmp_path / "resize.onnx", round_trip=True)
    assert _op_types(proto) - {"Constant"} == types


# ---- recurrent layers -> ONNX RNN / LSTM / GRU ------------------------------------------------
class _AllOutputs(nn.Module):
    """output, h_n (and c_n) of a recurrent layer, from given initial states or zeros."""

    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: mg.Tensor, *states: mg.Tensor) -> tuple:
        if states:  # as a keyword, which forward hooks would not see
            output, state = self.rnn(x, hx=states if len(states) == 2 else states[0])
        else:
            output, state = self.rnn(x)
        return (output, *(state if isinstance(state, tuple) else (state,)))


RECURRENT = {
    "lstm": lambda: nn.LSTM(5, 7),
    "lstm_2_layers_bidirectional_batch_first": lambda: nn.LSTM(5, 7, num_layers=2,
                                                                 batch_first=True,
                                                                 bidirectional=True,
                                                                 dropout=0.3),
    "lstm_without_bias": lambda: nn.LSTM(5, 6, bias=False, batch_first=True),
    "gru_2_layers_bidirectional": lambda: nn.GRU(5, 7, num_layers=2, bidirectional=True),
    "gru_batch_first": lambda: nn.GRU(5, 7, batch_first=True),
    "rnn_relu_2_layers": lambda: nn.RNN(5, 7, num_layers=2, nonlinearity="relu"),
    "rnn_tanh_bidirectional_batch_first": lambda: nn.RNN(5, 7, bidirectional=True,
                                                         batch_first=True),
}


@pytest.mark.parametrize("initial_states", [False, True])
@pytest.mark.parametrize("name", list(RECURRENT))
def test_recurrent_layers_match_onnxruntime_at_two_batch_sizes(name, initial_states, tmp_path):
    mg.manual_seed(5)
    rnn = RECURRENT[name]()
    model = _AllOutputs(rnn)
    is_lstm = isinstance(rnn, nn.LSTM)
    batch_axis = 0 if rnn.batch_first else 1
    rows = rnn.num_layers * (2 if rnn.bidirectional else 1)

    def inputs(batch: int) -> list[mg.Tensor]:
        x = mg.randn(*((batch, 4, 5) if rnn.batch_first else (4, batch, 5)))
        states = [mg.randn(rows, batch, rnn.hidden_size) for _ in range(2 if is_lstm else 1)]
        return [x] + (states if initial_states else [])

    state_names = (["h0", "c0"] if is_lstm else ["h0"]) if initial_states else []
    output_names = ["output", "h_n"] + (["c_n"] if is_lstm else [])
    dynamic = {"input": {batch_axis: "batch"}, "output": {batch_axis: "batch"}}
    dynamic.update({name: {1: "batch"} for name in state_names + output_names[1:]})
    path = tmp_path / "rnn.onnx"
    proto = mg_onnx.export(model, tuple(inputs(2)), str(path),
                           input_names=["input"] + state_names, output_names=output_names,
                           dynamic_axes=dynamic)
    onnx.checker.check_model(str(path), full_check=True)
    expected_type = "LSTM" if is_lstm else "GRU" if isinstance(rnn, nn.GRU) else "RNN"
    assert sum(node.op_type == expected_type for node in proto.graph.node) == rnn.num_layers
    session = _session(path)
    assert "forward" not in vars(rnn)  # the export's watch on the call is gone
    loaded = mg_onnx.load_model(str(path))
    model.eval()
    for batch in (2, 5):
        values = inputs(batch)
        got = session.run(None, {name: value.data for name, value
                                 in zip(["input"] + state_names, values)})
        for have, want in zip(got, model(*values), strict=True):
            assert have.shape == want.shape
            np.testing.assert_allclose(have, want.data, rtol=1e-4, atol=1e-5)
        for have, again in zip(got, loaded(*values), strict=True):
            np.testing.assert_allclose(again.data, have, rtol=1e-4, atol=1e-5)


def test_lstm_with_projection_has_no_onnx_mapping(tmp_path):
    model = _AllOutputs(nn.LSTM(5, 7, proj_size=3))
    with pytest.raises(NotImplementedError, match="no ONNX mapping for LSTM with proj_size"):
        mg_onnx.export(model, mg.randn(4, 2, 5), str(tmp_path / "proj.onnx"))


def test_lstm_classifier_on_the_last_step(tmp_path):
    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(5, 8, batch_first=True)
            self.head = nn.Linear(8, 3)

        def forward(self, x: mg.Tensor) -> mg.Tensor:
            output, _ = self.lstm(x)
            return self.head(output[:, -1])

    mg.manual_seed(6)
    proto = _check(Classifier(), (2, 6, 5), tmp_path / "classifier.onnx")
    assert "LSTM" in _op_types(proto)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_pytorch_lstm_gru_and_rnn_files_import(kind, tmp_path):
    """torch.onnx's LSTM / GRU / RNN nodes run in minigrad as onnxruntime runs them, and the
    imported weights get gradients."""
    torch = pytest.importorskip("torch")
    import warnings

    torch.manual_seed(0)
    layer_class = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    layer = layer_class(5, 7, num_layers=2, bidirectional=True, batch_first=True)

    class Outputs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = layer

        def forward(self, x):
            output, state = self.layer(x)
            return (output, *(state if isinstance(state, tuple) else (state,)))

    path = tmp_path / "torch_rnn.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Outputs().eval(), torch.randn(2, 4, 5), str(path), dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "n"}})
    loaded = mg_onnx.load_model(str(path))
    session = _session(path)
    for batch in (2, 5):
        x = np.random.default_rng(batch).standard_normal((batch, 4, 5)).astype(np.float32)
        got = session.run(None, {"x": x})
        mine = loaded(mg.tensor(x))
        for have, again in zip(got, mine, strict=True):
            np.testing.assert_allclose(again.data, have, rtol=1e-4, atol=1e-5)
    mine[0].sum().backward()
    assert all(parameter.grad is not None for parameter in loaded.parameters())
