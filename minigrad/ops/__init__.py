"""Every op, one file per family; this file attaches them to Tensor and collects namespaces.

Each family module declares three tables:
  TENSOR_METHODS  name -> function attached to Tensor (operators included: "__add__", ...)
  FUNCTIONAL      name -> function exposed in `minigrad.nn.functional`
  TOPLEVEL        name -> function exposed as `minigrad.<name>`
"""

from __future__ import annotations

from ..engine import Tensor
from . import activation_loss, cast, conv_pool, elementwise, inplace, matmul, movement, reduce

FAMILIES = (cast, elementwise, reduce, movement, matmul, conv_pool, activation_loss, inplace)

FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
for _family in FAMILIES:
    for _name, _function in _family.TENSOR_METHODS.items():
        setattr(Tensor, _name, _function)
    FUNCTIONAL.update(_family.FUNCTIONAL)
    TOPLEVEL.update(_family.TOPLEVEL)
