#!/usr/bin/env bash
# The main job: set up, train the digits demo with PyTorch and with Keras (train and validation
# per-class data for 15 epochs each, misclassified validation digits kept, score histograms for
# the Scores view), plus a binary and a multilabel task with PyTorch, and the digits with 10% of
# the labels flipped and every training sample tracked (the Dynamics tab), then serve
# TensorBoard with the Per-Class tab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY="${VENV:-.venv}/bin/python"

rm -rf runs/digits  # a fresh demo each time, not two runs' steps interleaved
"$PY" -m demo.train_torch runs/digits/torch --epochs 15
"$PY" -m demo.train_keras runs/digits/keras --epochs 15
"$PY" -m demo.train_tasks runs/digits --epochs 15  # a binary and a multilabel task
"$PY" -m demo.train_dynamics runs/digits/noisy --epochs 20  # 10% flipped labels, tracked per sample

echo
echo "Open http://localhost:${PORT:-6006}/#perclass (Ctrl-C stops TensorBoard)"
exec "$PY" -m tensorboard.main --logdir runs/digits --port "${PORT:-6006}"
