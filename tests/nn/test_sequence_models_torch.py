"""Whole sequence models written once for either library (only `torch` swapped for
`minigrad`): PyTorch's word-language-model LSTM and a Transformer encoder classifier give the
same loss and gradients with PyTorch's weights, and a minigrad checkpoint (safetensors)
loads into the PyTorch model and gives the same outputs."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's nested-tensor notes

VOCAB, WIDTH, LENGTH, BATCH = 11, 8, 6, 3


def word_language_model(library):
    """PyTorch's examples/word_language_model RNNModel (LSTM), dropout 0 so both agree."""
    nn = library.nn

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.0)
            self.encoder = nn.Embedding(VOCAB, WIDTH)
            self.rnn = nn.LSTM(WIDTH, WIDTH, 2, dropout=0.0)
            self.decoder = nn.Linear(WIDTH, VOCAB)

        def forward(self, tokens, hidden):
            emb = self.drop(self.encoder(tokens))
            output, hidden = self.rnn(emb, hidden)
            decoded = self.decoder(self.drop(output)).view(-1, VOCAB)
            return library.nn.functional.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, batch):
            weight = next(self.parameters())
            return (library.zeros(2, batch, WIDTH, dtype=weight.dtype),
                    library.zeros(2, batch, WIDTH, dtype=weight.dtype))

    return RNNModel()


def encoder_classifier(library):
    """Token embedding, a 2-layer batch-first Transformer encoder, mean pooling, a head."""
    nn = library.nn

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, WIDTH)
            layer = nn.TransformerEncoderLayer(WIDTH, 2, 16, dropout=0.0, batch_first=True,
                                               activation="gelu")
            self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(WIDTH))
            self.head = nn.Linear(WIDTH, 3)

        def forward(self, tokens, padding):
            encoded = self.encoder(self.embedding(tokens), src_key_padding_mask=padding)
            return self.head(encoded.mean(1))

    return Classifier()


def run(library, model, kind, tokens, padding, targets):
    if kind == "lm":
        output, _ = model(library.tensor(tokens), model.init_hidden(BATCH))
        loss = library.nn.functional.nll_loss(output, library.tensor(targets.reshape(-1)))
    else:
        output = model(library.tensor(tokens), library.tensor(padding))
        loss = library.nn.functional.cross_entropy(output, library.tensor(targets[:, 0] % 3))
    loss.backward()
    return output, loss


@pytest.mark.parametrize("kind", ["lm", "classifier"])
def test_model_loss_and_gradients_match_torch(kind):
    build = word_language_model if kind == "lm" else encoder_classifier
    torch.manual_seed(0)
    theirs, ours = build(torch).double(), build(mg).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    shape = (LENGTH, BATCH) if kind == "lm" else (BATCH, LENGTH)
    tokens = rng.integers(0, VOCAB, shape)
    targets = rng.integers(0, VOCAB, shape)
    padding = np.zeros((BATCH, LENGTH), dtype=bool)
    padding[0, 4:] = True
    out_ours, loss_ours = run(mg, ours, kind, tokens, padding, targets)
    out_theirs, loss_theirs = run(torch, theirs, kind, tokens, padding, targets)
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(),
                               rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), rtol=1e-10)
    torch_parameters = dict(theirs.named_parameters())
    for key, parameter in ours.named_parameters():
        np.testing.assert_allclose(parameter.grad.numpy(), torch_parameters[key].grad.numpy(),
                                   rtol=1e-8, atol=1e-11, err_msg=key)


@pytest.mark.parametrize("kind", ["lm", "classifier"])
def test_minigrad_checkpoint_loads_into_torch(kind, tmp_path):
    build = word_language_model if kind == "lm" else encoder_classifier
    mg.manual_seed(3)
    ours = build(mg)
    mg.save(ours.state_dict(), tmp_path / "model.safetensors")
    theirs = build(torch)
    theirs.load_state_dict(safetensors_torch.load_file(tmp_path / "model.safetensors"))
    rng = np.random.default_rng(1)
    shape = (LENGTH, BATCH) if kind == "lm" else (BATCH, LENGTH)
    tokens = rng.integers(0, VOCAB, shape)
    padding = np.zeros((BATCH, LENGTH), dtype=bool)
    ours.eval()
    theirs.eval()
    with mg.no_grad(), torch.no_grad():
        if kind == "lm":
            got = ours(mg.tensor(tokens), ours.init_hidden(BATCH))[0]
            want = theirs(torch.tensor(tokens), theirs.init_hidden(BATCH))[0]
        else:
            got = ours(mg.tensor(tokens), mg.tensor(padding))
            want = theirs(torch.tensor(tokens), torch.tensor(padding))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
