"""Factories, dtypes and devices with PyTorch's names: size=/device= keywords, *_like and
new_* factories, legacy constructors, Tensor.type(), minigrad.device and minigrad.cuda."""

import pickle

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

DTYPES = [("float32", "float32"), ("float64", "float64"), ("float16", "float16"),
          ("int64", "int64"), ("int32", "int32"), ("int16", "int16"), ("int8", "int8"),
          ("uint8", "uint8"), ("bool", "bool")]
ALIASES = ["float", "double", "half", "long", "int", "short", "bool", "uint8", "int8", "int16"]


def same_dtype(ours, theirs):
    return str(ours) == str(theirs).removeprefix("torch.")


@pytest.mark.parametrize("name", ALIASES)
def test_dtype_aliases_match_torch(name):
    assert same_dtype(getattr(mg, name), getattr(torch, name))


def test_complex_dtypes_are_refused_with_a_clear_error():
    with pytest.raises(AttributeError, match="cfloat.*float32"):
        mg.cfloat  # noqa: B018
    assert not hasattr(mg, "bfloat16")


@pytest.mark.parametrize("factory", ["zeros", "ones", "empty", "randn", "rand"])
def test_size_keyword_and_positional_sizes(factory):
    make = getattr(mg, factory)
    for args, kwargs in [((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}), ((), {"size": (2, 3)}),
                         ((), {"size": [2, 3]})]:
        ours = make(*args, **kwargs)
        theirs = getattr(torch, factory)(*args, **kwargs)
        assert ours.shape == tuple(theirs.shape)
        assert same_dtype(ours.dtype, theirs.dtype)
    assert make(size=()).shape == ()
    with pytest.raises(TypeError):
        make(2, size=(2,))


@pytest.mark.parametrize("factory", ["zeros", "ones", "empty", "randn", "rand", "eye"])
def test_device_keyword(factory):
    make = getattr(mg, factory)
    assert make(2, device="cpu").shape == tuple(getattr(torch, factory)(2, device="cpu").shape)
    assert make(2, device=mg.device("cpu")).device == "cpu"
    with pytest.raises(RuntimeError, match="cuda:1"):
        make(2, device="cuda:1")
    with pytest.raises(RuntimeError, match="mps"):
        make(2, device=mg.device("mps"))


def test_other_factories_take_device():
    assert mg.tensor([1.0], device="cpu").device == "cpu"
    assert mg.as_tensor([1.0], device=mg.device("cpu")).tolist() == [1.0]
    with pytest.raises(RuntimeError, match="cuda"):
        mg.tensor([1.0], device="cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        mg.nn.Linear(2, 2).cuda()
    assert mg.full((2,), 1.5, device="cpu").tolist() == [1.5, 1.5]
    assert mg.arange(3, device="cpu").tolist() == [0, 1, 2]
    assert mg.linspace(0, 1, 3, device="cpu").tolist() == [0, 0.5, 1]
    assert mg.randint(0, 5, (3,), device="cpu").shape == (3,)
    for call in (lambda: mg.full((2,), 1.0, device="cuda"), lambda: mg.arange(3, device="cuda"),
                 lambda: mg.randint(5, (2,), device="cuda")):
        with pytest.raises(RuntimeError, match="cuda"):
            call()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shape", [(), (0,), (2, 3)])
def test_like_factories_match_torch(dtype, shape):
    ours = mg.tensor(np.ones(shape, dtype=dtype))
    theirs = torch.from_numpy(np.ones(shape, dtype=dtype))
    for name, args in [("zeros_like", ()), ("ones_like", ()), ("full_like", (7,)),
                       ("empty_like", ()), ("randint_like", (3,)), ("randint_like", (2, 5))]:
        if name == "randint_like" and dtype == "bool":
            continue  # PyTorch: "to - 1 is out of bounds for bool"
        got, want = getattr(mg, name)(ours, *args), getattr(torch, name)(theirs, *args)
        assert got.shape == tuple(want.shape) and same_dtype(got.dtype, want.dtype), name
        if name in ("zeros_like", "ones_like", "full_like"):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    for name in ("randn_like", "rand_like"):
        if not ours.numel() and not dtype.startswith("float"):
            continue  # PyTorch checks the dtype only when it draws something
        if dtype.startswith("float"):
            got, want = getattr(mg, name)(ours), getattr(torch, name)(theirs)
            assert got.shape == tuple(want.shape) and same_dtype(got.dtype, want.dtype)
        else:
            with pytest.raises(RuntimeError):
                getattr(torch, name)(theirs)
            with pytest.raises(RuntimeError, match=name):
                getattr(mg, name)(ours)
    assert mg.zeros_like(ours, dtype=mg.float64).dtype == mg.float64


def test_random_like_factories_follow_the_seed():
    x = mg.zeros(3, 4)
    mg.manual_seed(5)
    first = (mg.randn_like(x).numpy(), mg.rand_like(x).numpy(), mg.randint_like(x, 9).numpy())
    mg.manual_seed(5)
    again = (mg.randn_like(x).numpy(), mg.rand_like(x).numpy(), mg.randint_like(x, 9).numpy())
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    values = mg.rand_like(mg.zeros(1000)).numpy()
    assert 0 <= values.min() and values.max() < 1
    integers = mg.randint_like(mg.zeros(1000), 2, 5).numpy()
    assert set(np.unique(integers)) == {2, 3, 4}
    assert mg.randn_like(x, requires_grad=True).requires_grad


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_new_factories_match_torch(dtype):
    ours = mg.tensor(np.ones((2,), dtype=dtype))
    theirs = torch.from_numpy(np.ones((2,), dtype=dtype))
    cases = [("new_zeros", (2, 3), {}), ("new_zeros", ((2, 3),), {}), ("new_ones", (), {"size": (4,)}),
             ("new_full", ((2,), 3), {}), ("new_empty", (0,), {}), ("new_tensor", ([1, 0],), {}),
             ("new_zeros", (2,), {"dtype": "float64"})]
    for name, args, kwargs in cases:
        torch_kwargs = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
        got = getattr(ours, name)(*args, **kwargs)
        want = getattr(theirs, name)(*args, **torch_kwargs)
        assert got.shape == tuple(want.shape) and same_dtype(got.dtype, want.dtype), name
        if name != "new_empty":
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(RuntimeError, match="cuda"):
        ours.new_zeros(2, device="cuda")


def test_new_tensor_copies_and_cuts_the_graph():
    x = mg.ones(2, requires_grad=True)
    source = mg.tensor([1.0, 2.0])
    copy = x.new_tensor(source)
    source.data[0] = 9
    assert copy.tolist() == [1, 2] and copy.grad_fn is None and not copy.requires_grad
    assert x.new_ones(2, requires_grad=True).requires_grad


def test_legacy_constructors_match_torch():
    # minigrad.Tensor(data) keeps the data's dtype (as minigrad.tensor does); sizes as PyTorch
    for args in [(), (2, 3), (4,), ([1.0, 2],), ([[1.5], [2.0]],)]:
        got, want = mg.Tensor(*args), torch.Tensor(*args)
        assert got.shape == tuple(want.shape) and same_dtype(got.dtype, want.dtype), args
    for name in ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ShortTensor",
                 "CharTensor", "ByteTensor", "BoolTensor", "HalfTensor"]:
        for args in [(), (2, 3), ([1, 0, 2],)]:
            got, want = getattr(mg, name)(*args), getattr(torch, name)(*args)
            assert got.shape == tuple(want.shape) and same_dtype(got.dtype, want.dtype)
            if args and isinstance(args[0], list):
                np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert isinstance(mg.zeros(2), mg.FloatTensor)
    assert not isinstance(mg.zeros(2), mg.LongTensor)
    assert isinstance(mg.tensor([1]), mg.LongTensor)
    assert mg.Tensor(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError):
        mg.Tensor(2, "a")
    with pytest.raises(RuntimeError, match="negative"):
        mg.Tensor(-1)


@pytest.mark.parametrize("dtype", [d for d, _ in DTYPES])
def test_type_names_match_torch(dtype):
    ours = mg.tensor(np.zeros(2, dtype=dtype))
    theirs = torch.from_numpy(np.zeros(2, dtype=dtype))
    assert ours.type().removeprefix("minigrad.") == theirs.type().removeprefix("torch.")


def test_type_converts():
    x = mg.tensor([1.5, -2.0], requires_grad=True)
    assert x.type(mg.float64).dtype == mg.float64
    assert x.type("torch.DoubleTensor").dtype == mg.float64
    assert x.type("minigrad.LongTensor").tolist() == [1, -2]
    assert x.type(mg.IntTensor).dtype == mg.int32
    assert x.type(mg.float32) is x
    y = x.type(mg.float64)
    y.sum().backward()
    assert x.grad.dtype == mg.float32 and x.grad.tolist() == [1, 1]
    with pytest.raises(ValueError):
        torch.zeros(1).type("foo")
    with pytest.raises(ValueError, match="foo"):
        x.type("foo")


def test_device_object_like_torch():
    for spec in ["cpu", "cuda", "cuda:1", "mps", "meta"]:
        ours, theirs = mg.device(spec), torch.device(spec)
        assert (ours.type, ours.index, str(ours)) == (theirs.type, theirs.index, str(theirs))
        assert repr(ours) == repr(theirs)
    assert mg.device("cuda", 1) == mg.device("cuda:1") == "cuda:1"
    assert mg.device("cpu") != mg.device("cuda")
    assert mg.device(mg.device("cpu")) == "cpu"
    assert len({mg.device("cpu"), mg.device("cpu")}) == 1
    assert pickle.loads(pickle.dumps(mg.device("cuda:2"))) == "cuda:2"
    for bad in ["foo", "gpu:0"]:
        with pytest.raises(RuntimeError):
            torch.device(bad)
        with pytest.raises(RuntimeError, match="device type"):
            mg.device(bad)
    with pytest.raises(TypeError):
        mg.device(3.5)


def test_tensor_device_queries():
    x = mg.randn(2, requires_grad=True)
    assert x.device == mg.device("cpu") and x.device == "cpu" and x.device.type == "cpu"
    assert not x.is_cuda and x.is_cpu
    assert x.cpu() is x and x.to("cpu") is x and x.to(mg.device("cpu")) is x
    assert x.to("cpu", mg.float64).dtype == mg.float64
    assert x.to(device="cpu", dtype=mg.float64).dtype == mg.float64
    copy = x.to("cpu", copy=True)
    assert copy is not x and copy.grad_fn is not None
    for call in (lambda: x.cuda(), lambda: x.to("cuda"), lambda: x.to(device="cuda:0"),
                 lambda: x.to(mg.device("mps")), lambda: x.to(0)):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()
    assert x.is_floating_point() and not mg.tensor([1]).is_floating_point()
    assert mg.is_tensor(x) and not mg.is_tensor(np.zeros(1))


def test_cuda_namespace():
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0
    mg.cuda.manual_seed(1)
    mg.cuda.manual_seed_all(1)
    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")
    assert mg.zeros(2, device=device).device == "cpu"


def test_layers_take_device_objects():
    layer = mg.nn.Linear(2, 3, device=mg.device("cpu"))
    assert layer.weight.device == "cpu"
    with pytest.raises(RuntimeError, match="cuda"):
        mg.nn.Linear(2, 3, device="cuda")
    assert layer.to(mg.device("cpu")) is layer


@pytest.mark.parametrize("key", [range(2), range(0, 3, 2), (slice(None), range(1, 3))])
def test_range_as_index(key):
    data = np.arange(12.0).reshape(3, 4)
    ours = mg.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    got, want = ours[key], theirs[key]
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
