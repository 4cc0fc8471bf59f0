"""minigrad.onnx.load_model: ONNX files (minigrad's own and PyTorch's) as trainable Modules
whose outputs equal onnxruntime's."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import minigrad as mg
import minigrad.onnx as mg_onnx
from minigrad import models, nn
from minigrad.nn import functional as F
from minigrad.onnx.load import OnnxModule


def _session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def _assert_matches_ort(model_bytes: bytes, loaded: OnnxModule, shapes: list[tuple]) -> None:
    """The loaded model's outputs equal onnxruntime's on random inputs of each shape."""
    session = _session(model_bytes)
    name = session.get_inputs()[0].name
    loaded.eval()
    generator = np.random.default_rng(0)
    for shape in shapes:
        x = generator.standard_normal(shape).astype(np.float32)
        (expected,) = session.run(None, {name: x})
        got = loaded(mg.tensor(x))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.data, expected, rtol=1e-4, atol=1e-5)


def _exported(model: nn.Module, shape: tuple) -> bytes:
    buffer = io.BytesIO()
    mg_onnx.export(model, mg.randn(*shape), buffer)
    return buffer.getvalue()


def _train_step_lowers_loss(model: nn.Module, x: mg.Tensor, target: mg.Tensor,
                            lr: float = 0.05) -> None:
    parameters = list(model.parameters())
    assert parameters and all(p.requires_grad for p in parameters)
    optimizer = mg.optim.SGD(parameters, lr=lr)
    model.train()
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        assert all(p.grad is not None for p in parameters)
        optimizer.step()
        losses.append(float(loss.data))
    assert losses[-1] < losses[0]


# ---- minigrad -> ONNX -> minigrad -------------------------------------------------------------
ROUND_TRIPS = {
    "lenet5": (lambda: models.LeNet5(), (2, 1, 28, 28)),
    "simplecnn": (lambda: models.SimpleCNN(), (2, 1, 28, 28)),
    "resnet18": (lambda: models.resnet18(num_classes=10), (2, 3, 32, 32)),
}


@pytest.mark.parametrize("name", list(ROUND_TRIPS))
def test_round_trip_equals_onnxruntime_and_the_original(name):
    build, shape = ROUND_TRIPS[name]
    mg.manual_seed(0)
    original = build().eval()
    model_bytes = _exported(original, shape)
    loaded = mg_onnx.load_model(io.BytesIO(model_bytes))
    _assert_matches_ort(model_bytes, loaded, [shape, (3,) + shape[1:]])
    x = mg.randn(*shape)
    np.testing.assert_allclose(loaded.eval()(x).data, original(x).data, rtol=1e-4, atol=1e-5)
    # the weights keep their names: the original's state_dict loads into the loaded model
    expected = {key for key in original.state_dict() if not key.endswith("num_batches_tracked")}
    assert set(loaded.state_dict()) == expected
    buffers = {key for key, _ in loaded.named_buffers()}
    assert buffers == {key for key in expected if "running_" in key}


@pytest.mark.parametrize("opset", [17, 20])
def test_gelu_round_trip(opset):
    mg.manual_seed(0)
    original = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 16),
                             nn.GELU(approximate="tanh"), nn.Linear(16, 3))
    buffer = io.BytesIO()
    mg_onnx.export(original, mg.randn(2, 6), buffer, opset_version=opset)
    loaded = mg_onnx.load_model(io.BytesIO(buffer.getvalue()))
    _assert_matches_ort(buffer.getvalue(), loaded, [(2, 6), (7, 6)])
    assert [node.op_type for node in loaded._nodes].count("Gelu") == (1 if opset < 20 else 2)
    assert set(loaded.state_dict()) == set(original.state_dict())


def test_loaded_model_fine_tunes(tmp_path):
    mg.manual_seed(0)
    path = tmp_path / "lenet.onnx"
    mg_onnx.export(models.LeNet5(input_size=8), mg.randn(2, 1, 8, 8), str(path))
    loaded = mg_onnx.load_model(str(path))
    before = {key: value.data.copy() for key, value in loaded.state_dict().items()}
    _train_step_lowers_loss(loaded, mg.randn(16, 1, 8, 8), mg.randint(0, 10, (16,)))
    changed = [key for key, value in loaded.state_dict().items()
               if not np.array_equal(value.data, before[key])]
    assert set(changed) == set(before)


def test_batch_norm_uses_batch_statistics_in_training_mode():
    mg.manual_seed(0)
    original = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                             nn.Linear(4 * 6 * 6, 5))
    loaded = mg_onnx.load_model(io.BytesIO(_exported(original.eval(), (2, 3, 8, 8))))
    x = mg.randn(6, 3, 8, 8)
    original.train()
    loaded.train()
    np.testing.assert_allclose(loaded(x).data, original(x).data, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(loaded.state_dict()["1.running_mean"].data,
                               original.state_dict()["1.running_mean"].data, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(loaded.state_dict()["1.running_var"].data,
                               original.state_dict()["1.running_var"].data, rtol=1e-5)
    _train_step_lowers_loss(loaded, x, mg.randint(0, 5, (6,)))


# ---- hand-written graphs: errors and odd names ------------------------------------------------
def _graph(nodes: list, initializers: list, opset: int = 17) -> onnx.ModelProto:
    helper = onnx.helper
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 4])],
        initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_unsupported_ops_are_named_before_anything_is_built():
    helper = onnx.helper
    model = _graph([helper.make_node("Erf", ["x"], ["a"]),
                    helper.make_node("Relu", ["a"], ["b"]),
                    helper.make_node("Hardmax", ["b"], ["y"])], [])
    with pytest.raises(NotImplementedError, match="unsupported ONNX ops: Erf, Hardmax"):
        mg_onnx.load_model(model)


def test_odd_initializer_names_become_attribute_paths():
    helper = onnx.helper
    weight = np.arange(16, dtype=np.float32).reshape(4, 4) / 10
    model = _graph([helper.make_node("MatMul", ["x", "onnx::MatMul_7"], ["a"]),
                    helper.make_node("Add", ["a", "layer.0.bias"], ["y"])],
                   [onnx.numpy_helper.from_array(weight, "onnx::MatMul_7"),
                    onnx.numpy_helper.from_array(np.ones(4, np.float32), "layer.0.bias")])
    loaded = mg_onnx.load_model(model)
    assert sorted(loaded.state_dict()) == ["layer.0.bias", "onnx__MatMul_7"]
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(loaded(mg.tensor(x)).data, x @ weight + 1, rtol=1e-6)
    with pytest.raises(TypeError, match="takes 1 inputs"):
        loaded(mg.tensor(x), mg.tensor(x))


# ---- PyTorch -> ONNX -> minigrad ----------------------------------------------------------------
def _torch_export(net, shape: tuple, opset: int = 17, **kwargs) -> bytes:
    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.randn(*shape), buffer, dynamo=False, opset_version=opset,
                          input_names=["x"], dynamic_axes={"x": {0: "n"}}, **kwargs)
    return buffer.getvalue()


def _torch_nets() -> dict:
    torch = pytest.importorskip("torch")
    tnn, tF = torch.nn, torch.nn.functional

    class ViewNet(tnn.Module):
        """Conv-BN-ReLU, pools, and torch's view(x.size(0), -1) (Shape/Gather/Concat)."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = tnn.Conv2d(3, 8, 3, padding=1)
            self.bn = tnn.BatchNorm2d(8)
            self.fc = tnn.Linear(8 * 4 * 4, 5)

        def forward(self, x):
            y = tF.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
            y = tF.avg_pool2d(y, 2)
            return torch.log_softmax(self.fc(y.view(y.size(0), -1)), dim=1)

    class BranchNet(tnn.Module):
        """Concat, padding (Slice/ConstantOfShape/Pad), global pooling, softmax."""

        def __init__(self) -> None:
            super().__init__()
            self.a = tnn.Conv2d(3, 4, 1)
            self.b = tnn.Conv2d(3, 4, 3, padding=1, stride=1, groups=1)
            self.head = tnn.Linear(8, 3)

        def forward(self, x):
            y = torch.cat([tF.leaky_relu(self.a(x), 0.2), torch.sigmoid(self.b(x))], 1)
            y = tF.pad(y, (1, 1, 1, 1))
            y = tF.adaptive_avg_pool2d(y, 1).flatten(1)
            return torch.softmax(torch.tanh(self.head(y)), -1)

    class ResidualNet(tnn.Module):
        """A ResNet-style block with an unfused BatchNorm kept as BatchNormalization."""

        def __init__(self) -> None:
            super().__init__()
            self.stem = tnn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.bn = tnn.BatchNorm2d(8)
            self.conv = tnn.Conv2d(8, 8, 3, padding=1)
            self.fc = tnn.Linear(8, 4)

        def forward(self, x):
            y = torch.relu(self.bn(self.stem(x)))
            y = torch.relu(self.conv(y) + y)
            return self.fc(y.mean((2, 3)))

    class AttentionNet(tnn.Module):
        """A pre-norm transformer block (LayerNormalization, Split, MatMul/Softmax attention,
        Erf GELU) and a mean over the sequence."""

        def __init__(self, width: int = 8, heads: int = 2) -> None:
            super().__init__()
            self.heads = heads
            self.qkv = tnn.Linear(width, 3 * width)
            self.proj = tnn.Linear(width, width)
            self.ln1 = tnn.LayerNorm(width)
            self.ln2 = tnn.LayerNorm(width)
            self.ff = tnn.Sequential(tnn.Linear(width, 16), tnn.GELU(), tnn.Linear(16, width))

        def forward(self, x):
            n, t, d = x.shape
            q, k, v = (part.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)
                       for part in self.qkv(self.ln1(x)).split(d, dim=-1))
            attention = torch.softmax(q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5, -1)
            x = x + self.proj((attention @ v).transpose(1, 2).reshape(n, t, d))
            return (x + self.ff(self.ln2(x))).mean(1)

    torch.manual_seed(0)
    nets = {"view": ViewNet(), "attention": AttentionNet(), "branch": BranchNet(),
            "residual": ResidualNet(),
            "gelu_mlp": tnn.Sequential(tnn.Linear(10, 32), tnn.GELU(), tnn.Dropout(0.1),
                                       tnn.Linear(32, 4))}
    nets["gelu_mlp_erf"] = nets["gelu_mlp"]  # opset 17: GELU as Div, Erf, Add, Mul, Mul
    for net in nets.values():
        for module in net.modules():
            if isinstance(module, tnn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.data.uniform_(0.5, 1.5)
        net.eval()
    return nets


TORCH_CASES = {
    "view": ((2, 3, 16, 16), 17, {}),
    "branch": ((2, 3, 8, 8), 17, {}),
    "residual": ((2, 3, 8, 8), 17, {"do_constant_folding": False}),
    "gelu_mlp": ((2, 10), 20, {}),
    "gelu_mlp_erf": ((2, 10), 17, {}),
    "attention": ((2, 5, 8), 17, {}),
}


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_pytorch_exports_load_run_and_fine_tune(name):
    torch = pytest.importorskip("torch")
    net = _torch_nets()[name]
    shape, opset, kwargs = TORCH_CASES[name]
    model_bytes = _torch_export(net, shape, opset, **kwargs)
    loaded = mg_onnx.load_model(io.BytesIO(model_bytes))
    _assert_matches_ort(model_bytes, loaded, [shape, (5,) + shape[1:]])
    x = np.random.default_rng(1).standard_normal((3,) + shape[1:]).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(loaded.eval()(mg.tensor(x)).data, expected, rtol=1e-4,
                               atol=1e-5)
    if name == "gelu_mlp_erf":
        assert "Erf" in {node.op_type for node in onnx.load_from_string(model_bytes).graph.node}
        assert "Gelu" in repr([node.op_type for node in loaded._nodes])
    if name == "residual":
        ops = {node.op_type for node in onnx.load_from_string(model_bytes).graph.node}
        assert "BatchNormalization" in ops
        assert {"bn.running_mean", "bn.running_var"} <= {k for k, _ in loaded.named_buffers()}
    target = mg.randint(0, int(expected.shape[1]), (8,))
    _train_step_lowers_loss(loaded, mg.randn(8, *shape[1:]), target, lr=0.1)


def test_load_model_reads_paths_and_file_objects(tmp_path):
    model = models.LeNet5(input_size=8)
    path = Path(tmp_path) / "m.onnx"
    mg_onnx.export(model, mg.randn(1, 1, 8, 8), str(path))
    with open(path, "rb") as handle:
        from_file = mg_onnx.load_model(handle)
    from_path = mg_onnx.load_model(path)
    x = mg.randn(2, 1, 8, 8)
    np.testing.assert_array_equal(from_file(x).data, from_path(x).data)
    assert "OnnxModule(" in repr(from_path) and "nodes=" in repr(from_path)


def _torch_layer_variants() -> dict:
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    torch.manual_seed(0)
    return {
        "maxpool_ceil_mode": tnn.Sequential(tnn.Conv2d(3, 4, 3), tnn.MaxPool2d(3, 2, 1,
                                                                               ceil_mode=True)),
        "avgpool_without_pad_count": tnn.AvgPool2d(3, 2, 1, count_include_pad=False),
        "conv_same_even_kernel": tnn.Conv2d(3, 4, 4, padding="same"),
        "conv_dilated_grouped_elu_hardtanh": tnn.Sequential(
            tnn.Conv2d(3, 6, 3, dilation=2, groups=3, padding=2), tnn.ELU(), tnn.Hardtanh()),
        "upsample_nearest": tnn.Sequential(tnn.Conv2d(3, 2, 1), tnn.Upsample(scale_factor=2)),
        "conv_transpose_upsample_bilinear": tnn.Sequential(
            tnn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
            tnn.Upsample(scale_factor=1.5, mode="bilinear")),
        "upsample_bicubic_align_corners": tnn.Upsample(size=(9, 20), mode="bicubic",
                                                       align_corners=True),
        "prelu_softplus_hardsigmoid": tnn.Sequential(tnn.Conv2d(3, 4, 1), tnn.PReLU(4),
                                                     tnn.Softplus(), tnn.Hardsigmoid()),
        "batchnorm1d": tnn.Sequential(tnn.Flatten(), tnn.Linear(3 * 15 * 15, 6),
                                      tnn.BatchNorm1d(6), tnn.Sigmoid()),
    }


@pytest.mark.parametrize("name", ["maxpool_ceil_mode", "avgpool_without_pad_count",
                                  "conv_same_even_kernel", "conv_dilated_grouped_elu_hardtanh",
                                  "upsample_nearest", "conv_transpose_upsample_bilinear",
                                  "upsample_bicubic_align_corners", "prelu_softplus_hardsigmoid",
                                  "batchnorm1d"])
def test_pytorch_layer_variants_match_onnxruntime(name):
    net = _torch_layer_variants()[name].eval()
    model_bytes = _torch_export(net, (2, 3, 15, 15))
    loaded = mg_onnx.load_model(io.BytesIO(model_bytes))
    assert not loaded.training
    _assert_matches_ort(model_bytes, loaded, [(2, 3, 15, 15), (4, 3, 15, 15)])


def test_pytorch_ops_minigrad_lacks_are_named():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.PixelShuffle(2)).eval()
    model_bytes = _torch_export(net, (1, 3, 8, 8))
    with pytest.raises(NotImplementedError, match="unsupported ONNX ops: DepthToSpace"):
        mg_onnx.load_model(io.BytesIO(model_bytes))
    net = torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False).eval()
    proto = onnx.load_from_string(_torch_export(net, (1, 3, 8, 8)))
    (resize,) = [node for node in proto.graph.node if node.op_type == "Resize"]
    resize.attribute.append(onnx.helper.make_attribute("exclude_outside", 1))
    with pytest.raises(NotImplementedError, match="unsupported ONNX op settings: Resize "
                                                  "exclude_outside=1"):
        mg_onnx.load_model(io.BytesIO(proto.SerializeToString()))


def test_loaded_model_takes_a_minigrad_state_dict_by_name():
    mg.manual_seed(0)
    first, second = models.LeNet5(input_size=8).eval(), models.LeNet5(input_size=8).eval()
    loaded = mg_onnx.load_model(io.BytesIO(_exported(first, (1, 1, 8, 8))))
    loaded.load_state_dict(second.state_dict())
    x = mg.randn(3, 1, 8, 8)
    np.testing.assert_allclose(loaded(x).data, second(x).data, rtol=1e-5, atol=1e-6)
