"""Categorical and OneHotCategorical over the last dim of probs (or logits)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..engine import Tensor, dtypes
from .distribution import (
    Distribution,
    check_value,
    clamp_probs,
    independent_real,
    integer_interval,
    one_hot,
    simplex,
)

__all__ = ["Categorical", "OneHotCategorical"]


class Categorical(Distribution):
    """Indices 0..K-1 with probabilities probs[..., k] (normalised over the last dim) or
    softmax(logits); batch shape is probs.shape[:-1]."""

    arg_constraints: ClassVar[dict] = {"probs": simplex, "logits": independent_real}

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        if not isinstance(given, Tensor):
            raise TypeError(f"Categorical: {'probs' if probs is not None else 'logits'} must "
                            f"be a Tensor, got {type(given).__name__}")
        if given.ndim < 1:
            raise ValueError("`probs` parameter must be at least one-dimensional."
                             if probs is not None else
                             "`logits` parameter must be at least one-dimensional.")
        if not dtypes.is_floating(given.dtype):
            given = given.float()
        if probs is not None:
            self.probs = given / given.sum(-1, keepdim=True)
        else:
            self.logits = given - given.logsumexp(-1, keepdim=True)
        self._num_events = given.shape[-1]
        self.support = integer_interval(self._num_events - 1)
        super().__init__(given.shape[:-1], (), validate_args)

    def __getattr__(self, name: str) -> Any:
        if name == "probs":
            value = self.__dict__["logits"].softmax(-1)
        elif name == "logits":
            value = clamp_probs(self.__dict__["probs"]).log()
        else:
            raise AttributeError(name)
        self.__dict__[name] = value
        return value

    @property
    def param_shape(self) -> tuple:
        return self._batch_shape + (self._num_events,)

    @property
    def mean(self) -> Tensor:
        return Tensor._from_op(np.full(self._batch_shape, np.nan, dtype=self.probs.dtype))

    @property
    def variance(self) -> Tensor:
        return self.mean

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Indices drawn by inverting the cumulative probabilities of each batch row."""
        shape = self._extended_shape(sample_shape)
        cumulative = np.cumsum(self.probs.data.astype(np.float64), axis=-1)
        cumulative = np.broadcast_to(cumulative, shape + (self._num_events,))
        draws = self._rng().random(shape + (1,)) * cumulative[..., -1:]
        indices = (cumulative <= draws).sum(-1)
        return Tensor._from_op(np.minimum(indices, self._num_events - 1).astype(np.int64))

    def log_prob(self, value: Tensor) -> Tensor:
        check_value(self, value)
        value = value.long()
        shape = np.broadcast_shapes(value.shape, self._batch_shape)
        logits = self.logits.expand(*(shape + (self._num_events,)))
        index = value.expand(*shape) if value.shape != shape else value
        return logits.gather(-1, index.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Tensor:
        smallest = float(np.finfo(self.logits.dtype).min)
        logits = self.logits.clamp(min=smallest)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = np.arange(self._num_events).reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = np.broadcast_to(values, (self._num_events,) + self._batch_shape)
        return Tensor._from_op(np.ascontiguousarray(values))

    def __repr__(self) -> str:
        name = "probs" if "probs" in self.__dict__ else "logits"
        return f"{type(self).__name__}({name}: {tuple(self.__dict__[name].shape)})"


class OneHotCategorical(Distribution):
    """Categorical draws as one-hot vectors: event shape (K,)."""

    arg_constraints: ClassVar[dict] = {"probs": simplex, "logits": independent_real}
    support = one_hot

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args)
        super().__init__(self._categorical.batch_shape,
                         (self._categorical._num_events,), False)
        self._validate_args = self._categorical._validate_args

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def param_shape(self) -> tuple:
        return self._categorical.param_shape

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    @property
    def mode(self) -> Tensor:
        picked = self.probs.data.argmax(-1)
        return Tensor._from_op(np.eye(self._event_shape[0], dtype=self.probs.dtype)[picked])

    def sample(self, sample_shape: Any = ()) -> Tensor:
        indices = self._categorical.sample(sample_shape).data
        return Tensor._from_op(np.eye(self._event_shape[0], dtype=self.probs.dtype)[indices])

    def log_prob(self, value: Tensor) -> Tensor:
        check_value(self, value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self._event_shape[0]
        values = np.eye(n, dtype=self.probs.dtype).reshape((n,) + (1,) * len(self._batch_shape)
                                                           + (n,))
        if expand:
            values = np.broadcast_to(values, (n,) + self._batch_shape + (n,))
        return Tensor._from_op(np.ascontiguousarray(values))

    def __repr__(self) -> str:
        return "OneHotCategorical()"
