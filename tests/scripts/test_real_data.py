#!/usr/bin/python3
"""The pure parts of the real-recording gate recipe (models/recipes/real_data.py), without network or packages:

  - the shipped table parses, gives every package one split and has test packages of every role;
  - a table with one package (or one named speaker) on both sides is refused, and so is a speaker found by a group
    pattern in a train and a test package;
  - a reserved package is refused (by the digest list, without naming one here);
  - the training selection takes only train packages, shares the hours out between packages, and is the same for
    the same seed; a recording found twice is used once, on the test side when a copy is there;
  - cutting a recording into clips: a pause longer than the role's limit splits, a short one does not, silence
    at the edges is trimmed, and digital silence gives no clip;
  - the mixture builder: truth frames exactly where a hand-built example placed its clips (a phrase of utterances
    is speech through its short gaps), content RMS over its frames at the level and noise RMS at level - SNR to
    0.1 dB, a digital-silence tail of exact zeros, and noise looped without a level dip at its seams.

Needs numpy only.
"""
import os
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
import real_audio  # noqa: E402
import real_data  # noqa: E402
import real_mix  # noqa: E402
import real_table  # noqa: E402
from common import RATE, RecipeError  # noqa: E402

HEADER = "\t".join(real_table.COLUMNS)


def refused(fn, needle):
    return checks.refused(fn, needle, RecipeError)


def table(*rows):
    return HEADER + "\n" + "\n".join("\t".join(r) for r in rows) + "\n"


def row(package, role, split, group="-", files="a/*.ogg"):
    return (package, role, split, group, "GPL-2+", files, "note")


def db(v):
    return 20 * np.log10(v)


def test_table():
    rows = real_table.read()
    split = {}
    for r in rows:
        split.setdefault(r.package, set()).add(r.split)
    check(all(len(s) == 1 for s in split.values()), "shipped table: every package has one split")
    for role in real_table.ROLES:
        for side in real_table.SPLITS:
            check(any(r.role == role and r.split == side for r in rows), "shipped table: %s has %s packages"
                  % (role, side))
    check(not any(real_table.is_reserved(r.package) for r in rows), "shipped table: no reserved package")
    check(len(real_table.RESERVED_SHA256) == 10, "ten reserved packages are known by digest")

    check(refused(lambda: real_table.parse(table(row("pkg-a", "speech", "train"), row("pkg-a", "noise", "test"))),
                  "never trained on"), "a package on both sides is refused")
    check(refused(lambda: real_table.parse(table(row("pkg-a", "speech", "train", "Ann"),
                                                 row("pkg-b", "speech", "test", "Ann"))),
                  "never trained on"), "a named speaker on both sides is refused")
    ok = real_table.parse(table(row("pkg-a", "speech", "train", "Ann"), row("pkg-b", "speech", "train", "Ann")))
    check(len(ok) == 2, "one named speaker in two train packages is fine")
    check(refused(lambda: real_table.check_groups([("Ann", "train", "pkg-a"), ("Ann", "test", "pkg-b")]),
                  "both sides"), "a speaker found by a pattern on both sides is refused")
    made_up = "made-up-music"
    reserved = frozenset([real_table.name_digest(made_up)])
    check(refused(lambda: real_table.parse(table(row(made_up, "music", "train")), reserved=reserved),
                  "reserved"), "a reserved package is refused")
    check(len(real_table.parse(table(row(made_up, "music", "train")))) == 1, "... and only a reserved one")
    check(refused(lambda: real_table.parse(table(row("pkg-a", "song", "train"))), "role"), "an unknown role is refused")
    r = real_table.parse(table(row("pkg-a", "speech", "train", "re:sounds/([a-z]+)/",
                                   "x/sounds/*.wav !*/silence/*")))[0]
    check(r.matches("x/sounds/en/a.wav") and not r.matches("x/sounds/silence/a.wav"), "file globs and exclusions")
    check(r.group_of("x/sounds/en/a.wav") == "en", "a group pattern finds the speaker")


class FakeSource:
    def __init__(self, package, role, split, seconds):
        self.package, self.role, self.split = package, role, split
        self.clips = [(0, int(seconds * RATE))]

    def clip_seconds(self):
        return self.clips[0][1] / RATE


def test_selection():
    sources = [FakeSource("big", "music", "train", 60) for _ in range(100)]
    sources += [FakeSource("small", "music", "train", 60) for _ in range(5)]
    sources += [FakeSource("held", "music", "test", 600) for _ in range(10)]
    chosen = real_data.select_train(sources, "music", 1.0, 7)
    check(all(s.split == "train" for s in chosen), "training selection takes train packages only")
    small = sum(s.clip_seconds() for s in chosen if s.package == "small")
    big = sum(s.clip_seconds() for s in chosen if s.package == "big")
    check(small == 300 and big == 3300, "the hours are shared: all of the small package (%.0f s), "
          "the rest from the big one (%.0f s)" % (small, big))
    again = real_data.select_train(sources, "music", 1.0, 7)
    check([id(s) for s in again] == [id(s) for s in chosen], "the selection is the same for a seed")


def test_unique():
    with tempfile.TemporaryDirectory() as tmp:
        def source(name, split, data):
            s = FakeSource("pkg-" + name, "noise", split, 1)
            s.path = os.path.join(tmp, name)
            with open(s.path, "wb") as f:
                f.write(data)
            return s
        a = source("a", "train", b"same")
        b = source("b", "test", b"same")
        c = source("c", "train", b"other")
        d = source("d", "train", b"other")
        kept = real_data.unique([a, b, c, d], lambda s: s.path, "byte for byte")
        check([s.package for s in kept] == ["pkg-b", "pkg-c"], "a repeated recording is used once, on the test side "
              "if a copy is there (%s)" % [s.package for s in kept])


def burst(seconds, level=0.3, f=440.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * f * t)


def test_clips():
    gap = lambda s: np.zeros(int(s * RATE))  # noqa: E731
    x = np.concatenate([gap(0.5), burst(1.0), gap(0.2), burst(1.0), gap(1.0), burst(0.5), gap(0.3)])
    clips = real_audio.clips_of(x, "speech")
    check(len(clips) == 2, "speech: a 0.2 s pause stays inside a clip, a 1 s pause splits (%d clips)" % len(clips))
    if len(clips) == 2:
        check(clips[0] == (int(0.5 * RATE), int(2.7 * RATE)), "first clip trimmed to its sound: %s" % (clips[0],))
        check(clips[1] == (int(3.7 * RATE), int(4.2 * RATE)), "second clip trimmed to its sound: %s" % (clips[1],))
    check(real_audio.clips_of(np.zeros(RATE * 3), "music") == [], "digital silence gives no clip")
    check(real_audio.clips_of(np.zeros(RATE * 3), "noise") == [], "digital silence gives no noise piece")
    long_noise = np.concatenate([gap(1.0), burst(150.0, 0.01)])
    pieces = real_audio.clips_of(long_noise, "noise")
    check(len(pieces) == 3 and pieces[0][0] == RATE and all(b - a <= 60 * RATE for a, b in pieces)
          and pieces[-1][1] == len(long_noise), "long noise: leading silence cut, pieces of at most 60 s")
    check(real_audio.pieces(0, 100, 40, 10) == [(0, 33), (33, 66), (66, 100)], "pieces are even")
    t = np.arange(2 * RATE) / RATE
    offset = 0.5 * np.exp(-t / 0.25)               # a decaying DC offset, as one game recording starts with
    tone = burst(2.0, 0.1, 1000.0)
    y = real_audio.remove_dc(offset + tone)
    mid = slice(RATE // 4, 2 * RATE - RATE // 4)
    err = db(np.sqrt(np.mean(np.square(y[mid] - tone[mid]))) / np.sqrt(np.mean(np.square(tone[mid]))))
    check(err < -30, "the high-pass removes a decaying offset and keeps a 1 kHz tone (residue %.1f dB)" % err)


def test_mixture():
    f = real_mix.FRAME
    speech = np.full(3 * f, 0.5)
    speech[::2] = -0.5                            # RMS 0.5
    music = burst(5 * f / RATE, 0.1, 1000.0)      # 5 frames
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(40 * f)
    lead, pauses, tail, zero_tail = 2, [4], 3, 2
    for level, snr in ((-60, 0), (-30, 10), (-10, 20)):
        mix, truth, places = real_mix.assemble([(speech, "speech"), (music, "music")], lead, pauses, tail,
                                               zero_tail, noise, level, snr)
        want = np.array([0, 0, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0], dtype=np.int8)
        check(truth.dtype == np.int8 and truth.tolist() == want.tolist(), "truth frames where the clips are (%d dBFS)"
              % level)
        check(places == [(2, 5), (9, 14)], "clip places %s" % (places,))
        check(len(mix) == len(want) * f and mix.dtype == np.float32, "mixture length and type")
        # the content is known exactly: rebuild it by hand and subtract
        content = np.zeros(len(mix))
        a = 10 ** (level / 20)
        content[2 * f:5 * f] = speech / 0.5 * a
        content[9 * f:14 * f] = music / np.sqrt(np.mean(music ** 2)) * a
        on = np.repeat(want > 0, f)
        bed = mix.astype(np.float64) - content
        live = slice(0, (len(want) - zero_tail) * f)
        n_db = db(np.sqrt(np.mean(np.square(bed[live]))))
        c_only = db(np.sqrt(np.mean(np.square(content[on]))))
        check(abs(c_only - level) < 0.1, "content RMS over its frames %.2f dBFS, level %d" % (c_only, level))
        check(abs(n_db - (level - snr)) < 0.1, "noise RMS %.2f dBFS = level - SNR %d" % (n_db, level - snr))
        check(abs((c_only - n_db) - snr) < 0.1, "SNR %.2f dB, asked %d" % (c_only - n_db, snr))
        check(np.all(mix[(len(want) - zero_tail) * f:] == 0), "the digital-silence tail is exact zeros")
        check(np.corrcoef(bed[live], noise[:live.stop])[0, 1] > 0.999999, "the bed is the noise, scaled")
    f = real_mix.FRAME
    phrase = real_mix.join([np.ones(2 * f), np.ones(f)], [3])
    check(phrase.tolist() == [1.0] * (2 * f) + [0.0] * (3 * f) + [1.0] * f, "utterances joined by gaps of silence")
    _, truth, places = real_mix.assemble([(phrase, "speech")], 1, [], 1, 0, noise, -20, 10)
    check(truth.tolist() == [0, 1, 1, 1, 1, 1, 1, 0] and places == [(1, 7)],
          "a phrase is speech through its short gaps")
    try:
        real_mix.assemble([(speech[:100], "speech")], 1, [], 1, 0, noise, -20, 10)
        check(False, "a clip that is not whole frames is refused")
    except ValueError:
        check(True, "a clip that is not whole frames is refused")
    short = np.random.default_rng(5).standard_normal(RATE)
    looped = real_mix.loop_to(short, 10 * RATE, RATE // 2)
    head = RATE // 2 - real_mix.XFADE     # the start of the loop, before the first seam's crossfade
    check(len(looped) == 10 * RATE and np.array_equal(looped[:head], short[RATE // 2:RATE // 2 + head]),
          "a loop starts where asked")
    local = [db(np.sqrt(np.mean(np.square(looped[i:i + 800])))) for i in range(0, len(looped) - 800, 400)]
    check(max(abs(v) for v in local) < 1.5, "looping a noise keeps its level across seams (worst 50 ms: %.2f dB)"
          % max(abs(v) for v in local))


def main():
    test_table()
    test_selection()
    test_unique()
    test_clips()
    test_mixture()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
