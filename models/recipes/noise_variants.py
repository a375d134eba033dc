#!/usr/bin/env python3
"""Real noise, varied: every real training noise file again at other speeds, with a slow swell and
another equalisation.

    models/recipes/noise_variants.py IN_DIR OUT_DIR [--per-file 3] [--seed 0]

The gate's real training noise (real_data.py's gate_real/noise: work noises, engines, rain, ambience)
is about 40 minutes, while the noise a user records is any machine at any speed. A machine that runs
faster or slower sounds like the same recording played faster or slower (sox `speed`: pitch and
tempo together), so each file is written again `--per-file` times, each with its own draw:

- speed x0.5 to x2 (log-uniform);
- a swell: the level drifts by up to +-4 dB at 0.05-1.5 Hz (slower than syllables: a swell at speech's
  4 Hz would teach nothing about noise that speech does not also do);
- one or two peaking equalisers (+-8 dB, 100 Hz - 6 kHz) and sometimes a low-pass (3-7 kHz).

Only training noise goes in (pass gate_real/noise); the test packages never do. Deterministic for a seed;
files that exist are skipped. Writes OUT_DIR/<package>/<name>-vK.wav (16 kHz mono 16-bit).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RATE, peak_of, rng_for, run, write_wav  # noqa: E402

SPEED = (0.5, 2.0)
SWELL_DB = 4.0
SWELL_HZ = (0.05, 1.5)


def swell(rng, n):
    """A smooth gain curve: a few slow sinusoids in dB, at most SWELL_DB from 0 dB."""
    t = np.arange(n) / RATE
    db = np.zeros(n)
    for _ in range(int(rng.integers(1, 4))):
        db += rng.uniform(-1, 1) * np.sin(2 * np.pi * rng.uniform(*SWELL_HZ) * t + rng.uniform(0, 2 * np.pi))
    peak = np.max(np.abs(db))
    if peak > 0:
        db *= rng.uniform(0, SWELL_DB) / peak
    return 10 ** (db / 20)


def effects(rng):
    # sox's speed changes the rate: resample right after it, so the filters see RATE
    fx = ["speed", "%.4f" % float(np.exp(rng.uniform(np.log(SPEED[0]), np.log(SPEED[1])))), "rate", str(RATE)]
    for _ in range(int(rng.integers(1, 3))):
        f = float(np.exp(rng.uniform(np.log(100), np.log(6000))))
        fx += ["equalizer", "%.0f" % f, "%.2fo" % rng.uniform(0.5, 2.0), "%.1f" % rng.uniform(-8, 8)]
    if rng.random() < 0.3:
        fx += ["lowpass", "%.0f" % rng.uniform(3000, 7000)]
    return fx


def variant(src, dst, rng, what):
    fx = effects(rng)
    # straight from sox's output: no temporary file that an interrupted run could leave among the noise
    out = run(["sox", "-D", "-G", "-V1", src, "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-"] + fx,
              what)
    x = np.frombuffer(out, dtype="<f4").astype(np.float64)
    x = x * swell(rng, len(x))
    peak = peak_of(x)
    if peak > 0.99:   # keep the source's level, but never clip
        x *= 0.99 / peak
    write_wav(dst, x)
    return " ".join(fx)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", metavar="IN_DIR")
    ap.add_argument("out", metavar="OUT_DIR")
    ap.add_argument("--per-file", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    files = sorted(os.path.relpath(os.path.join(d, f), args.src)
                   for d, _, fs in os.walk(args.src, followlinks=True) for f in fs if f.lower().endswith(".wav"))
    if not files:
        sys.exit("%s: no .wav files" % args.src)
    made = 0
    log = []
    for rel in files:
        for k in range(args.per_file):
            dst = os.path.join(args.out, os.path.splitext(rel)[0] + "-v%d.wav" % k)
            if os.path.exists(dst):
                continue
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            rng = rng_for(args.seed, "noise-variant", rel, k)
            log.append("%s\t%s" % (os.path.relpath(dst, args.out), variant(os.path.join(args.src, rel), dst, rng, rel)))
            made += 1
    with open(os.path.join(args.out, "variants.tsv"), "a") as f:
        f.writelines(line + "\n" for line in log)
    print("%d variant(s) of %d file(s) written to %s" % (made, len(files), args.out))


if __name__ == "__main__":
    main()
