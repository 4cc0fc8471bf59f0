"""minigrad.onnx.export: files that pass onnx's full check and that onnxruntime runs to
minigrad's outputs, at the batch size of the export and at another one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import minigrad as mg
import minigrad.onnx as mg_onnx
from minigrad import models, nn
from minigrad.engine import hooks
from minigrad.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _randomize_batch_norm(model: nn.Module) -> None:
    """Running statistics and affine weights away from their init, so a wrong BN mapping
    cannot pass by accident."""
    generator = np.random.default_rng(0)
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            count = module.num_features
            module.running_mean.data[...] = generator.uniform(-0.5, 0.5, count)
            module.running_var.data[...] = generator.uniform(0.5, 2.0, count)
            if module.affine:
                module.weight.data[...] = generator.uniform(0.5, 1.5, count)
                module.bias.data[...] = generator.uniform(-0.5, 0.5, count)


def _check_against_ort(model: nn.Module, shape: tuple, path: Path, batches=(2, 5),
                       atol: float = 1e-4, round_trip: bool = True,
                       **export_kwargs) -> onnx.ModelProto:
    """Export, run in onnxruntime at each batch size and compare with minigrad; with
    round_trip, also load the file back with load_model and compare that with onnxruntime."""
    mg.manual_seed(0)
    proto = mg_onnx.export(model, mg.randn(*shape), str(path), **export_kwargs)
    onnx.checker.check_model(str(path), full_check=True)
    session = _session(path)
    input_name = session.get_inputs()[0].name
    loaded = mg_onnx.load_model(str(path)).eval() if round_trip else None
    model.eval()
    for batch in batches:
        x = mg.randn(batch, *shape[1:])
        expected = model(x).data
        (got,) = session.run(None, {input_name: x.data})
        assert got.shape == expected.shape
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)
        if loaded is not None:
            np.testing.assert_allclose(loaded(x).data, got, rtol=1e-4, atol=atol)
    return proto


MODELS = {
    "lenet5": (lambda: models.LeNet5(), (2, 1, 28, 28)),
    "lenet5_digits": (lambda: models.LeNet5(input_size=8), (2, 1, 8, 8)),
    "simplecnn": (lambda: models.SimpleCNN(), (2, 1, 28, 28)),
    "resnet18": (lambda: models.resnet18(num_classes=10), (2, 3, 32, 32)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_models_run_in_onnxruntime_at_two_batch_sizes(name, tmp_path):
    build, shape = MODELS[name]
    mg.manual_seed(0)
    model = build()
    _randomize_batch_norm(model)
    proto = _check_against_ort(model, shape, tmp_path / f"{name}.onnx")
    assert proto.opset_import[0].version == 17
    # parameters and buffers are initializers under their state_dict keys
    initializers = {tensor.name for tensor in proto.graph.initializer}
    parameters = {name for name, _ in model.named_parameters()}
    assert parameters <= initializers
    # the batch axis is dynamic, the rest fixed
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch_size"
    assert [dim.dim_value for dim in dims[1:]] == list(shape[1:])


def test_vgg11_runs_in_onnxruntime_at_two_batch_sizes(tmp_path):
    mg.manual_seed(0)
    model = models.vgg11(num_classes=10)
    proto = _check_against_ort(model, (1, 3, 32, 32), tmp_path / "vgg11.onnx", batches=(1, 3),
                               round_trip=False)  # 500 MB of weights: one copy is enough
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("Conv") == 8 and ops.count("Gemm") == 3
    # a 1x1 feature map pooled to 7x7 cannot be an AveragePool: two MatMuls with the
    # adaptive windows
    assert ops.count("MatMul") == 2


def test_batch_norm_becomes_one_batch_normalization_node(tmp_path):
    mg.manual_seed(0)
    model = models.resnet18(num_classes=10)
    _randomize_batch_norm(model)
    proto = mg_onnx.export(model, mg.randn(1, 3, 32, 32), str(tmp_path / "r.onnx"))
    ops = [node.op_type for node in proto.graph.node]
    batch_norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert ops.count("BatchNormalization") == len(batch_norms) == 20
    assert ops.count("Conv") == 20 and ops.count("Add") == 8
    node = next(node for node in proto.graph.node if node.op_type == "BatchNormalization")
    assert list(node.input[1:]) == ["bn1.weight", "bn1.bias", "bn1.running_mean",
                                    "bn1.running_var"]


def test_batch_norm_1d_and_without_affine(tmp_path):
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.BatchNorm1d(8, affine=False), nn.Linear(8, 3))
    _randomize_batch_norm(model)
    proto = _check_against_ort(model, (2, 6), tmp_path / "bn1d.onnx")
    assert [node.op_type for node in proto.graph.node].count("BatchNormalization") == 2


class _Everything(nn.Module):
    """One of (nearly) every op in the export table, on a (N, 4, 6, 6) input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=1, groups=2)
        self.conv_rect = nn.Conv2d(6, 6, (1, 3), padding=(0, 1), bias=False)
        self.linear = nn.Linear(6, 5)
        self.register_buffer("mask", mg.tensor([True, False, True, True, False]))

    def forward(self, x):
        y = self.conv(x)                                        # (N, 6, 3, 3)
        y = self.conv_rect(F.pad(y, (1, 0, 0, 1)))              # (N, 6, 4, 4)
        y = F.leaky_relu(y, 0.1) + F.elu(y) * F.silu(y) - F.gelu(y) / 4
        y = F.gelu(y, approximate="tanh") + y.sigmoid() * y.tanh() + y.abs().sqrt()
        y = F.pad(y, (1, 1, 1, 1), mode="reflect")              # (N, 6, 6, 6)
        y = F.avg_pool2d(y, 2) + F.max_pool2d(y, 3, stride=2, padding=1)
        y = y.clamp(-2.0, 3.0).exp().log() + y.square() * 0.1
        y = mg.cat([y, y * 2], dim=1)                           # (N, 12, 3, 3)
        y = F.adaptive_avg_pool2d(y, (2, 2)) + F.adaptive_max_pool2d(y, 1)
        y = y.permute(0, 2, 3, 1)                               # (N, 2, 2, 12)
        y = y[:, :, :, 1:7]                                     # (N, 2, 2, 6)
        y = y.mean((1, 2)) + y.amax(1).sum(1) - y.amin(2).sum(1) * 0.5
        y = y + y.var(1, keepdim=True) + y.std(1, correction=0, keepdim=True)
        y = self.linear(y)                                      # (N, 5)
        y = mg.where(self.mask, y, y * 0.5) + mg.stack([y, y], dim=1).sum(1)
        z = y.unsqueeze(1).expand(y.shape[0], 3, 5).flatten(1)  # (N, 15)
        return F.log_softmax(z, dim=1) + F.softmax(z, dim=-1) + z.logsumexp(1, keepdim=True)


@pytest.mark.parametrize("opset", [17, 20])
def test_op_table_against_onnxruntime(opset, tmp_path):
    mg.manual_seed(1)
    proto = _check_against_ort(_Everything(), (2, 4, 6, 6), tmp_path / "all.onnx",
                               opset_version=opset)
    ops = {node.op_type for node in proto.graph.node}
    assert {"Conv", "Pad", "LeakyRelu", "Elu", "AveragePool", "MaxPool", "Concat",
            "GlobalMaxPool", "Transpose", "Slice", "ReduceMean", "Gemm", "Where", "Expand",
            "LogSoftmax", "Softmax", "ReduceLogSumExp"} <= ops
    assert ("Gelu" in ops) == (opset >= 20)


class _Indexing(nn.Module):
    def forward(self, x):  # (N, 4, 5, 6)
        a = x[:, 1]                                  # (N, 5, 6)
        b = x[..., ::2]                              # (N, 4, 5, 3)
        c = x[:, None, 2:4, -1]                      # (N, 1, 2, 5)
        d = x.flip(1, 3)[:, :, 1:, 1:-1]             # (N, 4, 4, 4)
        e = x[:, 0, 0, :2].repeat(1, 3)              # (N, 6)
        return a.sum((1, 2)) + b.sum((1, 2, 3)) + c.sum((1, 2, 3)) * d.mean((1, 2, 3)) + e.sum(1)


def test_indexing_flip_and_repeat(tmp_path):
    proto = _check_against_ort(_Indexing(), (2, 4, 5, 6), tmp_path / "index.onnx")
    assert {"Slice", "Tile"} <= {node.op_type for node in proto.graph.node}


def test_embedding_lookup_is_a_gather_of_an_int64_input(tmp_path):
    class Bag(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(20, 6)
            self.head = nn.Linear(6, 3)

        def forward(self, ids):  # (N, T) int64
            return self.head(self.embedding(ids)).mean(1)

    model = Bag()
    path = tmp_path / "bag.onnx"
    proto = mg_onnx.export(model, mg.randint(0, 20, (2, 5)), str(path))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert proto.graph.node[0].op_type == "Gather"
    assert list(proto.graph.node[0].input) == ["embedding.weight", "input"]
    session = _session(path)
    loaded = mg_onnx.load_model(str(path))
    ids = mg.randint(0, 20, (4, 5))
    (got,) = session.run(None, {"input": ids.data})
    np.testing.assert_allclose(got, model(ids).data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded(ids).data, got, rtol=1e-5, atol=1e-6)


def test_linear_on_three_dims_and_matmul(tmp_path):
    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query = nn.Linear(8, 8)
            self.key = nn.Linear(8, 8, bias=False)

        def forward(self, x):  # (N, T, 8)
            scores = self.query(x) @ self.key(x).transpose(1, 2) / 8 ** 0.5
            return F.softmax(scores, dim=-1) @ x

    proto = _check_against_ort(Attention(), (2, 4, 8), tmp_path / "attention.onnx")
    assert "MatMul" in {node.op_type for node in proto.graph.node}


def test_dynamic_axes_names_and_static_export(tmp_path):
    model = models.LeNet5(input_size=8)
    proto = mg_onnx.export(model, mg.randn(3, 1, 8, 8), str(tmp_path / "a.onnx"),
                           input_names=["image"], output_names=["logits"],
                           dynamic_axes={"image": {0: "n"}, "logits": [0]})
    assert [value.name for value in proto.graph.input] == ["image"]
    assert [value.name for value in proto.graph.output] == ["logits"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "n"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "logits_dim_0"
    static = mg_onnx.export(model, mg.randn(3, 1, 8, 8), str(tmp_path / "b.onnx"),
                            dynamic_axes={})
    assert static.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 3
    session = _session(tmp_path / "b.onnx")
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        session.run(None, {"input": np.zeros((4, 1, 8, 8), np.float32)})


def test_file_object_and_several_inputs_and_outputs(tmp_path):
    class Two(nn.Module):
        def forward(self, a, b):
            return a + b, (a * b).sum(1)

    target = tmp_path / "two.onnx"
    with open(target, "wb") as handle:
        mg_onnx.export(Two(), (mg.randn(2, 3), mg.randn(2, 3)), handle)
    session = _session(target)
    a, b = np.ones((4, 3), np.float32), np.full((4, 3), 2, np.float32)
    total, product = session.run(None, {"input_0": a, "input_1": b})
    np.testing.assert_allclose(total, a + b)
    np.testing.assert_allclose(product, (a * b).sum(1))


def test_unmapped_op_names_the_op_and_the_module(tmp_path):
    class Block(nn.Module):
        def forward(self, x):
            return x.prod(1)

    model = nn.Sequential(nn.Linear(3, 3), Block())
    with pytest.raises(NotImplementedError, match=r"Prod.*Sequential > Block"):
        mg_onnx.export(model, mg.randn(2, 3), str(tmp_path / "x.onnx"))
    assert hooks.op_recorder is None
    assert not (tmp_path / "x.onnx").exists()


def test_values_made_outside_the_ops_are_refused(tmp_path):
    class Comparison(nn.Module):
        def forward(self, x):
            return mg.where(x > 0, x, x * 0.1)

    with pytest.raises(NotImplementedError, match=r"input 0 of Where \(in Comparison\).*"
                                                  r"outside the recorded ops"):
        mg_onnx.export(Comparison(), mg.randn(2, 3), str(tmp_path / "c.onnx"))


def test_export_restores_training_mode_and_records_nothing_afterwards(tmp_path):
    model = models.SimpleCNN()
    model.train()
    mg_onnx.export(model, mg.randn(1, 1, 28, 28), str(tmp_path / "s.onnx"))
    assert model.training and all(module.training for module in model.modules())
    assert hooks.op_recorder is None


def test_bad_arguments(tmp_path):
    model = models.LeNet5(input_size=8)
    x = mg.randn(1, 1, 8, 8)
    with pytest.raises(ValueError, match="opset_version"):
        mg_onnx.export(model, x, str(tmp_path / "a.onnx"), opset_version=11)
    with pytest.raises(TypeError, match="args"):
        mg_onnx.export(model, x.data, str(tmp_path / "a.onnx"))
    with pytest.raises(ValueError, match="input_names"):
        mg_onnx.export(model, x, str(tmp_path / "a.onnx"), input_names=["a", "b"])
    with pytest.raises(ValueError, match="dynamic_axes"):
        mg_onnx.export(model, x, str(tmp_path / "a.onnx"), dynamic_axes={"nope": [0]})


def test_core_package_does_not_import_onnx():
    code = ("import sys, minigrad, minigrad.nn, minigrad.models, minigrad.viz; "
            "print('onnx' in sys.modules, 'onnxruntime' in sys.modules, "
            "'minigrad.onnx' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.split() == ["False", "False", "False"]


def _viz_cli(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "minigrad.viz", *arguments],
                          capture_output=True, text=True, cwd=tmp_path, env=environment,
                          check=False)


def test_viz_cli_writes_onnx(tmp_path):
    result = _viz_cli(tmp_path, "lenet5", "--input-size", "1,1,28,28", "--format", "onnx")
    assert result.returncode == 0, result.stderr
    assert "wrote lenet5.onnx (12 ONNX nodes, opset 17, LeNet5" in result.stdout
    onnx.checker.check_model(str(tmp_path / "lenet5.onnx"), full_check=True)
    session = _session(tmp_path / "lenet5.onnx")
    (logits,) = session.run(None, {"input": np.zeros((3, 1, 28, 28), np.float32)})
    assert logits.shape == (3, 10)
    # the extension alone also selects ONNX
    result = _viz_cli(tmp_path, "simplecnn", "-o", "net.onnx")
    assert result.returncode == 0 and (tmp_path / "net.onnx").exists()


def test_viz_cli_onnx_errors_are_usage_errors(tmp_path):
    (tmp_path / "prodnet.py").write_text(
        "from minigrad import nn\n"
        "class Net(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return x.prod(1)\n")
    result = _viz_cli(tmp_path, "prodnet:Net", "--input-size", "2,3", "--format", "onnx")
    assert result.returncode == 2
    assert "no ONNX mapping for op Prod (from module Net)" in result.stderr
    assert "Traceback" not in result.stderr
    result = _viz_cli(tmp_path, "lenet5", "--format", "onnx", "--grads")
    assert result.returncode == 2 and "--grads" in result.stderr


def test_recordings_do_not_nest_and_switch_off():
    from minigrad.onnx.trace import record_ops

    with record_ops() as recorder:
        mg.randn(2, 3).relu()
        with pytest.raises(RuntimeError, match="already running"), record_ops():
            pass
    assert [op.name for op in recorder.ops] == ["ReLU"]
    assert hooks.op_recorder is None
    mg.randn(2, 3).relu()
    assert len(recorder.ops) == 1
