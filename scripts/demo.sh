#!/usr/bin/env bash
# The demo the first README command ends with: (1) a model trained briefly in PyTorch,
# exported as a Stride model file, inspected and run by the installed `stride`;
# (2) the installed LV2 plugins (Stride Gate, Stride Genre) running in a real host,
# jalv under a private JACK server (scripts/demo_plugins.py).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== 1. stride: a small classifier trained in PyTorch (tones / noise / clicks), saved as safetensors"
/usr/bin/python3 tests/torch/train_tiny_model.py "$work" >/dev/null
stride info "$work/tiny.safetensors"
echo
echo "-- stride forward on a 16 kHz test recording"
stride forward "$work/tiny.safetensors" "$work/input.wav" "$work/out.npy"
/usr/bin/python3 - "$work/out.npy" <<'PY'
import sys, numpy as np
p = np.load(sys.argv[1]).reshape(-1)
labels = ["tone", "noise", "click"]
print("probabilities: " + ", ".join("%s %.3f" % (l, v) for l, v in zip(labels, p)))
print("detected: %s" % labels[int(p.argmax())])
PY

echo
echo "== 2. the installed LV2 plugins in jalv (private JACK server, dummy backend)"
/usr/bin/python3 scripts/demo_plugins.py
