"""PyTorch's other names for existing ops (absolute, multiply, greater, ...) and the in-place
`_` forms of the elementwise ops (exp_, sqrt_, pow_, ...), built on `ops/inplace.py`'s path.

Each alias is the very same function as the op it names, so values, dtypes and gradients are
that op's. `sub`'s reversed form `rsub(input, other, alpha=1)` is other - alpha * input.
"""

from __future__ import annotations

from typing import Any

from ..engine import Tensor
from . import elementwise as ew
from . import inplace
from ._math import inplace_binary, inplace_unary

__all__ = ["rsub"]


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """other - alpha * input (PyTorch's reversed subtraction)."""
    ew._check_tensor("rsub", "input", input)
    return ew.sub(other, input, alpha=alpha)


_ALIASES = {
    "absolute": ew.abs, "negative": ew.neg, "multiply": ew.mul, "subtract": ew.sub,
    "divide": ew.div, "greater": ew.gt, "greater_equal": ew.ge, "less": ew.lt,
    "less_equal": ew.le, "not_equal": ew.ne,
}
# name -> (op, result): "float" for float math (an integer tensor cannot hold the result)
_UNARY_IN_PLACE = {
    "exp": (ew.exp, "float"), "log": (ew.log, "float"), "sqrt": (ew.sqrt, "float"),
    "rsqrt": (ew.rsqrt, "float"), "sin": (ew.sin, "float"), "cos": (ew.cos, "float"),
    "tanh": (ew.tanh, "float"), "sigmoid": (ew.sigmoid, "float"),
    "reciprocal": (ew.reciprocal, "float"), "log1p": (ew.log1p, "float"),
    "expm1": (ew.expm1, "float"), "abs": (ew.abs, "promote"), "neg": (ew.neg, "promote"),
    "square": (ew.square, "promote"), "absolute": (ew.abs, "promote"),
    "negative": (ew.neg, "promote"),
}

TENSOR_METHODS: dict = dict(_ALIASES)
TENSOR_METHODS.update({f"{name}_": inplace_unary(f"{name}_", function, result=result)
                       for name, (function, result) in _UNARY_IN_PLACE.items()})
TENSOR_METHODS["pow_"] = inplace_binary("pow_", ew.pow)
TENSOR_METHODS.update({"multiply_": inplace.mul_, "subtract_": inplace.sub_,
                       "divide_": inplace.div_})
TENSOR_METHODS.update({f"{name}_": inplace_binary(f"{name}_", function, result="bool")
                       for name, function in _ALIASES.items()
                       if name in ("greater", "greater_equal", "less", "less_equal",
                                   "not_equal")})
TENSOR_METHODS.update({f"{name}_": inplace_binary(f"{name}_", function, result="bool")
                       for name, function in (("eq", ew.eq), ("ne", ew.ne), ("lt", ew.lt),
                                              ("le", ew.le), ("gt", ew.gt), ("ge", ew.ge))})
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {**_ALIASES, "rsub": rsub}
TOPLEVEL.update({f"{name}_": TENSOR_METHODS[f"{name}_"]
                 for name in ("exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid",
                              "reciprocal", "log1p", "expm1", "abs", "neg", "square",
                              "negative")})
