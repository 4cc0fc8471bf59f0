#!/usr/bin/env bash
# Debian packages the demo, the examples and the tests use: Graphviz's `dot` (graph
# pictures), dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) and wamerican (the word
# list /usr/share/dict/words of the sequence examples). Installs them with apt-get when they
# are missing and this runs as root; otherwise says how, and carries on without them.
set -euo pipefail
FASHION=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
if command -v dot >/dev/null && [ -f "$FASHION" ] && [ -f /usr/share/dict/words ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's graphviz, dataset-fashion-mnist and wamerican ..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      graphviz dataset-fashion-mnist wamerican >/dev/null) \
      || echo "apt-get failed; carrying on without them"
else
  echo "Graphviz's dot, Fashion-MNIST or the word list is missing and this is not root:"
  echo "  sudo apt-get install graphviz dataset-fashion-mnist wamerican"
fi
