"""The units of work make_data.py schedules. Each task draws everything from its own
seeded stream, writes its files atomically, and records what it wrote in a marker
under OUT_DIR/.state/, so a rerun skips it. Each returns [(relpath, seconds, desc)]."""

import glob
import os

import numpy as np

import gate_music
import labelled
import noise
import speech
from common import (RATE, SF2_FLUID, fade, has_dead_gap, rng_for, set_peak, set_rms_limited,
                    write_text, write_wav)
from production import render_produced
from render import render_song
from styles import STYLES


def _marker(out, task_id):
    return os.path.join(out, ".state", task_id + ".done")


def done(out, task_id):
    """The task's records if it finished before and all its files are still there."""
    m = _marker(out, task_id)
    if not os.path.exists(m):
        return None
    rows = []
    with open(m) as f:
        for line in f:
            rel, sec, desc = line.rstrip("\n").split("\t", 2)
            if not os.path.exists(os.path.join(out, rel)):
                return None
            rows.append((rel, float(sec), desc))
    return rows


def finish(out, task_id, rows):
    text = "".join("%s\t%.3f\t%s\n" % (rel, sec, desc.replace("\t", " ").replace("\n", " ")) for rel, sec, desc in rows)
    write_text(_marker(out, task_id), text)
    return rows


def _safe(name):
    return "".join(c if c.isalnum() or c in "+-_." else "-" for c in name)


def speech_task(out, seed, split, idx):
    rng = rng_for(seed, split, "speech", idx)
    x, voice, desc = speech.utterance(rng, split)
    x = set_peak(x, rng.uniform(-36, -1))
    rel = "%s/content/speech/sp%04d_%s.wav" % (split, idx, _safe(voice))
    sec = write_wav(os.path.join(out, rel), x)
    return [(rel, sec, desc)]


def gate_music_task(out, seed, split, idx, n_excerpts):
    """One piece of a hard-case kind, rendered once and cut into short excerpts that
    hold no dead gap (every excerpt is content from its first sample to its last)."""
    rng = rng_for(seed, split, "music", idx)
    kinds = sorted(gate_music.WEIGHTS)
    w = np.array([gate_music.WEIGHTS[k] for k in kinds])
    kind = str(rng.choice(kinds, p=w / w.sum()))
    lengths = [rng.uniform(3.0, 6.0) for _ in range(n_excerpts)]
    seconds = sum(lengths) + 8.0
    piece = gate_music.KINDS[kind](rng, seconds)
    piece.stop_at(seconds + 1.0)
    name = "mu%03d_%s" % (idx, kind)
    x = render_song(piece.song, SF2_FLUID, rng, "%s/%s" % (split, name),
                    keep_midi=os.path.join(out, "midi", split, name + ".mid"))
    rows = []
    pos = rng.uniform(0.05, 0.8)
    for e, length in enumerate(lengths):
        # the level is chosen first and the gap test made at that level: a note tail that
        # sinks towards the LSB in a quiet excerpt is no longer content. A quiet excerpt
        # that fails is tried louder, then the window moves on.
        level = rng.uniform(-36, -1)
        clip = None
        while clip is None and pos + length <= min(len(x) / RATE, seconds):
            a, b = int(pos * RATE), int((pos + length) * RATE)
            raw = x[a:b]
            if np.max(np.abs(raw)) > 0:
                for lv in (level, level + 12, -1.0):
                    cand = set_peak(fade(raw, 0.005), min(lv, -1.0))
                    if not has_dead_gap(np.round(cand * 32768) / 32768):
                        clip = cand
                        break
            if clip is None:
                pos += 0.5
        if clip is None:
            break
        rel = "%s/content/music/%s_%d.wav" % (split, name, e)
        sec = write_wav(os.path.join(out, rel), clip)
        rows.append((rel, sec, "%s excerpt %.2f-%.2f s" % (kind, pos, pos + length)))
        pos += length
    if not rows:
        raise RuntimeError("%s/%s: no excerpt without a dead gap in %.1f s of render" % (split, name, len(x) / RATE))
    return rows


def noise_task(out, seed, split, idx, kind, seconds=None):
    rng = rng_for(seed, split, "noise", idx)
    x, desc = noise.make(kind, rng, seconds if seconds else rng.uniform(20.0, 32.0))
    rel = "%s/noise/%s_%03d.wav" % (split, kind, idx)
    sec = write_wav(os.path.join(out, rel), x)
    return [(rel, sec, desc)]


def labelled_task(out, seed, split, idx):
    rng = rng_for(seed, split, "labelled", idx)
    content = sorted(glob.glob(os.path.join(out, split, "content", "*", "*.wav")))
    noises = sorted(glob.glob(os.path.join(out, split, "noise", "*.wav")))
    if not content:
        raise RuntimeError("%s: no content files to build labelled files from" % split)
    x, labels, desc = labelled.build(rng, content, noises, rng.uniform(20.0, 40.0))
    rel = "%s/labelled/lab%03d.wav" % (split, idx)
    sec = write_wav(os.path.join(out, rel), x)
    write_text(os.path.join(out, rel[:-4] + ".txt"), labelled.label_text(labels))
    content_s = sum(b - a for a, b in labels)
    return [(rel, sec, "%d segments, %.1f s content; %s" % (len(labels), content_s, desc))]


def genre_task(out, seed, split, style, piece_idx, n_clips, sf2, folder=None, clip_s=10.0, produced=None):
    """One piece of a style, rendered once and cut into consecutive clips, written to
    folder/<style>/ (default: the split's name; a split rendering into another split's
    folder gets its name in the file names). produced: None for a clean render through sf2,
    or the pool ("train" or "test") of production.render_produced, which draws the
    soundfont, drums, guitar drive and mastering chain itself (sf2 is then unused)."""
    rng = rng_for(seed, split, "genre", style, piece_idx)
    offset = rng.uniform(0.0, 1.5)
    seconds = offset + n_clips * clip_s
    piece = STYLES[style](rng, seconds + 1.0)
    piece.stop_at(seconds + 0.5)
    folder = folder or split
    name = "%s_p%03d" % (style, piece_idx) + ("" if folder == split else "_" + split.split("_")[-1])
    what = "%s/%s" % (split, name)
    midi_path = os.path.join(out, "midi", split, name + ".mid")
    if produced:
        os.makedirs(os.path.dirname(midi_path), exist_ok=True)
        piece.song.write(midi_path)
        x, source = render_produced(piece, style, produced, rng, what)
    else:
        x = render_song(piece.song, sf2, rng, what, keep_midi=midi_path)
        source = os.path.basename(sf2)
    need = int(round(seconds * RATE))
    if len(x) < need:
        raise RuntimeError("%s/%s: render is %.2f s, needed %.2f s" % (split, name, len(x) / RATE, seconds))
    x = x[int(offset * RATE):need]
    x = set_rms_limited(x, rng.uniform(-24, -14), max_peak_db=-0.5)
    rows = []
    n = int(clip_s * RATE)
    for c in range(n_clips):
        clip = x[c * n:(c + 1) * n]
        rel = "%s/%s/%s_c%d.wav" % (folder, style, name, c)
        sec = write_wav(os.path.join(out, rel), clip)
        rows.append((rel, sec, "%s piece %d clip %d, %s" % (style, piece_idx, c, source)))
    return rows

