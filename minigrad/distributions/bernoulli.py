"""Bernoulli(probs or logits): 0/1 draws."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..engine import Tensor
from ..nn import functional as F
from .distribution import (
    Distribution,
    boolean,
    broadcast_all,
    check_value,
    clamp_probs,
    real,
    unit_interval,
)

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """P(1) = probs (or sigmoid(logits)); exactly one of the two is given."""

    arg_constraints: ClassVar[dict] = {"probs": unit_interval, "logits": real}
    support = boolean

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            shape = self.probs.shape
        else:
            (self.logits,) = broadcast_all(logits)
            shape = self.logits.shape
        super().__init__(shape, (), validate_args)

    def __getattr__(self, name: str) -> Any:
        # the other parametrisation, computed on first use (PyTorch's lazy_property)
        if name == "probs":
            value = self.__dict__["logits"].sigmoid()
        elif name == "logits":
            probs = clamp_probs(self.__dict__["probs"])
            value = probs.log() - (-probs).log1p()
        else:
            raise AttributeError(name)
        self.__dict__[name] = value
        return value

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    @property
    def param_shape(self) -> tuple:
        return self._batch_shape

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = np.broadcast_to(self.probs.data, shape)
        draws = self._rng().random(shape) < probs
        return Tensor._from_op(draws.astype(self.probs.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        check_value(self, value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = np.arange(2, dtype=self.probs.dtype).reshape((2,) + (1,) * len(self._batch_shape))
        if expand:
            values = np.broadcast_to(values, (2,) + self._batch_shape)
        return Tensor._from_op(np.ascontiguousarray(values))

    def __repr__(self) -> str:
        name = "probs" if "probs" in self.__dict__ else "logits"
        value = self.__dict__[name]
        shown = value.item() if value.numel() == 1 else tuple(value.shape)
        return f"Bernoulli({name}: {shown})"
