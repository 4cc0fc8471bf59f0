"""Normal(loc, scale): Gaussian with reparametrised sampling."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ..engine import Tensor
from .distribution import Distribution, broadcast_all, check_value, positive, real

__all__ = ["Normal"]


class Normal(Distribution):
    """N(loc, scale^2), batch shape the broadcast of loc and scale."""

    arg_constraints: ClassVar[dict] = {"loc": real, "scale": positive}
    support = real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        noise = self._rng().standard_normal(shape).astype(self.loc.dtype)
        return self.loc + Tensor._from_op(noise) * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        check_value(self, value)
        variance = self.scale ** 2
        return (-((value - self.loc) ** 2) / (2 * variance) - self.scale.log()
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value: Tensor) -> Tensor:
        check_value(self, value)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def __repr__(self) -> str:
        if self.loc.ndim == 0:
            return f"Normal(loc: {self.loc.item()}, scale: {self.scale.item()})"
        return f"Normal(loc: {tuple(self.loc.shape)}, scale: {tuple(self.scale.shape)})"


