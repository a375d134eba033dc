"""Shared helpers for the data recipes: seeded random streams, subprocess runs with
one retry, reading audio through sox, writing 16-bit WAV atomically, levels."""

import hashlib
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

RATE = 16000                 # every file the recipes write is 16 kHz mono 16-bit
FLUID_RATE = 32000           # fluidsynth renders here; sox resamples to RATE. At 32 kHz whatever
                             # aliases (sample content above 16 kHz) folds to 8-16 kHz, which the
                             # resampler removes, and it costs ~25% less than 44.1 kHz.
SF2_FLUID = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SF2_TIMGM = "/usr/share/sounds/sf2/TimGM6mb.sf2"
SF3_MUSESCORE = "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"   # musescore-general-soundfont-small


class RecipeError(RuntimeError):
    pass


def rng_for(*keys):
    """A random generator that depends only on its keys, so a task draws the same
    numbers whichever worker runs it and in whatever order."""
    text = "\x1f".join(str(k) for k in keys).encode()
    digest = hashlib.sha256(text).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype=np.uint32))


def file_digest(path):
    """SHA-256 of a file's bytes (hex), read in blocks: what tells two copies of a recording apart."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stable_hash(text):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def run(cmd, what, timeout=300):
    """Run a command; on failure say which command and why, and try once more.
    Raises RecipeError after the second failure so the task is reported, not dropped."""
    last = None
    for attempt in (1, 2):
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
            if p.returncode == 0:
                return p.stdout
            last = "exit %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip()[-600:])
        except (OSError, subprocess.TimeoutExpired) as e:
            last = str(e)
        print("  ! %s: attempt %d failed: %s\n    command: %s" % (what, attempt, last, " ".join(cmd)),
              file=sys.stderr, flush=True)
    raise RecipeError("%s failed twice: %s; command: %s" % (what, last, " ".join(cmd)))


def read_audio(path, what, channels=1):
    """Any file sox reads -> float32 at RATE, no dither: mono (channels averaged) as [n], or
    with channels=2 as [n, 2]."""
    out = run(["sox", "-D", "-R", "-V1", path, "-t", "raw", "-e", "floating-point", "-b", "32",
               "-c", str(channels), "-r", str(RATE), "-"], what)
    x = np.frombuffer(out, dtype="<f4").astype(np.float64)
    return x if channels == 1 else x.reshape(-1, channels)


def write_wav(path, x):
    """Float samples in [-1, 1) -> 16-bit mono WAV at RATE. Rounds without dither, so
    exact zeros stay exact zeros. Written to a temporary name and renamed, so a file
    that exists is always complete (the recipes skip existing files)."""
    x = np.asarray(x, dtype=np.float64)
    q = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=os.path.dirname(path))
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(q.tobytes())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(q) / RATE


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def read_wav(path):
    """16-bit mono WAV (as written above) -> float64 and its rate."""
    with wave.open(path, "rb") as w:
        rate = w.getframerate()
        ch = w.getnchannels()
        width = w.getsampwidth()
        data = w.readframes(w.getnframes())
    if width != 2:
        raise RecipeError("%s: %d-byte samples, expected 16-bit" % (path, width))
    x = np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    return x, rate


def wav_seconds(path):
    with wave.open(path, "rb") as w:
        return w.getnframes() / w.getframerate()


def db_to_amp(db):
    return 10.0 ** (db / 20.0)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def peak_of(x):
    return float(np.max(np.abs(x))) if len(x) else 0.0


def dbfs(v):
    return 20.0 * np.log10(max(v, 1e-12))


def frame_rms(x, frame):
    n = len(x) // frame
    if n == 0:
        return np.array([rms(x)])
    return np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))


def fade(x, seconds=0.005):
    """Raised-cosine fade in and out, so cut edges do not click."""
    n = min(int(seconds * RATE), len(x) // 2)
    if n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))
        x = x.copy()
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x


def set_peak(x, peak_db):
    p = np.max(np.abs(x)) if len(x) else 0.0
    return x if p <= 0 else x * (db_to_amp(peak_db) / p)


def set_rms_limited(x, rms_db, max_peak_db=-0.5):
    """Scale to an RMS level, but never let the peak pass max_peak_db."""
    r = rms(x)
    if r <= 0:
        return x
    g = db_to_amp(rms_db) / r
    p = np.max(np.abs(x)) * g
    if p > db_to_amp(max_peak_db):
        g *= db_to_amp(max_peak_db) / p
    return x * g


def has_dead_gap(x, gap_seconds=0.12, floor_db=-75.0, rel_db=-60.0):
    """True when the clip holds a stretch of near-silence (a rest the note tails did
    not cover): such a stretch must not be labelled content."""
    frame = int(0.02 * RATE)
    fr = frame_rms(x, frame)
    if len(fr) == 0:
        return True
    thr = max(db_to_amp(floor_db), fr.max() * db_to_amp(rel_db))
    quiet = fr < thr
    need = max(1, int(round(gap_seconds / 0.02)))
    run_len = 0
    for q in quiet:
        run_len = run_len + 1 if q else 0
        if run_len >= need:
            return True
    return False
