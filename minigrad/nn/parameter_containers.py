"""ParameterList and ParameterDict: parameters held in a list or dict, registered with the
Module so `parameters()`, `state_dict()` and optimizers find them, as in PyTorch.

A Tensor put in one is made a Parameter (sharing its data); a Parameter stays itself.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..engine import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["ParameterDict", "ParameterList"]


def _as_parameter(value: Any, where: str) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{where}: expected a Parameter or Tensor, got {type(value).__name__}")


def _parameter_line(name: str, parameter: Parameter | None) -> str:
    """PyTorch's summary line: "(0): Parameter containing: [minigrad.float32 of size 3x4]"."""
    if parameter is None:
        return f"({name}): None"
    size = "x".join(str(length) for length in parameter.shape)
    return f"({name}): Parameter containing: [minigrad.{parameter.dtype} of size {size}]"


def _repr(container: Module) -> str:
    lines = [_parameter_line(name, parameter)
             for name, parameter in container._parameters.items()]
    if not lines:
        return f"{type(container).__name__}()"
    return type(container).__name__ + "(\n    " + "\n    ".join(lines) + "\n)"


class ParameterList(Module):
    """A list of Parameters named "0", "1", ...; no forward.

        self.weights = nn.ParameterList([nn.Parameter(mg.randn(4, 4)) for _ in range(3)])
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, index: Any) -> int:
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range")
        return index % len(self)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(list(self._parameters.values())[index])
        return self._parameters[str(self._index(index))]

    def __setitem__(self, index: int, value: Any) -> None:
        parameter = _as_parameter(value, "ParameterList")
        self._parameters[str(self._index(index))] = parameter

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:  # noqa: PYI034
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        parameters = [_as_parameter(value, "ParameterList.extend") for value in values]
        for parameter in parameters:  # all checked before any is added
            self.register_parameter(str(len(self)), parameter)
        return self

    def __repr__(self) -> str:
        return _repr(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """An ordered dict of Parameters by string key; no forward.

        self.scales = nn.ParameterDict({"a": nn.Parameter(mg.ones(3)), "b": mg.zeros(2)})
    """

    def __init__(self, parameters: Mapping[str, Any] | Iterable | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        parameter = _as_parameter(value, "ParameterDict")
        if key in self._parameters:
            self._parameters[key] = parameter
        else:
            self.register_parameter(key, parameter)

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self) -> Any:
        return self._parameters.keys()

    def items(self) -> Any:
        return self._parameters.items()

    def values(self) -> Any:
        return self._parameters.values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Parameter:
        value = self[key]
        del self[key]
        return value

    def setdefault(self, key: str, default: Any = None) -> Parameter:
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        self._parameters.clear()

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same Parameters."""
        return ParameterDict(dict(self.items()))

    def update(self, parameters: Mapping[str, Any] | Iterable) -> None:
        """Add parameters from a mapping or from an iterable of (key, value) pairs."""
        if isinstance(parameters, (Mapping, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Iterable) and not isinstance(parameters, (str, Tensor)):
            pairs = []
            for position, pair in enumerate(parameters):
                pair = tuple(pair) if isinstance(pair, Iterable) else (pair,)
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{position} has "
                                     f"length {len(pair)}; 2 is required")
                pairs.append(pair)
        else:
            raise TypeError(f"ParameterDict.update should be called with an iterable of "
                            f"key/value pairs, but got {type(parameters).__name__}")
        checked = [(key, _as_parameter(value, "ParameterDict.update")) for key, value in pairs]
        for key, parameter in checked:  # all checked before any is added
            self[key] = parameter

    def __repr__(self) -> str:
        return _repr(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")
