#!/usr/bin/python3
"""models/calibrate_gate.py on the shipped gate model and generated noise:

  - the output loads (`stride info`) and records calibrate.* metadata;
  - only the noise entry of the last dense layer's bias changes, by the shift
    printed in the metadata; every other tensor byte stays the same;
  - after calibration, no decision on the calibration noise reaches the
    threshold (checked with `stride predict`, which the calibration did not use
    for this check), and before it some did;
  - a classifier model, an already calibrated model and a missing folder are
    refused with a message naming the problem.

Needs numpy and the build (./waf build).
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
SRC = os.environ.get("STRIDE_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("STRIDE_BUILD", os.path.join(SRC, "build"))
STRIDE = os.path.join(BUILD, "stride")
SCRIPT = os.path.join(SRC, "models", "calibrate_gate.py")
sys.path.insert(0, os.path.join(SRC, "models"))
import evaluate_gate  # noqa: E402  (write_float_wav)
import stride_file  # noqa: E402  (to undo the shipped calibration)

THRESHOLD = 0.1  # low enough that the shipped model crosses it on the noise


def tensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    return header, {k: data[v["data_offsets"][0]:v["data_offsets"][1]]
                    for k, v in header.items() if k != "__metadata__"}


def max_p_content(model, files):
    """The largest p(content) `stride predict` gives over files."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "p.csv")
        subprocess.run([STRIDE, "predict", model] + files + ["--format", "csv", "--out", csv],
                       check=True, stdout=subprocess.DEVNULL)
        with open(csv) as f:
            pc = f.readline().strip().split(",").index("p_content")
            return max(float(line.split(",")[pc]) for line in f)


def calibrate(*args):
    return subprocess.run([sys.executable, SCRIPT, "--stride", STRIDE] + list(args),
                          capture_output=True, text=True)


def expect(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def head_bias(meta):
    """The bias the softmax reads: the last layer's before it (a dense or a head conv)."""
    return json.loads(meta["stride.architecture"])["layers"][-2]["name"] + ".bias"


def uncalibrated(shipped, out):
    """The shipped gate as trained: its calibration undone (the shift taken off the noise
    bias, the calibrate.* metadata dropped), so there is something to calibrate."""
    meta, t = stride_file.read_tensors(shipped)
    t[head_bias(meta)][json.loads(meta["stride.labels"]).index("noise")] -= \
        float(meta.get("calibrate.logit_shift", 0.0))
    stride_file.write_tensors(out, {k: v for k, v in meta.items() if not k.startswith("calibrate.")}, t)
    return out


def main():
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as tmp:
        model = uncalibrated(os.path.join(SRC, "models", "gate.safetensors"),
                             os.path.join(tmp, "trained.safetensors"))
        noise = os.path.join(tmp, "noise")
        os.makedirs(noise)
        w = rng.standard_normal(16000 * 20)
        b = np.zeros(3)
        pink = np.empty_like(w)
        for i, v in enumerate(w):  # Paul Kellet's pink filter
            b = np.array([0.99765, 0.963, 0.57]) * b + v * np.array([0.0990460, 0.2965164, 1.0526913])
            pink[i] = b.sum() + v * 0.1848
        evaluate_gate.write_float_wav(os.path.join(noise, "pink_000.wav"), 0.03 * pink / evaluate_gate.rms(pink))
        evaluate_gate.write_float_wav(os.path.join(noise, "white_000.wav"), 0.03 * w)
        files = sorted(os.path.join(noise, f) for f in os.listdir(noise))

        out = os.path.join(tmp, "cal.safetensors")
        r = calibrate(model, "--noise", noise, "--out", out, "--threshold", str(THRESHOLD))
        print(r.stdout, r.stderr)
        expect(r.returncode == 0, "calibrate_gate.py exits 0")
        info = subprocess.run([STRIDE, "info", out], capture_output=True, text=True)
        expect(info.returncode == 0 and "calibrate.logit_shift" in info.stdout,
               "the calibrated model loads and names its shift")

        h0, t0 = tensors(model)
        h1, t1 = tensors(out)
        meta = h1["__metadata__"]
        shift = float(meta["calibrate.logit_shift"])
        expect(shift > 0, "the shift is positive (%.3f): the model did cross %g on this noise" % (shift, THRESHOLD))
        expect(set(t0) == set(t1), "the same tensors")
        changed = [k for k in t0 if t0[k] != t1[k]]
        bias = head_bias(meta)
        expect(changed == [bias], "only %s changed (%s)" % (bias, changed))
        labels = json.loads(meta["stride.labels"])
        old = np.frombuffer(t0[bias], "<f4")
        new = np.frombuffer(t1[bias], "<f4")
        ni, ci = labels.index("noise"), labels.index("content")
        expect(abs(new[ni] - old[ni] - shift) < 1e-5 and new[ci] == old[ci],
               "the noise bias moved by the shift, the content bias did not")

        before, after = max_p_content(model, files), max_p_content(out, files)
        margin = float(meta["calibrate.margin"])
        limit = 1 / (1 + math.exp(-(math.log(THRESHOLD / (1 - THRESHOLD)) - margin)))
        expect(before >= THRESHOLD, "before: the largest p(content) on the noise is %.4f >= %g" % (before, THRESHOLD))
        expect(after <= limit + 1e-4, "after: %.4f, under the threshold less the margin (%.4f)" % (after, limit))

        r = calibrate(out, "--noise", noise, "--out", os.path.join(tmp, "again.safetensors"))
        expect(r.returncode != 0 and "already calibrated" in r.stderr, "a calibrated model is refused")
        r = calibrate(os.path.join(SRC, "models", "genre.safetensors"), "--noise", noise,
                      "--out", os.path.join(tmp, "g.safetensors"))
        expect(r.returncode != 0 and "not a gate model" in r.stderr, "a classifier is refused")
        r = calibrate(model, "--noise", os.path.join(tmp, "nowhere"), "--out", os.path.join(tmp, "n.safetensors"))
        expect(r.returncode != 0 and "nowhere: not a folder" in r.stderr, "a missing folder is named")
    return 0


if __name__ == "__main__":
    sys.exit(main())
