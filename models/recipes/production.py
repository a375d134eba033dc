"""Make a MIDI render sound more like a record.

A clean General MIDI render is one soundfont's samples, mixed flat and levelled. Records differ
in ways a genre model must learn to ignore: the instruments' sources, the drums (recorded kits,
not a soundfont's), distortion on guitars, the room, equalisation, compression and limiting, how
stereo was folded to mono, bandwidth and level. `render_produced` draws all of that per piece:

- a soundfont from a pool (training and test pools share none);
- drums played from a recorded Hydrogen kit (hydrogen-drumkits) with probability 0.7: the notes
  whose instrument the kit has are taken out of the MIDI render and played from the kit's samples,
  velocity layers included (training and test kits are disjoint);
- for rock and metal (sometimes blues), the guitar parts rendered on their own and driven through
  sox's overdrive;
- the stereo render folded to mono with uneven weights;
- a sox chain: 0-3 peaking equalisers and shelves, reverberation, compression (compand), low-pass or
  high-pass band-limiting; then soft limiting and a level.
"""

import copy
import os
import tempfile
import xml.etree.ElementTree as ET

import numpy as np

from common import RATE, SF2_FLUID, SF2_TIMGM, SF3_MUSESCORE, peak_of, read_audio, run
from midi import DRUM_CHANNEL
from render import render_song

SF2_CSOUND = "/usr/share/sounds/sf2/sf_GMbank.sf2"          # csound-soundfont
SF2_OPL3 = "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2"        # opl3-soundfont (FM synthesis)
# MuseScore General is the unseen soundfont of the held-out sets: never in a training pool.
SOUNDFONTS = {"train": [SF2_FLUID, SF2_TIMGM, SF2_CSOUND, SF2_OPL3], "test": [SF3_MUSESCORE]}
KIT_DIR = "/usr/share/hydrogen/data/drumkits"
# Kits by pool. Hand percussion (Gimme A Hand, circAfrique) has no kit roles and is left out.
KITS = {"train": ["Audiophob", "BJA_Pacific", "ColomboAcousticDrumkit", "ForzeeStereo", "Millo-Drums_v.1",
                  "Millo_MultiLayered2", "rumpf_kit_z01_h2", "ElectricEmpireKit", "VariBreaks"],
        "test": ["The Black Pearl 1.0", "Millo_MultiLayered3", "HardElectro1"]}
ELECTRONIC_KITS = {"ElectricEmpireKit", "VariBreaks", "HardElectro1"}
DRUM_KIT_PROB = 0.7
GUITAR_PROGRAMS = range(24, 32)
HEADROOM_DB = -24.0   # the peak level a signal enters sox's effects at
GUITAR_DRIVE_PROB = {"rock": 0.85, "metal": 0.95, "blues": 0.3}

# General MIDI drum keys -> the kit role that plays them.
ROLE_OF_KEY = {35: "kick", 36: "kick", 37: "stick", 38: "snare", 40: "snare", 39: "clap",
               42: "hh_closed", 44: "hh_pedal", 46: "hh_open", 41: "tom_low", 43: "tom_low",
               45: "tom_mid", 47: "tom_mid", 48: "tom_hi", 50: "tom_hi", 49: "crash", 57: "crash",
               52: "crash", 55: "crash", 51: "ride", 59: "ride", 53: "ride_bell", 56: "cowbell"}
# A kit instrument's role from its name: the first rule whose words all occur wins.
ROLE_RULES = [("ride_bell", ("ride", "bell")), ("ride_bell", ("ride", "cup")), ("ride", ("ride",)),
              ("hh_pedal", ("pedal",)), ("hh_open", ("open",)), ("hh_open", ("op",)),
              ("hh_closed", ("closed",)), ("hh_closed", ("hat", "cl")), ("hh_closed", ("hh",)),
              ("hh_closed", ("hat",)), ("kick", ("kick",)), ("kick", ("bassdrum",)),
              ("kick", ("bass", "drum")), ("stick", ("stick",)), ("clap", ("clap",)),
              ("snare", ("snare",)), ("tom_low", ("floor",)), ("tom_low", ("tom", "low")),
              ("tom_mid", ("tom", "mid")), ("tom_hi", ("tom", "hi")), ("tom_mid", ("tom",)),
              ("crash", ("crash",)), ("cowbell", ("cowbell",))]
SKIP_WORDS = ("roll", "rimshot", "swish", "choke", "semi")


def role_of_name(name):
    words = name.lower().replace("-", " ").replace("_", " ")
    if any(w in words for w in SKIP_WORDS):
        return None
    for role, need in ROLE_RULES:
        if all(w in words for w in need):
            return role
    return None


_KIT_CACHE = {}


def load_kit(name):
    """{role: [(vel_min, vel_max, gain, samples)]} of one Hydrogen kit, samples at RATE mono.
    The first instrument of a role plays it."""
    if name in _KIT_CACHE:
        return _KIT_CACHE[name]
    folder = os.path.join(KIT_DIR, name)
    root = ET.parse(os.path.join(folder, "drumkit.xml")).getroot()
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    roles = {}
    for inst in root.iter(ns + "instrument"):
        role = role_of_name(inst.findtext(ns + "name") or "")
        if role is None or role in roles:
            continue
        volume = float(inst.findtext(ns + "volume") or 1.0) * float(inst.findtext(ns + "gain") or 1.0)
        layers = []
        for layer in inst.iter(ns + "layer"):
            path = os.path.join(folder, layer.findtext(ns + "filename") or "")
            if not os.path.isfile(path):
                continue
            x = read_audio(path, "kit %s: %s" % (name, os.path.basename(path)))
            if len(x) == 0:
                continue
            layers.append((float(layer.findtext(ns + "min") or 0), float(layer.findtext(ns + "max") or 1),
                           volume * float(layer.findtext(ns + "gain") or 1.0), x))
        if not layers:   # old-format kits name one file on the instrument itself
            path = os.path.join(folder, inst.findtext(ns + "filename") or "")
            if os.path.isfile(path):
                layers.append((0.0, 1.0, volume, read_audio(path, "kit %s: %s" % (name, path))))
        if layers:
            roles[role] = layers
    _KIT_CACHE[name] = roles
    return roles


def play_kit(kit, notes, seconds_at, length, rng):
    """The drum notes [(start_beat, key, velocity)] played from the kit's samples: a layer
    chosen by velocity, a loudness that follows velocity, a little random gain per hit."""
    out = np.zeros(length)
    for beat, key, vel in notes:
        layers = kit[ROLE_OF_KEY[key]]
        v = vel / 127.0
        fit = [la for la in layers if la[0] <= v <= la[1] + 1e-9] or layers
        _, _, gain, x = fit[int(rng.integers(len(fit)))]
        at = int(round(seconds_at(beat) * RATE))
        if at >= length:
            continue
        n = min(len(x), length - at)
        out[at:at + n] += x[:n] * gain * (v ** 1.5) * rng.uniform(0.85, 1.0)
    return out


def _program_of(track):
    for _, _, data in track.events:
        if data[0] & 0xF0 == 0xC0:
            return data[1]
    return None


def _channel_of(track):
    return track.notes[0][2] if track.notes else None


def _subsong(song, keep_track, keep_note=lambda n: True):
    """A copy of the song keeping only some tracks' notes (controller and program events stay)."""
    s = copy.copy(song)
    s.tracks = []
    for t in song.tracks:
        c = copy.copy(t)
        c.notes = [n for n in t.notes if keep_track(t) and keep_note(n)]
        s.tracks.append(c)
    return s


def _render_stereo(song, sf2, rng, what):
    """render_song's stereo twin at RATE: fluidsynth through the same settings."""
    return render_song(song, sf2, rng, what, reader=lambda p, w: read_audio(p, w, channels=2))


def draw_chain(rng):
    """The sox effects of one piece's mastering chain."""
    fx = []
    for _ in range(int(rng.integers(0, 4))):
        f = float(np.exp(rng.uniform(np.log(60), np.log(6000))))
        fx += ["equalizer", "%.1f" % f, "%.2fo" % rng.uniform(0.3, 2.0), "%.1f" % rng.uniform(-9, 9)]
    if rng.random() < 0.5:
        fx += ["bass", "%.1f" % rng.uniform(-6, 6)]
    if rng.random() < 0.5:
        fx += ["treble", "%.1f" % rng.uniform(-6, 6)]
    if rng.random() < 0.5:
        fx += ["reverb", "%.0f" % rng.uniform(10, 80), "%.0f" % rng.uniform(10, 90),
               "%.0f" % rng.uniform(20, 100), "100", "%.0f" % rng.uniform(0, 40), "%.1f" % rng.uniform(-8, 0)]
    if rng.random() < 0.6:
        t = rng.uniform(-32, -12)
        r = rng.uniform(2, 8)
        fx += ["compand", "%.3f,%.3f" % (rng.uniform(0.002, 0.05), rng.uniform(0.08, 0.6)),
               "6:-90,-90,%.1f,%.1f,0,%.1f" % (t, t, t - t / r)]
    if rng.random() < 0.25:
        fx += ["lowpass", "%.0f" % rng.uniform(2500, 7000)]
    if rng.random() < 0.15:
        fx += ["highpass", "%.0f" % rng.uniform(80, 400)]
    return fx


def sox_effects(x, fx, what):
    """Mono float samples at RATE through sox effects. The input goes in with its peak at
    HEADROOM_DB, so that no boost on the way clips (sox's own -G guard cannot follow compand);
    the output is scaled back by as much."""
    if not fx:
        return x
    peak = peak_of(x)
    scale = 10 ** (HEADROOM_DB / 20) / peak if peak > 0 else 1.0
    with tempfile.TemporaryDirectory(prefix="stride-produce-") as tmp:
        src = os.path.join(tmp, "in.f32")
        np.asarray(x * scale, dtype="<f4").tofile(src)
        out = run(["sox", "-D", "-V1", "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1",
                   "-r", str(RATE), src, "-t", "raw", "-e", "floating-point", "-b", "32", "-"] + fx, what)
    y = np.frombuffer(out, dtype="<f4").astype(np.float64) / scale
    return y[:len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


def soft_limit(x, drive):
    """Peak-normalise, then tanh with `drive` (1 ~ transparent, 4 ~ loud master)."""
    peak = float(np.max(np.abs(x))) or 1.0
    return np.tanh(drive * x / peak) / np.tanh(drive)


def render_produced(piece, style, pool, rng, what):
    """Render a piece through a drawn production (see the module's text): float64 mono at RATE,
    and a short description of what was drawn."""
    song = piece.song
    sf2 = SOUNDFONTS[pool][int(rng.integers(len(SOUNDFONTS[pool])))]
    desc = [os.path.basename(sf2)]
    kit, kit_notes = None, []
    drum_notes = [n for t in song.tracks for n in t.notes if n[2] == DRUM_CHANNEL]
    if drum_notes and rng.random() < DRUM_KIT_PROB:
        names = KITS[pool]
        if style == "electronic":
            names = [k for k in names if k in ELECTRONIC_KITS] or names
        else:
            names = [k for k in names if k not in ELECTRONIC_KITS] or names
        name = names[int(rng.integers(len(names)))]
        kit = load_kit(name)
        kit_notes = [n for n in drum_notes if ROLE_OF_KEY.get(n[3]) in kit]
        desc.append("kit " + name)
    played_by_kit = set(id(n) for n in kit_notes)
    guitars = [t for t in song.tracks if _program_of(t) in GUITAR_PROGRAMS and _channel_of(t) != DRUM_CHANNEL]
    drive = guitars and rng.random() < GUITAR_DRIVE_PROB.get(style, 0.0)
    main = _subsong(song, lambda t: not (drive and t in guitars), lambda n: id(n) not in played_by_kit)
    x = _render_stereo(main, sf2, rng, what)
    if drive:
        g = _render_stereo(_subsong(song, lambda t: t in guitars), sf2, rng, what + " guitars")
        gain = rng.uniform(8, 30) if style == "metal" else rng.uniform(4, 20)
        gm = sox_effects(g.mean(axis=1), ["overdrive", "%.1f" % gain, "%.0f" % rng.uniform(10, 60)],
                         what + " overdrive")
        gm *= np.sqrt(np.mean(g ** 2) / max(np.mean(gm ** 2), 1e-20))
        n = min(len(x), len(gm))
        x = x[:n] + gm[:n, None]
        desc.append("overdrive %.0f" % gain)
    if kit is not None:
        d = play_kit(kit, [(n[0], n[3], n[4]) for n in kit_notes], piece.seconds_at, len(x), rng)
        rms_x = np.sqrt(np.mean(x ** 2)) or 1.0
        rms_d = np.sqrt(np.mean(d ** 2)) or 1.0
        pan = rng.uniform(0.35, 0.65)
        d *= rms_x / rms_d * 10 ** (rng.uniform(-9, -2) / 20)
        x = x + np.stack([d * (1 - pan), d * pan], axis=1)
    a = rng.uniform(0.25, 0.75)
    mono = a * x[:, 0] + (1 - a) * x[:, 1]
    fx = draw_chain(rng)
    mono = sox_effects(mono, fx, what + " chain")
    if rng.random() < 0.5:
        mono = soft_limit(mono, rng.uniform(1.0, 4.0))
        desc.append("limited")
    desc.append(" ".join(w for w in fx if w.isalpha()) or "no fx")
    return mono, "; ".join(desc)


def available():
    """Files the produced renders need that are missing (packages: csound-soundfont,
    opl3-soundfont, hydrogen-drumkits)."""
    need = SOUNDFONTS["train"] + SOUNDFONTS["test"] + [os.path.join(KIT_DIR, k) for p in KITS.values() for k in p]
    return [p for p in need if not os.path.exists(p)]
