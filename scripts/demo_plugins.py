#!/usr/bin/python3
"""The plugin half of the demo: the INSTALLED Stride plugins in a real LV2 host.

    scripts/demo_plugins.py [--bundle DIR] [--build DIR]

A private JACK server (dummy backend, no sound card) runs jalv (console) with
Stride Gate (mono) and then Stride Genre; our JACK client (jack_play, built by
`./waf build`) plays audio made here into them, and jalv's `monitors` are read
for the plugins' control outputs. It prints what the plugins detected:

  - the gate, per segment (silence, speech, pink noise, mains hum, music): mean
    probability, median gain, how much of the time it was open, the level the
    output had against the input, and open / closed;
  - genre, per clip (two held-out clips from models/data/*/genre_test/ when that
    exists, else synthetic music): the top class, its confidence and every p_<label>,
    as the plugin reported them at the end of the clip.

It reports what the installed models do and judges nothing: the models may be
placeholders with random weights. It reuses the real-host test harness
(tests/hosts/hostlib.py, jacklib.py): every process it starts ends with it.
Exit status 0 when the plugins ran and reported, 1 with a message otherwise.
"""
import argparse
import glob
import json
import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "hosts"))

import numpy as np  # noqa: E402

import hostlib  # noqa: E402
from hostlib import (URI_GATE, URI_GENRE, Procs, TestFailure, Timeline, db, fade,  # noqa: E402
                     hum, music, need_tools, pink_noise, plugin_ports, port_ranges, read_wav,
                     rms, run, speech, write_wav)
from jacklib import Jalv, play, start_jackd  # noqa: E402

RATE = 48000
PERIOD = 256
SETTLE = 0.8       # seconds after a segment starts before its readings count
CLIP_SECONDS = 8.0  # how much of each genre clip is played
TIME_LIMIT = 150
SPEECH = "Stride opens the gate for speech and music, and closes it for silence and noise."


def say(*a, **kw):
    print(*a, flush=True, **kw)


def model_note(bundle, kind):
    """A line on the bundle's model file: rate, labels, and whether it is a placeholder."""
    path = os.path.join(bundle, "%s.safetensors" % kind)
    try:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            meta = json.loads(f.read(n)).get("__metadata__", {})
    except (OSError, ValueError, struct.error) as e:
        return "%s.safetensors: unreadable (%s)" % (kind, e)
    what = ("PLACEHOLDER, random weights (no trained model was shipped)"
            if meta.get("stride.placeholder") == "1" else "trained model")
    return "%s.safetensors: %s Hz, %s" % (kind, meta.get("stride.sample_rate", "?"), what)


def loaded_binary(pid, name):
    """The path of `name` (gate.so) as mapped into process `pid`, or None."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                p = line.split(None, 5)[-1].strip()
                if p.endswith("/" + name):
                    return p
    except OSError:
        pass
    return None


def outputs_of(ports):
    return [s for _, s, k in ports if "Control" in k and "Output" in k]


# --------------------------------------------------------------------------- gate

def demo_gate(procs, server, rng, bundle):
    ports = plugin_ports(URI_GATE)
    ranges = port_ranges(URI_GATE)
    thr = ranges.get("threshold", (None, None, 0.5))[2]
    rng_db = ranges.get("range", (None, None, -90.0))[2]

    tl = Timeline(RATE)
    tl.add("silence", None, np.zeros(int(1.5 * RATE), np.float32))
    tl.add("speech (espeak-ng)", None, speech(procs.tmp, RATE, SPEECH))
    tl.add("pink noise, -35 dBFS", None, pink_noise(rng, int(2.5 * RATE), -35.0))
    tl.add("mains hum, -30 dBFS", None, hum(int(2.0 * RATE), RATE, -30.0))
    tl.add("music (synthetic)", None, fade(music(rng, int(3.0 * RATE), RATE, -18.0), RATE))
    tl.add("silence", None, np.zeros(int(1.5 * RATE), np.float32))
    x = tl.audio()
    wav_in = os.path.join(procs.tmp, "gate_in.wav")
    wav_out = os.path.join(procs.tmp, "gate_out.wav")
    write_wav(wav_in, x, RATE)

    client = "stride_demo_gate_%d" % os.getpid()
    j = Jalv(procs, server, URI_GATE, client, outputs=outputs_of(ports))
    j.wait_ports(["in", "out"])
    so = loaded_binary(j.p.pid, "gate.so")
    say()
    say("== Stride Gate (%s) in jalv: %.1f s of audio, plugin defaults "
        "(threshold %g, range %g dB)" % (URI_GATE, len(x) / RATE, thr, rng_db))
    say("   plugin: %s; %s" % (so or bundle, model_note(bundle, "gate")))
    j.start_polling()
    t0, _ = play(procs, server, client + "_play", wav_in, [client + ":in"], [client + ":out"],
                 wav_out)
    j.stop_polling()
    lat = j.series("latency", t0, t0 + 1e9)
    L = int(round(lat[-1])) if lat else 0
    y, _ = read_wav(wav_out)
    j.quit()

    say("   %-22s %7s %10s %9s %6s %9s  %s" % ("segment", "seconds", "mean prob", "gain dB",
                                              "open", "out-in dB", "gate"))
    readings = 0
    for name, _, sa, sb in tl.segments:
        prob = j.series("probability", t0 + sa + SETTLE, t0 + sb - 0.05)
        gain = j.series("gain", t0 + sa + SETTLE, t0 + sb - 0.05)
        readings += len(prob)
        a, b = int((sa + SETTLE) * RATE), int((sb - 0.05) * RATE)
        xin, yout = x[a:b], y[a + L:b + L]
        if rms(xin) == 0 or len(yout) != len(xin):
            level = "%9s" % "-"
        elif rms(yout) < 1e-7:  # below -140 dBFS: the gate muted it
            level = "%9s" % "muted"
        else:
            level = "%9.1f" % (db(rms(yout)) - db(rms(xin)))
        if not prob or not gain:
            say("   %-22s %7.1f %10s %9s %6s %s  no readings" % (name, sb - sa, "-", "-", "-",
                                                               level))
            continue
        opened = sum(1 for g in gain if g >= -3.0) / len(gain)
        state = "open" if opened >= 0.7 else "closed" if opened <= 0.3 else "partly open"
        say("   %-22s %7.1f %10.3f %9.1f %5.0f%% %s  %s"
            % (name, sb - sa, float(np.mean(prob)), float(np.median(gain)), 100 * opened,
               level, state))
    say("   (readings from %.1f s into each segment; 'open' = share of readings with gain "
        ">= -3 dB; latency %d frames)" % (SETTLE, L))
    if readings == 0:
        raise TestFailure("jalv reported no probability/gain readings for the gate")


# --------------------------------------------------------------------------- genre

def genre_clips(procs, labels, rng):
    """[(title, path of a 48 kHz float WAV)]: two held-out clips of styles the plugin
    knows, from the newest models/data/*/genre_test/, else synthetic music."""
    tests = sorted(glob.glob(os.path.join(TOP, "models", "data", "*", "genre_test")))
    if tests:
        root = tests[-1]
        styles = sorted(d for d in os.listdir(root) if glob.glob(os.path.join(root, d, "*.wav")))
        known = [s for s in styles if s in labels] or styles
        prefer = [s for s in ("classical", "rock", "jazz", "electronic") if s in known]
        picks = (prefer + [s for s in known if s not in prefer])[:2]
        out = []
        for style in picks:
            src = sorted(glob.glob(os.path.join(root, style, "*.wav")))[0]
            dst = os.path.join(procs.tmp, "genre_%s.wav" % style)
            run(["sox", src, "-r", str(RATE), "-c", "1", "-b", "32", "-e", "floating-point",
                 dst, "trim", "0", str(CLIP_SECONDS)])
            out.append(("%s clip (%s)" % (style, os.path.relpath(src, TOP)), dst))
        if out:
            return out
    dst = os.path.join(procs.tmp, "genre_music.wav")
    write_wav(dst, fade(music(rng, int(CLIP_SECONDS * RATE), RATE, -16.0), RATE), RATE)
    return [("synthetic plucked music (no models/data/*/genre_test/ here)", dst)]


def demo_genre(procs, server, rng, bundle):
    ports = plugin_ports(URI_GENRE)
    probs = [s for _, s, k in ports if s.startswith("p_") and "Output" in k]
    labels = [p[2:] for p in probs]
    smoothing = port_ranges(URI_GENRE).get("smoothing", (None, None, None))[2]
    clips = genre_clips(procs, labels, rng)
    say()
    say("== Stride Genre (%s) in jalv: %d clip(s) of %g s, smoothing %s s (default)"
        % (URI_GENRE, len(clips), CLIP_SECONDS, "%g" % smoothing if smoothing is not None
           else "?"))
    say("   labels: %s" % ", ".join(labels))
    seen = 0
    for i, (title, wav) in enumerate(clips):
        # A fresh instance per clip: the smoothed estimate starts from this clip alone.
        client = "stride_demo_genre%d_%d" % (i, os.getpid())
        j = Jalv(procs, server, URI_GENRE, client, outputs=outputs_of(ports))
        j.wait_ports(["in", "out"])
        if i == 0:
            so = loaded_binary(j.p.pid, "genre.so")
            say("   plugin: %s; %s" % (so or bundle, model_note(bundle, "genre")))
        n = len(read_wav(wav)[0])
        j.start_polling()
        t0, _ = play(procs, server, client + "_play", wav, [client + ":in"], tail=0.2)
        j.stop_polling()
        j.quit()
        # The last reading while the clip was still playing (after it, the plugin hears silence).
        end = t0 + n / RATE - 0.02
        last = {}
        for s in probs + ["class", "confidence"]:
            v = j.series(s, t0, end)
            last[s] = v[-1] if v else None
        say("   %s" % title)
        if last["class"] is None or any(last[p] is None for p in probs):
            say("     no readings from jalv")
            continue
        seen += 1
        k = int(last["class"])
        top = labels[k] if 0 <= k < len(labels) else "class %d" % k
        say("     top class: %-12s confidence %.3f" % (top, last["confidence"]))
        say("     " + "  ".join("%s %.3f" % (p, last[p]) for p in probs))
    if seen == 0:
        raise TestFailure("jalv reported no class/p_<label> readings for genre")


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default="/usr/local/lib/lv2/stride.lv2",
                    help="the installed bundle (default %(default)s)")
    ap.add_argument("--build", default=os.path.join(TOP, "build"),
                    help="the build folder holding tests/hosts/jack_play (default %(default)s)")
    args = ap.parse_args()
    started = time.monotonic()

    bundle = os.path.abspath(args.bundle)
    player = os.path.join(args.build, "tests", "hosts", "jack_play")
    problems = []
    if not os.path.isfile(os.path.join(bundle, "manifest.ttl")):
        problems.append("no installed LV2 bundle at %s: run ./waf build and ./waf install "
                        "(setup.sh does both)" % bundle)
    if not os.access(player, os.X_OK):
        problems.append("%s is missing: ./waf configure with libjack-jackd2-dev installed, "
                        "then ./waf build" % player)
    if problems:
        for p in problems:
            say("demo_plugins: %s" % p, file=sys.stderr)
        return 1
    # The harness takes its bundle and build folder from these (see tests/hosts/README.md);
    # with the bundle in a system LV2 folder, hosts get LV2_PATH=/usr/lib/lv2:/usr/local/lib/lv2.
    os.environ["STRIDE_LV2_BUNDLE"] = bundle
    os.environ["STRIDE_BUILD"] = os.path.abspath(args.build)

    procs = None
    try:
        need_tools("jackd", "jack_lsp", "jalv", "lv2info", "espeak-ng", "sox", "stdbuf")
        procs = Procs(TIME_LIMIT)
        say("LV2_PATH=%s" % hostlib.lv2_path())
        rng = np.random.default_rng(20240505)
        server = start_jackd(procs, RATE, PERIOD)
        demo_gate(procs, server, rng, bundle)
        demo_genre(procs, server, rng, bundle)
    except TestFailure as e:
        say("demo_plugins: FAILED: %s" % e, file=sys.stderr)
        return 1
    finally:
        if procs is not None:
            procs.cleanup()
    say()
    say("(the plugin demo took %.0f s; the numbers are what the installed models report, "
        "whatever their quality)" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
