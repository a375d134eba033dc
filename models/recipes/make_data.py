#!/usr/bin/python3
"""Rebuild Stride's training and evaluation audio from Debian packages.

    models/recipes/make_data.py OUT_DIR [--seed N] [--minutes M] [--only gate|genre|gate-noise] [--jobs 2]

Writes OUT_DIR/gate, gate_test, gate_noise, genre, genre_test, genre_test_sf2,
genre_test_sf3 (see models/README.md).
Deterministic for a seed; files that exist are skipped, so an interrupted run resumes.
"""

import argparse
import concurrent.futures as cf
import math
import multiprocessing
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import production  # noqa: E402
import tasks  # noqa: E402
from common import SF2_FLUID, SF2_TIMGM, SF3_MUSESCORE  # noqa: E402
from styles import STYLES  # noqa: E402

# Sizes at --minutes DEFAULT_MINUTES; every count scales with --minutes.
GATE = {"gate": dict(speech=128, music=22, noise=16, labelled=12),
        "gate_test": dict(speech=32, music=6, noise=12, labelled=4)}
# Extra noise for the gate's training: many short files, each its own seed, so the
# model meets hundreds of colours, hums and fans rather than a few long ones.
# (Digital silence is left out: the trainer makes its own, and skips all-silent files.)
GATE_NOISE = ("gate_noise", 768, 6.0)
# Randomly coloured noise and mixtures have the most shapes to learn (a first model
# opened on an unseen colour), so they get the most files.
GATE_NOISE_KINDS = ["colored", "mix", "hum50", "colored", "fan", "mix", "pink", "rumble", "colored", "hum60",
                    "brown", "mix", "white", "colored", "hiss", "rumble", "room", "dither"]
EXCERPTS_PER_PIECE = 3
# split: (clips per style, soundfont, folder[, production pool]). The clean training
# folder holds renders through two soundfonts, so that a style is not one soundfont's
# timbres; the third soundfont (MuseScore General) is never trained on. Produced renders
# (production.py) draw their soundfont, drums, guitar drive and mastering per piece from
# a pool; the test pool (MuseScore General, held-out kits) is never trained on.
GENRE = {"genre": (60, SF2_FLUID, "genre"), "genre_timgm": (60, SF2_TIMGM, "genre"),
         "genre_prod": (120, None, "genre_prod", "train"),
         "genre_test": (20, SF2_FLUID, "genre_test"), "genre_test_sf2": (20, SF2_TIMGM, "genre_test_sf2"),
         "genre_test_sf3": (20, SF3_MUSESCORE, "genre_test_sf3"),
         "genre_test_prod": (20, None, "genre_test_prod", "test")}
CLIPS_PER_PIECE = 3
# speech ~3.75 s, music excerpts ~4.5 s, noise ~26 s, labelled ~30 s, genre clips 10 s
DEFAULT_MINUTES = 186
# noise kinds in the order small runs get them
NOISE_ORDER = ["pink", "hum50", "zeros", "fan", "dither", "hiss", "room", "white", "hum60", "brown", "colored", "mix",
               "mix", "fan", "colored", "hum60", "hum50", "pink", "room", "mix", "hiss", "brown", "fan", "white"]
TOOLS = ["espeak-ng", "fluidsynth", "sox"]


def scaled(n, scale, least):
    return max(least, int(round(n * scale)))


def plan(args):
    scale = args.minutes / DEFAULT_MINUTES
    first, second = [], []   # second: tasks that read what the first ones wrote
    if args.only in (None, "gate"):
        for split, sizes in GATE.items():
            for i in range(scaled(sizes["speech"], scale, 2)):
                first.append(("%s-speech-%04d" % (split, i), 0.3, tasks.speech_task, (args.seed, split, i)))
            for i in range(scaled(sizes["music"], scale, 1)):
                first.append(("%s-music-%03d" % (split, i), 2.0, tasks.gate_music_task,
                              (args.seed, split, i, EXCERPTS_PER_PIECE)))
            for i in range(scaled(sizes["noise"], scale, 3)):
                kind = NOISE_ORDER[i % len(NOISE_ORDER)]
                first.append(("%s-noise-%03d" % (split, i), 0.4, tasks.noise_task, (args.seed, split, i, kind)))
            for i in range(scaled(sizes["labelled"], scale, 1)):
                second.append(("%s-labelled-%03d" % (split, i), 0.3, tasks.labelled_task, (args.seed, split, i)))
    if args.only in (None, "gate", "gate-noise"):
        split, count, seconds = GATE_NOISE
        for i in range(scaled(count, scale, 3)):
            kind = GATE_NOISE_KINDS[i % len(GATE_NOISE_KINDS)]
            first.append(("%s-noise-%03d" % (split, i), 0.1, tasks.noise_task,
                          (args.seed, split, i, kind, seconds)))
    if args.only in (None, "genre"):
        for split, (clips, sf2, folder, *pool) in GENRE.items():
            n = scaled(clips, scale, 1)
            for style in STYLES:
                for p in range(math.ceil(n / CLIPS_PER_PIECE)):
                    k = min(CLIPS_PER_PIECE, n - p * CLIPS_PER_PIECE)
                    first.append(("%s-%s-%03d" % (split, style, p), 3.0 + 3.0 * bool(pool), tasks.genre_task,
                                  (args.seed, split, style, p, k, sf2, folder, 10.0, pool[0] if pool else None)))
    first.sort(key=lambda t: -t[1])       # longest first: the pool ends together
    return first, second


def run_task(out, task_id, func, fargs):
    """Runs in a worker. Returns (task_id, rows, skipped, seconds, error)."""
    t0 = time.time()
    rows = tasks.done(out, task_id)
    if rows is not None:
        return task_id, rows, True, 0.0, None
    try:
        rows = func(out, *fargs)
        tasks.finish(out, task_id, rows)
        return task_id, rows, False, time.time() - t0, None
    except Exception as e:  # reported by the parent with the task's name; never silently dropped
        return task_id, [], False, time.time() - t0, "%s: %s" % (type(e).__name__, e)


def folder_of(rel):
    return os.path.dirname(rel)


def summary(out, rows_all, failures, wall):
    by = {}
    for rel, sec, _ in rows_all:
        c, s = by.get(folder_of(rel), (0, 0.0))
        by[folder_of(rel)] = (c + 1, s + sec)
    print("\n%-40s %7s %10s %9s" % ("folder", "files", "minutes", "mean s"))
    total_n, total_s = 0, 0.0
    for f in sorted(by):
        c, s = by[f]
        total_n += c
        total_s += s
        print("%-40s %7d %10.2f %9.2f" % (f, c, s / 60, s / c))
    print("%-40s %7d %10.2f" % ("total", total_n, total_s / 60))
    size = 0
    for root, _, files in os.walk(out):
        size += sum(os.path.getsize(os.path.join(root, x)) for x in files)
    print("disk use of %s: %.1f MB; wall time %.1f s" % (out, size / 1e6, wall))
    if failures:
        print("\n%d task(s) FAILED:" % len(failures))
        for tid, err in failures:
            print("  %s: %s" % (tid, err))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", metavar="OUT_DIR")
    ap.add_argument("--seed", type=int, default=0, help="base seed (default 0); held-out sets use their own streams")
    ap.add_argument("--minutes", type=float, default=DEFAULT_MINUTES,
                    help="total minutes of audio; every part scales with it (default %d)" % DEFAULT_MINUTES)
    ap.add_argument("--only", choices=["gate", "genre", "gate-noise"],
                    help="build only the gate or only the genre data, or only the gate's extra noise (gate_noise)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    args = ap.parse_args()

    missing = [t for t in TOOLS if shutil.which(t) is None]
    missing += [p for p in (SF2_FLUID, SF2_TIMGM, SF3_MUSESCORE) if not os.path.exists(p)]
    if args.only in (None, "genre"):
        missing += production.available()
    if missing:
        sys.exit("missing: %s -- install the packages in models/recipes/PACKAGES" % ", ".join(missing))

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    first, second = plan(args)
    total = len(first) + len(second)
    print("stride data: %d tasks into %s (seed %d, %.0f minutes, %d jobs)" % (total, out, args.seed, args.minutes,
                                                                             args.jobs), flush=True)
    start = time.time()
    rows_all, failures = [], []
    state = {"n": 0, "made": 0, "skipped": 0}

    def report(fut):
        tid, rows, skipped, secs, err = fut.result()
        state["n"] += 1
        rows_all.extend(rows)
        if err:
            failures.append((tid, err))
            line = "FAILED: " + err
        elif skipped:
            state["skipped"] += 1
            line = "exists"
        else:
            state["made"] += 1
            line = "%d file(s), %.1f s of audio, %.1f s" % (len(rows), sum(r[1] for r in rows), secs)
        print("[%4d/%d %6.1fs] %-32s %s" % (state["n"], total, time.time() - start, tid, line), flush=True)

    ctx = multiprocessing.get_context("fork")
    with cf.ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=ctx) as pool:
        try:
            active, gate_left = set(), set()
            for tid, _, f, a in first:
                fut = pool.submit(run_task, out, tid, f, a)
                active.add(fut)
                if tid.startswith("gate"):
                    gate_left.add(fut)
            pending = list(second)
            while active:
                finished, active = cf.wait(active, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    report(fut)
                    gate_left.discard(fut)
                if pending and not gate_left:   # labelled files are built from the gate folders
                    if any(tid.startswith("gate") for tid, _ in failures):
                        # built from a folder with holes they would differ from a clean run's
                        for tid, _, _, _ in pending:
                            failures.append((tid, "not built: a gate task it draws from failed"))
                    else:
                        active |= {pool.submit(run_task, out, tid, f, a) for tid, _, f, a in pending}
                    pending = []
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    wall = time.time() - start

    with open(os.path.join(out, "manifest.tsv"), "w") as f:
        f.write("path\tseconds\thow it was made\n")
        for rel, sec, desc in sorted(rows_all):
            f.write("%s\t%.3f\t%s\n" % (rel, sec, desc))
    summary(out, rows_all, failures, wall)
    print("made %d task(s), %d already there, %d failed" % (state["made"], state["skipped"], len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
