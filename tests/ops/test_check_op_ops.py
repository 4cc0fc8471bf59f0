"""Our own ops through `check_op`: forward against NumPy, gradients exact by the complex step
(or kink-aware central differences), broadcasting, dtypes, no mutation, no aliasing.

One line per op; the family test files hold the PyTorch comparisons and error checks.
"""

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import check_op
from minigrad.testing.strategies import shapes

SMALL = shapes(max_dims=3, max_side=4)
AT_LEAST_1D = shapes(min_dims=1, max_dims=3, max_side=4)
POSITIVE = {"low": 0.1, "high": 3.0}


def any_dim(shapes):
    """A valid dim of the first input, negative ones included."""
    ndim = len(shapes[0])
    return st.integers(-ndim, ndim - 1)


def np_softmax(x, dim):
    shifted = np.exp(x - x.real.max(axis=dim, keepdims=True))
    return shifted / shifted.sum(axis=dim, keepdims=True)


def np_log_softmax(x, dim):
    shifted = x - x.real.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


@st.composite
def matmul_shapes(draw):
    """(a, b) shapes matmul accepts: 1-D and 2-D operands, batch dims that broadcast."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    left = draw(st.sampled_from([(k,), (n, k), (2, n, k), (1, n, k)]))
    right = draw(st.sampled_from([(k,), (k, m), (2, k, m)]))
    return left, right


# elementwise, one input
test_exp = check_op(mg.exp, np.exp, shapes=SMALL)
test_log = check_op(mg.log, np.log, shapes=SMALL, elements=POSITIVE)
test_sqrt = check_op(mg.sqrt, np.sqrt, shapes=SMALL, elements=POSITIVE)
test_tanh = check_op(mg.tanh, np.tanh, shapes=SMALL)
test_tanh_float32 = check_op(mg.tanh, np.tanh, shapes=SMALL, dtype=np.float32)
test_sigmoid = check_op(mg.sigmoid, np_sigmoid, shapes=SMALL)
test_sin = check_op(mg.sin, np.sin, shapes=SMALL)
test_reciprocal = check_op(mg.reciprocal, np.reciprocal, shapes=SMALL,
                           elements={"avoid_zero": 0.2})
test_relu = check_op(F.relu, lambda x: np.maximum(x, 0), shapes=SMALL,
                     elements={"avoid_zero": 0.1})
test_abs = check_op(mg.abs, np.abs, shapes=SMALL, elements={"avoid_zero": 0.1})

# elementwise, two inputs that broadcast
test_add = check_op(mg.add, np.add, shapes="broadcastable")
test_sub = check_op(mg.sub, np.subtract, shapes="broadcastable")
test_mul = check_op(mg.mul, np.multiply, shapes="broadcastable")
test_mul_float32 = check_op(mg.mul, np.multiply, shapes="broadcastable", dtype=np.float32)
test_div = check_op(mg.div, np.divide, shapes="broadcastable",
                    elements=[{}, {"avoid_zero": 0.3}])
test_pow = check_op(mg.pow, np.power, shapes="broadcastable",
                    elements=[POSITIVE, {"low": -2.0, "high": 2.0}])
test_maximum = check_op(mg.maximum, np.maximum, shapes=((2, 3), (2, 3)),
                        elements={"distinct": True})

# matmul
test_matmul = check_op(mg.matmul, np.matmul, shapes=matmul_shapes())
test_matmul_float32 = check_op(mg.matmul, np.matmul, shapes=matmul_shapes(),
                               dtype=np.float32)

# reductions and softmax along a drawn dim
test_sum = check_op(mg.sum, lambda x, dim, keepdim: x.sum(axis=dim, keepdims=keepdim),
                    shapes=AT_LEAST_1D, dim=any_dim, keepdim=st.booleans())
test_mean = check_op(mg.mean, lambda x, dim: x.mean(axis=dim), shapes=AT_LEAST_1D,
                     dim=any_dim)
test_logsumexp = check_op(mg.logsumexp, lambda x, dim: np.log(np.exp(x).sum(axis=dim)),
                          shapes=AT_LEAST_1D, dim=any_dim)
test_softmax = check_op(F.softmax, np_softmax, shapes=AT_LEAST_1D, dim=any_dim)
test_log_softmax = check_op(F.log_softmax, np_log_softmax, shapes=AT_LEAST_1D, dim=any_dim)


@pytest.mark.parametrize("op, reference, options, exact", [
    (mg.exp, np.exp, {"shapes": (2, 2)}, True),
    (mg.mul, np.multiply, {"shapes": "broadcastable"}, True),
    (mg.matmul, np.matmul, {"shapes": matmul_shapes()}, True),
    (F.softmax, np_softmax, {"shapes": (2, 3), "dim": 1}, True),
    (mg.abs, np.abs, {"shapes": (3,), "elements": {"avoid_zero": 0.1}}, False),
], ids=["exp", "mul", "matmul", "softmax", "abs"])
def test_the_complex_step_is_picked_where_the_reference_is_analytic(op, reference, options,
                                                                     exact):
    """np.abs of a complex array is its modulus, so abs falls back to central differences."""
    picked = []
    check_op(op, reference, **options)(lambda case: picked.append(case.complex_step))()
    assert picked and all(flag == exact for flag in picked)
