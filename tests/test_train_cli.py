"""The command-line tools refuse a user's mistakes up front, as argparse usage errors (one line,
exit status 2, no traceback), and `python -m minigrad.train` resumes sanely: --epochs is the
total, a missing --resume file starts a fresh run, a finished run says so. The README's
commands and option list are checked against the real parser and run on a fresh directory."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
from minigrad.train import build_parser, main, options_markdown
from minigrad.viz.__main__ import main as viz_main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FASHION = Path("/usr/share/datasets/fashion-mnist")
QUICK = ["--train-limit", "64", "--no-progress"]


def _usage_error(capsys, argv: list[str], tool=main) -> str:
    """Run a CLI in-process, expect a usage error, return its one-line message."""
    with pytest.raises(SystemExit) as exit_info:
        tool(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "epoch 1/" not in captured.out  # nothing trained
    message = captured.err.strip().splitlines()[-1]
    assert message.startswith(("python -m minigrad.train: error: ",
                               "python -m minigrad.viz: error: "))
    return message.split("error: ", 1)[1]


# ---- numbers out of range ----------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "match"), [
    (["--epochs", "0"], r"argument --epochs: must be a positive integer, got 0"),
    (["--epochs", "-3"], r"argument --epochs: must be a positive integer, got -3"),
    (["--epochs", "2.5"], r"argument --epochs: must be an integer, got '2.5'"),
    (["--batch-size", "0"], r"argument --batch-size: must be a positive integer"),
    (["--lr", "nan"], r"argument --lr: must be a finite number > 0, got nan"),
    (["--lr", "inf"], r"argument --lr: must be a finite number > 0, got inf"),
    (["--lr", "-0.1"], r"argument --lr: must be a finite number > 0, got -0.1"),
    (["--lr", "0"], r"argument --lr: must be a finite number > 0, got 0"),
    (["--lr", "fast"], r"argument --lr: must be a number, got 'fast'"),
    (["--seed", "-1"], r"argument --seed: must be an integer in \[0, 2\*\*64 - 1\], got -1"),
    (["--seed", str(2**64)], r"argument --seed: must be an integer in \[0, 2\*\*64 - 1\]"),
    (["--threads", "0"], r"argument --threads: must be a positive integer"),
    (["--train-limit", "0"], r"argument --train-limit: must be a positive integer"),
    (["--optimizer", "sgd", "--momentum", "1"],
     r"argument --momentum: must be a number in \[0, 1\), got 1"),
    (["--optimizer", "sgd", "--momentum", "-0.5"], r"argument --momentum: .*got -0.5"),
    (["--momentum", "0.5"],
     r"--momentum applies to --optimizer sgd only \(this run uses adam\)"),
    (["--dataset", "cifar"], r"argument --dataset: invalid choice: 'cifar'"),
])
def test_numbers_and_choices_are_checked_before_anything_runs(capsys, argv, match):
    assert re.search(match, _usage_error(capsys, argv))


# ---- paths -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "argv", "match"), [
    (lambda tmp: None, ["--save", "{tmp}"], r"--save .* is a directory; give a file name"),
    (lambda tmp: (tmp / "notes.txt").write_text("my notes"), ["--save", "{tmp}/notes.txt"],
     r"notes.txt exists and is not a safetensors checkpoint; refusing to overwrite it"),
    (lambda tmp: (tmp / "file").write_text("x"), ["--save", "{tmp}/file/model.safetensors"],
     r"--save .*: .*file is not a directory"),
    (lambda tmp: None, ["--plot", "{tmp}/curves.txt"],
     r"--plot .*curves.txt: the format comes from the extension; use one of .png"),
    (lambda tmp: None, ["--graph", "{tmp}/graph.gif"], r"--graph .*: .*use one of .svg, .png"),
    (lambda tmp: (tmp / "notes.txt").write_text("my notes"),
     ["--resume", "{tmp}/notes.txt"], r"--resume .*notes.txt is not a safetensors checkpoint"),
    (lambda tmp: None, ["--resume", "{tmp}"], r"--resume .* is a directory"),
    (lambda tmp: None, ["--data-root", "{tmp}/nowhere"], r"--data-root .*nowhere: no such dir"),
    (lambda tmp: None, ["--dataset", "fashion-mnist", "--data-root", "{tmp}"],
     r"--dataset fashion-mnist: FashionMNIST: missing train-images-idx3-ubyte.gz"),
])
def test_paths_are_checked_before_anything_runs(capsys, tmp_path, make, argv, match):
    make(tmp_path)
    before = sorted(path.name for path in tmp_path.iterdir())
    message = _usage_error(capsys, [arg.format(tmp=tmp_path) for arg in argv] + QUICK)
    assert re.search(match, message), message
    assert sorted(path.name for path in tmp_path.iterdir()) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_save_directory_is_a_usage_error(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    message = _usage_error(capsys, ["--save", str(locked / "model.safetensors")] + QUICK)
    assert re.search(r"directory .*locked is not writable", message)


def test_usage_errors_reach_the_shell_as_one_line_and_exit_status_2(tmp_path):
    for argv in (["--lr", "nan"], ["--resume", str(tmp_path)], ["--epochs", "0"]):
        result = subprocess.run([sys.executable, "-m", "minigrad.train", *argv],
                                capture_output=True, text=True, cwd=tmp_path, check=False,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("python -m minigrad.train: "
                                                                 "error: ")


# ---- resuming ----------------------------------------------------------------------------------
def test_resume_starts_fresh_then_continues_to_the_total_then_has_nothing_to_train(
        capsys, tmp_path):
    path = str(tmp_path / "runs" / "lenet5.safetensors")  # runs/ does not exist yet
    common = ["--resume", path, "--save", path] + QUICK
    first = main(["--epochs", "1"] + common)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"no checkpoint at {path} yet: starting fresh"
    assert f"checkpoint: {path}" in out and first["epochs_trained"] == 1
    second = main(["--epochs", "2"] + common)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"resuming from {path} after epoch 1"
    assert "epoch 2/2:" in out and "epoch 1/2" not in out
    assert second["epochs_trained"] == 1 and len(second["history"].test_accuracy) == 2
    assert mg.load(path)["epoch"] == 2
    modified = os.stat(path).st_mtime_ns
    third = main(["--epochs", "2"] + common)
    out = capsys.readouterr().out
    assert "nothing to train" in out and "--epochs 2 is the total" in out
    assert "test accuracy" not in out and "checkpoint:" not in out
    assert third["test_accuracy"] is None and third["epochs_trained"] == 0
    assert os.stat(path).st_mtime_ns == modified  # not rewritten


def test_checkpoint_is_named_only_when_written(capsys, tmp_path):
    main(["--epochs", "1"] + QUICK)
    assert "checkpoint:" not in capsys.readouterr().out


@pytest.fixture(scope="module")
def lenet_adam_checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("resume") / "lenet5.safetensors"
    main(["--epochs", "1", "--save", str(path)] + QUICK)
    return path


@pytest.mark.parametrize(("argv", "match"), [
    (["--optimizer", "sgd"], r"trained with --optimizer adam, this run asks for --optimizer sgd"),
    (["--model", "simplecnn"], r"trained with --model lenet5, this run asks for --model simplecnn"),
])
def test_resuming_another_model_or_optimizer_says_what_differs(capsys, lenet_adam_checkpoint,
                                                               argv, match):
    message = _usage_error(capsys, ["--epochs", "2", "--resume", str(lenet_adam_checkpoint)]
                           + argv + QUICK)
    assert re.search(match, message)


def test_resuming_a_checkpoint_without_run_info_compares_weights_and_optimizer(
        capsys, tmp_path, lenet_adam_checkpoint):
    state = mg.load(lenet_adam_checkpoint)
    del state["extra"]["run"]  # as written by save_checkpoint in a user's own script
    bare = tmp_path / "bare.safetensors"
    mg.save(state, bare)
    message = _usage_error(capsys, ["--resume", str(bare), "--optimizer", "sgd"] + QUICK)
    assert re.search(r"another optimizer than --optimizer sgd: its settings are amsgrad, "
                     r"betas.*SGD's are dampening", message)
    message = _usage_error(capsys, ["--resume", str(bare), "--model", "simplecnn"] + QUICK)
    assert re.search(r"holds another model than --model simplecnn on --dataset digits: "
                     r"unexpected: fc3.weight, fc3.bias; shape: conv1.weight \(6, 1, 5, 5\) "
                     r"vs \(32, 1, 3, 3\)", message)
    weights = tmp_path / "weights.safetensors"
    mg.save(state["model"], weights)
    message = _usage_error(capsys, ["--resume", str(weights)] + QUICK)
    assert "is not a training checkpoint (no 'model' entry" in message


# ---- help and README ---------------------------------------------------------------------------
def test_help_keeps_the_examples_line_breaks(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--epochs 5 \\\n      --save runs/lenet5.safetensors" in text
    assert "--epochs N            total number of epochs" in text


def test_readme_option_list_is_the_parsers():
    readme = README.read_text()
    listed = re.search(r"<!-- train-options:[^\n]*\n(.*?)<!-- end of train-options -->",
                       readme, flags=re.DOTALL).group(1).strip()
    assert listed == options_markdown(), "regenerate with minigrad.train.options_markdown()"
    parser_options = {option for action in build_parser()._actions
                      for option in action.option_strings if option.startswith("--")}
    assert parser_options - {"--help"} == set(re.findall(r"`(--[a-z-]+)", listed))


def _readme_commands() -> list[list[str]]:
    block = re.search(r"### From the command line\n\n```sh\n(.*?)```", README.read_text(),
                      flags=re.DOTALL).group(1)
    return [shlex.split(line) for line in block.replace("\\\n", " ").splitlines()
            if line.strip()]


def test_readme_commands_run_on_a_fresh_directory(tmp_path):
    if not FASHION.exists():
        pytest.skip("dataset-fashion-mnist is not installed")
    commands = _readme_commands()
    assert len(commands) == 2 and all(command[:3] == ["python", "-m", "minigrad.train"]
                                      for command in commands)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    outputs = []
    for command in commands + commands[1:]:  # the second again: it has finished by then
        # as written, on fewer images so the test stays short
        argv = [sys.executable, *command[1:], "--train-limit", "64", "--no-progress"]
        result = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env,
                                check=False)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    for name in ("lenet5.safetensors", "curves.png", "lenet5.svg", "simplecnn.safetensors"):
        assert (tmp_path / "runs" / name).stat().st_size > 0
    assert "epoch 10/10:" in outputs[0]
    assert outputs[1].startswith("no checkpoint at runs/simplecnn.safetensors yet: starting")
    assert "epoch 3/3:" in outputs[1]
    assert "nothing to train" in outputs[2] and "test accuracy" not in outputs[2]


# ---- python -m minigrad.viz --------------------------------------------------------------------
def test_viz_mistakes_are_usage_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mynets.py").write_text(
        "from minigrad import nn\n"
        "class Broken(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        raise RuntimeError('my constructor failed')\n"
        "def small():\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(10, 3))\n")
    cases = [
        (["nosuchmodel"], r"unknown model 'nosuchmodel': built-in models are"),
        (["nosuchmodule:Net"], r"ModuleNotFoundError: No module named 'nosuchmodule'"),
        (["mynets:Broken"], r"mynets:Broken: RuntimeError: my constructor failed"),
        (["mynets:small", "--input-size", "2,7"],
         r"mynets:small on --input-size 2,7 failed: RuntimeError: .*mat1 and mat2 shapes"),
        (["lenet5", "--input-size", "1,1,0,28"], r"--input-size must be positive integers"),
        (["lenet5", "-o", "picture.gif"], r"--output picture.gif: .*use one of .svg"),
        (["lenet5", "-o", str(tmp_path)], r"is a directory"),
        (["lenet5", "--collapse", "-1"], r"argument --collapse: must be a non-negative"),
        (["lenet5", "--max-depth", "0"], r"argument --max-depth: must be a positive integer"),
        (["lenet5", "--seed", "-2"], r"argument --seed: must be an integer in"),
    ]
    for argv, match in cases:
        message = _usage_error(capsys, argv, tool=viz_main)
        assert re.search(match, message), (argv, message)
    assert sorted(path.name for path in tmp_path.iterdir() if path.suffix != ".py") in (
        [], ["__pycache__"])


def test_viz_writes_into_a_new_directory(capsys, tmp_path):
    target = tmp_path / "pictures" / "lenet.gv"
    assert viz_main(["lenet5", "--input-size", "1,1,8,8", "-o", str(target)]) == 0
    assert target.read_text().startswith("digraph")
