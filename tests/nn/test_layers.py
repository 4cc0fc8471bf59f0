"""Every layer against PyTorch: repr, forward and backward (input and parameter grads), in
float32 and float64, with the weights copied across; plus BatchNorm, Dropout and Embedding
behaviour and layer argument errors."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

TOLERANCE = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-11}}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def copy_weights(ours, theirs):
    ours.load_state_dict({key: value.detach().numpy()
                          for key, value in theirs.state_dict().items()})


def check_same(ours, theirs, dtype, what):
    reference = theirs.detach().numpy()
    assert ours.dtype == reference.dtype == dtype, what
    np.testing.assert_allclose(ours.data, reference, err_msg=what, **TOLERANCE[dtype])


def compare(torch, make, input_array, dtype=np.float32, train=True):
    """Build the layer in both libraries, run forward and backward, compare everything."""
    ours, theirs = make(nn), make(torch.nn)
    copy_weights(ours, theirs)
    ours.zero_grad()
    theirs.zero_grad()
    if dtype == np.float64:
        ours.double()
        theirs.double()
    ours.train(train)
    theirs.train(train)
    x = mg.tensor(input_array.astype(dtype), requires_grad=True)
    tx = torch.tensor(input_array.astype(dtype), requires_grad=True)
    output, reference = ours(x), theirs(tx)
    check_same(output, reference, dtype, "forward")
    grad = np.random.default_rng(1).standard_normal(reference.shape).astype(dtype)
    output.backward(mg.tensor(grad))
    reference.backward(torch.tensor(grad))
    check_same(x.grad, tx.grad, dtype, "input grad")
    for name, param in theirs.named_parameters():
        check_same(ours.get_parameter(name).grad, param.grad, dtype, f"{name} grad")
    for name, buffer in theirs.named_buffers():
        mine = ours.get_buffer(name)
        np.testing.assert_allclose(mine.data, buffer.numpy(), err_msg=name, **TOLERANCE[dtype])
    return ours, theirs


def randn(*shape):
    return np.random.default_rng(0).standard_normal(shape)


LINEAR_CASES = {
    "linear": (lambda m: m.Linear(5, 3), (4, 5)),
    "linear_no_bias_3d": (lambda m: m.Linear(5, 3, bias=False), (2, 4, 5)),
    "identity": (lambda m: m.Identity(7, key="ignored"), (2, 3)),
    "flatten": (lambda m: m.Flatten(), (2, 3, 4, 5)),
    "flatten_0_2": (lambda m: m.Flatten(0, 2), (2, 3, 4, 5)),
    "unflatten": (lambda m: m.Unflatten(1, (2, 6)), (3, 12)),
}
CONV_CASES = {
    "conv": (lambda m: m.Conv2d(2, 4, 3), (2, 2, 7, 7)),
    "conv_stride_pad": (lambda m: m.Conv2d(2, 4, 3, stride=2, padding=1), (2, 2, 7, 8)),
    "conv_groups_dilation": (lambda m: m.Conv2d(4, 6, (3, 2), padding=(1, 2), dilation=2,
                                                groups=2, bias=False), (2, 4, 9, 8)),
    "conv_same_odd": (lambda m: m.Conv2d(2, 3, 3, padding="same"), (1, 2, 5, 6)),
    "conv_same_even": (lambda m: m.Conv2d(2, 3, (4, 2), padding="same", dilation=(1, 3)),
                       (1, 2, 6, 7)),
    "conv_valid": (lambda m: m.Conv2d(2, 3, 2, padding="valid"), (1, 2, 5, 5)),
    "maxpool": (lambda m: m.MaxPool2d(2), (2, 3, 6, 6)),
    "maxpool_stride_pad": (lambda m: m.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    "maxpool_ceil": (lambda m: m.MaxPool2d(2, ceil_mode=True), (1, 2, 5, 5)),
    "avgpool": (lambda m: m.AvgPool2d(2), (2, 3, 6, 6)),
    "avgpool_pad": (lambda m: m.AvgPool2d(3, 2, 1), (2, 3, 7, 7)),
    "avgpool_no_pad_count": (lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
                             (2, 3, 7, 7)),
    "adaptive_1": (lambda m: m.AdaptiveAvgPool2d((1, 1)), (2, 3, 5, 5)),
    "adaptive_3": (lambda m: m.AdaptiveAvgPool2d(3), (2, 3, 7, 8)),
}
ACTIVATION_CASES = {
    "relu": (lambda m: m.ReLU(), (3, 4)),
    "leaky_relu": (lambda m: m.LeakyReLU(0.2), (3, 4)),
    "gelu": (lambda m: m.GELU(), (3, 4)),
    "gelu_tanh": (lambda m: m.GELU("tanh"), (3, 4)),
    "sigmoid": (lambda m: m.Sigmoid(), (3, 4)),
    "tanh": (lambda m: m.Tanh(), (3, 4)),
    "softmax": (lambda m: m.Softmax(dim=1), (3, 4)),
    "log_softmax": (lambda m: m.LogSoftmax(dim=-1), (2, 3, 4)),
}
NORM_CASES = {
    "batchnorm1d": (lambda m: m.BatchNorm1d(5), (6, 5)),
    "batchnorm1d_3d": (lambda m: m.BatchNorm1d(3, momentum=None), (4, 3, 5)),
    "batchnorm2d": (lambda m: m.BatchNorm2d(3), (4, 3, 5, 5)),
    "batchnorm2d_no_affine": (lambda m: m.BatchNorm2d(3, affine=False), (4, 3, 2, 2)),
    "batchnorm2d_no_bias": (lambda m: m.BatchNorm2d(3, bias=False), (4, 3, 2, 2)),
    "batchnorm2d_no_stats": (lambda m: m.BatchNorm2d(3, track_running_stats=False),
                             (4, 3, 2, 2)),
}
ALL_CASES = {**LINEAR_CASES, **CONV_CASES, **ACTIVATION_CASES, **NORM_CASES}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(ALL_CASES))
def test_forward_and_backward_match_torch(torch, case, dtype):
    make, shape = ALL_CASES[case]
    compare(torch, make, randn(*shape), dtype)


@pytest.mark.parametrize("case", sorted(NORM_CASES))
def test_batchnorm_eval_matches_torch(torch, case):
    make, shape = NORM_CASES[case]
    ours, theirs = make(nn), make(torch.nn)
    copy_weights(ours, theirs)
    for step in range(3):  # move the running statistics first
        batch = randn(*shape) * (step + 1) + step
        ours(mg.tensor(batch.astype(np.float32)))
        theirs(torch.tensor(batch.astype(np.float32)))
    for name, buffer in theirs.named_buffers():
        mine = dict(ours.named_buffers())[name]
        assert mine.dtype == buffer.numpy().dtype, name
        np.testing.assert_allclose(mine.data, buffer.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    if ours.track_running_stats:
        assert int(ours.num_batches_tracked) == 3
    for dtype in (np.float32, np.float64):
        compare(torch, lambda m, ours=ours, theirs=theirs: ours if m is nn else theirs,
                randn(*shape) + 0.5, dtype, train=False)


def test_batchnorm_running_stats_by_hand():
    norm = nn.BatchNorm1d(2, momentum=0.5)
    version = norm.running_mean.version
    batch = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]], dtype=np.float32)
    output = norm(mg.tensor(batch))
    np.testing.assert_allclose(norm.running_mean.data, [0.5 * 3, 0.5 * 12], rtol=1e-6)
    np.testing.assert_allclose(norm.running_var.data, [0.5 + 0.5 * 4, 0.5 + 0.5 * 12],
                               rtol=1e-6)  # unbiased variances 4 and 12
    biased_std = np.sqrt(np.array([8 / 3, 8.0]) + 1e-5)
    np.testing.assert_allclose(output.data, (batch - [3, 12]) / biased_std, rtol=1e-5)
    assert output.dtype == np.float32 and norm.running_mean.dtype == np.float32
    assert norm.running_mean.version == version + 1 and int(norm.num_batches_tracked) == 1
    cumulative = nn.BatchNorm1d(1, momentum=None)
    for value in (2.0, 4.0):
        cumulative(mg.tensor([[value - 1], [value + 1]]))
    np.testing.assert_allclose(cumulative.running_mean.data, [3.0])


def test_batchnorm_eval_uses_running_stats_and_does_not_update():
    norm = nn.BatchNorm2d(2).eval()
    norm.running_mean.data[:] = [1.0, -1.0]
    norm.running_var.data[:] = [4.0, 0.25]
    x = mg.ones(1, 2, 1, 1)
    version = norm.running_mean.version
    output = norm(x)
    np.testing.assert_allclose(output.data.ravel(), [0.0, 2 / np.sqrt(0.25 + 1e-5)], rtol=1e-6)
    assert int(norm.num_batches_tracked) == 0 and norm.running_mean.version == version


def test_batchnorm_errors_change_nothing():
    norm = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"^BatchNorm1d: expected 2D or 3D input \(got 4D"):
        norm(mg.ones(2, 3, 1, 1))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        norm(mg.ones(1, 3))
    with pytest.raises(RuntimeError, match="expected input with 3 channels"):
        norm(mg.ones(4, 2))
    assert int(norm.num_batches_tracked) == 0
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(mg.ones(2, 3, 4))


def test_batchnorm_gradients_flow_only_through_ops():
    norm = nn.BatchNorm2d(2)
    x = mg.randn(3, 2, 2, 2, requires_grad=True)
    loss = (norm(x) * mg.randn(3, 2, 2, 2)).sum()
    loss.backward()
    assert x.grad.dtype == np.float32 and norm.weight.grad.shape == (2,)
    assert not norm.running_mean.requires_grad and norm.running_mean.grad is None


# ---- losses ---------------------------------------------------------------------------
LOSS_CASES = {
    "ce": lambda m, w: m.CrossEntropyLoss(),
    "ce_sum_weight": lambda m, w: m.CrossEntropyLoss(weight=w, reduction="sum"),
    "ce_ignore_smooth": lambda m, w: m.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1),
    "ce_none": lambda m, w: m.CrossEntropyLoss(weight=w, reduction="none"),
    "nll": lambda m, w: m.NLLLoss(),
    "nll_weight_ignore": lambda m, w: m.NLLLoss(weight=w, ignore_index=2),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(LOSS_CASES))
def test_class_losses_match_torch(torch, case, dtype):
    logits = randn(6, 4).astype(dtype)
    target = np.array([0, 1, 2, 3, 1, 2])
    weight = np.array([1.0, 2.0, 0.5, 1.5], dtype=dtype)
    ours = LOSS_CASES[case](nn, mg.tensor(weight))
    theirs = LOSS_CASES[case](torch.nn, torch.tensor(weight))
    if case.startswith("nll"):
        logits = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    x = mg.tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    loss, reference = ours(x, mg.tensor(target)), theirs(tx, torch.tensor(target))
    check_same(loss, reference, dtype, "loss")
    loss.sum().backward()
    reference.sum().backward()
    check_same(x.grad, tx.grad, dtype, "grad")
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(torch, reduction):
    prediction, target = randn(3, 4).astype(np.float32), randn(3, 4).astype(np.float32) * 2
    x = mg.tensor(prediction, requires_grad=True)
    tx = torch.tensor(prediction, requires_grad=True)
    loss = nn.MSELoss(reduction=reduction)(x, mg.tensor(target))
    reference = torch.nn.MSELoss(reduction=reduction)(tx, torch.tensor(target))
    check_same(loss, reference, np.float32, "loss")
    loss.sum().backward()
    reference.sum().backward()
    check_same(x.grad, tx.grad, np.float32, "grad")


def test_loss_known_value_and_legacy_arguments():
    logits = mg.tensor([[0.0, 0.0], [0.0, 0.0]])
    assert nn.CrossEntropyLoss()(logits, mg.tensor([0, 1])).item() == pytest.approx(np.log(2))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        summed = nn.MSELoss(size_average=False)
    assert summed.reduction == "sum"
    assert summed(mg.tensor([1.0, 2.0]), mg.tensor([0.0, 0.0])).item() == 5.0
    weighted = nn.CrossEntropyLoss(weight=mg.tensor([1.0, 3.0]))
    assert list(weighted.state_dict()) == ["weight"]
    assert weighted.to(mg.float64).weight.dtype == np.float64


# ---- dropout ----------------------------------------------------------------------------
def test_dropout_eval_is_identity_and_train_zeroes_about_p():
    layer = nn.Dropout(p=0.3)
    x = mg.ones(200, 100)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x.data)
    layer.train()
    mg.manual_seed(0)
    output = layer(x).data
    zero_fraction = np.mean(output == 0)
    assert zero_fraction == pytest.approx(0.3, abs=0.02)
    np.testing.assert_allclose(output[output != 0], 1 / 0.7, rtol=1e-6)
    assert output.dtype == np.float32


def test_dropout_gradient_uses_the_same_mask():
    layer = nn.Dropout(0.5)
    x = mg.ones(50, 40, requires_grad=True)
    output = layer(x)
    output.sum().backward()
    np.testing.assert_array_equal(x.grad.data, output.data)  # both are mask / (1 - p)


def test_dropout2d_zeroes_whole_channels():
    mg.manual_seed(1)
    output = nn.Dropout2d(0.5)(mg.ones(20, 30, 3, 3)).data
    per_channel = output.reshape(20, 30, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2))
    assert np.mean(per_channel[:, :, 0] == 0) == pytest.approx(0.5, abs=0.07)
    np.testing.assert_array_equal(nn.Dropout2d().eval()(mg.ones(2, 3, 2, 2)).data, 1)


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(-0.1)


# ---- embedding --------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(torch, padding_idx):
    ours = nn.Embedding(6, 3, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(6, 3, padding_idx=padding_idx)
    copy_weights(ours, theirs)
    ours.weight.data[ours.padding_idx or 0] = 0.5  # a non-zero padding row still passes no grad
    with torch.no_grad():
        theirs.weight[theirs.padding_idx or 0] = 0.5
    indices = np.array([[0, 2, 5], [2, 2, 1]])
    output, reference = ours(mg.tensor(indices)), theirs(torch.tensor(indices))
    check_same(output, reference, np.float32, "forward")
    grad = randn(2, 3, 3).astype(np.float32)
    output.backward(mg.tensor(grad))
    reference.backward(torch.tensor(grad))
    check_same(ours.weight.grad, theirs.weight.grad, np.float32, "weight grad")
    assert repr(ours) == repr(theirs)


def test_embedding_max_norm_matches_torch(torch):
    ours, theirs = nn.Embedding(5, 4, max_norm=1.0), torch.nn.Embedding(5, 4, max_norm=1.0)
    copy_weights(ours, theirs)
    indices = np.array([1, 3, 3])
    output, reference = ours(mg.tensor(indices)), theirs(torch.tensor(indices))
    check_same(output, reference, np.float32, "forward")
    check_same(ours.weight, theirs.weight, np.float32, "renormalised weight")
    assert repr(ours) == repr(theirs)


def test_embedding_errors_and_from_pretrained():
    table = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="index out of range"):
        table(mg.tensor([0, 4]))
    with pytest.raises(IndexError, match="index out of range"):
        table(mg.tensor([-1]))
    with pytest.raises(RuntimeError, match="Long, Int"):
        table(mg.tensor([0.0]))
    with pytest.raises(ValueError, match="padding_idx must be within"):
        nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(4, 2, sparse=True)
    weights = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(weights)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(mg.tensor([1, 0])).data, [[3, 4], [1, 2]])
    assert nn.Embedding.from_pretrained(weights, freeze=False).weight.requires_grad


# ---- reprs ------------------------------------------------------------------------------
REPR_CASES = [
    lambda m: m.Linear(400, 120),
    lambda m: m.Linear(3, 1, bias=False),
    lambda m: m.Identity(),
    lambda m: m.Flatten(),
    lambda m: m.Flatten(0, 2),
    lambda m: m.Unflatten(1, (2, 3)),
    lambda m: m.Unflatten(-1, [4, 5]),
    lambda m: m.Conv2d(1, 6, 5),
    lambda m: m.Conv2d(1, 6, 3, padding="same"),
    lambda m: m.Conv2d(1, 6, 3, padding="valid"),
    lambda m: m.Conv2d(4, 6, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False),
    lambda m: m.MaxPool2d(2),
    lambda m: m.MaxPool2d(3, 2, 1, ceil_mode=True),
    lambda m: m.MaxPool2d((2, 3), stride=(1, 2)),
    lambda m: m.AvgPool2d(2),
    lambda m: m.AvgPool2d(3, 1, 1, count_include_pad=False),
    lambda m: m.AdaptiveAvgPool2d((1, 1)),
    lambda m: m.AdaptiveAvgPool2d(4),
    lambda m: m.ReLU(),
    lambda m: m.ReLU(inplace=True),
    lambda m: m.LeakyReLU(),
    lambda m: m.LeakyReLU(0.2, inplace=True),
    lambda m: m.GELU(),
    lambda m: m.GELU(approximate="tanh"),
    lambda m: m.Sigmoid(),
    lambda m: m.Tanh(),
    lambda m: m.Softmax(),
    lambda m: m.Softmax(dim=1),
    lambda m: m.LogSoftmax(dim=-1),
    lambda m: m.Dropout(),
    lambda m: m.Dropout(0.2, inplace=True),
    lambda m: m.Dropout2d(0.1),
    lambda m: m.BatchNorm1d(3),
    lambda m: m.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False),
    lambda m: m.BatchNorm2d(4, track_running_stats=False, bias=False),
    lambda m: m.CrossEntropyLoss(),
    lambda m: m.CrossEntropyLoss(label_smoothing=0.1),
    lambda m: m.NLLLoss(),
    lambda m: m.MSELoss(reduction="sum"),
    lambda m: m.BCELoss(),
    lambda m: m.BCEWithLogitsLoss(),
    lambda m: m.Embedding(10, 3),
    lambda m: m.Embedding(10, 3, padding_idx=-1, max_norm=2.0, norm_type=1.0),
]


@pytest.mark.parametrize("index", range(len(REPR_CASES)))
def test_repr_matches_torch(torch, index):
    make = REPR_CASES[index]
    assert str(make(nn)) == str(make(torch.nn))


def test_lenet_repr_and_state_dict_keys_match_torch(torch):
    def lenet(m):
        return m.Sequential(m.Conv2d(1, 6, 5), m.ReLU(), m.MaxPool2d(2), m.Conv2d(6, 16, 5),
                            m.ReLU(), m.MaxPool2d(2), m.Flatten(), m.Linear(400, 120),
                            m.ReLU(), m.Linear(120, 84), m.ReLU(), m.Linear(84, 10))

    assert str(lenet(nn)) == str(lenet(torch.nn))
    assert list(lenet(nn).state_dict()) == list(lenet(torch.nn).state_dict())


# ---- layer attributes and argument errors -------------------------------------------------
def test_conv2d_attributes_and_argument_errors():
    conv = nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2)
    assert conv.kernel_size == (3, 3) and conv.stride == (2, 2) and conv.padding == (1, 1)
    assert conv.dilation == (1, 1) and conv.weight.shape == (8, 2, 3, 3)
    assert nn.Conv2d(1, 1, 3, padding="same").padding == "same"
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 6, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    assert nn.Conv2d(1, 1, 3, padding_mode="reflect").padding_mode == "reflect"


def test_pool_attributes():
    pool = nn.MaxPool2d(3)
    assert pool.kernel_size == 3 and pool.stride == 3 and pool.padding == 0
    assert nn.AvgPool2d(2, stride=1).stride == 1


def test_error_path_inside_sequential_names_the_conv():
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU())
    with pytest.raises(RuntimeError, match=r"^0 \(Conv2d\): conv2d: .*3 channels"):
        model(mg.randn(2, 3, 12, 12))
    features = nn.Sequential(nn.Linear(4, 4))
    outer = nn.Sequential(nn.Identity(), features)
    with pytest.raises(RuntimeError, match=r"^1\.0 \(Linear\): ") as info:
        outer(mg.randn(2, 5))
    assert str(info.value).count("(Linear)") == 1


def test_softmax_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        output = nn.Softmax()(mg.tensor([[1.0, 1.0]]))
    np.testing.assert_allclose(output.data, [[0.5, 0.5]])


# ---- gradients without torch: finite differences through whole layers ---------------------
GRADCHECK_CASES = {
    "batchnorm2d_train": (lambda: nn.BatchNorm2d(2, dtype=mg.float64), (3, 2, 2, 2), True),
    "batchnorm1d_eval": (lambda: nn.BatchNorm1d(3, dtype=mg.float64), (4, 3), False),
    "conv_same_even": (lambda: nn.Conv2d(2, 2, 2, padding="same", dtype=mg.float64),
                       (1, 2, 3, 3), True),
    "linear_softmax": (lambda: nn.Sequential(nn.Linear(3, 4, dtype=mg.float64),
                                             nn.LogSoftmax(dim=1)), (2, 3), True),
}


@pytest.mark.parametrize("case", sorted(GRADCHECK_CASES))
def test_layer_input_gradients_by_finite_differences(case):
    from minigrad.testing import gradcheck

    make, shape, train = GRADCHECK_CASES[case]
    mg.manual_seed(0)
    layer = make().train(train)
    if not train and hasattr(layer, "running_var"):
        layer.running_var.data[:] = [0.5, 2.0, 3.0]
    x = mg.tensor(randn(*shape))
    # in training mode each call also moves the running statistics; outputs do not use them
    assert gradcheck(lambda inp: layer(inp), [x])
