"""Switches for recording the graph: `no_grad`, `enable_grad`, `inference_mode`, as in PyTorch.

Both work as context managers and as decorators. The state is per thread.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["enable_grad", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
           "no_grad", "set_grad_enabled"]

_state = threading.local()
F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return getattr(_state, "enabled", True)


def _set(enabled: bool) -> None:
    _state.enabled = enabled


class _GradMode:
    enabled: bool

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        _set(self.enabled)

    def __exit__(self, *exc_info: object) -> None:
        _set(self._previous)

    def _clone(self) -> _GradMode:
        """A fresh context with the same setting, entered once per call of a decorated
        function (one instance cannot be entered twice at once, e.g. by recursion)."""
        return self.__class__()

    def __call__(self, function: F) -> F:
        if not callable(function):
            raise TypeError(f"{type(self).__name__}: can only decorate a function, got "
                            f"{type(function).__name__}")
        if inspect.isgeneratorfunction(function):
            return _wrap_generator(self._clone, function)  # type: ignore[return-value]

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._clone():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _NoArgumentGradMode(_GradMode):
    """Also usable bare, `@no_grad` without parentheses, as in PyTorch."""

    def __new__(cls, function: Callable | None = None) -> Any:
        instance = super().__new__(cls)
        if function is None:
            return instance
        return instance(function)


def _wrap_generator(context: Callable[[], _GradMode], function: Callable) -> Callable:
    """A generator function whose body runs under `context()` at every resumption (as in
    PyTorch), while the caller's code between resumptions keeps its own grad mode."""

    @functools.wraps(function)
    def generator(*args: Any, **kwargs: Any) -> Any:
        inner = function(*args, **kwargs)
        try:
            with context():
                response = inner.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with context():
                        inner.close()
                    raise
                except BaseException as error:  # noqa: BLE001 - passed on to the body
                    with context():
                        response = inner.throw(error)
                else:
                    with context():
                        response = inner.send(request)
        except StopIteration as stop:
            return stop.value

    return generator


class no_grad(_NoArgumentGradMode):
    """Ops inside record no graph: results have requires_grad=False."""

    enabled = False


class enable_grad(_NoArgumentGradMode):
    """Turn recording back on inside a `no_grad` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """Turn recording on or off: `with mg.set_grad_enabled(training): ...`."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        self._previous = is_grad_enabled()
        _set(self.enabled)  # PyTorch applies it on construction too

    def __enter__(self) -> None:
        pass

    def __call__(self, function: F) -> F:
        _set(self._previous)  # as a decorator it changes nothing until the function runs
        return super().__call__(function)

    def _clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.enabled)


def is_inference_mode_enabled() -> bool:
    """True inside `inference_mode()`."""
    return getattr(_state, "inference", False)


class inference_mode(_GradMode):
    """`no_grad` for running a trained model, as PyTorch's: nothing inside records a graph.

    Works as `with mg.inference_mode():`, `@mg.inference_mode()` and `@mg.inference_mode`
    (generator functions too); `inference_mode(False)` changes nothing (for code that switches
    it with a flag). PyTorch also forbids using the results in autograd later; here they are
    plain tensors that require no grad, as after `no_grad`.
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, bool):  # bare @mg.inference_mode
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        self._previous_inference = is_inference_mode_enabled()
        if self.mode:
            _set(False)
            _state.inference = True

    def __exit__(self, *exc_info: object) -> None:
        _set(self._previous)
        _state.inference = self._previous_inference

    def _clone(self) -> inference_mode:
        return inference_mode(self.mode)
