#!/usr/bin/python3
"""PyTorch's side of the training benchmark (bench/bench_train.c runs it): stride_torch.train
(python/stride_torch) on the architecture, data, window, batch and thread count that
`stride train` gets, on the CPU, and on a CUDA device when there is one.

    /usr/bin/python3 bench/bench_train.py ARCH.json DATA_DIR --window N --batch N
        --threads N --epochs N [--seed N]

Both trainers run the same data pipeline (the C one: stride_torch.train calls it through
libstride_data.so), the same augmentation (crop, gain, polarity; no noise), AdamW and the
same network; what differs is the engine that runs forward, backward and the optimiser.
Prints "torch: N samples/s" (CPU, torch.set_num_threads = --threads) as stride_torch.train
reports it (training steps only, example making included), then
"gpu: N gpu-samples/s" or "gpu: no CUDA device".
"""
import argparse
import os
import re
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def train(args, device):
    out = os.path.join(os.path.dirname(os.path.abspath(args.arch)), "torch_%s.safetensors" % device)
    argv = [sys.executable, "-m", "stride_torch.train", "--arch", args.arch, "--data", args.data,
            "--out", out, "--window", str(args.window), "--batch", str(args.batch),
            "--threads", str(args.threads), "--epochs", str(args.epochs), "--seed", str(args.seed),
            "--val-fraction", "0", "--noise-prob", "0", "--no-checkpoint", "--device", device]
    env = dict(os.environ, PYTHONPATH=os.path.join(SRC, "python"))
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
        return 0.0
    m = re.findall(r"([0-9.]+) samples/s\s*$", p.stdout, re.M)
    return float(m[-1]) if m else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch")
    ap.add_argument("data")
    ap.add_argument("--window", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print("torch: %.1f samples/s" % train(args, "cpu"), flush=True)
    import torch
    if torch.cuda.is_available():
        print("gpu: %.1f gpu-samples/s (%s)" % (train(args, "cuda"),
                                               torch.cuda.get_device_name(0)), flush=True)
    else:
        print("gpu: no CUDA device", flush=True)


if __name__ == "__main__":
    main()
