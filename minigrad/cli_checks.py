"""Argument checks for the command-line tools (`python -m minigrad.train`, `minigrad.viz`),
all made before any work starts.

Each mistake is an argparse usage error (one line, exit status 2, no traceback): numbers out
of range, output paths that cannot be written, input paths that cannot be read, and a
`--resume` checkpoint of another model or optimizer.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import struct
from pathlib import Path
from typing import Any

__all__ = [
    "check_output_path",
    "check_paths",
    "check_resume_fits",
    "non_negative_int",
    "positive_finite_float",
    "positive_int",
    "seed",
    "unit_interval_float",
]

GRAPH_FORMATS = ("svg", "png", "pdf")
PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg")
MAX_SEED = 2**64 - 1  # PyTorch's manual_seed range for non-negative seeds


# ---- argparse `type=` functions: the value's range is part of its type ----------------------
def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def seed(text: str) -> int:
    """An integer in [0, 2**64 - 1], PyTorch's range for non-negative seeds."""
    value = _int(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**64 - 1], got {text}")
    return value


def positive_finite_float(text: str) -> float:
    """A finite float > 0 (a learning rate)."""
    value = _float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def unit_interval_float(text: str) -> float:
    """A float in [0, 1) (a momentum)."""
    value = _float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


# ---- paths ----------------------------------------------------------------------------------
def check_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every path argument is usable, or a usage error says which and why."""
    if args.data_root is not None and not Path(args.data_root).is_dir():
        parser.error(f"--data-root {args.data_root}: no such directory")
    if args.save is not None:
        check_output_path(parser, "--save", args.save)
        _check_not_overwriting_other_files(parser, args.save)
    if args.plot is not None:
        check_output_path(parser, "--plot", args.plot, PLOT_FORMATS)
    if args.graph is not None:
        check_output_path(parser, "--graph", args.graph, GRAPH_FORMATS)
        if shutil.which("dot") is None:
            parser.error("--graph needs Graphviz's `dot` program on PATH (apt-get install "
                         "graphviz, or brew install graphviz)")
    if args.resume is not None:
        resume = Path(args.resume)
        if resume.is_dir():
            parser.error(f"--resume {args.resume} is a directory; give the checkpoint file")
        if resume.exists() and not os.access(resume, os.R_OK):
            parser.error(f"--resume {args.resume}: permission denied (cannot read it)")
        if resume.exists() and not _looks_like_safetensors(resume):
            parser.error(f"--resume {args.resume} is not a safetensors checkpoint")


def check_output_path(parser: argparse.ArgumentParser, option: str, path: str,
                      formats: tuple[str, ...] | None = None) -> None:
    """`path` can be written: not a directory, a known extension, and its directory exists
    and is writable or can be created."""
    target = Path(path)
    if target.is_dir():
        parser.error(f"{option} {path} is a directory; give a file name inside it")
    if formats is not None and target.suffix.lstrip(".").lower() not in formats:
        parser.error(f"{option} {path}: the format comes from the extension; use one of "
                     f"{', '.join('.' + name for name in formats)}")
    if target.exists() and not os.access(target, os.W_OK):
        parser.error(f"{option} {path}: permission denied (the file is not writable)")
    ancestor = target.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        parser.error(f"{option} {path}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        parser.error(f"{option} {path}: directory {ancestor} is not writable")


def _check_not_overwriting_other_files(parser: argparse.ArgumentParser, path: str) -> None:
    """--save replaces an earlier checkpoint, never some other file given by mistake."""
    target = Path(path)
    if target.is_file() and target.stat().st_size > 0 and not _looks_like_safetensors(target):
        parser.error(f"--save {path} exists and is not a safetensors checkpoint; refusing to "
                     f"overwrite it (remove it or choose another name)")


def _looks_like_safetensors(path: Path) -> bool:
    """True when the file starts with a safetensors header (8-byte size, then a JSON
    object); reads only the header."""
    try:
        with open(path, "rb") as file:
            start = file.read(8)
            if len(start) < 8:
                return False
            (size,) = struct.unpack("<Q", start)
            if size > 100_000_000:
                return False
            header = file.read(size)
    except OSError:
        return False
    return len(header) == size and header.lstrip()[:1] == b"{"


# ---- resuming -------------------------------------------------------------------------------
def check_resume_fits(parser: argparse.ArgumentParser, args: argparse.Namespace,
                      state: dict[str, Any], model: Any, optimizer: Any) -> None:
    """The checkpoint in `state` holds this run's model and optimizer, or one usage error
    line says what differs."""
    where = f"--resume {args.resume}"
    if not isinstance(state.get("model"), dict):
        parser.error(f"{where} is not a training checkpoint (no 'model' entry; was it saved "
                     f"with mg.save(model.state_dict()) instead of --save?)")
    run = (state.get("extra") or {}).get("run") or {}
    for name in ("model", "optimizer"):
        saved = run.get(name)
        if saved is not None and saved != getattr(args, name):
            parser.error(f"{where} was trained with --{name} {saved}, this run asks for "
                         f"--{name} {getattr(args, name)}")
    difference = _state_dict_difference(state["model"], model.state_dict())
    if difference:
        parser.error(f"{where} holds another model than --model {args.model} on "
                     f"--dataset {args.dataset}: {difference}")
    saved_optimizer = state.get("optimizer")
    if isinstance(saved_optimizer, dict):
        difference = _optimizer_difference(saved_optimizer, optimizer)
        if difference:
            parser.error(f"{where} was trained with another optimizer than --optimizer "
                         f"{args.optimizer}: {difference}")


def _state_dict_difference(saved: dict, current: dict) -> str:
    """'' when the keys and shapes agree, else a short description of the first differences."""
    missing = [key for key in current if key not in saved]
    unexpected = [key for key in saved if key not in current]
    misshaped = [f"{key} {tuple(saved[key].shape)} vs {tuple(current[key].shape)}"
                 for key in current if key in saved
                 and tuple(getattr(saved[key], "shape", ())) != tuple(current[key].shape)]
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected),
                         ("shape", misshaped)):
        if items:
            shown = ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3
                                            else "")
            parts.append(f"{label}: {shown}")
    return "; ".join(parts)


def _optimizer_difference(saved: dict, optimizer: Any) -> str:
    """'' when the saved optimizer state has this optimizer's settings and group sizes."""
    groups = saved.get("param_groups") or []
    if len(groups) != len(optimizer.param_groups):
        return f"{len(groups)} parameter groups, this run has {len(optimizer.param_groups)}"
    ignored = {"params", "initial_lr"}
    for saved_group, group in zip(groups, optimizer.param_groups):
        saved_keys = set(saved_group) - ignored
        keys = set(group) - ignored
        if saved_keys != keys:
            return (f"its settings are {', '.join(sorted(saved_keys))}; "
                    f"{type(optimizer).__name__}'s are {', '.join(sorted(keys))}")
        if len(saved_group.get("params", ())) != len(group["params"]):
            return (f"a group of {len(saved_group.get('params', ()))} parameters, this run's "
                    f"has {len(group['params'])}")
    return ""
