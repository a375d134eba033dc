#!/usr/bin/python3
"""The pure parts of the real-music recipe (models/recipes/real_music.py, music_rule.py), without packages:

  - the tag-to-label rule on hand-made tag sets: style terms map to their label, a use ("Soundtrack", "Game") or an
    unmapped style ("Ambient", "Folk") gives none, a specific style wins over its family ("Thrash Metal; Rock"),
    disagreement is left out ("Blues Rock");
  - tags read back from an Ogg Vorbis file sox wrote with comments (a damaged file is refused by name);
  - a file's label from its GENRE tags and the credit lines naming it, with the evidence; a credit line that only
    holds a path mentioning a style word ("tracks/overworld/house.png") is no statement;
  - the reserved-package refusal: the download refuses a reserved name before running apt-get, and the table parser
    refuses it (by digest, without naming one here);
  - the split never mixes: the shipped table gives every package one side and holds no reserved package; an artist
    in a train and a test package is refused; a file found twice is kept once, on the test side; written clips of a
    train package land in genre_real/ only and a test package's in genre_real_test/ only;
  - clips: consecutive 10 s windows from the first sound, at most N per track spread evenly, silent ones dropped;
  - the DEP-5 licence of a file is the last matching stanza's.
Needs numpy, sox and python3-mutagen (models/recipes/PACKAGES).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
SRC = os.environ.get("STRIDE_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check, finish  # noqa: E402
sys.path.insert(0, os.path.join(SRC, "models", "recipes"))
sys.path.insert(1, os.path.join(SRC, "models"))
import music_rule  # noqa: E402
import real_fetch  # noqa: E402
import real_music  # noqa: E402
import real_table  # noqa: E402
from common import RATE, RecipeError, write_wav  # noqa: E402



def refused(fn, needle):
    return checks.refused(fn, needle, RecipeError)


def test_rule():
    cases = [
        (["Orchestral"], "classical"), (["Soundtrack; Classical"], "classical"), (["Soundtrack"], None),
        (["Electronica"], "electronic"), (["Techno"], "electronic"), (["Trance"], "electronic"),
        (["Ambient electronic"], "electronic"), (["House"], "electronic"), (["dnb"], "electronic"),
        (["Drum & Bass"], "electronic"), (["Dubstep"], "electronic"), (["Chiptune"], "electronic"),
        (["Metal"], "metal"), (["Heavy Metal"], "metal"), (["Trash Metal"], "metal"),
        (["Thrash Metal; Rock"], "metal"), (["Symphonic Metal"], "metal"), (["Rock"], "rock"),
        (["Hard Rock"], "rock"), (["Jazz"], "jazz"), (["Big Band"], "jazz"), (["Blues"], "blues"),
        (["Reggae"], "reggae"), (["Rocksteady"], "reggae"), (["Bossa Nova"], "bossa"), (["Bluegrass"], "country"),
        (["Country"], "country"), (["Game"], None), (["Ambient"], None), (["folk"], None), (["Psychedelic"], None),
        (["Sound FX"], None), ([""], None), ([], None), (["Blues Rock"], None), (["Electronic", "Rock"], None),
        (["Soundtrack", "Classical"], "classical"), (["Metallic"], None), (["Rocket"], None),
    ]
    for tags, want in cases:
        got, why = music_rule.decide(tags)
        check(got == want, "rule: %r -> %s (got %s: %s)" % (tags, want, got, why))
    check(music_rule.decide(["Blues Rock"])[1].startswith("ambiguous"), "a disagreement says it is ambiguous")
    for line, want in [("recorded in my house", False), ("a house track", True), ("rock texture", False),
                       ("other electronic medium", False), ("Metal sounds:", False), ("hard rock song", True),
                       ("Ensemble: Fulda Symphonic Orchestra", True), ("Violin Concerto", True), ("a waltz", False)]:
        check(music_rule.prose_states(line) == want, "credit prose %r states a style: %s" % (line, want))
    check(set(music_rule.TERMS) == set(music_rule.LABELS), "every label of the model has terms")


def tags(genre=(), artist=(), title=()):
    return {"genre": list(genre), "artist": list(artist), "composer": [], "title": list(title)}


def test_label_track():
    label, tag, ev = real_music.label_track(tags(["Trash Metal"], ["MiddleFinger"]), [])
    check(label == "metal" and tag == "Trash Metal" and "GENRE tag: Trash Metal" in ev,
          "a GENRE tag labels the file and is its evidence (%s)" % ev)
    copyright = ("Files: data/tracks/overworld/house.png\nLicense: GPL-2+\n\n"
                 "Files: music/overworld.ogg\nComment: a techno piece by Someone\nLicense: CC0\n\n"
                 "Files: music/desert.ogg\nComment: a rock song\nLicense: CC0\n")
    credits = ("Music\n=====\n\n- 106.mid (Windemere)\n  106.ogg\n\n  Concerto by Mendelssohn\n"
               "  Ensemble: Fulda Symphonic Orchestra\n\n- 7.mid (Darklands)\n  Composed by someone\n")
    entries = real_music.credit_entries([("usr/share/doc/x/copyright", copyright), ("README.gz", credits)])
    about = real_music.credits_about(entries, "music/overworld.ogg")
    check([lines[0][0] for _, lines in about] == [4], "a DEP-5 stanza naming the track's file is its entry (%s)"
          % about)
    label, _, ev = real_music.label_track(tags(), about)
    check(label == "electronic" and "usr/share/doc/x/copyright:5: Comment: a techno piece" in ev,
          "a credit line labels the file, quoted with its place (%s)" % ev)
    about = real_music.credits_about(entries, "Sound/106.ogg")
    label, _, ev = real_music.label_track(tags(), about)
    check(label == "classical" and "README.gz:8: Ensemble: Fulda Symphonic Orchestra" in ev,
          "a bullet entry of a credits list runs to the next bullet (%s)" % ev)
    check(real_music.credits_about(entries, "Sound/7.ogg") == [] and
          real_music.credits_about(entries, "Sound/6.ogg") == [], "only entries naming the file itself count")
    path_only = real_music.credits_about(real_music.credit_entries([("c", "data/tracks/overworld/house.png\n"
                                                                          "overworld.ogg\n")]), "m/overworld.ogg")
    label, _, ev = real_music.label_track(tags(), path_only)
    check(label is None, "a path holding a style word is no statement (%s)" % ev)
    label, _, ev = real_music.label_track(tags(["Rock"]), about)
    check(label is None and "ambiguous" in ev, "a tag and a credit line that disagree: left out (%s)" % ev)
    label, _, ev = real_music.label_track(tags(["Game"]), [])
    check(label is None and "no style term" in ev, "no stated style: left out (%s)" % ev)


def test_read_tags():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tagged.ogg")
        subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "--comment", "GENRE=Heavy Metal; Rock",
                        "--add-comment", "ARTIST=Some One", "--add-comment", "TITLE=Riffs", path,
                        "synth", "1", "sine", "440"], check=True)
        got = real_music.read_tags(path)
        check(got == tags(["Heavy Metal; Rock"], ["Some One"], ["Riffs"]), "Vorbis comments read back (%s)" % got)
        check(real_music.label_track(got, [])[0] == "metal", "... and labelled metal")
        bad = os.path.join(tmp, "bad.ogg")
        with open(bad, "wb") as f:
            f.write(b"OggS" + b"\0" * 40)
        check(refused(lambda: real_music.read_tags(bad), "bad.ogg"), "a damaged file is named, not a crash")


def test_reserved():
    made_up = "made-up-music-data"
    saved = real_table.RESERVED_SHA256
    real_table.RESERVED_SHA256 = frozenset([real_table.name_digest(made_up)])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            check(refused(lambda: real_fetch.download(made_up, tmp), "reserved") and not os.listdir(tmp),
                  "the download refuses a reserved package before fetching anything")
    finally:
        real_table.RESERVED_SHA256 = saved
    header = "\t".join(real_table.COLUMNS)
    text = header + "\n" + "\t".join([made_up, "music", "test", "-", "GPL-2+", "a/*.ogg", "n"]) + "\n"
    check(refused(lambda: real_table.parse(text, reserved=frozenset([real_table.name_digest(made_up)])),
                  "reserved"), "the music table refuses a reserved package")


class Row:
    def __init__(self, package, split):
        self.package, self.split = package, split


def track(tmp, package, split, name, artist, label="rock", content=None):
    path = os.path.join(tmp, package, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if content is None:
        t = np.arange(int(25 * RATE)) / RATE
        write_wav(path, 0.3 * np.sin(2 * np.pi * (200 + len(name)) * t))
    else:
        with open(path, "wb") as f:
            f.write(content)
    return real_music.Track(Row(package, split), os.path.join(tmp, package), name, "1.0", "GPL-2+",
                            tags([label], [artist]), label, label, "test")


def test_split():
    rows = real_table.read(real_music.TABLE)
    check(rows and all(r.role == "music" for r in rows), "shipped music table: every row is music")
    check(not any(real_table.is_reserved(r.package) for r in rows), "shipped music table: no reserved package")
    sides = {}
    for r in rows:
        sides.setdefault(r.package, set()).add(r.split)
    check(all(len(s) == 1 for s in sides.values()) and {"train", "test"} <= {r.split for r in rows},
          "shipped music table: train and test packages, each package on one side")
    with tempfile.TemporaryDirectory() as tmp:
        a = track(tmp, "pkg-train", "train", "one.wav", "Ann")
        b = track(tmp, "pkg-test", "test", "two.wav", "ann ")
        check(refused(lambda: real_table.check_groups([(real_music.artist_key(t), t.split, t.package)
                                                       for t in (a, b)]), "both sides"),
              "one artist in a train and a test package is refused")
        c = track(tmp, "pkg-test", "test", "three.wav", "Bob", "metal")
        same = open(c.path, "rb").read()
        d = track(tmp, "pkg-train", "train", "copy.wav", "Bob", "metal", content=same)
        kept = real_music.dedupe([d, c])
        check(c.label == "metal" and d.label is None and len(kept) == 2,
              "a file found twice is used once, the test package's copy")
        out = os.path.join(tmp, "out")
        real_music.write_clips([a, c, d], out, 6)
        train = sorted(os.listdir(os.path.join(out, "genre_real", "rock")))
        test = sorted(os.listdir(os.path.join(out, "genre_real_test", "metal")))
        check(train == ["pkg-train__one_c0.wav", "pkg-train__one_c1.wav"], "train clips, named by track (%s)" % train)
        check(test == ["pkg-test__three_c0.wav", "pkg-test__three_c1.wav"], "test clips (%s)" % test)
        check(not os.path.exists(os.path.join(out, "genre_real_test", "rock"))
              and not os.path.exists(os.path.join(out, "genre_real", "metal")),
              "a train package's clips are never in the test folder, nor the reverse")
        real_music.write_catalogue([a, c, d], out)
        lines = open(os.path.join(out, "catalogue.tsv")).read().splitlines()
        check(lines[0].split("\t") == real_music.CATALOGUE and len(lines) == 4, "the catalogue has a row per file")


def test_clips():
    rng = np.random.default_rng(1)
    x = np.concatenate([np.zeros(2 * RATE), 0.1 * rng.standard_normal(35 * RATE), np.zeros(3 * RATE)])
    starts = real_music.clip_starts(x)
    check(starts == [2 * RATE, 12 * RATE, 22 * RATE], "35 s of sound after 2 s of silence: clips at 2, 12, 22 s (%s)"
          % [s / RATE for s in starts])
    x = 0.1 * rng.standard_normal(100 * RATE)
    starts = real_music.clip_starts(x, max_clips=6)
    check(starts == [k * 10 * RATE for k in (0, 2, 4, 5, 7, 9)], "100 s, at most 6: slots 0 2 4 5 7 9 (%s)"
          % [s // RATE for s in starts])
    x = 0.1 * rng.standard_normal(40 * RATE)
    x[10 * RATE:20 * RATE] = 0.0
    x[15 * RATE] = 0.1            # one click inside the silence keeps the stretch between first and last sound
    starts = real_music.clip_starts(x)
    check(starts == [0, 20 * RATE, 30 * RATE], "a silent 10 s stretch gives no clip (%s)" % [s / RATE for s in starts])
    check(real_music.clip_starts(np.zeros(30 * RATE)) == [], "digital silence gives no clip")


def test_licence():
    text = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
            "Files: *\nCopyright: someone\nLicense: GPL-2+\n\n"
            "Files: data/music/*\nCopyright: a composer\nLicense: CC-BY-SA-3.0\n\n"
            "Files: data/music/special.ogg\nCopyright: another\nLicense: CC0\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "copyright")
        with open(path, "w") as f:
            f.write(text)
        check(real_music.dep5_licence(path, "usr/share/games/x/data/music/a.ogg") == "CC-BY-SA-3.0",
              "DEP-5: the music stanza applies to a music file")
        check(real_music.dep5_licence(path, "usr/share/games/x/data/music/special.ogg") == "CC0",
              "DEP-5: the last matching stanza wins")
        check(real_music.dep5_licence(path, "usr/share/games/x/data/sfx/b.ogg") == "GPL-2+", "DEP-5: Files: *")
        with open(path, "w") as f:
            f.write("This package was debianized by someone.\nIt is free software.\n")
        check(real_music.dep5_licence(path, "a.ogg") is None, "a copyright file that is not DEP-5: no answer")


def main():
    test_rule()
    test_label_track()
    test_read_tags()
    test_reserved()
    test_split()
    test_clips()
    test_licence()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
