#!/usr/bin/python3
"""Real recorded music with a third party's style label, from Debian packages, for the genre model (issue 20):

    models/recipes/real_music.py [OUT_DIR] [--packages DIR] [--clips N] [--table FILE] [--skip P1,P2]

The packages, their split and which of their files are music come from real_music_packages.tsv (the format of
real_packages.tsv, role "music"; the same refusal of reserved packages). Each package is fetched like the gate's
real recordings (real_fetch.py: `apt-get download`, `dpkg -x`, game archives unpacked) into --packages (default
OUT_DIR/packages). For every music file the recipe reads its own tags (GENRE, ARTIST, COMPOSER, TITLE, with
mutagen) and the package's credit files (debian/copyright, README, CREDITS, AUTHORS...: a line that names the track
and states a style), and labels it by music_rule.py. A file whose style nobody states, or whose statements
disagree, is left out: nothing is guessed from listening.

OUT_DIR (default models/data/music) gets:
  catalogue.tsv          one row per music file looked at: package, version, licence, artist, title, tag, label,
                         evidence (which tag or credit line said so, or why it is left out), split, minutes, clips
  genre_real/<label>/    training clips, from train packages only
  genre_real_test/<label>/  test clips, from test packages only
Clips are consecutive 10 s excerpts, 16 kHz mono 16-bit (the genre model's rate), named <package>__<track>_cK.wav
so one track's clips stay together, at most --clips per track (spread evenly over the track when it holds more),
from the stretch between its first and last sound. A package is on one side only, and so is an artist: the recipe
refuses an artist found in a train and a test package. Needs apt-get, dpkg, sox, opusdec, python3-mutagen.
"""

import argparse
import gzip
import os
import re
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import music_rule  # noqa: E402
import real_audio  # noqa: E402
import real_fetch  # noqa: E402
import real_table  # noqa: E402
from common import RATE, RecipeError, file_digest, write_text, write_wav  # noqa: E402

DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "data", "music")
TABLE = os.path.join(HERE, "real_music_packages.tsv")
CLIP_S = 10.0
MAX_CLIPS = 6               # per track: a ten-minute piece must not outweigh six one-minute ones
MIN_ACTIVE = 0.5            # a clip with sound in less than this share of its 10 ms frames is left out
CATALOGUE = ["file", "package", "version", "licence", "artist", "title", "tag", "label", "evidence", "split",
             "minutes", "clips"]
# credit files by name (a game's other text files, its maps, playlists and item lists, say "rock trap", "Red Rock
# Valley" or "stepfx=metal" about its sounds: not style statements)
CREDIT_NAMES = re.compile(r"^(copyright|readme|credits|authors|licen[cs]e|copying)", re.IGNORECASE)
BULLET = re.compile(r"^- \S")            # an item of a credits list ("- 106.mid (Windemere)")
HEADING = re.compile(r"^(=+|-+)\s*$")    # the underline of a heading


def read_tags(path):
    """{genre, artist, title} of an audio file (lists of strings, possibly empty), by mutagen."""
    import mutagen
    try:
        m = mutagen.File(path, easy=True)
    except Exception as e:          # mutagen raises its own errors for damaged headers
        raise RecipeError("%s: its tags cannot be read: %s" % (path, e))
    if m is None:
        raise RecipeError("%s: its tags cannot be read: not an audio format mutagen knows" % path)
    tags = {}
    for key in ("genre", "artist", "composer", "title"):
        values = m.get(key, []) if m.tags is not None else []
        tags[key] = [v.strip() for v in values if v and v.strip() and v.strip() not in ("(None)", "<Unknown>")]
    return tags


def credit_files(root):
    """[(path inside the package, text)] of the package's credit files: its copyright file and any README, CREDITS,
    AUTHORS or licence file beside its data (gzip-compressed ones too: Debian compresses its docs)."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        if "_unpacked" in d.split(os.sep) or "/locale" in d or "/po" in d:
            continue
        for f in sorted(files):
            plain = f[:-3] if f.endswith(".gz") else f
            if not CREDIT_NAMES.search(plain):
                continue
            path = os.path.join(d, f)
            try:
                if os.path.getsize(path) > 2 << 20:
                    continue
                opener = gzip.open if f.endswith(".gz") else open
                with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
                    out.append((os.path.relpath(path, root), fh.read()))
            except (OSError, EOFError):
                continue
    return out


def credit_entries(files):
    """[(path, [(line number, text)])]: each credit file cut into entries. A file that lists its items as
    unindented "- " bullets is cut at them (an entry runs to the next bullet or heading); any other file into
    paragraphs (DEP-5 stanzas are paragraphs)."""
    out = []
    for path, text in files:
        lines = text.splitlines()
        bullets = any(BULLET.match(line) for line in lines)
        cur = []
        for n, line in enumerate(lines, 1):
            ends = (BULLET.match(line) or HEADING.match(line)) if bullets else not line.strip()
            if ends and cur:
                out.append((path, cur))
                cur = []
            if line.strip() and not HEADING.match(line):
                cur.append((n, line.strip()))
        if cur:
            out.append((path, cur))
    return out


def credits_about(entries, rel):
    """The credit entries that name this track by its file name (with its extension). A folder or a stem alone
    is not enough: "data/tracks/overworld/house.png" says nothing about overworld.ogg."""
    rx = re.compile(r"(?<![A-Za-z0-9_.-])%s(?![A-Za-z0-9_-])" % re.escape(os.path.basename(rel)))
    return [(p, lines) for p, lines in entries if any(rx.search(t) for _, t in lines)]


def words_of(line):
    """A credit line without its file names and paths (house.png, data/tracks/...): a style is stated in words."""
    return re.sub(r"\S*[/.]\S*[A-Za-z]\S*", " ", line)


def label_track(tags, credits):
    """(label, tag text, evidence) of one file: its GENRE tags and the lines of the credit entries naming it that
    state a style, by music_rule."""
    statements = [("GENRE tag", g) for g in tags["genre"]]
    statements += [("%s:%d" % (p, n), words_of(t)) for p, lines in credits for n, t in lines
                   if music_rule.prose_states(words_of(t))]
    label, why = music_rule.decide([s for _, s in statements])
    tag = "; ".join(tags["genre"])
    if label is None:
        return None, tag, why + ("" if statements else " (no GENRE tag, no credit line)")
    said = [("%s: %s" % (w, " ".join(s.split()))) for w, s in statements
            if any(label in music_rule.labels_in(term) for term in music_rule.terms_of(s))]
    return label, tag, "%s -> %s (%s)" % (why, label, " | ".join(said))


def dep5_licence(copyright_path, rel):
    """The License of the last DEP-5 stanza whose Files globs match rel (that is the one that applies), else of the
    header stanza; None when the file is not machine-readable (the table's licence column is used then)."""
    try:
        text = open(copyright_path, encoding="utf-8", errors="replace").read()
    except OSError:
        return None
    best = None
    for stanza in re.split(r"\n\s*\n", text):
        files = re.search(r"^Files:\s*(.*(?:\n[ \t]+.*)*)", stanza, re.MULTILINE)
        lic = re.search(r"^License:\s*(\S.*)$", stanza, re.MULTILINE)
        if not lic:
            continue
        if files is None:
            best = best or lic.group(1).strip()
            continue
        globs = files.group(1).split()
        tail = rel.split("/")
        for g in globs:
            # DEP-5 globs are relative to the source tree: match them against every suffix of the installed path
            if any(re.fullmatch(re.escape(g).replace(r"\*", ".*").replace(r"\?", "."), "/".join(tail[i:]))
                   for i in range(len(tail))):
                best = lic.group(1).strip()
    return best


class Track:
    def __init__(self, row, root, rel, version, licence, tags, label, tag, evidence):
        self.row, self.rel, self.version, self.licence = row, rel, version, licence
        self.package, self.split = row.package, row.split
        self.path = os.path.join(root, rel)
        self.tags, self.label, self.tag, self.evidence = tags, label, tag, evidence
        self.artist = "; ".join(tags["artist"] or tags["composer"]) or "unknown (%s)" % row.package
        self.title = "; ".join(tags["title"])
        self.seconds, self.clips = 0.0, 0


def artist_key(track):
    """Who made a track, for the split: its artist or composer tag, lower case, without spaces around '&'."""
    return re.sub(r"\s+", " ", track.artist.lower()).strip()


def gather(rows, pkgdir, skip):
    tracks = []
    for package in real_table.packages(rows):
        if package in skip:
            print("  skipping %s (--skip)" % package, flush=True)
            continue
        root, version = real_fetch.fetch(package, pkgdir)
        copyright_path = real_fetch.copyright_path(root, package)
        if not os.path.exists(copyright_path):
            raise RecipeError("%s: no usr/share/doc/%s/copyright: its licence is unknown" % (package, package))
        entries = credit_entries(credit_files(root))
        found = real_table.match_files(rows, package, root)
        if not found:
            raise RecipeError("%s: no file matches its rows in %s" % (package, TABLE))
        n_labelled = 0
        for row, rel in found:
            try:
                tags = read_tags(os.path.join(root, rel))
                label, tag, evidence = label_track(tags, credits_about(entries, rel))
            except RecipeError as e:          # one odd file is reported in the catalogue, not fatal
                tags = {"genre": [], "artist": [], "composer": [], "title": []}
                label, tag, evidence = None, "", "left out: %s" % e
            tracks.append(Track(row, root, rel, version, dep5_licence(copyright_path, rel) or row.licence, tags, label, tag,
                                evidence))
            n_labelled += label is not None
        print("  %-28s %-26s %4d music files, %3d with a stated style" % (package, version, len(found), n_labelled),
              flush=True)
    real_table.check_groups([(artist_key(t), t.split, t.package) for t in tracks if t.label])
    return tracks


def dedupe(tracks):
    """One track per distinct file (games ship a piece twice); the copy in a test package is the one kept."""
    seen, out = set(), []
    for t in sorted(tracks, key=lambda t: (t.split != "test", t.package, t.rel)):
        h = file_digest(t.path)
        if h in seen:
            t.label, t.evidence = None, "left out: the same file again"
        seen.add(h)
        out.append(t)
    return out


def clip_starts(x, clip_s=CLIP_S, max_clips=MAX_CLIPS, min_active=MIN_ACTIVE):
    """Sample offsets of the clips of one track: consecutive clip_s windows between its first and last sound
    (real_audio.active_frames), at most max_clips of them spread evenly over the track, each with sound in at
    least min_active of its frames."""
    n = int(round(clip_s * RATE))
    act = real_audio.active_frames(x)
    idx = np.flatnonzero(act)
    if len(idx) == 0:
        return []
    a, b = int(idx[0]) * real_audio.FRAME, (int(idx[-1]) + 1) * real_audio.FRAME
    slots = [a + k * n for k in range((b - a) // n)]
    per = n // real_audio.FRAME
    slots = [s for s in slots if act[s // real_audio.FRAME: s // real_audio.FRAME + per].mean() >= min_active]
    if len(slots) > max_clips:
        slots = [slots[int(i)] for i in np.round(np.linspace(0, len(slots) - 1, max_clips))]
    return slots


def safe(text):
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[-80:]


def write_clips(tracks, out, max_clips):
    """Decode every labelled track and write its clips; folders are rebuilt so nothing stale remains."""
    for sub in ("genre_real", "genre_real_test"):
        if os.path.isdir(os.path.join(out, sub)):
            shutil.rmtree(os.path.join(out, sub))
    for t in tracks:
        if t.label is None:
            continue
        x, _ = real_audio.decode_in_range(t.path)
        t.seconds = len(x) / RATE
        top = os.path.join(out, "genre_real_test" if t.split == "test" else "genre_real", t.label)
        stem = "%s__%s" % (t.package, safe(os.path.splitext(os.path.basename(t.rel))[0]))
        starts = clip_starts(x, max_clips=max_clips)
        for k, s in enumerate(starts):
            write_wav(os.path.join(top, "%s_c%d.wav" % (stem, k)), x[s:s + int(round(CLIP_S * RATE))])
        t.clips = len(starts)
        print("  %-5s %-10s %2d clips  %s" % (t.split, t.label, t.clips, t.rel), flush=True)


def write_catalogue(tracks, out):
    lines = ["\t".join(CATALOGUE)]
    for t in sorted(tracks, key=lambda t: (t.package, t.rel)):
        fields = [t.rel, t.package, t.version, t.licence, t.artist, t.title, t.tag, t.label or "-", t.evidence,
                  t.split, "%.2f" % (t.seconds / 60), str(t.clips)]
        lines.append("\t".join(f.replace("\t", " ").replace("\n", " ") for f in fields))
    write_text(os.path.join(out, "catalogue.tsv"), "\n".join(lines) + "\n")


def summary(tracks):
    """Per label and split: tracks, artists, packages, minutes, clips (the table models/README.md shows)."""
    rows = {}
    for t in tracks:
        if t.label is None or not t.clips:
            continue
        r = rows.setdefault((t.label, t.split), {"tracks": 0, "artists": set(), "packages": set(), "minutes": 0.0,
                                                  "clips": 0})
        r["tracks"] += 1
        r["artists"].add(artist_key(t))
        r["packages"].add(t.package)
        r["minutes"] += t.seconds / 60
        r["clips"] += t.clips
    print("| label | split | tracks | artists | packages | minutes | clips |")
    print("|---|---|---|---|---|---|---|")
    for (label, split), r in sorted(rows.items()):
        print("| %s | %s | %d | %d | %s | %.1f | %d |" % (label, split, r["tracks"], len(r["artists"]),
                                                        ", ".join(sorted(r["packages"])), r["minutes"], r["clips"]))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--packages", help="where the .deb files and their trees are kept (default OUT_DIR/packages)")
    ap.add_argument("--clips", type=int, default=MAX_CLIPS, help="at most this many 10 s clips per track")
    ap.add_argument("--table", default=TABLE)
    ap.add_argument("--skip", default="", help="comma-separated packages to leave out of this run")
    args = ap.parse_args()
    t0 = time.time()
    out = os.path.abspath(args.out)
    try:
        rows = real_table.read(args.table)
        if any(r.role != "music" for r in rows):
            raise RecipeError("%s: every row's role must be music" % args.table)
        tracks = dedupe(gather(rows, os.path.abspath(args.packages or os.path.join(out, "packages")),
                               set(filter(None, args.skip.split(",")))))
        write_clips(tracks, out, args.clips)
        write_catalogue(tracks, out)
        summary(tracks)
    except RecipeError as e:
        print("real_music.py: %s" % e, file=sys.stderr)
        return 1
    print("catalogue: %d music files, %d labelled; done in %.0f s" % (
        len(tracks), sum(t.label is not None for t in tracks), time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
