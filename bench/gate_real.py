#!/usr/bin/python3
"""Every gate side by side on the real-recording test set (issue 17): a benchmark.

    bench/gate_real.py [--set DIR] [--model FILE] [--build DIR] [--out FILE.md]

DIR is the test set (models/data/real/gate_real_test by default; its layout:
manifest.json, mix/NNNN.wav, mix/NNNN.truth.npy with one label per 10 ms frame:
0 no content, 1 speech, 2 music). Every detector is scored on those frames:

- Stride Gate through the plugin's own DSP object (`stride gate --trace`, the
  model given by --model), every control at the plugin's default, and again
  with hold 0. The trace is on the input's time axis (the gate's reported
  latency taken out); a frame counts as passed when its mean applied gain is at
  least 0.5 (-6 dB);
- WebRTC's VAD (bench/vad_webrtc) at each of its four likelihood settings;
- speexdsp's speech probability (bench/vad_speex), its threshold the one with
  the best pooled F1 on this very set;
- a level gate: the frame's RMS in dBFS against one threshold tuned on the set
  (best pooled F1), and against each file's own best threshold (an oracle);
- an adaptive gate: the frame's energy above a minimum-statistics noise floor
  (see noise_floor), its margin tuned on the set;
- every frame open: what a gate that does nothing scores, for reference.
The baselines decide on each 10 ms frame with no lookahead, so their frame f
is the truth's frame f. Tuned rows are tuned on the test set itself: they show
the best those detectors can do, an upper bound, not what a user would get.

It prints markdown tables: frame F1 per SNR and pooled, ROC-AUC of every
continuous score (pooled over all frames), opens per minute of noise, recall per
content kind, and how much of each content onset's first 20 ms passes at full
gain (onset keep). --out also writes them to a file.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import evaluate_gate  # noqa: E402  (f1, read_wav)

FRAME = 160            # samples per truth frame (10 ms at 16 kHz)
RATE = evaluate_gate.RATE
SNRS = [20, 10, 5, 0]
TRACE_FRAMES = 16      # `stride gate --trace` rows of 1 ms: the onset keep's resolution
FULL_GAIN = 0.99       # "passes at full gain"
PASS_GAIN = 0.5        # a frame is passed by the gate at or above this mean gain
ONSET_MS = 20
FLOOR_DB = -150.0      # energy of digital silence
WEBRTC = ["very_low", "low", "moderate", "high"]
# The adaptive gate's noise floor (minimum statistics, simplified): the frame
# power smoothed with a first-order average of this time constant, then its
# minimum over this trailing window; the gate opens when the frame's energy is
# `margin` dB above that floor.
FLOOR_SMOOTH_S = 0.05
FLOOR_WINDOW_S = 1.5


# ---------------------------------------------------------------- metrics

def roc_auc(truth, score):
    """Area under the ROC curve of `score` for truth (bool): the chance that a
    random positive frame scores above a random negative one, ties counting
    half (Mann-Whitney with mid-ranks). None when a class is missing."""
    truth = np.asarray(truth, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int(truth.sum()), int((~truth).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    # mid-ranks (1-based) of runs of equal scores
    starts = np.r_[0, np.nonzero(np.diff(s))[0] + 1]
    ends = np.r_[starts[1:], len(s)]
    mid = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(mid, ends - starts)
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def noise_opens(truth, decision):
    """(opens, noise frames): rising edges of the decision on frames without
    content. An edge from which the decision stays open into the next content
    frame is not counted: that is the gate opening early for the content that
    follows (Stride's lookahead does so on purpose), not an open on noise. The
    first frame counts as an edge when open (every gate starts closed)."""
    truth = np.asarray(truth) != 0
    d = np.asarray(decision, dtype=bool)
    rising = d & ~np.r_[False, d[:-1]]
    n = len(d)
    idx = np.arange(n)
    # per frame: the first closed frame and the first content frame at or after it
    run_end = np.minimum.accumulate(np.where(~d, idx, n)[::-1])[::-1]
    next_content = np.minimum.accumulate(np.where(truth, idx, n + 1)[::-1])[::-1]
    early = next_content < run_end  # opened early for the content that follows
    return int((rising & ~truth & ~early).sum()), int((~truth).sum())


def onsets(truth):
    """Frames where content starts: content after a frame without (or at 0)."""
    c = np.asarray(truth) != 0
    return np.nonzero(c & ~np.r_[False, c[:-1]])[0]


def onset_keep(truth, passed, per_frame):
    """Per content onset, the fraction of its first ONSET_MS that passes, and
    the onset's kind (1 speech, 2 music): `passed` is a bool per step of
    `per_frame` steps per truth frame (1: a baseline's frame decisions; 10:
    Stride's 1 ms trace rows at full gain). Onsets too near the end to have
    ONSET_MS after them are left out."""
    steps = ONSET_MS * per_frame * RATE // (1000 * FRAME)
    kept, kinds = [], []
    for f in onsets(truth):
        a = f * per_frame
        seg = np.asarray(passed[a:a + steps], dtype=bool)
        if len(seg) == steps:
            kept.append(seg.mean())
            kinds.append(int(truth[f]))
    return np.array(kept), np.array(kinds, dtype=np.int64)


# ---------------------------------------------------------------- detectors

def frame_energy_db(x):
    n = len(x) // FRAME
    p = np.mean(np.square(x[:n * FRAME].reshape(n, FRAME)), axis=1)
    return np.maximum(10 * np.log10(p + 1e-300), FLOOR_DB)


def noise_floor(energy_db):
    """A running noise floor in dB (minimum statistics, simplified, causal):
    the frame power smoothed by a first-order average (time constant
    FLOOR_SMOOTH_S), then the minimum of that over the last FLOOR_WINDOW_S."""
    a = np.exp(-FRAME / (FLOOR_SMOOTH_S * RATE))
    p = 10 ** (energy_db / 10)
    smooth = np.empty_like(p)
    acc = p[0] if len(p) else 0.0
    for i, v in enumerate(p):
        acc = a * acc + (1 - a) * v
        smooth[i] = acc
    w = max(1, int(round(FLOOR_WINDOW_S * RATE / FRAME)))
    padded = np.r_[np.full(w - 1, np.inf), smooth]
    m = np.lib.stride_tricks.sliding_window_view(padded, w).min(axis=1)
    return np.maximum(10 * np.log10(m + 1e-300), FLOOR_DB)


def read_frame_csv(path, columns):
    """{file: {column: array per frame}} from a helper's CSV (file,frame,...)."""
    rows = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["file"], []).append([float(r[c]) for c in columns])
    return {k: dict(zip(columns, np.array(v).T)) for k, v in rows.items()}


def run_stride(stride, model, wav, trace, extra):
    """The gate over one file with --trace; returns (latency frames, trace rows)."""
    r = subprocess.run([stride, "gate", "--model", model, "--trace", trace,
                        "--trace-frames", str(TRACE_FRAMES)] + extra + [wav, trace + ".wav"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("gate_real: stride gate failed on %s: %s" % (wav, r.stderr.strip()))
    out = r.stdout
    latency = int(out.split("latency ")[1].split(" ")[0])
    t = np.loadtxt(trace, delimiter=",", skiprows=1, ndmin=2)
    return latency, t


def stride_frames(t, n):
    """Per truth frame from 1 ms trace rows: probability at the frame's centre,
    mean gain; and per row whether the gain was full throughout."""
    per = FRAME // TRACE_FRAMES
    rows = t[:n * per]
    p = rows[per // 2::per, 2]
    gain = rows[:, 5].reshape(-1, per).mean(axis=1)
    return p, gain, rows[:, 4] >= FULL_GAIN


# ---------------------------------------------------------------- the benchmark

def load(set_dir):
    with open(os.path.join(set_dir, "manifest.json")) as f:
        manifest = json.load(f)
    if manifest.get("rate", RATE) != RATE or manifest.get("frame", FRAME) != FRAME:
        raise SystemExit("%s: rate %s, frame %s; this benchmark needs %d and %d"
                         % (set_dir, manifest.get("rate"), manifest.get("frame"), RATE, FRAME))
    mixes = []
    for m in manifest["mixtures"]:
        wav = os.path.join(set_dir, m["file"])
        for path in (wav, os.path.join(set_dir, m["truth"])):
            if not os.path.isfile(path):
                raise SystemExit("gate_real: %s is missing (the manifest names it)" % path)
        truth = np.load(os.path.join(set_dir, m["truth"])).astype(np.int64)
        x = evaluate_gate.read_wav(wav)
        n = min(len(truth), len(x) // FRAME)
        mixes.append(dict(wav=wav, snr=m["snr_db"], level=m["level_dbfs"], x=x, truth=truth[:n], n=n))
    return mixes


def tune(truth_all, score_all, grid):
    """The threshold on the grid with the best pooled F1 (score >= threshold)."""
    t = truth_all != 0
    return max(grid, key=lambda th: evaluate_gate.f1(t, score_all >= th))


def collect(args, mixes, tmp):
    """Per mixture: each detector's decision per frame, and its scores."""
    wavs = [m["wav"] for m in mixes]

    def helper(tool, columns):
        path = os.path.join(args.build, "bench", tool)
        if not os.access(path, os.X_OK):
            raise SystemExit("gate_real: %s is missing: ./waf build first" % path)
        csv_path = os.path.join(tmp, tool + ".csv")
        r = subprocess.run([path, "--out", csv_path] + wavs, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("gate_real: %s failed: %s" % (tool, r.stderr.strip()))
        return read_frame_csv(csv_path, columns)

    webrtc = helper("vad_webrtc", ["webrtc_" + w for w in WEBRTC])
    speex = helper("vad_speex", ["speex_prob"])  # its VAD's "hack" warning is dropped
    latency = None
    for i, m in enumerate(mixes):
        n = m["n"]
        trace = os.path.join(tmp, "trace%d.csv" % i)
        lat, t = run_stride(args.stride, args.model, m["wav"], trace, [])
        m["stride_p"], gain, m["stride_full"] = stride_frames(t, n)
        m["stride"] = gain >= PASS_GAIN
        _, t0 = run_stride(args.stride, args.model, m["wav"], trace, ["--hold", "0"])
        _, gain0, m["stride0_full"] = stride_frames(t0, n)
        m["stride0"] = gain0 >= PASS_GAIN
        latency = lat
        for w in WEBRTC:
            m["webrtc_" + w] = webrtc[m["wav"]]["webrtc_" + w][:n] > 0.5
        m["webrtc_votes"] = sum(m["webrtc_" + w].astype(int) for w in WEBRTC)
        m["speex_p"] = speex[m["wav"]]["speex_prob"][:n]
        e = frame_energy_db(m["x"])[:n]
        m["level_db"] = e
        m["above_floor"] = e - noise_floor(e)
    return latency


def table(title, header, rows):
    out = ["### " + title, "", "| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def fmt(v, spec="%.3f"):
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else spec % v


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default=os.path.join(top, "models", "data", "real", "gate_real_test"),
                    help="the test set (manifest.json, mix/); default models/data/real/gate_real_test")
    ap.add_argument("--model", default=os.path.join(top, "models", "gate.safetensors"),
                    help="the gate model (default: the shipped models/gate.safetensors)")
    ap.add_argument("--build", default=os.path.join(top, "build"),
                    help="the build folder with stride and bench/vad_* (default build)")
    ap.add_argument("--out", help="also write the tables (markdown) to this file")
    args = ap.parse_args()
    args.stride = os.path.join(args.build, "stride")
    if not os.path.exists(os.path.join(args.set, "manifest.json")):
        print("gate_real: no test set at %s (manifest.json): nothing to run. Build it with the "
              "real-recording recipe (models/README.md) or pass --set DIR." % args.set)
        return 0
    t0 = time.time()
    mixes = load(args.set)
    with tempfile.TemporaryDirectory() as tmp:
        latency = collect(args, mixes, tmp)

    def cat(key, sel=None):
        return np.concatenate([m[key] for m in (sel if sel is not None else mixes)])

    truth = cat("truth")
    content = truth != 0
    # tuned on the whole set (pooled F1)
    speex_th = tune(truth, cat("speex_p"), np.arange(0.0, 1.0001, 0.01))
    level_th = tune(truth, cat("level_db"), np.arange(-120.0, 0.01, 0.5))
    margin = tune(truth, cat("above_floor"), np.arange(-20.0, 40.01, 0.5))
    for m in mixes:
        m["speex"] = m["speex_p"] >= speex_th
        m["level"] = m["level_db"] >= level_th
        oracle = tune(m["truth"], m["level_db"], np.arange(-120.0, 0.01, 0.5))
        m["level_oracle"] = m["level_db"] >= oracle
        m["adaptive"] = m["above_floor"] >= margin
        m["always"] = np.ones(m["n"], dtype=bool)

    rows = [("Stride Gate, plugin defaults", "stride", "stride_p", "stride_full"),
            ("Stride Gate, hold 0", "stride0", "stride_p", "stride0_full")]
    rows += [("WebRTC VAD, %s likelihood" % w.replace("_", " "), "webrtc_" + w, None, None)
             for w in WEBRTC]
    rows += [("speexdsp prob >= %.2f (tuned)" % speex_th, "speex", "speex_p", None),
             ("level gate >= %.1f dBFS (tuned)" % level_th, "level", "level_db", None),
             ("level gate, per-file threshold (oracle)", "level_oracle", None, None),
             ("adaptive gate, %.1f dB above noise floor (tuned)" % margin, "adaptive",
              "above_floor", None),
             ("every frame open (reference)", "always", None, None)]

    out = []
    minutes = lambda frames: frames * FRAME / RATE / 60.0  # noqa: E731
    snr_sel = {s: [m for m in mixes if m["snr"] == s] for s in SNRS}
    f1_rows, other_rows, keep_rows = [], [], []
    for label, key, score, full in rows:
        cells = [label]
        for s in SNRS:
            sel = snr_sel[s]
            cells.append(fmt(evaluate_gate.f1(cat("truth", sel) != 0, cat(key, sel))
                             if sel else None))
        cells.append(fmt(evaluate_gate.f1(content, cat(key))))
        f1_rows.append(cells)
        opens, noise = 0, 0
        for m in mixes:
            o, n = noise_opens(m["truth"], m[key])
            opens += o
            noise += n
        auc = roc_auc(content, cat(score)) if score else None
        dec = cat(key)
        other_rows.append([label, fmt(auc),
                           fmt(opens / minutes(noise) if noise else None, "%.1f"),
                           fmt(100 * dec[~content].mean() if (~content).any() else None, "%.0f%%"),
                           fmt(dec[truth == 1].mean() if (truth == 1).any() else None),
                           fmt(dec[truth == 2].mean() if (truth == 2).any() else None)])
        keep = np.concatenate([onset_keep(m["truth"], m[full], FRAME // TRACE_FRAMES)[0]
                               if full else onset_keep(m["truth"], m[key], 1)[0] for m in mixes])
        keep_rows.append([label, fmt(keep.mean() if len(keep) else None),
                          fmt(100 * (keep >= 1.0).mean() if len(keep) else None, "%.0f%%"),
                          fmt(100 * (keep <= 0.0).mean() if len(keep) else None, "%.0f%%")])
    seconds = sum(m["n"] for m in mixes) * FRAME / RATE
    out.append("Test set: %s: %d mixtures, %.1f min, %.1f min of it without content; %d content "
               "onsets. Model: %s (the gate's latency, %s frames = %.1f ms, taken out).\n"
               % (args.set, len(mixes), seconds / 60, minutes(int((~content).sum())),
                  sum(len(onsets(m["truth"])) for m in mixes), os.path.basename(args.model),
                  latency, 1000.0 * latency / RATE))
    out.append(table("Frame F1 per SNR", ["detector"] + ["%d dB" % s for s in SNRS] + ["all"],
                     f1_rows))
    out.append(table("Scores, opens and recall",
                     ["detector", "ROC-AUC (pooled)", "opens/min on noise", "noise frames open",
                      "speech recall",
                      "music recall"], other_rows))
    out.append("WebRTC's VAD says only yes or no; its four settings as one score (how many of "
               "them say voice, 0-4) have a pooled ROC-AUC of %s.\n"
               % fmt(roc_auc(content, cat("webrtc_votes"))))
    out.append(table("Onset keep: the first %d ms of each content onset" % ONSET_MS,
                     ["detector", "mean fraction passed", "onsets fully passed",
                      "onsets fully lost"], keep_rows))
    # Stride Gate's onset keep by SNR and content kind
    by = []
    for s in SNRS:
        for kind, code in (("speech", 1), ("music", 2)):
            k = []
            for m in snr_sel[s]:
                kept, kinds = onset_keep(m["truth"], m["stride_full"], FRAME // TRACE_FRAMES)
                k.append(kept[kinds == code])
            k = np.concatenate(k) if k else np.zeros(0)
            by.append(["%d dB" % s, kind, str(len(k)), fmt(k.mean() if len(k) else None),
                       fmt(100 * (k >= 1.0).mean() if len(k) else None, "%.0f%%")])
    out.append(table("Stride Gate (plugin defaults): onset keep by SNR and kind",
                     ["SNR", "kind", "onsets", "mean fraction at full gain", "fully at full gain"],
                     by))
    out.append("Tuned on this set (best pooled F1): speexdsp threshold %.2f, level threshold "
               "%.1f dBFS, adaptive margin %.1f dB. The benchmark took %.0f s.\n"
               % (speex_th, level_th, margin, time.time() - t0))
    text = "\n".join(out)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
