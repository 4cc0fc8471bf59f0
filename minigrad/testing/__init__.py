"""Tools to trust a gradient: `gradcheck`, `gradgradcheck`, `check_op` and hypothesis strategies
(`minigrad.testing.strategies`).

`strategies` and `check_op` need hypothesis (the `test` extra); `gradcheck` needs nothing
but NumPy.
"""

from typing import Any

from .gradcheck import (
    GradcheckError,
    GradcheckResult,
    Kink,
    default_tolerances,
    gradcheck,
    numerical_gradient,
)
from .gradgradcheck import gradgradcheck

try:
    from .check_op import CheckOpError, OpCase, check_op
except ImportError as _missing:  # hypothesis is not installed: say so when check_op is used
    _reason = str(_missing)

    class CheckOpError(AssertionError):  # type: ignore[no-redef]
        """An op failed one of check_op's properties."""

    OpCase = None  # type: ignore[assignment,misc]

    def check_op(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
        """Needs hypothesis: pip install hypothesis (or minigrad's `test` extra)."""
        raise ImportError(f"check_op needs hypothesis ({_reason}); pip install hypothesis")

__all__ = [
    "CheckOpError",
    "GradcheckError",
    "GradcheckResult",
    "Kink",
    "OpCase",
    "check_op",
    "default_tolerances",
    "gradcheck",
    "gradgradcheck",
    "numerical_gradient",
]
