"""Standard MIDI File writer (format 1), written for Stride's data recipes.

Generators describe music in beats (floats); this module turns that into ticks, sorts
the events so that a note-off always precedes a note-on at the same tick, trims
overlapping notes of the same key on the same channel (a synth would otherwise cut
the later note short or hang the earlier one), and writes the chunks.
"""

import struct

PPQ = 480           # ticks per quarter note
DRUM_CHANNEL = 9    # "channel 10" in the 1-based numbering musicians use

# Event sort order at equal tick: setup events first, then note-offs, then note-ons.
_ORDER_META = 0
_ORDER_SETUP = 1
_ORDER_OFF = 2
_ORDER_ON = 3


def vlq(value):
    """Variable-length quantity: 7 bits per byte, most significant first,
    high bit set on every byte but the last."""
    if value < 0:
        raise ValueError("negative delta time")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def _clamp7(x):
    return max(0, min(127, int(round(x))))


class Track:
    def __init__(self, name=None):
        self.name = name
        self.notes = []     # (start_beat, end_beat, channel, key, velocity)
        self.events = []    # (beat, order, bytes) for everything else

    def note(self, start, duration, channel, key, velocity):
        if duration <= 0 or not 0 <= key <= 127:
            return
        self.notes.append((float(start), float(start) + float(duration), channel, int(key), _clamp7(max(1, velocity))))

    def program(self, beat, channel, program):
        self.events.append((float(beat), _ORDER_SETUP, bytes([0xC0 | channel, program & 0x7F])))

    def control(self, beat, channel, controller, value):
        self.events.append((float(beat), _ORDER_SETUP, bytes([0xB0 | channel, controller & 0x7F, _clamp7(value)])))

    def pitch_bend(self, beat, channel, value):
        """value in -8192..8191"""
        v = max(0, min(16383, int(value) + 8192))
        self.events.append((float(beat), _ORDER_SETUP, bytes([0xE0 | channel, v & 0x7F, v >> 7])))

    def tempo(self, beat, bpm):
        us = int(round(60_000_000 / bpm))
        self.events.append((float(beat), _ORDER_META, b"\xFF\x51\x03" + us.to_bytes(3, "big")))

    def time_signature(self, beat, numerator, denominator_pow2):
        self.events.append((float(beat), _ORDER_META, bytes([0xFF, 0x58, 0x04, numerator, denominator_pow2, 24, 8])))

    def _note_events(self, stop_tick=None):
        by_key = {}
        for n in self.notes:
            by_key.setdefault((n[2], n[3]), []).append(n)
        out = []
        for (ch, key), notes in by_key.items():
            notes.sort()
            for i, (s, e, _, _, vel) in enumerate(notes):
                ts = int(round(s * PPQ))
                te = int(round(e * PPQ))
                if i + 1 < len(notes):
                    te = min(te, int(round(notes[i + 1][0] * PPQ)))
                if stop_tick is not None:
                    te = min(te, stop_tick)
                if te <= ts:
                    continue   # swallowed by a later note that starts at the same tick, or past the stop
                out.append((ts, _ORDER_ON, bytes([0x90 | ch, key, vel])))
                out.append((te, _ORDER_OFF, bytes([0x80 | ch, key, 0])))
        return out

    def chunk(self, stop_beat=None):
        stop_tick = None if stop_beat is None else int(round(stop_beat * PPQ))
        events = [(int(round(b * PPQ)), o, d) for b, o, d in self.events]
        events += self._note_events(stop_tick)
        if stop_tick is not None:
            events = [e for e in events if e[0] <= stop_tick]
        events.sort(key=lambda e: (e[0], e[1]))
        body = bytearray()
        if self.name:
            name = self.name.encode("ascii", "replace")
            body += vlq(0) + b"\xFF\x03" + vlq(len(name)) + name
        now = 0
        for tick, _, data in events:
            tick = max(tick, 0)
            body += vlq(tick - now) + data
            now = tick
        body += vlq(0) + b"\xFF\x2F\x00"
        return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


class Song:
    def __init__(self):
        self.conductor = Track("conductor")   # tempo and meter live in track 0 of a format-1 file
        self.tracks = []
        self.stop_beat = None     # when set, nothing sounds or happens after this beat

    def track(self, name=None):
        t = Track(name)
        self.tracks.append(t)
        return t

    def end_beat(self):
        ends = [n[1] for t in self.tracks for n in t.notes]
        return max(ends) if ends else 0.0

    def to_bytes(self):
        chunks = [self.conductor.chunk(self.stop_beat)] + [t.chunk(self.stop_beat) for t in self.tracks]
        header = b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), PPQ)
        return header + b"".join(chunks)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.to_bytes())
