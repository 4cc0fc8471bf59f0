"""`draw_graph`: walk a recorded graph back from its outputs and draw it with graphviz.

What the engine records is enough: each op (a `Function`) keeps `next_edges` (the producing op,
the leaf tensor, or None per input), `options`, `modules` (the Modules whose forward was
running, outermost first), `output_shape`, `output_dtype` and, for each input that needs no
gradient, its shape, dtype and (0-d) value in `constant_inputs`. Intermediate tensors are not
kept, so an op node stands for the op and its output together.

How a reader sees it:
  - tensors a model or `names` knows are named (`conv1.weight`, `bn1.running_mean`); the
    model's unnamed inputs read `input`, a loss's `target`; a Python number is folded into its
    op's label (`mul other=2`);
  - a built-in layer that records several ops (BatchNorm's dozen) is one node in its box, its
    buffers drawn by name beside it;
  - a graph of more than AUTO_COLLAPSE_NODES nodes is drawn with the model's children
    collapsed, and says how to expand it;
  - gradient colours span the norms present, with a legend to match.

The walk is breadth-first with an explicit queue (no recursion), so graphs of tens of
thousands of ops are drawn in one pass; `max_depth` stops it that many ops from the outputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import graphviz

from ..engine import Tensor
from . import style
from .builder import Builder
from .grads import GradNorms
from .scopes import Naming, Scope, walk

__all__ = ["AUTO_COLLAPSE_NODES", "draw_graph"]

Outputs = Tensor | Sequence[Tensor] | Mapping[str, Tensor]

# past this many nodes a picture is unreadable on a screen: draw the model's children
AUTO_COLLAPSE_NODES = 300


def draw_graph(outputs: Outputs, model: Any = None, *, show_shapes: bool = True,
               show_grads: bool = False, cluster_modules: bool = True,
               collapse_modules: bool | int | None = None, max_depth: int | None = None,
               grads: GradNorms | None = None, names: Mapping[str, Tensor] | None = None,
               grad_range: tuple[float, float] | None = None, fuse_layers: bool = True,
               rankdir: str = "TB") -> graphviz.Digraph:
    """Draw the graph that produced `outputs` as a `graphviz.Digraph`.

    The result renders inline in Jupyter and saves with `.render(...)` or `.pipe(format=...)`.

    Args:
        outputs: a Tensor, a sequence of Tensors, or a mapping name -> Tensor.
        model: the Module that ran; names parameters (`conv1.weight`), buffers and modules
            (`conv1`). Without it modules are named by class.
        show_shapes: print each tensor's shape and dtype (ops: their output's shape).
        show_grads: colour parameters, inputs and activations by their gradient norm on a log
            scale and mark vanishing, exploding, NaN and inf gradients; adds a legend. Leaves
            use `.grad`; activations need `grads` from `record_grads()` (without it, only
            leaves are coloured, and a warning says how to record them). Vanishing means below
            1e-7 times the tensor's own norm for leaves; activation values are not kept, so
            for them 1e-7 is absolute. Exploding means above 1e3.
        cluster_modules: draw the ops of each Module call inside a box ("cluster_<name>")
            labelled "conv1 (Conv2d)"; nested modules nest.
        collapse_modules: draw each Module at this depth below `model` as one node (name,
            class, output shape, parameter count, coloured by its parameters' gradient norm),
            with the parameters and buffers only it uses. True means depth 1: the children of
            `model` (without `model`, the outermost modules that ran). A shallower module with
            no modules inside (a Linear head beside a Sequential body) collapses too; ops
            outside any module stay ops. None (the default): depth 1 when the expanded picture
            would have more than AUTO_COLLAPSE_NODES nodes, with a note saying so.
        max_depth: draw only ops at most this many ops away from the outputs.
        grads: activation-gradient norms from `with record_grads() as grads: loss.backward()`.
        names: extra tensors to label by name: inputs, targets, tensors made under no_grad.
        grad_range: the norms at the two ends of the colour scale; None fits it to the
            gradients drawn (whole decades from the smallest to the largest norm).
        fuse_layers: draw each call of a built-in layer (minigrad.nn, no child modules) that
            records several ops, like BatchNorm, as one node.
        rankdir: graphviz layout direction ("TB" top to bottom, "LR" left to right).

    A Module called twice (a shared ReLU) gets one box per call: ops of one module are split
    into calls by their connections inside the module.
    """
    named_outputs = _named_outputs(outputs)
    if max_depth is not None and (not isinstance(max_depth, int) or isinstance(max_depth, bool)
                                  or max_depth < 0):
        raise ValueError(f"draw_graph: max_depth must be a non-negative int or None, "
                         f"got {max_depth!r}")
    collapse_depth = _collapse_depth(collapse_modules)
    if model is not None and not hasattr(model, "named_modules"):
        raise TypeError(f"draw_graph: model must be a Module (with named_modules()), "
                        f"got {type(model).__name__}")
    if grads is not None and not isinstance(grads, GradNorms):
        raise TypeError(f"draw_graph: grads must come from minigrad.viz.record_grads(), "
                        f"got {type(grads).__name__}")
    if grad_range is not None:
        grad_range = _checked_range(grad_range)
    if show_grads and grads is None:
        warnings.warn("draw_graph: show_grads=True without grads colours parameters and inputs "
                      "from their .grad only; backward keeps no activation gradients. To colour "
                      "every op, record them: `with minigrad.viz.record_grads() as grads: "
                      "loss.backward()`, then draw_graph(..., grads=grads).", UserWarning,
                      stacklevel=2)

    roots = [tensor.grad_fn for _, tensor in named_outputs if tensor.grad_fn is not None]
    naming = Naming(model, names)
    builder = Builder(walk(roots, max_depth), naming, show_shapes=show_shapes,
                      show_grads=show_grads, grads=grads)
    builder.add_graph(named_outputs)
    if fuse_layers:
        builder.fuse_layers()
    note = None
    if collapse_depth is None:
        collapse_depth = 0
        if len(builder.nodes) > AUTO_COLLAPSE_NODES:
            expanded = len(builder.nodes)
            builder.collapse(1)
            if len(builder.nodes) < expanded:
                note = (f"{expanded} nodes: modules collapsed. Expand with "
                        f"draw_graph(..., collapse_modules=False) or --collapse 0 in "
                        f"python -m minigrad.viz")
    if collapse_depth:
        builder.collapse(collapse_depth)
    if grad_range is None:
        grad_range = style.fit_grad_range(builder.grad_norms())
    return _emit(builder, cluster_modules=cluster_modules, show_grads=show_grads,
                 activations=grads is not None, grad_range=grad_range, rankdir=rankdir,
                 note=note)


def _checked_range(grad_range: Any) -> tuple[float, float]:
    try:
        low, high = (float(bound) for bound in grad_range)
    except (TypeError, ValueError):
        raise TypeError(f"draw_graph: grad_range must be two numbers (low, high), "
                        f"got {grad_range!r}") from None
    if not 0 < low < high:
        raise ValueError(f"draw_graph: grad_range must satisfy 0 < low < high, "
                         f"got {grad_range!r}")
    return low, high


def _named_outputs(outputs: Outputs) -> list[tuple[str, Tensor]]:
    """(name, tensor) pairs: a mapping's keys, else "output" / "output 0", "output 1", ..."""
    if isinstance(outputs, Tensor):
        pairs = [("output", outputs)]
    elif isinstance(outputs, Mapping):
        pairs = [(str(name), tensor) for name, tensor in outputs.items()]
    elif isinstance(outputs, (list, tuple)):
        pairs = [(f"output {index}", tensor) for index, tensor in enumerate(outputs)]
        if len(pairs) == 1:
            pairs = [("output", outputs[0])]
    else:
        raise TypeError(f"draw_graph: outputs must be a Tensor, a sequence or a mapping of "
                        f"Tensors, got {type(outputs).__name__}")
    for name, tensor in pairs:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"draw_graph: output {name!r} is a {type(tensor).__name__}, "
                            f"not a Tensor")
    return pairs


def _collapse_depth(collapse_modules: bool | int | None) -> int | None:
    if collapse_modules is None:
        return None
    if isinstance(collapse_modules, bool):
        return 1 if collapse_modules else 0
    if isinstance(collapse_modules, int) and collapse_modules >= 0:
        return collapse_modules
    raise ValueError(f"draw_graph: collapse_modules must be a bool or a depth >= 0, "
                     f"got {collapse_modules!r}")


# ---- graphviz ------------------------------------------------------------------------------
# dot's layout, not the walk, is what takes time on big graphs: most of it goes to network
# simplex placing nodes left to right. Past LARGE_GRAPH nodes its iterations are capped (a
# fraction of the node count) and so are crossing-reduction passes: a slightly less tidy
# layout in a fraction of the time.
LARGE_GRAPH = 2000
LARGE_GRAPH_LAYOUT = {"nslimit": "0.1", "nslimit1": "0.1", "mclimit": "0.3"}


def _emit(builder: Builder, *, cluster_modules: bool, show_grads: bool, activations: bool,
          grad_range: tuple[float, float], rankdir: str, note: str | None) -> graphviz.Digraph:
    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11",
                  "nodesep": "0.3", "ranksep": "0.35"}
    if note:
        graph_attr.update({"label": note, "labelloc": "t", "labeljust": "l"})
    if len(builder.nodes) > LARGE_GRAPH:
        graph_attr.update(LARGE_GRAPH_LAYOUT)
    graph = graphviz.Digraph(
        name="minigrad",
        graph_attr=graph_attr,
        # margin is the space between a label and its border, in inches (x, y)
        node_attr={"fontname": "Helvetica", "fontsize": "10", "margin": "0.16,0.07",
                   "height": "0.3"},
        edge_attr={"arrowsize": "0.6", "color": "#555555"},
    )
    clusters: dict[int, graphviz.Digraph] = {}
    scopes: dict[int, Scope] = {}

    def container(scope: Scope | None) -> graphviz.Digraph:
        if scope is None or not cluster_modules:
            return graph
        for each in scope.ancestors():
            if id(each) not in clusters:
                scopes[id(each)] = each
                clusters[id(each)] = graphviz.Digraph(
                    name=f"cluster_{each.path}",
                    graph_attr={"label": graphviz.escape(each.label), "labeljust": "l",
                                "style": "rounded", "color": "#999999", "fontsize": "10",
                                "margin": "10"})
        return clusters[id(scope)]

    for node in builder.nodes.values():
        coloured = show_grads and (activations or node.kind != "op")
        attributes = style.node_style(node.kind, node.info, coloured, grad_range)
        label = "\\n".join(line.replace("\\", "\\\\") for line in node.lines)
        container(node.scope).node(node.key, label=graphviz.nohtml(label), **attributes)
    for scope in sorted(scopes.values(), key=lambda each: each.depth, reverse=True):
        parent = container(scope.parent) if scope.parent is not None else graph
        parent.subgraph(clusters[id(scope)])
    for source, target in builder.edges:
        graph.edge(source, target, **builder.edge_styles.get((source, target), {}))
    if show_grads:
        with graph.subgraph(name="cluster_legend") as legend:
            legend.attr(label="legend", style="rounded", color="#999999", fontsize="10")
            legend.node("legend", label=style.legend_label(grad_range, activations),
                        shape="plaintext")
    return graph
