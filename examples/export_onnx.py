"""Export the LeNet-5 that `make demo` trained to ONNX and run it in onnxruntime.

    python examples/export_onnx.py                       # runs/demo/lenet5.safetensors
    python examples/export_onnx.py --checkpoint my.safetensors -o my.onnx

Reads the demo's checkpoint (or, when there is none, trains LeNet-5 briefly on the 8x8
digits with `python -m minigrad.train`), exports it with `minigrad.onnx.export`, then
classifies the whole test set in onnxruntime and in minigrad and compares the two: the
logits agree to float32 rounding and the predictions, hence the accuracy, are the same.
Needs the onnx extra: pip install 'minigrad[onnx]'.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

import minigrad as mg
import minigrad.onnx
from minigrad.models import LeNet5
from minigrad.train import load_arrays
from minigrad.train import main as train

DEMO_CHECKPOINT = Path("runs/demo/lenet5.safetensors")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEMO_CHECKPOINT)
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="ONNX file (default: the checkpoint's path with .onnx)")
    parser.add_argument("--dataset", choices=("digits", "fashion-mnist", "mnist"), default=None,
                        help="test set (default: digits for 8x8 models, else fashion-mnist, "
                             "the demo's)")
    parser.add_argument("--epochs", type=int, default=8,
                        help="epochs of the brief training when the checkpoint is missing")
    args = parser.parse_args(argv)

    if not args.checkpoint.exists():
        print(f"{args.checkpoint} not found (run `make demo` first for the real thing): "
              f"training LeNet-5 on the digits for {args.epochs} epochs")
        args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        train(["--dataset", "digits", "--model", "lenet5", "--epochs", str(args.epochs),
               "--optimizer", "adam", "--lr", "2e-3", "--seed", "0", "--no-progress",
               "--save", str(args.checkpoint)])
    state = mg.load(args.checkpoint)["model"]
    in_channels, side = state["conv1.weight"].shape[1], _input_side(state)
    model = LeNet5(in_channels=in_channels, num_classes=state["fc3.weight"].shape[0],
                   input_size=side)
    model.load_state_dict(state)
    model.eval()

    # the test set standardised with the training set's statistics, as minigrad.train does
    dataset = args.dataset or ("digits" if side == 8 else "fashion-mnist")
    train_x, _, test_x, test_y = load_arrays(dataset)
    mean, std = float(train_x.mean()), float(train_x.std())
    test_x = ((test_x - mean) / std).astype(np.float32)

    output = args.output or args.checkpoint.with_suffix(".onnx")
    proto = minigrad.onnx.export(model, mg.tensor(test_x[:1]), str(output),
                                 input_names=["image"], output_names=["logits"])
    print(f"wrote {output}: {len(proto.graph.node)} nodes "
          f"({', '.join(sorted({node.op_type for node in proto.graph.node}))}), "
          f"{len(proto.graph.initializer)} initializers, opset {proto.opset_import[0].version}")

    session = ort.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    (onnx_logits,) = session.run(None, {"image": test_x})
    with mg.no_grad():
        minigrad_logits = model(mg.tensor(test_x)).data
    difference = float(np.abs(onnx_logits - minigrad_logits).max())
    onnx_accuracy = float((onnx_logits.argmax(1) == test_y).mean())
    minigrad_accuracy = float((minigrad_logits.argmax(1) == test_y).mean())
    agreement = float((onnx_logits.argmax(1) == minigrad_logits.argmax(1)).mean())
    print(f"{dataset} test set, {len(test_y)} images: onnxruntime accuracy {onnx_accuracy:.4f}, "
          f"minigrad {minigrad_accuracy:.4f}; same prediction for {agreement:.2%} of images; "
          f"largest logit difference {difference:.2e}")
    return {"difference": difference, "agreement": agreement, "onnx_accuracy": onnx_accuracy,
            "minigrad_accuracy": minigrad_accuracy, "output": output}


def _input_side(state: dict) -> int:
    """28 for the demo's Fashion-MNIST model, 8 for the digits one (from fc1's width)."""
    for side in (28, 8):
        if LeNet5(input_size=side).fc1.weight.shape == state["fc1.weight"].shape:
            return side
    raise SystemExit(f"cannot tell the input size of a LeNet-5 whose fc1 weight is "
                     f"{state['fc1.weight'].shape}")


if __name__ == "__main__":
    result = main(sys.argv[1:])
    sys.exit(0 if result["agreement"] == 1.0 else 1)
