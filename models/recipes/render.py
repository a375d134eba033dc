"""MIDI -> audio with fluidsynth, then sox to 16 kHz mono float."""

import os
import tempfile

from common import FLUID_RATE, run, read_audio


def fluid_settings(rng):
    """Room and chorus drawn per piece: some dry, some in a small room, some in a hall."""
    opts = []
    if rng.random() < 0.25:
        opts += ["-R", "0"]
    else:
        opts += ["-R", "1",
                 "-o", "synth.reverb.room-size=%.3f" % rng.uniform(0.05, 0.9),
                 "-o", "synth.reverb.damp=%.3f" % rng.uniform(0.0, 0.8),
                 "-o", "synth.reverb.level=%.3f" % rng.uniform(0.2, 0.9),
                 "-o", "synth.reverb.width=%.3f" % rng.uniform(0.2, 1.0)]
    opts += ["-C", "1" if rng.random() < 0.5 else "0"]
    return opts


def render_song(song, sf2, rng, what, keep_midi=None, reader=read_audio):
    """Render a midi.Song through fluidsynth with sf2; returns float64 mono at 16 kHz
    (or what `reader(path, what)` makes of the render).
    keep_midi: a path to also store the MIDI file at (for inspection)."""
    with tempfile.TemporaryDirectory(prefix="stride-render-") as tmp:
        mid = os.path.join(tmp, "piece.mid")
        wav = os.path.join(tmp, "piece.wav")
        song.write(mid)
        if keep_midi:
            os.makedirs(os.path.dirname(keep_midi), exist_ok=True)
            song.write(keep_midi)
        cmd = ["fluidsynth", "-n", "-i", "-q", "-F", wav, "-T", "wav", "-O", "float", "-r", str(FLUID_RATE),
               "-g", "0.5", "-o", "synth.dynamic-sample-loading=1", "-o", "synth.polyphony=512"]
        cmd += fluid_settings(rng)
        cmd += [sf2, mid]
        run(cmd, what)
        if not os.path.exists(wav) or os.path.getsize(wav) < 1000:
            # fluidsynth can exit 0 without output (e.g. unreadable soundfont); count it as a failure
            run(cmd, what + " (no output on first try)")
            if not os.path.exists(wav) or os.path.getsize(wav) < 1000:
                raise RuntimeError("%s: fluidsynth wrote no audio; command: %s" % (what, " ".join(cmd)))
        return reader(wav, what + " (sox)")
