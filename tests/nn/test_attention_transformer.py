"""MultiheadAttention, LayerNorm and the Transformer modules against PyTorch: state_dict keys
both ways, outputs, attention weights, input and parameter gradients (float32 and float64),
a gradient penalty through attention, init, repr and errors."""

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import grad as mg_grad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched")  # PyTorch's notice

TOLERANCE = {np.float32: {"rtol": 2e-4, "atol": 2e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-10}}
E, HEADS, L, S, N = 8, 2, 4, 5, 3


def to_dtype(module, dtype):
    return module.double() if dtype == np.float64 else module.float()


def twins(name, dtype, *args, **kwargs):
    """PyTorch's module and ours with PyTorch's weights (checking the keys match)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's nested-tensor notices
        theirs = to_dtype(getattr(torch.nn, name)(*args, **kwargs), dtype)
    ours = to_dtype(getattr(nn, name)(*args, **kwargs), dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return theirs, ours


def close(a, b, dtype):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOLERANCE[dtype])


def parameter_grads_match(ours, theirs, dtype):
    torch_parameters = dict(theirs.named_parameters())
    for key, parameter in ours.named_parameters():
        assert parameter.grad is not None, key
        assert parameter.grad.dtype == parameter.dtype
        close(parameter.grad, torch_parameters[key].grad, dtype)


def inputs(rng, dtype, shapes, library):
    return [library.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
            for shape in shapes]


MHA_CASES = [
    ({}, {}, "self"),
    ({}, {}, "cross"),
    ({"batch_first": True}, {}, "cross"),
    ({"kdim": 3, "vdim": 6}, {}, "cross"),
    ({"bias": False}, {"average_attn_weights": False}, "self"),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"masks": ("bool", "bool")}, "cross"),
    ({}, {"need_weights": False, "masks": ("float", "bool")}, "self"),
    ({"batch_first": True}, {"masks": ("float3d", "float")}, "self"),
    ({}, {"masks": ("causal", None), "is_causal": True, "need_weights": False}, "self"),
    ({}, {"unbatched": True, "masks": ("bool", "bool")}, "cross"),
]


def masks(rng, kinds, dtype, library):
    """attn_mask (L, S) or (N * H, L, S) and key_padding_mask (N, S), bool masks True where
    attention is not allowed; the first key is always allowed."""
    made = []
    for kind, shape in zip(kinds, [(L, S), (N, S)], strict=True):
        if kind is None:
            made.append(None)
            continue
        if kind == "causal":
            made.append(library.tensor(np.triu(np.ones((L, L), dtype=bool), 1)))
            continue
        if kind == "float3d":
            shape = (N * HEADS, L, S)
        if kind == "bool":
            value = rng.random(shape) > 0.6
            value[..., 0] = False
        else:
            value = rng.standard_normal(shape).astype(dtype)
        made.append(library.tensor(value))
    return made


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("kwargs", "call", "kind"), MHA_CASES)
def test_multihead_attention_matches_torch(kwargs, call, kind, dtype):
    call = dict(call)
    kinds = call.pop("masks", (None, None))
    unbatched = call.pop("unbatched", False)
    self_attention = kind == "self" or kinds[0] == "causal"
    theirs, ours = twins("MultiheadAttention", dtype, E, HEADS, **kwargs)
    source = L if self_attention else S
    if kinds[0] == "causal":
        kinds = ("causal", None)
    batch_first = kwargs.get("batch_first", False)

    def shaped(length, width):
        if unbatched:
            return (length, width)
        return (N, length, width) if batch_first else (length, N, width)

    shapes = [shaped(L, E), shaped(source, kwargs.get("kdim", E)),
              shaped(source, kwargs.get("vdim", E))]
    results = []
    for library, model in ((mg, ours), (torch, theirs)):
        rng = np.random.default_rng(0)
        q, k, v = inputs(rng, dtype, shapes, library)
        if self_attention:
            k = v = q
        attn_mask, padding = masks(np.random.default_rng(1), kinds, dtype, library)
        if kinds[0] is not None and source != S and kinds[0] != "causal":
            attn_mask = attn_mask[..., :source]
        if padding is not None:
            padding = padding[:, :source]
            if unbatched:
                padding = padding[0]
        output, weights = model(q, k, v, key_padding_mask=padding, attn_mask=attn_mask, **call)
        loss = (output * output).sum() + (0 if weights is None else (weights * weights).sum())
        loss.backward()
        results.append((output, weights, [q, k, v]))
    (out_ours, w_ours, x_ours), (out_theirs, w_theirs, x_theirs) = results
    assert out_ours.shape == tuple(out_theirs.shape)
    close(out_ours, out_theirs, dtype)
    assert (w_ours is None) == (w_theirs is None)
    if w_ours is not None:
        assert w_ours.shape == tuple(w_theirs.shape)
        close(w_ours, w_theirs, dtype)
    for a, b in zip(x_ours, x_theirs, strict=True):
        close(a.grad, b.grad, dtype)
    parameter_grads_match(ours, theirs, dtype)


def test_multihead_attention_state_dict_loads_into_torch():
    mg.manual_seed(0)
    for kwargs in ({}, {"kdim": 3, "vdim": 5, "add_bias_kv": True}):
        ours = nn.MultiheadAttention(E, HEADS, **kwargs)
        theirs = torch.nn.MultiheadAttention(E, HEADS, **kwargs)
        theirs.load_state_dict({k: torch.tensor(v.detach().numpy())
                                for k, v in ours.state_dict().items()})
        rng = np.random.default_rng(1)
        q = rng.standard_normal((L, N, E)).astype(np.float32)
        k = rng.standard_normal((S, N, kwargs.get("kdim", E))).astype(np.float32)
        v = rng.standard_normal((S, N, kwargs.get("vdim", E))).astype(np.float32)
        close(ours(mg.tensor(q), mg.tensor(k), mg.tensor(v))[0],
              theirs(torch.tensor(q), torch.tensor(k), torch.tensor(v))[0], np.float32)


def test_multihead_attention_init_and_keys():
    mg.manual_seed(0)
    mha = nn.MultiheadAttention(64, 4, kdim=32, vdim=16, add_bias_kv=True)
    assert list(mha.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                      "in_proj_bias", "bias_k", "bias_v", "out_proj.weight",
                                      "out_proj.bias"]
    assert mha.in_proj_weight is None
    bound = np.sqrt(6 / (64 + 32))  # xavier_uniform_ of (64, 32)
    weight = mha.k_proj_weight.detach().numpy()
    assert np.abs(weight).max() <= bound
    assert np.abs(weight).max() > 0.95 * bound
    np.testing.assert_array_equal(mha.in_proj_bias.detach().numpy(), 0)
    np.testing.assert_array_equal(mha.out_proj.bias.detach().numpy(), 0)


def test_multihead_attention_dropout_only_in_training():
    mg.manual_seed(0)
    mha = nn.MultiheadAttention(E, HEADS, dropout=0.5)
    x = mg.randn(L, N, E)
    mha.eval()
    first, weights = mha(x, x, x)
    np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1, rtol=1e-6)
    np.testing.assert_array_equal(first.detach().numpy(), mha(x, x, x)[0].detach().numpy())
    mha.train()
    assert not np.allclose(first.detach().numpy(), mha(x, x, x)[0].detach().numpy())


def test_multihead_attention_errors_like_torch():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(E, HEADS)
    x = mg.randn(L, N, E)
    with pytest.raises(AssertionError, match="embedding dimension of 8"):
        mha(mg.randn(L, N, 5), x, x)
    with pytest.raises(RuntimeError, match="attn_mask"):
        mha(x, x, x, attn_mask=mg.zeros(2, 2))
    with pytest.raises(AssertionError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=mg.zeros(N, 2, dtype=mg.bool_))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)


def test_gradient_penalty_through_attention_matches_torch():
    """d/dweights ||d loss / d query||^2 (second order) in both frameworks."""
    theirs, ours = twins("MultiheadAttention", np.float64, E, HEADS)
    mask = np.random.default_rng(2).random((L, L)) > 0.7
    mask[:, 0] = False
    grads = []
    for library, model, grad in ((mg, ours, mg_grad), (torch, theirs, torch.autograd.grad)):
        (x,) = inputs(np.random.default_rng(3), np.float64, [(L, N, E)], library)
        output, weights = model(x, x, x, attn_mask=library.tensor(mask))
        (g,) = grad((output ** 2).sum() + (weights ** 2).sum(), x, create_graph=True)
        (g ** 2).sum().backward()
        grads.append(g)
    close(grads[0], grads[1], np.float64)
    parameter_grads_match(ours, theirs, np.float64)


# ---- LayerNorm -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False},
                                    {"eps": 1e-2}])
@pytest.mark.parametrize("shape", [(E,), (3, E)])
def test_layer_norm_module_matches_torch(shape, kwargs, dtype):
    theirs, ours = twins("LayerNorm", dtype, shape, **kwargs)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    for parameter in theirs.parameters():
        parameter.data.normal_()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, 3, E)).astype(dtype)
    x_ours, x_theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    close(out_ours, out_theirs, dtype)
    (out_ours ** 3).sum().backward()
    (out_theirs ** 3).sum().backward()
    close(x_ours.grad, x_theirs.grad, dtype)
    parameter_grads_match(ours, theirs, dtype)


# ---- Transformer layers ----------------------------------------------------------------------
LAYER_CASES = [
    {},
    {"norm_first": True, "activation": "gelu"},
    {"batch_first": True, "bias": False},
    {"activation": "callable", "layer_norm_eps": 1e-3},
]


def layer_kwargs(kwargs, library):
    kwargs = dict(kwargs, dim_feedforward=16, dropout=0.0)
    if kwargs.get("activation") == "callable":
        kwargs["activation"] = library.nn.functional.silu
    return kwargs


def run_both(name, dtype, kwargs, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = to_dtype(getattr(torch.nn, name)(**layer_kwargs(kwargs, torch)), dtype)
    ours = to_dtype(getattr(nn, name)(**layer_kwargs(kwargs, mg)), dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    results = []
    for library, model in ((mg, ours), (torch, theirs)):
        output, tensors = call(library, model)
        (output ** 2).sum().backward()
        results.append((output, tensors))
    (out_ours, x_ours), (out_theirs, x_theirs) = results
    assert out_ours.shape == tuple(out_theirs.shape)
    close(out_ours, out_theirs, dtype)
    for a, b in zip(x_ours, x_theirs, strict=True):
        close(a.grad, b.grad, dtype)
    parameter_grads_match(ours, theirs, dtype)


def sequences(library, dtype, batch_first, *lengths):
    rng = np.random.default_rng(0)
    shapes = [(N, length, E) if batch_first else (length, N, E) for length in lengths]
    return inputs(rng, dtype, shapes, library)


def padding(library, length, seed=1):
    mask = np.random.default_rng(seed).random((N, length)) > 0.7
    mask[:, 0] = False
    return library.tensor(mask)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", LAYER_CASES)
def test_encoder_layer_matches_torch(kwargs, dtype):
    def call(library, model):
        (src,) = sequences(library, dtype, kwargs.get("batch_first", False), L)
        mask = library.tensor(np.triu(np.full((L, L), -np.inf), 1).astype(dtype))
        return model(src, src_mask=mask, src_key_padding_mask=padding(library, L)), [src]

    run_both("TransformerEncoderLayer", dtype, dict(kwargs, d_model=E, nhead=HEADS), call)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", LAYER_CASES)
def test_decoder_layer_matches_torch(kwargs, dtype):
    def call(library, model):
        tgt, memory = sequences(library, dtype, kwargs.get("batch_first", False), L, S)
        mask = library.tensor(np.triu(np.ones((L, L), dtype=bool), 1))
        output = model(tgt, memory, tgt_mask=mask, tgt_is_causal=True,
                       memory_key_padding_mask=padding(library, S),
                       tgt_key_padding_mask=padding(library, L, 2))
        return output, [tgt, memory]

    run_both("TransformerDecoderLayer", dtype, dict(kwargs, d_model=E, nhead=HEADS), call)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"norm_first": True, "batch_first": True}])
def test_transformer_matches_torch(kwargs, dtype):
    def call(library, model):
        src, tgt = sequences(library, dtype, kwargs.get("batch_first", False), S, L)
        mask = model.generate_square_subsequent_mask(L, dtype=library.float64
                                                     if dtype == np.float64
                                                     else library.float32)
        output = model(src, tgt, tgt_mask=mask, src_key_padding_mask=padding(library, S),
                       memory_key_padding_mask=padding(library, S))
        return output, [src, tgt]

    run_both("Transformer", dtype, dict(kwargs, d_model=E, nhead=HEADS, num_encoder_layers=2,
                                        num_decoder_layers=2), call)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encoder_and_decoder_stacks_match_torch(dtype):
    def encoder(library, model):
        (src,) = sequences(library, dtype, False, L)
        return model(src, src_key_padding_mask=padding(library, L)), [src]

    def build(library, kind):
        if kind == "TransformerEncoder":
            layer = library.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0)
        else:
            layer = library.nn.TransformerDecoderLayer(E, HEADS, 16, dropout=0.0)
        return getattr(library.nn, kind)(layer, 2, library.nn.LayerNorm(E))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = to_dtype(build(torch, "TransformerEncoder"), dtype)
    ours = to_dtype(build(mg, "TransformerEncoder"), dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    out_ours, out_theirs = encoder(mg, ours)[0], encoder(torch, theirs)[0]
    close(out_ours, out_theirs, dtype)
    theirs = to_dtype(build(torch, "TransformerDecoder"), dtype)
    ours = to_dtype(build(mg, "TransformerDecoder"), dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    results = []
    for library, model in ((mg, ours), (torch, theirs)):
        tgt, memory = sequences(library, dtype, False, L, S)
        output = model(tgt, memory)
        (output ** 2).sum().backward()
        results.append(output)
    close(*results, dtype)
    parameter_grads_match(ours, theirs, dtype)


def test_square_subsequent_mask_and_transformer_init():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    np.testing.assert_array_equal(mask.numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(3))
    assert mask.dtype == mg.float32
    mg.manual_seed(0)
    model = nn.Transformer(16, 2, 1, 1, 32)
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()  # (32, 16)
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(weight).max() <= bound
    assert np.abs(weight).max() > 0.95 * bound
    layers = model.encoder.layers
    assert layers[0].linear1.weight is not layers[0].linear2.weight
    assert repr(nn.TransformerDecoderLayer(8, 2)) == repr(torch.nn.TransformerDecoderLayer(8, 2))


def test_transformer_errors_like_torch():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number"):
        model(mg.randn(3, 2, 8), mg.randn(3, 4, 8))
    with pytest.raises(RuntimeError, match="d_model"):
        model(mg.randn(3, 2, 6), mg.randn(3, 2, 6))
