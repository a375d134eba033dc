#!/usr/bin/python3
"""Listen-free checks of a data folder made by make_data.py.

    models/recipes/check_data.py OUT_DIR

Per folder: file count, total duration, and the spread of RMS levels (dBFS). Flags
files that are in the wrong format, clipped, silent where content is expected, hold
a dead gap where content should be continuous, or are byte-identical to another; and
checks every label track (parses, in range, ordered, and content louder than gaps).
Exits 1 when anything is flagged.
"""

import hashlib
import os
import sys
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import RATE, dbfs, frame_rms, has_dead_gap, rms  # noqa: E402


def read(path):
    with wave.open(path, "rb") as w:
        fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth())
        raw = w.readframes(w.getnframes())
    return fmt, np.frombuffer(raw, dtype="<i2"), raw


def longest_pause(x):
    """Longest run of 10 ms frames more than 50 dB below the loudest (and below -70 dBFS)."""
    fr = frame_rms(x, RATE // 100)
    if len(fr) == 0 or fr.max() <= 0:
        return 0.0
    quiet = fr < max(fr.max() * 10 ** (-50 / 20), 10 ** (-70 / 20))
    best = run = 0
    for qq in quiet:
        run = run + 1 if qq else 0
        best = max(best, run)
    return best / 100.0


def check_labels(path, x, dur, flags):
    txt = path[:-4] + ".txt"
    if not os.path.exists(txt):
        flags.append((path, "no label file %s" % os.path.basename(txt)))
        return
    segs = []
    with open(txt) as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            try:
                a, b = float(parts[0]), float(parts[1])
            except (ValueError, IndexError):
                flags.append((txt, "line %d does not parse: %r" % (n, line)))
                return
            if len(parts) != 3 or parts[2] != "content":
                flags.append((txt, "line %d: expected start<TAB>end<TAB>content" % n))
            segs.append((a, b))
    last = 0.0
    for a, b in segs:
        if not (0 <= a < b <= dur + 1e-6) or a < last - 1e-9:
            flags.append((txt, "segment %.6f-%.6f out of range or order (file %.3f s)" % (a, b, dur)))
        last = b
    inside = np.zeros(len(x), dtype=bool)
    for a, b in segs:
        inside[int(round(a * RATE)):int(round(b * RATE))] = True
    if inside.any() and (~inside).any():
        r_in, r_out = rms(x[inside]), rms(x[~inside])
        if r_in <= r_out:
            flags.append((txt, "content RMS %.1f dBFS is not above the gaps' %.1f dBFS" % (dbfs(r_in), dbfs(r_out))))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    top = os.path.abspath(sys.argv[1])
    folders = {}
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "midi")
        wavs = sorted(f for f in files if f.endswith(".wav"))
        if wavs:
            folders[os.path.relpath(root, top)] = [os.path.join(root, f) for f in wavs]
    if not folders:
        sys.exit("%s: no .wav files" % top)
    flags = []
    hashes = {}
    print("%-32s %6s %8s | %-34s | %s" % ("folder", "files", "minutes", "RMS dBFS min / p10 / median / p90 / max",
                                          "flags"))
    total_n, total_s = 0, 0.0
    for folder, paths in sorted(folders.items()):
        levels, secs, nflag0 = [], 0.0, len(flags)
        is_noise = "/noise" in "/" + folder
        is_content = "/content/" in "/" + folder + "/" or folder.split("/")[0].startswith("genre")
        for p in paths:
            fmt, q, raw = read(p)
            if fmt != (RATE, 1, 2):
                flags.append((p, "format %d Hz, %d ch, %d-byte; expected 16 kHz mono 16-bit" % fmt))
                continue
            h = hashlib.sha1(raw).hexdigest()
            if h in hashes and len(q) > 0:
                flags.append((p, "identical to %s" % os.path.relpath(hashes[h], top)))
            hashes[h] = p
            x = q.astype(np.float64) / 32768.0
            dur = len(x) / RATE
            secs += dur
            r = rms(x)
            levels.append(dbfs(r))
            full = np.abs(q.astype(np.int32)) >= 32767
            if full.sum() > max(3, 0.0005 * len(q)):
                flags.append((p, "clipped: %d full-scale samples" % int(full.sum())))
            if len(x) == 0:
                flags.append((p, "empty"))
            elif is_content and (r == 0 or dbfs(r) < -70):
                flags.append((p, "silent: RMS %.1f dBFS where content is expected" % dbfs(r)))
            elif folder.endswith("content/music") and has_dead_gap(x):
                flags.append((p, "dead gap: a stretch of near-silence inside a music clip"))
            elif folder.endswith("content/speech") and longest_pause(x) > 0.35:
                flags.append((p, "a %.2f s pause inside a speech clip" % longest_pause(x)))
            elif not is_content and not is_noise and folder.endswith("labelled"):
                check_labels(p, x, dur, flags)
            if is_noise and "zeros_" in os.path.basename(p) and np.any(q):
                flags.append((p, "digital-silence file holds non-zero samples"))
        total_n += len(paths)
        total_s += secs
        lv = np.array(levels) if levels else np.array([0.0])
        lv = lv[np.isfinite(lv)]
        pct = np.percentile(lv, [0, 10, 50, 90, 100]) if len(lv) else [float("nan")] * 5
        print("%-32s %6d %8.2f | %6.1f %6.1f %6.1f %6.1f %6.1f | %d" % (folder, len(paths), secs / 60, *pct,
                                                                    len(flags) - nflag0))
    print("%-32s %6d %8.2f" % ("total", total_n, total_s / 60))
    # class balance of the genre sets
    for split in ("genre", "genre_test", "genre_test_sf2", "genre_test_sf3"):
        counts = {f.split("/")[1]: len(p) for f, p in folders.items() if f.split("/")[0] == split and "/" in f}
        if counts and len(set(counts.values())) > 1:
            flags.append((split, "classes are unbalanced: %s" % counts))
    if flags:
        print("\n%d flag(s):" % len(flags))
        for p, msg in flags:
            print("  %s: %s" % (os.path.relpath(p, top) if p.startswith("/") else p, msg))
        sys.exit(1)
    print("\nno flags")


if __name__ == "__main__":
    main()
