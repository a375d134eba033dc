#!/usr/bin/env python3
"""Calibrate a gate model so stationary noise never opens it at the plugin's threshold.

A gate trained on mixtures ends up with its p = 0.5 point wherever the training mix
put it, and a level-independent model sees a few 200 ms stretches of coloured noise
as a fricative or a cymbal: the plugin then lets a 350 ms blip of noise through every
so often. Shifting the final layer's noise bias by s moves every decision's logit
log(p / (1 - p)) down by s and changes nothing else, so s can be chosen after
training: the smallest shift that keeps every decision on the given noise (training
data, not test data) below the threshold, plus a margin.

    calibrate_gate.py MODEL --noise DIR [DIR ...] --out OUT [--margin M]

Writes OUT (MODEL with the shifted bias and calibrate.* metadata) and prints, per
noise kind, the largest p before and after. Needs `stride` (--stride) and numpy.
"""

import argparse
import glob
import json
import math
import os
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in models/
import evaluate_gate  # noqa: E402  (beside this file: its `stride predict` reader)
import stride_file  # noqa: E402

AUDIO = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".au", ".caf")


def final_bias(meta, tensors, path):
    """The name of the bias of the layer the softmax reads: the last dense layer, or the head
    convolution of a fully convolutional network."""
    arch = json.loads(meta["stride.architecture"])
    layers = arch["layers"]
    if len(layers) < 2 or layers[-1]["type"] != "softmax" or layers[-2]["type"] not in ("dense", "conv1d"):
        sys.exit("%s: the network does not end in dense + softmax or conv1d + softmax; nothing to calibrate"
                 % path)
    name = layers[-2]["name"] + ".bias"
    if name not in tensors:
        sys.exit("%s: the last %s layer has no bias (%s)" % (path, layers[-2]["type"], name))
    return name


def noise_files(dirs):
    files = []
    for d in dirs:
        if not os.path.isdir(d):
            sys.exit("%s: not a folder" % d)
        found = sorted(f for f in glob.glob(os.path.join(d, "**", "*"), recursive=True)
                       if f.lower().endswith(AUDIO))
        if not found:
            sys.exit("%s: no audio files in it" % d)
        files += found
    return files


def content_logits(stride, model, files, tmp):
    """Per file, the logit of p(content) at every decision (evaluate_gate's `stride predict` run)."""
    by_file = evaluate_gate.model_probabilities(stride, model, [dict(path=f) for f in files], tmp)
    logits = {}
    for name, rows in by_file.items():
        p = np.clip(np.array([r[2] for r in rows]), 1e-6, 1 - 1e-6)
        logits[name] = np.log(p / (1 - p))
    return logits


def kind(path):
    """recipe files are <kind>_<number>.wav: report per kind."""
    base = os.path.splitext(os.path.basename(path))[0]
    head, _, tail = base.rpartition("_")
    return head if head and tail.isdigit() else base


def report(logits, shift):
    by_kind = {}
    for name, d in logits.items():
        by_kind.setdefault(kind(name), []).append(d.max())
    for k in sorted(by_kind, key=lambda k: -max(by_kind[k])):
        top = max(by_kind[k])
        print("  %-12s %4d files  largest p %.4f -> %.4f"
              % (k, len(by_kind[k]), 1 / (1 + math.exp(-top)), 1 / (1 + math.exp(-(top - shift)))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--noise", nargs="+", required=True,
                    help="folders of noise the gate must stay closed on (searched recursively)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threshold", type=float, default=0.5,
                    help="the plugin's threshold to calibrate for (default 0.5, its default)")
    ap.add_argument("--margin", type=float, default=0.25,
                    help="logit margin kept below the threshold (default 0.25)")
    ap.add_argument("--stride", default="stride")
    args = ap.parse_args()
    if not 0 < args.threshold < 1:
        sys.exit("--threshold must be between 0 and 1")

    try:
        meta, tensors = stride_file.read_tensors(args.model)
    except (OSError, ValueError) as e:
        sys.exit(str(e))
    if meta.get("stride.task") != "gate":
        sys.exit("%s: not a gate model (stride.task is %r)" % (args.model, meta.get("stride.task")))
    labels = json.loads(meta["stride.labels"])
    if len(labels) != 2 or "content" not in labels:
        sys.exit("%s: a gate has the labels noise and content; this one has %s" % (args.model, labels))
    noise_index = 1 - labels.index("content")
    bias = final_bias(meta, tensors, args.model)
    if "calibrate.logit_shift" in meta:
        sys.exit("%s: already calibrated (calibrate.logit_shift %s); calibrate the trained model"
                 % (args.model, meta["calibrate.logit_shift"]))

    files = noise_files(args.noise)
    with tempfile.TemporaryDirectory() as tmp:
        logits = content_logits(args.stride, args.model, files, tmp)
    decisions = sum(len(d) for d in logits.values())
    top = max(d.max() for d in logits.values())
    shift = max(0.0, top + args.margin - math.log(args.threshold / (1 - args.threshold)))

    tensors[bias][noise_index] += shift
    meta = dict(meta)
    meta["calibrate.logit_shift"] = "%.6f" % shift
    meta["calibrate.noise"] = " ".join(args.noise)
    meta["calibrate.noise_decisions"] = str(decisions)
    meta["calibrate.threshold"] = "%g" % args.threshold
    meta["calibrate.margin"] = "%g" % args.margin
    stride_file.write_tensors(args.out, meta, tensors)

    print("%d noise files, %d decisions (%.1f min at the model's hop)"
          % (len(files), decisions, decisions * int(meta["stride.hop"]) / int(meta["stride.sample_rate"]) / 60))
    print("largest p(content) on the noise: %.4f; noise bias of %s moved by %+.3f"
          % (1 / (1 + math.exp(-top)), bias, shift))
    report(logits, shift)
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
