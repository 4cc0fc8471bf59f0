"""Dataset, TensorDataset, Subset, random_split, DataLoader and default_collate."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import Tensor
from minigrad.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split
from minigrad.data.loader import _tensor_arrays


def make_dataset(samples: int = 10) -> TensorDataset:
    images = np.arange(samples * 4, dtype=np.float32).reshape(samples, 1, 2, 2)
    labels = np.arange(samples, dtype=np.int64) % 3
    return TensorDataset(Tensor(images), Tensor(labels))


class ItemByItem(Dataset):
    """A plain Dataset over a TensorDataset: forces the sample-by-sample path."""

    def __init__(self, inner: Dataset) -> None:
        self.inner = inner

    def __getitem__(self, index):
        return self.inner[index]

    def __len__(self):
        return len(self.inner)


def batches_as_arrays(loader) -> list[list[np.ndarray]]:
    return [[column.numpy() for column in batch] for batch in loader]


# ---- TensorDataset, Subset ----------------------------------------------------------------

def test_tensor_dataset_items_keep_dtypes():
    dataset = make_dataset(5)
    image, label = dataset[3]
    assert len(dataset) == 5
    assert isinstance(image, Tensor) and isinstance(label, Tensor)
    assert image.shape == (1, 2, 2) and image.dtype == mg.float32
    assert label.shape == () and label.dtype == mg.int64
    np.testing.assert_array_equal(image.numpy(), np.arange(12, 16).reshape(1, 2, 2))
    assert label.item() == 0


def test_tensor_dataset_accepts_numpy_arrays():
    dataset = TensorDataset(np.zeros((4, 2), np.float32), np.arange(4))
    assert all(isinstance(tensor, Tensor) for tensor in dataset.tensors)
    assert dataset[2][1].item() == 2


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"3, 4"):
        TensorDataset(mg.zeros(3, 2), mg.zeros(4))


def test_tensor_dataset_rejects_nothing_scalars_and_lists():
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(mg.tensor(1.0))
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(mg.zeros(2), [1, 2])


def test_subset_maps_indices():
    dataset = make_dataset(10)
    subset = Subset(dataset, [7, 2, 9])
    assert len(subset) == 3
    assert subset[1][1].item() == dataset[2][1].item()
    np.testing.assert_array_equal(subset[0][0].numpy(), dataset[7][0].numpy())


def test_base_dataset_needs_getitem_and_len():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        len(Dataset())


# ---- random_split -------------------------------------------------------------------------

def test_random_split_lengths_partition_the_dataset():
    dataset = make_dataset(10)
    first, second = random_split(dataset, [3, 7], generator=np.random.default_rng(0))
    assert (len(first), len(second)) == (3, 7)
    assert sorted(first.indices + second.indices) == list(range(10))
    assert first.dataset is dataset


@pytest.mark.parametrize("samples, fractions, expected", [
    (10, [0.33, 0.33, 0.34], [4, 3, 3]),
    (11, [0.5, 0.5], [6, 5]),
    (1797, [0.8, 0.2], [1438, 359]),
])
def test_random_split_fractions_follow_pytorch(samples, fractions, expected):
    splits = random_split(range(samples), fractions, generator=np.random.default_rng(0))
    assert [len(split) for split in splits] == expected


def test_random_split_fraction_lengths_match_torch():
    torch = pytest.importorskip("torch")
    for samples, fractions in [(10, [0.33, 0.33, 0.34]), (7, [0.1, 0.2, 0.7]), (100, [0.5] * 2)]:
        ours = random_split(range(samples), fractions)
        theirs = torch.utils.data.random_split(range(samples), fractions)
        assert [len(split) for split in ours] == [len(split) for split in theirs]


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 4])
    with pytest.raises(ValueError, match=r"summing to 1\), got 0.5"):
        random_split(range(10), [0.5, 0.6])
    with pytest.raises(ValueError, match="index 0"):
        random_split(range(10), [-2, 12])
    with pytest.raises(TypeError, match="generator"):
        random_split(range(10), [5, 5], generator=0)


def test_random_split_warns_on_empty_split():
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(range(1), [0.6, 0.4])


def test_random_split_repeats_with_manual_seed_or_generator():
    mg.manual_seed(11)
    first = random_split(range(20), [0.5, 0.5])
    mg.manual_seed(11)
    again = random_split(range(20), [0.5, 0.5])
    assert [split.indices for split in first] == [split.indices for split in again]
    with_generator = random_split(range(20), [0.5, 0.5], generator=np.random.default_rng(11))
    assert [split.indices for split in with_generator] == [split.indices for split in first]


# ---- DataLoader ---------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [0, -3, True, 2.0, None])
def test_loader_rejects_bad_batch_size(batch_size):
    expected = f"batch_size should be a positive integer value, but got batch_size={batch_size}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        DataLoader(make_dataset(), batch_size=batch_size)


def test_loader_rejects_bad_generator_and_seed():
    with pytest.raises(TypeError, match="generator"):
        DataLoader(make_dataset(), generator=3)
    with pytest.raises(ValueError, match="either generator or seed"):
        DataLoader(make_dataset(), generator=np.random.default_rng(0), seed=0)
    with pytest.raises(TypeError, match="seed"):
        DataLoader(make_dataset(), seed=1.5)
    with pytest.raises(TypeError, match="collate_fn"):
        DataLoader(make_dataset(), collate_fn="stack")


def test_loader_attributes_and_len():
    dataset = make_dataset(10)
    loader = DataLoader(dataset, batch_size=4)
    assert loader.dataset is dataset
    assert loader.batch_size == 4
    assert len(loader) == 3
    assert len(DataLoader(dataset, batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(dataset, batch_size=20, drop_last=True)) == 0


def test_loader_batches_in_order_without_shuffle():
    loader = DataLoader(make_dataset(10), batch_size=4)
    batches = list(loader)
    assert [len(images) for images, _ in batches] == [4, 4, 2]
    images, labels = batches[1]
    assert isinstance(batches[1], list)
    assert images.shape == (4, 1, 2, 2) and images.dtype == mg.float32
    assert labels.shape == (4,) and labels.dtype == mg.int64
    np.testing.assert_array_equal(labels.numpy(), [1, 2, 0, 1])  # samples 4..7, label i % 3
    np.testing.assert_array_equal(images.numpy()[0, 0], [[16, 17], [18, 19]])


@given(samples=st.integers(0, 25), batch_size=st.integers(1, 8), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2**32))
def test_loader_covers_the_dataset(samples, batch_size, drop_last, shuffle, seed):
    loader = DataLoader(make_dataset(samples), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last, seed=seed)
    batches = batches_as_arrays(loader)
    assert len(batches) == len(loader)
    assert all(len(images) == batch_size for images, _ in batches[:-1])
    seen = np.concatenate([images[:, 0, 0, 0] // 4 for images, _ in batches] or [[]])
    if drop_last:
        assert len(seen) == samples - samples % batch_size
    else:
        assert sorted(seen.tolist()) == list(range(samples))
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(len(seen)))
    for images, labels in batches:
        np.testing.assert_array_equal(labels, (images[:, 0, 0, 0] // 4).astype(np.int64) % 3)


@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_equals_item_by_item_path(shuffle):
    dataset = make_dataset(23)
    subset = Subset(Subset(dataset, list(range(20, 2, -1))), [0, 5, 3, 7, 11, 2, 9])
    for source in (dataset, subset):
        fast = DataLoader(source, batch_size=3, shuffle=shuffle, seed=4)
        slow = DataLoader(ItemByItem(source), batch_size=3, shuffle=shuffle, seed=4)
        assert _tensor_arrays(fast.dataset) is not None and _tensor_arrays(slow.dataset) is None
        for fast_batch, slow_batch in zip(batches_as_arrays(fast), batches_as_arrays(slow),
                                          strict=True):
            for fast_column, slow_column in zip(fast_batch, slow_batch, strict=True):
                assert fast_column.dtype == slow_column.dtype
                np.testing.assert_array_equal(fast_column, slow_column)


def test_fast_path_reads_the_underlying_arrays_through_subsets():
    dataset = make_dataset(10)
    arrays, index_map = _tensor_arrays(Subset(Subset(dataset, [9, 8, 7, 6]), [3, 0]))
    assert arrays[0] is dataset.tensors[0].data and arrays[1] is dataset.tensors[1].data
    np.testing.assert_array_equal(index_map, [6, 9])
    assert _tensor_arrays(dataset)[1] is None

    class Doubled(Subset):
        def __getitem__(self, index):
            return 2 * super().__getitem__(index)

    assert _tensor_arrays(Doubled(dataset, [1])) is None


def test_batches_are_copies_not_views():
    dataset = make_dataset(6)
    for images, _ in DataLoader(dataset, batch_size=3):
        images.data[...] = -1
    assert dataset.tensors[0].numpy().min() == 0


def test_shuffle_draws_a_fresh_permutation_each_epoch():
    loader = DataLoader(make_dataset(50), batch_size=50, shuffle=True, seed=0)
    first = next(iter(loader))[1].numpy()
    second = next(iter(loader))[1].numpy()
    assert not np.array_equal(first, second)
    assert sorted(first.tolist()) == sorted(second.tolist())


def test_shuffle_with_seed_repeats_across_loaders():
    def two_epochs(loader):
        return [np.concatenate([labels.numpy() for _, labels in loader]) for _ in range(2)]

    dataset = TensorDataset(mg.zeros(30, 1), mg.arange(30))
    first = two_epochs(DataLoader(dataset, batch_size=4, shuffle=True, seed=123))
    mg.manual_seed(999)  # the seeded loader ignores the global generator
    second = two_epochs(DataLoader(dataset, batch_size=4, shuffle=True, seed=123))
    np.testing.assert_array_equal(first, second)
    rng = np.random.default_rng(123)
    np.testing.assert_array_equal(first, [rng.permutation(30), rng.permutation(30)])


def test_shuffle_with_generator_draws_from_it():
    dataset = TensorDataset(mg.zeros(30, 1), mg.arange(30))
    loader = DataLoader(dataset, batch_size=30, shuffle=True, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(next(iter(loader))[1].numpy(),
                                  np.random.default_rng(5).permutation(30))


def test_shuffle_without_seed_follows_manual_seed():
    dataset = TensorDataset(mg.zeros(30, 1), mg.arange(30))
    loader = DataLoader(dataset, batch_size=30, shuffle=True)
    mg.manual_seed(7)
    first = next(iter(loader))[1].numpy()
    mg.manual_seed(7)
    again = next(iter(loader))[1].numpy()
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, np.random.default_rng(7).permutation(30))


def test_loader_matches_torch_without_shuffle():
    torch = pytest.importorskip("torch")
    images = np.random.default_rng(0).standard_normal((11, 3)).astype(np.float32)
    labels = np.arange(11)
    ours = DataLoader(TensorDataset(images, labels), batch_size=4, drop_last=True)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
        batch_size=4, drop_last=True)
    assert len(ours) == len(theirs)
    for our_batch, their_batch in zip(ours, theirs, strict=True):
        for our_column, their_column in zip(our_batch, their_batch, strict=True):
            assert str(our_column.dtype) == str(their_column.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(our_column.numpy(), their_column.numpy())


# ---- the sample-by-sample path and default_collate ------------------------------------------

class Pairs(Dataset):
    """Samples of mixed Python and NumPy types, as a hand-written Dataset returns them."""

    def __getitem__(self, index):
        image = np.full((2, 2), index, dtype=np.float32)
        return {"image": image, "label": index, "weight": index / 2, "name": f"item{index}"}

    def __len__(self):
        return 5


def test_generic_path_collates_by_pytorch_rules():
    batch = next(iter(DataLoader(Pairs(), batch_size=3)))
    assert batch["image"].shape == (3, 2, 2) and batch["image"].dtype == mg.float32
    assert batch["label"].dtype == mg.int64
    assert batch["weight"].dtype == mg.float64  # Python floats collate to float64, as in torch
    assert batch["name"] == ["item0", "item1", "item2"]
    np.testing.assert_array_equal(batch["label"].numpy(), [0, 1, 2])


def test_collate_fn_gets_the_list_of_samples():
    loader = DataLoader(make_dataset(5), batch_size=2, collate_fn=lambda samples: samples)
    first = next(iter(loader))
    assert isinstance(first, list) and len(first) == 2
    assert first[1][1].item() == 1


def test_dataset_getitems_is_used_when_present():
    class Batched(Pairs):
        def __getitems__(self, indices):
            return [(np.float32(index), True) for index in indices]

    values, flags = next(iter(DataLoader(Batched(), batch_size=4)))
    assert values.dtype == mg.float32 and flags.dtype == mg.bool
    np.testing.assert_array_equal(values.numpy(), [0, 1, 2, 3])


def test_default_collate_errors_match_torch():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, "
                                           r"but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([mg.zeros(2), mg.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([{1}, {2}])


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch")
    samples = [(np.ones(2, np.float32) * index, index, index * 0.5, index > 1)
               for index in range(4)]
    ours = default_collate(samples)
    theirs = torch.utils.data.default_collate(samples)
    assert len(ours) == len(theirs)
    for our_column, their_column in zip(ours, theirs, strict=True):
        assert str(our_column.dtype) == str(their_column.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(our_column.numpy(), their_column.numpy())


def test_empty_dataset_gives_no_batches():
    empty = make_dataset(0)
    assert list(DataLoader(empty, batch_size=3, shuffle=True)) == []
    assert len(DataLoader(empty, batch_size=3)) == 0


# ---- worker processes ------------------------------------------------------------------
class WhoReads(Dataset):
    """Each sample says which process read it and draws from minigrad's and Python's RNGs."""

    def __len__(self):
        return 12

    def __getitem__(self, index):
        import os
        import random

        from minigrad.data import get_worker_info

        info = get_worker_info()
        worker = -1 if info is None else info.id
        return np.array([index, worker, os.getpid(), random.random(), mg.rand(1).item()])


class FailsAtFive(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        if index == 5:
            raise KeyError(f"sample {index} is missing")
        return np.float32(index)


def test_workers_give_the_same_batches_in_the_same_order():
    x = mg.arange(40).reshape(20, 2).float()
    dataset = TensorDataset(x, mg.arange(20))
    single = [[t.data.tolist() for t in batch]
              for batch in DataLoader(dataset, batch_size=3, shuffle=True, seed=4)]
    loader = DataLoader(dataset, batch_size=3, shuffle=True, seed=4, num_workers=2,
                        pin_memory=True)
    several = [[t.data.tolist() for t in batch] for batch in loader]
    assert several == single and len(several) == 7
    assert loader.prefetch_factor == 2 and loader.pin_memory is True
    assert DataLoader(dataset).prefetch_factor is None


def test_workers_are_processes_seeded_per_worker_and_per_run():
    import os

    def epoch(loader):
        return np.concatenate([batch.data for batch in loader])

    mg.manual_seed(0)
    rows = epoch(DataLoader(WhoReads(), batch_size=2, num_workers=3))
    assert rows[:, 0].tolist() == list(range(12))
    assert rows[:, 1].tolist() == [0, 0, 1, 1, 2, 2] * 2              # batch i -> worker i % 3
    pids = set(rows[:, 2].astype(int).tolist())
    assert len(pids) == 3 and os.getpid() not in pids
    first_of_each = rows[[0, 2, 4], 3:]                                # each worker's first draw
    assert len({tuple(row) for row in first_of_each.tolist()}) == 3   # seeds differ by worker
    mg.manual_seed(0)
    again = epoch(DataLoader(WhoReads(), batch_size=2, num_workers=3))
    assert np.array_equal(again[:, 3:], rows[:, 3:])                  # and repeat with the seed
    mg.manual_seed(1)
    other = epoch(DataLoader(WhoReads(), batch_size=2, num_workers=3))
    assert not np.array_equal(other[:, 3:], rows[:, 3:])
    in_main = epoch(DataLoader(WhoReads(), batch_size=2))
    assert set(in_main[:, 1].tolist()) == {-1}


def test_worker_init_fn_and_persistent_workers(tmp_path):
    def init(worker_id):
        from minigrad.data import get_worker_info

        info = get_worker_info()
        (tmp_path / f"init-{worker_id}-{info.num_workers}-{info.seed}").touch()

    persistent = DataLoader(WhoReads(), batch_size=4, num_workers=2, worker_init_fn=init,
                            persistent_workers=True, prefetch_factor=1)
    pids = [set(np.concatenate([b.data for b in persistent])[:, 2].tolist()) for _ in range(3)]
    assert pids[0] == pids[1] == pids[2]                               # the same processes
    names = sorted(path.name for path in tmp_path.iterdir())
    assert len(names) == 2 and names[0].startswith("init-0-2-")
    seeds = [int(name.rsplit("-", 1)[1]) for name in names]
    assert seeds[1] == seeds[0] + 1                                    # base_seed + worker id
    fresh = DataLoader(WhoReads(), batch_size=4, num_workers=2)
    first, second = (set(np.concatenate([b.data for b in fresh])[:, 2].tolist())
                     for _ in range(2))
    assert first.isdisjoint(second)                                    # new workers per epoch


def test_a_worker_error_is_raised_in_the_main_process_with_its_traceback():
    loader = DataLoader(FailsAtFive(), batch_size=2, num_workers=2)
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0") as error:
        list(loader)
    assert "sample 5 is missing" in str(error.value) and "__getitem__" in str(error.value)
    batches = []
    for batch in DataLoader(FailsAtFive(), batch_size=2, num_workers=2):
        batches.append(batch.data.tolist())
        break                                                          # stopping early is fine
    assert batches == [[0.0, 1.0]]


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
    ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
    ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers"),
    ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
    ({"num_workers": 1, "worker_init_fn": 3}, TypeError, "worker_init_fn must be callable"),
])
def test_worker_options_are_checked_like_pytorch(options, error, match):
    with pytest.raises(error, match=match):
        DataLoader(WhoReads(), **options)
    torch = pytest.importorskip("torch")
    if "worker_init_fn" not in options:
        with pytest.raises(error):
            torch.utils.data.DataLoader(list(range(4)), **options)


def test_utils_data_is_the_data_module_under_pytorchs_path():
    import minigrad.utils.data as utils_data
    from minigrad.utils.data import DataLoader as AliasLoader
    from minigrad.utils.data import get_worker_info

    assert utils_data is mg.data and mg.utils.data is mg.data
    assert AliasLoader is DataLoader and get_worker_info() is None
