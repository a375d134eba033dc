#!/usr/bin/python3
"""The gate benchmark's pieces (bench/gate_real.py and its helpers):

  - its metrics against hand-worked examples: frame F1, ROC-AUC (ties count
    half; also against a count over every pair), opens per minute on noise
    (an early open that runs into the content is not an open on noise), onset
    keep, and the mapping of `stride gate --trace`'s 1 ms rows to 10 ms frames;
  - the minimum-statistics noise floor follows a step down at once and a step
    up only after its window;
  - bench/vad_speex and bench/vad_webrtc on a synthetic vowel and a loud tone
    between stretches of digital silence: speech probability and voice high
    on the sounds, low on the silence, one row per whole 10 ms frame;
  - the whole benchmark on a two-mixture set in the test set's layout: its
    tables print, --out writes the same, and a missing set is skipped saying so.

Needs numpy and the build (./waf build).
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
SRC = os.environ.get("STRIDE_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("STRIDE_BUILD", os.path.join(SRC, "build"))
sys.path.insert(0, os.path.join(SRC, "bench"))
sys.path.insert(0, os.path.join(SRC, "models"))
import evaluate_gate  # noqa: E402
import gate_real  # noqa: E402

R = 16000


def expect(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def close(a, b, tol=1e-9):
    return a is not None and abs(a - b) <= tol


def test_metrics():
    t = np.array([1, 1, 1, 0, 0], dtype=bool)
    p = np.array([1, 1, 0, 1, 0], dtype=bool)
    expect(close(evaluate_gate.f1(t, p), 4 / 6), "F1: tp 2, fp 1, fn 1 -> 4/6")

    expect(close(gate_real.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75),
           "AUC: 3 of 4 positive-negative pairs ordered -> 0.75")
    # pairs: (0.5 vs 0.5) half, (0.5 vs 0.2), (0.9 vs 0.5), (0.9 vs 0.2) -> 3.5 / 4
    expect(close(gate_real.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]), 0.875),
           "AUC: a tie counts half -> 0.875")
    expect(close(gate_real.roc_auc([0, 1, 1, 0], [3, 3, 3, 3]), 0.5), "AUC: all tied -> 0.5")
    expect(gate_real.roc_auc([1, 1], [0.2, 0.3]) is None, "AUC: one class only -> none")
    rng = np.random.default_rng(3)
    truth = rng.random(300) < 0.4
    score = rng.integers(0, 6, 300)  # many ties
    pos, neg = score[truth], score[~truth]
    pairs = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    expect(close(gate_real.roc_auc(truth, score), pairs), "AUC equals the count over all pairs")

    #          frame: 0  1  2  3  4  5  6  7  8  9
    truth = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0])
    dec = np.array([0, 1, 0, 0, 0, 1, 1, 0, 1, 1])
    # opens at 1 (closes at 2, before content) and at 8 (to the end); 5 is in content
    expect(gate_real.noise_opens(truth, dec) == (2, 8), "opens on noise: 2 in 8 frames")
    early = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    expect(gate_real.noise_opens(truth, early) == (0, 8),
           "an open that runs into the next content is not an open on noise")
    shut = np.array([0, 0, 1, 1, 0, 0, 0, 0, 0, 0])
    expect(gate_real.noise_opens(truth, shut) == (1, 8),
           "an open that closes just as the content starts is an open on noise")
    start = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    expect(gate_real.noise_opens(truth, start) == (1, 8), "open at the first frame counts")

    #          frame: 0  1  2  3  4  5  6  7  8
    truth = np.array([0, 0, 1, 1, 1, 0, 2, 2, 2])
    passed = np.array([0, 0, 0, 1, 1, 0, 1, 1, 1], dtype=bool)
    kept, kinds = gate_real.onset_keep(truth, passed, 1)
    expect(np.allclose(kept, [0.5, 1.0]) and list(kinds) == [1, 2],
           "onset keep, 10 ms frames: speech 1 of 2 frames, music 2 of 2")
    rows = np.zeros(len(truth) * 10, dtype=bool)
    rows[20 + 5:40] = True  # speech onset (frame 2): 15 of its first 20 ms
    rows[60:60 + 19] = True  # music onset (frame 6): 19 of 20 ms
    kept, kinds = gate_real.onset_keep(truth, rows, 10)
    expect(np.allclose(kept, [0.75, 0.95]), "onset keep, 1 ms rows: 15 and 19 of 20 ms")
    kept, _ = gate_real.onset_keep(np.array([0, 0, 0, 1]), np.ones(4, dtype=bool), 1)
    expect(len(kept) == 0, "an onset without 20 ms after it is left out")

    # 1 ms trace rows -> 10 ms frames: p at the frame's centre row, mean gain
    n = 3
    t = np.zeros((n * 10 + 4, 7))
    t[:, 0] = np.arange(len(t)) * 16
    t[:, 1] = t[:, 0] + 16
    t[:, 2] = np.arange(len(t)) / 100.0       # probability: row index / 100
    t[:, 4] = t[:, 5] = (np.arange(len(t)) >= 12) * 1.0
    t[11, 4], t[11, 5] = 0.98, 0.99
    p, gain, full = gate_real.stride_frames(t, n)
    expect(np.allclose(p, [0.05, 0.15, 0.25]), "trace: p of each frame's centre row")
    expect(np.allclose(gain, [0.0, (0.99 + 8) / 10, 1.0]), "trace: mean gain per frame")
    expect(len(full) == n * 10 and not full[11] and full[12] and not full[10],
           "trace: full gain per row at gain_min >= 0.99")


def test_noise_floor():
    e = np.r_[np.full(300, -40.0), np.full(300, -70.0), np.full(400, -20.0)]
    floor = gate_real.noise_floor(e)
    w = int(gate_real.FLOOR_WINDOW_S * R / gate_real.FRAME)
    expect(abs(floor[299] + 40) < 0.1, "floor: -40 dB on a steady -40 dB")
    expect(abs(floor[360] + 70) < 0.1, "floor: follows a step down within its smoothing (60 frames)")
    expect(abs(floor[600 + w - 5] + 70) < 0.1, "floor: holds the minimum for its window")
    expect(abs(floor[600 + w + 20] + 20) < 0.1, "floor: rises to the new level after the window")


def vowel(n):
    """A 120 Hz pulse train through three formant resonators, in 4 Hz syllables."""
    x = np.zeros(n)
    x[::R // 120] = 1.0
    for fc, bw in ((700, 80), (1200, 90), (2600, 120)):
        r, th = np.exp(-np.pi * bw / R), 2 * np.pi * fc / R
        a1, a2 = 2 * r * np.cos(th), -r * r
        y = np.zeros(n)
        for i in range(n):
            y[i] = x[i] + a1 * y[i - 1] * (i > 0) + a2 * y[i - 2] * (i > 1)
        x = y
    x *= 0.5 - 0.5 * np.cos(2 * np.pi * 4 * np.arange(n) / R)
    return x * 0.1 / evaluate_gate.rms(x)


def sounds_in_silence():
    """1 s silence, 2 s vowel, 1 s silence, 2 s tone at -13 dBFS, 1 s silence and a
    part frame; the truth per frame."""
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(2 * R) / R)
    x = np.r_[np.zeros(R), vowel(2 * R), np.zeros(R), tone, np.zeros(R + 77)]
    truth = np.zeros(len(x) // 160, dtype=np.int8)
    truth[100:300] = 1
    truth[400:600] = 2
    return x, truth


def test_helpers(tmp):
    x, truth = sounds_in_silence()
    wav = os.path.join(tmp, "s.wav")
    evaluate_gate.write_float_wav(wav, x)
    on = np.zeros(len(truth), dtype=bool)
    on[110:300] = on[410:600] = True  # 100 ms after each start: the detectors settle
    off = np.zeros(len(truth), dtype=bool)
    off[320:400] = off[620:] = True

    out = subprocess.run([os.path.join(BUILD, "bench", "vad_speex"), wav], check=True,
                         capture_output=True, text=True).stdout
    rows = list(csv.DictReader(out.splitlines()))
    expect(len(rows) == len(truth) and [int(r["frame"]) for r in rows] == list(range(len(truth))),
           "vad_speex: one row per whole frame (%d)" % len(rows))
    p = np.array([float(r["speex_prob"]) for r in rows])
    expect(p[on].mean() > 0.7 and np.median(p[on]) > 0.9 and p[off].max() < 0.3,
           "vad_speex: probability %.2f on the sounds, at most %.2f in silence"
           % (p[on].mean(), p[off].max()))

    out = subprocess.run([os.path.join(BUILD, "bench", "vad_webrtc"), wav], check=True,
                         capture_output=True, text=True).stdout
    rows = list(csv.DictReader(out.splitlines()))
    expect(len(rows) == len(truth), "vad_webrtc: one row per whole frame")
    for w in gate_real.WEBRTC:
        v = np.array([int(r["webrtc_" + w]) for r in rows])
        expect(v[on].mean() > 0.9 and v[off].sum() == 0,
               "vad_webrtc %s: voice on %.0f%% of the sounds, never in silence"
               % (w, 100 * v[on].mean()))

    bad = os.path.join(tmp, "bad.wav")
    with open(bad, "wb") as f:
        f.write(b"RIFF....WAVEjunk")
    for tool in ("vad_speex", "vad_webrtc"):
        r = subprocess.run([os.path.join(BUILD, "bench", tool), bad], capture_output=True,
                           text=True)
        expect(r.returncode != 0 and "bad.wav" in r.stderr, "%s: a bad file is named" % tool)


def test_benchmark(tmp):
    x, truth = sounds_in_silence()
    rng = np.random.default_rng(1)
    mixes = []
    os.makedirs(os.path.join(tmp, "set", "mix"))
    for i, snr in enumerate((20, 0)):
        noise = rng.standard_normal(len(x)) * 0.1 * 10 ** (-snr / 20)
        name = "mix/%04d" % i
        evaluate_gate.write_float_wav(os.path.join(tmp, "set", name + ".wav"), x + noise)
        np.save(os.path.join(tmp, "set", name + ".truth.npy"), truth)
        mixes.append({"file": name + ".wav", "truth": name + ".truth.npy", "snr_db": snr,
                      "level_dbfs": -20, "contents": []})
    with open(os.path.join(tmp, "set", "manifest.json"), "w") as f:
        json.dump({"rate": R, "frame": 160, "seed": 1, "mixtures": mixes}, f)
    md = os.path.join(tmp, "out.md")
    r = subprocess.run([sys.executable, os.path.join(SRC, "bench", "gate_real.py"), "--set",
                        os.path.join(tmp, "set"), "--build", BUILD, "--out", md],
                       capture_output=True, text=True)
    expect(r.returncode == 0, "gate_real.py runs (%s)" % r.stderr.strip()[-300:])
    with open(md) as f:
        text = f.read()
    expect(text.strip() == r.stdout.strip(), "--out writes what it prints")
    for what in ("Frame F1 per SNR", "opens/min on noise", "Onset keep", "Stride Gate, hold 0",
                 "WebRTC VAD, high likelihood", "speexdsp", "per-file threshold (oracle)",
                 "adaptive gate", "2 mixtures"):
        expect(what in text, "the tables have " + what)
    # the level gate on a clean step: the oracle finds a threshold with F1 near 1 at 20 dB
    line = [ln for ln in text.splitlines() if ln.startswith("| level gate, per-file")][0]
    expect(float(line.split("|")[2]) > 0.95, "oracle level gate F1 > 0.95 at 20 dB: " + line)
    r = subprocess.run([sys.executable, os.path.join(SRC, "bench", "gate_real.py"), "--set",
                        os.path.join(tmp, "none")], capture_output=True, text=True)
    expect(r.returncode == 0 and "no test set" in r.stdout, "a missing set is skipped, saying so")


def main():
    test_metrics()
    test_noise_floor()
    with tempfile.TemporaryDirectory() as tmp:
        test_helpers(tmp)
        test_benchmark(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
