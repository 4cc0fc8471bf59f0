"""examples/autoencoder.py --quick trains a ConvTranspose2d autoencoder on Fashion-MNIST: the
test reconstruction loss falls and a PNG grid of reconstructions is written."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "autoencoder.py"
FASHION = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], check=False, cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
                               "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(not FASHION.exists(),
                    reason="needs Debian's dataset-fashion-mnist (make demo installs it)")
def test_quick_run_lowers_the_reconstruction_loss_and_writes_a_png(tmp_path):
    result = run("--quick", "--out", "grid.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    before = float(re.search(r"loss before training: (\d+\.\d+)", result.stdout).group(1))
    after = float(re.search(r"loss after training: (\d+\.\d+)", result.stdout).group(1))
    # untrained logits near 0 give about log 2 = 0.69 per pixel; a trained net far less
    assert before > 0.6
    assert after < 0.75 * before
    png = (tmp_path / "grid.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_bad_arguments_are_usage_errors_without_traceback(tmp_path):
    result = run("--epochs", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "--epochs: must be a positive integer" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("--train-size", "70000", cwd=tmp_path)
    assert result.returncode == 2 and "at most 60000" in result.stderr


def test_missing_dataset_is_reported_without_traceback(tmp_path):
    result = run("--quick", "--root", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 1
    assert "FashionMNIST: missing" in result.stderr and "Traceback" not in result.stderr
