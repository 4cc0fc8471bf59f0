"""Tools to trust a gradient: `gradcheck` and hypothesis strategies (`minigrad.testing.strategies`).

`strategies` needs hypothesis (the `test` extra); `gradcheck` needs nothing but NumPy.
"""

from .gradcheck import GradcheckError, gradcheck, numerical_gradient

__all__ = ["gradcheck", "GradcheckError", "numerical_gradient"]
