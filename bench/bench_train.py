#!/usr/bin/python3
"""PyTorch's side of the training benchmark (bench/bench_train.c runs it).

    /usr/bin/python3 bench/bench_train.py ARCH.json DATA_DIR --window N --batch N
        --threads N --epochs N [--lr X] [--weight-decay X] [--seed N]

Trains the architecture of ARCH.json (the Stride architecture format) on
DATA_DIR/<label>/*.wav the way `stride train` does: random crops of `window`
samples, a random gain of -12..+6 dB and a random polarity per example,
AdamW, softmax cross-entropy on the logits (the final softmax layer is left
out of the training graph, as Stride does), batchnorm in training mode. One
epoch is one crop per window-length of audio, like Stride's. Prints
"torch: N samples/s" over the training steps (batch assembly included,
file reading not), as `stride train` reports its own.
"""
import argparse
import json
import sys
import time
import wave

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class GlobalAvg(nn.Module):
    def forward(self, x):
        return x.mean(dim=2, keepdim=True)


class GlobalMax(nn.Module):
    def forward(self, x):
        return x.amax(dim=2, keepdim=True)


class Dense(nn.Linear):
    def forward(self, x):
        return super().forward(x.flatten(1)).unsqueeze(2)


class LeakyReLU(nn.Module):
    def __init__(self, slope):
        super().__init__()
        self.slope = slope

    def forward(self, x):
        return F.leaky_relu(x, self.slope)


def build(arch):
    """nn.Sequential from the layer list, without a trailing softmax."""
    layers = list(arch["layers"])
    if layers and layers[-1]["type"] == "softmax":
        layers = layers[:-1]
    mods = []
    for L in layers:
        t = L["type"]
        if t == "conv1d":
            mods.append(nn.Conv1d(L["in"], L["out"], L["kernel"], stride=L.get("stride", 1),
                                  padding=L.get("padding", 0), dilation=L.get("dilation", 1),
                                  groups=L.get("groups", 1), bias=L.get("bias", True)))
        elif t == "batchnorm1d":
            mods.append(nn.BatchNorm1d(L["channels"], eps=L.get("eps", 1e-5), momentum=L.get("momentum", 0.1)))
        elif t == "relu":
            mods.append(nn.ReLU())
        elif t == "leaky_relu":
            mods.append(LeakyReLU(L.get("slope", 0.01)))
        elif t == "tanh":
            mods.append(nn.Tanh())
        elif t == "sigmoid":
            mods.append(nn.Sigmoid())
        elif t == "maxpool1d":
            mods.append(nn.MaxPool1d(L["kernel"], stride=L.get("stride", 0) or None, padding=L.get("padding", 0)))
        elif t == "avgpool1d":
            mods.append(nn.AvgPool1d(L["kernel"], stride=L.get("stride", 0) or None, padding=L.get("padding", 0)))
        elif t == "global_avgpool":
            mods.append(GlobalAvg())
        elif t == "global_maxpool":
            mods.append(GlobalMax())
        elif t == "dense":
            mods.append(Dense(L["in"], L["out"], bias=L.get("bias", True)))
        else:
            sys.exit("bench_train.py: layer type %s is not supported here" % t)
    return nn.Sequential(*mods)


def read_wav(path):
    with wave.open(path, "rb") as f:
        if f.getsampwidth() != 2 or f.getnchannels() != 1:
            sys.exit("%s: the benchmark writes 16-bit mono WAV" % path)
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch")
    ap.add_argument("data")
    ap.add_argument("--window", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    with open(args.arch) as f:
        model = build(json.load(f))
    import os
    labels = sorted(d for d in os.listdir(args.data) if os.path.isdir(os.path.join(args.data, d)))
    clips, y_of = [], []
    for i, lab in enumerate(labels):
        folder = os.path.join(args.data, lab)
        for name in sorted(os.listdir(folder)):
            if name.endswith(".wav"):
                clips.append(read_wav(os.path.join(folder, name)))
                y_of.append(i)
    refs = []
    for i, c in enumerate(clips):
        refs += [i] * max(1, len(c) // args.window)
    refs = np.array(refs)
    steps = max(1, len(refs) // args.batch)

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    model.train()
    w = args.window
    x = np.empty((args.batch, 1, w), dtype=np.float32)
    y = np.empty(args.batch, dtype=np.int64)
    samples, spent = 0, 0.0
    for epoch in range(args.epochs):
        order = rng.permutation(refs)
        t0 = time.perf_counter()
        for s in range(steps):
            for j, r in enumerate(order[s * args.batch:(s + 1) * args.batch]):
                c = clips[r]
                off = int(rng.integers(0, len(c) - w + 1))
                g = 10.0 ** (rng.uniform(-12.0, 6.0) / 20.0) * (1.0 if rng.random() < 0.5 else -1.0)
                x[j, 0] = c[off:off + w] * g
                y[j] = y_of[r]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(torch.from_numpy(x)).flatten(1), torch.from_numpy(y))
            loss.backward()
            opt.step()
        spent += time.perf_counter() - t0
        samples += steps * args.batch
        print("torch epoch %d: loss %.4f, %.0f samples/s" % (epoch + 1, loss.item(), steps * args.batch /
                                                            (time.perf_counter() - t0)), flush=True)
    print("torch: %.1f samples/s" % (samples / spent))


if __name__ == "__main__":
    main()
