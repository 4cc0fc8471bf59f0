r"""Train a built-in model from the command line.

examples:
  python -m minigrad.train --dataset digits --model lenet5 --epochs 5 \
      --save runs/lenet5.safetensors --plot runs/curves.png
  python -m minigrad.train --dataset digits --model lenet5 --epochs 8 \
      --resume runs/lenet5.safetensors --save runs/lenet5.safetensors

A tqdm bar per epoch shows loss and accuracy; each epoch ends with a summary line holding
the test accuracy and the time taken. --epochs is the total number of epochs: --resume PATH
continues from a checkpoint (model, optimizer, epoch and RNG state) up to that total, so
1 + 1 epochs give the weights 2 epochs give; when PATH does not exist yet the run starts
fresh and says so. Every argument is checked before training starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import cli_checks as checks
from . import data, models, optim
from .checkpoint import load_checkpoint, save_checkpoint
from .engine import manual_seed
from .serialization import load
from .trainer import History, evaluate, train_epoch

__all__ = ["build_parser", "load_arrays", "main", "options_markdown"]

MODELS = {"lenet5": models.LeNet5, "simplecnn": models.SimpleCNN}
DATASETS = ("digits", "fashion-mnist", "mnist")


def load_arrays(name: str, root: str | None = None) -> tuple[np.ndarray, ...]:
    """(train images, train labels, test images, test labels) as NCHW float32 in [0, 1]."""
    if name == "digits":
        dataset = data.load_digits()
        images, labels = (tensor.data for tensor in dataset.tensors)
        # a fixed 80/20 split, the same whatever --seed is, so test sets are comparable
        order = np.random.default_rng(0).permutation(len(labels))
        cut = int(0.8 * len(labels))
        return (images[order[:cut]], labels[order[:cut]],
                images[order[cut:]], labels[order[cut:]])
    source = {"fashion-mnist": data.FashionMNIST, "mnist": data.MNIST}[name]
    train = source(root=root, train=True)
    test = source(root=root, train=False)
    return (train.data.data, train.targets.data, test.data.data, test.targets.data)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minigrad.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, default="digits")
    parser.add_argument("--data-root", default=None, metavar="DIR",
                        help="folder of the IDX files (fashion-mnist, mnist)")
    parser.add_argument("--model", choices=sorted(MODELS), default="lenet5")
    parser.add_argument("--epochs", type=checks.positive_int, default=5, metavar="N",
                        help="total number of epochs, counting those of a resumed checkpoint "
                             "(default 5)")
    parser.add_argument("--batch-size", type=checks.positive_int, default=64, metavar="N",
                        help="training batch size (default 64)")
    parser.add_argument("--lr", type=checks.positive_finite_float, default=None,
                        help="learning rate (default 1e-3 for adam, 0.05 for sgd)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="adam")
    parser.add_argument("--momentum", type=checks.unit_interval_float, default=None,
                        help="SGD momentum in [0, 1) (default 0.9; sgd only)")
    parser.add_argument("--seed", type=checks.seed, default=0,
                        help="seed for initialisation and data order (default 0)")
    parser.add_argument("--train-limit", type=checks.positive_int, default=None, metavar="N",
                        help="use only the first N training images (quick runs)")
    parser.add_argument("--no-normalize", action="store_true",
                        help="feed raw [0, 1] pixels instead of standardising them")
    parser.add_argument("--save", default=None, metavar="PATH",
                        help="checkpoint written after every epoch (.safetensors)")
    parser.add_argument("--resume", default=None, metavar="PATH",
                        help="continue from this checkpoint if it exists, else start fresh")
    parser.add_argument("--plot", default=None, metavar="PATH",
                        help="loss/accuracy curves (.png, .pdf, .svg)")
    parser.add_argument("--graph", default=None, metavar="PATH",
                        help="picture of the trained model's compute graph (.svg/.png/.pdf)")
    parser.add_argument("--threads", type=checks.positive_int, default=1, metavar="N",
                        help="BLAS threads for NumPy (default 1: more threads on these "
                             "small GEMMs are mostly contention; see benchmarks/RESULTS.md)")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    parser.add_argument("--logdir", default=None, metavar="DIR",
                        help="write TensorBoard event files there: loss, accuracy, learning "
                             "rate and gradient histograms per epoch (needs tensorboardX: pip "
                             "install 'minigrad[tensorboard]')")
    return parser


def options_markdown(parser: argparse.ArgumentParser | None = None) -> str:
    """The option list the README shows, one `- `--option VALUE`: help` line per option,
    generated from the parser (tests/test_train_cli.py keeps the README equal to it)."""
    parser = parser or build_parser()
    lines = []
    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        flag = action.option_strings[-1]
        if action.choices:
            flag += " {" + ",".join(action.choices) + "}"
        elif action.nargs != 0:
            flag += " " + (action.metavar or action.dest.upper())
        text = action.help or ""
        if action.choices and action.default is not None:
            text = f"default {action.default}"
        lines.append(f"- `{flag}`" + (f": {text}" if text else ""))
    return "\n".join(lines)


def _make_optimizer(args: argparse.Namespace, parameters: Any) -> optim.Optimizer:
    if args.optimizer == "adam":
        return optim.Adam(parameters, lr=args.lr or 1e-3)
    momentum = 0.9 if args.momentum is None else args.momentum
    return optim.SGD(parameters, lr=args.lr or 0.05, momentum=momentum)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the CLI; returns the final numbers (used by tests and `make demo`).

    A user's mistake ends as an argparse usage error (exit status 2) before training starts.
    """
    from threadpoolctl import threadpool_limits

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.momentum is not None and args.optimizer != "sgd":
        parser.error(f"--momentum applies to --optimizer sgd only (this run uses "
                     f"{args.optimizer})")
    checks.check_paths(parser, args)
    if args.logdir is not None:
        _check_logdir(parser, args.logdir)
    run: dict[str, Any] = {"saved": False}
    with threadpool_limits(limits=args.threads, user_api="blas"):
        try:
            run = _prepare(parser, args)
            return _train(args, run)
        except KeyboardInterrupt:
            saved = f"; last checkpoint {args.save}" if run["saved"] else ""
            print(f"\ninterrupted{saved}", file=sys.stderr)
            raise SystemExit(130) from None


def _check_logdir(parser: argparse.ArgumentParser, logdir: str) -> None:
    """--logdir needs tensorboardX and a directory that is, or can be made, writable."""
    try:
        from .utils import tensorboard  # noqa: F401 - raises ImportError without tensorboardX
    except ImportError as error:
        parser.error(f"--logdir: {error}")
    target = Path(logdir)
    if target.exists() and not target.is_dir():
        parser.error(f"--logdir {logdir} is a file, not a directory")
    ancestor = target.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not os.access(ancestor, os.W_OK | os.X_OK):
        parser.error(f"--logdir {logdir}: directory {ancestor} is not writable")


def _prepare(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """Data, model, optimizer and resumed state, or a usage error: nothing trains yet."""
    manual_seed(args.seed)
    try:
        train_x, train_y, test_x, test_y = load_arrays(args.dataset, args.data_root)
    except (OSError, ValueError) as error:
        parser.error(f"--dataset {args.dataset}: {error}")
    if args.train_limit:
        train_x, train_y = train_x[:args.train_limit], train_y[:args.train_limit]
    if not args.no_normalize:
        # standardise with the training set's statistics (the test set is never looked at)
        mean, std = float(train_x.mean()), float(train_x.std())
        train_x = ((train_x - mean) / std).astype(np.float32)
        test_x = ((test_x - mean) / std).astype(np.float32)
    model = MODELS[args.model](in_channels=train_x.shape[1], num_classes=10,
                               input_size=train_x.shape[-1])
    optimizer = _make_optimizer(args, model.parameters())
    history, start_epoch = History(), 0
    if args.resume and Path(args.resume).exists():
        try:
            state = load(args.resume)
        except (OSError, ValueError) as error:
            parser.error(f"--resume {args.resume}: {error}")
        checks.check_resume_fits(parser, args, state, model, optimizer)
        try:
            load_checkpoint(args.resume, model, optimizer)
        except (RuntimeError, ValueError, TypeError, KeyError) as error:
            parser.error(f"--resume {args.resume}: {str(error).splitlines()[0]}")
        start_epoch = int(state.get("epoch", 0))
        history = History.from_dict(state.get("extra", {}).get("history", {}))
        print(f"resuming from {args.resume} after epoch {start_epoch}")
    elif args.resume:
        print(f"no checkpoint at {args.resume} yet: starting fresh")
    return {"data": (train_x, train_y, test_x, test_y), "model": model,
            "optimizer": optimizer, "history": history, "start_epoch": start_epoch,
            "saved": False}


def _train(args: argparse.Namespace, run: dict[str, Any]) -> dict[str, Any]:
    train_x, train_y, test_x, test_y = run["data"]
    model, optimizer, history = run["model"], run["optimizer"], run["history"]
    start_epoch = run["start_epoch"]
    train_loader = data.DataLoader(data.TensorDataset(train_x, train_y),
                                   batch_size=args.batch_size, shuffle=True)
    test_loader = data.DataLoader(data.TensorDataset(test_x, test_y), batch_size=512)
    print(f"{args.model} on {args.dataset}: {len(train_y)} training and {len(test_y)} test "
          f"images, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{args.optimizer} lr {optimizer.param_groups[0]['lr']}")
    if start_epoch >= args.epochs:
        print(f"nothing to train: {args.resume} already holds {start_epoch} epochs and "
              f"--epochs {args.epochs} is the total; pass --epochs {start_epoch + 1} or more "
              f"to train further")
    writer = None
    if args.logdir is not None:
        from .utils.tensorboard import SummaryWriter

        writer = SummaryWriter(args.logdir)
    for epoch in range(start_epoch, args.epochs):
        started = time.perf_counter()
        train_loss, train_accuracy = train_epoch(
            model, train_loader, optimizer, description=f"epoch {epoch + 1}/{args.epochs}",
            progress=not args.no_progress, history=history)
        test_loss, test_accuracy = evaluate(model, test_loader)
        seconds = time.perf_counter() - started
        for name, value in (("train_loss", train_loss), ("train_accuracy", train_accuracy),
                            ("test_loss", test_loss), ("test_accuracy", test_accuracy),
                            ("epoch_seconds", seconds)):
            getattr(history, name).append(value)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {train_loss:.4f} acc "
              f"{train_accuracy:.4f} | test loss {test_loss:.4f} acc {test_accuracy:.4f} | "
              f"{seconds:.1f} s", flush=True)
        if writer is not None:
            from .utils.tensorboard import log_epoch

            log_epoch(writer, epoch + 1, train_loss=train_loss, train_accuracy=train_accuracy,
                      test_loss=test_loss, test_accuracy=test_accuracy,
                      lr=optimizer.param_groups[0]["lr"], model=model)
        if args.save:
            Path(args.save).parent.mkdir(parents=True, exist_ok=True)
            save_checkpoint(args.save, model, optimizer, epoch=epoch + 1,
                            extra={"history": history.as_dict(),
                                   "run": {"model": args.model, "optimizer": args.optimizer,
                                           "dataset": args.dataset}})
            run["saved"] = True
    if writer is not None:
        writer.close()
        print(f"TensorBoard logs: {args.logdir}")
    trained = args.epochs > start_epoch
    if trained:
        print(f"test accuracy: {history.test_accuracy[-1]:.4f}")
    if run["saved"]:
        print(f"checkpoint: {args.save}")
    if args.plot:
        from .plots import plot_history

        plot_history(history, args.plot, title=f"{args.model} on {args.dataset}")
        print(f"curves: {args.plot}")
    if args.graph:
        _draw_graph(model, test_x[:8], test_y[:8], args.graph)
    return {"history": history, "model": model, "optimizer": optimizer,
            "test_accuracy": history.test_accuracy[-1] if trained else None,
            "epochs_trained": max(args.epochs - start_epoch, 0)}


def _draw_graph(model: Any, images: np.ndarray, labels: np.ndarray, path: str) -> None:
    """Save the compute graph of one batch with gradient-norm colours."""
    from . import viz
    from .engine import Tensor
    from .nn import functional as F

    model.zero_grad()
    with viz.record_grads() as grads:
        loss = F.cross_entropy(model(Tensor(images)), Tensor(labels))
        loss.backward(retain_graph=True)
    graph = viz.draw_graph(loss, model, show_grads=True, grads=grads)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    graph.render(outfile=str(target), cleanup=True)
    print(f"graph: {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
