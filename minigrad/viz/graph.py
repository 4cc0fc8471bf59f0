"""`draw_graph`: walk a recorded graph back from its outputs and draw it with graphviz.

What the engine records is enough: each op (a `Function`) keeps `next_edges` (the producing op,
the leaf tensor, or None per input), `options`, `modules` (the Modules whose forward was
running, outermost first), `output_shape` and `output_dtype`. Intermediate tensors are not
kept, so an op node stands for the op and its output together; leaves, constants and outputs
get tensor nodes of their own. Edges point the way data flows: input -> op -> output.

An input that needs no gradient (made under no_grad, an integer target, a frozen weight) is
None in `next_edges`; `saved_versions` still tells such a tensor from an absent one
(bias=None), and its version counter, shared with the tensor, identifies it. So constants are
drawn, one node per tensor, named (with shape) when `model` or `names` knows the tensor.

The walk is breadth-first with an explicit queue (no recursion), so graphs of tens of
thousands of ops are drawn in one pass; `max_depth` stops it that many ops from the outputs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from ..engine import Function, Tensor
from . import style
from .grads import GradNorms
from .style import DEFAULT_GRAD_RANGE, GradInfo

__all__ = ["draw_graph"]

Outputs = Tensor | Sequence[Tensor] | Mapping[str, Tensor]


def draw_graph(outputs: Outputs, model: Any = None, *, show_shapes: bool = True,
               show_grads: bool = False, cluster_modules: bool = True,
               collapse_modules: bool | int = False, max_depth: int | None = None,
               grads: GradNorms | None = None, names: Mapping[str, Tensor] | None = None,
               grad_range: tuple[float, float] = DEFAULT_GRAD_RANGE,
               rankdir: str = "TB") -> graphviz.Digraph:
    """Draw the graph that produced `outputs` as a `graphviz.Digraph`.

    The result renders inline in Jupyter and saves with `.render(...)` or `.pipe(format=...)`.

    Args:
        outputs: a Tensor, a sequence of Tensors, or a mapping name -> Tensor.
        model: the Module that ran; names parameters (`conv1.weight`), buffers and modules
            (`conv1`). Without it modules are named by class.
        show_shapes: print each tensor's shape and dtype (ops: their output's shape).
        show_grads: colour parameters, inputs and activations by their gradient norm on a log
            scale over `grad_range` and mark vanishing, exploding, NaN and inf gradients; adds a
            legend. Leaves use `.grad`; activations need `grads` from `record_grads()`.
            Vanishing means below 1e-7 times the tensor's own norm for leaves; activation
            values are not kept, so for them 1e-7 is absolute. Exploding means above 1e3.
        cluster_modules: draw the ops of each Module call inside a box ("cluster_<name>")
            labelled "conv1 (Conv2d)"; nested modules nest.
        collapse_modules: draw each Module at this depth below `model` as one node (name,
            class, output shape, parameter count), with the parameters only it uses. True
            means depth 1: the children of `model` (without `model`, the outermost modules
            that ran). A shallower module with no modules inside (a Linear head beside a
            Sequential body) collapses too; ops outside any module stay ops.
        max_depth: draw only ops at most this many ops away from the outputs.
        grads: activation-gradient norms from `with record_grads() as grads: loss.backward()`.
        names: extra tensors to label by name: inputs, targets, tensors made under no_grad.
        grad_range: the norms at the two ends of the colour scale.
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

    roots = [tensor.grad_fn for _, tensor in named_outputs if tensor.grad_fn is not None]
    naming = _Naming(model, names)
    builder = _Builder(_walk(roots, max_depth), naming, show_shapes=show_shapes, show_grads=show_grads,
                       grads=grads, grad_range=grad_range)
    builder.add_graph(named_outputs)
    if collapse_depth:
        builder.collapse(collapse_depth)
    return _emit(builder, cluster_modules=cluster_modules, show_grads=show_grads,
                 grad_range=grad_range, rankdir=rankdir)


# ---- the walk ------------------------------------------------------------------------------
def _walk(roots: list[Function], max_depth: int | None) -> list[Function]:
    """The ops to draw, breadth-first from the outputs' ops (at depth 1), returned inputs
    first. Ops past `max_depth` are left out; the builder draws a placeholder for each one
    that a drawn op reads."""
    depth: dict[int, int] = {}
    order: list[Function] = []
    queue: deque[Function] = deque()
    if max_depth is None or max_depth >= 1:
        for root in roots:
            if id(root) not in depth:
                depth[id(root)] = 1
                queue.append(root)
    while queue:
        function = queue.popleft()
        order.append(function)
        level = depth[id(function)]
        if max_depth is not None and level >= max_depth:
            continue
        for edge in function.next_edges:
            if isinstance(edge, Function) and id(edge) not in depth:
                depth[id(edge)] = level + 1
                queue.append(edge)
    order.reverse()  # roughly inputs first, which dot lays out top to bottom
    return order


# ---- names ---------------------------------------------------------------------------------
class _Naming:
    """Names for tensors and modules, from `model` and the user's `names`."""

    def __init__(self, model: Any, names: Mapping[str, Tensor] | None) -> None:
        self.model = model
        self.tensors: dict[int, str] = {}        # id(tensor) -> name
        self.parameters: set[int] = set()
        self.storages: dict[int, tuple[str, Tensor]] = {}  # id(version counter) -> (name, tensor)
        self.user_storages: set[int] = set()    # version counters of the user's `names`
        self.modules: dict[int, str] = {}        # id(module) -> dotted name
        self.adopted: set[int] = set()
        for name, tensor in (names or {}).items():  # the user's names win
            if not isinstance(tensor, Tensor):
                raise TypeError(f"draw_graph: names[{name!r}] must be a Tensor, "
                                f"got {type(tensor).__name__}")
            self._add_tensor(str(name), tensor)
            self.user_storages.add(id(tensor._version))
        if model is not None:
            for name, module in model.named_modules():
                self.modules.setdefault(id(module), name)
            self.adopt([model])

    def adopt(self, roots: Iterable[Any]) -> None:
        """Name the parameters and buffers of modules that ran (relative to each), unless
        `model` or the user named them already: without `model` a parameter still reads
        "body.0.weight", and so does one of a loss module called outside `model`."""
        for root in roots:
            if id(root) in self.adopted:
                continue
            self.adopted.add(id(root))
            named_parameters = getattr(root, "named_parameters", None)
            for name, parameter in (named_parameters() if named_parameters else ()):
                self._add_tensor(name, parameter)
                self.parameters.add(id(parameter))
            named_buffers = getattr(root, "named_buffers", None)
            for name, buffer in (named_buffers() if named_buffers else ()):
                if isinstance(buffer, Tensor):
                    self._add_tensor(name, buffer)

    def _add_tensor(self, name: str, tensor: Tensor) -> None:
        self.tensors.setdefault(id(tensor), name)
        self.storages.setdefault(id(tensor._version), (name, tensor))

    def is_parameter(self, tensor: Tensor) -> bool:
        return id(tensor) in self.parameters or type(tensor).__name__ == "Parameter"


# ---- module scopes -------------------------------------------------------------------------
@dataclass(eq=False)
class _Scope:
    """One call of one Module: a cluster box, or one node when collapsed."""

    parent: _Scope | None
    module: Any
    path: str      # "conv1", "features.0", "relu@2" for a module's second call
    label: str     # "conv1 (Conv2d)"
    depth: int     # 1 for the children of `model`

    def ancestors(self) -> list[_Scope]:
        """This scope and its parents, innermost first."""
        chain: list[_Scope] = []
        scope: _Scope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        return chain

    def at_depth(self, depth: int) -> _Scope | None:
        for scope in self.ancestors():
            if scope.depth == depth:
                return scope
        return None


def _module_chain(function: Function, model: Any) -> tuple:
    """The modules running when `function` was recorded, below `model`, outermost first."""
    chain = tuple(getattr(function, "modules", ()) or ())
    if model is not None:
        for index in range(len(chain) - 1, -1, -1):
            if chain[index] is model:
                return chain[index + 1:]
    return chain


def _assign_scopes(functions: list[Function], naming: _Naming) -> dict[int, _Scope | None]:
    """The innermost scope of each op, with a Module's separate calls told apart.

    Two ops belong to the same call of a module when they are connected through ops that all
    ran inside that module; a shared module called twice forms two unconnected groups.
    """
    chains = {id(function): _module_chain(function, naming.model) for function in functions}
    deepest = max((len(chain) for chain in chains.values()), default=0)
    unions: list[dict[int, int]] = [{} for _ in range(deepest + 1)]
    for consumer in functions:
        consumer_chain = chains[id(consumer)]
        for producer in consumer.next_edges:
            producer_chain = chains.get(id(producer)) if isinstance(producer, Function) else None
            if not producer_chain or not consumer_chain:
                continue
            shared = 0
            for outer, inner in zip(producer_chain, consumer_chain):
                if outer is not inner:
                    break
                shared += 1
            for level in range(1, shared + 1):
                _union(unions[level], id(producer), id(consumer))

    scopes: dict[tuple, _Scope] = {}
    calls: dict[tuple, int] = {}
    paths = _ModulePaths(naming)
    result: dict[int, _Scope | None] = {}
    for function in functions:
        chain = chains[id(function)]
        scope: _Scope | None = None
        for level in range(1, len(chain) + 1):
            group = tuple(id(module) for module in chain[:level])
            key = (group, _find(unions[level], id(function)))
            found = scopes.get(key)
            if found is None:
                call = calls[group] = calls.get(group, 0) + 1
                path, label = paths.name(chain[:level])
                if call > 1:
                    path, label = f"{path}@{call}", f"{label} #{call}"
                found = scopes[key] = _Scope(scope, chain[level - 1], path, label, level)
            scope = found
        result[id(function)] = scope
    return result


class _ModulePaths:
    """Cluster paths and labels: model names ("conv1 (Conv2d)") or class names ("Conv2d")."""

    def __init__(self, naming: _Naming) -> None:
        self.naming = naming
        self.unnamed: dict[tuple, str] = {}
        self.taken: set[str] = set()

    def name(self, chain: tuple) -> tuple[str, str]:
        module = chain[-1]
        class_name = type(module).__name__
        name = self.naming.modules.get(id(module))
        if name:
            return name, f"{name} ({class_name})"
        key = tuple(id(each) for each in chain)
        path = self.unnamed.get(key)
        if path is None:
            parent = self.name(chain[:-1])[0] + "." if len(chain) > 1 else ""
            path = base = parent + class_name
            copy = 1
            while path in self.taken:
                copy += 1
                path = f"{base}_{copy}"
            self.taken.add(path)
            self.unnamed[key] = path
        return path, class_name


def _find(parents: dict[int, int], item: int) -> int:
    root = item
    while parents.get(root, root) != root:
        root = parents[root]
    while parents.get(item, item) != root:  # path compression
        parents[item], item = root, parents[item]
    return root


def _union(parents: dict[int, int], first: int, second: int) -> None:
    first_root, second_root = _find(parents, first), _find(parents, second)
    if first_root != second_root:
        parents[second_root] = first_root


def _common_scope(scopes: Iterable[_Scope | None]) -> _Scope | None:
    """The innermost scope that contains all of `scopes` (None: the top level)."""
    common: list[_Scope] | None = None
    for scope in scopes:
        if scope is None:
            return None
        chain = scope.ancestors()
        if common is None:
            common = chain
            continue
        members = {id(each) for each in chain}
        common = [each for each in common if id(each) in members]
        if not common:
            return None
    return common[0] if common else None


# ---- the picture ---------------------------------------------------------------------------
@dataclass(eq=False)
class _Node:
    key: str
    kind: str               # op | param | input | constant | output | cut | module
    lines: list[str]
    scope: _Scope | None = None
    info: GradInfo | None = None
    function: Function | None = None
    numel: int = 0          # elements of a parameter or constant (absorbed into a module node)
    top_level: bool = False  # keep outside module boxes (the user's named inputs)


@dataclass
class _Builder:
    """Turns a walk into nodes and edges; `collapse` then folds module calls into nodes."""

    functions: list[Function]
    naming: _Naming
    show_shapes: bool
    show_grads: bool
    grads: GradNorms | None
    grad_range: tuple[float, float]
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    op_keys: dict[int, str] = field(default_factory=dict)
    tensor_keys: dict[Any, str] = field(default_factory=dict)
    consumers: dict[str, list[str]] = field(default_factory=dict)

    def add_graph(self, named_outputs: list[tuple[str, Tensor]]) -> None:
        functions = self.functions
        self.naming.adopt(function.modules[0] for function in functions
                          if getattr(function, "modules", None))
        scopes = _assign_scopes(functions, self.naming)
        for index, function in enumerate(functions):
            self.op_keys[id(function)] = f"op{index}"
        for function in functions:
            key = self.op_keys[id(function)]
            self._add_inputs(function, key)
            self._add(_Node(key, "op", self._op_lines(function), scopes[id(function)],
                            self._activation_info(function), function))
        for index, (name, tensor) in enumerate(named_outputs):
            key = f"out{index}"
            if tensor.grad_fn is not None:
                info = self._activation_info(tensor.grad_fn)
                source = self.op_keys.get(id(tensor.grad_fn)) or self._cut_key(tensor.grad_fn)
                self._edge(source, key)
            else:
                info = self._leaf_info(tensor)
            lines = style.tensor_lines(name, tensor.shape, tensor.dtype, self.show_shapes)
            self._add(_Node(key, "output", lines + self._grad_lines(info), None, info))
        for node in self.nodes.values():
            if node.kind in ("param", "constant", "cut") and not node.top_level:
                node.scope = _common_scope(
                    self.nodes[consumer].scope for consumer in self.consumers[node.key])

    # ---- nodes ---------------------------------------------------------------------------
    def _add(self, node: _Node) -> None:
        self.nodes[node.key] = node

    def _edge(self, source: str, target: str) -> None:
        self.edges.append((source, target))
        self.consumers.setdefault(source, []).append(target)

    def _add_inputs(self, function: Function, key: str) -> None:
        versions = getattr(function, "saved_versions", None)
        for index, edge in enumerate(function.next_edges):
            if isinstance(edge, Function):
                source = self.op_keys.get(id(edge)) or self._cut_key(edge)
            elif isinstance(edge, Tensor):
                source = self._leaf_key(edge)
            elif versions is not None and index < len(versions) and versions[index] is not None:
                source = self._constant_key(versions[index][0])
            else:
                continue  # an absent optional input (bias=None)
            self._edge(source, key)

    def _leaf_key(self, tensor: Tensor) -> str:
        key = self.tensor_keys.get(id(tensor))
        if key is not None:
            return key
        key = self.tensor_keys[id(tensor)] = f"leaf{len(self.tensor_keys)}"
        name = self.naming.tensors.get(id(tensor), "tensor")
        kind = "param" if self.naming.is_parameter(tensor) else "input"
        info = self._leaf_info(tensor)
        lines = style.tensor_lines(name, tensor.shape, tensor.dtype, self.show_shapes)
        self._add(_Node(key, kind, lines + self._grad_lines(info), None, info,
                        numel=tensor.data.size))
        return key

    def _constant_key(self, counter: list) -> str:
        """A tensor that needs no gradient (made under no_grad, a target, a buffer), known only
        by its version counter, which it shares with its detached views."""
        lookup = ("constant", id(counter))
        key = self.tensor_keys.get(lookup)
        if key is not None:
            return key
        key = self.tensor_keys[lookup] = f"const{len(self.tensor_keys)}"
        named = self.naming.storages.get(id(counter))
        if named is None:
            lines, numel = ["constant"], 0
        else:
            name, tensor = named
            lines = style.tensor_lines(name, tensor.shape, tensor.dtype, self.show_shapes)
            numel = tensor.data.size
        # only a module's own buffers and frozen parameters go inside its box: the user's
        # inputs and targets stay outside, like inputs that need a gradient
        top_level = named is None or id(counter) in self.naming.user_storages
        self._add(_Node(key, "constant", lines, numel=numel, top_level=top_level))
        return key

    def _cut_key(self, function: Function) -> str:
        """A placeholder for an op beyond `max_depth` and everything behind it."""
        lookup = ("cut", id(function))
        key = self.tensor_keys.get(lookup)
        if key is None:
            key = self.tensor_keys[lookup] = f"cut{len(self.tensor_keys)}"
            title = style.wrap(style.op_title(function))[0]
            self._add(_Node(key, "cut", [f"… {title}"]))
        return key

    def _op_lines(self, function: Function) -> list[str]:
        lines = style.wrap(style.op_title(function))
        if self.show_shapes and hasattr(function, "output_shape"):
            shape = style.format_shape(function.output_shape)
            dtype = np.dtype(function.output_dtype)
            lines.append(shape if dtype == np.float32 else f"{shape} {dtype}")
        return lines + self._grad_lines(self._activation_info(function))

    def _grad_lines(self, info: GradInfo | None) -> list[str]:
        return style.grad_lines(info) if self.show_grads else []

    def _activation_info(self, function: Function) -> GradInfo | None:
        if not self.show_grads or self.grads is None:
            return None
        norm = self.grads.get(function)
        return None if norm is None else style.grad_info(norm)

    def _leaf_info(self, tensor: Tensor) -> GradInfo | None:
        if not self.show_grads or tensor.grad is None:
            return None
        return style.grad_info(style.grad_norm(tensor.grad.data), style.grad_norm(tensor.data))

    # ---- collapsing ----------------------------------------------------------------------
    def collapse(self, depth: int) -> None:
        """Fold each module call at `depth` into one node, with the parameters it alone uses."""
        units: dict[int, _Node] = {}
        unit_of: dict[str, _Node] = {}
        divided = {id(outer) for node in self.nodes.values()
                   if node.kind == "op" and node.scope is not None
                   for outer in node.scope.ancestors()[1:]}
        for node in list(self.nodes.values()):
            if node.kind != "op" or node.scope is None:
                continue
            unit = node.scope.at_depth(depth)
            if unit is None and id(node.scope) not in divided:
                unit = node.scope  # a layer shallower than `depth` with no modules inside
            if unit is None:
                continue
            module_node = units.get(id(unit))
            if module_node is None:
                module_node = units[id(unit)] = _Node(f"mod{len(units)}", "module", [],
                                                      unit.parent)
                module_node.lines = [unit.label]
            unit_of[node.key] = module_node
        absorbed_problems: dict[int, list[_Node]] = {}
        for node in list(self.nodes.values()):
            if node.kind not in ("param", "constant") or node.top_level:
                continue
            owners = {id(unit_of.get(consumer)) for consumer in self.consumers[node.key]}
            owner = unit_of.get(self.consumers[node.key][0])
            if owner is not None and owners == {id(owner)}:
                unit_of[node.key] = owner
                if node.kind == "param":
                    owner.numel += node.numel
                if node.info is not None and node.info.status != "ok":
                    absorbed_problems.setdefault(id(owner), []).append(node)
        self._fill_module_nodes(units, unit_of, absorbed_problems)
        edges: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        consumers: dict[str, list[str]] = {}
        for source, target in self.edges:
            source = unit_of[source].key if source in unit_of else source
            target = unit_of[target].key if target in unit_of else target
            if source == target or (source, target) in seen:
                continue
            seen.add((source, target))
            edges.append((source, target))
            consumers.setdefault(source, []).append(target)
        nodes = {key: node for key, node in self.nodes.items() if key not in unit_of}
        for node in units.values():
            nodes[node.key] = node
        self.nodes, self.edges, self.consumers = nodes, edges, consumers

    def _fill_module_nodes(self, units: dict[int, _Node], unit_of: dict[str, _Node],
                           problems: dict[int, list[_Node]]) -> None:
        """Each module node shows its output shape(s) and is coloured by its output's gradient
        (the ops whose results leave the module, or are outputs, are its outputs), unless a
        parameter folded into it has a bad gradient: then that is named and sets the colour."""
        exits: dict[int, list[Function]] = {id(node): [] for node in units.values()}
        last_op: dict[int, Function] = {}
        for source, target in self.edges:
            unit = unit_of.get(source)
            if unit is None or not source.startswith("op"):
                continue
            function = self.nodes[source].function
            last_op[id(unit)] = function
            if unit_of.get(target) is not unit and function not in exits[id(unit)]:
                exits[id(unit)].append(function)
        for unit in units.values():
            outputs = exits[id(unit)]
            if not outputs and id(unit) in last_op:
                outputs = [last_op[id(unit)]]
            lines = [unit.lines[0]]
            if self.show_shapes and outputs:
                lines.append(", ".join(style.format_shape(function.output_shape)
                                       for function in outputs))
            if unit.numel:
                lines.append(f"{unit.numel:,} params")
            if self.show_grads:
                unit.info = self._activation_info(outputs[0]) if outputs else None
                lines.extend(style.grad_lines(unit.info))
                bad = problems.get(id(unit), [])
                lines.extend(f"{node.lines[0]}: {node.info.status}" for node in bad)
                if bad:
                    unit.info = max((node.info for node in bad), key=_severity)
            unit.lines = lines


def _severity(info: GradInfo) -> int:
    return ("ok", "vanishing", "exploding", "inf", "NaN").index(info.status)


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


def _collapse_depth(collapse_modules: bool | int) -> int:
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


def _emit(builder: _Builder, *, cluster_modules: bool, show_grads: bool,
          grad_range: tuple[float, float], rankdir: str) -> graphviz.Digraph:
    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"}
    if len(builder.nodes) > LARGE_GRAPH:
        graph_attr.update(LARGE_GRAPH_LAYOUT)
    graph = graphviz.Digraph(
        name="minigrad",
        graph_attr=graph_attr,
        node_attr={"fontname": "Helvetica", "fontsize": "10", "margin": "0.08,0.04",
                   "height": "0.3"},
        edge_attr={"arrowsize": "0.6", "color": "#555555"},
    )
    clusters: dict[int, graphviz.Digraph] = {}
    scopes: dict[int, _Scope] = {}

    def container(scope: _Scope | None) -> graphviz.Digraph:
        if scope is None or not cluster_modules:
            return graph
        for each in scope.ancestors():
            if id(each) not in clusters:
                scopes[id(each)] = each
                clusters[id(each)] = graphviz.Digraph(
                    name=f"cluster_{each.path}",
                    graph_attr={"label": graphviz.escape(each.label), "labeljust": "l",
                                "style": "rounded", "color": "#999999", "fontsize": "10"})
        return clusters[id(scope)]

    for node in builder.nodes.values():
        attributes = style.node_style(node.kind, node.info, show_grads, grad_range)
        label = "\\n".join(line.replace("\\", "\\\\") for line in node.lines)
        container(node.scope).node(node.key, label=graphviz.nohtml(label), **attributes)
    for scope in sorted(scopes.values(), key=lambda each: each.depth, reverse=True):
        parent = container(scope.parent) if scope.parent is not None else graph
        parent.subgraph(clusters[id(scope)])
    for source, target in builder.edges:
        graph.edge(source, target)
    if show_grads:
        with graph.subgraph(name="cluster_legend") as legend:
            legend.attr(label="legend", style="rounded", color="#999999", fontsize="10")
            legend.node("legend", label=style.legend_label(grad_range), shape="plaintext")
    return graph
