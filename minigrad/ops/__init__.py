"""Every op, one file per family; this file attaches them to Tensor and collects namespaces.

Each family module declares three tables:
  TENSOR_METHODS  name -> function attached to Tensor (operators included: "__add__", ...)
  FUNCTIONAL      name -> function exposed in `minigrad.nn.functional`
  TOPLEVEL        name -> function exposed as `minigrad.<name>`
and may add to the namespaces backward formulas run against (see `ops/namespace.py`):
  NUMPY_XP        name -> function on NumPy arrays (an ordinary backward)
  GRAPH_XP        name -> the same function as differentiable ops (`create_graph=True`)
"""

from __future__ import annotations

from ..engine import Tensor
from ..engine import namespace as _engine_namespace
from . import (
    activation,
    activation_extra,
    aliases,
    attention,
    batch_norm,
    binary_math,
    cast,
    conv,
    conv1d,
    conv3d,
    ctc,
    decomposition,
    distance,
    elementwise,
    embedding,
    fold,
    indexing,
    indexing_inplace,
    inplace,
    linalg,
    logical,
    loss,
    loss_extra,
    matmul,
    movement,
    namespace,
    normalization,
    norms,
    pool,
    pool1d3d,
    recurrent,
    reduce,
    resample,
    rounding,
    sampling,
    scan,
    shaping,
    sort,
    special,
    statistics,
    tensor_api,
    trigonometric,
)

FAMILIES = (cast, elementwise, reduce, movement, matmul, conv, pool, activation, loss, inplace,
            rounding, trigonometric, special, logical, binary_math, aliases, normalization,
            resample, sampling, conv1d, conv3d, pool1d3d, fold, tensor_api, indexing, shaping,
            linalg, decomposition, norms, scan, sort, statistics, indexing_inplace,
            activation_extra, loss_extra, ctc, distance, embedding, attention, recurrent,
            batch_norm)

FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
for _family in FAMILIES:
    for _name, _function in _family.TENSOR_METHODS.items():
        setattr(Tensor, _name, _function)
    FUNCTIONAL.update(_family.FUNCTIONAL)
    TOPLEVEL.update(_family.TOPLEVEL)

_engine_namespace.register(*namespace.build(FAMILIES))
