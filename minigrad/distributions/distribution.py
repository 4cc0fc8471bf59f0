"""The base class and helpers of `minigrad.distributions` (PyTorch's torch.distributions).

Parameters are tensors broadcast to the batch shape; `sample` draws without gradient,
`rsample` (where a reparametrisation exists) keeps the path to the parameters; every draw
comes from minigrad's global generator, so `minigrad.manual_seed` makes them repeat.
With `validate_args` (on by default, as in PyTorch) bad parameters and values outside
the support raise PyTorch's ValueError naming the parameter and the constraint.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..engine import Tensor, default_generator, dtypes, no_grad

__all__ = ["Distribution", "broadcast_all", "check_value", "clamp_probs"]

_validate_default = True


class Constraint:
    """A named condition on values (PyTorch's constraints.*), checked on arrays."""

    def __init__(self, name: str, check: Any) -> None:
        self.name = name
        self.check = check

    def __repr__(self) -> str:
        return self.name


real = Constraint("Real()", lambda x: ~np.isnan(x))
positive = Constraint("GreaterThan(lower_bound=0.0)", lambda x: x > 0)
unit_interval = Constraint("Interval(lower_bound=0.0, upper_bound=1.0)",
                           lambda x: (x >= 0) & (x <= 1))
boolean = Constraint("Boolean()", lambda x: (x == 0) | (x == 1))
simplex = Constraint("Simplex()", lambda x: np.broadcast_to(
    np.all(x >= 0, axis=-1, keepdims=True) & (np.abs(x.sum(-1, keepdims=True) - 1) < 1e-6),
    x.shape))
independent_real = Constraint("IndependentConstraint(Real(), 1)", lambda x: np.broadcast_to(
    np.all(~np.isnan(x), axis=-1, keepdims=True), x.shape))
one_hot = Constraint("OneHot()", lambda x: np.broadcast_to(
    np.all((x == 0) | (x == 1), axis=-1, keepdims=True) & (x.sum(-1, keepdims=True) == 1),
    x.shape))


def integer_interval(upper: int) -> Constraint:
    return Constraint(f"IntegerInterval(lower_bound=0, upper_bound={upper})",
                      lambda x: (x >= 0) & (x <= upper) & (x == np.floor(x)))


def interval(low: np.ndarray, high: np.ndarray, name: str) -> Constraint:
    return Constraint(name, lambda x: (low <= x) & (x < high))


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Tensors (numbers become default-float tensors) expanded to one common shape."""
    tensors = [value for value in values if isinstance(value, Tensor)]
    dtype = tensors[0].dtype if tensors else dtypes.default_float
    for value in values:
        if not isinstance(value, (Tensor, int, float, np.number)) or isinstance(value, bool):
            raise ValueError(  # noqa: TRY004 - PyTorch raises ValueError here
                f"Input arguments must all be instances of numbers or Tensors, "
                f"got {type(value).__name__}")
    converted = [value if isinstance(value, Tensor) else Tensor._from_op(
        np.asarray(value, dtype=dtype)) for value in values]
    shape = np.broadcast_shapes(*(tensor.shape for tensor in converted))
    return tuple(tensor if tensor.shape == shape else tensor.expand(*shape) if shape else tensor
                 for tensor in converted)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs kept inside [eps, 1 - eps] (as PyTorch's, before taking logs)."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(eps, 1 - eps)


def _values_text(array: np.ndarray) -> str:
    return repr(array.item()) if array.ndim == 0 else np.array2string(array)


class Distribution:
    """batch_shape, event_shape, sample/rsample/log_prob/entropy/mean/variance/stddev."""

    has_rsample = False
    arg_constraints: ClassVar[dict[str, Constraint]] = {}
    support: Constraint = real

    def __init__(self, batch_shape: tuple = (), event_shape: tuple = (),
                 validate_args: bool | None = None) -> None:
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        self._validate_args = _validate_default if validate_args is None else validate_args
        if self._validate_args:
            for name, constraint in self.arg_constraints.items():
                if name not in self.__dict__:
                    continue  # the parametrisation not given (computed lazily)
                value = self.__dict__[name]
                valid = constraint.check(value.data)
                if not np.all(valid):
                    raise ValueError(
                        f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of "
                        f"distribution {self!r} to satisfy the constraint {constraint!r}, but "
                        f"found invalid values:\n{_values_text(value.data)}")

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        global _validate_default
        _validate_default = bool(value)

    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        return self._event_shape

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def _extended_shape(self, sample_shape: Any = ()) -> tuple:
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A draw of shape sample_shape + batch_shape + event_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparametrised sampler "
                                  f"(rsample); use sample()")

    def _validate_sample(self, value: Any) -> None:
        if not isinstance(value, Tensor):
            raise ValueError(  # noqa: TRY004 - PyTorch raises ValueError here
                "The value argument to log_prob must be a Tensor")
        event_ndim = len(self._event_shape)
        if event_ndim and value.shape[-event_ndim:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {self._event_shape}.")
        try:
            np.broadcast_shapes(value.shape, self._batch_shape + self._event_shape)
        except ValueError as error:
            raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                             f"{tuple(value.shape)} vs "
                             f"{self._batch_shape + self._event_shape}.") from error
        valid = self.support.check(value.data)
        if not np.all(valid):
            raise ValueError(
                f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within "
                f"the support ({self.support!r}) of the distribution {self!r}, but found "
                f"invalid values:\n{_values_text(value.data)}")

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _rng(self) -> np.random.Generator:
        return default_generator()

    def __repr__(self) -> str:
        names = [name for name in self.arg_constraints if name in self.__dict__]
        parts = []
        for name in names:
            value = self.__dict__[name]
            parts.append(f"{name}: {value.data.item() if value.numel() == 1 else value.shape}")
        return f"{type(self).__name__}({', '.join(parts)})"


def check_value(distribution: Distribution, value: Any) -> None:
    if distribution._validate_args:
        distribution._validate_sample(value)
