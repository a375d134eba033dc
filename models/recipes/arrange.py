"""Music vocabulary and a small arranger on top of midi.py: scales, chord qualities,
voicings that move little, swing and humanised timing, and a piece that knows its
own length in seconds. The style generators (styles.py, gate_music.py) use these."""

import numpy as np

from midi import Song, DRUM_CHANNEL

SCALES = {
    "major": [0, 2, 4, 5, 7, 9, 11],
    "minor": [0, 2, 3, 5, 7, 8, 10],
    "harmonic": [0, 2, 3, 5, 7, 8, 11],
    "dorian": [0, 2, 3, 5, 7, 9, 10],
    "mixolydian": [0, 2, 4, 5, 7, 9, 10],
    "phrygian": [0, 1, 3, 5, 7, 8, 10],
    "blues": [0, 3, 5, 6, 7, 10],
    "minor_pent": [0, 3, 5, 7, 10],
    "major_pent": [0, 2, 4, 7, 9],
    "bebop": [0, 2, 4, 5, 7, 9, 10, 11],
}

CHORDS = {
    "5": [0, 7, 12],
    "maj": [0, 4, 7],
    "min": [0, 3, 7],
    "dim": [0, 3, 6],
    "aug": [0, 4, 8],
    "sus4": [0, 5, 7],
    "sus2": [0, 2, 7],
    "6": [0, 4, 7, 9],
    "m6": [0, 3, 7, 9],
    "7": [0, 4, 7, 10],
    "maj7": [0, 4, 7, 11],
    "m7": [0, 3, 7, 10],
    "m7b5": [0, 3, 6, 10],
    "dim7": [0, 3, 6, 9],
    "9": [0, 4, 7, 10, 14],
    "maj9": [0, 4, 7, 11, 14],
    "m9": [0, 3, 7, 10, 14],
    "7b9": [0, 4, 7, 10, 13],
    "13": [0, 4, 10, 14, 21],
    "add9": [0, 4, 7, 14],
}

# Kick, snare and the rest of the GM percussion map that the styles use.
KICK, KICK2, RIM, SNARE, CLAP, SNARE2 = 36, 35, 37, 38, 39, 40
HAT, PEDAL_HAT, OPEN_HAT = 42, 44, 46
CRASH, CRASH2, RIDE, RIDE_BELL, CHINA, SPLASH = 49, 57, 51, 53, 52, 55
TOMS = [50, 48, 47, 45, 43, 41]         # high to low
TAMB, COWBELL, CLAVES, SHAKER, MARACAS, CABASA = 54, 56, 75, 82, 70, 69
CONGA_HI_MUTE, CONGA_HI, CONGA_LO = 62, 63, 64
BONGO_HI, BONGO_LO, WOODBLOCK = 60, 61, 76


def pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def chord_pcs(root_pc, quality):
    return [(root_pc + i) % 12 for i in CHORDS[quality]]


def voice(root, quality, center, prev=None, spread=12):
    """Chord tones placed near `center` (a MIDI key). With `prev`, each voice takes
    the nearest chord tone to where the previous chord's voices were, which gives
    the smooth voice leading of real accompaniment."""
    ivs = CHORDS[quality]
    pcs = sorted(set((root + i) % 12 for i in ivs))
    if prev:
        out = []
        for p in prev:
            best = min((abs(k - p), k) for pc in pcs for k in range(pc, 128, 12) if abs(k - center) <= spread)
            out.append(best[1])
        # keep every chord tone present if there are enough voices
        missing = [pc for pc in pcs if pc not in {k % 12 for k in out}]
        for pc in missing:
            counts = {}
            for k in out:
                counts.setdefault(k % 12, []).append(k)
            dup = [ks for ks in counts.values() if len(ks) > 1]
            if not dup:
                break
            k_old = dup[0][-1]
            k_new = min((abs(k - k_old), k) for k in range(pc, 128, 12))[1]
            out[out.index(k_old)] = k_new
        return sorted(out)
    out = []
    for pc in pcs:
        k = pc + 12 * ((center - pc) // 12)
        if center - k > 6:
            k += 12
        out.append(k)
    return sorted(out)


def scale_keys(root, scale, lo, hi):
    pcs = [(root + i) % 12 for i in SCALES[scale]]
    return [k for k in range(lo, hi + 1) if k % 12 in pcs]


def nearest(keys, target):
    return min(keys, key=lambda k: (abs(k - target), k))


class Part:
    """One instrument on one channel of one track, placing notes through the piece's
    swing and humanisation."""

    def __init__(self, piece, channel, name):
        self.piece = piece
        self.channel = channel
        self.track = piece.song.track(name)

    def note(self, beat, dur, key, vel, tight=False):
        p = self.piece
        s = p.place(beat, tight)
        e = p.place(beat + dur, True)
        if e - s < 0.02:
            e = s + 0.02
        v = vel * p.dynamics + (0 if tight else p.rng.normal(0, p.vel_jitter))
        self.track.note(s, e - s, self.channel, key, int(round(max(1, min(127, v)))))

    def chord(self, beat, dur, keys, vel, strum=0.0):
        for i, k in enumerate(keys):
            self.note(beat + i * strum, dur - i * strum, k, vel - 3 * i * (strum > 0))

    def cc(self, beat, controller, value):
        self.track.control(beat, self.channel, controller, value)

    def ramp(self, beat0, beat1, controller, v0, v1, steps=16):
        for i in range(steps + 1):
            t = beat0 + (beat1 - beat0) * i / steps
            self.cc(t, controller, v0 + (v1 - v0) * i / steps)

    def bend(self, beat, value):
        self.track.pitch_bend(beat, self.channel, value)


class Piece:
    def __init__(self, rng, bpm, beats_per_bar=4, swing=0.0, humanize=0.01, vel_jitter=6.0):
        self.rng = rng
        self.song = Song()
        self.bpm = float(bpm)
        self.beats_per_bar = beats_per_bar
        self.swing = swing
        self.humanize = humanize
        self.vel_jitter = vel_jitter
        self.dynamics = 1.0
        self.tempo_map = [(0.0, self.bpm)]
        self.song.conductor.tempo(0, self.bpm)
        self.song.conductor.time_signature(0, beats_per_bar, 2)
        self._next_channel = 0

    def set_tempo(self, beat, bpm):
        self.tempo_map.append((float(beat), float(bpm)))
        self.song.conductor.tempo(beat, bpm)

    def seconds_at(self, beat):
        t = 0.0
        tm = sorted(self.tempo_map)
        for i, (b0, bpm) in enumerate(tm):
            b1 = tm[i + 1][0] if i + 1 < len(tm) else float("inf")
            if beat <= b0:
                break
            t += (min(beat, b1) - b0) * 60.0 / bpm
        return t

    def beat_at(self, seconds):
        tm = sorted(self.tempo_map)
        t = 0.0
        for i, (b0, bpm) in enumerate(tm):
            b1 = tm[i + 1][0] if i + 1 < len(tm) else float("inf")
            span = (b1 - b0) * 60.0 / bpm
            if t + span >= seconds:
                return b0 + (seconds - t) * bpm / 60.0
            t += span
        return tm[-1][0]

    def stop_at(self, seconds):
        """Silence every channel at `seconds` (all sound off), so the render ends there
        instead of waiting for the last reverb and release tails."""
        b = self.beat_at(seconds)
        for ch in range(16):
            self.song.conductor.control(b, ch, 120, 0)
        self.song.stop_beat = b

    def bars_for(self, seconds):
        """Bars needed to last `seconds` at the current tempo map."""
        bars = 1
        while self.seconds_at(bars * self.beats_per_bar) < seconds:
            bars += 1
        return bars

    def place(self, beat, tight=False):
        """Swing moves the off-beat eighth later (swing=1 gives the triplet feel);
        positions inside a beat are stretched piecewise-linearly around it."""
        whole = np.floor(beat + 1e-9)
        frac = beat - whole
        if self.swing > 0:
            mid = 0.5 + self.swing / 6.0
            frac = frac * (mid / 0.5) if frac <= 0.5 else mid + (frac - 0.5) * ((1 - mid) / 0.5)
        b = whole + frac
        if not tight and self.humanize > 0:
            b += self.rng.normal(0, self.humanize)
        return max(0.0, b)

    def part(self, name, program, volume=100, pan=None, reverb=None, chorus=None):
        ch = self._next_channel
        if ch == DRUM_CHANNEL:
            ch += 1
        if ch > 15:
            raise ValueError("out of MIDI channels")
        self._next_channel = ch + 1
        p = Part(self, ch, name)
        self._setup(p, program, volume, pan, reverb, chorus)
        return p

    def drums(self, kit=0, volume=110, reverb=None):
        p = Part(self, DRUM_CHANNEL, "drums")
        self._setup(p, kit, volume, 64, reverb, 0)
        return p

    def _setup(self, p, program, volume, pan, reverb, chorus):
        r = self.rng
        p.track.program(0, p.channel, program)
        p.cc(0, 7, max(20, min(127, volume + r.normal(0, 6))))
        p.cc(0, 10, pan if pan is not None else 64 + r.integers(-30, 31))
        p.cc(0, 11, 127)
        p.cc(0, 91, reverb if reverb is not None else r.integers(10, 70))
        p.cc(0, 93, chorus if chorus is not None else r.integers(0, 40))

    def hits(self, drums, bar_beat, pattern, key, vel, steps_per_beat=4, accent=1.25, ghost=0.45, dur=0.1):
        """A drum pattern as a string: 'x' hit, 'X' accent, 'o' ghost, anything else rests."""
        step = 1.0 / steps_per_beat
        for i, c in enumerate(pattern):
            if c in "xXo":
                v = vel * (accent if c == "X" else ghost if c == "o" else 1.0)
                drums.note(bar_beat + i * step, dur, key, v)


def progression_from_degrees(root, scale, degrees):
    """Roman-numeral style progression from (semitones above the key, quality) pairs."""
    return [((root + d) % 12, q) for d, q in degrees]
