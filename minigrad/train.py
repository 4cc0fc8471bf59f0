"""Train a built-in model from the command line.

    python -m minigrad.train --dataset digits --model lenet5 --epochs 5 \
        --save runs/lenet5.safetensors --plot runs/curves.png

A tqdm bar per epoch shows loss and accuracy; each epoch ends with a summary line holding
the test accuracy and the time taken. `--resume PATH` continues from a checkpoint (model,
optimizer, scheduler, epoch and RNG state), so 1 + 1 epochs give the weights 2 epochs give.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import data, models, optim
from .checkpoint import load_checkpoint, save_checkpoint
from .engine import manual_seed
from .trainer import History, evaluate, train_epoch

__all__ = ["build_parser", "load_arrays", "main"]

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
    parser = argparse.ArgumentParser(prog="python -m minigrad.train", description=__doc__)
    parser.add_argument("--dataset", choices=DATASETS, default="digits")
    parser.add_argument("--data-root", default=None, help="folder of the IDX files")
    parser.add_argument("--model", choices=sorted(MODELS), default="lenet5")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default 1e-3 for adam, 0.05 for sgd)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="adam")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-limit", type=int, default=None,
                        help="use only the first N training images (quick runs)")
    parser.add_argument("--no-normalize", action="store_true",
                        help="feed raw [0, 1] pixels instead of standardising them")
    parser.add_argument("--save", default=None, help="checkpoint path (.safetensors)")
    parser.add_argument("--resume", default=None, help="checkpoint to continue from")
    parser.add_argument("--plot", default=None, help="PNG of the loss/accuracy curves")
    parser.add_argument("--graph", default=None,
                        help="picture of the trained model's compute graph (.svg/.png/.pdf)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for NumPy (default 1: on small 2-core machines two "
                             "threads on these small GEMMs are mostly contention, up to 6x "
                             "slower per epoch; see benchmarks/RESULTS.md)")
    parser.add_argument("--no-progress", action="store_true", help="hide the tqdm bars")
    return parser


def _make_optimizer(args: argparse.Namespace, parameters: Any) -> optim.Optimizer:
    if args.optimizer == "adam":
        return optim.Adam(parameters, lr=args.lr or 1e-3)
    return optim.SGD(parameters, lr=args.lr or 0.05, momentum=args.momentum)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the CLI; returns the final numbers (used by tests and `make demo`)."""
    from threadpoolctl import threadpool_limits

    args = build_parser().parse_args(argv)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        return _run(args)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    manual_seed(args.seed)
    train_x, train_y, test_x, test_y = load_arrays(args.dataset, args.data_root)
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
    if args.resume:
        state = load_checkpoint(args.resume, model, optimizer)
        start_epoch = int(state["epoch"])
        history = History.from_dict(state.get("extra", {}).get("history", {}))
    train_loader = data.DataLoader(data.TensorDataset(train_x, train_y),
                                   batch_size=args.batch_size, shuffle=True)
    test_loader = data.DataLoader(data.TensorDataset(test_x, test_y), batch_size=512)
    print(f"{args.model} on {args.dataset}: {len(train_y)} training and {len(test_y)} test "
          f"images, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{args.optimizer} lr {optimizer.param_groups[0]['lr']}")
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
        if args.save:
            save_checkpoint(args.save, model, optimizer, epoch=epoch + 1,
                            extra={"history": history.as_dict()})
    if history.test_accuracy:
        print(f"test accuracy: {history.test_accuracy[-1]:.4f}")
    if args.save:
        print(f"checkpoint: {args.save}")
    if args.plot:
        from .plots import plot_history

        plot_history(history, args.plot, title=f"{args.model} on {args.dataset}")
        print(f"curves: {args.plot}")
    if args.graph:
        _draw_graph(model, test_x[:8], test_y[:8], args.graph)
    return {"history": history, "model": model, "optimizer": optimizer,
            "test_accuracy": history.test_accuracy[-1] if history.test_accuracy else None}


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
