"""TensorBoard logging with PyTorch's names: `SummaryWriter` from `torch.utils.tensorboard`.

    from minigrad.utils.tensorboard import SummaryWriter
    writer = SummaryWriter("runs/lenet5")
    writer.add_scalar("Loss/train", loss.item(), epoch)
    writer.add_histogram("conv1.weight", model.conv1.weight, epoch)
    writer.add_graph(model, images)           # the recorded graph, boxed by module
    writer.close()

Built on tensorboardX (the `tensorboard` extra: `pip install 'minigrad[tensorboard]'`), which
writes the event files; `tensorboard --logdir runs` (from the `tensorboard` package) shows them.
Tensors are handed over as NumPy arrays. `log_epoch` is what `python -m minigrad.train
--logdir DIR` writes each epoch; `read_events` reads event files back (tests, notebooks).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

try:
    import tensorboardX
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboardX.proto.versions_pb2 import VersionDef
    from tensorboardX.record_writer import masked_crc32c
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError("minigrad.utils.tensorboard needs tensorboardX: "
                      "pip install 'minigrad[tensorboard]' (or pip install tensorboardX)") \
        from error

from ..engine import Function, Tensor, grad_mode
from ..viz import style
from ..viz.scopes import Naming, assign_scopes, walk

__all__ = ["SummaryWriter", "graph_def", "log_epoch", "read_events"]


def _numpy(value: Any) -> Any:
    """A Tensor's array (detached); anything else unchanged."""
    return value.data if isinstance(value, Tensor) else value


def _scalar(value: Any, where: str) -> float:
    array = np.asarray(_numpy(value))
    if array.size != 1:
        raise ValueError(f"{where}: scalar_value must hold one number, got shape {array.shape}")
    return float(array.reshape(()))


class SummaryWriter:
    """Writes TensorBoard event files to `log_dir` (default runs/<date>_<host><comment>).

    The methods and arguments are `torch.utils.tensorboard.SummaryWriter`'s; values may be
    minigrad Tensors, NumPy arrays or numbers.
    """

    def __init__(self, log_dir: str | Path | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if log_dir is not None and not isinstance(log_dir, (str, Path)):
            raise TypeError(f"SummaryWriter: log_dir must be a str or Path, "
                            f"got {type(log_dir).__name__}")
        self._writer = tensorboardX.SummaryWriter(
            logdir=None if log_dir is None else str(log_dir), comment=comment,
            purge_step=purge_step, max_queue=max_queue, flush_secs=flush_secs,
            filename_suffix=filename_suffix)
        self.log_dir = self._writer.logdir
        self._runs: dict[str, Any] = {}  # add_scalars' writers, by run directory

    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One number (a 0-d or one-element Tensor, a float) under `tag` at `global_step`."""
        self._writer.add_scalar(tag, _scalar(scalar_value, "add_scalar"), global_step,
                                walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Mapping[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Several numbers on one chart; each goes to its own run `log_dir/<main_tag>_<tag>`
        (PyTorch's layout), tagged `main_tag`."""
        if not isinstance(tag_scalar_dict, Mapping):
            raise TypeError(f"add_scalars: tag_scalar_dict must be a dict, "
                            f"got {type(tag_scalar_dict).__name__}")
        values = {tag: _scalar(value, "add_scalars") for tag, value in tag_scalar_dict.items()}
        for tag, value in values.items():
            # PyTorch's layout: one run per series, log_dir/<main_tag>_<tag>, each under
            # main_tag, so TensorBoard draws them on one chart
            run = f"{self.log_dir}/{main_tag.replace('/', '_')}_{tag}"
            writer = self._runs.get(run)
            if writer is None:
                writer = self._runs[run] = tensorboardX.SummaryWriter(logdir=run)
            writer.add_scalar(main_tag, value, global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """The distribution of `values` (a Tensor or array, any shape)."""
        array = np.asarray(_numpy(values), dtype=np.float64).ravel()
        if array.size == 0:
            raise ValueError(f"add_histogram: values for {tag!r} are empty")
        self._writer.add_histogram(tag, array, global_step, bins, walltime, max_bins)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """One image: (C, H, W) by default (`dataformats` "HWC", "HW" too); floats in [0, 1]
        or uint8 in [0, 255]."""
        array = np.asarray(_numpy(img_tensor))
        if array.ndim != len(dataformats):
            raise ValueError(f"add_image: dataformats {dataformats!r} needs a {len(dataformats)}-"
                             f"d image, got shape {array.shape}")
        self._writer.add_image(tag, array, global_step, walltime, dataformats)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        self._writer.add_text(tag, text_string, global_step, walltime)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Run `model(input_to_model)` once and write the recorded graph (TensorBoard's Graphs
        tab), ops grouped by module as "conv1/conv2d_3". `use_strict_trace` is accepted for
        PyTorch's signature; nothing is traced."""
        if input_to_model is None:
            raise ValueError("add_graph: input_to_model is needed to run the model once")
        inputs = input_to_model if isinstance(input_to_model, (tuple, list)) \
            else (input_to_model,)
        with grad_mode.enable_grad():
            output = model(*inputs)
        definition = graph_def(output, model, inputs)
        if verbose:
            print(definition)
        self._writer._get_file_writer().add_onnx_graph(definition)  # writes a GraphDef event

    def flush(self) -> None:
        self._writer.flush()
        for writer in self._runs.values():
            writer.flush()

    def close(self) -> None:
        self._writer.close()
        for writer in self._runs.values():
            writer.close()

    def __enter__(self) -> SummaryWriter:  # noqa: PYI034 - no typing_extensions needed
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ---- the graph ---------------------------------------------------------------------------
def _shape_attr(shape: tuple) -> AttrValue:
    dims = [TensorShapeProto.Dim(size=int(size)) for size in shape]
    return AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))


def graph_def(output: Any, model: Any, inputs: tuple = ()) -> GraphDef:
    """TensorBoard's GraphDef of the graph that made `output`: one node per op, named by
    its module path ("layer1/0/conv1/conv2d_4"), one per parameter ("conv1/weight") and input,
    with output shapes in `_output_shapes`."""
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    outputs = [tensor for tensor in outputs if isinstance(tensor, Tensor)]
    names = {("input" if len(inputs) == 1 else f"input_{index}"): tensor
             for index, tensor in enumerate(inputs) if isinstance(tensor, Tensor)}
    naming = Naming(model, names)
    functions = walk([tensor.grad_fn for tensor in outputs if tensor.grad_fn is not None], None)
    naming.adopt(function.modules[0] for function in functions
                 if getattr(function, "modules", None))
    scopes = assign_scopes(functions, naming)
    nodes: list[NodeDef] = []
    op_names: dict[int, str] = {}
    tensor_names: dict[int, str] = {}

    def tensor_node(key: int, name: str, op: str, shape: tuple) -> str:
        if key not in tensor_names:
            tensor_names[key] = name
            nodes.append(NodeDef(name=name, op=op, attr={"_output_shapes": _shape_attr(shape)}))
        return tensor_names[key]

    for number, function in enumerate(functions):
        scope = scopes[id(function)]
        prefix = scope.path.replace(".", "/") + "/" if scope is not None else ""
        op_names[id(function)] = f"{prefix}{type(function).__name__.lower()}_{number}"
    for function in functions:
        inputs_of: list[str] = []
        versions = getattr(function, "saved_versions", None) or ()
        constants = getattr(function, "constant_inputs", None) or ()
        for index, edge in enumerate(function.next_edges):
            if isinstance(edge, Function):
                inputs_of.append(op_names.get(id(edge), "cut"))
            elif isinstance(edge, Tensor):
                name = naming.tensors.get(id(edge), "tensor").replace(".", "/")
                kind = "Parameter" if naming.is_parameter(edge) else "IO Node"
                inputs_of.append(tensor_node(id(edge), name, kind, edge.shape))
            elif index < len(versions) and versions[index] is not None:
                counter = versions[index][0]
                named = naming.storages.get(id(counter))
                spec = constants[index] if index < len(constants) else None
                if named is not None:
                    name = named[0].replace(".", "/")
                    kind = "IO Node" if id(counter) in naming.user_storages else "Buffer"
                    inputs_of.append(tensor_node(id(counter), name, kind, named[1].shape))
                elif spec is not None and spec[2] is None:
                    inputs_of.append(tensor_node(id(counter), f"constant_{len(tensor_names)}",
                                                 "Constant", spec[0]))
        attributes = {"_output_shapes": _shape_attr(function.output_shape)}
        options = style.format_options(getattr(function, "options", None) or {})
        if options:
            attributes["attr"] = AttrValue(s=options.encode())
        nodes.append(NodeDef(name=op_names[id(function)], op=type(function).__name__,
                             input=inputs_of, attr=attributes))
    for index, tensor in enumerate(outputs):
        if tensor.grad_fn is not None and id(tensor.grad_fn) in op_names:
            name = "output" if len(outputs) == 1 else f"output_{index}"
            nodes.append(NodeDef(name=name, op="IO Node", input=[op_names[id(tensor.grad_fn)]],
                                 attr={"_output_shapes": _shape_attr(tensor.shape)}))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))


# ---- what the trainer logs ---------------------------------------------------------------
def log_epoch(writer: SummaryWriter, epoch: int, *, train_loss: float,
              train_accuracy: float, test_loss: float | None = None,
              test_accuracy: float | None = None, lr: float | None = None,
              model: Any = None) -> None:
    """One epoch of a training run at step `epoch`: Loss/train, Loss/test, Accuracy/train,
    Accuracy/test, LearningRate, and for each parameter with a gradient (the last batch's) a
    histogram of it under Gradients/<name> and its L2 norm under GradientNorm/<name>."""
    if not isinstance(writer, SummaryWriter):
        raise TypeError(f"log_epoch: writer must be a minigrad SummaryWriter, "
                        f"got {type(writer).__name__}")
    writer.add_scalar("Loss/train", train_loss, epoch)
    writer.add_scalar("Accuracy/train", train_accuracy, epoch)
    if test_loss is not None:
        writer.add_scalar("Loss/test", test_loss, epoch)
    if test_accuracy is not None:
        writer.add_scalar("Accuracy/test", test_accuracy, epoch)
    if lr is not None:
        writer.add_scalar("LearningRate", lr, epoch)
    if model is not None:
        for name, parameter in model.named_parameters():
            if parameter.grad is None:
                continue
            writer.add_histogram(f"Gradients/{name}", parameter.grad, epoch)
            writer.add_scalar(f"GradientNorm/{name}", style.grad_norm(parameter.grad.data),
                              epoch)
    writer.flush()


# ---- reading event files back --------------------------------------------------------------
def read_events(path: str | Path) -> Iterator[Event]:
    """The events in one event file, or in every event file under a directory (sorted by
    name), checking each record's CRCs."""
    path = Path(path)
    files = sorted(path.rglob("events.out.tfevents.*")) if path.is_dir() else [path]
    for file in files:
        data = file.read_bytes()
        position = 0
        while position < len(data):
            header = data[position:position + 8]
            (length,) = struct.unpack("Q", header)
            (header_crc,) = struct.unpack("I", data[position + 8:position + 12])
            body = data[position + 12:position + 12 + length]
            (body_crc,) = struct.unpack("I", data[position + 12 + length:position + 16 + length])
            if masked_crc32c(header) != header_crc or masked_crc32c(body) != body_crc:
                raise ValueError(f"read_events: {file} is damaged at byte {position}")
            event = Event()
            event.ParseFromString(body)
            yield event
            position += 16 + length
