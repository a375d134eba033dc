"""The gate's test mixtures from real recordings (the layout in models/README.md, "Real recordings"): a noise bed
throughout, a noise-only lead-in, content clips separated by noise-only pauses, a noise-only tail, sometimes
ending in digital silence; the truth is one value per 10 ms frame. Pure numpy: the recipe hands in the audio."""

import numpy as np

from common import RATE, db_to_amp, fade, frame_rms, rms

FRAME = 160
KIND_CODE = {"speech": 1, "music": 2}
SNRS = (20, 10, 5, 0)
LEVELS = (-60, -50, -40, -30, -20, -10)
LEAD_S = (1.0, 3.0)
PAUSE_S = (0.3, 2.5)
TAIL_S = (1.0, 3.0)
ZERO_TAIL_S = (1.0, 2.0)
SPEECH_MAX_S = 8.0
PHRASE_S = (1.5, 8.0)        # a speech clip strings utterances of one speaker up to about this long
WORD_GAP_S = (0.08, 0.3)     # with gaps a gate must bridge (shorter than the 0.35 s that splits a clip)
MAX_UTTERANCES = 12
MUSIC_S = (3.0, 10.0)
XFADE = int(0.05 * RATE)


def scale_to(x, level_db):
    """x scaled so that its RMS is level_db dBFS."""
    r = rms(x)
    return x * (db_to_amp(level_db) / r) if r > 0 else x


def loop_to(x, n, start=0):
    """n samples of x from start on, looped with a 50 ms equal-power crossfade at each seam."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) >= n + start:
        return x[start:start + n].copy()
    out = x.copy()
    f = min(XFADE, len(x) // 4)
    theta = np.linspace(0, np.pi / 2, f)
    while len(out) < n + start:
        if f > 0:
            # equal-power crossfade: the two ends of a noise are uncorrelated, so sin^2 + cos^2 keeps its level
            seam = out[-f:] * np.cos(theta) + x[:f] * np.sin(theta)
            out = np.concatenate([out[:-f], seam, x[f:]])
        else:
            out = np.concatenate([out, x])
    return out[start:start + n]


def frames(seconds):
    return int(round(seconds * RATE / FRAME))


def assemble(clips, lead, pauses, tail, zero_tail, noise, level_db, snr_db):
    """clips: [(samples, kind)], each a whole number of frames long; lead, pauses (one fewer than clips), tail and
    zero_tail in frames; noise: at least as many samples as the mixture. Each clip is scaled to level_db RMS, so
    the content's RMS over its frames is level_db; the noise bed (all but the digital-silence tail) is scaled to
    level_db - snr_db RMS. Returns (float32 mixture, int8 truth per frame, [(start_frame, end_frame)] per clip)."""
    if len(pauses) != max(0, len(clips) - 1):
        raise ValueError("%d pauses for %d clips" % (len(pauses), len(clips)))
    for x, kind in clips:
        if len(x) % FRAME or len(x) == 0 or kind not in KIND_CODE:
            raise ValueError("a clip must be a non-empty whole number of frames of speech or music")
    total = lead + sum(len(x) // FRAME for x, _ in clips) + sum(pauses) + tail + zero_tail
    n = total * FRAME
    content = np.zeros(n)
    truth = np.zeros(total, dtype=np.int8)
    places = []
    at = lead
    for i, (x, kind) in enumerate(clips):
        k = len(x) // FRAME
        content[at * FRAME:(at + k) * FRAME] = scale_to(x, level_db)
        truth[at:at + k] = KIND_CODE[kind]
        places.append((at, at + k))
        at += k + (pauses[i] if i < len(pauses) else 0)
    live = (total - zero_tail) * FRAME
    bed = np.zeros(n)
    bed[:live] = scale_to(np.asarray(noise[:live], dtype=np.float64), level_db - snr_db)
    return (content + bed).astype(np.float32), truth, places


def trim_frames(x, floor_db=-40.0):
    """x cut to whole frames and trimmed of leading and trailing frames more than floor_db below its loudest
    frame (a cut window of music starts and ends on sound)."""
    k = len(x) // FRAME
    if k == 0:
        return x[:0]
    fr = frame_rms(x, FRAME)
    if fr.max() <= 0:
        return x[:0]
    on = np.flatnonzero(fr > fr.max() * db_to_amp(floor_db))
    return x[on[0] * FRAME:(on[-1] + 1) * FRAME]


def take_clip(rng, kind, x):
    """A clip of a content piece: speech whole up to SPEECH_MAX_S, music a window of MUSIC_S seconds; the window
    faded and trimmed to whole frames that carry sound. Returns (samples, offset in x) or None."""
    limit = SPEECH_MAX_S if kind == "speech" else rng.uniform(*MUSIC_S)
    want = int(limit * RATE)
    if len(x) <= want:
        start = 0
        w = x
    else:
        start = int(rng.integers(0, len(x) - want + 1))
        w = fade(x[start:start + want], 0.02)
    w = trim_frames(w)
    if len(w) < FRAME * 20:          # under 0.2 s of sound: not a useful clip
        return None
    return w, start


def join(parts, gaps):
    """Utterances (whole frames each) joined by gaps of silence (frames): one clip whose truth is speech
    throughout, as a phrase is for a gate."""
    if len(gaps) != max(0, len(parts) - 1):
        raise ValueError("%d gaps for %d parts" % (len(gaps), len(parts)))
    out = []
    for i, x in enumerate(parts):
        out.append(x)
        if i < len(gaps):
            out.append(np.zeros(gaps[i] * FRAME))
    return np.concatenate(out) if out else np.zeros(0)


def plan(rng, n_clips):
    """The kinds of a mixture's clips (speech and music both, the rest drawn) and its timing in frames."""
    kinds = ["speech", "music"] + [str(k) for k in rng.choice(["speech", "music"], size=n_clips - 2)]
    rng.shuffle(kinds)
    lead = frames(rng.uniform(*LEAD_S))
    pauses = [frames(rng.uniform(*PAUSE_S)) for _ in range(n_clips - 1)]
    tail = frames(rng.uniform(*TAIL_S))
    return kinds, lead, pauses, tail
