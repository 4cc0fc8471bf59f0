"""Draw a model's graph from the shell.

    python -m minigrad.viz lenet5 --input-size 1,1,28,28 -o lenet.svg [--grads] [--collapse]
    python -m minigrad.viz resnet18 --input-size 1,3,32,32 -o resnet18.svg --collapse
    python -m minigrad.viz mypackage.nets:Net --input-size 8,3,32,32 -o net.pdf

MODEL is a built-in model by its lower-case class name (`lenet5`, `simplecnn`, anything in
`minigrad.models`) or `module:attr` for your own: a Module class, a Module instance, or a
function returning one. A class or function that takes `in_channels` or `input_size` gets them
from --input-size. The script runs one forward pass on random normal input in eval mode (so
BatchNorm uses its running statistics and a batch of 1 works; --train for training mode), with
--grads a cross-entropy backward on random labels, and writes the picture; the format comes
from the file's extension (svg, png, pdf; .gv or .dot writes the graphviz source) or from
--format; `--format onnx` (or a .onnx file) writes the model as ONNX instead of a picture
(needs the `onnx` extra: pip install 'minigrad[onnx]').
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import shutil
import sys
from pathlib import Path
from typing import Any

import minigrad as mg
from minigrad import cli_checks as checks
from minigrad import nn

from .grads import record_grads
from .graph import AUTO_COLLAPSE_NODES, draw_graph

FORMATS = ("svg", "png", "pdf", "gv", "dot", "onnx")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    output_path = Path(args.output or f"{args.model.split(':')[-1].lower()}."
                                      f"{args.format or 'svg'}")
    checks.check_output_path(parser, "--output", str(output_path),
                             None if args.format else FORMATS)
    file_format = args.format or output_path.suffix.lstrip(".").lower()
    if file_format not in ("gv", "dot", "onnx") and shutil.which("dot") is None:
        parser.error(f"writing {output_path} needs Graphviz's `dot` program on PATH "
                     f"(apt-get install graphviz), or write the source with -o NAME.gv")
    try:
        size = _input_size(args.input_size)
        model = _build_model(args.model, size)
    except Exception as error:  # noqa: BLE001 - the user's module may raise anything
        parser.error(f"{args.model}: {type(error).__name__}: {error}")
    try:
        return _draw(args, model, size, output_path, file_format)
    except (RuntimeError, ValueError, IndexError, TypeError) as error:
        first_line = str(error).splitlines()[0] if str(error) else ""
        parser.error(f"{args.model} on --input-size {args.input_size} failed: "
                     f"{type(error).__name__}: {first_line}")


def _draw(args: argparse.Namespace, model: Any, size: tuple[int, ...], output_path: Path,
          file_format: str) -> int:
    """Run the model once (and backward with --grads), draw it and write the picture."""
    model.train(args.train)
    mg.manual_seed(args.seed)
    inputs = mg.randn(*size)
    if file_format == "onnx":
        if args.grads:
            _parser().error("--grads draws gradients; it cannot be combined with --format onnx")
        return _write_onnx(_parser(), model, inputs, output_path)
    outputs, grads, names = _run(model, inputs, args.grads)  # errors: main's usage error

    graph = draw_graph(outputs, model, show_grads=args.grads, grads=grads,
                       collapse_modules=args.collapse, max_depth=args.max_depth,
                       cluster_modules=not args.no_clusters, names=names,
                       rankdir=args.rankdir)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    if file_format in ("gv", "dot"):
        output_path.write_text(graph.source)
    else:
        output_path.write_bytes(graph.pipe(format=file_format))
    nodes = sum(1 for line in graph.body
                if "[label=" in line and not line.lstrip().startswith("legend "))
    print(f"wrote {output_path} ({nodes} nodes, {type(model).__name__}, input {size})")
    return 0


def _run(model: nn.Module, inputs: mg.Tensor, with_grads: bool) -> tuple:
    """One forward (and with `with_grads` a cross-entropy backward on random labels):
    the outputs to draw, the recorded gradient norms and the names of inputs and labels."""
    names = {"input": inputs}
    if not with_grads:
        return {"output": model(inputs)}, None, names
    with record_grads() as grads:
        logits = model(inputs)
        if logits.ndim != 2:
            raise ValueError(f"--grads needs (batch, classes) logits, but the model returned "
                             f"shape {tuple(logits.shape)}")
        target = mg.randint(0, logits.shape[1], (logits.shape[0],))
        result = nn.functional.cross_entropy(logits, target)
        result.backward()
    names["target"] = target
    return {"loss": result}, grads, names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.viz",
        description="Draw a model's compute graph with graphviz.")
    parser.add_argument("model", help="built-in model name (lenet5, simplecnn, ...) or "
                                      "module:attr (a Module class, instance or factory)")
    parser.add_argument("--input-size", default="1,1,28,28",
                        help="input shape, comma separated (default 1,1,28,28)")
    parser.add_argument("-o", "--output", help="output file: .svg, .png, .pdf, .gv, .onnx "
                                               "(default <model>.svg)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format (default: from the file's extension); onnx "
                             "writes the model as an ONNX file")
    parser.add_argument("--grads", action="store_true",
                        help="backward a cross-entropy loss on random labels and colour nodes "
                             "by gradient norm")
    parser.add_argument("--collapse", nargs="?", type=checks.non_negative_int, const=1,
                        default=None, metavar="DEPTH",
                        help="draw each module at DEPTH below the model as one node (DEPTH "
                             "defaults to 1: the model's children; 0 expands everything). "
                             "Without the option, graphs of more than "
                             f"{AUTO_COLLAPSE_NODES} nodes are collapsed")
    parser.add_argument("--train", action="store_true",
                        help="run the model in training mode (default: eval mode)")
    parser.add_argument("--max-depth", type=checks.positive_int, default=None,
                        help="draw only ops this many ops away from the output")
    parser.add_argument("--no-clusters", action="store_true",
                        help="do not box each module's ops")
    parser.add_argument("--rankdir", default="TB", choices=("TB", "LR", "BT", "RL"),
                        help="layout direction (default TB: top to bottom)")
    parser.add_argument("--seed", type=checks.seed, default=0,
                        help="seed for input, labels and init")
    return parser


def _write_onnx(parser: argparse.ArgumentParser, model: Any, inputs: Any,
                output_path: Path) -> int:
    """Export the model (run on `inputs`) as ONNX instead of drawing it."""
    try:
        from .. import onnx as mg_onnx
    except ImportError as error:
        parser.error(str(error))
    try:
        proto = mg_onnx.export(model, inputs, str(output_path))
    except NotImplementedError as error:
        parser.error(str(error))
    print(f"wrote {output_path} ({len(proto.graph.node)} ONNX nodes, opset "
          f"{proto.opset_import[0].version}, {type(model).__name__}, input "
          f"{tuple(inputs.shape)}, batch axis dynamic)")
    return 0


def _input_size(text: str) -> tuple[int, ...]:
    try:
        size = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--input-size must be integers separated by commas, got {text!r}") \
            from None
    if not size or any(length <= 0 for length in size):
        raise ValueError(f"--input-size must be positive integers, got {text!r}")
    return size


def _build_model(spec: str, size: tuple[int, ...]) -> Any:
    """The Module that `spec` names, built for inputs of shape `size`."""
    target = _resolve(spec)
    if isinstance(target, nn.Module):
        return target
    if not callable(target):
        raise TypeError(f"{spec} is a {type(target).__name__}, not a Module class, instance "
                        f"or factory")
    model = target(**_size_arguments(target, size))
    if not isinstance(model, nn.Module):
        raise TypeError(f"{spec}() returned a {type(model).__name__}, not a Module")
    return model


def _resolve(spec: str) -> Any:
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        if str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        return target
    from .. import models

    known = {name.lower(): getattr(models, name) for name in dir(models)
             if inspect.isclass(getattr(models, name))
             and issubclass(getattr(models, name), nn.Module)}
    if spec.lower() not in known:
        raise ValueError(f"unknown model {spec!r}: built-in models are "
                         f"{', '.join(sorted(known))}; or give module:attr")
    return known[spec.lower()]


def _size_arguments(factory: Any, size: tuple[int, ...]) -> dict[str, int]:
    """in_channels and input_size from the input shape, for factories that take them."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    arguments = {}
    if "in_channels" in parameters and len(size) >= 2:
        arguments["in_channels"] = size[1]
    if "input_size" in parameters and len(size) >= 4 and size[-1] == size[-2]:
        arguments["input_size"] = size[-1]
    return arguments


if __name__ == "__main__":
    sys.exit(main())
