#!/usr/bin/env bash
# `make demo`: train LeNet-5 on Fashion-MNIST (digits when it cannot be had), then report.
# As root, installs Debian's dataset-fashion-mnist, graphviz and wamerican (the word list of
# the sequence examples) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
FASHION=/usr/share/datasets/fashion-mnist
bash scripts/system_packages.sh
if [ -f "$FASHION/train-images-idx3-ubyte.gz" ]; then
  DATASET=fashion-mnist; EPOCHS=${EPOCHS:-5}
else
  echo "Fashion-MNIST not found in $FASHION: training on scikit-learn's 8x8 digits instead"
  DATASET=digits; EPOCHS=${EPOCHS:-15}
fi
GRAPH=()
if command -v dot >/dev/null; then GRAPH=(--graph runs/demo/lenet5_graph.svg); else
  echo "Graphviz's dot is missing: no graph picture (apt-get install graphviz)"; fi
mkdir -p runs/demo
.venv/bin/python -m minigrad.train --dataset "$DATASET" --model lenet5 --epochs "$EPOCHS" \
  --optimizer adam --lr 2e-3 --batch-size 64 --seed 0 \
  --save runs/demo/lenet5.safetensors --plot runs/demo/curves.png "${GRAPH[@]}"
