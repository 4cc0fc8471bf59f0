"""minigrad.utils.tensorboard: the event files written through tensorboardX, read back."""

import io

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

pytest.importorskip("tensorboardX")
from minigrad.utils.tensorboard import (
    SummaryWriter,
    log_epoch,
    read_events,
)


def summaries(path):
    """(step, tag, value) for every summary value in the event files under `path`."""
    found = []
    for event in read_events(path):
        if event.WhichOneof("what") == "summary":
            found += [(event.step, value.tag, value) for value in event.summary.value]
    return found


def test_scalars_histograms_and_images_are_written_with_pytorchs_names(tmp_path):
    values = mg.randn(1000)
    image = mg.rand(3, 8, 12)
    with SummaryWriter(tmp_path) as writer:
        assert writer.log_dir == str(tmp_path)
        for step in range(3):
            writer.add_scalar("Loss/train", mg.tensor(1.0 / (step + 1)), step)
        writer.add_scalars("Accuracy", {"train": 0.9, "test": 0.8}, 2)
        writer.add_histogram("weights", values, 5)
        writer.add_image("sample", image, 7)
        writer.flush()
    written = [entry for entry in summaries(tmp_path) if entry[1] != "Accuracy"]
    losses = [(step, value.simple_value) for step, tag, value in written if tag == "Loss/train"]
    assert losses == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    runs = {path.parent.name for path in tmp_path.rglob("events.out.tfevents.*")}
    assert runs == {tmp_path.name, "Accuracy_train", "Accuracy_test"}  # a run per series
    assert [(step, tag, value.simple_value) for step, tag, value in
            summaries(tmp_path / "Accuracy_test")] == [(2, "Accuracy", pytest.approx(0.8))]
    (histogram,) = [value.histo for _, tag, value in written if tag == "weights"]
    assert histogram.num == 1000
    assert histogram.min == pytest.approx(values.data.min())
    assert histogram.max == pytest.approx(values.data.max())
    assert histogram.sum == pytest.approx(values.data.astype(np.float64).sum(), abs=1e-3)
    (picture,) = [(step, value.image) for step, tag, value in written if tag == "sample"]
    assert picture[0] == 7 and (picture[1].height, picture[1].width) == (8, 12)
    from PIL import Image

    decoded = np.asarray(Image.open(io.BytesIO(picture[1].encoded_image_string)))
    expected = (image.data.transpose(1, 2, 0) * 255).clip(0, 255)
    assert decoded.shape == (8, 12, 3)
    assert np.abs(decoded.astype(float) - expected).max() <= 1.0


def test_add_graph_writes_the_recorded_graph_by_module(tmp_path):
    from tensorboardX.proto.graph_pb2 import GraphDef

    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(144, 10))
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, mg.randn(2, 1, 8, 8))
    (definition,) = [event.graph_def for event in read_events(tmp_path) if event.graph_def]
    graph = GraphDef()
    graph.ParseFromString(definition)
    nodes = {node.name: node for node in graph.node}
    assert nodes["input"].op == "IO Node" and nodes["0/weight"].op == "Parameter"
    (conv,) = [node for name, node in nodes.items() if name.startswith("0/conv2d")]
    assert list(conv.input) == ["input", "0/weight", "0/bias"]
    assert [d.size for d in conv.attr["_output_shapes"].list.shape[0].dim] == [2, 4, 6, 6]
    assert "stride=1" in conv.attr["attr"].s.decode()
    assert any(name.startswith("1/") for name in nodes)               # BatchNorm's ops, boxed
    (linear,) = [node for name, node in nodes.items() if name.startswith("4/linear")]
    assert list(nodes["output"].input) == [linear.name]
    every_input = {name for node in graph.node for name in node.input}
    assert every_input <= set(nodes)                                   # no dangling edges


def test_log_epoch_writes_what_the_trainer_needs(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3))
    F.cross_entropy(model(mg.randn(5, 4)), mg.tensor([0, 1, 2, 0, 1])).backward()
    with SummaryWriter(tmp_path) as writer:
        for epoch in (1, 2):
            log_epoch(writer, epoch, train_loss=1.0 / epoch, train_accuracy=0.5, test_loss=0.9,
                      test_accuracy=0.6, lr=0.1, model=model)
    written = summaries(tmp_path)
    tags = {tag for _, tag, _ in written}
    assert tags == {"Loss/train", "Loss/test", "Accuracy/train", "Accuracy/test",
                    "LearningRate", "Gradients/0.weight", "Gradients/0.bias",
                    "GradientNorm/0.weight", "GradientNorm/0.bias"}
    norms = [value.simple_value for _, tag, value in written if tag == "GradientNorm/0.weight"]
    expected = float(np.linalg.norm(model[0].weight.grad.data))
    assert norms == [pytest.approx(expected)] * 2
    steps = sorted(step for step, tag, _ in written if tag == "Loss/train")
    assert steps == [1, 2]


def test_bad_arguments_and_damaged_files(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="one number"):
            writer.add_scalar("x", mg.ones(3))
        with pytest.raises(ValueError, match="dataformats 'CHW' needs a 3-d image"):
            writer.add_image("x", mg.ones(8, 8))
        with pytest.raises(ValueError, match="input_to_model"):
            writer.add_graph(nn.Linear(2, 2))
        writer.add_scalar("x", 1.0, 0)
    with pytest.raises(TypeError, match="log_dir"):
        SummaryWriter(3)
    with pytest.raises(TypeError, match="writer"):
        log_epoch(None, 1, train_loss=1.0, train_accuracy=0.5)
    (events_file,) = tmp_path.glob("events.out.tfevents.*")
    data = bytearray(events_file.read_bytes())
    data[-3] ^= 0xFF
    events_file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged"):
        list(read_events(events_file))


def test_training_cli_logdir_writes_events_read_back(tmp_path, capsys):
    from minigrad.train import main

    logdir = tmp_path / "runs"
    main(["--dataset", "digits", "--epochs", "2", "--train-limit", "128", "--batch-size", "32",
          "--no-progress", "--logdir", str(logdir)])
    assert f"TensorBoard logs: {logdir}" in capsys.readouterr().out
    tags = {}
    for step, tag, _ in summaries(logdir):
        tags.setdefault(tag, set()).add(step)
    for tag in ("Loss/train", "Loss/test", "Accuracy/train", "Accuracy/test", "LearningRate"):
        assert tags[tag] == {1, 2}, tag
    assert any(tag.startswith("Gradients/conv1.weight") for tag in tags)
    assert any(tag.startswith("GradientNorm/fc3.bias") for tag in tags)


def test_training_cli_logdir_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    from minigrad.train import main

    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(SystemExit) as stop:
        main(["--logdir", str(path), "--epochs", "1"])
    assert stop.value.code == 2
    assert "--logdir" in capsys.readouterr().err
