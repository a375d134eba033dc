#!/usr/bin/python3
"""Ardour 7 headless: Debian's ardour7-lua (Ardour's Lua session tool, "None
(Dummy)" backend) runs tests/hosts/ardour_session.lua twice.

First process: a new session at 48 kHz with three tracks, each holding our test
player (a Lua DSP processor that plays the test audio in place of the input)
and one Stride plugin inserted by URI (gate on a mono track, gate_stereo on a
stereo one, genre on a mono one); controls set through Ardour's Lua API; the
audio played through the engine while the plugins' output controls are read;
then the genre plugin's model parameter set to a NON-default model by loading
an LV2 preset that carries it (Ardour's Lua API has no call for LV2
patch:writable properties, see README in this folder), played again, saved.
Second process: the session loaded again, controls and model path restored.

Checks:
  - Ardour's console has no "patch:Set for unknown property" (nor
    "unsupported property") warning;
  - every plugin inserts; the controls set are in the session XML and read
    back after reload;
  - gate and gate_stereo close (probability low, gain at the range) on silence
    and noise and open on speech and music, before and after the reload;
  - genre with the shipped model spreads probability over its classes; with
    the non-default model (two classes, a constant 0.9 / 0.1 output) exactly
    two p_* outputs are non-zero, the largest 0.9 = confidence, class its index;
    after the reload the same (the model path was restored);
  - the saved plugin state (state.ttl in the session) names the non-default
    model, before and after the reload.

Needs: ardour (ardour7-lua), lilv-utils, espeak-ng, sox; the bundle from ./waf build.
"""
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostlib import (URI_GATE, URI_GATE_STEREO, URI_GENRE, Timeline, TestFailure, fade,  # noqa: E402
                     hum, log, lv2_path, main, music, need_tools, pink_noise, plugin_ports,
                     port_ranges, speech)

HERE = os.path.dirname(os.path.abspath(__file__))
RATE = 48000
SETTLE = 0.8
RANGE_DB = -40.0
THRESHOLD = 0.5
PRESET_URI = "urn:stride:test:preset:genre-alt"
MODEL_URI = "urn:stride:model"
ALT_P = 0.9


def control_map(uri):
    """symbol -> (port index, Ardour's control number, is output). Ardour numbers the
    control ports (inputs and outputs together) in port order."""
    out = {}
    which = 0
    for index, sym, kinds in plugin_ports(uri):
        if "Control" in kinds:
            out[sym] = (index, which, "Output" in kinds)
            which += 1
    return out


def write_alt_genre_model(path, n_labels=2):
    """A valid Stride classify model whose output does not depend on the input:
    conv weights 0, biases giving softmax [0.9, 0.1]. Written with json + struct as
    docs/MODEL_FORMAT.md describes."""
    arch = {"layers": [
        {"type": "conv1d", "name": "conv", "in": 1, "out": n_labels, "kernel": 16, "stride": 16},
        {"type": "global_avgpool"},
        {"type": "softmax"},
    ]}
    bias = [math.log(ALT_P / (1 - ALT_P))] + [0.0] * (n_labels - 1)
    tensors = [("conv.weight", [n_labels, 1, 16], [0.0] * (n_labels * 16)),
               ("conv.bias", [n_labels], bias)]
    meta = {"stride.format": "1", "stride.task": "classify", "stride.sample_rate": "16000",
            "stride.labels": json.dumps(["alt_first", "alt_second"][:n_labels]),
            "stride.architecture": json.dumps(arch), "stride.window": "1600",
            "stride.hop": "800"}
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for name, shape, vals in tensors:
        data = struct.pack("<%df" % len(vals), *vals)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_preset_bundle(folder, model_path):
    """An LV2 preset of urn:stride:genre whose state sets the model parameter."""
    b = os.path.join(folder, "stride-test-presets.lv2")
    os.makedirs(b, exist_ok=True)
    pre = ("@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
           "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
           "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
           "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n")
    with open(os.path.join(b, "manifest.ttl"), "w") as f:
        f.write(pre + "<%s> a pset:Preset ; lv2:appliesTo <%s> ; rdfs:seeAlso <alt.ttl> .\n"
                % (PRESET_URI, URI_GENRE))
    with open(os.path.join(b, "alt.ttl"), "w") as f:
        f.write(pre + "<%s> a pset:Preset ;\n  lv2:appliesTo <%s> ;\n"
                "  rdfs:label \"Stride test: two-class model\" ;\n"
                "  state:state [ <%s> <file://%s> ] .\n" % (PRESET_URI, URI_GENRE, MODEL_URI,
                                                             model_path))
    return folder


def lua_config(path, mode, sess_dir, audio, duration, alt_duration, plugins):
    def val(v):
        if isinstance(v, str):
            return json.dumps(v)  # a JSON string is a valid Lua string here (ASCII only)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(float(v)) if isinstance(v, float) else str(v)
        if isinstance(v, list):
            return "{ " + ", ".join(val(x) for x in v) + " }"
        if isinstance(v, dict):
            return "{ " + ", ".join("%s = %s" % (k, val(x)) for k, x in v.items()) + " }"
        raise TypeError(v)
    cfg = {"mode": mode, "dir": sess_dir, "name": "stride_test", "rate": RATE, "audio": audio,
           "results": path + ".results",
           "duration": duration, "alt_duration": alt_duration, "plugins": plugins}
    with open(path, "w") as f:
        f.write("return " + val(cfg) + "\n")


def run_ardour(procs, env, config, label, timeout=150):
    logpath = os.path.join(procs.tmp, "%s.log" % label)
    with open(logpath, "w") as logf:
        p = procs.start(["ardour7-lua", os.path.join(HERE, "ardour_session.lua"), config],
                        env=env, stdout=logf, stderr=subprocess.STDOUT, cwd=procs.tmp)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            procs.stop(p)
            raise TestFailure("ardour7-lua (%s) did not finish within %d s" % (label, timeout))
    with open(logpath, errors="replace") as f:
        console = f.read().splitlines()
    for line in console:
        log("  ardour: " + line)
    # Ardour prints this for a patch:Set on notify of a property it does not
    # know as patch:writable; the plugins announce only the model path unasked
    # (docs/PLUGINS.md).
    noisy = [line for line in console if "patch:Set for unknown property" in line
             or "patch:Set for unsupported property" in line]
    if noisy:
        raise TestFailure("ardour7-lua (%s) warned %d times: %s" % (label, len(noisy), noisy[0]))
    lines = []
    if os.path.exists(config + ".results"):
        with open(config + ".results", errors="replace") as f:
            lines = f.read().splitlines()
    if "DONE" not in lines:
        raise TestFailure("ardour7-lua (%s) stopped early (exit %s); see the lines above"
                          % (label, p.returncode))
    return lines


def readings(lines, phase, tag, outputs):
    """[(position, {symbol: value})] for one phase and track."""
    res = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "V" and parts[1] == phase and parts[2] == tag:
            vals = [float(v) for v in parts[4:]]
            res.append((float(parts[3]), dict(zip(outputs, vals))))
    return res


def in_window(rows, a, b):
    return [v for pos, v in rows if a <= pos <= b]


def check_gate(checks, rows, tag, segments, phase):
    for name, kind, a, b in segments:
        if b - a < SETTLE + 0.3:
            continue
        vals = in_window(rows, a + SETTLE, b - 0.05)
        if not vals:
            checks.check(False, "%s [%s]: readings during %s" % (tag, phase, name), "none")
            continue
        prob = [v["probability"] for v in vals]
        gain = [v["gain"] for v in vals]
        pmed = float(np.median(prob))
        if kind == "closed":
            fr = sum(1 for g in gain if g <= RANGE_DB + 3.0) / len(gain)
            checks.check(pmed < THRESHOLD and fr >= 0.8,
                         "%s [%s]: closed during %s" % (tag, phase, name),
                         "median probability %.3f, %.0f%% of gains at the range, median %.1f dB"
                         % (pmed, 100 * fr, np.median(gain)))
        else:
            fr = sum(1 for g in gain if g >= -3.0) / len(gain)
            checks.check(pmed >= THRESHOLD and fr >= 0.7,
                         "%s [%s]: open during %s" % (tag, phase, name),
                         "median probability %.3f, %.0f%% of gains >= -3 dB, median %.1f dB"
                         % (pmed, 100 * fr, np.median(gain)))


def alt_model_ok(vals, probs):
    """The two-class constant model: exactly two p_* non-zero, 0.9 and 0.1."""
    pv = [vals[s] for s in probs]
    nonzero = [v for v in pv if v > 1e-3]
    k = int(round(vals["class"]))
    ok = (len(nonzero) == 2 and abs(max(pv) - ALT_P) <= 0.02 and abs(min(nonzero) - (1 - ALT_P)) <= 0.02
          and 0 <= k < len(pv) and pv[k] == max(pv) and abs(vals["confidence"] - ALT_P) <= 0.02)
    return ok, "class %d, confidence %.3f, p = %s" % (k, vals["confidence"],
                                                     " ".join("%.3f" % v for v in pv))


def state_model_path(sess_dir, xml_path, checks, when):
    """The model path in the genre plugin's saved state (state.ttl of its state-dir)."""
    root = ET.parse(xml_path).getroot()
    found = None
    for proc in root.iter("Processor"):
        if proc.get("unique-id") == URI_GENRE:
            found = proc
    if found is None:
        checks.check(False, "session XML [%s] holds the genre plugin" % when)
        return None
    lv2 = found.find("lv2")
    sdir = lv2.get("state-dir") if lv2 is not None else None
    checks.check(sdir is not None, "session XML [%s]: genre has a saved LV2 state" % when,
                 "state-dir %s" % sdir)
    if sdir is None:
        return None
    ttl = os.path.join(sess_dir, "plugins", found.get("id"), sdir, "state.ttl")
    if not os.path.isfile(ttl):
        checks.check(False, "session [%s]: %s exists" % (when, ttl))
        return None
    text = open(ttl).read()
    m = re.search(r"<%s>\s+(?:<([^>]*)>|\"([^\"]*)\")" % re.escape(MODEL_URI), text)
    if not m:
        checks.check(False, "session [%s]: state.ttl names the model" % when, text[-600:])
        return None
    ref = m.group(1) or m.group(2)
    if ref.startswith("file://"):
        ref = ref[len("file://"):]
    return os.path.realpath(os.path.join(os.path.dirname(ttl), ref))


def body(procs, checks):
    need_tools("ardour7-lua", "lv2info", "espeak-ng", "sox")
    rng = np.random.default_rng(777)
    tmp = procs.tmp

    # The test audio: silence, speech, noise, music; positions are the time line.
    tl = Timeline(RATE)
    tl.add("silence", "closed", np.zeros(int(1.5 * RATE), np.float32))
    tl.add("speech", "open", speech(tmp, RATE, "The quick brown fox jumps over the lazy dog. "
                                               "Please call Stella and ask her to come along."))
    tl.add("pink noise -35 dBFS", "closed", pink_noise(rng, int(2.5 * RATE), -35.0))
    tl.add("music", "open", fade(music(rng, int(4.0 * RATE), RATE, -18.0), RATE))
    tl.add("hum -30 dBFS", "closed", hum(int(2.0 * RATE), RATE, -30.0))
    audio = os.path.join(tmp, "timeline.f32")
    tl.audio().astype("<f4").tofile(audio)
    duration = tl.n / RATE
    music_seg = [s for s in tl.segments if s[0] == "music"][0]

    alt_model = os.path.join(tmp, "alt_genre.safetensors")
    write_alt_genre_model(alt_model)
    presets = write_preset_bundle(os.path.join(tmp, "lv2"), alt_model)

    maps = {u: control_map(u) for u in (URI_GATE, URI_GATE_STEREO, URI_GENRE)}
    probs = sorted((s for s in maps[URI_GENRE] if s.startswith("p_")),
                   key=lambda s: maps[URI_GENRE][s][0])
    gate_out = ["probability", "gain", "latency"]
    genre_out = ["class", "confidence"] + probs
    for uri, outs in ((URI_GATE, gate_out), (URI_GATE_STEREO, gate_out), (URI_GENRE, genre_out)):
        missing = [s for s in outs if s not in maps[uri]]
        if missing:
            raise TestFailure("%s lacks control ports %s" % (uri, missing))
    # The least smoothing the port allows, so the model switch shows at once.
    smoothing_min = port_ranges(URI_GENRE).get("smoothing", (0.0, None, None))[0] or 0.0

    def spec(tag, uri, channels, sets, outs, preset=None):
        m = maps[uri]
        d = {"tag": tag, "uri": uri, "channels": channels,
             "set": [{"sym": s, "which": m[s][1], "value": v} for s, v in sets],
             "outputs": [{"sym": s, "which": m[s][1]} for s in outs]}
        if preset:
            d["preset"] = preset
        return d

    plugins = [
        spec("gate", URI_GATE, 1, [("range", RANGE_DB), ("threshold", THRESHOLD)], gate_out),
        spec("gate_stereo", URI_GATE_STEREO, 2, [("range", RANGE_DB)], gate_out),
        spec("genre", URI_GENRE, 1, [("smoothing", smoothing_min)], genre_out, PRESET_URI),
    ]

    # Ardour's config, cache and data go to the test's folder; the player script too.
    cfg_home = os.path.join(tmp, "config")
    os.makedirs(os.path.join(cfg_home, "ardour7", "scripts"))
    shutil.copy(os.path.join(HERE, "ardour_player.lua"),
                os.path.join(cfg_home, "ardour7", "scripts", "_stride_test_player.lua"))
    env = dict(os.environ, XDG_CONFIG_HOME=cfg_home, XDG_CACHE_HOME=os.path.join(tmp, "cache"),
               XDG_DATA_HOME=os.path.join(tmp, "data"), LV2_PATH=presets + ":" + lv2_path())
    sess = os.path.join(tmp, "session")
    xml_path = os.path.join(sess, "stride_test.ardour")

    # ---------------------------------------------------------------- first process
    c1 = os.path.join(tmp, "create.lua")
    lua_config(c1, "create", sess, audio, duration, music_seg[2] + 2.5, plugins)
    lines = run_ardour(procs, env, c1, "create")
    for p in plugins:
        checks.check(any(l.startswith("R inserted %s %s" % (p["tag"], p["uri"])) for l in lines),
                     "Ardour inserts %s by URI" % p["uri"])
        for s in p["set"]:
            checks.check(any(l.startswith("R set %s %s " % (p["tag"], s["sym"]))
                             and l.endswith(" true") for l in lines),
                         "Ardour sets %s's %s (LuaAPI.set_processor_param)" % (p["tag"], s["sym"]))
    for tag in ("gate", "gate_stereo"):
        rows = readings(lines, "run", tag, gate_out)
        check_gate(checks, rows, tag, tl.segments, "first run")
        lat = sorted({v["latency"] for _, v in rows})
        checks.check(len(lat) == 1 and lat[0] >= 0 and lat[0] == int(lat[0]),
                     "%s: latency constant in Ardour" % tag, "values %s" % lat)
    rows = readings(lines, "run", "genre", genre_out)
    vals = in_window(rows, music_seg[2] + 2.0, music_seg[3])
    if vals:
        v = vals[-1]
        pv = [v[s] for s in probs]
        checks.check(sum(1 for x in pv if x > 1e-3) >= 3 and 0 <= v["class"] < len(pv)
                     and pv[int(v["class"])] == max(pv),
                     "genre (shipped model): probability over several classes, class = the largest",
                     "class %d, p = %s" % (v["class"], " ".join("%.3f" % x for x in pv)))
    else:
        checks.check(False, "genre readings during music", "none")
    checks.check(any(l.startswith("R preset genre true") for l in lines),
                 "Ardour loads the preset that sets genre's model")
    rows = readings(lines, "alt", "genre", genre_out)
    vals = in_window(rows, 1.5, 1e9)
    ok, detail = alt_model_ok(vals[-1], probs) if vals else (False, "no readings")
    checks.check(ok, "genre runs the non-default model after the preset", detail)

    root = ET.parse(xml_path).getroot()
    for p in plugins:
        procs_xml = [e for e in root.iter("Processor") if e.get("unique-id") == p["uri"]]
        checks.check(len(procs_xml) == 1, "session XML holds %s" % p["uri"])
        if procs_xml:
            ports = {e.get("symbol"): float(e.get("value")) for e in procs_xml[0].iter("Port")}
            for s in p["set"]:
                checks.check(abs(ports.get(s["sym"], float("nan")) - s["value"]) < 1e-6,
                             "session XML: %s %s = %g" % (p["tag"], s["sym"], s["value"]),
                             "saved %s" % ports.get(s["sym"]))
    path1 = state_model_path(sess, xml_path, checks, "first save")
    checks.check(path1 == os.path.realpath(alt_model),
                 "saved genre state names the non-default model", "%s" % path1)

    # ---------------------------------------------------------------- second process
    c2 = os.path.join(tmp, "reload.lua")
    lua_config(c2, "reload", sess, audio, duration, 0.0, plugins)
    lines = run_ardour(procs, env, c2, "reload")
    for p in plugins:
        checks.check(("R found %s %s" % (p["tag"], p["uri"])) in lines,
                     "after reload: %s is on its track" % p["uri"])
        for s in p["set"]:
            got = [float(l.split()[3]) for l in lines
                   if l.startswith("P %s %s " % (p["tag"], s["sym"]))]
            checks.check(got and abs(got[0] - s["value"]) < 1e-4,
                         "after reload: %s %s = %g" % (p["tag"], s["sym"], s["value"]),
                         "read %s" % got)
    for tag in ("gate", "gate_stereo"):
        check_gate(checks, readings(lines, "reload", tag, gate_out), tag, tl.segments, "reload")
    rows = readings(lines, "reload", "genre", genre_out)
    vals = in_window(rows, music_seg[2] + 1.5, music_seg[3])
    ok, detail = alt_model_ok(vals[-1], probs) if vals else (False, "no readings")
    checks.check(ok, "after reload: genre still runs the non-default model (path restored)", detail)
    path2 = state_model_path(sess, xml_path, checks, "after reload")
    checks.check(path2 == os.path.realpath(alt_model),
                 "after reload and save: the genre state still names the non-default model",
                 "%s" % path2)


if __name__ == "__main__":
    sys.exit(main(body, time_limit=240))
