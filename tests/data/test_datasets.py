"""IDX files, load_digits, FashionMNIST and MNIST (download path with a faked OpenML)."""

import gzip
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import sklearn.datasets
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import (
    MNIST,
    DataLoader,
    FashionMNIST,
    TensorDataset,
    load_digits,
    random_split,
    read_idx,
    write_idx,
)
from minigrad.data.idx import read_images_labels

FASHION_ROOT = Path("/usr/share/datasets/fashion-mnist")
NAMES = {True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def write_split(root: Path, train: bool, images: np.ndarray, labels: np.ndarray) -> None:
    images_name, labels_name = NAMES[train]
    write_idx(root / images_name, images)
    write_idx(root / labels_name, labels)


def small_split(samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(samples, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # so the range [0, 1] is reached exactly
    return images, rng.integers(0, 10, size=samples, dtype=np.uint8)


# ---- IDX reader and writer ----------------------------------------------------------------

@given(dtype=st.sampled_from(["uint8", "int8", "int16", "int32", "float32", "float64"]),
       shape=st.lists(st.integers(0, 4), min_size=1, max_size=4), gzipped=st.booleans())
def test_idx_round_trip(tmp_path_factory, dtype, shape, gzipped):
    path = tmp_path_factory.mktemp("idx") / ("array.idx" + (".gz" if gzipped else ""))
    array = (np.arange(int(np.prod(shape))) - 3).astype(dtype).reshape(shape)
    write_idx(path, array)
    loaded = read_idx(path)
    assert loaded.dtype == np.dtype(dtype) and loaded.shape == tuple(shape)
    assert loaded.dtype.isnative and loaded.flags.writeable
    np.testing.assert_array_equal(loaded, array)


def test_idx_bytes_follow_the_format(tmp_path):
    write_idx(tmp_path / "labels.idx", np.array([7, 2, 1], dtype=np.uint8))
    assert (tmp_path / "labels.idx").read_bytes() == bytes.fromhex("00000801 00000003 070201")
    write_idx(tmp_path / "values.idx", np.array([[1, -2]], dtype=np.int16))
    assert (tmp_path / "values.idx").read_bytes() == bytes.fromhex(
        "00000b02 00000001 00000002 0001 fffe")


def test_idx_writer_compresses_and_leaves_no_temporary_files(tmp_path):
    write_idx(tmp_path / "zeros.gz", np.zeros((100, 28, 28), np.uint8))
    raw = gzip.decompress((tmp_path / "zeros.gz").read_bytes())
    assert raw[:4] == bytes([0, 0, 8, 3]) and len(raw) == 16 + 100 * 28 * 28
    assert [path.name for path in tmp_path.iterdir()] == ["zeros.gz"]


def test_idx_writer_rejects_unsupported_arrays(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x.idx", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x.idx", np.zeros((), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_idx_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.idx"):
        read_idx(tmp_path / "nothing.idx")


def valid_idx_bytes() -> bytes:
    return bytes.fromhex("00000803 00000002 00000002 00000002") + bytes(range(8))


@pytest.mark.parametrize("content, problem", [
    (b"", "too short"),
    (b"\x00\x00", "too short"),
    (bytes.fromhex("01000803") + bytes(12), "bad magic number"),
    (bytes.fromhex("00000703 00000001 00000001 00000001 00"), "unknown dtype code 0x07"),
    (bytes.fromhex("00000800"), "0 dimensions"),
    (bytes.fromhex("00000803 00000002"), "truncated header"),
    (valid_idx_bytes()[:-1], "truncated: shape \\(2, 2, 2\\) of uint8 needs 8 bytes"),
    (valid_idx_bytes() + b"\x00", "trailing bytes"),
    (b"PK\x03\x04 this is a zip file", "bad magic number"),
])
def test_idx_garbled_files_raise_value_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "broken.idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"broken.idx is not a valid IDX file: .*{problem}"):
        read_idx(path)


def test_idx_bad_gzip_raises_value_error(tmp_path):
    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_bytes(valid_idx_bytes())
    with pytest.raises(ValueError, match="plain.gz is not a valid IDX file: bad gzip data"):
        read_idx(not_gzip)
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(gzip.compress(valid_idx_bytes() * 50)[:-20])
    with pytest.raises(ValueError, match="truncated.gz is not a valid IDX file: bad gzip data"):
        read_idx(truncated)


def test_idx_reads_the_real_fashion_mnist_header():
    path = FASHION_ROOT / "t10k-labels-idx1-ubyte.gz"
    if not path.exists():
        pytest.skip("dataset-fashion-mnist is not installed")
    labels = read_idx(path)
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    np.testing.assert_array_equal(labels[:5], [9, 2, 1, 1, 6])


def test_images_labels_checks_what_mnist_files_promise(tmp_path):
    images, labels = small_split(4, seed=0)
    write_idx(tmp_path / "images.gz", images)
    write_idx(tmp_path / "short_labels.gz", labels[:3])
    write_idx(tmp_path / "bad_labels.gz", np.array([0, 1, 10, 2], np.uint8))
    write_idx(tmp_path / "float_images.gz", images.astype(np.float32))
    write_idx(tmp_path / "labels.gz", labels)
    with pytest.raises(ValueError, match="4 images but .*short_labels.gz holds 3 labels"):
        read_images_labels(tmp_path / "images.gz", tmp_path / "short_labels.gz", 10)
    with pytest.raises(ValueError, match="bad_labels.gz holds label 10"):
        read_images_labels(tmp_path / "images.gz", tmp_path / "bad_labels.gz", 10)
    with pytest.raises(ValueError, match="float_images.gz does not hold images"):
        read_images_labels(tmp_path / "float_images.gz", tmp_path / "labels.gz", 10)
    with pytest.raises(ValueError, match="images.gz does not hold labels"):
        read_images_labels(tmp_path / "images.gz", tmp_path / "images.gz", 10)


# ---- load_digits --------------------------------------------------------------------------

def test_load_digits():
    dataset = load_digits()
    images, labels = dataset.tensors
    assert isinstance(dataset, TensorDataset)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == mg.float32
    assert labels.shape == (1797,) and labels.dtype == mg.int64
    assert images.numpy().min() == 0.0 and images.numpy().max() == 1.0
    reference = sklearn.datasets.load_digits()
    np.testing.assert_array_equal(images.numpy()[:, 0] * 16, reference.images)
    np.testing.assert_array_equal(labels.numpy(), reference.target)
    assert np.bincount(labels.numpy()).tolist()[:3] == [178, 182, 177]


def test_load_digits_splits_and_loads():
    train, test = random_split(load_digits(), [0.8, 0.2], generator=np.random.default_rng(0))
    assert (len(train), len(test)) == (1438, 359)
    images, labels = next(iter(DataLoader(train, batch_size=32, shuffle=True, seed=0)))
    assert images.shape == (32, 1, 8, 8) and labels.shape == (32,)


# ---- FashionMNIST -------------------------------------------------------------------------

def test_fashion_mnist_reads_idx_files_from_root(tmp_path):
    train_images, train_labels = small_split(6, seed=1)
    test_images, test_labels = small_split(3, seed=2)
    write_split(tmp_path, True, train_images, train_labels)
    write_split(tmp_path, False, test_images, test_labels)
    train = FashionMNIST(root=tmp_path)
    test = FashionMNIST(root=str(tmp_path), train=False)
    assert (len(train), len(test)) == (6, 3)
    assert train.data.shape == (6, 1, 28, 28) and train.data.dtype == mg.float32
    assert train.targets.dtype == mg.int64
    np.testing.assert_array_equal(train.data.numpy()[:, 0],
                                  train_images.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(test.targets.numpy(), test_labels)
    assert train.data.numpy().min() == 0.0 and train.data.numpy().max() == 1.0
    assert train.classes[9] == "Ankle boot" and len(train.classes) == 10
    assert train.tensors == (train.data, train.targets) and train.train and not test.train
    images, labels = next(iter(DataLoader(train, batch_size=4)))
    assert images.shape == (4, 1, 28, 28) and labels.dtype == mg.int64


def test_fashion_mnist_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match="t10k-images-idx3-ubyte.gz.*apt-get install dataset-fashion-mnist"):
        FashionMNIST(root=tmp_path, train=False)


def test_fashion_mnist_garbled_file_raises_value_error(tmp_path):
    write_split(tmp_path, True, *small_split(2, seed=0))
    images_path = tmp_path / NAMES[True][0]
    images_path.write_bytes(images_path.read_bytes()[:30])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is not a valid IDX file"):
        FashionMNIST(root=tmp_path)


@pytest.mark.skipif(not FASHION_ROOT.exists(), reason="dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_test_split():
    test = FashionMNIST(train=False)
    images = test.data.numpy()
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.float32
    assert test.targets.dtype == mg.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert test.targets.numpy()[:3].tolist() == [9, 2, 1]


# ---- MNIST: OpenML is the network, so it is the one thing faked here ------------------------

def fake_openml(samples: int) -> tuple[SimpleNamespace, np.ndarray, np.ndarray]:
    """What fetch_openml("mnist_784", as_frame=False) returns: float64 pixels, string labels."""
    rng = np.random.default_rng(3)
    pixels = np.zeros((samples, 784))
    pixels[:8] = rng.integers(0, 256, size=(8, 784))
    pixels[-8:] = rng.integers(0, 256, size=(8, 784))
    labels = rng.integers(0, 10, size=samples)
    bunch = SimpleNamespace(data=pixels, target=labels.astype(str).astype(object))
    return bunch, pixels, labels


def test_mnist_downloads_once_and_caches_idx_files(tmp_path, monkeypatch):
    bunch, pixels, labels = fake_openml(10_006)  # 6 training rows, then the 10,000 test rows
    calls = []

    def fetch_openml(name, **options):
        calls.append((name, options.get("version")))
        return bunch

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fetch_openml)
    root = tmp_path / "cache" / "mnist"
    train = MNIST(root=root)
    assert calls == [("mnist_784", 1)]
    assert sorted(path.name for path in root.iterdir()) == sorted(NAMES[True] + NAMES[False])
    assert train.data.shape == (6, 1, 28, 28) and train.data.dtype == mg.float32
    np.testing.assert_array_equal(train.data.numpy().reshape(6, 784),
                                  pixels[:6].astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(train.targets.numpy(), labels[:6])
    test = MNIST(root=root, train=False)
    assert calls == [("mnist_784", 1)]  # read from the cache, not fetched again
    assert len(test) == 10_000 and test.targets.dtype == mg.int64
    np.testing.assert_array_equal(test.targets.numpy(), labels[6:])
    np.testing.assert_array_equal(test.data.numpy()[-1].reshape(784),
                                  pixels[-1].astype(np.float32) / np.float32(255))
    assert read_idx(root / NAMES[False][1]).dtype == np.uint8


def test_mnist_without_network_raises_a_clear_error(tmp_path, monkeypatch):
    def fetch_openml(name, **options):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fetch_openml)
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte.gz.*OpenML failed.*Copy"):
        MNIST(root=tmp_path / "mnist")
    assert not (tmp_path / "mnist").exists()


def test_mnist_rejects_unexpected_openml_data(tmp_path, monkeypatch):
    bunch = SimpleNamespace(data=np.zeros((10_001, 780)), target=np.zeros(10_001).astype(str))
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", lambda name, **options: bunch)
    with pytest.raises(RuntimeError, match=r"shape \(10001, 780\)"):
        MNIST(root=tmp_path)


def test_mnist_without_download_names_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte.gz.*download=True"):
        MNIST(root=tmp_path, download=False)
