"""What a graph picture is made of before it is drawn: the ops to draw (a breadth-first walk
back from the outputs), names for tensors and modules, and module scopes (one per Module call).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..engine import Function, Tensor

__all__ = ["Naming", "Scope", "assign_scopes", "common_scope", "module_chain", "walk"]


# ---- the walk ------------------------------------------------------------------------------
def walk(roots: list[Function], max_depth: int | None) -> list[Function]:
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
class Naming:
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
class Scope:
    """One call of one Module: a cluster box, or one node when collapsed."""

    parent: Scope | None
    module: Any
    path: str      # "conv1", "features.0", "relu@2" for a module's second call
    label: str     # "conv1 (Conv2d)"
    depth: int     # 1 for the children of `model`

    def ancestors(self) -> list[Scope]:
        """This scope and its parents, innermost first."""
        chain: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        return chain

    def at_depth(self, depth: int) -> Scope | None:
        for scope in self.ancestors():
            if scope.depth == depth:
                return scope
        return None


def module_chain(function: Function, model: Any) -> tuple:
    """The modules running when `function` was recorded, below `model`, outermost first."""
    chain = tuple(getattr(function, "modules", ()) or ())
    if model is not None:
        for index in range(len(chain) - 1, -1, -1):
            if chain[index] is model:
                return chain[index + 1:]
    return chain


def assign_scopes(functions: list[Function], naming: Naming) -> dict[int, Scope | None]:
    """The innermost scope of each op, with a Module's separate calls told apart.

    Two ops belong to the same call of a module when they are connected through ops that all
    ran inside that module; a shared module called twice forms two unconnected groups.
    """
    chains = {id(function): module_chain(function, naming.model) for function in functions}
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

    scopes: dict[tuple, Scope] = {}
    calls: dict[tuple, int] = {}
    paths = ModulePaths(naming)
    result: dict[int, Scope | None] = {}
    for function in functions:
        chain = chains[id(function)]
        scope: Scope | None = None
        for level in range(1, len(chain) + 1):
            group = tuple(id(module) for module in chain[:level])
            key = (group, _find(unions[level], id(function)))
            found = scopes.get(key)
            if found is None:
                call = calls[group] = calls.get(group, 0) + 1
                path, label = paths.name(chain[:level])
                if call > 1:
                    path, label = f"{path}@{call}", f"{label} #{call}"
                found = scopes[key] = Scope(scope, chain[level - 1], path, label, level)
            scope = found
        result[id(function)] = scope
    return result


class ModulePaths:
    """Cluster paths and labels: model names ("conv1 (Conv2d)") or class names ("Conv2d")."""

    def __init__(self, naming: Naming) -> None:
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


def common_scope(scopes: Iterable[Scope | None]) -> Scope | None:
    """The innermost scope that contains all of `scopes` (None: the top level)."""
    common: list[Scope] | None = None
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
