"""Melody, bass-line and rhythm helpers shared by the style generators."""

from arrange import CHORDS, SCALES, nearest, pick

# Rhythm cells in beats; a phrase is cells strung together until it fills its length.
CELLS_STRAIGHT = [
    [1, 1], [0.5, 0.5, 1], [1, 0.5, 0.5], [1.5, 0.5], [2], [0.5, 0.5, 0.5, 0.5], [0.5, 1, 0.5],
    [0.75, 0.25, 1], [3, 1], [1, 1, 2],
]
CELLS_BUSY = [
    [0.5, 0.5, 0.5, 0.5], [0.25, 0.25, 0.5, 1], [0.5, 0.25, 0.25, 1], [0.5, 0.5, 1], [1, 0.5, 0.5],
    [0.25, 0.25, 0.25, 0.25, 1],
]
CELLS_LONG = [[2], [3, 1], [4], [2, 2], [1.5, 0.5, 2], [1, 1, 2], [3], [2, 1, 1]]
CELLS_SYNCOPATED = [[1.5, 1.5, 1], [0.5, 1, 0.5, 2], [1.5, 2.5], [0.5, 1.5, 2], [1, 1.5, 1.5], [2.5, 1.5]]


def rhythm(rng, length, cells):
    out = []
    total = 0.0
    while total < length - 1e-9:
        cell = pick(rng, cells)
        for d in cell:
            if total + d > length + 1e-9:
                d = length - total
            if d <= 1e-9:
                break
            out.append(d)
            total += d
    return out


def melody(part, rng, chord_at, root, scale, start, length, lo, hi, vel, cells,
           rest_prob=0.12, legato=0.92, leap_prob=0.2, prev=None, vel_arch=True):
    """A phrase: chord tones on the beat, steps of the scale between, the odd leap,
    a longer chord tone at the end. chord_at(beat) -> (root_pc, quality).
    Returns the last key so phrases can continue from each other."""
    pcs = [(root + i) % 12 for i in SCALES[scale]]
    keys = [k for k in range(lo, hi + 1) if k % 12 in pcs]
    cur = prev if prev is not None else nearest(keys, (lo + hi) // 2 + int(rng.integers(-3, 4)))
    durs = rhythm(rng, length, cells)
    t = start
    n = len(durs)
    for i, d in enumerate(durs):
        last = i == n - 1
        c_root, c_q = chord_at(t)
        tones = [k for k in range(lo, hi + 1) if (k - c_root) % 12 in [iv % 12 for iv in CHORDS[c_q]]]
        on_beat = abs(t - round(t)) < 1e-6
        if (on_beat or last) and tones:
            target = cur + int(rng.integers(-4, 5))
            nxt = nearest(tones, target)
        elif rng.random() < leap_prob:
            nxt = nearest(keys, cur + int(rng.choice([-7, -5, -4, -3, 3, 4, 5, 7])))
        else:
            if cur in keys:
                idx = keys.index(cur)
            else:
                idx = keys.index(nearest(keys, cur))
            step = int(rng.choice([-2, -1, -1, 1, 1, 2]))
            nxt = keys[max(0, min(len(keys) - 1, idx + step))]
        # drift back toward the middle of the register
        mid = (lo + hi) / 2
        if abs(nxt - mid) > (hi - lo) * 0.4 and rng.random() < 0.5:
            nxt = nearest(keys, nxt + (6 if nxt < mid else -6))
        cur = nxt
        if not last and rng.random() < rest_prob:
            t += d
            continue
        v = vel
        if vel_arch:
            v = vel * (0.85 + 0.25 * (1 - abs(2 * (i / max(1, n - 1)) - 1)))
        v += 8 if on_beat else 0
        part.note(t, d * legato, cur, v)
        t += d
    return cur


def walking_bass(part, rng, chords, start, beats_per_chord, lo=28, hi=50, vel=90, prev=None):
    """Quarter-note walk: root on the chord's first beat, chord or scale tones between,
    a chromatic or scale approach into the next root."""
    cur = prev
    t = start
    for ci, (r, q) in enumerate(chords):
        nxt_r = chords[(ci + 1) % len(chords)][0]
        root_k = nearest([k for k in range(lo, hi + 1) if k % 12 == r], cur if cur is not None else lo + 8)
        tones = [k for k in range(lo, hi + 1) if (k - r) % 12 in [iv % 12 for iv in CHORDS[q]]]
        for b in range(beats_per_chord):
            if b == 0:
                k = root_k
            elif b == beats_per_chord - 1:
                target = nearest([x for x in range(lo, hi + 1) if x % 12 == nxt_r], cur)
                k = target + (1 if rng.random() < 0.5 else -1)
                if rng.random() < 0.3:
                    k = target + (2 if target + 2 <= hi else -2)
            else:
                choices = [x for x in tones if 0 < abs(x - cur) <= 7] or tones
                k = pick(rng, choices)
            k = max(lo, min(hi, k))
            part.note(t + b, 0.9, k, vel + (6 if b == 0 else 0))
            cur = k
        t += beats_per_chord
    return cur


def bass_key(pc, lo=28):
    """The lowest key of a pitch class at or above lo."""
    return lo + (pc - lo) % 12
