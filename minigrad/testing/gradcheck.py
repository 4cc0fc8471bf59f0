"""`gradcheck`: compare an op's analytic gradient with finite differences, aware of kinks.

Every float input is copied to float64 and each element is nudged by +eps and -eps. The
central difference (f(x + eps) - f(x - eps)) / 2 eps is the numeric gradient where `fn` is
smooth. Where the two one-sided differences disagree (relu at 0, abs at 0, max with ties)
`fn` has a kink: no single derivative exists there, so the point is reported as
non-differentiable and the analytic value only has to be a valid subgradient, that is lie
between the left and right derivatives (or match the rule chosen with `kinks=`). A backward
that is simply wrong still fails: away from kinks, and at a kink when it is outside the
one-sided derivatives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Tensor, no_grad

__all__ = [
    "GradcheckError",
    "GradcheckResult",
    "Kink",
    "default_tolerances",
    "gradcheck",
    "numerical_gradient",
]

# (eps, atol, rtol) per precision of the arithmetic being checked. Central differences lose
# about half the digits of the dtype to rounding (noise ~ unit roundoff / eps), so the step
# and the tolerances grow as the precision shrinks.
_TOLERANCES = {
    np.dtype(np.float64): (1e-6, 1e-5, 1e-3),
    np.dtype(np.float32): (1e-3, 1e-3, 1e-2),
    np.dtype(np.float16): (1e-2, 5e-2, 5e-2),
}
_KINK_RULES = ("subgradient", "left", "right", "mean", "error")
_KINKS_DESCRIBED = 20  # kinks whose per-output slopes are measured (two more calls of fn each)


class GradcheckError(AssertionError):
    """The analytic and numeric gradients disagree; the message says where and by how much."""


@dataclass(frozen=True)
class Kink:
    """A point where `fn` is not differentiable in one input element.

    The check runs on one number, the projection sum(w * output) with fixed random weights w,
    so `left`, `right` (the one-sided derivatives along that element) and `analytic` (what
    backward gave there) are derivatives of that projection, scaled by the random weights:
    compare them with each other, not with the op's own slope. `outputs` has the op's own
    one-sided slopes, per output element that has a kink there: (output, element, left,
    right), output being the position of the output tensor (0 for a single output).
    """

    input: int
    index: tuple[int, ...]
    left: float
    right: float
    analytic: float
    outputs: tuple[tuple[int, tuple[int, ...], float, float], ...] = field(
        default=(), compare=False)

    def __str__(self) -> str:
        slopes = "; ".join(_slope_text(*each) for each in self.outputs)
        own = f"{slopes}. " if slopes else ""
        return (f"input {self.input} element {self.index}: {own}On the checked projection "
                f"sum(w * output), w fixed random weights: left derivative {self.left:.6g}, "
                f"right derivative {self.right:.6g}, backward gave {self.analytic:.6g}")


def _slope_text(output: int, element: tuple[int, ...], left: float, right: float) -> str:
    name = "output" if output == 0 else f"output {output}"
    return (f"{name}{list(element) if element else ''} has slope {left:.6g} from the left, "
            f"{right:.6g} from the right")


class GradcheckResult:
    """What a passing `gradcheck` returns: truthy, with the kinks it found in `.kinks`."""

    def __init__(self, kinks: Sequence[Kink], dtype: np.dtype, eps: float, atol: float,
                 rtol: float) -> None:
        self.kinks = tuple(kinks)
        self.dtype = dtype
        self.eps, self.atol, self.rtol = eps, atol, rtol

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        if not self.kinks:
            return f"GradcheckResult(passed, {self.dtype} arithmetic, no kinks)"
        listed = "; ".join(str(kink) for kink in self.kinks[:5])
        more = f" (and {len(self.kinks) - 5} more)" if len(self.kinks) > 5 else ""
        return (f"GradcheckResult(passed, {self.dtype} arithmetic, {len(self.kinks)} "
                f"non-differentiable point(s): {listed}{more})")


def default_tolerances(dtype: Any) -> tuple[float, float, float]:
    """(eps, atol, rtol) gradcheck uses when `fn` computes in `dtype`."""
    dtype = np.dtype(dtype)
    if dtype not in _TOLERANCES:
        raise TypeError(f"gradcheck: no default tolerances for dtype {dtype}")
    return _TOLERANCES[dtype]


def _float_outputs(output: Any) -> list[Tensor]:
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    return [tensor for tensor in outputs
            if isinstance(tensor, Tensor) and tensor.dtype.kind == "f"]


def _as_output_scalar(output: Any, projections: list[np.ndarray]) -> Tensor:
    """Reduce fn's float output(s) to one number with fixed random weights (a projection),
    recorded in the graph so backward gives the analytic gradient."""
    total = None
    for tensor, projection in zip(_float_outputs(output), projections):
        term = (tensor * Tensor._from_op(projection.astype(tensor.dtype))).sum()
        total = term if total is None else total + term
    return total


def _projected_value(output: Any, projections: list[np.ndarray]) -> float:
    """The same projection as `_as_output_scalar`, as a float64 number (no graph)."""
    return float(sum(np.sum(projection * tensor.data.astype(np.float64))
                     for tensor, projection in zip(_float_outputs(output), projections)))


@dataclass
class _Differences:
    """Projected f(x + eps) and f(x - eps) per element of one input, and f(x)."""

    plus: np.ndarray
    minus: np.ndarray
    center: float
    eps: float

    @property
    def central(self) -> np.ndarray:
        return (self.plus - self.minus) / (2 * self.eps)

    @property
    def right(self) -> np.ndarray:
        return (self.plus - self.center) / self.eps

    @property
    def left(self) -> np.ndarray:
        return (self.center - self.minus) / self.eps


def _differences(fn: Callable[..., Any], inputs: Sequence[Any], index: int,
                 projections: list[np.ndarray], eps: float, center: float) -> _Differences:
    target = inputs[index]
    flat = target.data.reshape(-1)  # a view: perturb in place, restore afterwards
    plus = np.empty(flat.shape, dtype=np.float64)
    minus = np.empty(flat.shape, dtype=np.float64)
    with no_grad():
        for position in range(flat.size):
            original = flat[position]
            flat[position] = original + eps
            plus[position] = _projected_value(fn(*inputs), projections)
            flat[position] = original - eps
            minus[position] = _projected_value(fn(*inputs), projections)
            flat[position] = original
    shape = target.shape
    return _Differences(plus.reshape(shape), minus.reshape(shape), center, eps)


def _output_slopes(fn: Callable[..., Any], inputs: Sequence[Any], index: int,
                   element: tuple[int, ...], eps: float, atol: float, rtol: float,
                   limit: int = 3) -> tuple[tuple[int, tuple[int, ...], float, float], ...]:
    """The one-sided slopes of each output element along input `index` at `element`, for
    the (at most `limit`) output elements whose left and right slopes differ."""
    target = inputs[index].data
    original = target[element]
    with no_grad():
        center = [tensor.data.astype(np.float64) for tensor in _float_outputs(fn(*inputs))]
        target[element] = original + eps
        plus = [tensor.data.astype(np.float64) for tensor in _float_outputs(fn(*inputs))]
        target[element] = original - eps
        minus = [tensor.data.astype(np.float64) for tensor in _float_outputs(fn(*inputs))]
        target[element] = original
    found = []
    for output, (low, middle, high) in enumerate(zip(minus, center, plus)):
        left, right = (middle - low) / eps, (high - middle) / eps
        steepest = np.maximum(np.abs(left), np.abs(right))
        for where in map(tuple, np.argwhere(np.abs(right - left) > atol + rtol * steepest)):
            found.append((output, tuple(int(i) for i in where), float(left[where]),
                          float(right[where])))
            if len(found) == limit:
                return tuple(found)
    return tuple(found)


def numerical_gradient(fn: Callable[..., Any], inputs: Sequence[Tensor], index: int,
                       projections: list[np.ndarray], eps: float) -> np.ndarray:
    """d(projected output)/d(inputs[index]) by central differences, as float64."""
    return _differences(fn, inputs, index, projections, eps, center=0.0).central


def _compute_dtype(outputs: list[Tensor]) -> np.dtype:
    """The least precise float dtype among the outputs: the arithmetic being checked."""
    return min((tensor.dtype for tensor in outputs), key=lambda dtype: dtype.itemsize)


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Any], eps: float | None = None,
              atol: float | None = None, rtol: float | None = None, seed: int = 0,
              *, kinks: str = "subgradient") -> GradcheckResult:
    """Check `fn`'s backward against finite differences for every float input.

    Inputs are copied to float64 with requires_grad=True, so the check is as exact as the
    arithmetic allows. `fn` may return a tensor or a tuple of tensors; each float output is
    weighted by a fixed random tensor, so every output element takes part.

    eps, atol, rtol default by the precision `fn` computes in (the dtype of its output on
    float64 inputs): float64 1e-6, 1e-5, 1e-3; float32 1e-3, 1e-3, 1e-2 (see
    `default_tolerances`), so an op that works in float32 internally is not failed for
    rounding it cannot avoid.

    kinks: what the analytic gradient must be where the left and right derivatives differ:
    "subgradient" (default) anything between them; "left", "right" or "mean" that value
    (relu's documented 0 at 0 is its left derivative, abs's 0 at 0 the mean); "error" fails
    at any kink.

    Returns a truthy `GradcheckResult` whose `.kinks` lists the non-differentiable points met,
    or raises GradcheckError naming the input, the element index, and both values.

        >>> x = mg.tensor([-1.0, 0.0, 2.0])
        >>> gradcheck(F.relu, [x]).kinks    # relu at exactly 0: reported, not failed
        (Kink(input=0, index=(1,), left=0.0, right=..., analytic=0.0),)
    """
    __tracebackhide__ = True  # pytest shows the message, not these frames
    if kinks not in _KINK_RULES:
        raise ValueError(f"gradcheck: kinks must be one of {_KINK_RULES}, got {kinks!r}")
    prepared = []
    for value in inputs:
        if isinstance(value, Tensor) and value.dtype.kind == "f":
            prepared.append(Tensor(value.data.astype(np.float64), requires_grad=True))
        else:
            prepared.append(value)
    output = fn(*prepared)
    outputs = _float_outputs(output)
    if not outputs:
        raise TypeError("gradcheck: fn returned no floating-point tensor to check")
    dtype = _compute_dtype(outputs)
    default_eps, default_atol, default_rtol = default_tolerances(dtype)
    eps = default_eps if eps is None else eps
    atol = default_atol if atol is None else atol
    rtol = default_rtol if rtol is None else rtol
    rng = np.random.default_rng(seed)
    projections = [rng.standard_normal(tensor.shape) for tensor in outputs]
    _as_output_scalar(output, projections).backward()
    with no_grad():
        center = _projected_value(fn(*prepared), projections)
    found: list[Kink] = []
    for index, tensor in enumerate(prepared):
        if not (isinstance(tensor, Tensor) and tensor.requires_grad):
            continue
        analytic = np.zeros(tensor.shape) if tensor.grad is None else tensor.grad.data
        differences = _differences(fn, prepared, index, projections, eps, center)
        def slopes(where: tuple[int, ...], index: int = index) -> tuple:
            return _output_slopes(fn, prepared, index, where, eps, atol, rtol)

        found += _compare(index, tensor.shape, analytic, differences, atol, rtol, kinks,
                          slopes)
    return GradcheckResult(found, dtype, eps, atol, rtol)


def _compare(index: int, shape: tuple[int, ...], analytic: np.ndarray,
             differences: _Differences, atol: float, rtol: float, rule: str,
             slopes: Callable[[tuple[int, ...]], tuple]) -> list[Kink]:
    """Check one input's gradient element by element; return the kinks found (with the op's
    own one-sided slopes from `slopes(element)` for the first few)."""
    __tracebackhide__ = True  # pytest shows the message, not these frames
    left, right, central = differences.left, differences.right, differences.central
    steepest = np.maximum(np.abs(left), np.abs(right))
    # the one-sided slopes of a smooth fn differ by about eps * f'', far below this
    is_kink = np.abs(right - left) > atol + rtol * steepest
    smooth_ok = np.isclose(analytic, central, atol=atol, rtol=rtol)
    low, high = np.minimum(left, right), np.maximum(left, right)
    slack = atol + rtol * steepest
    kink_ok = {
        "subgradient": (analytic >= low - slack) & (analytic <= high + slack),
        "left": np.isclose(analytic, left, atol=atol, rtol=rtol),
        "right": np.isclose(analytic, right, atol=atol, rtol=rtol),
        "mean": smooth_ok,
        "error": np.zeros(shape, dtype=bool),
    }[rule]
    passed = np.where(is_kink, kink_ok, smooth_ok)
    if not passed.all():
        where = tuple(int(i) for i in np.argwhere(~passed)[0])
        analytic_value, left_value = float(analytic[where]), float(left[where])
        right_value, central_value = float(right[where]), float(central[where])
        if is_kink[where]:
            expected = ("between them (a subgradient)" if rule == "subgradient" else
                        "a differentiable point" if rule == "error" else f"the {rule} value")
            own = "; ".join(_slope_text(*each) for each in slopes(where))
            raise GradcheckError(
                f"gradcheck: gradient of input {index} (shape {shape}) at element {where}, "
                f"a non-differentiable point ({own}). On the checked projection "
                f"sum(w * output), w fixed random weights: left derivative {left_value!r}, "
                f"right derivative {right_value!r}, analytic {analytic_value!r}, expected "
                f"{expected} (atol={atol}, rtol={rtol}, kinks={rule!r})")
        raise GradcheckError(
            f"gradcheck: gradient of input {index} (shape {shape}) differs at element "
            f"{where}: analytic {analytic_value!r}, numeric {central_value!r} "
            f"(derivatives of the checked projection sum(w * output), w fixed random "
            f"weights; atol={atol}, rtol={rtol})")
    kinks = []
    for number, where in enumerate(map(tuple, np.argwhere(is_kink))):
        where = tuple(int(i) for i in where)
        own = slopes(where) if number < _KINKS_DESCRIBED else ()
        kinks.append(Kink(index, where, float(left[where]), float(right[where]),
                          float(analytic[where]), own))
    return kinks
