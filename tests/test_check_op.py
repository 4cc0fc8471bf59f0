"""check_op itself: it passes right ops and catches each kind of wrong one.

Failing checks run with few examples and no shrinking, so each takes a moment.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd
from minigrad.engine import Function
from minigrad.ops._broadcast import unbroadcast
from minigrad.testing import CheckOpError, OpCase, check_op, strategies

QUICK = settings(max_examples=5, phases=[Phase.generate])
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_op.py"


def fails(test, match):
    with pytest.raises(CheckOpError, match=match):
        QUICK(test)()


# ---- deliberately broken ops (engine Functions, as our own ops are written) --------------
class NoUnbroadcastMul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, xp, grad):
        return grad * self.b, grad * self.a      # forgets to sum back to the input shapes


class SlightlyWrongTanh(Function):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, xp, grad):
        return grad * (1 - self.y * self.y) * (1 + 1e-5)   # off by 1e-5: only exact catches it


class WrongTanh(SlightlyWrongTanh):
    def backward(self, xp, grad):
        return grad * (1 - self.y * self.y) * 1.05      # off by 5%: central differences see it


class WrongForwardExp(Function):
    def forward(self, x):
        self.y = np.exp(x) + 1e-6
        return self.y

    def backward(self, xp, grad):
        return grad * self.y


class MutatingSquare(Function):
    def forward(self, x):
        self.x = x
        out = x * x
        x -= 1e-3             # changes the caller's input
        return out

    def backward(self, xp, grad):
        return grad * 2 * (self.x + 1e-3)


class AliasingIdentity(Function):
    def forward(self, x):
        self.x = x
        return x.copy()

    def backward(self, xp, grad):
        return self.x         # returns the input's own array


class InPlaceGradDouble(Function):
    def forward(self, x):
        return 2 * x

    def backward(self, xp, grad):
        grad *= 2             # modifies the incoming gradient
        return grad


class Float64Output(Function):
    def forward(self, x):
        return x.astype(np.float64) * 2

    def backward(self, xp, grad):
        return (grad * 2).astype(np.float32)


class GoodMul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, xp, grad):
        return unbroadcast(grad * self.b, self.a.shape), unbroadcast(grad * self.a, self.b.shape)


def no_unbroadcast_mul(a, b):
    return NoUnbroadcastMul.apply(a, b)


def good_mul(a, b):
    return GoodMul.apply(a, b)


# ---- passing ops --------------------------------------------------------------------------
def test_right_ops_pass_in_every_shape_form():
    check_op(mg.exp, np.exp, shapes=((2, 3),))()
    check_op(mg.exp, np.exp, shapes=(2, 3))()                       # one input's shape
    check_op(good_mul, np.multiply, shapes="broadcastable")()
    check_op(mg.mul, np.multiply, shapes=strategies.broadcastable_shapes(count=2))()
    check_op(mg.matmul, np.matmul, shapes=st.sampled_from([((2, 3), (3,)), ((3,), (3, 2))]))()
    check_op(mg.tanh, np.tanh, shapes=strategies.shapes(max_dims=2), dtype=np.float32)()


def test_a_decorated_function_gets_each_case_and_keeps_its_name():
    seen = []

    @check_op(mg.mul, np.multiply, shapes="broadcastable")
    def test_mul_extra(case):
        """My docstring."""
        assert isinstance(case, OpCase)
        assert case.complex_step                    # np.multiply is complex-analytic
        assert case.output.shape == np.broadcast_shapes(*(a.shape for a in case.arrays))
        assert [g.shape for g in case.grads] == [a.shape for a in case.arrays]
        seen.append(case)

    assert test_mul_extra.__name__ == "test_mul_extra"
    assert test_mul_extra.__doc__ == "My docstring."
    settings(max_examples=7)(test_mul_extra)()
    assert len(seen) >= 7


def test_a_decorated_function_without_arguments_runs_per_example():
    calls = []

    @check_op(mg.exp, np.exp, shapes=(3,))
    def test_exp_extra():
        calls.append(1)

    QUICK(test_exp_extra)()
    assert len(calls) == 5


def test_keyword_strategies_fixed_values_and_functions_of_the_shapes():
    check_op(F.softmax, lambda x, dim: np.exp(x) / np.exp(x).sum(axis=dim, keepdims=True),
             shapes=strategies.shapes(min_dims=1, max_dims=3, max_side=3),
             dim=lambda shapes: st.integers(-len(shapes[0]), len(shapes[0]) - 1))()
    check_op(mg.sum, lambda x, dim: x.sum(axis=dim), shapes=(2, 3), dim=1)()
    check_op(lambda x, p: x ** p, lambda x, p: x ** p, shapes=(4,),
             elements={"low": 0.5, "high": 2.0}, p=st.sampled_from([2, 3, 0.5]))()


def test_non_analytic_reference_falls_back_to_central_differences():
    seen = []

    @check_op(mg.abs, np.abs, shapes=(3,), elements={"avoid_zero": 0.1})
    def test_abs(case):
        seen.append(case.complex_step)

    test_abs()
    assert seen and not any(seen)    # np.abs of a complex array is real: no complex step


def test_without_a_reference_the_gradient_is_still_checked():
    check_op(mg.tanh, shapes=(2, 2))()
    fails(check_op(WrongTanh.apply, shapes=(3,)), "differs at element")


def test_kinks_are_checked_as_subgradients_not_failed():
    kinks = []

    @check_op(F.relu, lambda x: np.maximum(x, 0), shapes=(3,),
              elements={"low": 0.0, "high": 0.0})          # all exactly 0: all kinks
    def test_relu_at_zero(case):
        kinks.append(case.kinks)

    QUICK(test_relu_at_zero)()
    assert kinks[0] == ((0, (0,)), (0, (1,)), (0, (2,)))


# ---- each broken op is caught -------------------------------------------------------------
def test_a_missing_unbroadcast_is_caught():
    # the engine itself now refuses a gradient whose shape is not its input's
    with pytest.raises(RuntimeError, match=r"NoUnbroadcastMul.backward returned a gradient of "
                                           r"dtype float64 and shape \(2, 3\) for input 1"):
        QUICK(check_op(no_unbroadcast_mul, np.multiply, shapes=((2, 3), (3,))))()


def test_a_tiny_gradient_error_is_caught_by_the_complex_step():
    fails(check_op(SlightlyWrongTanh.apply, np.tanh, shapes=(4,)), "complex-step")


def test_a_wrong_forward_is_caught():
    fails(check_op(WrongForwardExp.apply, np.exp, shapes=(3,)), "forward differs")


def test_mutating_an_input_is_caught():
    fails(check_op(MutatingSquare.apply, np.square, shapes=(3,)),
          "forward changed input 0 in place")


def test_a_gradient_aliasing_its_input_is_caught():
    fails(check_op(AliasingIdentity.apply, lambda x: x, shapes=(3,)),
          "sharing memory with input 0")


def test_modifying_the_incoming_gradient_is_caught():
    fails(check_op(InPlaceGradDouble.apply, lambda x: 2 * x, shapes=(3,)),
          "modified its incoming gradient")


def test_float32_in_must_give_float32_out():
    fails(check_op(Float64Output.apply, lambda x: 2 * x, shapes=(3,), dtype=np.float32),
          "float32 inputs gave a float64 output")


def test_an_autograd_function_without_graph_is_caught():
    fails(check_op(lambda x: mg.tensor(x.detach().numpy() * 2), lambda x: 2 * x, shapes=(2,)),
          "no grad_fn")


# ---- argument errors ------------------------------------------------------------------------
def test_argument_errors():
    with pytest.raises(ValueError, match="broadcastable"):
        check_op(mg.exp, np.exp, shapes="any")
    with pytest.raises(TypeError, match="float32 or float64"):
        check_op(mg.exp, np.exp, shapes=(2,), dtype=np.int64)
    with pytest.raises(ValueError, match="analytic=True needs a reference"):
        check_op(mg.exp, shapes=(2,), analytic=True)
    with pytest.raises(ValueError, match="how many inputs"):
        check_op(autograd.Function.apply, shapes="broadcastable")
    with pytest.raises(TypeError, match="callable"):
        check_op("exp", shapes=(2,))
    with pytest.raises(ValueError, match="elements has 1 entries for 2 inputs"):
        QUICK(check_op(mg.mul, np.multiply, shapes="broadcastable", elements=[{}]))()


def test_the_example_custom_op_runs_and_its_tests_pass(capsys):
    namespace = runpy.run_path(str(EXAMPLE))
    namespace["main"]()
    printed = capsys.readouterr().out
    assert "test_softplus_float32: passed" in printed
    assert "SoftplusBackward" in printed


# ---- friction for custom ops -------------------------------------------------------------
class BroadcastingMul(autograd.Function):
    """x * y with broadcasting, its backward written with sum_to_size."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return (grad * y).sum_to_size(x.shape), (grad * x).sum_to_size(y.shape)


class WrongBroadcastingMul(BroadcastingMul):
    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return (grad * y * 1.1).sum_to_size(x.shape), (grad * x).sum_to_size(y.shape)


class EngineScale(Function):
    def forward(self, x, y, *, factor=2.0):
        return x * y * factor

    def backward(self, xp, grad):
        return None, None


def test_apply_of_a_function_gives_its_input_count_from_forward():
    @QUICK
    @check_op(BroadcastingMul.apply, np.multiply, shapes="broadcastable")
    def test_mul(case):
        assert len(case.arrays) == 2
        assert case.grads[0].shape == case.arrays[0].shape

    test_mul()
    from minigrad.testing.check_op import _OpSpec

    for fn in (BroadcastingMul.apply, EngineScale.apply, lambda a, b, c=1: a):
        spec = _OpSpec(fn, None, "broadcastable", np.dtype(np.float64), None, None, {})
        assert spec._arity() == 2
    with pytest.raises(ValueError, match="cannot tell how many inputs"):
        _OpSpec(lambda *args: args[0], None, "broadcastable", np.dtype(np.float64), None, None,
                {})


def test_failures_show_the_message_before_any_check_op_internals(tmp_path):
    import subprocess
    import sys

    (tmp_path / "test_broken.py").write_text(
        "import numpy as np\n"
        "from hypothesis import settings\n"
        "settings.register_profile('no_deadline', deadline=None)\n"  # a loaded machine is slow
        "settings.load_profile('no_deadline')\n"
        "from minigrad.testing import check_op, gradcheck\n"
        "import minigrad as mg\n"
        "from tests_support import WrongBroadcastingMul\n"
        "test_op = check_op(WrongBroadcastingMul.apply, np.multiply, shapes='broadcastable')\n"
        "def test_gradcheck():\n"
        "    gradcheck(WrongBroadcastingMul.apply, [mg.tensor([1.0, 2.0]), mg.tensor(3.0)])\n")
    (tmp_path / "tests_support.py").write_text(
        "import minigrad as mg\n"
        "from minigrad import autograd\n"
        "class WrongBroadcastingMul(autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x, y):\n"
        "        ctx.save_for_backward(x, y)\n"
        "        return x * y\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad):\n"
        "        x, y = ctx.saved_tensors\n"
        "        return (grad * y * 1.1).sum_to_size(x.shape), (grad * x).sum_to_size(y.shape)\n")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_broken.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        env={"PYTHONPATH": f"{root}:{tmp_path}", "PATH": "/usr/bin:/bin",
             "OPENBLAS_NUM_THREADS": "1"})
    output = result.stdout
    assert result.returncode == 1, output
    for test, message in (("test_op", "CheckOpError: check_op(WrongBroadcastingMul.apply)"),
                          ("test_gradcheck", "GradcheckError: gradcheck: gradient of input 0")):
        section = output.split(f"_ {test} _", 1)[1]
        before = section.split(message, 1)[0]
        assert message in section
        assert "def _check_example" not in before and "def _compare" not in before
        assert "def _fail" not in before and "raise GradcheckError" not in before
        assert len(before.splitlines()) < 12, before
