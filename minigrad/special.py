"""`minigrad.special`: PyTorch's `torch.special` names for the special functions in
`minigrad.ops` (erf, gammaln, expit, ...); each is the same function as its top-level twin."""

from __future__ import annotations

from .ops.activation import log_softmax, softmax
from .ops.elementwise import expm1, log1p
from .ops.elementwise import sigmoid as expit
from .ops.reduce import logsumexp
from .ops.rounding import round
from .ops.special import (
    digamma,
    entr,
    erf,
    erfc,
    erfinv,
    exp2,
    log_ndtr,
    logit,
    ndtr,
    ndtri,
    polygamma,
    xlogy,
)
from .ops.special import digamma as psi
from .ops.special import lgamma as gammaln
from .ops.trigonometric import sinc

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p",
    "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "ndtri", "polygamma", "psi", "round",
    "sinc", "softmax", "xlogy",
]
