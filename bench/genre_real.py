#!/usr/bin/python3
"""A genre model on a real-music test set in GTZAN layout (issue 20):

    bench/genre_real.py MODEL TEST_FOLDER [--stride PATH] [--build DIR]

TEST_FOLDER holds <label>/<file>.wav (models/recipes/real_music.py writes genre_real_test/ so, its clips named
<package>__<track>_cK.wav). The model's verdict on a file is `stride predict`'s: the label with the highest mean
probability over the file's decisions (its CSV gives every decision's p_<label>). A track's verdict averages its
clips' mean probabilities (clips of one track: the name up to _cK). It prints, per clip and per track:

  - verdict accuracy, with a 95% Wilson score interval;
  - mean per-style recall (over the labels present in the folder: the set is unbalanced) and each label's recall;
  - the always-the-biggest-class baseline (the accuracy of answering the folder's most common label every time);
  - the confusion matrix (rows: the folder's label, columns: the verdict).
A folder label the model does not have is listed and scored (its files can only be wrong), not an error.
"""
import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CLIP = re.compile(r"^(.*)_c\d+$")
Z95 = 1.959963984540054      # the standard normal's 97.5% point


def wilson(k, n, z=Z95):
    """The Wilson score interval (low, high) for k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def test_files(folder):
    """[(label, path)] of every audio file one folder below TEST_FOLDER, sorted."""
    out = []
    for label in sorted(os.listdir(folder)):
        d = os.path.join(folder, label)
        if not os.path.isdir(d) or label.startswith("."):
            continue
        for f in sorted(os.listdir(d)):
            if f.lower().endswith((".wav", ".flac", ".ogg")) and not f.startswith("."):
                out.append((label, os.path.join(d, f)))
    if not out:
        raise SystemExit("genre_real.py: %s: no <label>/<file>.wav below it" % folder)
    return out


def predict(stride, model, paths, batch=200):
    """{path: {label: mean probability}} from `stride predict MODEL FILES --format csv`, `batch` files a run (a
    command line has a length limit)."""
    out = {}
    for i in range(0, len(paths), batch):
        out.update(predict_batch(stride, model, paths[i:i + batch]))
    return out


def predict_batch(stride, model, paths):
    fd, tmp = tempfile.mkstemp(suffix=".csv")
    os.close(fd)
    try:
        p = subprocess.run([stride, "predict", model] + paths + ["--format", "csv", "--out", tmp],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise SystemExit("genre_real.py: stride predict failed (exit %d): %s"
                             % (p.returncode, p.stderr.decode("utf-8", "replace").strip()[-800:]))
        sums, counts = {}, {}
        with open(tmp, newline="") as f:
            for row in csv.DictReader(f):
                probs = {k[2:]: float(v) for k, v in row.items() if k.startswith("p_")}
                s = sums.setdefault(row["file"], dict.fromkeys(probs, 0.0))
                for k, v in probs.items():
                    s[k] += v
                counts[row["file"]] = counts.get(row["file"], 0) + 1
    finally:
        os.unlink(tmp)
    missing = [q for q in paths if q not in sums]
    if missing:
        raise SystemExit("genre_real.py: stride predict gave no decision for %s" % ", ".join(missing[:5]))
    return {q: {k: v / counts[q] for k, v in sums[q].items()} for q in paths}


def verdict(probs):
    """The label of the highest mean probability (the first in the model's order on a tie, as stride does)."""
    return max(probs, key=lambda k: probs[k])


def track_of(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    m = CLIP.match(stem)
    return m.group(1) if m else stem


def by_track(items):
    """items: [(truth, path, probs)] -> [(truth, track, averaged probs)]: one track's clips averaged."""
    groups = {}
    for truth, path, probs in items:
        key = (truth, os.path.join(os.path.dirname(path), track_of(path)))
        groups.setdefault(key, []).append(probs)
    out = []
    for (truth, track), ps in sorted(groups.items()):
        out.append((truth, track, {k: sum(p[k] for p in ps) / len(ps) for k in ps[0]}))
    return out


def score(pairs, model_labels):
    """pairs: [(truth, verdict)]. A dict of every number the report prints."""
    n = len(pairs)
    correct = sum(t == v for t, v in pairs)
    truths = sorted({t for t, _ in pairs})
    recall = {t: sum(v == t for tt, v in pairs if tt == t) / sum(tt == t for tt, _ in pairs) for t in truths}
    counts = {t: sum(tt == t for tt, _ in pairs) for t in truths}
    biggest = max(truths, key=lambda t: (counts[t], -truths.index(t)))   # a tie: the first by name
    columns = list(model_labels) + sorted({v for _, v in pairs} - set(model_labels))
    confusion = {t: {c: sum(tt == t and v == c for tt, v in pairs) for c in columns} for t in truths}
    return {"n": n, "correct": correct, "accuracy": correct / n, "interval": wilson(correct, n),
            "recall": recall, "mean_recall": sum(recall.values()) / len(recall), "biggest": biggest,
            "baseline": counts[biggest] / n, "confusion": confusion, "columns": columns, "counts": counts,
            "unknown": [t for t in truths if t not in model_labels]}


def report(title, s):
    lo, hi = s["interval"]
    print("## %s" % title)
    print("verdict accuracy: %d/%d = %.1f%% (95%% Wilson interval %.1f%%-%.1f%%)"
          % (s["correct"], s["n"], 100 * s["accuracy"], 100 * lo, 100 * hi))
    print("mean per-style recall: %.3f over %d labels" % (s["mean_recall"], len(s["recall"])))
    print("always-the-biggest-class baseline (%s): %.1f%%" % (s["biggest"], 100 * s["baseline"]))
    if s["unknown"]:
        print("labels the model does not have (scored as wrong): %s" % ", ".join(s["unknown"]))
    print()
    print("| label | files | recall |")
    print("|---|---|---|")
    for t, r in sorted(s["recall"].items()):
        print("| %s | %d | %.3f |" % (t, s["counts"][t], r))
    print()
    print("| truth \\ verdict | " + " | ".join(s["columns"]) + " |")
    print("|---|" + "---|" * len(s["columns"]))
    for t in sorted(s["confusion"]):
        print("| %s | " % t + " | ".join(str(s["confusion"][t][c]) for c in s["columns"]) + " |")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("folder")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"), help="where stride was built")
    ap.add_argument("--stride", help="the stride program (default BUILD/stride)")
    args = ap.parse_args()
    stride = args.stride or os.path.join(args.build, "stride")
    if not os.access(stride, os.X_OK):
        raise SystemExit("genre_real.py: %s: no stride program there (./waf build, or --stride PATH)" % stride)
    files = test_files(args.folder)
    probs = predict(stride, args.model, [p for _, p in files])
    model_labels = list(next(iter(probs.values())))
    items = [(t, p, probs[p]) for t, p in files]
    print("# %s on %s" % (args.model, args.folder))
    print()
    report("per clip", score([(t, verdict(q)) for t, _, q in items], model_labels))
    report("per track (its clips' probabilities averaged)",
           score([(t, verdict(q)) for t, _, q in by_track(items)], model_labels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
