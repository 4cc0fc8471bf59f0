"""`Builder`: turns the walked ops into picture nodes and edges, then folds layers and modules.

An op node stands for the op and its output together; leaves, constants and outputs get tensor
nodes of their own. Edges point the way data flows: input -> op -> output.

Tensors nobody named get a role instead of "constant": what the model reads is `input`, what a
loss compares against is `target`, a 0-d number is folded into its op's label. `fuse_layers`
draws a built-in layer's several ops as one node; `collapse` draws a whole module as one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Function, Tensor
from . import style
from .grads import GradNorms
from .scopes import Naming, Scope, assign_scopes, common_scope
from .style import GradInfo

__all__ = ["Builder", "Node", "is_builtin_layer"]

# which argument a folded 0-d number was, by position: PyTorch's names for binary ops
_ARGUMENT_NAMES = ("input", "other")


# ---- the picture ---------------------------------------------------------------------------
@dataclass(eq=False)
class Node:
    key: str
    kind: str               # op | param | input | constant | output | cut | module
    lines: list[str]
    scope: Scope | None = None
    info: GradInfo | None = None
    function: Function | None = None
    numel: int = 0          # elements of a parameter or constant (absorbed into a module node)
    top_level: bool = False  # keep outside module boxes (inputs and targets)
    tensor: Tensor | None = None        # a leaf's or named constant's tensor, when known
    spec: tuple | None = None           # (shape, dtype) of an unnamed tensor
    uses: list[tuple[Function, int]] = field(default_factory=list)  # unnamed: (op, position)


@dataclass
class Builder:
    """Turns a walk into nodes and edges; `fuse_layers` and `collapse` then fold them."""

    functions: list[Function]
    naming: Naming
    show_shapes: bool
    show_grads: bool
    grads: GradNorms | None
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    edge_styles: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    op_keys: dict[int, str] = field(default_factory=dict)
    tensor_keys: dict[Any, str] = field(default_factory=dict)
    consumers: dict[str, list[str]] = field(default_factory=dict)
    roots: set[int] = field(default_factory=set)

    def add_graph(self, named_outputs: list[tuple[str, Tensor]]) -> None:
        functions = self.functions
        self.naming.adopt(function.modules[0] for function in functions
                          if getattr(function, "modules", None))
        scopes = assign_scopes(functions, self.naming)
        self.roots = {id(tensor.grad_fn) for _, tensor in named_outputs}
        for index, function in enumerate(functions):
            self.op_keys[id(function)] = f"op{index}"
        for function in functions:
            key = self.op_keys[id(function)]
            folded = self._add_inputs(function, key)
            self._add(Node(key, "op", self._op_lines(function, folded), scopes[id(function)],
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
            self._add(Node(key, "output", lines + self._grad_lines(info), None, info))
        self._name_unnamed()
        for node in self.nodes.values():
            if node.kind in ("param", "constant", "cut") and not node.top_level:
                node.scope = common_scope(
                    self.nodes[consumer].scope for consumer in self.consumers[node.key])

    def grad_norms(self) -> list[float]:
        """The norms drawn on the colour scale (for fitting it): those not marked vanishing,
        exploding, NaN or inf, which have colours of their own."""
        return [node.info.norm for node in self.nodes.values()
                if node.info is not None and node.info.status == "ok" and node.info.norm > 0]

    # ---- nodes ---------------------------------------------------------------------------
    def _add(self, node: Node) -> None:
        self.nodes[node.key] = node

    def _edge(self, source: str, target: str) -> None:
        self.edges.append((source, target))
        self.consumers.setdefault(source, []).append(target)

    def _add_inputs(self, function: Function, key: str) -> list[tuple[int, Any]]:
        """Draw the edges into `function`'s node; return the 0-d numbers folded into its label
        as (position, value)."""
        versions = getattr(function, "saved_versions", None)
        constants = getattr(function, "constant_inputs", None) or ()
        folded = []
        for index, edge in enumerate(function.next_edges):
            if isinstance(edge, Function):
                source = self.op_keys.get(id(edge)) or self._cut_key(edge)
            elif isinstance(edge, Tensor):
                source = self._leaf_key(edge)
                self.nodes[source].uses.append((function, index))
            elif versions is not None and index < len(versions) and versions[index] is not None:
                counter = versions[index][0]
                spec = constants[index] if index < len(constants) else None
                if (spec is not None and spec[2] is not None
                        and id(counter) not in self.naming.storages):
                    folded.append((index, spec[2]))
                    continue
                source = self._constant_key(counter, spec)
                self.nodes[source].uses.append((function, index))
            else:
                continue  # an absent optional input (bias=None)
            self._edge(source, key)
        return folded

    def _leaf_key(self, tensor: Tensor) -> str:
        key = self.tensor_keys.get(id(tensor))
        if key is not None:
            return key
        key = self.tensor_keys[id(tensor)] = f"leaf{len(self.tensor_keys)}"
        name = self.naming.tensors.get(id(tensor))
        kind = "param" if self.naming.is_parameter(tensor) else "input"
        info = self._leaf_info(tensor)
        lines = style.tensor_lines(name or "tensor", tensor.shape, tensor.dtype,
                                   self.show_shapes)
        self._add(Node(key, kind, lines + self._grad_lines(info), None, info,
                       numel=tensor.data.size, tensor=tensor,
                       spec=None if name else (tensor.shape, tensor.dtype)))
        return key

    def _constant_key(self, counter: list, spec: tuple | None) -> str:
        """A tensor that needs no gradient (made under no_grad, a target, a buffer), known by
        its version counter, which it shares with its detached views."""
        lookup = ("constant", id(counter))
        key = self.tensor_keys.get(lookup)
        if key is not None:
            return key
        key = self.tensor_keys[lookup] = f"const{len(self.tensor_keys)}"
        named = self.naming.storages.get(id(counter))
        if named is None:
            shape, dtype = (spec[0], spec[1]) if spec is not None else (None, None)
            node = Node(key, "constant", style.tensor_lines("constant", shape, dtype,
                                                            self.show_shapes),
                        spec=(shape, dtype))
        else:
            name, tensor = named
            lines = style.tensor_lines(name, tensor.shape, tensor.dtype, self.show_shapes)
            # the user's named inputs and targets stay outside module boxes
            node = Node(key, "constant", lines, numel=tensor.data.size, tensor=tensor,
                        top_level=id(counter) in self.naming.user_storages)
        self._add(node)
        return key

    def _name_unnamed(self) -> None:
        """Name the tensors that neither `model` nor `names` knows by what they are to the
        graph: `input` (what the model reads), `target` (what a loss compares against)."""
        roles: dict[str, list[Node]] = {"input": [], "target": []}
        for node in self.nodes.values():
            if node.spec is None or not node.uses:
                continue
            role = self._role(node)
            if role is not None:
                roles[role].append(node)
        for role, nodes in roles.items():
            for number, node in enumerate(nodes):
                name = role if len(nodes) == 1 else f"{role} {number}"
                shape, dtype = node.spec
                grad = node.lines[len(style.tensor_lines("", shape, dtype, self.show_shapes)):]
                node.lines = style.tensor_lines(name, shape, dtype, self.show_shapes) + grad
                node.top_level = True

    def _role(self, node: Node) -> str | None:
        """"target" when a loss-like op (one that makes an output) reads it after its first
        argument, or it holds integers; "input" when an op of the model reads it; else None.
        A 1-d or 0-d constant read only inside a built-in layer is that layer's own (BatchNorm's
        running statistics folded into a scale) and keeps no role."""
        shape, dtype = node.spec
        for function, index in node.uses:
            if index > 0 and id(function) in self.roots:
                return "target"
        if dtype is not None and np.dtype(dtype).kind in "iub":
            return "target"
        model = self.naming.model
        for function, _ in node.uses:
            modules = getattr(function, "modules", ()) or ()
            if not modules or (model is not None and not any(each is model
                                                              for each in modules)):
                continue
            if is_builtin_layer(modules[-1]) and shape is not None and len(shape) <= 1 \
                    and node.kind == "constant":
                continue
            return "input"
        return None

    def _cut_key(self, function: Function) -> str:
        """A placeholder for an op beyond `max_depth` and everything behind it."""
        lookup = ("cut", id(function))
        key = self.tensor_keys.get(lookup)
        if key is None:
            key = self.tensor_keys[lookup] = f"cut{len(self.tensor_keys)}"
            title = style.wrap(style.op_title(function))[0]
            self._add(Node(key, "cut", [f"… {title}"]))
        return key

    def _op_lines(self, function: Function, folded: list[tuple[int, Any]]) -> list[str]:
        title = style.op_title(function)
        for index, value in folded:
            name = _ARGUMENT_NAMES[index] if index < len(_ARGUMENT_NAMES) else f"input{index}"
            title += f" {name}={style.format_value(value)}"
        lines = style.wrap(title)
        if self.show_shapes and hasattr(function, "output_shape"):
            lines.append(_shape_line(function))
        return lines + self._op_grad_lines(self._activation_info(function))

    def _grad_lines(self, info: GradInfo | None) -> list[str]:
        return style.grad_lines(info) if self.show_grads else []

    def _op_grad_lines(self, info: GradInfo | None) -> list[str]:
        if not self.show_grads or (self.grads is None and info is None):
            return []
        return style.grad_lines(info)

    def _activation_info(self, function: Function) -> GradInfo | None:
        if not self.show_grads or self.grads is None:
            return None
        norm = self.grads.get(function)
        return None if norm is None else style.grad_info(norm)

    def _leaf_info(self, tensor: Tensor) -> GradInfo | None:
        if not self.show_grads or tensor.grad is None:
            return None
        return style.grad_info(style.grad_norm(tensor.grad.data), style.grad_norm(tensor.data))

    # ---- built-in layers as one node ----------------------------------------------------
    def fuse_layers(self) -> None:
        """Draw each call of a built-in layer that records several ops as one node in the
        layer's box, with its parameters and its buffers (by name) beside it (a one-op layer
        with buffers too: BatchNorm in training mode is one fused op). The unnamed
        tensors the layer derived from its buffers (BatchNorm's folded scale) are hidden."""
        groups: dict[int, list[Node]] = {}
        for node in self.nodes.values():
            if node.kind == "op" and node.scope is not None \
                    and is_builtin_layer(node.scope.module):
                groups.setdefault(id(node.scope), []).append(node)
        unit_of: dict[str, str] = {}
        fused: list[Node] = []
        for members in groups.values():
            scope = members[0].scope
            if len(members) < 2 and not _has_float_buffers(scope.module):
                continue  # a one-op layer is its op's node, unless it has buffers to show
            keys = {member.key for member in members}
            exits = [member for member in members
                     if any(consumer not in keys for consumer in self.consumers.get(member.key,
                                                                                   []))]
            exit_node = exits[-1] if exits else members[-1]
            function = exit_node.function
            key = f"fused{len(fused)}"
            lines = [_layer_title(scope.module)]
            if self.show_shapes:
                lines.append(_shape_line(function))
            info = self._activation_info(function)
            node = Node(key, "op", lines + self._op_grad_lines(info), scope, info, function)
            fused.append(node)
            for member in keys:
                unit_of[member] = key
        if not fused:
            return
        hidden = {node.key for node in self.nodes.values()
                  if node.kind == "constant" and node.spec is not None and not node.top_level
                  and all(consumer in unit_of for consumer in self.consumers[node.key])}
        self._rewire(unit_of, hidden)
        for node in fused:
            self._add(node)
            self._add_buffers(node)

    def _add_buffers(self, node: Node) -> None:
        """The layer's floating-point buffers, by name, in its box: read in eval mode (an
        arrow into the layer), updated in training (a dashed arrow out of it)."""
        module = node.scope.module
        named_buffers = getattr(module, "named_buffers", None)
        for _, buffer in (named_buffers(recurse=False) if named_buffers else ()):
            if not isinstance(buffer, Tensor) or buffer.data.dtype.kind != "f":
                continue
            key = self.tensor_keys.get(("constant", id(buffer._version)))
            if key is None:
                key = self._constant_key(buffer._version, None)
            self.nodes[key].scope = node.scope
            if getattr(module, "training", False):
                self._edge(node.key, key)
                self.consumers.setdefault(key, [])
                self.edge_styles[(node.key, key)] = {"style": "dashed", "label": "update",
                                                     "fontsize": "8"}
            elif node.key not in self.consumers.get(key, []):
                self._edge(key, node.key)

    def _rewire(self, unit_of: dict[str, str], hidden: set[str]) -> None:
        """Replace the nodes in `unit_of` by their units in every edge, dropping edges inside a
        unit, repeated edges and the `hidden` nodes."""
        edges: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        consumers: dict[str, list[str]] = {}
        for source, target in self.edges:
            if source in hidden or target in hidden:
                continue
            source = unit_of.get(source, source)
            target = unit_of.get(target, target)
            if source == target or (source, target) in seen:
                continue
            seen.add((source, target))
            edges.append((source, target))
            consumers.setdefault(source, []).append(target)
        self.edge_styles = {(unit_of.get(source, source), unit_of.get(target, target)): value
                            for (source, target), value in self.edge_styles.items()}
        self.nodes = {key: node for key, node in self.nodes.items()
                      if key not in unit_of and key not in hidden}
        self.edges, self.consumers = edges, consumers

    # ---- collapsing ----------------------------------------------------------------------
    def collapse(self, depth: int) -> None:
        """Fold each module call at `depth` into one node, with the parameters, buffers and
        constants it alone uses."""
        units: dict[int, Node] = {}
        unit_of: dict[str, Node] = {}
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
                module_node = units[id(unit)] = Node(f"mod{len(units)}", "module", [],
                                                     unit.parent)
                module_node.lines = [unit.label]
            unit_of[node.key] = module_node
        parameters: dict[int, list[Node]] = {}
        for node in list(self.nodes.values()):
            if node.kind not in ("param", "constant") or node.top_level:
                continue
            neighbours = self.consumers.get(node.key) or [
                source for source, target in self.edges if target == node.key]
            owners = {id(unit_of.get(neighbour)) for neighbour in neighbours}
            owner = unit_of.get(neighbours[0]) if neighbours else None
            if owner is not None and owners == {id(owner)}:
                unit_of[node.key] = owner
                if node.kind == "param":
                    owner.numel += node.numel
                    parameters.setdefault(id(owner), []).append(node)
        self._fill_module_nodes(units, unit_of, parameters)
        self._rewire({key: unit.key for key, unit in unit_of.items()}, set())
        for node in units.values():
            self.nodes[node.key] = node

    def _fill_module_nodes(self, units: dict[int, Node], unit_of: dict[str, Node],
                           parameters: dict[int, list[Node]]) -> None:
        """Each module node shows its output shape(s) and is coloured by its parameters'
        gradient norm (all of them as one vector), or without parameters by its output's
        gradient; a parameter with a bad gradient is named and sets the colour."""
        exits: dict[int, list[Function]] = {id(node): [] for node in units.values()}
        last_op: dict[int, Function] = {}
        for source, target in self.edges:
            unit = unit_of.get(source)
            function = self.nodes[source].function
            if unit is None or function is None:
                continue
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
                own = parameters.get(id(unit), [])
                unit.info = _parameters_info(own)
                if unit.info is not None:
                    lines.extend(f"params {line}" for line in style.grad_lines(unit.info)[:1])
                else:
                    unit.info = self._activation_info(outputs[0]) if outputs else None
                    lines.extend(self._op_grad_lines(unit.info)[:1])
                bad = [node for node in own if node.info is not None and node.info.status != "ok"]
                lines.extend(f"{node.lines[0]}: {node.info.status}" for node in bad)
                if bad:
                    unit.info = max((node.info for node in bad), key=severity)
            unit.lines = lines


def is_builtin_layer(module: Any) -> bool:
    """A layer of minigrad.nn with no modules inside (BatchNorm2d, Linear, ReLU...)."""
    if not type(module).__module__.startswith("minigrad.nn."):
        return False
    children = getattr(module, "children", None)
    return children is None or next(iter(children()), None) is None


def _has_float_buffers(module: Any) -> bool:
    """True for a layer with floating-point buffers (BatchNorm's running statistics)."""
    buffers = getattr(module, "buffers", None)
    return buffers is not None and any(
        isinstance(buffer, Tensor) and buffer.data.dtype.kind == "f" for buffer in buffers())


def _layer_title(module: Any) -> str:
    """A fused layer's label: its class name in lower case, like an op's, with its mode."""
    title = type(module).__name__.lower()
    if getattr(module, "training", None) is not None and any(
            True for _ in getattr(module, "buffers", lambda: ())()):
        title += " (train)" if module.training else " (eval)"
    return title


def _shape_line(function: Function) -> str:
    shape = style.format_shape(function.output_shape)
    dtype = np.dtype(function.output_dtype)
    return shape if dtype == np.float32 else f"{shape} {dtype}"


def _parameters_info(nodes: list[Node]) -> GradInfo | None:
    """One GradInfo for several parameters: the norm of all their gradients as one vector."""
    with_grads = [node for node in nodes if node.tensor is not None and node.tensor.grad is not None]
    if not with_grads:
        return None
    grad = math.sqrt(sum(style.grad_norm(node.tensor.grad.data) ** 2 for node in with_grads))
    value = math.sqrt(sum(style.grad_norm(node.tensor.data) ** 2 for node in with_grads))
    return style.grad_info(grad, value)


def severity(info: GradInfo) -> int:
    return ("ok", "vanishing", "exploding", "inf", "NaN").index(info.status)
