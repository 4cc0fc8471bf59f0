"""Tools to trust a gradient: `gradcheck`, `check_op` and hypothesis strategies
(`minigrad.testing.strategies`).

`strategies` and `check_op` need hypothesis (the `test` extra); `gradcheck` needs nothing
but NumPy.
"""

from .gradcheck import (
    GradcheckError,
    GradcheckResult,
    Kink,
    default_tolerances,
    gradcheck,
    numerical_gradient,
)

__all__ = [
    "GradcheckError",
    "GradcheckResult",
    "Kink",
    "default_tolerances",
    "gradcheck",
    "numerical_gradient",
]
