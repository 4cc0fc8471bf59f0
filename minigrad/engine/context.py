"""Which Module's forward is running, so each recorded op knows where it came from.

`Module.__call__` pushes itself here; `Function.apply` reads the top. Nothing else: the engine
never imports nn. Drawing tools use the recorded path to cluster ops by module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["current_module", "module_scope"]

_state = threading.local()


def _stack() -> list:
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    return stack


@contextmanager
def module_scope(module: Any) -> Iterator[None]:
    """Mark ops recorded inside as belonging to `module` (nested scopes nest)."""
    stack = _stack()
    stack.append(module)
    try:
        yield
    finally:
        stack.pop()


def current_module() -> tuple:
    """The modules whose forward is running, outermost first (empty outside any)."""
    return tuple(_stack())
