"""Draw a model's graph from the shell.

    python -m minigrad.viz lenet5 --input-size 1,1,28,28 -o lenet.svg [--grads] [--collapse]
    python -m minigrad.viz mypackage.nets:Net --input-size 8,3,32,32 -o net.pdf

MODEL is a built-in model by its lower-case class name (`lenet5`, `simplecnn`, anything in
`minigrad.models`) or `module:attr` for your own: a Module class, a Module instance, or a
function returning one. A class or function that takes `in_channels` or `input_size` gets them
from --input-size. The script runs one forward pass on random normal input (and with --grads a
cross-entropy backward on random labels) and writes the picture; the format comes from the
file's extension (svg, png, pdf; .gv or .dot writes the graphviz source) or from --format;
`--format onnx` (or a .onnx file) writes the model as ONNX instead of a picture (needs the
`onnx` extra: pip install 'minigrad[onnx]').
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

import minigrad as mg
from minigrad import nn

from .grads import record_grads
from .graph import draw_graph

FORMATS = ("svg", "png", "pdf", "gv", "dot", "onnx")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        size = _input_size(args.input_size)
        model = _build_model(args.model, size)
    except (ValueError, TypeError, ImportError, AttributeError) as error:
        parser.error(f"{type(error).__name__}: {error}")
    output_path = Path(args.output or f"{args.model.split(':')[-1].lower()}."
                                      f"{args.format or 'svg'}")
    file_format = args.format or output_path.suffix.lstrip(".").lower()
    if file_format not in FORMATS:
        parser.error(f"cannot tell the format of {output_path}: use one of "
                     f"{', '.join('.' + name for name in FORMATS)} or --format")

    mg.manual_seed(args.seed)
    inputs = mg.randn(*size)
    if file_format == "onnx":
        if args.grads:
            parser.error("--grads draws gradients; it cannot be combined with --format onnx")
        return _write_onnx(parser, model, inputs, output_path)
    names = {"input": inputs}
    if args.grads:
        with record_grads() as grads:
            logits = model(inputs)
            if logits.ndim != 2:
                parser.error(f"--grads needs (batch, classes) logits, but the model returned "
                             f"shape {tuple(logits.shape)}")
            target = mg.randint(0, logits.shape[1], (logits.shape[0],))
            result = nn.functional.cross_entropy(logits, target)
            result.backward()
        names["target"] = target
        outputs: Any = {"loss": result}
    else:
        grads = None
        outputs = {"output": model(inputs)}

    graph = draw_graph(outputs, model, show_grads=args.grads, grads=grads,
                       collapse_modules=args.collapse, max_depth=args.max_depth,
                       cluster_modules=not args.no_clusters, names=names,
                       rankdir=args.rankdir)
    if file_format in ("gv", "dot"):
        output_path.write_text(graph.source)
    else:
        output_path.write_bytes(graph.pipe(format=file_format))
    nodes = sum(1 for line in graph.body
                if "[label=" in line and not line.lstrip().startswith("legend "))
    print(f"wrote {output_path} ({nodes} nodes, {type(model).__name__}, input {size})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.viz",
        description="Draw a model's compute graph with graphviz.")
    parser.add_argument("model", help="built-in model name (lenet5, simplecnn, ...) or "
                                      "module:attr (a Module class, instance or factory)")
    parser.add_argument("--input-size", default="1,1,28,28",
                        help="input shape, comma separated (default 1,1,28,28)")
    parser.add_argument("-o", "--output", help="output file: .svg, .png, .pdf, .gv "
                                               "(default <model>.svg)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format (default: from the file's extension); onnx "
                             "writes the model as an ONNX file")
    parser.add_argument("--grads", action="store_true",
                        help="backward a cross-entropy loss on random labels and colour nodes "
                             "by gradient norm")
    parser.add_argument("--collapse", nargs="?", type=int, const=1, default=0, metavar="DEPTH",
                        help="draw each module at DEPTH below the model as one node "
                             "(default depth 1: the model's children)")
    parser.add_argument("--max-depth", type=int, default=None,
                        help="draw only ops this many ops away from the output")
    parser.add_argument("--no-clusters", action="store_true",
                        help="do not box each module's ops")
    parser.add_argument("--rankdir", default="TB", choices=("TB", "LR", "BT", "RL"),
                        help="layout direction (default TB: top to bottom)")
    parser.add_argument("--seed", type=int, default=0, help="seed for input, labels and init")
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
