"""gradcheck itself: it fails wrong backwards, passes right ones at kinks and reports them,
and scales its tolerances with the precision the checked function computes in."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd
from minigrad.testing import GradcheckError, default_tolerances, gradcheck


class Square(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x


class WrongSquare(Square):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2.02 * x   # 1% too steep: a deliberately wrong backward


class ReluBackwardOneAtZero(autograd.Function):
    """relu whose backward gives 1 at 0: a valid subgradient (the right derivative)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return F.relu(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x >= 0).double()


class ReluBackwardTwoAtZero(ReluBackwardOneAtZero):
    """relu whose backward gives 2 at 0: outside [0, 1], no subgradient."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = (x > 0).double() + 2 * (x == 0).double()
        return grad * slope


def kink_indices(result):
    return sorted((kink.input, kink.index) for kink in result.kinks)


# ---- wrong backwards are caught ---------------------------------------------------------
def test_a_wrong_backward_fails_naming_input_element_and_both_values():
    x = mg.tensor([0.5, -1.5, 2.0], dtype=mg.float64)
    assert gradcheck(Square.apply, [x])
    with pytest.raises(GradcheckError) as error:
        gradcheck(WrongSquare.apply, [x])
    message = str(error.value)
    assert "input 0" in message and "element (0,)" in message
    assert "analytic" in message and "numeric" in message


def test_the_wrong_input_is_named():
    def scaled(a, b):
        return WrongSquare.apply(b) + a

    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(2,\)\)"):
        gradcheck(scaled, [mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0])])


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=6))
def test_wrong_backward_fails_everywhere_away_from_zero(values):
    values = [value if abs(value) > 0.1 else 0.5 for value in values]
    with pytest.raises(GradcheckError):
        gradcheck(WrongSquare.apply, [mg.tensor(values)])


# ---- right backwards pass at kinks, which are reported ----------------------------------
def test_relu_at_exactly_zero_passes_and_is_reported():
    result = gradcheck(F.relu, [mg.tensor([-1.0, 0.0, 2.0])])
    assert result
    assert kink_indices(result) == [(0, (1,))]
    (kink,) = result.kinks
    assert kink.left == 0.0 and kink.analytic == 0.0 and kink.right != 0.0
    assert "non-differentiable" in repr(result) and "element (1,)" in repr(result)


def test_abs_at_zero_passes_and_is_reported():
    result = gradcheck(mg.abs, [mg.tensor([[0.0, 1.0], [-2.0, 0.0]])])
    assert kink_indices(result) == [(0, (0, 0)), (0, (1, 1))]
    for kink in result.kinks:
        assert kink.left == pytest.approx(-kink.right)   # slopes -1 and +1, projected


def test_max_with_ties_passes_whole_and_along_a_dim():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]])
    whole = gradcheck(lambda t: t.max(), [x])               # ties share the gradient
    assert kink_indices(whole) == [(0, (0, 1)), (0, (0, 2))]
    along = gradcheck(lambda t: t.max(dim=1)[0], [x])       # ties: the first one wins
    assert kink_indices(along) == [(0, (0, 1)), (0, (0, 2)), (0, (1, 0)), (0, (1, 1))]
    assert gradcheck(lambda t: mg.maximum(t, t.flip(0)), [mg.tensor([1.0, 5.0, 1.0])])


def test_a_point_within_eps_of_the_kink_is_not_a_false_failure():
    # central differences straddle the kink here: (1.1e-6 * w) / 2e-6 is not w
    assert gradcheck(F.relu, [mg.tensor([1e-7, -1e-7], dtype=mg.float64)])


def test_smooth_functions_report_no_kinks():
    result = gradcheck(lambda t: (t * t).exp().sum(), [mg.tensor([0.3, -1.1, 0.0])])
    assert result.kinks == ()


def test_any_subgradient_passes_and_a_non_subgradient_fails():
    x = mg.tensor([-1.0, 0.0, 1.0])
    assert kink_indices(gradcheck(ReluBackwardOneAtZero.apply, [x])) == [(0, (1,))]
    with pytest.raises(GradcheckError) as error:
        gradcheck(ReluBackwardTwoAtZero.apply, [x])
    message = str(error.value)
    assert "non-differentiable" in message and "element (1,)" in message
    assert "left derivative" in message and "right derivative" in message
    assert ReluBackwardTwoAtZero.apply(mg.tensor([3.0])).item() == 3.0


def test_documented_subgradient_rules():
    x = mg.tensor([-1.0, 0.0, 1.0])
    assert gradcheck(F.relu, [x], kinks="left")              # relu'(0) = 0: from the left
    with pytest.raises(GradcheckError, match="the right value"):
        gradcheck(F.relu, [x], kinks="right")
    assert gradcheck(ReluBackwardOneAtZero.apply, [x], kinks="right")
    assert gradcheck(mg.abs, [x], kinks="mean")              # abs'(0) = 0: the mean
    with pytest.raises(GradcheckError, match="differentiable point"):
        gradcheck(mg.abs, [x], kinks="error")
    assert gradcheck(mg.abs, [mg.tensor([-1.0, 1.0])], kinks="error")
    with pytest.raises(ValueError, match="kinks"):
        gradcheck(mg.abs, [x], kinks="middle")


@given(st.lists(st.sampled_from([-2.0, -0.5, 0.0, 0.0, 0.5, 2.0]), min_size=1, max_size=8))
def test_relu_abs_and_max_pass_on_inputs_full_of_kinks(values):
    x = mg.tensor(values)
    assert gradcheck(F.relu, [x])
    assert gradcheck(mg.abs, [x])
    assert gradcheck(lambda t: t.max(), [x])
    assert gradcheck(lambda t: t.reshape(1, -1).max(dim=1)[0], [x])


# ---- dtypes -----------------------------------------------------------------------------
def test_float32_inputs_are_checked_on_a_float64_copy():
    seen = []

    def probe(t):
        seen.append(t.dtype)
        return t * t

    x = mg.tensor([0.1, 0.2], dtype=mg.float32)
    result = gradcheck(probe, [x])
    assert set(seen) == {mg.float64}
    assert result.dtype == mg.float64
    assert x.dtype == mg.float32 and x.grad is None


def test_tolerances_scale_with_the_dtype_fn_computes_in():
    assert default_tolerances(mg.float64) == (1e-6, 1e-5, 1e-3)
    assert default_tolerances(mg.float32) == (1e-3, 1e-3, 1e-2)
    eps32, atol32, rtol32 = default_tolerances(mg.float32)
    assert eps32 > 1e-6 and atol32 > 1e-5 and rtol32 > 1e-3

    def in_float32(t):              # casts down: the arithmetic is float32's
        return (t.float() * t.float()).exp()

    x = mg.tensor([0.3, 1.2, -0.5])
    result = gradcheck(in_float32, [x])
    assert result.dtype == mg.float32 and result.eps == eps32
    with pytest.raises(GradcheckError):   # float64's step and tolerances: rounding noise
        gradcheck(in_float32, [x], eps=1e-6, atol=1e-5, rtol=1e-3)


def test_float64_tolerances_still_catch_a_one_percent_error():
    with pytest.raises(GradcheckError):
        gradcheck(WrongSquare.apply, [mg.tensor([1.0, 2.0], dtype=mg.float64)])


def test_old_positional_signature_and_integer_outputs():
    x = mg.tensor([[0.3, 1.5], [2.0, -0.7]])
    assert gradcheck(lambda t: t.exp(), [x], 1e-6, 1e-5, 1e-3)
    assert gradcheck(lambda t: t.max(dim=1), [x])             # (values, int64 indices)
    with pytest.raises(TypeError, match="no floating-point"):
        gradcheck(lambda t: t.argmax(), [x])
    with pytest.raises(TypeError, match="no default tolerances"):
        default_tolerances(np.int64)


def test_kinks_report_the_ops_own_slopes_per_output_element():
    (kink,) = gradcheck(F.relu, [mg.tensor([-1.0, 0.0, 2.0])]).kinks
    assert kink.outputs == ((0, (1,), 0.0, 1.0),)                  # relu: 0 left, 1 right
    text = str(kink)
    assert "output[1] has slope 0 from the left, 1 from the right" in text
    assert "projection sum(w * output)" in text and "random weights" in text
    kinks = gradcheck(mg.abs, [mg.tensor([[0.0, 1.0], [-2.0, 0.0]])]).kinks
    assert [kink.outputs for kink in kinks] == [
        ((0, (0, 0), pytest.approx(-1.0), pytest.approx(1.0)),),
        ((0, (1, 1), pytest.approx(-1.0), pytest.approx(1.0)),)]
    # a reduction to one number: the output element has no index
    (first, _) = gradcheck(lambda t: t.max(), [mg.tensor([1.0, 3.0, 3.0])]).kinks
    assert first.outputs == ((0, (), 0.0, pytest.approx(1.0)),)
    with pytest.raises(GradcheckError, match=r"output\[1\] has slope 0 from the left, 1 from"):
        gradcheck(F.relu, [mg.tensor([-1.0, 0.0, 2.0])], kinks="error")
