"""Genre generators. Each style is a function (rng, seconds) -> Piece that lasts at
least `seconds`, built from the style's own palette: tempo range, feel, drum
patterns, instruments, harmony and form. Within a style every choice is drawn from
rng, so two seeds give two different pieces of the same style."""

from arrange import (CABASA, CHINA, CLAP, CLAVES, CONGA_HI, CONGA_HI_MUTE, CONGA_LO, CRASH, CRASH2, HAT,
                     KICK, OPEN_HAT, PEDAL_HAT, RIDE, RIDE_BELL, RIM, SHAKER, SNARE, TAMB, TOMS, Piece,
                     nearest, pick, voice)
from phrases import CELLS_BUSY, CELLS_LONG, CELLS_STRAIGHT, CELLS_SYNCOPATED, bass_key, melody, walking_bass


def _sections(rng, bars, kinds, lengths=(4, 8)):
    """Cut `bars` into named sections that alternate through `kinds`."""
    out = []
    i = int(rng.integers(len(kinds)))
    total = 0
    while total < bars:
        n = int(pick(rng, list(lengths)))
        out.append((kinds[i % len(kinds)], total, n))
        total += n
        i += 1
    return out


def _fill(P, dr, bar_beat, start_beat, vel, rng):
    """A fill over the end of a bar: tom or snare sixteenths, toms walking down."""
    kind = rng.integers(3)
    steps = int(round((4 - start_beat) * 4))
    for s in range(steps):
        t = bar_beat + start_beat + s * 0.25
        if kind == 0:
            key = SNARE
        elif kind == 1:
            key = TOMS[min(len(TOMS) - 1, s * len(TOMS) // max(1, steps))]
        else:
            key = SNARE if s % 2 == 0 else TOMS[min(5, s // 2)]
        dr.note(t, 0.1, key, vel * (0.8 + 0.3 * s / max(1, steps)))


# ---------------------------------------------------------------- rock

def rock(rng, seconds):
    P = Piece(rng, rng.uniform(105, 145), humanize=0.008)
    root = int(pick(rng, [4, 9, 2, 7, 0, 11, 6]))
    minor = rng.random() < 0.4
    progs = ([[0, 8, 10, 0], [0, 10, 8, 10], [0, 5, 8, 7], [0, 3, 10, 5], [0, 8, 3, 10]] if minor else
             [[0, 10, 5, 0], [0, 7, 9, 5], [0, 5, 7, 5], [9, 5, 0, 7], [0, 3, 5, 0], [0, 5, 0, 7]])
    verse, chorus = pick(rng, progs), pick(rng, progs)
    gtr = P.part("guitar", int(pick(rng, [30, 30, 29])), 96, pan=34)
    gtr2 = P.part("guitar2", int(pick(rng, [30, 29])), 88, pan=94) if rng.random() < 0.6 else None
    bass = P.part("bass", int(pick(rng, [33, 34, 34])), 104, pan=64)
    lead = P.part("lead", int(pick(rng, [29, 30, 18, 81, 29])), 92) if rng.random() < 0.55 else None
    dr = P.drums(kit=int(pick(rng, [0, 0, 16, 8])))
    kicks = ["x.......x.......", "x.......x.x.....", "x......xx.......", "x.....x.x.......", "x.x.....x.......",
             "x.......x.....x."]
    k_verse, k_chorus = pick(rng, kicks), pick(rng, kicks)
    snare = pick(rng, ["....X.......X...", "....X.......X...", "....X.......X..o", "....X..o....X..."])
    hat_v = pick(rng, ["x.x.x.x.x.x.x.x.", "X.x.X.x.X.x.X.x.", "xxxxxxxxxxxxxxxx"])
    v_rhythms = ["xxxxxxxx", "x.xxx.xx", "xx.xxx.x", "x.x.xxxx"]
    c_rhythms = ["x...x...", "x..x..x.", "x.......", "x..x..xx", "x.x.x.x."]
    vr, cr = pick(rng, v_rhythms), pick(rng, c_rhythms)
    bars = P.bars_for(seconds)
    secs = _sections(rng, bars, ["verse", "chorus"])
    prev_lead = None
    for name, b0, nb in secs:
        prog = verse if name == "verse" else chorus
        P.dynamics = rng.uniform(0.8, 0.92) if name == "verse" else rng.uniform(0.95, 1.08)
        for b in range(b0, min(b0 + nb, bars + 1)):
            t0 = b * 4
            deg = prog[(b - b0) % len(prog)]
            pc = (root + deg) % 12
            rk = 40 + (pc - 4) % 12
            power = [rk, rk + 7] if name == "verse" else [rk, rk + 7, rk + 12]
            pat = vr if name == "verse" else cr
            hits = [i for i, c in enumerate(pat) if c == "x"]
            for j, i in enumerate(hits):
                nxt = hits[j + 1] if j + 1 < len(hits) else 8
                dur = 0.3 if name == "verse" else (nxt - i) * 0.5 * 0.95
                gtr.chord(t0 + i * 0.5, dur, power, 92 if name == "verse" else 104)
                if gtr2:
                    gtr2.chord(t0 + i * 0.5, dur, [k + 12 for k in power[:2]], 86)
            bk = 28 + (pc - 4) % 12
            for i in range(8):
                k = bk + (12 if (name == "chorus" and i % 4 == 3 and rng.random() < 0.3) else 0)
                bass.note(t0 + i * 0.5, 0.42, k, 96)
            if lead and name == "chorus":
                prev_lead = melody(lead, rng, lambda t, _pc=pc: (_pc, "maj" if not minor else "min"), root,
                                   "minor_pent" if minor else "major_pent", t0, 4, 62, 84, 100, CELLS_STRAIGHT,
                                   prev=prev_lead)
            last_bar = b == b0 + nb - 1
            P.hits(dr, t0, k_verse if name == "verse" else k_chorus, KICK, 110)
            if last_bar and rng.random() < 0.8:
                P.hits(dr, t0, snare[:8], SNARE, 105)
                _fill(P, dr, t0, pick(rng, [2, 3, 3]), 100, rng)
            else:
                P.hits(dr, t0, snare, SNARE, 105)
                if name == "verse":
                    P.hits(dr, t0, hat_v, HAT, 80)
                else:
                    P.hits(dr, t0, "x.x.x.x.x.x.x.x.", pick(rng, [RIDE, OPEN_HAT, HAT]), 88)
            if b == b0:
                dr.note(t0, 1, CRASH if rng.random() < 0.7 else CRASH2, 110)
    return P


# ---------------------------------------------------------------- metal

def metal(rng, seconds):
    P = Piece(rng, rng.uniform(140, 200), humanize=0.004, vel_jitter=4)
    low = int(pick(rng, [40, 38, 37, 35, 36]))           # E2, D2, C#2, B1, C2: the tuning
    scale = pick(rng, [[0, 1, 3, 5, 6, 7, 8, 10], [0, 2, 3, 5, 6, 7, 8, 10], [0, 1, 4, 5, 7, 8, 10]])
    g1 = P.part("guitar_l", 30, 100, pan=20, reverb=25, chorus=0)
    g2 = P.part("guitar_r", 30, 100, pan=108, reverb=25, chorus=0)
    bass = P.part("bass", int(pick(rng, [34, 33, 38])), 105, pan=64)
    lead = P.part("lead", int(pick(rng, [30, 29, 81])), 90) if rng.random() < 0.4 else None
    dr = P.drums(kit=int(pick(rng, [16, 0, 16])), volume=115, reverb=20)

    def make_riff():
        # a two-bar riff on the sixteenth grid: palm-muted root chugs, accented power chords
        cells = ["x.xx", "xxxx", "x...", "xx.x", "x.x.", "X...", "X.xx", "xxX."]
        riff = []
        for beat in range(8):
            cell = pick(rng, cells)
            for s, c in enumerate(cell):
                if c == "x":
                    riff.append((beat + s * 0.25, 0, 0.2, 96))
                elif c == "X":
                    riff.append((beat + s * 0.25, int(pick(rng, scale[1:])), 0.7, 118))
        return riff

    riff_a, riff_b = make_riff(), make_riff()
    bars = P.bars_for(seconds)
    secs = _sections(rng, bars, ["riff", "blast", "riff", "half"], lengths=(4, 4, 8))
    kick_pat = pick(rng, ["xxxxxxxxxxxxxxxx", "x.xxx.xxx.xxx.xx", "xxxxxxxxxxxxxxxx"])
    for name, b0, nb in secs:
        riff = riff_a if name in ("riff", "blast") else riff_b
        shift = int(pick(rng, [0, 0, 1, 3, 5, -2])) if name != "riff" else 0
        for b in range(b0, min(b0 + nb, bars + 1)):
            t0 = b * 4
            half = (b - b0) % 2
            for (t, deg, dur, vel) in riff:
                if 4 * half <= t < 4 * half + 4:
                    k = low + shift + deg
                    keys = [k, k + 7] if deg else [k]
                    if deg:
                        keys.append(k + 12)
                    g1.chord(t0 + t - 4 * half, dur, keys, vel)
                    g2.chord(t0 + t - 4 * half + 0.01, dur, keys, vel - 4)
                    bass.note(t0 + t - 4 * half, dur, k - 12 if k - 12 >= 23 else k, vel)
            if lead and name == "riff":
                melody(lead, rng, lambda t: (low % 12, "min"), low % 12, "harmonic", t0, 4, 64, 88, 100,
                       CELLS_BUSY, rest_prob=0.05)
            if name == "riff":
                P.hits(dr, t0, kick_pat, KICK, 100, accent=1.1)
                P.hits(dr, t0, "....X.......X...", SNARE, 115)
                P.hits(dr, t0, "x...x...x...x...", pick(rng, [RIDE_BELL, CRASH, RIDE]), 95)
            elif name == "blast":
                P.hits(dr, t0, "x.x.x.x.x.x.x.x.", KICK, 100)
                P.hits(dr, t0, ".x.x.x.x.x.x.x.x", SNARE, 105)
                P.hits(dr, t0, "x.x.x.x.x.x.x.x.", pick(rng, [CRASH, RIDE, CHINA]), 90)
            else:   # half time: kick follows the chugs, snare on three
                for (t, deg, dur, vel) in riff:
                    if 4 * half <= t < 4 * half + 4:
                        dr.note(t0 + t - 4 * half, 0.1, KICK, 105)
                P.hits(dr, t0, "........X.......", SNARE, 120)
                P.hits(dr, t0, "x...x...x...x...", CHINA, 95)
            if b == b0:
                dr.note(t0, 1, CRASH, 120)
            if b == b0 + nb - 1 and rng.random() < 0.5:
                _fill(P, dr, t0, 3, 110, rng)
    return P


# ---------------------------------------------------------------- jazz

JAZZ_PROGS = [
    [(2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")],
    [(0, "maj7"), (9, "m7"), (2, "m7"), (7, "7")],
    [(4, "m7"), (9, "7"), (2, "m7"), (7, "7")],
    [(0, "maj7"), (0, "7"), (5, "maj7"), (10, "7")],
    [(2, "m7b5"), (7, "7b9"), (0, "m7"), (0, "m6")],
    [(0, "6"), (9, "7"), (2, "m7"), (7, "13")],
    [(2, "m9"), (7, "13"), (0, "maj9"), (1, "7")],
]
SHELLS = {"7": [4, 10, 14], "13": [4, 10, 21], "7b9": [4, 10, 13], "maj7": [4, 11, 14], "maj9": [4, 11, 14],
          "6": [4, 9, 14], "m7": [3, 10, 14], "m9": [3, 10, 14], "m6": [3, 9, 14], "m7b5": [3, 6, 10],
          "dim7": [3, 6, 9]}


def _shell(root_pc, q, center, prev):
    ivs = SHELLS.get(q, [4, 10, 14])
    cands = []
    for base in range(center - 12, center + 1):
        if base % 12 == root_pc:
            cands.append([base + i for i in ivs])
    if not cands:
        return [center]
    if prev:
        return min(cands, key=lambda c: sum(abs(a - b) for a, b in zip(c, prev)))
    return min(cands, key=lambda c: abs(sum(c) / len(c) - center))


def jazz(rng, seconds):
    bpm = rng.uniform(115, 210)
    P = Piece(rng, bpm, swing=rng.uniform(0.7, 1.0), humanize=0.012)
    key = int(rng.integers(12))
    prog_a, prog_b = pick(rng, JAZZ_PROGS), pick(rng, JAZZ_PROGS)
    two_per_bar = bpm < 150 and rng.random() < 0.5
    comp_prog = int(pick(rng, [0, 0, 4, 26, 11]))
    comp = P.part("comp", comp_prog, 84)
    bass = P.part("bass", 32, 110, pan=64)
    lead_prog = int(pick(rng, [66, 65, 56, 57, 11, 73, 26, 0, 64]))
    lead = P.part("lead", lead_prog, 96) if rng.random() < 0.85 else None
    dr = P.drums(kit=int(pick(rng, [32, 40, 0, 32])), volume=95)
    bars = P.bars_for(seconds)
    chords = []
    while len(chords) < bars * (2 if two_per_bar else 1) + 4:
        prog = prog_a if (len(chords) // 8) % 2 == 0 else prog_b
        chords += [((key + d) % 12, q) for d, q in prog]
    bpc = 2 if two_per_bar else 4
    walking_bass(bass, rng, chords[: bars * 4 // bpc + 1], 0, bpc, lo=28, hi=50, vel=92)
    prev = None
    comp_rhythms = [[(0, 1.4)], [(1.5, 0.4)], [(0, 0.4), (1.5, 0.5)], [(-0.5, 0.6)], [(1, 0.4), (2.5, 0.5)],
                    [(0.5, 0.4), (2, 0.8)], [(2.5, 0.4)], [(1.5, 0.4), (3, 0.5)]]

    def chord_at(t):
        return chords[min(len(chords) - 1, int(t // bpc))]

    last = None
    for b in range(bars + 1):
        t0 = b * 4
        # ride: ding, ding-a, ding, ding-a; hi-hat with the foot on two and four
        for beat in range(4):
            dr.note(t0 + beat, 0.3, RIDE, 78 + (10 if beat % 2 else 0))
            if beat % 2 == 1 and rng.random() < 0.9:
                dr.note(t0 + beat + 0.5, 0.2, RIDE, 64)
            if beat % 2 == 1:
                dr.note(t0 + beat, 0.1, PEDAL_HAT, 70)
            if rng.random() < 0.5:
                dr.note(t0 + beat, 0.1, KICK, 28)
            if rng.random() < 0.18:
                dr.note(t0 + beat + 0.5, 0.1, SNARE, rng.uniform(30, 62))
            if rng.random() < 0.04:
                dr.note(t0 + beat + 0.5, 0.1, KICK, 75)
        if b % 8 == 7 and rng.random() < 0.5:
            for s in range(4):
                dr.note(t0 + 3 + s / 3.0, 0.1, SNARE, 60 + 10 * s)
        for off, dur in pick(rng, comp_rhythms):
            t = t0 + off
            if t < 0:
                continue
            r, q = chord_at(t + 0.01 if off >= 0 else t + 0.6)
            prev = _shell(r, q, 62, prev)
            comp.chord(t, dur, prev, rng.uniform(55, 80))
    if lead:
        t = 0
        while t < bars * 4:
            phrase = int(pick(rng, [4, 4, 8]))
            if rng.random() < 0.8:
                last = melody(lead, rng, chord_at, key, "bebop", t + pick(rng, [0, 0.5, 1]), phrase - 1,
                              58 if lead_prog in (57, 26) else 62, 80 if lead_prog in (57, 26) else 86, 92,
                              CELLS_BUSY if rng.random() < 0.6 else CELLS_STRAIGHT, rest_prob=0.1, prev=last)
            t += phrase
    return P


# ---------------------------------------------------------------- blues

def blues(rng, seconds):
    P = Piece(rng, rng.uniform(72, 122), swing=1.0, humanize=0.01)
    key = int(pick(rng, [4, 9, 7, 0, 10, 2]))
    minor = rng.random() < 0.2
    forms = [[0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7], [0, 5, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7],
             [0, 0, 0, 0, 5, 5, 0, 0, 7, 7, 0, 0], [0, 5, 0, 0, 5, 5, 0, 0, 7, 5, 0, 0]]
    form = pick(rng, forms)
    q = "m7" if minor else pick(rng, ["7", "7", "9"])
    rhythm_gtr = P.part("rhythm", int(pick(rng, [29, 27, 29, 26])), 90, pan=40)
    bass = P.part("bass", int(pick(rng, [33, 32, 34])), 104, pan=64)
    lead_prog = int(pick(rng, [22, 29, 16, 17, 66, 0, 29, 22]))
    lead = P.part("lead", lead_prog, 98, pan=88)
    piano = P.part("piano", 0, 76) if rng.random() < 0.4 and lead_prog != 0 else None
    dr = P.drums(kit=int(pick(rng, [0, 8, 32])), volume=100)
    hat_key = pick(rng, [HAT, RIDE, HAT])
    bass_pat = pick(rng, [[0, 4, 7, 9, 10, 9, 7, 4], [0, 0, 7, 7, 9, 9, 7, 7], [0, 4, 7, 9, 12, 9, 7, 4]])
    bars = P.bars_for(seconds)
    last = None
    for b in range(bars + 1):
        t0 = b * 4
        deg = form[b % 12]
        pc = (key + deg) % 12
        bk = bass_key(pc, 28)
        rk = 40 + (pc - 4) % 12
        for i in range(8):
            iv = bass_pat[i]
            if minor and iv == 4:
                iv = 3
            bass.note(t0 + i * 0.5, 0.45, bk + iv, 96 if i % 2 == 0 else 80)
            sixth = 9 if (i // 2) % 2 else 7
            if b % 12 == 11 and i >= 4:
                sixth = 10
            rhythm_gtr.chord(t0 + i * 0.5, 0.4, [rk, rk + sixth], 88 if i % 2 == 0 else 70)
        if piano and rng.random() < 0.8:
            ch = voice(pc, "7" if not minor else "m7", 66)
            for off in pick(rng, [[0.5, 2.5], [1.5, 3.5], [0.5, 1.5, 2.5, 3.5]]):
                piano.chord(t0 + off, 0.3, ch, 70)
        # shuffle: swung eighths on hat or ride, backbeat, kick on one and three
        P.hits(dr, t0, "x.x.x.x.x.x.x.x.", hat_key, 80)
        P.hits(dr, t0, pick(rng, ["x.......x.......", "x...x...x...x...", "x.......x.....x."]), KICK, 100)
        P.hits(dr, t0, pick(rng, ["....X.......X...", "....X.o.....X.o."]), SNARE, 100)
        if b % 12 == 11:
            for s in range(6):
                dr.note(t0 + 2 + s / 3.0, 0.1, SNARE if s % 2 == 0 else TOMS[2 + s // 2], 70 + 8 * s)
        if b % 12 == 0:
            dr.note(t0, 1, CRASH, 100)
        # call in the first two bars of each four, the answer left to the band
        if b % 4 == 0:
            last = melody(lead, rng, lambda t, _pc=pc: (_pc, q), key, "blues", t0 + pick(rng, [0, 0.5, 0.25]),
                          pick(rng, [6, 7, 8]), 60, 84, 100,
                          [[1 / 3.0, 1 / 3.0, 1 / 3.0], [0.5, 0.5], [1], [2 / 3.0, 1 / 3.0, 1], [1.5, 0.5], [2]],
                          rest_prob=0.1, prev=last)
            if lead_prog in (29, 22) and rng.random() < 0.7:
                bt = t0 + pick(rng, [1, 2, 5])
                lead.bend(bt, 0)
                lead.bend(bt + 0.15, int(pick(rng, [4096, 8191])))
                lead.bend(bt + 0.9, 0)
    return P


# ---------------------------------------------------------------- classical

MAJOR_NEXT = {0: [5, 7, 9, 2, 4], 2: [7, 7, 11, 5], 4: [9, 9, 5], 5: [7, 0, 2, 11], 7: [0, 0, 9, 5],
              9: [2, 5, 7], 11: [0, 0, 4]}
MINOR_NEXT = {0: [5, 7, 8, 2, 3], 2: [7, 7, 11], 3: [8, 5], 5: [7, 0, 2], 7: [0, 0, 8], 8: [2, 5, 7],
              10: [3, 3], 11: [0]}


def _classical_chords(rng, minor, bars):
    qual_major = {0: "maj", 2: "min", 4: "min", 5: "maj", 7: "maj", 9: "min", 11: "dim"}
    qual_minor = {0: "min", 2: "dim", 3: "maj", 5: "min", 7: "maj", 8: "maj", 10: "maj", 11: "dim"}
    nxt, qual = (MINOR_NEXT, qual_minor) if minor else (MAJOR_NEXT, qual_major)
    out = []
    deg = 0
    for b in range(bars):
        pos = b % 4
        phrase = b // 4
        if pos == 0:
            deg = 0 if phrase % 2 == 0 else int(pick(rng, nxt[deg]))
        elif pos == 2:
            deg = int(pick(rng, [5, 2])) if phrase % 2 == 0 else 7
        elif pos == 3:
            deg = 7 if phrase % 2 == 0 else 0
        else:
            deg = int(pick(rng, nxt[deg]))
        q = qual[deg]
        if deg == 7 and rng.random() < 0.4:
            q = "7"
        out.append((deg, q))
    return out


def classical(rng, seconds):
    ens = pick(rng, ["quartet", "piano", "winds", "baroque", "orchestra"])
    meter = 3 if rng.random() < 0.35 else 4
    bpm = rng.uniform(88, 120) if ens == "baroque" else rng.uniform(60, 126)
    P = Piece(rng, bpm, beats_per_bar=meter, humanize=0.015, vel_jitter=5)
    key = int(rng.integers(12))
    minor = rng.random() < 0.35
    scale = "harmonic" if minor else "major"
    bars = P.bars_for(seconds * 1.08) + 1
    prog = [((key + d) % 12, q) for d, q in _classical_chords(rng, minor, bars + 1)]
    if ens != "baroque":
        for b in range(8, bars + 1, 8):       # a ritardando into every eighth bar, a tempo after
            P.set_tempo(b * meter - meter, bpm * rng.uniform(0.85, 0.95))
            P.set_tempo(b * meter, bpm)

    def chord_at(t):
        return prog[min(len(prog) - 1, int(t // meter))]

    if ens == "piano":
        P.humanize = 0.01
        rh = P.part("right", int(pick(rng, [0, 0, 1])), 100, reverb=int(rng.integers(40, 90)))
        lh = P.part("left", int(pick(rng, [0, 0, 1])), 92, reverb=int(rng.integers(40, 90)))
        lh_style = pick(rng, ["alberti", "arpeggio", "block", "waltz" if meter == 3 else "alberti"])
        for b in range(bars):
            r, q = prog[b]
            t0 = b * meter
            ch = voice(r, q, 52)
            bk = nearest([k for k in range(36, 52) if k % 12 == r], 42)
            if lh_style == "alberti":
                seq = [ch[0], ch[-1], ch[1], ch[-1]]
                for i in range(meter * 2):
                    lh.note(t0 + i * 0.5, 0.5, seq[i % 4], 58)
            elif lh_style == "arpeggio":
                seq = [bk, bk + 7, ch[0] + 12, ch[1] + 12, ch[-1] + 12, ch[1] + 12]
                for i in range(meter * 2):
                    lh.note(t0 + i * 0.5, 1.0, seq[i % len(seq)], 56)
            elif lh_style == "waltz":
                lh.note(t0, 1, bk, 66)
                lh.chord(t0 + 1, 0.6, ch, 50)
                lh.chord(t0 + 2, 0.6, ch, 48)
            else:
                lh.chord(t0, meter * 0.98, [bk] + ch, 58)
            lh.cc(t0, 64, 127 if lh_style != "alberti" else 0)
            lh.cc(t0 + meter - 0.05, 64, 0)
        last = None
        for ph in range(0, bars, 2):
            last = melody(rh, rng, chord_at, key, scale, ph * meter, 2 * meter, 64, 88, 80,
                          CELLS_STRAIGHT if rng.random() < 0.5 else CELLS_BUSY, rest_prob=0.04, prev=last)
        return P

    if ens == "baroque":
        cont = P.part("continuo", int(pick(rng, [6, 6, 19, 0])), 88)
        bass = P.part("bass", int(pick(rng, [42, 70, 43])), 96)
        sol = P.part("solo", int(pick(rng, [68, 40, 73, 56, 71])), 96)
        for b in range(bars):
            r, q = prog[b]
            t0 = b * meter
            ch = voice(r, q, 62)
            for beat in range(meter):
                cont.chord(t0 + beat, 0.45, ch, 62)
            bk = nearest([k for k in range(36, 55) if k % 12 == r], 45)
            for i in range(meter * 2):
                k = bk + [0, 7, 12, 7, 4 if q in ("maj", "7") else 3, 7][i % 6]
                bass.note(t0 + i * 0.5, 0.45, k, 80)
        last = None
        for ph in range(0, bars, 2):
            last = melody(sol, rng, chord_at, key, scale, ph * meter, 2 * meter, 62, 86, 88, CELLS_BUSY,
                          rest_prob=0.02, legato=0.95, prev=last)
        return P

    # string quartet, winds over strings, or a small orchestra: held chords, legato lines
    if ens == "quartet":
        mel = P.part("violin1", 40, 100)
        inner = [P.part("violin2", 40, 84), P.part("viola", 41, 84)]
        low = P.part("cello", 42, 96)
        pad = None
    elif ens == "winds":
        mel = P.part("wind", int(pick(rng, [73, 68, 71, 60])), 100)
        inner = [P.part("horn", int(pick(rng, [60, 70, 71])), 76)]
        low = P.part("bassoon", int(pick(rng, [70, 42])), 90)
        pad = P.part("strings", int(pick(rng, [48, 49])), 78)
    else:
        mel = P.part("melody", int(pick(rng, [40, 48, 73, 56, 60])), 100)
        inner = [P.part("strings", int(pick(rng, [48, 49])), 86)]
        low = P.part("basses", int(pick(rng, [43, 42])), 96)
        pad = P.part("horns", int(pick(rng, [60, 61, 57])), 72)
        timp = P.part("timpani", 47, 90, reverb=60)
    prev = None
    for b in range(bars):
        r, q = prog[b]
        t0 = b * meter
        prev = voice(r, q, 60, prev)
        for i, part in enumerate(inner):
            k = prev[min(i + 1, len(prev) - 1)] if len(inner) > 1 else None
            if k is None:
                part.chord(t0, meter * 1.01, prev, 62)
            else:
                if rng.random() < 0.5:
                    part.note(t0, meter * 1.01, k, 62)
                else:
                    for beat in range(meter):
                        part.note(t0 + beat, 1.0, k, 58)
        bk = nearest([k for k in range(36, 55) if k % 12 == r], 45)
        if rng.random() < 0.6:
            low.note(t0, meter * 1.01, bk, 72)
        else:
            for beat in range(meter):
                low.note(t0 + beat, 0.95, bk if beat != 2 else bk + 7, 68)
        if pad is not None:
            pad.chord(t0, meter * 1.01, voice(r, q, 55), 52)
            pad.ramp(t0, t0 + meter, 11, 80 + 30 * (b % 2), 110 - 30 * (b % 2), steps=4)
        if ens == "orchestra" and (b % 4 == 3 or b % 4 == 0) and rng.random() < 0.7:
            tk = nearest([k for k in range(41, 55) if k % 12 == r], 46)
            for s in range(int(pick(rng, [1, 2, 4]))):
                timp.note(t0 + s * 0.25 * meter, 0.5, tk, 80 + 10 * s)
    for part in [mel] + inner + [low]:
        for ph in range(0, bars, 4):
            part.ramp(ph * meter, ph * meter + 2 * meter, 11, 70, 120, steps=6)
            part.ramp(ph * meter + 2 * meter, ph * meter + 4 * meter, 11, 120, 75, steps=6)
    last = None
    for ph in range(0, bars, 2):
        last = melody(mel, rng, chord_at, key, scale, ph * meter, 2 * meter, 64, 86, 86, CELLS_LONG
                      if rng.random() < 0.6 else CELLS_STRAIGHT, rest_prob=0.03, legato=1.03, prev=last)
    return P


# ---------------------------------------------------------------- electronic / techno / house

def electronic(rng, seconds):
    P = Piece(rng, rng.uniform(120, 132), humanize=0.0, vel_jitter=2)
    key = int(rng.integers(12))
    loops = [[(0, "min")], [(0, "min"), (8, "maj")], [(0, "min"), (10, "maj")], [(0, "min"), (5, "min")],
             [(0, "min"), (8, "maj"), (3, "maj"), (10, "maj")], [(0, "m7"), (5, "m7")]]
    loop = [((key + d) % 12, q) for d, q in pick(rng, loops)]
    bars_per_chord = int(pick(rng, [1, 2, 2]))
    dr = P.drums(kit=int(pick(rng, [25, 24, 25, 16])), volume=115, reverb=10)
    bass = P.part("bass", int(pick(rng, [38, 39, 87, 38])), 106, pan=64, chorus=0)
    arp = P.part("arp", int(pick(rng, [81, 80, 84, 81, 98, 82])), 86)
    pad = P.part("pad", int(pick(rng, [89, 90, 95, 91, 88, 50])), 78) if rng.random() < 0.75 else None
    stab = P.part("stab", int(pick(rng, [90, 4, 0, 81])), 80) if rng.random() < 0.35 else None
    bass_pat = pick(rng, ["..x...x...x...x.", "..xx..xx..xx..xx", ".xxx.xxx.xxx.xxx", "..x.x.x...x.x.x.",
                          "x.x.x.x.x.x.x.x."])
    arp_shape = pick(rng, [[0, 1, 2, 3], [0, 2, 1, 3], [3, 2, 1, 0], [0, 1, 2, 1], [0, 3, 1, 2, 0, 3, 2, 1]])
    arp_gate = rng.uniform(0.2, 0.8)
    arp_rate = pick(rng, [0.25, 0.25, 0.5])
    hat_pat = pick(rng, ["xxxxxxxxxxxxxxxx", "x.x.x.x.x.x.x.x.", "xxx.xxx.xxx.xxx."])
    clap_key = pick(rng, [CLAP, CLAP, SNARE, RIM])
    bars = P.bars_for(seconds)
    intro = int(pick(rng, [0, 2, 4]))
    breakdown_at = int(rng.integers(8, 14)) if rng.random() < 0.3 else -1
    if arp_rate:
        arp.ramp(0, 16 * 4, 74, 30, 110, steps=32)   # a slow brightness sweep where the font listens
    for b in range(bars + 1):
        t0 = b * 4
        r, q = loop[(b // bars_per_chord) % len(loop)]
        breakdown = breakdown_at <= b < breakdown_at + 2
        if not breakdown:
            P.hits(dr, t0, "x...x...x...x...", KICK, 120)
            P.hits(dr, t0, hat_pat, HAT, 62)
            P.hits(dr, t0, "..x...x...x...x.", OPEN_HAT, 78)
            if b >= intro:
                P.hits(dr, t0, "....x.......x...", clap_key, 100)
            if b % 8 == 7 and rng.random() < 0.5:
                P.hits(dr, t0 + 3, "xxxx", clap_key, 70, accent=1)
        else:
            P.hits(dr, t0, "x.x.x.x.x.x.x.x.", HAT, 50)
        if b >= intro // 2:
            bk = bass_key(r, 31)
            for i, c in enumerate(bass_pat):
                if c == "x":
                    bass.note(t0 + i * 0.25, 0.22, bk + (12 if (i % 8 == 7 and rng.random() < 0.2) else 0), 104)
        tones = voice(r, q if q in ("min", "maj", "m7") else "min", 66)
        tones = sorted(tones + [tones[0] + 12])
        if b >= intro or breakdown:
            n = int(round(4 / arp_rate))
            for i in range(n):
                k = tones[arp_shape[i % len(arp_shape)] % len(tones)]
                arp.note(t0 + i * arp_rate, arp_rate * arp_gate, k, 88 if i % 4 == 0 else 72)
        if pad is not None and b % bars_per_chord == 0:
            pad.chord(t0, 4 * bars_per_chord, voice(r, q, 58), 64)
        if stab is not None and b >= intro:
            for off in pick(rng, [[0.5, 1.5, 2.5, 3.5], [1.5, 3.5], [0.75, 2.5]]):
                stab.chord(t0 + off, 0.2, voice(r, q, 64), 78)
    return P


# ---------------------------------------------------------------- reggae

def reggae(rng, seconds):
    P = Piece(rng, rng.uniform(66, 92), swing=rng.uniform(0.0, 0.5), humanize=0.01)
    key = int(rng.integers(12))
    minor = rng.random() < 0.5
    progs = ([[(0, "min"), (5, "min")], [(0, "min"), (10, "maj")], [(0, "min"), (8, "maj"), (10, "maj"), (0, "min")],
              [(0, "m7"), (5, "m7")]] if minor else
             [[(0, "maj"), (5, "maj")], [(0, "maj"), (7, "maj")], [(0, "maj"), (9, "min"), (5, "maj"), (7, "maj")],
              [(2, "min"), (7, "maj")], [(0, "maj"), (5, "maj"), (7, "maj"), (5, "maj")]])
    prog = [((key + d) % 12, q) for d, q in pick(rng, progs)]
    bars_per_chord = int(pick(rng, [1, 1, 2]))
    skank = P.part("skank", int(pick(rng, [27, 28, 27, 26])), 84, pan=90, reverb=50)
    organ = P.part("organ", int(pick(rng, [16, 17, 16, 4])), 74, pan=38) if rng.random() < 0.75 else None
    bass = P.part("bass", int(pick(rng, [33, 34, 32, 38])), 115, pan=64, reverb=10)
    mel = P.part("melody", int(pick(rng, [21, 22, 16, 56, 65, 61])), 88) if rng.random() < 0.5 else None
    dr = P.drums(kit=int(pick(rng, [0, 8, 0])), volume=100)
    feel = pick(rng, ["onedrop", "onedrop", "onedrop", "steppers", "rockers"])
    kick = {"onedrop": "........x.......", "steppers": "x...x...x...x...", "rockers": "x.......x.....x."}[feel]
    snare_key = pick(rng, [RIM, RIM, SNARE])
    double_skank = rng.random() < 0.3
    # a two-bar bass riff on the eighth grid, degrees from the chord, repeated on every chord
    riff = []
    for i in range(16):
        if i == 0 and feel == "onedrop" and rng.random() < 0.5:
            continue
        if rng.random() < 0.55:
            riff.append((i * 0.5, int(pick(rng, [0, 0, 7, 12, 3 if minor else 4, 10, 5, 2])),
                         float(pick(rng, [0.45, 0.9, 0.45]))))
    bars = P.bars_for(seconds)
    last = None
    for b in range(bars + 1):
        t0 = b * 4
        r, q = prog[(b // bars_per_chord) % len(prog)]
        ch = voice(r, q, 66)
        offs = [0.5, 1.5, 2.5, 3.5] if double_skank else [1, 3]
        for off in offs:
            skank.chord(t0 + off, 0.16, ch, 84, strum=0.008)
        if organ is not None:
            och = voice(r, q, 55)
            for off in [0.5, 1.5, 2.5, 3.5]:
                organ.chord(t0 + off, 0.18, och, 66)
            for off in [0.75, 2.75]:
                organ.chord(t0 + off, 0.12, och, 46)
        bk = bass_key(r, 28)
        for (t, iv, d) in riff:
            if (b % 2) * 4 <= t < (b % 2) * 4 + 4:
                bass.note(t0 + t - (b % 2) * 4, d, bk + iv, 100)
        P.hits(dr, t0, kick, KICK, 110)
        P.hits(dr, t0, "........x......." if feel != "rockers" else "....x.......x...", snare_key, 100)
        P.hits(dr, t0, pick(rng, ["x.x.x.x.x.x.x.x.", "x.x.x.xox.x.x.xo", "x.x.x.x.x.x.x.X."]), HAT, 72)
        if b % 4 == 3 and rng.random() < 0.5:
            P.hits(dr, t0, "............XoXo", TOMS[1], 90)
        if b % 8 == 0 and rng.random() < 0.5:
            dr.note(t0, 1, CRASH, 80)
        if mel is not None and b % 4 == 0:
            last = melody(mel, rng, lambda t: prog[(int(t // 4) // bars_per_chord) % len(prog)], key,
                          "minor_pent" if minor else "major_pent", t0, pick(rng, [6, 7, 8]), 62, 82, 90,
                          CELLS_SYNCOPATED, rest_prob=0.15, prev=last)
    return P


# ---------------------------------------------------------------- bossa nova / latin

BOSSA_PROGS = [
    [(0, "maj7"), (0, "maj7"), (2, "9"), (2, "9"), (2, "m7"), (1, "7"), (0, "maj7"), (1, "7")],
    [(2, "m7"), (7, "7"), (0, "maj7"), (9, "7b9")],
    [(0, "maj7"), (9, "m7"), (2, "m7"), (7, "9")],
    [(0, "m7"), (5, "m7"), (10, "7"), (3, "maj7"), (8, "maj7"), (2, "m7b5"), (7, "7b9"), (0, "m7")],
    [(0, "m6"), (0, "m6"), (2, "m7b5"), (7, "7b9")],
    [(0, "maj7"), (3, "dim7"), (2, "m7"), (7, "7")],
]


def bossa(rng, seconds):
    P = Piece(rng, rng.uniform(118, 150), humanize=0.008, vel_jitter=5)
    key = int(rng.integers(12))
    prog = [((key + d) % 12, q) for d, q in pick(rng, BOSSA_PROGS)]
    gtr = P.part("nylon", 24, 100, pan=50, reverb=45)
    bass = P.part("bass", 32, 96, pan=64) if rng.random() < 0.65 else None
    mel_prog = int(pick(rng, [73, 66, 65, 11, 0, 56, 71, 52]))
    mel = P.part("melody", mel_prog, 90, pan=80) if rng.random() < 0.8 else None
    dr = P.drums(kit=int(pick(rng, [0, 40, 32])), volume=88)
    comp_pats = [  # guitar chords on the eighth grid over two bars
        "x..x..x...x..x..", "x.x..x.x.x..x.x.", "x..x.x...x..x.x.", "..x..x..x..x.x..", "x..x..x..x..x..."]
    comp = pick(rng, comp_pats)
    clave = pick(rng, [[0, 1.5, 3, 5, 6.5], [0, 1.5, 3.5, 5, 6.5], [1, 2.5, 4, 5.5, 7]])
    perc_key = pick(rng, [SHAKER, CABASA, SHAKER, HAT])
    congas = rng.random() < 0.4
    bars = P.bars_for(seconds)
    last = None
    prev = None
    for b in range(bars + 1):
        t0 = b * 4
        r, q = prog[b % len(prog)]
        prev = voice(r, q, 60, prev)
        fifth = 7 if q not in ("m7b5", "dim7") else 6
        bk = bass_key(r, 36)
        # the guitarist's thumb: root on one, fifth on three; the fingers: the syncopated chords
        gtr.note(t0, 1.8, bk, 74)
        gtr.note(t0 + 2, 1.8, bk + fifth if bk + fifth <= 52 else bk + fifth - 12, 70)
        half = (b % 2) * 8
        for i in range(8):
            if comp[half + i] == "x":
                gtr.chord(t0 + i * 0.5, 0.55, prev, 66, strum=0.006)
        if bass is not None:
            bb = bass_key(r, 28)
            for off, iv, d in [(0, 0, 1.4), (1.5, fifth, 0.45), (2, fifth, 1.4), (3.5, 0, 0.45)]:
                bass.note(t0 + off, d, bb + iv, 84)
        for c in clave:
            if (b % 2) * 4 <= c < (b % 2) * 4 + 4:
                dr.note(t0 + c - (b % 2) * 4, 0.1, RIM, 72)
        P.hits(dr, t0, "x..xx..xx..xx..x", KICK, 52, accent=1)
        P.hits(dr, t0, "XxxxXxxxXxxxXxxx", perc_key, 40)
        if congas:
            P.hits(dr, t0, "..x...xx..x...xx", CONGA_HI_MUTE, 56)
            P.hits(dr, t0, "......x.......x.", CONGA_LO, 64)
            P.hits(dr, t0, "...x.......x....", CONGA_HI, 60)
        if rng.random() < 0.2:
            dr.note(t0 + 3.5, 0.1, CLAVES, 60)
        if mel is not None and b % 2 == 0:
            last = melody(mel, rng, lambda t: prog[int(t // 4) % len(prog)], key, "major" if "m" not in prog[0][1]
                          else "dorian", t0 + pick(rng, [0, 0.5]), 7, 62, 84, 82,
                          CELLS_SYNCOPATED + CELLS_LONG, rest_prob=0.1, legato=0.98, prev=last)
    return P


# ---------------------------------------------------------------- country

def country(rng, seconds):
    P = Piece(rng, rng.uniform(96, 142), humanize=0.008)
    key = int(pick(rng, [7, 2, 9, 4, 0]))
    progs = [[0, 5, 0, 7], [0, 0, 5, 5, 7, 7, 0, 0], [0, 5, 7, 0], [0, 7, 9, 5], [0, 0, 5, 0, 7, 5, 0, 7]]
    prog = pick(rng, progs)
    gtr = P.part("steel", int(pick(rng, [25, 25, 26])), 92, pan=44)
    banjo = P.part("banjo", 105, 80, pan=90) if rng.random() < 0.55 else None
    bass = P.part("bass", int(pick(rng, [33, 32, 34])), 102, pan=64)
    mel_prog = int(pick(rng, [110, 110, 22, 0, 25, 40]))
    mel = P.part("fiddle", mel_prog, 92, pan=76)
    dr = P.drums(kit=int(pick(rng, [0, 40, 8])), volume=96)
    train = rng.random() < 0.35
    bars = P.bars_for(seconds)
    last = None
    for b in range(bars + 1):
        t0 = b * 4
        pc = (key + prog[b % len(prog)]) % 12
        nxt = (key + prog[(b + 1) % len(prog)]) % 12
        ch = voice(pc, "maj", 59)
        chord6 = sorted(set([bass_key(pc, 40)] + ch + [ch[0] + 12]))
        bk = bass_key(pc, 28)
        # boom-chick: bass note, strum, alternate bass, strum
        gtr.note(t0, 0.9, bass_key(pc, 40), 84)
        gtr.chord(t0 + 1, 0.45, chord6[1:], 78, strum=0.012)
        gtr.note(t0 + 2, 0.9, bass_key(pc, 40) + 7 if bass_key(pc, 40) + 7 <= 52 else bass_key(pc, 40) - 5, 80)
        gtr.chord(t0 + 3, 0.45, chord6[1:], 78, strum=0.012)
        if rng.random() < 0.6:
            gtr.chord(t0 + 1.5, 0.3, chord6[2:], 60, strum=0.01)
            gtr.chord(t0 + 3.5, 0.3, chord6[2:], 60, strum=0.01)
        if nxt != pc and rng.random() < 0.6:   # walk up (or down) into the next chord
            target = nearest([k for k in range(28, 48) if k % 12 == nxt], bk)
            step = 1 if target > bk else -1
            walk = [target - 3 * step, target - 2 * step, target - step] if abs(target - bk) >= 3 else [bk]
            bass.note(t0, 0.9, bk, 96)
            bass.note(t0 + 1, 0.9, bk + 7 if bk + 7 <= 47 else bk - 5, 88)
            for i, k in enumerate(walk[-2:]):
                bass.note(t0 + 2 + i, 0.9, k, 88)
        else:
            bass.note(t0, 0.9, bk, 96)
            bass.note(t0 + 2, 0.9, bk + 7 if bk + 7 <= 47 else bk - 5, 90)
        if banjo is not None:
            roll = pick(rng, [[0, 1, 2, 0, 1, 2, 0, 1], [2, 1, 0, 2, 1, 0, 2, 1], [0, 2, 1, 2, 0, 2, 1, 2]])
            tones = voice(pc, "maj", 67)
            for i in range(16):
                banjo.note(t0 + i * 0.25, 0.5, tones[roll[i % 8] % len(tones)], 70 if i % 2 else 80)
        P.hits(dr, t0, "x.......x.......", KICK, 96)
        if train:
            P.hits(dr, t0, "ooooXoooooooXooo", SNARE, 80, ghost=0.4)
        else:
            P.hits(dr, t0, "....X.......X...", pick(rng, [RIM, SNARE, SNARE]), 92)
            P.hits(dr, t0, "x.x.x.x.x.x.x.x.", HAT, 66)
        if b % 8 == 0:
            dr.note(t0, 1, CRASH, 80)
        if rng.random() < 0.15:
            dr.note(t0 + 2, 0.1, TAMB, 60)
        if b % 2 == 0:
            last = melody(mel, rng, lambda t: ((key + prog[int(t // 4) % len(prog)]) % 12, "maj"), key,
                          "major_pent" if rng.random() < 0.6 else "major", t0, 8, 64 if mel_prog != 0 else 60,
                          86, 94, CELLS_STRAIGHT + CELLS_BUSY, rest_prob=0.08, prev=last)
            if mel_prog == 110 and rng.random() < 0.5:
                mel.bend(t0, -4096)
                mel.bend(t0 + 0.2, 0)
    return P


STYLES = {
    "rock": rock,
    "metal": metal,
    "jazz": jazz,
    "blues": blues,
    "classical": classical,
    "electronic": electronic,
    "reggae": reggae,
    "bossa": bossa,
    "country": country,
}
