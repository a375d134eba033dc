"""Labelled gate files: content clips laid over a background (noise from the split's
own noise folder, dither or digital silence) at known places, with an Audacity label
track beside each file marking exactly where content is."""

import numpy as np

from common import RATE, db_to_amp, fade, read_wav, rms

GRID = RATE // 1000      # place everything on a 1 ms grid so 6-decimal labels are exact


def _tile(x, n, rng):
    """Loop a noise file to n samples from a random start, joined with 50 ms
    equal-power cross-fades so the joins do not dip or click."""
    xf = int(0.05 * RATE)
    if len(x) <= 2 * xf:
        return np.resize(x, n) if len(x) else np.zeros(n)
    out = x[int(rng.integers(0, len(x) // 2)):].copy()
    theta = np.linspace(0, np.pi / 2, xf)
    while len(out) < n:
        joint = out[-xf:] * np.cos(theta) + x[:xf] * np.sin(theta)
        out = np.concatenate([out[:-xf], joint, x[xf:]])
    return out[:n]


def build(rng, content_files, noise_files, seconds):
    """Returns (audio, [(start_s, end_s)], description)."""
    n = int(round(seconds * RATE)) // GRID * GRID
    kind = rng.choice(["noise", "noise", "noise", "noise", "noise", "noise", "zeros", "dither"])
    usable = [p for p in noise_files if "zeros_" not in p and "dither_" not in p]
    if kind == "noise" and usable:
        path = str(rng.choice(usable))
        bg = _tile(read_wav(path)[0], n, rng)
        bg_db = rng.uniform(-80, -30)
        bg *= db_to_amp(bg_db) / max(rms(bg), 1e-12)
        bg_desc = "%s at %.1f dBFS" % (path.rsplit("/", 1)[-1], bg_db)
    elif kind == "dither":
        bg_db = rng.uniform(-96, -86)
        bg = (rng.random(n) - rng.random(n)) * db_to_amp(bg_db) * np.sqrt(6.0)
        bg_desc = "dither %.1f dBFS" % bg_db
    else:
        bg_db = None
        bg = np.zeros(n)
        bg_desc = "digital silence"
    out = bg.copy()
    labels = []
    pos = int(rng.uniform(0.3, 4.0) * RATE) // GRID * GRID
    used = []
    # speech and music in equal measure, each list in a shuffled order without repeats
    groups = {}
    for p in content_files:
        groups.setdefault(p.rsplit("/", 2)[-2], []).append(p)
    queues = {g: [ps[i] for i in rng.permutation(len(ps))] for g, ps in sorted(groups.items())}
    names = sorted(queues)
    turn = 0
    while True:
        q = queues[names[int(rng.integers(len(names)))]]
        path = q[turn % len(q)]
        turn += 1
        clip, _ = read_wav(path)
        clip = clip[: len(clip) // GRID * GRID]
        if pos + len(clip) > n - RATE // 2:
            break
        clip = fade(clip, 0.005)
        if bg_db is None:
            level = rng.uniform(-40, -3)
            clip = clip * db_to_amp(level) / max(np.max(np.abs(clip)), 1e-12)
        else:
            snr = rng.uniform(3, 40)   # content RMS over background RMS, dB
            clip = clip * db_to_amp(bg_db + snr) / max(rms(clip), 1e-12)
        out[pos:pos + len(clip)] += clip
        labels.append((pos / RATE, (pos + len(clip)) / RATE))
        used.append(path.rsplit("/", 1)[-1])
        # short gaps test a gate's hold, long ones its release
        gap = rng.uniform(0.15, 0.6) if rng.random() < 0.3 else rng.uniform(0.6, 5.0)
        pos += len(clip) + int(gap * RATE) // GRID * GRID
    peak = np.max(np.abs(out))
    if peak > 0.98:
        out *= 0.98 / peak
    desc = "background: %s; content: %s" % (bg_desc, ", ".join(used))
    return out, labels, desc


def label_text(labels):
    return "".join("%.6f\t%.6f\tcontent\n" % (a, b) for a, b in labels)
