#!/usr/bin/python3
"""Real recordings for the gate, from Debian packages (the table real_packages.tsv says which, and their role
and split):

    models/recipes/real_data.py [OUT_DIR] [--seed N] [--hours speech=4.5,music=4.5,noise=1]
                                [--synthetic-minutes 20] [--per-condition 3] [--only train|test] [--jobs 1]

OUT_DIR (default models/data/real) gets packages/ (the downloaded .deb files and their dpkg -x trees), decoded/
(every used recording at 16 kHz, a cache), catalogue.tsv (one row per recording: package, version, licence, role,
split, group, levels), gate_real/ (training folders for `stride train --task gate --data`: content/speech,
content/music and noise/, one folder per package, from train packages only) and gate_real_test/ (the fixed test
mixtures, from test packages only: manifest.json, mix/NNNN.wav, mix/NNNN.truth.npy). Deterministic for a seed;
what exists is kept, so an interrupted run resumes. Needs apt-get, dpkg, sox (libsox-fmt-mp3), opusdec.
"""

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import noise as synth  # noqa: E402
import real_audio  # noqa: E402
import real_fetch  # noqa: E402
import real_mix  # noqa: E402
import real_table  # noqa: E402
from common import (RATE, RecipeError, file_digest, read_wav, rng_for, wav_seconds, write_text,  # noqa: E402
                    write_wav)
from evaluate_gate import write_float_wav  # noqa: E402

DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "data", "real")
DEFAULT_HOURS = {"speech": 4.5, "music": 4.5, "noise": 1.0}
SYNTH_KINDS = ["colored", "mix", "hum50", "hum60", "fan", "pink", "brown", "white", "hiss", "room", "rumble"]
CATALOGUE = ["path", "package", "version", "licence", "role", "split", "group", "seconds", "rate", "rms_dbfs",
             "peak_dbfs"]


class Source:
    """One recording of the table: where it came from, and its clips once decoded."""

    def __init__(self, row, root, rel, version, out):
        self.row, self.rel, self.version = row, rel, version
        self.package, self.role, self.split = row.package, row.role, row.split
        self.group = row.group_of(rel)
        self.path = os.path.join(root, rel)
        self.cached = os.path.join(out, "decoded", row.package, rel + ".wav")
        self.catalogue_path = os.path.relpath(self.path, out)
        self.rate = 0
        self.clips = []
        self.stats = (0.0, -240.0, -240.0)

    def clip_seconds(self):
        return sum(b - a for a, b in self.clips) / RATE


def decode_one(src):
    """Decode a recording to the 16 kHz cache (once) and return (rate, stats, clips)."""
    meta = src.cached + ".json"
    info = {}
    if os.path.exists(meta) and os.path.exists(src.cached):
        with open(meta) as f:
            info = json.load(f)
    if info.get("highpass_hz") == real_audio.HIGHPASS_HZ:
        x, _ = read_wav(src.cached)
        rate = info["rate"]
    else:
        x, rate = real_audio.decode_in_range(src.path)
        write_wav(src.cached, x)
        x, _ = read_wav(src.cached)
        write_text(meta, json.dumps({"rate": rate, "highpass_hz": real_audio.HIGHPASS_HZ}) + "\n")
    return rate, real_audio.stats(x), real_audio.clips_of(x, src.role)


def decode_or_none(src):
    """decode_one, or the reason as a string for a file no decoder here reads (a WAV holding Vorbis): such a
    file is reported and left out, it does not stop the recipe."""
    try:
        return decode_one(src)
    except RecipeError as e:
        return str(e)


def unique(sources, path_of, what):
    """One source per distinct file (path_of gives the file to compare): games ship the same recording under
    several names (MegaGlest tilesets share their ambience, KTuberling repeats words), sometimes in containers
    that differ while the sound does not. A recording in a test and a train package stays on the test side
    only, so none is both trained and tested on."""
    order = sorted(range(len(sources)), key=lambda i: (sources[i].split != "test", i))
    seen, keep = set(), set()
    for i in order:
        d = file_digest(path_of(sources[i]))
        if d not in seen:
            seen.add(d)
            keep.add(i)
    dropped = len(sources) - len(keep)
    if dropped:
        print("  %d files repeat another one %s and are left out" % (dropped, what), flush=True)
    return [s for i, s in enumerate(sources) if i in keep]


def gather(rows, out, jobs, skip):
    sources = []
    pkgdir = os.path.join(out, "packages")
    for package in real_table.packages(rows):
        if package in skip:
            print("  skipping %s (--skip)" % package, flush=True)
            continue
        t0 = time.time()
        root, version = real_fetch.fetch(package, pkgdir)
        if not os.path.exists(real_fetch.copyright_path(root, package)):
            raise RecipeError("%s: no usr/share/doc/%s/copyright: its licence is unknown" % (package, package))
        found = real_table.match_files(rows, package, root)
        if not found:
            raise RecipeError("%s: no file matches its rows in %s" % (package, real_table.TABLE))
        sources += [Source(row, root, rel, version, out) for row, rel in found]
        print("  %-32s %-22s %5d files (%.0f s)" % (package, version, len(found), time.time() - t0), flush=True)
    sources = unique(sources, lambda s: s.path, "byte for byte")
    real_table.check_groups([(s.group, s.split, s.package) for s in sources])
    t0 = time.time()
    unreadable = []
    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        for src, got in zip(sources, ex.map(decode_or_none, sources)):
            if isinstance(got, str):
                unreadable.append(got)
            else:
                src.rate, src.stats, src.clips = got
    print("  decoded %d recordings (%.0f s)" % (len(sources) - len(unreadable), time.time() - t0), flush=True)
    for what in unreadable:
        print("  ! left out, cannot be decoded here: %s" % what, flush=True)
    return unique([s for s in sources if s.rate], lambda s: s.cached, "sample for sample once decoded")


def select_train(sources, role, hours, seed):
    """The training recordings of a role within `hours` of clips: every package gets an equal share (what a
    package lacks goes to the others), and a package's recordings are taken in a seeded order."""
    by_pkg = {}
    for s in sources:
        if s.role == role and s.split == "train" and s.clips:
            by_pkg.setdefault(s.package, []).append(s)
    avail = {p: sum(s.clip_seconds() for s in v) for p, v in by_pkg.items()}
    budget, share, left = hours * 3600.0, {}, sorted(by_pkg)
    while left:
        fair = budget / len(left)
        small = [p for p in left if avail[p] <= fair]
        if not small:
            for p in left:
                share[p] = fair
            break
        for p in small:
            share[p] = avail[p]
            budget -= avail[p]
            left.remove(p)
    chosen = []
    for p in sorted(by_pkg):
        order = list(by_pkg[p])
        rng_for(seed, "real-train", role, p).shuffle(order)
        got = 0.0
        for s in order:
            if got >= share[p]:
                break
            chosen.append(s)
            got += s.clip_seconds()
    return chosen


def safe_name(rel):
    stem = rel.rsplit(".", 1)[0]
    for prefix in ("usr/share/games/", "usr/share/", "_unpacked/"):
        if stem.startswith(prefix):
            stem = stem[len(prefix):]
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in stem.replace("/", "__"))[-120:]


def code_stamp(seed):
    """What the training pieces depend on besides the selection: the seed and the code that decodes and cuts.
    Files written under another stamp are not reused (a piece's name alone does not say how it was cut)."""
    h = hashlib.sha256(str(seed).encode())
    for name in ("real_audio.py", "noise.py", "common.py"):
        with open(os.path.join(HERE, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def write_train(chosen, out, seed, synth_minutes):
    """chosen: {role: [Source]} from select_train."""
    top = os.path.join(out, "gate_real")
    stamp_path = os.path.join(top, ".recipe-stamp")       # hidden: the trainer skips dot files
    stamp = code_stamp(seed)
    if os.path.isdir(top):
        old = open(stamp_path).read().strip() if os.path.exists(stamp_path) else ""
        if old != stamp:
            print("  gate_real was made by other code or another seed: rebuilding it", flush=True)
            shutil.rmtree(top)
    os.makedirs(top, exist_ok=True)
    write_text(stamp_path, stamp + "\n")
    wanted = set()
    totals = {}
    short = {}
    for role in real_table.ROLES:
        for s in chosen[role]:
            folder = (os.path.join(top, "noise", s.package) if role == "noise"
                      else os.path.join(top, "content", role, s.package))
            x = None
            for k, (a, b) in enumerate(s.clips):
                if role == "noise" and b - a < real_audio.SHORT_NOISE_S * RATE:
                    short.setdefault(s.package, []).append((s, a, b))
                    continue
                path = os.path.join(folder, "%s-%02d.wav" % (safe_name(s.rel), k))
                wanted.add(path)
                if not os.path.exists(path):
                    if x is None:
                        x, _ = read_wav(s.cached)
                    write_wav(path, x[a:b])
                totals[role] = totals.get(role, 0.0) + (b - a) / RATE
    for package, parts in sorted(short.items()):
        # key clicks and drips: strung into sequences, which is how they sound, and long enough for a window
        names = [os.path.join(top, "noise", package, "sequence-%03d.wav" % i) for i in range(10000)]
        if not os.path.exists(names[0]):
            cache = {}
            audio = []
            for s, a, b in parts:
                if s.cached not in cache:
                    cache[s.cached] = read_wav(s.cached)[0]
                audio.append(cache[s.cached][a:b])
            for i, x in enumerate(real_audio.string_together(rng_for(seed, "real-string", package), audio, 20.0)):
                write_wav(names[i], x)
        for n in names:
            if not os.path.exists(n):
                break
            wanted.add(n)
            totals["noise"] = totals.get("noise", 0.0) + wav_seconds(n)
    seconds = 6.0
    for i in range(int(round(synth_minutes * 60 / seconds))):
        kind = SYNTH_KINDS[i % len(SYNTH_KINDS)]
        path = os.path.join(top, "noise", "synthetic", "%s-%04d.wav" % (kind, i))
        wanted.add(path)
        if not os.path.exists(path):
            x, _ = synth.make(kind, rng_for(seed, "real-synthetic", i), seconds)
            write_wav(path, x)
        totals["synthetic noise"] = totals.get("synthetic noise", 0.0) + seconds
    stale = 0
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            if p not in wanted and p != stamp_path:
                os.unlink(p)
                stale += 1
    for role, sec in totals.items():
        print("  gate_real %-16s %6.2f h" % (role, sec / 3600), flush=True)
    if stale:
        print("  removed %d files no longer selected" % stale, flush=True)
    return totals


class Pool:
    """The test split's clips of one role, by package; recordings are read from the cache when drawn."""

    def __init__(self, sources, role):
        self.by_pkg = {}
        for s in sources:
            if s.role == role and s.split == "test":
                for a, b in s.clips:
                    self.by_pkg.setdefault(s.package, []).append((s, a, b))
        if not self.by_pkg:
            raise RecipeError("no test package has %s clips: the test set needs some" % role)
        self.packages = sorted(self.by_pkg)
        # a package is drawn by the square root of its hours: a small one (three pieces) is heard, but not
        # as often as a whole soundtrack
        w = np.sqrt([sum(b - a for _, a, b in self.by_pkg[p]) for p in self.packages])
        self.weights = w / w.sum()

    def draw(self, rng, count=1):
        """count consecutive clips of one package (neighbours in a folder: one speaker, one session):
        [(source, samples, start)]."""
        p = self.packages[int(rng.choice(len(self.packages), p=self.weights))]
        items = self.by_pkg[p]
        first = int(rng.integers(len(items)))
        out = []
        for s, a, b in items[first:first + count]:
            x, _ = read_wav(s.cached)
            out.append((s, x[a:b], a))
        return out


def music_clip(rng, pool):
    for _ in range(20):
        [(s, x, a)] = pool.draw(rng)
        got = real_mix.take_clip(rng, "music", x)
        if got is not None:
            clip, offset = got
            return clip, {"file": s.catalogue_path, "package": s.package, "kind": "music",
                          "offset_s": round((a + offset) / RATE, 3)}
    raise RecipeError("no usable music clip drawn in 20 tries")


def speech_clip(rng, pool):
    """A phrase: consecutive utterances of one package (single words, syllables or prompts on their own are
    shorter than speech usually is) joined by gaps under the pause that would split a clip."""
    want = rng.uniform(*real_mix.PHRASE_S) * RATE
    for _ in range(20):
        parts, files = [], []
        for s, x, a in pool.draw(rng, real_mix.MAX_UTTERANCES):
            got = real_mix.take_clip(rng, "speech", x)
            if got is None:
                continue
            parts.append(got[0])
            files.append(s.catalogue_path)
            if sum(len(p) for p in parts) >= want:
                break
        if parts:
            gaps = [real_mix.frames(rng.uniform(*real_mix.WORD_GAP_S)) for _ in parts[1:]]
            return real_mix.join(parts, gaps), {"file": files[0], "package": s.package, "kind": "speech",
                                                "files": files}
    raise RecipeError("no usable speech clip drawn in 20 tries")


def make_mixture(rng, pools, level, snr):
    n_clips = int(rng.integers(3, 6))
    kinds, lead, pauses, tail = real_mix.plan(rng, n_clips)
    clips, contents = [], []
    for kind in kinds:
        clip, entry = (speech_clip if kind == "speech" else music_clip)(rng, pools[kind])
        clips.append((clip, kind))
        contents.append(entry)
    zero_tail = real_mix.frames(rng.uniform(*real_mix.ZERO_TAIL_S)) if rng.random() < 0.25 else 0
    total = lead + sum(len(c) // real_mix.FRAME for c, _ in clips) + sum(pauses) + tail + zero_tail
    n = total * real_mix.FRAME
    if rng.random() < 1 / 3:
        kind = SYNTH_KINDS[int(rng.integers(len(SYNTH_KINDS)))]
        bed, _ = synth.make(kind, rng, n / RATE)
        noise = {"source": "noise", "file": "synthetic:" + kind, "package": "synthetic"}
    else:
        [(s, x, _)] = pools["noise"].draw(rng)
        bed = real_mix.loop_to(x, n, int(rng.integers(len(x))))
        noise = {"source": "noise", "file": s.catalogue_path, "package": s.package}
    mix, truth, places = real_mix.assemble(clips, lead, pauses, tail, zero_tail, bed, level, snr)
    for c, (f0, f1) in zip(contents, places):
        c["start_frame"], c["end_frame"] = int(f0), int(f1)
    return mix, truth, {"snr_db": snr, "level_dbfs": level, "noise": noise, "contents": contents,
                        "zero_tail_frames": int(zero_tail)}


def write_test(sources, out, seed, per_condition):
    top = os.path.join(out, "gate_real_test")
    manifest_path = os.path.join(top, "manifest.json")
    pools = {role: Pool(sources, role) for role in real_table.ROLES}
    if os.path.isdir(top):
        shutil.rmtree(top)
    os.makedirs(os.path.join(top, "mix"))
    mixtures, seconds, i = [], 0.0, 0
    for snr in real_mix.SNRS:
        for level in real_mix.LEVELS:
            for _ in range(per_condition):
                i += 1
                mix, truth, entry = make_mixture(rng_for(seed, "real-test", i), pools, level, snr)
                name = "mix/%04d" % i
                write_float_wav(os.path.join(top, name + ".wav"), mix)
                np.save(os.path.join(top, name + ".truth.npy"), truth)
                mixtures.append(dict({"file": name + ".wav", "truth": name + ".truth.npy"}, **entry))
                seconds += len(mix) / RATE
    write_text(manifest_path, json.dumps({"rate": RATE, "frame": real_mix.FRAME, "seed": seed,
                                          "mixtures": mixtures}, indent=1) + "\n")
    print("  gate_real_test: %d mixtures, %.1f minutes" % (len(mixtures), seconds / 60), flush=True)
    return seconds


def write_catalogue(sources, chosen, out):
    """One row per recording used: the training selection, and every test recording with clips (the test
    set's pool)."""
    used = {id(s) for role in chosen for s in chosen[role]}
    lines = ["\t".join(CATALOGUE)]
    for s in sources:
        if id(s) not in used and not (s.split == "test" and s.clips):
            continue
        sec, r, p = s.stats
        lines.append("\t".join([s.catalogue_path, s.package, s.version, s.row.licence, s.role, s.split, s.group,
                                "%.2f" % sec, str(s.rate), "%.2f" % r, "%.2f" % p]))
    write_text(os.path.join(out, "catalogue.tsv"), "\n".join(lines) + "\n")
    return len(lines) - 1


def parse_hours(text):
    hours = dict(DEFAULT_HOURS)
    for part in filter(None, text.split(",")):
        role, _, value = part.partition("=")
        if role not in hours:
            raise SystemExit("--hours: %r is not one of %s" % (role, ", ".join(hours)))
        hours[role] = float(value)
    return hours


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hours", default="", help="training hours per role, e.g. speech=4.5,music=4.5,noise=1")
    ap.add_argument("--synthetic-minutes", type=float, default=20.0,
                    help="synthetic noise (recipes/noise.py) added to gate_real/noise/synthetic")
    ap.add_argument("--per-condition", type=int, default=3, help="test mixtures per SNR and level")
    ap.add_argument("--only", choices=["train", "test"])
    ap.add_argument("--skip", default="", help="comma-separated packages to leave out of this run")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--table", default=real_table.TABLE)
    args = ap.parse_args()
    t0 = time.time()
    out = os.path.abspath(args.out)
    try:
        rows = real_table.read(args.table)
        sources = gather(rows, out, args.jobs, set(filter(None, args.skip.split(","))))
        hours = parse_hours(args.hours)
        chosen = {role: select_train(sources, role, hours[role], args.seed) for role in real_table.ROLES}
        if args.only in (None, "train"):
            write_train(chosen, out, args.seed, args.synthetic_minutes)
        if args.only in (None, "test"):
            write_test(sources, out, args.seed, args.per_condition)
        n = write_catalogue(sources, chosen, out)
    except RecipeError as e:
        print("real_data.py: %s" % e, file=sys.stderr)
        return 1
    print("catalogue: %d recordings; done in %.0f s" % (n, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
