"""Uniform(low, high): the continuous uniform distribution on [low, high)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor
from .distribution import Constraint, Distribution, broadcast_all, check_value

__all__ = ["Uniform"]


class Uniform(Distribution):
    """U[low, high) with reparametrised sampling; low < high elementwise."""

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        high_data, low_data = self.high.data, self.low.data
        self.arg_constraints = {
            "low": Constraint(f"LessThan(upper_bound={_bound(high_data)})",
                              lambda x: x < high_data),
            "high": Constraint(f"GreaterThan(lower_bound={_bound(low_data)})",
                               lambda x: x > low_data),
        }
        self.support = Constraint(
            f"Interval(lower_bound={_bound(low_data)}, upper_bound={_bound(high_data)})",
            lambda x: (low_data <= x) & (x < high_data))
        super().__init__(self.low.shape, (), validate_args)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = Tensor._from_op(self._rng().random(shape).astype(self.low.dtype))
        return self.low + draws * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        check_value(self, value)
        inside = (self.low.data <= value.data) & (value.data < self.high.data)
        return Tensor._from_op(np.log(inside.astype(self.low.dtype))) - (
            self.high - self.low).log()

    def cdf(self, value: Tensor) -> Tensor:
        check_value(self, value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()

    def __repr__(self) -> str:
        if self.low.ndim == 0:
            return f"Uniform(low: {self.low.item()}, high: {self.high.item()})"
        return f"Uniform(low: {tuple(self.low.shape)}, high: {tuple(self.high.shape)})"


def _bound(array: np.ndarray) -> Any:
    return array.item() if array.size == 1 else array
