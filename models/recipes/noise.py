"""Noise for the gate's silence class, all synthesised with numpy from a seed:
white, pink, brown and randomly coloured noise, subsonic rumble, mains hum with drifting harmonics,
fans (broadband rumble plus blade-pass tones), hiss, room tone, digital silence,
dither-level near-silence, and mixtures. Spectral shapes and levels vary per seed."""

import numpy as np

from common import RATE, db_to_amp, rms

KINDS = ["white", "pink", "brown", "colored", "hum50", "hum60", "fan", "hiss", "room", "zeros", "dither", "mix"]
# extra files beyond one of each kind go to the kinds with the most room for variety
EXTRA = ["mix", "fan", "colored", "hum50", "hum60", "pink", "room", "mix", "hiss", "brown", "fan", "mix"]

# RMS level range (dBFS) per kind; "any level" means from barely above the LSB to loud
LEVELS = {"white": (-85, -25), "pink": (-85, -22), "brown": (-80, -20), "colored": (-85, -22),
          "hum50": (-85, -22), "hum60": (-85, -22), "fan": (-75, -20), "hiss": (-85, -30),
          "room": (-80, -55), "mix": (-85, -20), "rumble": (-80, -20)}


def _freqs(n):
    return np.fft.rfftfreq(n, 1.0 / RATE)


def _shape(rng, n, mag):
    """White Gaussian noise through the magnitude response mag (array over rfft bins)."""
    spec = np.fft.rfft(rng.standard_normal(n)) * mag
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    r = rms(x)
    return x / r if r > 0 else x


def _random_tilt(rng, f, depth_db):
    """A smooth random curve over log-frequency, +-depth_db: gives every seed its own colour."""
    lf = np.log2(np.maximum(f, 20.0) / 20.0)          # 0 .. ~8.6 octaves
    curve = np.zeros_like(f)
    for _ in range(int(rng.integers(2, 6))):
        period = rng.uniform(1.5, 9.0)
        curve += rng.uniform(-1, 1) * np.cos(2 * np.pi * lf / period + rng.uniform(0, 2 * np.pi))
    curve *= depth_db / max(1e-9, np.max(np.abs(curve)))
    return db_to_amp(curve)


def _lowpass(f, fc, order):
    return 1.0 / np.sqrt(1.0 + (f / fc) ** (2 * order))


def _highpass(f, fc, order):
    r = np.maximum(f, 1e-3) / fc
    return r ** order / np.sqrt(1.0 + r ** (2 * order))


def _slow(rng, n, step_s, scale):
    """A smooth random walk sampled every step_s seconds, interpolated to n samples."""
    m = int(n / (step_s * RATE)) + 2
    walk = np.cumsum(rng.normal(0, 1, m))
    walk -= walk.mean()
    peak = np.max(np.abs(walk))
    if peak > 0:
        walk *= scale / peak
    return np.interp(np.arange(n) / RATE, np.arange(m) * step_s, walk)


def white(rng, n):
    return _shape(rng, n, _highpass(_freqs(n), 15, 1) * _random_tilt(rng, _freqs(n), rng.uniform(0, 2)))


def pink(rng, n):
    f = _freqs(n)
    alpha = rng.uniform(0.8, 1.2)                  # 1/f^alpha in power
    mag = np.maximum(f, 10.0) ** (-alpha / 2) * _highpass(f, 12, 2) * _random_tilt(rng, f, rng.uniform(0, 3))
    return _shape(rng, n, mag)


def brown(rng, n):
    f = _freqs(n)
    alpha = rng.uniform(1.7, 2.2)
    mag = np.maximum(f, 10.0) ** (-alpha / 2) * _highpass(f, rng.uniform(12, 40), 2)
    return _shape(rng, n, mag)


def rumble(rng, n):
    """Pink to brown noise that keeps its subsonic part (down to a few Hz), sometimes
    only that: handling, wind and building rumble, and the classic pink-noise filters
    (whose 1/f goes on below 10 Hz). Over a 200 ms window it is a slow drift of the
    waveform, which a gate must not take for the onset of content."""
    f = _freqs(n)
    alpha = rng.uniform(0.8, 2.2)
    mag = np.maximum(f, 1.0) ** (-alpha / 2) * _highpass(f, rng.uniform(1, 5), 1)
    if rng.random() < 0.35:
        mag *= _lowpass(f, rng.uniform(40, 300), int(rng.integers(1, 4)))
    return _shape(rng, n, mag * _random_tilt(rng, f, rng.uniform(0, 4)))


def colored(rng, n):
    f = _freqs(n)
    base = np.maximum(f, 10.0) ** (-rng.uniform(0, 1.6) / 2)
    mag = base * _random_tilt(rng, f, rng.uniform(6, 18)) * _highpass(f, rng.uniform(15, 80), 2)
    if rng.random() < 0.5:
        mag *= _lowpass(f, rng.uniform(800, 7000), int(rng.integers(1, 4)))
    return _shape(rng, n, mag)


def hiss(rng, n):
    f = _freqs(n)
    mag = _highpass(f, rng.uniform(800, 6000), int(rng.integers(1, 3))) * _random_tilt(rng, f, rng.uniform(0, 4))
    return _shape(rng, n, mag)


def hum(rng, n, mains):
    """Mains hum: the fundamental and its harmonics with random amplitudes (odd ones
    stronger for transformer buzz), each drifting slowly with the grid frequency.
    Half of them are phase-locked buzz: rectifiers and ground loops make a waveform
    with a sharp edge or pulse every cycle (harmonics in phase, as in a sawtooth or
    a pulse train), which random phases alone never produce."""
    f0 = mains * (1.0 + _slow(rng, n, 0.5, rng.uniform(0.0005, 0.004)))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    slope = rng.uniform(0.4, 2.0)
    odd_bias = rng.uniform(0, 12) if rng.random() < 0.6 else 0.0
    # few harmonics as often as many: a clean low buzz is the hum closest to a bass note
    top = int(min(7800 / mains, np.exp(rng.uniform(np.log(2), np.log(60)))))
    locked = rng.random() < 0.5
    shape = rng.choice([0.0, np.pi / 2])       # sine phases: sawtooth-like; cosine: pulses
    alternate = rng.random() < 0.5             # (-1)^k: the mirrored edge
    jitter = rng.uniform(0, 0.3)               # how loosely the phases are locked
    x = np.zeros(n)
    for k in range(1, top + 1):
        a_db = -20 * slope * np.log10(k) + rng.normal(0, 6) - (odd_bias if k % 2 == 0 else 0)
        if k == 1 and rng.random() < 0.3:
            a_db -= rng.uniform(10, 30)    # ground-loop buzz with a weak fundamental
        if locked:
            offset = shape + (np.pi * k if alternate else 0.0) + rng.normal(0, jitter)
        else:
            offset = rng.uniform(0, 2 * np.pi)
        x += db_to_amp(a_db) * np.sin(k * phase + offset)
    x *= 1.0 + _slow(rng, n, 0.3, rng.uniform(0, 0.15))    # slight amplitude wander
    if rng.random() < 0.3:
        x += db_to_amp(rng.uniform(-45, -25)) * pink(rng, n)
    r = rms(x)
    return x / r if r > 0 else x


def fan(rng, n):
    """Broadband rumble weighted to the low end, blade-pass tones that wander with
    the motor speed, and a little amplitude modulation at the rotation rate."""
    f = _freqs(n)
    mag = np.maximum(f, 10.0) ** (-rng.uniform(0.6, 1.8) / 2)
    mag *= _lowpass(f, rng.uniform(150, 2500), int(rng.integers(1, 4))) * _highpass(f, rng.uniform(10, 40), 2)
    mag *= _random_tilt(rng, f, rng.uniform(2, 8))
    x = _shape(rng, n, mag)
    rps = rng.uniform(12, 50)               # revolutions per second
    blades = int(rng.integers(3, 10))
    speed = rps * (1.0 + _slow(rng, n, 0.4, rng.uniform(0.002, 0.02)))
    phase = 2 * np.pi * np.cumsum(speed) / RATE
    tones = np.zeros(n)
    for k in range(1, int(rng.integers(2, 7))):
        tones += db_to_amp(-6 * (k - 1) + rng.normal(0, 4)) * np.sin(k * blades * phase + rng.uniform(0, 6.3))
    tones /= max(rms(tones), 1e-12)
    x = x + db_to_amp(rng.uniform(-20, 0)) * tones
    x *= 1.0 + rng.uniform(0, 0.2) * np.sin(phase)
    if rng.random() < 0.4:
        x += db_to_amp(rng.uniform(-35, -15)) * hum(rng, n, 50 if rng.random() < 0.5 else 60)
    return x / rms(x)


def room(rng, n):
    """Room tone: low-passed pink noise with a faint hum and sometimes faint hiss."""
    f = _freqs(n)
    mag = np.maximum(f, 10.0) ** (-rng.uniform(0.8, 1.6) / 2) * _lowpass(f, rng.uniform(150, 2000), 2)
    mag *= _highpass(f, 15, 2)
    x = _shape(rng, n, mag)
    x += db_to_amp(rng.uniform(-35, -12)) * hum(rng, n, 50 if rng.random() < 0.5 else 60)
    if rng.random() < 0.5:
        x += db_to_amp(rng.uniform(-30, -10)) * hiss(rng, n)
    return x / rms(x)


def mix(rng, n):
    parts = ["white", "pink", "brown", "colored", "hum50", "hum60", "fan", "hiss"]
    chosen = rng.choice(parts, size=int(rng.integers(2, 4)), replace=False)
    x = np.zeros(n)
    for p in chosen:
        x += db_to_amp(rng.uniform(-30, 0)) * generate(str(p), rng, n)
    return x / rms(x), "+".join(str(p) for p in chosen)


def generate(kind, rng, n):
    if kind == "white":
        return white(rng, n)
    if kind == "pink":
        return pink(rng, n)
    if kind == "brown":
        return brown(rng, n)
    if kind == "colored":
        return colored(rng, n)
    if kind == "rumble":
        return rumble(rng, n)
    if kind == "hum50":
        return hum(rng, n, 50.0)
    if kind == "hum60":
        return hum(rng, n, 60.0)
    if kind == "fan":
        return fan(rng, n)
    if kind == "hiss":
        return hiss(rng, n)
    if kind == "room":
        return room(rng, n)
    raise ValueError(kind)


def make(kind, rng, seconds):
    """A finished noise file: samples in [-1, 1) and a one-line description."""
    n = int(round(seconds * RATE))
    if kind == "zeros":
        return np.zeros(n), "digital silence"
    if kind == "dither":
        # what a 16-bit recording of nothing looks like: triangular dither of a few LSB
        # around -90 dBFS, sometimes high-passed (noise-shaped) the way mastering tools do it
        level = rng.uniform(-96, -84)
        d = (rng.random(n) - rng.random(n)) * db_to_amp(level) * np.sqrt(6.0)
        if rng.random() < 0.4:
            d = np.diff(np.concatenate([[0.0], d])) / np.sqrt(2.0)
        return d, "dither %.1f dBFS" % level
    desc = kind
    if kind == "mix":
        x, desc = mix(rng, n)
    else:
        x = generate(kind, rng, n)
    lo, hi = LEVELS[kind]
    level = rng.uniform(lo, hi)
    x = x * (1.0 + _slow(rng, n, 1.0, rng.uniform(0, 0.25)))      # slow level drift of up to ~2 dB
    x = x * db_to_amp(level) / rms(x)
    peak = np.max(np.abs(x))
    if peak > 0.95:
        x *= 0.95 / peak
    return x, "%s %.1f dBFS" % (desc, level)
