"""Real recordings -> 16 kHz mono clips: decoding (sox; opusdec for Opus, which this sox lacks), the source's
level statistics, and cutting a recording into clips of sound: content clips are trimmed of leading and trailing
silence and split where the recording falls silent for longer than a short pause (the trainer labels every sample
of a content file as content), long clips are cut into pieces so training samples spread over many files."""

import os
import subprocess
import tempfile

import numpy as np

from common import RATE, RecipeError, dbfs, frame_rms, peak_of, read_audio, rms, run

FRAME = 160                  # 10 ms: the truth frame of the test set
SILENT_PEAK = 10 ** (-80 / 20)   # a file whose peak stays below -80 dBFS holds no sound worth a clip
REL_FLOOR_DB = 40.0          # a frame more than this below the recording's loud frames is a pause
ABS_FLOOR_DB = -72.0         # ... and so is any frame below this level
# the longest pause that stays inside a clip (a gate must not close between words or notes), per role
MAX_PAUSE_S = {"speech": 0.35, "music": 0.6}
MIN_CLIP_S = {"speech": 0.2, "music": 1.0, "noise": 0.05}
SHORT_NOISE_S = 2.0          # noise clips shorter than this (key clicks, drips) are strung into sequences
MAX_PIECE_S = 60.0


HIGHPASS_HZ = 20.0           # below this a recording holds only offsets and rumble of the equipment


def remove_dc(x, fc=HIGHPASS_HZ):
    """x through a zero-phase 2nd-order Butterworth high-pass magnitude (FFT, padded by 0.5 s so the ends do
    not wrap): some game recordings start with a large decaying DC offset (a frame of it would count as content
    by its level while nothing is heard)."""
    if len(x) == 0:
        return x
    pad = RATE // 2
    y = np.concatenate([np.zeros(pad), x - np.mean(x), np.zeros(pad)])
    f = np.fft.rfftfreq(len(y), 1.0 / RATE)
    r = (f / fc) ** 2
    return np.fft.irfft(np.fft.rfft(y) * (r / np.sqrt(1.0 + r * r)), len(y))[pad:pad + len(x)]


def decode(path):
    """Any audio file of the table -> float64 mono at RATE, high-passed (remove_dc), and its original rate."""
    if path.lower().endswith(".opus"):
        fd, tmp = tempfile.mkstemp(suffix=".wav")
        os.close(fd)
        try:
            run(["opusdec", "--quiet", "--force-wav", path, tmp], "opusdec %s" % path)
            return remove_dc(read_audio(tmp, "decode %s" % path)), 48000
        finally:
            os.unlink(tmp)
    try:
        rate = int(float(subprocess.run(["soxi", "-r", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        timeout=60).stdout.decode().strip() or 0))
    except (OSError, ValueError, subprocess.TimeoutExpired):
        rate = 0
    if rate <= 0:
        raise RecipeError("%s: sox cannot read it" % path)
    return remove_dc(read_audio(path, "decode %s" % path)), rate


def decode_in_range(path):
    """decode, with a decoder's overshoot (a peak at or past full scale) scaled to just below it: the 16-bit
    WAV it goes to keeps the shape, not the clipping."""
    x, rate = decode(path)
    peak = peak_of(x)
    if peak >= 1.0:
        x = x * (32767 / 32768 / peak)
    return x, rate


def stats(x):
    """seconds, RMS dBFS, peak dBFS of a whole recording."""
    peak = peak_of(x)
    return len(x) / RATE, round(dbfs(rms(x)), 2), round(dbfs(peak), 2)


def active_frames(x, rel_floor_db=REL_FLOOR_DB, abs_floor_db=ABS_FLOOR_DB):
    """One bool per 10 ms frame: is it above the recording's pause threshold (the 95th percentile frame level
    less rel_floor_db, and at least abs_floor_db)."""
    fr = frame_rms(x, FRAME) if len(x) >= FRAME else np.zeros(0)
    if len(fr) == 0:
        return np.zeros(0, dtype=bool)
    db = 20 * np.log10(np.maximum(fr, 1e-12))
    thr = max(np.percentile(db, 95) - rel_floor_db, abs_floor_db)
    return db > thr


def spans(active, max_pause_frames, min_frames):
    """Runs of active frames, pauses of at most max_pause_frames bridged, runs shorter than min_frames dropped:
    [(first frame, end frame)]."""
    out = []
    idx = np.flatnonzero(active)
    if len(idx) == 0:
        return out
    start = prev = int(idx[0])
    for i in idx[1:]:
        i = int(i)
        if i - prev - 1 > max_pause_frames:
            out.append((start, prev + 1))
            start = i
        prev = i
    out.append((start, prev + 1))
    return [(a, b) for a, b in out if b - a >= min_frames]


def pieces(a, b, max_frames, min_frames):
    """Frames [a, b) cut into pieces of at most max_frames, as even as possible; none shorter than min_frames."""
    n = b - a
    k = max(1, -(-n // max_frames))
    edges = [a + (n * i) // k for i in range(k + 1)]
    return [(edges[i], edges[i + 1]) for i in range(k) if edges[i + 1] - edges[i] >= min_frames]


def content_clips(x, role):
    """Sample ranges [(start, end)] of the clips of content in x (frame-aligned)."""
    act = active_frames(x)
    out = []
    for a, b in spans(act, int(round(MAX_PAUSE_S[role] * 100)), int(round(MIN_CLIP_S[role] * 100))):
        out += [(s * FRAME, e * FRAME) for s, e in pieces(a, b, int(MAX_PIECE_S * 100),
                                                           int(round(MIN_CLIP_S[role] * 100)))]
    return out


def noise_clips(x):
    """Sample ranges of noise pieces: the recording without leading and trailing digital silence, cut into
    pieces of at most MAX_PIECE_S; nothing when it never rises above SILENT_PEAK."""
    loud = np.flatnonzero(np.abs(x) >= SILENT_PEAK)
    if len(loud) == 0:
        return []
    a, b = int(loud[0]) // FRAME, -(-(int(loud[-1]) + 1) // FRAME)
    b = min(b, len(x) // FRAME)
    return [(s * FRAME, e * FRAME) for s, e in pieces(a, b, int(MAX_PIECE_S * 100),
                                                       int(round(MIN_CLIP_S["noise"] * 100)))]


def clips_of(x, role):
    if len(x) == 0 or float(np.max(np.abs(x))) < SILENT_PEAK:
        return []
    return noise_clips(x) if role == "noise" else content_clips(x, role)


def string_together(rng, clips, seconds, gap_s=(0.03, 0.4)):
    """Short noise recordings (single key presses, drips) -> sequences of about `seconds` each: the clips in a
    seeded order, with gaps of digital silence between them, as a keyboard or a leak makes them."""
    order = list(range(len(clips)))
    rng.shuffle(order)
    out, cur, length = [], [], 0
    for i in order:
        gap = np.zeros(int(rng.uniform(*gap_s) * RATE))
        cur += [clips[i], gap]
        length += len(clips[i]) + len(gap)
        if length >= seconds * RATE:
            out.append(np.concatenate(cur))
            cur, length = [], 0
    if cur and length >= seconds * RATE / 4:
        out.append(np.concatenate(cur))
    return out
