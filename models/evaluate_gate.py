#!/usr/bin/python3
"""Frame F1 of a gate model against the best level-threshold gate, per SNR and level.

    models/evaluate_gate.py MODEL DATA/gate_test [--tune DATA/gate] [--stride BUILD/stride]

Test mixtures: a noise file as the background throughout, one content clip
(speech or music, its leading and trailing silence trimmed) placed inside at a
random offset, the content scaled to a level (dBFS, RMS over its span) and the
noise to a signal-to-noise ratio under it. A frame is content while the clip
plays (pauses between words included: a gate must not chop there). The model's
decisions come from `stride predict`; the level gate compares the RMS over the
same window with one threshold, the one that maximises F1 on mixtures made the
same way from the training data (--tune). Both are scored on the same frames.
"""
import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile

import numpy as np

RATE = 16000
SNRS = [30, 20, 10, 5, 0]
LEVELS = [-60, -40, -20, 0]


def read_wav(path):
    """Mono float64 from a 16-bit PCM WAV (the recipes' output) or a 32-bit float
    one (write_float_wav's, the test sets'), at RATE; channels are averaged."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:4] != b"RIFF" or b[8:12] != b"WAVE":
        raise SystemExit("%s: not a WAV file" % path)
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(b):
        cid, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", b[pos + 8:pos + 24])
        elif cid == b"data":
            data = b[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    if fmt is None or data is None:
        raise SystemExit("%s: no fmt or data chunk" % path)
    tag, ch, rate, _, _, bits = fmt
    if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: its subformat GUID starts with the tag
        tag = struct.unpack("<H", b[b.index(b"fmt ") + 32:b.index(b"fmt ") + 34])[0]
    if rate != RATE or (tag, bits) not in ((1, 16), (3, 32)):
        raise SystemExit("%s: %d Hz, format %d, %d bits; expected %d Hz 16-bit PCM or 32-bit float"
                         % (path, rate, tag, bits, RATE))
    if tag == 3:
        x = np.frombuffer(data, dtype="<f4").astype(np.float64)
    else:
        x = np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768
    return x[:len(x) // ch * ch].reshape(-1, ch).mean(axis=1)


def write_float_wav(path, x):
    """32-bit float WAV: 16-bit would bury -60 dBFS content at 0 dB SNR in dither."""
    data = np.asarray(x, dtype="<f4").tobytes()
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 3, 1, RATE, RATE * 4, 4, 32))
        f.write(b"data" + struct.pack("<I", len(data)) + data)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x)) + 1e-30))


def trim(x, floor_db=-50):
    """The span between the first and last 10 ms frame within floor_db of the peak frame."""
    n = len(x) // 160
    e = np.array([rms(x[i * 160:(i + 1) * 160]) for i in range(n)])
    if n == 0 or e.max() <= 0:
        return x
    on = np.nonzero(20 * np.log10(e / e.max() + 1e-30) > floor_db)[0]
    return x[on[0] * 160:(on[-1] + 1) * 160]


def load_folder(folder):
    out = []
    for root, _, files in sorted(os.walk(folder)):
        for f in sorted(files):
            if f.endswith(".wav"):
                out.append(os.path.join(root, f))
    return out


def make_mixtures(data, count_per_condition, seed, tmp, tag):
    rng = random.Random(seed)
    contents = load_folder(os.path.join(data, "content"))
    noises = [p for p in load_folder(os.path.join(data, "noise"))]
    noise_audio = {}
    mixes = []
    for snr in SNRS:
        for level in LEVELS:
            for i in range(count_per_condition):
                cpath = rng.choice(contents)
                c = trim(read_wav(cpath))
                npath = rng.choice(noises)
                if npath not in noise_audio:
                    noise_audio[npath] = read_wav(npath)
                nz = noise_audio[npath]
                total = len(c) + RATE * 3
                if len(nz) < total:
                    nz = np.tile(nz, total // max(len(nz), 1) + 1)
                start = rng.randrange(0, len(nz) - total + 1)
                bg = nz[start:start + total].copy()
                c = c * (10 ** (level / 20) / rms(c))
                nr = rms(bg)
                if nr > 1e-9:  # digital silence stays silence
                    bg *= 10 ** ((level - snr) / 20) / nr
                at = rng.randrange(RATE // 2, total - len(c) - RATE // 2)
                x = bg
                x[at:at + len(c)] += c
                peak = np.abs(x).max()
                if peak > 0.999:  # keep 0 dBFS content from clipping: lower both
                    x *= 0.999 / peak
                path = os.path.join(tmp, "%s_snr%d_lvl%d_%d.wav" % (tag, snr, -level, i))
                write_float_wav(path, x)
                mixes.append(dict(path=path, content=cpath, noise=npath, snr=snr, level=level, x=x,
                                  on=at, off=at + len(c)))
    return mixes


def model_probabilities(stride, model, mixes, tmp):
    out = os.path.join(tmp, "pred.csv")
    subprocess.run([stride, "predict", model] + [m["path"] for m in mixes] +
                   ["--format", "csv", "--out", out], check=True, stdout=subprocess.DEVNULL)
    by_file = {}
    with open(out) as f:
        header = f.readline().strip().split(",")
        pc = header.index("p_content")
        for line in f:
            cols = line.strip().split(",")
            by_file.setdefault(cols[0], []).append((float(cols[1]), float(cols[2]), float(cols[pc])))
    return by_file


def frames(mix, decisions, window):
    """Per decision: truth (content while the clip plays at its centre), model p, window RMS dB."""
    truth, p, level = [], [], []
    for start, end, prob in decisions:
        centre = int((start + end) / 2 * RATE)
        truth.append(mix["on"] <= centre < mix["off"])
        p.append(prob)
        a = max(0, centre - window // 2)
        level.append(20 * np.log10(rms(mix["x"][a:a + window])))
    return np.array(truth), np.array(p), np.array(level)


def held(open_, frames):
    """The plugin's hold: a decision to open keeps the gate open for `frames` more
    decisions. Applied to both gates alike (0: raw decisions)."""
    if frames <= 0:
        return open_
    out = open_.copy()
    last = -frames - 1
    for i, o in enumerate(open_):
        if o:
            last = i
        out[i] = i - last <= frames
    return out


def hysteresis(p, threshold, width):
    """The plugin's hysteresis: open once p reaches the threshold, close only when
    it falls below threshold - width (0: a plain comparison)."""
    out = np.zeros(len(p), dtype=bool)
    is_open = False
    for i, v in enumerate(p):
        if not is_open and v >= threshold:
            is_open = True
        elif is_open and v < threshold - width:
            is_open = False
        out[i] = is_open
    return out


def f1(truth, pred):
    tp = np.sum(truth & pred)
    fp = np.sum(~truth & pred)
    fn = np.sum(truth & ~pred)
    return 2 * tp / max(2 * tp + fp + fn, 1)


def collect(stride, model, mixes, tmp, window):
    """(mix, truth, p, level dB, decision start times) per mixture."""
    probs = model_probabilities(stride, model, mixes, tmp)
    rows = []
    for m in mixes:
        t, p, lv = frames(m, probs[m["path"]], window)
        rows.append((m, t, p, lv, [d[0] for d in probs[m["path"]]]))
    return rows


def decision_hop(rows):
    """Seconds between the model's decisions, as `stride predict` reports them."""
    starts = rows[0][4]
    return starts[1] - starts[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("test_data")
    ap.add_argument("--tune", required=True, help="training data folder for the level threshold")
    ap.add_argument("--stride", default="stride")
    ap.add_argument("--per-condition", type=int, default=6, help="mixtures per SNR and level (default 6)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--window", type=int, default=3200, help="level gate window (the model's)")
    ap.add_argument("--hold", type=float, default=0.0,
                    help="ms each gate stays open after it last heard content, as the plugin's "
                         "hold control (default 0: raw decisions, one per hop)")
    ap.add_argument("--hysteresis", type=float, default=0.0,
                    help="the model gate closes only below threshold minus this, as the plugin's "
                         "hysteresis control (default 0)")
    ap.add_argument("--plugin-defaults", action="store_true",
                    help="the plugin's default controls: threshold 0.5, hysteresis 0.1, hold 150 ms "
                         "(the hold for both gates)")
    args = ap.parse_args()
    if args.plugin_defaults:
        args.threshold, args.hysteresis, args.hold = 0.5, 0.1, 150.0
    with tempfile.TemporaryDirectory() as tmp:
        tune = collect(args.stride, args.model,
                       make_mixtures(args.tune, max(2, args.per_condition // 2), args.seed + 1, tmp,
                                     "tune"), tmp, args.window)
        hf = int(round(args.hold / 1000.0 / decision_hop(tune)))

        # per-mixture decisions, the hold applied within each mixture
        def model_open(rows):
            return np.concatenate([held(hysteresis(r[2], args.threshold, args.hysteresis), hf)
                                   for r in rows])

        def level_open(rows, th):
            return np.concatenate([held(r[3] >= th, hf) for r in rows])

        t_all = np.concatenate([r[1] for r in tune])
        best = max(np.arange(-100, 0, 0.5), key=lambda th: f1(t_all, level_open(tune, th)))
        test = collect(args.stride, args.model,
                       make_mixtures(args.test_data, args.per_condition, args.seed, tmp, "test"),
                       tmp, args.window)
    print("level-threshold gate: threshold %.1f dBFS (best F1 on the training mixtures: %.3f)"
          % (best, f1(t_all, level_open(tune, best))))
    if args.hysteresis:
        print("the model gate opens at p >= %g and closes below %g"
              % (args.threshold, args.threshold - args.hysteresis))
    if hf:
        print("both gates hold open for %g ms (%d decisions) after they last heard content" % (args.hold, hf))
    print()
    print("| SNR dB | model frame F1 | level gate frame F1 | model wins |")
    print("|---:|---:|---:|:---:|")
    ok = True
    for snr in SNRS:
        sel = [r for r in test if r[0]["snr"] == snr]
        t = np.concatenate([r[1] for r in sel])
        fm = f1(t, model_open(sel))
        fl = f1(t, level_open(sel, best))
        print("| %d | %.3f | %.3f | %s |" % (snr, fm, fl, "yes" if fm > fl else "no"))
        if snr <= 10 and fm <= fl:
            ok = False
        if snr == 20 and fm < 0.95:
            ok = False
    print()
    print("| level dBFS | " + " | ".join("SNR %d" % s for s in SNRS) + " |")
    print("|---:|" + "---:|" * len(SNRS))
    for level in LEVELS:
        cells = []
        for snr in SNRS:
            sel = [r for r in test if r[0]["snr"] == snr and r[0]["level"] == level]
            t = np.concatenate([r[1] for r in sel])
            cells.append("%.2f / %.2f" % (f1(t, model_open(sel)), f1(t, level_open(sel, best))))
        print("| %d | %s |" % (level, " | ".join(cells)))
    print("\n(cells: model / level gate frame F1)")
    print("goals (beats the level gate at every SNR <= 10 dB, >= 0.95 at 20 dB): %s"
          % ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
