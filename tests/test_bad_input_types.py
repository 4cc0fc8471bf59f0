"""Bad input, part two: dtypes at the door, value ranges, `.data` assignment, hook results and
`backward(gradient=...)`. One table per class of mistake, as in test_bad_input.py: each case
makes one mistake (`call`), must raise `error` matching `match`, and may snapshot state
before and after (`state`), which must match. `torch`, when given, makes the same mistake in
PyTorch, which must raise the same exception type (`torch_error` names PyTorch's type where
minigrad deliberately differs, and the case says why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


@dataclass
class Case:
    id: str
    call: Callable[[dict], Any]
    error: type
    match: str
    torch: Callable[[Any], Any] | None = None
    setup: Callable[[], dict] | None = None
    state: Callable[[dict], Any] | None = None
    torch_error: type | None = None


STRINGS = np.array(["a", "b"])
OBJECTS = np.array([1, None], dtype=object)
DATES = np.array(["2020-01-01", "2021-06-30"], dtype="datetime64[D]")
DURATIONS = np.array([1, 2], dtype="timedelta64[s]")
COMPLEX = np.array([1 + 2j, 3 - 1j])
SUPPORTED = "the only supported types are bool, integers and float16, float32, float64"

DTYPES_AT_THE_DOOR = [
    Case("tensor of a string array", lambda env: mg.tensor(STRINGS), TypeError,
         r"tensor: can't convert np.ndarray of dtype <U1 \(strings\); " + SUPPORTED,
         lambda torch: torch.tensor(STRINGS)),
    Case("tensor of an object array", lambda env: mg.tensor(OBJECTS), TypeError,
         r"dtype object \(Python objects\)", lambda torch: torch.tensor(OBJECTS)),
    Case("object array with a dtype given", lambda env: mg.tensor(OBJECTS, dtype=mg.float32),
         TypeError, r"dtype object", lambda torch: torch.tensor(OBJECTS, dtype=torch.float32)),
    Case("tensor of datetimes", lambda env: mg.tensor(DATES), TypeError,
         r"dtype datetime64\[D\] \(datetimes\)", lambda torch: torch.tensor(DATES)),
    Case("tensor of timedeltas", lambda env: mg.tensor(DURATIONS), TypeError,
         r"dtype timedelta64\[s\] \(timedeltas\)", lambda torch: torch.tensor(DURATIONS)),
    # PyTorch has complex tensors; minigrad has no complex ops, so it refuses them at the door
    Case("tensor of a complex array", lambda env: mg.tensor(COMPLEX), TypeError,
         r"dtype complex128 \(complex numbers\)"),
    Case("tensor of Python complex numbers", lambda env: mg.tensor([1 + 2j]), TypeError,
         r"cannot build a tensor from list \(NumPy sees dtype complex128\)"),
    Case("tensor of a list of strings", lambda env: mg.tensor(["1.0", "2.0"]), TypeError,
         r"cannot build a tensor from list \(NumPy sees dtype <U3\)",
         # PyTorch's "too many dimensions 'str'" is a ValueError; a wrong type is a TypeError
         lambda torch: torch.tensor(["1.0", "2.0"]), torch_error=ValueError),
    Case("Tensor class of a string array", lambda env: mg.Tensor(STRINGS), TypeError,
         r"tensor: can't convert np.ndarray of dtype <U1",
         lambda torch: torch.Tensor(STRINGS)),
    Case("as_tensor of datetimes", lambda env: mg.as_tensor(DATES), TypeError,
         r"datetime64", lambda torch: torch.as_tensor(DATES)),
    Case("from_numpy of objects", lambda env: mg.from_numpy(OBJECTS), TypeError,
         r"from_numpy: can't convert np.ndarray of dtype object",
         lambda torch: torch.from_numpy(OBJECTS)),
    Case("from_numpy of strings", lambda env: mg.from_numpy(STRINGS), TypeError,
         r"from_numpy: can't convert np.ndarray of dtype <U1",
         lambda torch: torch.from_numpy(STRINGS)),
    Case("Parameter of objects", lambda env: nn.Parameter(OBJECTS), TypeError,
         r"dtype object", lambda torch: torch.nn.Parameter(torch.tensor(OBJECTS))),
    Case("a string array as an operand", lambda env: mg.ones(2) + STRINGS, TypeError,
         r"operand: can't convert np.ndarray of dtype <U1",
         # PyTorch leaves it to NumPy, whose UFuncTypeError is a TypeError too
         lambda torch: torch.ones(2) + STRINGS),
    # ---- ops that mix dtypes PyTorch refuses ----------------------------------------------
    Case("int tensor into a float Linear", lambda env: nn.Linear(3, 2)(mg.tensor([[1, 2, 3]])),
         RuntimeError, r"Linear: linear: expected input and weight to have the same dtype, "
                       r"but got input int64 and weight float32",
         lambda torch: torch.nn.Linear(3, 2)(torch.tensor([[1, 2, 3]]))),
    Case("float64 into a float32 Linear",
         lambda env: nn.Linear(3, 2)(mg.ones(1, 3, dtype=mg.float64)), RuntimeError,
         r"input float64 and weight float32",
         lambda torch: torch.nn.Linear(3, 2)(torch.ones(1, 3, dtype=torch.float64))),
    Case("linear with a float64 weight",
         lambda env: F.linear(mg.ones(2, 3), mg.ones(4, 3, dtype=mg.float64)), RuntimeError,
         r"linear: .*input float32 and weight float64",
         lambda torch: torch.nn.functional.linear(torch.ones(2, 3),
                                                  torch.ones(4, 3, dtype=torch.float64))),
    Case("linear with a float64 bias",
         lambda env: F.linear(mg.ones(2, 3), mg.ones(4, 3), mg.ones(4, dtype=mg.float64)),
         RuntimeError, r"linear: .*input float32 and bias float64",
         lambda torch: torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3),
                                                  torch.ones(4, dtype=torch.float64))),
    Case("matmul float32 @ float64",
         lambda env: mg.ones(2, 3) @ mg.ones(3, 2, dtype=mg.float64), RuntimeError,
         r"matmul: expected input and other to have the same dtype, but got input float32 "
         r"and other float64",
         lambda torch: torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)),
    Case("matmul int @ float", lambda env: mg.tensor([[1, 2]]) @ mg.ones(2, 2), RuntimeError,
         r"matmul: .*input int64 and other float32",
         lambda torch: torch.tensor([[1, 2]]) @ torch.ones(2, 2)),
    Case("matmul int32 @ int64",
         lambda env: mg.tensor([[1, 2]], dtype=mg.int32) @ mg.tensor([[1], [2]]),
         RuntimeError, r"input int32 and other int64",
         lambda torch: torch.tensor([[1, 2]], dtype=torch.int32) @ torch.tensor([[1], [2]])),
    Case("matmul float16 @ float32",
         lambda env: mg.ones(2, 2, dtype=mg.float16) @ mg.ones(2, 2), RuntimeError,
         r"input float16 and other float32",
         lambda torch: torch.ones(2, 2, dtype=torch.float16) @ torch.ones(2, 2)),
    Case("matrix @ vector of another dtype",
         lambda env: mg.ones(2, 3) @ mg.ones(3, dtype=mg.float64), RuntimeError,
         r"input float32 and other float64",
         lambda torch: torch.ones(2, 3) @ torch.ones(3, dtype=torch.float64)),
    Case("batched matmul mixed", lambda env: mg.ones(2, 2, 3) @ mg.ones(3, 2, dtype=mg.float64),
         RuntimeError, r"input float32 and other float64",
         lambda torch: torch.ones(2, 2, 3) @ torch.ones(3, 2, dtype=torch.float64)),
    Case("mm mixed", lambda env: mg.mm(mg.ones(2, 3), mg.ones(3, 2, dtype=mg.float64)),
         RuntimeError, r"mm: .*input float32 and other float64",
         lambda torch: torch.mm(torch.ones(2, 3), torch.ones(3, 2, dtype=torch.float64))),
    Case("bmm mixed", lambda env: mg.bmm(mg.ones(1, 2, 3), mg.ones(1, 3, 2, dtype=mg.float64)),
         RuntimeError, r"bmm: .*input float32 and other float64",
         lambda torch: torch.bmm(torch.ones(1, 2, 3), torch.ones(1, 3, 2, dtype=torch.float64))),
    Case("matmul with a float64 NumPy array",
         lambda env: mg.ones(2, 3) @ np.ones((3, 2)), RuntimeError,
         r"input float32 and other float64"),
    Case("float64 into a float32 BatchNorm",
         lambda env: nn.BatchNorm1d(3)(mg.ones(4, 3, dtype=mg.float64)), RuntimeError,
         r"BatchNorm1d: batch_norm: mixed dtype: input float64, parameters and buffers float32",
         lambda torch: torch.nn.BatchNorm1d(3)(torch.ones(4, 3, dtype=torch.float64))),
    Case("int tensor into BatchNorm",
         lambda env: nn.BatchNorm2d(3)(mg.ones(2, 3, 2, 2, dtype=mg.int64)),
         NotImplementedError, r"batch_norm: not implemented for dtype int64",
         lambda torch: torch.nn.BatchNorm2d(3)(torch.ones(2, 3, 2, 2, dtype=torch.int64))),
    Case("conv2d of an int input",
         lambda env: F.conv2d(mg.ones(1, 1, 4, 4, dtype=mg.int64), mg.ones(1, 1, 2, 2)),
         RuntimeError, r"conv2d: input dtype int64 and weight dtype float32",
         lambda torch: torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4, dtype=torch.int64),
                                                  torch.ones(1, 1, 2, 2))),
    Case("conv2d with a float64 bias",
         lambda env: F.conv2d(mg.ones(1, 1, 4, 4), mg.ones(1, 1, 2, 2),
                              mg.ones(1, dtype=mg.float64)),
         RuntimeError, r"conv2d: input dtype float32 and bias dtype float64",
         lambda torch: torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2),
                                                  torch.ones(1, dtype=torch.float64))),
]

HALF, TWO = np.array([0.5, 0.5], np.float32), np.array([1.0, 2.0], np.float32)

VALUE_RANGES = [
    Case("binary_cross_entropy target above 1",
         lambda env: F.binary_cross_entropy(mg.tensor(HALF), mg.tensor(TWO)), RuntimeError,
         r"binary_cross_entropy: all elements of target should be between 0 and 1 \(found 2.0 "
         r"at index \(1,\)\)",
         lambda torch: torch.nn.functional.binary_cross_entropy(torch.tensor(HALF),
                                                                torch.tensor(TWO))),
    Case("binary_cross_entropy negative target",
         lambda env: F.binary_cross_entropy(mg.tensor(HALF), mg.tensor([0.0, -0.5])),
         RuntimeError, r"target should be between 0 and 1 \(found -0.5",
         lambda torch: torch.nn.functional.binary_cross_entropy(torch.tensor(HALF),
                                                                torch.tensor([0.0, -0.5]))),
    Case("binary_cross_entropy NaN target",
         lambda env: F.binary_cross_entropy(mg.tensor(HALF), mg.tensor([np.nan, 1.0])),
         RuntimeError, r"target should be between 0 and 1 \(found nan",
         lambda torch: torch.nn.functional.binary_cross_entropy(
             torch.tensor(HALF), torch.tensor([float("nan"), 1.0]))),
    Case("BCELoss target of labels 1 and 2",
         lambda env: nn.BCELoss()(mg.tensor(HALF), mg.tensor(TWO)), RuntimeError,
         r"BCELoss: binary_cross_entropy: all elements of target",
         lambda torch: torch.nn.BCELoss()(torch.tensor(HALF), torch.tensor(TWO))),
    Case("binary_cross_entropy NaN input",
         lambda env: F.binary_cross_entropy(mg.tensor([np.nan, 0.5]), mg.tensor(HALF)),
         RuntimeError, r"all elements of input should be between 0 and 1",
         lambda torch: torch.nn.functional.binary_cross_entropy(
             torch.tensor([float("nan"), 0.5]), torch.tensor(HALF))),
    Case("randint with low >= high", lambda env: mg.randint(3, 1, (2,)), RuntimeError,
         r"randint: .*from=3 >= to=1", lambda torch: torch.randint(3, 1, (2,))),
    Case("linspace with negative steps", lambda env: mg.linspace(0, 1, -1), RuntimeError,
         r"linspace: number of steps must be non-negative, got -1",
         lambda torch: torch.linspace(0, 1, -1)),
    Case("linspace with float steps", lambda env: mg.linspace(0, 1, 2.5), TypeError,
         r"linspace\(\): argument 'steps' must be int, not float",
         lambda torch: torch.linspace(0, 1, 2.5)),
    Case("uniform_ with a > b", lambda env: nn.init.uniform_(mg.ones(3), 1.0, 0.0),
         RuntimeError, r"uniform_: .*from=1.0 > to=0.0",
         lambda torch: torch.nn.init.uniform_(torch.ones(3), 1.0, 0.0)),
    Case("normal_ with negative std", lambda env: nn.init.normal_(mg.ones(3), std=-1.0),
         RuntimeError, r"normal_: normal expects std >= 0.0, but found std -1.0",
         lambda torch: torch.nn.init.normal_(torch.ones(3), std=-1.0)),
    Case("trunc_normal_ with an empty range",
         lambda env: nn.init.trunc_normal_(mg.ones(3), a=1.0, b=0.0), RuntimeError,
         r"trunc_normal_: expects a < b .*a=1.0, b=0.0",
         lambda torch: torch.nn.init.trunc_normal_(torch.ones(3), a=1.0, b=0.0)),
    # PyTorch draws nonsense for a negative std; minigrad's redraw loop would never end
    Case("trunc_normal_ with negative std",
         lambda env: nn.init.trunc_normal_(mg.ones(3), std=-1.0), RuntimeError,
         r"trunc_normal_: expects std > 0"),
    Case("trunc_normal_ with std 0 outside the range",
         lambda env: nn.init.trunc_normal_(mg.ones(3), mean=5.0, std=0.0), RuntimeError,
         r"std=0.0, mean=5.0"),
    Case("BatchNorm with a negative eps in training",
         lambda env: nn.BatchNorm1d(3, eps=-1.0)(mg.ones(4, 3)), ValueError,
         r"BatchNorm1d: batch_norm eps must be positive during training, but got -1.0",
         lambda torch: torch.nn.BatchNorm1d(3, eps=-1.0)(torch.ones(4, 3))),
    Case("BatchNorm with eps 0 in training",
         lambda env: nn.BatchNorm2d(3, eps=0.0)(mg.ones(2, 3, 2, 2)), ValueError,
         r"eps must be positive during training, but got 0.0",
         lambda torch: torch.nn.BatchNorm2d(3, eps=0.0)(torch.ones(2, 3, 2, 2))),
    Case("leaky_relu with a string slope",
         lambda env: F.leaky_relu(mg.ones(2), negative_slope="0.1"), TypeError,
         r"leaky_relu\(\): argument 'negative_slope' must be Number, not str",
         lambda torch: torch.nn.functional.leaky_relu(torch.ones(2), "0.1")),
]


def _layer() -> dict:
    mg.manual_seed(0)
    return {"layer": nn.Linear(3, 2)}


def _layer_state(env: dict) -> tuple:
    weight = env["layer"].weight
    return type(weight), weight.data.copy(), weight.data.dtype, weight.requires_grad


DATA_ASSIGNMENT = [
    Case(".data = a list", lambda env: setattr(env["layer"].weight, "data", [[1.0] * 3] * 2),
         TypeError, r"data: Variable data has to be a tensor \(or a NumPy array\), but got list",
         lambda torch: setattr(torch.nn.Linear(3, 2).weight, "data", [[1.0] * 3] * 2),
         setup=_layer, state=_layer_state),
    Case(".data = a float", lambda env: setattr(env["layer"].weight, "data", 0.5), TypeError,
         r"but got float", lambda torch: setattr(torch.nn.Linear(3, 2).weight, "data", 0.5),
         setup=_layer, state=_layer_state),
    Case(".data = None", lambda env: setattr(env["layer"].weight, "data", None), TypeError,
         r"but got NoneType", lambda torch: setattr(torch.nn.Linear(3, 2).weight, "data", None),
         setup=_layer, state=_layer_state),
    Case(".data = an int tensor under requires_grad",
         lambda env: setattr(env["layer"].weight, "data", mg.zeros(2, 3, dtype=mg.int64)),
         RuntimeError, r"data set to a tensor that requires gradients must be floating point "
                       r"\(got dtype int64\)",
         lambda torch: setattr(torch.nn.Linear(3, 2).weight, "data",
                               torch.zeros(2, 3, dtype=torch.int64)),
         setup=_layer, state=_layer_state),
    Case(".data = a string array",
         lambda env: setattr(env["layer"].weight, "data", np.full((2, 3), "x")), TypeError,
         r"data: can't convert np.ndarray of dtype <U1", setup=_layer, state=_layer_state),
    # PyTorch lets `.data` change a parameter's shape and breaks the layer and its optimizer
    # state later; the issue asks for a clear refusal at the assignment instead
    Case(".data = a tensor of another shape",
         lambda env: setattr(env["layer"].weight, "data", mg.zeros(5)), RuntimeError,
         r"data: cannot set the data of a Parameter of shape \(2, 3\) to a tensor of shape "
         r"\(5,\)", setup=_layer, state=_layer_state),
    Case(".data = its transpose",
         lambda env: setattr(env["layer"].weight, "data", env["layer"].weight.data.T),
         RuntimeError, r"Parameter of shape \(2, 3\) to a tensor of shape \(3, 2\)",
         setup=_layer, state=_layer_state),
]


def _leaf() -> dict:
    return {"x": mg.ones(3, requires_grad=True)}


def _grad_state(env: dict) -> Any:
    grad = env["x"].grad
    return None if grad is None else grad.numpy().copy()


def _hooked(env: dict, hook: Callable, on: str) -> None:
    """Backward through 2 * x with `hook` on the leaf x or on the non-leaf 2 * x."""
    x = env["x"]
    y = x * 2
    (x if on == "leaf" else y).register_hook(hook)
    (y * 1).sum().backward()


def _torch_hooked(torch: Any, hook: Callable, on: str) -> None:
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    (x if on == "leaf" else y).register_hook(hook)
    (y * 1).sum().backward()


def _hook_case(name: str, ours: Callable, theirs: Callable | None, error: type, match: str,
               on: str) -> Case:
    return Case(f"{on} hook {name}", lambda env: _hooked(env, ours, on), error, match,
                None if theirs is None else (lambda torch: _torch_hooked(torch, theirs, on)),
                setup=_leaf, state=_grad_state)


def shrink(grad: Any) -> Any:
    return grad[:1]


HOOKS = [
    _hook_case("shrinking the gradient", shrink, shrink, RuntimeError,
               r"hook 'shrink' has changed the size of value \(was \(3,\) got \(1,\)\)", "leaf"),
    _hook_case("shrinking the gradient", shrink, shrink, RuntimeError,
               r"hook 'shrink' has changed the size of value", "non-leaf"),
    _hook_case("returning a 1-element tensor", lambda g: mg.ones(1), lambda g: g.new_ones(1),
               RuntimeError, r"has changed the size of value \(was \(3,\) got \(1,\)\)", "leaf"),
    _hook_case("growing the gradient", lambda g: mg.ones(2, 3), lambda g: g.new_ones(2, 3),
               RuntimeError, r"has changed the size of value \(was \(3,\) got \(2, 3\)\)",
               "non-leaf"),
    _hook_case("casting to float64", lambda g: g.double(), lambda g: g.double(), RuntimeError,
               r"hook '<lambda>' has changed the type of value \(was float32 got float64\)",
               "leaf"),
    _hook_case("casting to float64", lambda g: g.double(), lambda g: g.double(), RuntimeError,
               r"has changed the type of value \(was float32 got float64\)", "non-leaf"),
    _hook_case("casting to int64", lambda g: g.long(), lambda g: g.long(), RuntimeError,
               r"has changed the type of value \(was float32 got int64\)", "non-leaf"),
    _hook_case("returning a list", lambda g: [1.0, 1.0, 1.0], lambda g: [1.0, 1.0, 1.0],
               TypeError, r"expected Variable, but hook returned 'list'", "non-leaf"),
    _hook_case("returning a NumPy array", lambda g: g.numpy() * 2, lambda g: g.numpy() * 2,
               TypeError, r"expected Variable, but hook returned 'ndarray'", "leaf"),
]


def _module_hooked(module: Any, kind: str, hook: Callable, input_grad: bool = True) -> None:
    """Backward through a Linear(3, 2) with a full backward (pre) hook of `kind`."""
    layer = module.nn.Linear(3, 2)
    getattr(layer, f"register_full_backward_{kind}")(hook)
    layer(module.ones(1, 3, requires_grad=input_grad)).sum().backward()


def _module_case(name: str, kind: str, ours: Callable, theirs: Callable, match: str,
                 input_grad: bool = True) -> Case:
    return Case(f"module {kind} {name}",
                lambda env: _module_hooked(mg, kind, ours, input_grad), RuntimeError, match,
                lambda torch: _module_hooked(torch, kind, theirs, input_grad))


MODULE_HOOKS = [
    _module_case("shrinking grad_input", "hook", lambda m, gi, go: (mg.ones(5),),
                 lambda m, gi, go: (gi[0].new_ones(5),),
                 r"hook '<lambda>' has changed the size of value \(was \(1, 3\) got \(5,\)\)"),
    _module_case("casting grad_input", "hook", lambda m, gi, go: (gi[0].double(),),
                 lambda m, gi, go: (gi[0].double(),),
                 r"has changed the type of value \(was float32 got float64\)"),
    _module_case("returning two grad_inputs", "hook", lambda m, gi, go: (gi[0], gi[0]),
                 lambda m, gi, go: (gi[0], gi[0]),
                 r"Backward hook returned an invalid number of grad_input, got 2, but "
                 r"expected 1"),
    _module_case("growing grad_output", "pre_hook", lambda m, go: (mg.ones(2, 2),),
                 lambda m, go: (go[0].new_ones(2, 2),),
                 r"has changed the size of value \(was \(1, 2\) got \(2, 2\)\)"),
    _module_case("casting grad_output", "pre_hook", lambda m, go: (go[0].double(),),
                 lambda m, go: (go[0].double(),), r"has changed the type of value"),
    _module_case("returning two grad_outputs", "pre_hook", lambda m, go: (go[0], go[0]),
                 lambda m, go: (go[0], go[0]),
                 r"Backward pre hook returned an invalid number of grad_output, got 2"),
    _module_case("returning a gradient for an input without grad", "hook",
                 lambda m, gi, go: (mg.ones(1, 3),), lambda m, gi, go: (gi[0],) if gi[0]
                 is not None else (go[0].new_ones(1, 3),),
                 r"Backward hook for Modules where no input requires gradient should always "
                 r"return None", input_grad=False),
]


def _output() -> dict:
    return {"y": mg.ones(2, requires_grad=True) * 2}


BACKWARD_GRADIENT = [
    Case("backward(gradient=list)", lambda env: env["y"].backward([1.0, 1.0]), TypeError,
         r"backward: gradient can be either a Tensor or None, but got list",
         lambda torch: (torch.ones(2, requires_grad=True) * 2).backward([1.0, 1.0]),
         setup=_output),
    Case("backward(gradient=ndarray)", lambda env: env["y"].backward(np.ones(2, np.float32)),
         TypeError, r"but got ndarray",
         lambda torch: (torch.ones(2, requires_grad=True) * 2).backward(np.ones(2, np.float32)),
         setup=_output),
    Case("backward(gradient=float)", lambda env: env["y"].sum().backward(1.0), TypeError,
         r"but got float",
         lambda torch: (torch.ones(2, requires_grad=True) * 2).sum().backward(1.0),
         setup=_output),
    Case("backward(gradient=str)", lambda env: env["y"].backward("ones"), TypeError,
         r"but got str",
         lambda torch: (torch.ones(2, requires_grad=True) * 2).backward("ones"),
         setup=_output),
]

TABLES = {"dtypes at the door": DTYPES_AT_THE_DOOR, "value ranges": VALUE_RANGES,
          ".data assignment": DATA_ASSIGNMENT, "tensor hook results": HOOKS,
          "module hook results": MODULE_HOOKS,
          "backward(gradient=)": BACKWARD_GRADIENT}
CASES = [case for table in TABLES.values() for case in table]


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


def test_every_class_has_several_cases_and_ids_are_unique():
    assert all(len(table) >= 4 for table in TABLES.values())
    assert len(set(_ids(CASES))) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_bad_input_raises_a_clear_error_and_changes_nothing(case):
    env = case.setup() if case.setup else {}
    before = case.state(env) if case.state else None
    with pytest.raises(case.error, match=case.match):
        case.call(env)
    if case.state:
        after = case.state(env)
        if isinstance(before, tuple):
            assert after[0] is before[0] and after[2:] == before[2:]
            np.testing.assert_array_equal(after[1], before[1])
        elif before is None:
            assert after is None
        else:
            np.testing.assert_array_equal(after, before)


WITH_TORCH = [case for case in CASES if case.torch is not None]


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # PyTorch's, no inputs
@pytest.mark.parametrize("case", WITH_TORCH, ids=_ids(WITH_TORCH))
def test_pytorch_raises_the_same_type_for_the_same_mistake(case):
    torch = pytest.importorskip("torch")
    expected = case.torch_error or case.error
    with pytest.raises(Exception) as caught:
        case.torch(torch)
    assert isinstance(caught.value, expected), (
        f"torch raised {type(caught.value).__name__}: {caught.value}")
