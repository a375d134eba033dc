#!/usr/bin/python3
"""Trains a tiny audio classifier in PyTorch for tests/test_torch_model.c.

    train_tiny_model.py OUTDIR [--seed S]

Writes
  OUTDIR/tiny.safetensors  the model in Stride's format (labels tone, noise, click;
                           window 4000, hop 1000 at 16 kHz)
  OUTDIR/input.npy         a test signal, float32 [1, T]
  OUTDIR/expected.npy      PyTorch's eval-mode output for it, [C_out, T_out]
  OUTDIR/input.wav         the same signal as 16-bit PCM, mono, 16 kHz
  OUTDIR/expected_wav.npy  PyTorch's output for the 16-bit samples (int16 / 32768)

Training is brief (enough for batchnorm's running statistics to be real ones, not
the initial 0 and 1); the expected outputs are computed in float64 from the saved
float32 parameters.
"""
import argparse
import json
import os
import sys
import wave

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from stride_torch import safetensors  # noqa: E402

RATE = 16000
WINDOW = 4000
HOP = 1000
LABELS = ["tone", "noise", "click"]

ARCH = {"layers": [
    {"type": "conv1d", "name": "conv1", "in": 1, "out": 8, "kernel": 16, "stride": 4,
     "dilation": 1, "padding": 0, "groups": 1, "bias": True},
    {"type": "batchnorm1d", "name": "bn1", "channels": 8, "eps": 1e-5, "momentum": 0.1},
    {"type": "relu"},
    {"type": "maxpool1d", "kernel": 2, "stride": 2, "padding": 0},
    {"type": "conv1d", "name": "conv2", "in": 8, "out": 16, "kernel": 5, "stride": 1,
     "dilation": 2, "padding": 0, "groups": 1, "bias": True},
    {"type": "relu"},
    {"type": "global_avgpool"},
    {"type": "dense", "name": "fc", "in": 16, "out": 3, "bias": True},
    {"type": "softmax"},
]}


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 8, 16, stride=4)
        self.bn1 = nn.BatchNorm1d(8, eps=1e-5, momentum=0.1)
        self.conv2 = nn.Conv1d(8, 16, 5, dilation=2)
        self.fc = nn.Linear(16, 3)

    def logits(self, x):
        x = F.max_pool1d(F.relu(self.bn1(self.conv1(x))), 2, 2)
        x = F.relu(self.conv2(x))
        x = x.mean(dim=2, keepdim=True)  # global_avgpool: (N, 16, 1)
        return self.fc(torch.flatten(x, 1)).unsqueeze(2)

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


def make_signal(rng, label, n):
    t = np.arange(n) / RATE
    if label == 0:  # a tone, with a little noise
        f = rng.uniform(200, 3000)
        x = rng.uniform(0.2, 0.8) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
        x += 0.01 * rng.standard_normal(n)
    elif label == 1:  # white noise
        x = rng.uniform(0.05, 0.3) * rng.standard_normal(n)
    else:  # a few decaying clicks over a quiet floor
        x = 0.005 * rng.standard_normal(n)
        for pos in rng.integers(0, n - 200, rng.integers(1, 5)):
            decay = np.exp(-np.arange(200) / rng.uniform(5, 30))
            x[pos:pos + 200] += rng.uniform(0.4, 0.9) * rng.choice([-1, 1]) * decay
    return np.clip(x, -0.99, 0.99).astype(np.float32)


def write_wav(path, samples):
    pcm = np.clip(np.round(samples.astype(np.float64) * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return pcm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    model = Tiny()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    batch = 24
    for _ in range(args.steps):
        labels = rng.integers(0, 3, batch)
        x = torch.from_numpy(np.stack([make_signal(rng, int(k), WINDOW) for k in labels]))
        loss = F.cross_entropy(model.logits(x.unsqueeze(1)).squeeze(2),
                               torch.from_numpy(labels).long())
        opt.zero_grad()
        loss.backward()
        opt.step()

    model.eval()
    with torch.no_grad():
        labels = np.arange(60) % 3
        x = torch.from_numpy(np.stack([make_signal(rng, int(k), WINDOW) for k in labels]))
        acc = float((model(x.unsqueeze(1)).squeeze(2).argmax(1).numpy() == labels).mean())

    params = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()
              if not k.endswith("num_batches_tracked")}
    safetensors.write(os.path.join(args.outdir, "tiny.safetensors"), params, {
        "stride.format": "1",
        "stride.task": "classify",
        "stride.sample_rate": str(RATE),
        "stride.labels": json.dumps(LABELS),
        "stride.architecture": json.dumps(ARCH),
        "stride.window": str(WINDOW),
        "stride.hop": str(HOP),
    })

    # The reference runs in float64 on exactly the saved float32 parameters.
    ref = Tiny().double()
    ref.load_state_dict({k: torch.from_numpy(v).double() for k, v in params.items()},
                        strict=False)
    ref.eval()

    def expected(samples):
        with torch.no_grad():
            y = ref(torch.from_numpy(samples).double().reshape(1, 1, -1))
        return y[0].numpy().astype(np.float32)  # [C_out, T_out]

    # A test signal the model has not seen: a mixture of the classes, drawn until
    # the model is unsure (no probability above 0.9), so that every output, not
    # just one saturated one, carries the comparison.
    for _ in range(100):
        parts = [make_signal(rng, k, WINDOW) for k in range(3)]
        mix = rng.uniform(0.2, 1.0, 3)
        signal = np.clip(sum(m * p for m, p in zip(mix, parts)), -0.99, 0.99).astype(np.float32)
        if expected(signal).max() < 0.9:
            break
    else:
        sys.exit("train_tiny_model.py: no test mixture left the model unsure")
    np.save(os.path.join(args.outdir, "input.npy"), signal.reshape(1, -1))
    np.save(os.path.join(args.outdir, "expected.npy"), expected(signal))

    pcm = write_wav(os.path.join(args.outdir, "input.wav"), signal)
    quantised = (pcm.astype(np.float64) / 32768.0).astype(np.float32)
    np.save(os.path.join(args.outdir, "expected_wav.npy"), expected(quantised))
    print("train_tiny_model.py: %d steps, held-out accuracy %.2f, output %s, in %s"
          % (args.steps, acc, np.array2string(expected(signal).ravel(), precision=4),
             args.outdir))


if __name__ == "__main__":
    main()
