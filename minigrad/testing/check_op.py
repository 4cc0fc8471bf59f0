"""`check_op`: one call that turns an op into a hypothesis property test.

    import numpy as np
    from minigrad.testing import check_op

    test_exp = check_op(mg.exp, np.exp, shapes=((2, 3),))          # a pytest test

    @check_op(mg.mul, np.multiply, shapes="broadcastable")         # or a decorator
    def test_mul(case):
        assert case.output.shape == np.broadcast_shapes(*(a.shape for a in case.arrays))

Each drawn example checks, in this order: the forward against the NumPy reference; float32
in gives float32 out and float32 gradients; inputs are not changed by forward or backward;
every gradient has its input's shape and dtype and shares memory with no input and no other
gradient (also straight out of the op's `backward`, before the engine copies anything); the
gradient's values against a numerical gradient: the complex step on the reference where it
is complex-analytic (exact to rounding, so even a 1e-5 relative error fails), otherwise
float64 central differences of the op itself through the kink-aware `gradcheck`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ..engine import Tensor
from .gradcheck import GradcheckError, gradcheck
from .strategies import arrays as array_strategy
from .strategies import broadcastable_shapes

__all__ = ["CheckOpError", "OpCase", "check_op"]

# (rtol, atol) of the forward against the reference, and of the gradient against the
# complex step (or, for float32, against the float64 gradient). float64 errors come only
# from a different order of the same arithmetic; float32 ones from float32 rounding.
_FORWARD_TOLERANCE = {np.dtype(np.float64): (1e-7, 1e-9), np.dtype(np.float32): (1e-5, 1e-5)}
_GRADIENT_TOLERANCE = {np.dtype(np.float64): (1e-6, 1e-8), np.dtype(np.float32): (1e-4, 1e-5)}
_COMPLEX_STEP = 1e-20
_SEED = 0


class CheckOpError(AssertionError):
    """An op failed one of check_op's properties; the message says which and where."""


@dataclass
class OpCase:
    """One drawn example, handed to a decorated test function for extra assertions.

    arrays: the inputs as drawn (NumPy arrays); kwargs: the drawn keyword arguments;
    output: fn's output data; grads: the gradients of each input for the upstream gradient
    `weights` (a fixed random array of the output's shape).
    """

    arrays: tuple[np.ndarray, ...]
    kwargs: dict[str, Any]
    output: np.ndarray
    grads: tuple[np.ndarray, ...]
    weights: np.ndarray
    complex_step: bool = False
    kinks: tuple = field(default_factory=tuple)


def check_op(fn: Callable[..., Tensor], reference: Callable[..., Any] | None = None, *,
             shapes: Any, dtype: Any = np.float64, elements: Any = None,
             analytic: bool | None = None, **arg_strategies: Any) -> Callable[..., Any]:
    """Build a hypothesis test of the differentiable op `fn`: call it for a test function
    (`test_softplus = check_op(...)`) or use it as a decorator on one.

    fn: takes tensors positionally (one per shape) and `arg_strategies` as keywords, returns
    one tensor. reference: the same function on NumPy arrays (optional); its output is the
    expected forward, and where it also works on complex arrays it gives exact gradients by
    the complex step, f'(x) = Im f(x + ih) / h.

    shapes: the input shapes: a tuple of shapes `((2, 3), (3,))` (a tuple of ints is one
    input's shape), a hypothesis strategy drawing either, or "broadcastable" for shapes
    that broadcast together (as many as fn has required positional parameters).
    dtype: float64 (default) or float32, the inputs' dtype; gradient values are always
    checked against float64 arithmetic. elements: keyword arguments of
    `strategies.arrays` (low, high, distinct, avoid_zero) for every input, or a sequence of
    such dicts, one per input; keep inputs off kinks and poles here.
    analytic: True to use the complex step (the reference must accept complex arrays),
    False for central differences, None (default) to try complex input on the reference
    once and use the complex step when it gives the same derivative as central differences.
    The complex step knows no kinks: a mismatch there is checked again by `gradcheck`.
    arg_strategies: keyword arguments of fn and reference; each a hypothesis strategy, a
    fixed value, or a function of the drawn shapes returning a strategy (wrap a function
    meant as a fixed value in `st.just`).

    Used as a decorator, the decorated function runs after the checks of every example,
    given an `OpCase` if it takes an argument. `@settings(...)` above either form applies.

        class Softplus(mg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return (x.exp() + 1).log()

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * x.sigmoid()

        test_softplus = check_op(Softplus.apply, lambda x: np.log1p(np.exp(x)),
                                 shapes=strategies.shapes(max_dims=3, max_side=4))
    """
    spec = _OpSpec(fn, reference, shapes, np.dtype(dtype), elements, analytic, arg_strategies)
    name = "test_" + spec.name.replace(".", "_")
    return _op_test(spec, extra=None, name=name, doc=check_op.__doc__)


# ---- the test function ------------------------------------------------------------------
def _op_test(spec: _OpSpec, extra: Callable[..., Any] | None, name: str,
             doc: str | None) -> Callable[..., Any]:
    """A plain function pytest collects; called with a function it decorates that one."""

    def op_test(*decorated: Any) -> Any:
        __tracebackhide__ = True  # pytest shows the message, not these frames
        if decorated:
            if extra is not None or len(decorated) != 1 or not callable(decorated[0]):
                raise TypeError("check_op(...) decorates one test function")
            function = decorated[0]
            return _op_test(spec, function, function.__name__, function.__doc__)
        test = _hypothesis_test(spec, extra)
        chosen = getattr(op_test, "_hypothesis_internal_use_settings", None)
        if chosen is not None:  # @settings(...) was put on this function
            test = chosen(test)
        return test()

    op_test.__name__ = op_test.__qualname__ = name
    op_test.__doc__ = doc
    return op_test


def _hypothesis_test(spec: _OpSpec, extra: Callable[..., Any] | None) -> Callable[[], None]:
    takes_case = extra is not None and len(inspect.signature(extra).parameters) > 0

    @given(st.data())
    def property_test(data: Any) -> None:
        __tracebackhide__ = True  # pytest shows the message, not these frames
        shapes = spec.draw_shapes(data)
        drawn = tuple(data.draw(array_strategy(shape, dtype=spec.dtype, **spec.elements_for(
            index, len(shapes))), label=f"input {index}") for index, shape in enumerate(shapes))
        kwargs = {name: data.draw(spec.kwarg_strategy(name, shapes), label=name)
                  for name in spec.arg_strategies}
        case = _check_example(spec, drawn, kwargs)
        if extra is not None:
            if takes_case:
                extra(case)
            else:
                extra()

    return property_test


# ---- what is being tested ---------------------------------------------------------------
class _OpSpec:
    """check_op's arguments, validated, with the drawing rules they imply."""

    def __init__(self, fn: Callable[..., Any], reference: Callable[..., Any] | None,
                 shapes: Any, dtype: np.dtype, elements: Any, analytic: bool | None,
                 arg_strategies: dict[str, Any]) -> None:
        if not callable(fn):
            raise TypeError(f"check_op: fn must be callable, got {type(fn).__name__}")
        if reference is not None and not callable(reference):
            raise TypeError(f"check_op: reference must be callable or None, got "
                            f"{type(reference).__name__}")
        if dtype not in _FORWARD_TOLERANCE:
            raise TypeError(f"check_op: dtype must be float32 or float64, got {dtype}")
        if analytic and reference is None:
            raise ValueError("check_op: analytic=True needs a reference to take the complex "
                             "step on")
        self.fn, self.reference, self.dtype = fn, reference, dtype
        self.analytic = analytic
        self.arg_strategies = arg_strategies
        self.name = _name_of(fn)
        self.shapes = self._shape_strategy(shapes)
        if elements is None:
            elements = {}
        if not isinstance(elements, (dict, list, tuple)):
            raise TypeError(f"check_op: elements must be a dict or a sequence of dicts, got "
                            f"{type(elements).__name__}")
        self.elements = elements

    def _shape_strategy(self, shapes: Any) -> st.SearchStrategy:
        if isinstance(shapes, str):
            if shapes != "broadcastable":
                raise ValueError(f"check_op: shapes must be a tuple of shapes, a strategy or "
                                 f"'broadcastable', got {shapes!r}")
            return broadcastable_shapes(count=self._arity(), max_dims=3, max_side=4)
        if isinstance(shapes, st.SearchStrategy):
            return shapes
        if isinstance(shapes, (tuple, list)):
            return st.just(_as_shape_tuple(shapes))
        raise TypeError(f"check_op: shapes must be a tuple of shapes, a strategy or "
                        f"'broadcastable', got {type(shapes).__name__}")

    def _arity(self) -> int:
        """How many tensors fn takes: its positional parameters without defaults; for a
        Function's `.apply(*args)`, those of its `forward` after `ctx` (or `self`)."""
        parameters = _positional_signature(self.fn)
        count = sum(1 for parameter in parameters
                    if parameter.kind in (parameter.POSITIONAL_ONLY,
                                          parameter.POSITIONAL_OR_KEYWORD)
                    and parameter.default is parameter.empty
                    and parameter.name not in self.arg_strategies)
        if count == 0:
            raise ValueError(f"check_op: cannot tell how many inputs {self.name} takes from "
                             f"its signature; pass shapes=broadcastable_shapes(count=N)")
        return count

    def draw_shapes(self, data: Any) -> tuple[tuple[int, ...], ...]:
        return _as_shape_tuple(data.draw(self.shapes, label="shapes"))

    def elements_for(self, index: int, count: int) -> dict[str, Any]:
        if isinstance(self.elements, dict):
            return self.elements
        if len(self.elements) != count:
            raise ValueError(f"check_op: elements has {len(self.elements)} entries for "
                             f"{count} inputs")
        return self.elements[index] or {}

    def kwarg_strategy(self, name: str, shapes: tuple) -> st.SearchStrategy:
        value = self.arg_strategies[name]
        if isinstance(value, st.SearchStrategy):
            return value
        if callable(value):
            value = value(shapes)
            return value if isinstance(value, st.SearchStrategy) else st.just(value)
        return st.just(value)


def _positional_signature(fn: Any) -> list[inspect.Parameter]:
    """fn's parameters, or for `SomeFunction.apply` those of `SomeFunction.forward` without
    its first (ctx for mg.autograd.Function, self for an engine Function)."""
    owner = getattr(fn, "__self__", None)
    forward = getattr(owner, "forward", None) if isinstance(owner, type) else None
    if getattr(fn, "__name__", None) == "apply" and callable(forward):
        try:
            return list(inspect.signature(forward).parameters.values())[1:]
        except (TypeError, ValueError):
            return []
    try:
        return list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []


def _as_shape_tuple(shapes: Any) -> tuple[tuple[int, ...], ...]:
    """((2, 3), (3,)) as is; a single shape (2, 3) as ((2, 3),)."""
    shapes = tuple(shapes)
    if all(isinstance(size, (int, np.integer)) for size in shapes):
        return (tuple(int(size) for size in shapes),)
    return tuple(tuple(int(size) for size in shape) for shape in shapes)


def _name_of(fn: Any) -> str:
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", type(fn).__name__)
    if isinstance(owner, type):
        return f"{owner.__name__}.{name}"
    return name


# ---- one example ------------------------------------------------------------------------
def _fail(spec: _OpSpec, message: str) -> None:
    __tracebackhide__ = True  # pytest shows the message, not these frames
    raise CheckOpError(f"check_op({spec.name}): {message}")


def _check_example(spec: _OpSpec, drawn: tuple[np.ndarray, ...],
                   kwargs: dict[str, Any]) -> OpCase:
    __tracebackhide__ = True  # pytest shows the message, not these frames
    tensors = [Tensor(array, requires_grad=True) for array in drawn]
    output = spec.fn(*tensors, **kwargs)
    if not isinstance(output, Tensor):
        _fail(spec, f"fn must return one Tensor, got {type(output).__name__}")
    _check_unchanged(spec, tensors, drawn, "forward")
    if output.dtype != spec.dtype:
        _fail(spec, f"{spec.dtype} inputs gave a {output.dtype} output")
    if spec.reference is not None:
        _check_forward(spec, output.data, drawn, kwargs)
    weights = np.random.default_rng(_SEED).standard_normal(output.shape)
    grads = _backward(spec, output, tensors, weights)
    _check_unchanged(spec, tensors, drawn, "backward")
    _check_node_aliasing(spec, drawn, kwargs, weights)
    case = OpCase(drawn, kwargs, output.data, grads, weights)
    _check_gradient_values(spec, case)
    return case


def _check_unchanged(spec: _OpSpec, tensors: list[Tensor], drawn: tuple[np.ndarray, ...],
                     stage: str) -> None:
    __tracebackhide__ = True  # pytest shows the message, not these frames
    for index, (tensor, array) in enumerate(zip(tensors, drawn)):
        if not np.array_equal(tensor.data, array, equal_nan=True):
            _fail(spec, f"{stage} changed input {index} in place")


def _check_forward(spec: _OpSpec, actual: np.ndarray, drawn: tuple[np.ndarray, ...],
                   kwargs: dict[str, Any]) -> None:
    __tracebackhide__ = True  # pytest shows the message, not these frames
    expected = np.asarray(spec.reference(*[array.astype(np.float64) for array in drawn],
                                         **kwargs))
    if actual.shape != expected.shape:
        _fail(spec, f"output shape {actual.shape}, reference shape {expected.shape} (inputs "
                    f"{[array.shape for array in drawn]})")
    rtol, atol = _FORWARD_TOLERANCE[spec.dtype]
    close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        where = tuple(int(i) for i in np.argwhere(~close)[0])
        _fail(spec, f"forward differs from the reference at output element {where}: "
                    f"{actual[where]!r} vs {expected[where]!r} (rtol={rtol}, atol={atol})")


def _backward(spec: _OpSpec, output: Tensor, tensors: list[Tensor],
              weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Backpropagate `weights`; check each gradient's shape, dtype and memory."""
    __tracebackhide__ = True  # pytest shows the message, not these frames
    if output.grad_fn is None:
        _fail(spec, "the output has no grad_fn: fn recorded no graph for inputs that "
                    "require grad")
    output.backward(Tensor._from_op(weights.astype(output.dtype)))
    grads = []
    for index, tensor in enumerate(tensors):
        if tensor.grad is None:
            grads.append(np.zeros(tensor.shape, dtype=tensor.dtype))
            continue
        grad = tensor.grad.data
        if grad.shape != tensor.shape:
            _fail(spec, f"gradient of input {index} has shape {grad.shape}, the input "
                        f"{tensor.shape} (a missing unbroadcast?)")
        if grad.dtype != tensor.dtype:
            _fail(spec, f"gradient of input {index} is {grad.dtype}, the input {tensor.dtype}")
        for other, other_tensor in enumerate(tensors):
            if np.shares_memory(grad, other_tensor.data):
                _fail(spec, f"gradient of input {index} shares memory with input {other}")
        for other, other_grad in enumerate(grads):
            if np.shares_memory(grad, other_grad):
                _fail(spec, f"gradients of inputs {other} and {index} share memory")
        grads.append(grad)
    return tuple(grads)


def _check_node_aliasing(spec: _OpSpec, drawn: tuple[np.ndarray, ...],
                         kwargs: dict[str, Any], weights: np.ndarray) -> None:
    """Call the output node's backward directly (the engine copies leaf gradients, which
    would hide it): its gradients must not alias the inputs, and `grad` stays untouched."""
    __tracebackhide__ = True  # pytest shows the message, not these frames
    tensors = [Tensor(array, requires_grad=True) for array in drawn]
    node = spec.fn(*tensors, **kwargs).grad_fn
    upstream = weights.astype(spec.dtype)
    kept = upstream.copy()
    result = node.backward_on_arrays(upstream)
    result = result if isinstance(result, tuple) else (result,)
    if not np.array_equal(upstream, kept):
        _fail(spec, f"{node.name}.backward modified its incoming gradient in place")
    arrays = [(tensor.data, f"input {index}") for index, tensor in enumerate(tensors)
              if any(edge is tensor for edge in node.next_edges)]
    for position, grad in enumerate(result):
        if grad is None:
            continue
        for data, label in arrays:
            if np.shares_memory(np.asarray(grad), data):
                _fail(spec, f"{node.name}.backward returned gradient {position} sharing "
                            f"memory with {label}")


# ---- gradient values --------------------------------------------------------------------
def _check_gradient_values(spec: _OpSpec, case: OpCase) -> None:
    __tracebackhide__ = True  # pytest shows the message, not these frames
    arrays64 = [array.astype(np.float64) for array in case.arrays]
    use_complex = spec.analytic
    if use_complex is None:
        use_complex = spec.reference is not None and _reference_is_analytic(
            spec, arrays64, case.kwargs, case.weights)
        spec.analytic = use_complex  # decided once, on the first example
    rtol, atol = _GRADIENT_TOLERANCE[spec.dtype]
    if use_complex:
        case.complex_step = True
        numeric = _complex_step(spec.reference, arrays64, case.kwargs, case.weights)
        mismatches = _mismatches(case.grads, numeric, rtol, atol)
        if mismatches:
            kinks = _kinks_if_consistent(spec, arrays64, case.kwargs)
            if kinks is None or any(spot[:2] not in kinks for spot in mismatches):
                index, where, actual, expected = mismatches[0]
                _fail(spec, f"gradient of input {index} (shape {case.arrays[index].shape}) "
                            f"differs from the complex-step derivative of the reference at "
                            f"element {where}: analytic {actual!r}, exact {expected!r} "
                            f"(rtol={rtol}, atol={atol}; pass analytic=False if the reference "
                            f"is not complex-analytic)")
            case.kinks = tuple(sorted(kinks))
        return
    try:
        result = gradcheck(lambda *inputs: spec.fn(*inputs, **case.kwargs),
                           [Tensor(array) for array in arrays64])
    except GradcheckError as error:
        raise CheckOpError(f"check_op({spec.name}): {error}") from None
    case.kinks = tuple(sorted((kink.input, kink.index) for kink in result.kinks))
    if spec.dtype != np.float64:  # the float32 backward against the float64 one
        tensors = [Tensor(array, requires_grad=True) for array in arrays64]
        spec.fn(*tensors, **case.kwargs).backward(Tensor._from_op(case.weights))
        float64_grads = [np.zeros(t.shape) if t.grad is None else t.grad.data for t in tensors]
        mismatches = _mismatches(case.grads, float64_grads, rtol, atol)
        if mismatches:
            index, where, actual, expected = mismatches[0]
            _fail(spec, f"{spec.dtype} gradient of input {index} differs from the float64 "
                        f"one at element {where}: {actual!r} vs {expected!r}")


def _mismatches(grads: Sequence[np.ndarray], expected: Sequence[np.ndarray], rtol: float,
                atol: float) -> list[tuple[int, tuple[int, ...], float, float]]:
    """(input, element, analytic, expected) wherever they are not close."""
    found = []
    for index, (grad, want) in enumerate(zip(grads, expected)):
        grad = grad.astype(np.float64)
        close = np.isclose(grad, want, rtol=rtol, atol=atol)
        for where in map(tuple, np.argwhere(~close)):
            where = tuple(int(i) for i in where)
            found.append((index, where, float(grad[where]), float(want[where])))
    return found


def _complex_step(reference: Callable[..., Any], arrays64: list[np.ndarray],
                  kwargs: dict[str, Any], weights: np.ndarray) -> list[np.ndarray]:
    """d(sum(weights * reference))/d(input) element by element: Im f(x + ih e_k) / h."""
    perturbed = [array.astype(np.complex128) for array in arrays64]
    grads = []
    for array in perturbed:
        flat = array.reshape(-1)  # a view of the fresh copy
        grad = np.empty(flat.size)
        for position in range(flat.size):
            flat[position] += 1j * _COMPLEX_STEP
            output = np.asarray(reference(*perturbed, **kwargs))
            flat[position] -= 1j * _COMPLEX_STEP
            grad[position] = np.sum(weights * output.imag) / _COMPLEX_STEP
        grads.append(grad.reshape(array.shape))
    return grads


def _reference_is_analytic(spec: _OpSpec, arrays64: list[np.ndarray],
                           kwargs: dict[str, Any], weights: np.ndarray) -> bool:
    """Does the reference take complex input and give, by the complex step, the derivative
    central differences give? Then the complex step is exact for it."""
    reference = spec.reference
    try:
        with np.errstate(all="ignore"):
            real = np.asarray(reference(*arrays64, **kwargs))
            lifted = np.asarray(reference(*[a.astype(np.complex128) for a in arrays64],
                                          **kwargs))
            if lifted.dtype.kind != "c" or lifted.shape != real.shape:
                return False
            if not np.allclose(lifted.real, real, equal_nan=True):
                return False
            exact = _complex_step(reference, arrays64, kwargs, weights)
            central = _central_differences(reference, arrays64, kwargs, weights)
    except Exception:  # noqa: BLE001 - any failure on complex input means: not analytic
        return False
    return all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(exact, central))


def _central_differences(reference: Callable[..., Any], arrays64: list[np.ndarray],
                         kwargs: dict[str, Any], weights: np.ndarray,
                         eps: float = 1e-6) -> list[np.ndarray]:
    copies = [array.copy() for array in arrays64]
    grads = []
    for array in copies:
        flat = array.reshape(-1)
        grad = np.empty(flat.size)
        for position in range(flat.size):
            original = flat[position]
            flat[position] = original + eps
            plus = np.sum(weights * np.asarray(reference(*copies, **kwargs)))
            flat[position] = original - eps
            minus = np.sum(weights * np.asarray(reference(*copies, **kwargs)))
            flat[position] = original
            grad[position] = (plus - minus) / (2 * eps)
        grads.append(grad.reshape(array.shape))
    return grads


def _kinks_if_consistent(spec: _OpSpec, arrays64: list[np.ndarray],
                         kwargs: dict[str, Any]) -> set | None:
    """The kinks kink-aware gradcheck finds, or None when it fails too."""
    try:
        result = gradcheck(lambda *inputs: spec.fn(*inputs, **kwargs),
                           [Tensor(array) for array in arrays64])
    except GradcheckError:
        return None
    return {(kink.input, kink.index) for kink in result.kinks}
