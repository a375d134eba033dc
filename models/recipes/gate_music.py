"""Music for the gate's content class, chosen for what a gate finds hard: a quiet solo
line, pads that only swell, plucked and struck notes whose decaying tails must still
count as content, bare percussion, and now and then a full-band excerpt."""

from arrange import (CABASA, CONGA_HI, CONGA_HI_MUTE, CONGA_LO, HAT, KICK, RIDE, RIM, SHAKER, SNARE,
                     TAMB, Piece, pick, scale_keys, voice)
from phrases import CELLS_LONG, CELLS_STRAIGHT, melody
from styles import STYLES

SOLO = [40, 41, 42, 73, 71, 68, 70, 56, 57, 60, 65, 66, 52, 53, 54, 22, 21, 19, 16, 74, 75, 78, 79, 109, 110,
        111, 64, 69, 72, 85]
PADS = [88, 89, 90, 91, 92, 94, 95, 48, 49, 50, 51, 52, 53, 19, 16, 61]
# plucked and struck, with how long a note rings (seconds) before it is too faint to matter
PLUCKED = {0: 3.0, 1: 2.5, 2: 2.5, 4: 2.5, 5: 2.0, 8: 1.5, 9: 2.0, 10: 1.5, 11: 2.5, 12: 0.8, 13: 0.5, 14: 3.0,
           15: 1.5, 24: 2.0, 25: 2.5, 26: 2.0, 27: 2.0, 45: 0.6, 46: 2.5, 47: 1.2, 104: 2.0, 105: 1.2, 106: 1.0,
           107: 1.5, 108: 1.0, 112: 2.0, 114: 1.0}


def _key_scale(rng):
    return int(rng.integers(12)), pick(rng, ["major", "minor", "dorian", "major_pent", "minor_pent"])


def solo(rng, seconds):
    """One instrument, legato, with swells and no rests longer than a breath."""
    P = Piece(rng, rng.uniform(60, 110), humanize=0.01)
    key, scale = _key_scale(rng)
    prog = int(pick(rng, SOLO))
    lo = 48 if prog in (42, 57, 70, 32) else 58
    part = P.part("solo", prog, int(rng.integers(60, 120)))
    bars = P.bars_for(seconds) + 1
    last = None
    for ph in range(0, bars, 2):
        last = melody(part, rng, lambda t: (key, "maj"), key, scale, ph * 4, 8, lo, lo + 24,
                      float(rng.uniform(35, 100)), CELLS_LONG + CELLS_STRAIGHT, rest_prob=0.0, legato=1.0,
                      prev=last)
        part.ramp(ph * 4, ph * 4 + 4, 11, rng.uniform(50, 127), rng.uniform(50, 127), steps=8)
        part.ramp(ph * 4 + 4, ph * 4 + 8, 11, rng.uniform(50, 127), rng.uniform(50, 127), steps=8)
    return P


def pad(rng, seconds):
    """Sustained chords that overlap, slow swells; sometimes only one held chord."""
    P = Piece(rng, rng.uniform(50, 90), humanize=0.02)
    key = int(rng.integers(12))
    part = P.part("pad", int(pick(rng, PADS)), int(rng.integers(60, 120)), reverb=int(rng.integers(40, 110)))
    chords = [(0, "maj"), (5, "maj"), (9, "min"), (7, "maj"), (2, "min"), (0, "sus2"), (5, "maj7"), (9, "m7")]
    bars = P.bars_for(seconds) + 1
    prev = None
    held = rng.random() < 0.25
    b = 0
    while b < bars:
        n = int(pick(rng, [1, 2, 2, 4])) if not held else bars
        r, q = pick(rng, chords)
        prev = voice((key + r) % 12, q, int(rng.integers(52, 68)), prev)
        part.chord(b * 4, n * 4 + 0.5, prev, rng.uniform(35, 100))
        part.ramp(b * 4, b * 4 + n * 4, 11, rng.uniform(40, 127), rng.uniform(40, 127), steps=12)
        b += n
    return P


def pluck(rng, seconds):
    """Single notes or small chords that ring out; the next one always comes before
    the last has died away, so each excerpt is content from end to end."""
    prog = int(pick(rng, list(PLUCKED)))
    ring = PLUCKED[prog]
    P = Piece(rng, 60.0, humanize=0.0)      # at 60 bpm a beat is a second
    key, scale = _key_scale(rng)
    part = P.part("pluck", prog, int(rng.integers(60, 120)), reverb=int(rng.integers(0, 90)))
    keys = scale_keys(key, scale, 48 if prog not in (47,) else 40, 84 if prog not in (47,) else 55)
    t = 0.0
    while t < seconds + 1:
        k = int(pick(rng, keys))
        notes = [k] if rng.random() < 0.7 else sorted({k, k + 4 if k + 4 in keys else k + 3, k + 7})
        # held down for its whole ring, sometimes released early so only the release tail rings
        dur = ring * 2 if rng.random() < 0.7 else rng.uniform(0.1, 0.5)
        part.chord(t, dur, notes, rng.uniform(25, 110), strum=0.02 if len(notes) > 1 else 0)
        gap = rng.uniform(0.25, max(0.3, ring * (0.9 if dur > 1 else 0.5)))
        t += gap
    return P


def percussion(rng, seconds):
    """Drums or hand percussion alone: a band's kit, or shaker and congas, quiet or loud."""
    P = Piece(rng, rng.uniform(70, 140), swing=rng.uniform(0, 0.6), humanize=0.01)
    dr = P.drums(kit=int(pick(rng, [0, 8, 16, 24, 25, 32, 40])), volume=int(rng.integers(60, 120)))
    kind = pick(rng, ["kit", "hand", "shaker"])
    bars = P.bars_for(seconds) + 1
    for b in range(bars):
        t0 = b * 4
        if kind == "kit":
            P.hits(dr, t0, "x.......x.x.....", KICK, 100)
            P.hits(dr, t0, "....x.......x...", SNARE, 95)
            P.hits(dr, t0, "x.x.x.x.x.x.x.x.", pick(rng, [HAT, RIDE]), 75)
        elif kind == "hand":
            P.hits(dr, t0, "x..x..x.x..x..x.", CONGA_LO, 80)
            P.hits(dr, t0, "..x...x...x...xx", CONGA_HI_MUTE, 70)
            P.hits(dr, t0, ".x...x.....x.x..", CONGA_HI, 75)
            P.hits(dr, t0, "xxxxxxxxxxxxxxxx", pick(rng, [SHAKER, CABASA]), 45)
        else:
            P.hits(dr, t0, "XxxxXxxxXxxxXxxx", pick(rng, [SHAKER, CABASA, TAMB]), 60)
            if rng.random() < 0.5:
                P.hits(dr, t0, "x.....x.....x...", RIM, 60)
    return P


def band(rng, seconds):
    style = pick(rng, sorted(STYLES))
    return STYLES[style](rng, seconds)


KINDS = {"solo": solo, "pad": pad, "pluck": pluck, "perc": percussion, "band": band}
# how often each kind is drawn for the gate's music content
WEIGHTS = {"solo": 0.25, "pad": 0.2, "pluck": 0.25, "perc": 0.1, "band": 0.2}
