"""The seed notebook (examples/seed_notebook.ipynb) runs top to bottom in a real Jupyter kernel.

Its numbers are asserted inside its cells (the seed's convolution example, gradcheck verdicts,
the Problem 9/10/11 counts, training that learns), so any failing cell fails this test. The
kernel runs with MINIGRAD_QUICK=1, which trains on 1,000 instead of 2,000 images.

To refresh the committed notebook with the outputs of a full run:

    .venv/bin/python tests/test_notebook.py --write
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    import nbformat

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "seed_notebook.ipynb"
CELL_TIMEOUT = 600  # seconds per cell: a backstop for a hung kernel, not a speed check


def execute_notebook(path: Path, quick: bool) -> nbformat.NotebookNode:
    """Run every cell of `path` in a fresh python3 kernel started in its folder; return the
    executed notebook. Raises nbclient's CellExecutionError at the first failing cell."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get("MINIGRAD_QUICK")
    os.environ["MINIGRAD_QUICK"] = "1" if quick else "0"  # the kernel inherits it
    try:
        client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}},
                                coalesce_streams=True)
        client.execute()
    finally:
        if previous is None:
            del os.environ["MINIGRAD_QUICK"]
        else:
            os.environ["MINIGRAD_QUICK"] = previous
    for cell in notebook.cells:
        # a finished tqdm bar (leave=False) leaves only blanks behind: drop those outputs
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs
                            if output["output_type"] != "stream" or output["text"].strip()]
    return notebook


def output_text(cell: dict) -> str:
    """Everything a code cell printed or returned as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"])
        elif output["output_type"] == "error":
            parts.append("\n".join(output["traceback"]))
    return "".join(parts)


@pytest.fixture(scope="module")
def executed():
    pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    return execute_notebook(NOTEBOOK, quick=True)


def test_every_cell_runs_without_error(executed):
    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert code_cells
    for index, cell in enumerate(code_cells):
        errors = [output for output in cell.outputs if output["output_type"] == "error"]
        assert not errors, f"code cell {index} failed:\n{output_text(cell)}"
        assert cell.execution_count is not None


def test_quick_mode_reached_the_kernel(executed):
    assert "QUICK=True" in output_text(executed.cells[1])


def test_the_seeds_convolution_numbers_are_shown(executed):
    text = "".join(output_text(cell) for cell in executed.cells if cell.cell_type == "code")
    for row in ("[  0.,  -5.,   4.,  -7.]", "[  0.,  13.,  27., -11.]", "[  0., -10., -11.,   0.]"):
        assert row in text
    assert "Output size: (26, 26)" in text


def test_problem_10_numbers_appear(executed):
    text = "".join(output_text(cell) for cell in executed.cells if cell.cell_type == "code")
    for shown in ("-> output (6, 142, 142), 168 parameters",
                  "-> output (48, 58, 58), 10,416 parameters",
                  "-> output (20, 9, 9), 1,820 parameters"):
        assert shown in text


def test_problem_9_counts_and_pictures_appear(executed):
    text = "".join(output_text(cell) for cell in executed.cells if cell.cell_type == "code")
    for count in ("61,100,840", "132,863,336", "138,357,544", "11,689,512", "21,797,672"):
        assert text.count(count) >= 2  # minigrad's count next to torchvision's
    svgs = [output for cell in executed.cells for output in cell.get("outputs", [])
            if "image/svg+xml" in output.get("data", {})]
    pngs = [output for cell in executed.cells for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})]
    assert len(svgs) == 2 and "grad" in svgs[0]["data"]["image/svg+xml"]
    assert len(pngs) >= 3  # the training curves


def test_committed_notebook_shows_a_full_run():
    """The notebook on main carries the outputs of a real run (QUICK off), not a blank one."""
    nbformat = pytest.importorskip("nbformat")

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells)
    assert "QUICK=False" in output_text(code_cells[0])
    data_line = next(line for cell in code_cells for line in output_text(cell).splitlines()
                     if line.startswith("Data set: "))
    # the seed's 2,000 images split 1,280 / 320 / 400 (digits has only 1,797 images)
    assert ("1280 train, 320 validation, 400 test" in data_line
            or "1149 train, 288 validation, 360 test" in data_line)
    assert not any(output["output_type"] == "error" for cell in code_cells
                   for output in cell.outputs)


# ---- the recipe's helpers --------------------------------------------------------------------
def test_seed_splits_are_the_seeds_sizes():
    from minigrad.seed_recipe import seed_splits

    images = np.arange(2000, dtype=np.float32).reshape(2000, 1, 1, 1)
    labels = np.arange(2000) % 10
    x_train, x_val, x_test, y_train, y_val, y_test = seed_splits(images, labels)
    assert (len(x_train), len(x_val), len(x_test)) == (1280, 320, 400)
    assert (len(y_train), len(y_val), len(y_test)) == (1280, 320, 400)
    together = np.concatenate([x_train, x_val, x_test]).ravel()
    assert np.array_equal(np.sort(together), images.ravel())  # a partition
    again = seed_splits(images, labels)
    assert np.array_equal(again[0], x_train)  # random_state=42: the same split every time
    np.testing.assert_array_equal(x_train.ravel() % 10, y_train)


def test_load_seed_data_falls_back_to_digits():
    from minigrad.seed_recipe import load_seed_data

    data = load_seed_data(sources=("digits",))
    assert data.name == "digits" and data.image_size == 8
    assert len(data.x_train) + len(data.x_val) + len(data.x_test) == 1797
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    images, labels = next(iter(data.loader("train", batch_size=16, shuffle=True, seed=0)))
    assert images.shape == (16, 1, 8, 8) and labels.shape == (16,)
    with pytest.raises(ValueError, match="split"):
        data.loader("validation")


def test_missing_sources_raise_file_not_found(monkeypatch):
    from minigrad import seed_recipe

    def missing(num_samples):
        raise FileNotFoundError("no IDX files here")

    monkeypatch.setitem(seed_recipe._LOADERS, "fashion-mnist", missing)
    with pytest.raises(FileNotFoundError, match="no data set available"):
        seed_recipe.load_images(10, sources=("fashion-mnist",))
    name, _, images, labels = seed_recipe.load_images(10, sources=("fashion-mnist", "digits"))
    assert name == "digits" and images.shape == (10, 1, 8, 8) and labels.shape == (10,)


def test_mnist_comes_first_when_its_files_are_cached(tmp_path, monkeypatch):
    from minigrad import seed_recipe
    from minigrad.data import MNIST, write_idx
    from minigrad.data.mnist import idx_file_names

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    images_name, labels_name = idx_file_names(True)
    write_idx(tmp_path / images_name, images)
    write_idx(tmp_path / labels_name, labels)
    monkeypatch.setattr(seed_recipe, "openml_mnist_cached", lambda: False)
    monkeypatch.setattr(MNIST, "default_root", str(tmp_path))
    name, source, loaded, loaded_labels = seed_recipe.load_images(3)
    assert name == "MNIST" and str(tmp_path) in source
    np.testing.assert_array_equal(loaded[:, 0], images[:3] / np.float32(255))
    np.testing.assert_array_equal(loaded_labels, [3, 1, 4])
    assert loaded.dtype == np.float32


def test_seed_init_draws_small_weights_and_zero_biases():
    import minigrad as mg
    from minigrad import models
    from minigrad.seed_recipe import seed_init_

    mg.manual_seed(0)
    model = seed_init_(models.SimpleCNN())
    assert abs(float(model.fc1.weight.detach().numpy().std()) - 0.01) < 0.0005
    assert not model.fc1.bias.detach().numpy().any() and not model.conv1.bias.detach().numpy().any()


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: {sys.argv[0]} --write   (run the notebook with QUICK off and save it)")
    import time

    import nbformat

    start = time.perf_counter()
    result = execute_notebook(NOTEBOOK, quick=False)
    nbformat.write(result, NOTEBOOK)
    print(f"executed and wrote {NOTEBOOK} in {time.perf_counter() - start:.0f} s")
