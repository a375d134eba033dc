#!/usr/bin/python3
"""The parts of the genre renders' production chain (models/recipes/production.py) and of the gate's
real-noise variants (models/recipes/noise_variants.py) that can be checked against worked truth:

  - a Hydrogen kit instrument's name gives the role a hand-made table says (and hand-held extras none);
  - play_kit puts a hit's sample where its beat falls, at a level that follows velocity, choosing the
    velocity layer by range;
  - sox_effects: no effects give the input back; "gain -6.0206" halves it (the headroom scaling is undone
    exactly); a low-pass at 1 kHz leaves a 200 Hz tone and removes a 5 kHz one;
  - the training and test pools share no soundfont and no kit, and MuseScore General is only in the test pool;
  - the chain drawn for a seed is the same every time, and different for another seed;
  - soft_limit keeps the sign and bounds the peak at 1;
  - noise variants: the swell stays within its bound, sox's speed x2 halves the length; a variant is
    deterministic for its seed.

Needs numpy and sox; the kit test needs hydrogen-drumkits (models/recipes/PACKAGES) and is skipped with a
line when it is missing.
"""
import os
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
SRC = os.environ.get("STRIDE_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish  # noqa: E402
sys.path.insert(0, os.path.join(SRC, "models", "recipes"))
import noise_variants  # noqa: E402
import production  # noqa: E402
from common import RATE, read_audio, rng_for, write_wav  # noqa: E402

def test_roles():
    table = {"Kick": "kick", "BassDrum": "kick", "Kick (Tama Superstar 22\")": "kick", "Snare Jazz": "snare",
             "Snare Roll": None, "Pearl Snare Rimshot": None, "Closed HH": "hh_closed", "Hi Hat Closed": "hh_closed",
             "Sabian Hat Open": "hh_open", "Pedal HH": "hh_pedal", "Tom Low": "tom_low", "Floor Tom": "tom_low",
             "Tom Mid": "tom_mid", "Tom Hi": "tom_hi", "Ride Bell": "ride_bell", "ride-cup": "ride_bell",
             "Ride Jazz": "ride", "crash16inch": "crash", "Hand Clap": "clap", "Stick": "stick",
             "Cowbell": "cowbell", "Djembe1 Slap": None, "Zap 1": None}
    wrong = {n: production.role_of_name(n) for n, r in table.items() if production.role_of_name(n) != r}
    check(not wrong, "kit instrument names give the roles of the hand-made table (wrong: %s)" % wrong)
    check(all(r in {v for v in production.ROLE_OF_KEY.values()} for r in set(table.values()) - {None}),
          "every role a name can have is one a General MIDI key plays")


def test_play_kit():
    soft = np.zeros(100)
    soft[0] = 1.0
    loud = np.zeros(100)
    loud[0] = -1.0
    kit = {"kick": [(0.0, 0.5, 1.0, soft), (0.5, 1.0, 1.0, loud)]}

    class Rng:   # a stand-in generator: layer 0 of the fitting ones, gain factor 1
        def integers(self, n):
            return 0

        def uniform(self, a, b):
            return 1.0

    def seconds_at(beat):
        return beat * 0.5   # 120 bpm
    out = production.play_kit(kit, [(1.0, 36, 127), (2.0, 36, 40)], seconds_at, RATE * 2, Rng())
    hits = np.nonzero(out)[0]
    check(list(hits) == [RATE // 2, RATE], "hits land at 0.5 s and 1.0 s (found at samples %s)" % list(hits))
    check(abs(out[RATE // 2] - (-1.0)) < 1e-12, "velocity 127 plays the loud layer at full level")
    check(abs(out[RATE] - (40 / 127) ** 1.5) < 1e-12, "velocity 40 plays the soft layer at (40/127)^1.5")


def test_sox_effects():
    t = np.arange(RATE) / RATE
    x = 0.3 * np.sin(2 * np.pi * 200 * t)
    check(production.sox_effects(x, [], "none") is x, "no effects: the input itself")
    y = production.sox_effects(x, ["gain", "-6.0206"], "gain")
    check(np.max(np.abs(y - x / 2)) < 1e-4, "gain -6.02 dB halves the signal (headroom undone; worst %.2g)"
          % np.max(np.abs(y - x / 2)))
    hi = 0.3 * np.sin(2 * np.pi * 5000 * t)
    lo_out = production.sox_effects(x, ["lowpass", "1000"], "lowpass")
    hi_out = production.sox_effects(hi, ["lowpass", "1000"], "lowpass")
    r = lambda v: float(np.sqrt(np.mean(v[RATE // 10:] ** 2)))   # noqa: E731
    check(abs(r(lo_out) / r(x) - 1) < 0.05, "a 1 kHz low-pass keeps a 200 Hz tone (%.3f)" % (r(lo_out) / r(x)))
    check(r(hi_out) / r(hi) < 0.25, "and takes a 5 kHz one down by 12 dB or more (%.3f)" % (r(hi_out) / r(hi)))
    check(len(lo_out) == len(x), "the output is as long as the input")


def test_pools():
    check(not set(production.SOUNDFONTS["train"]) & set(production.SOUNDFONTS["test"]),
          "no soundfont is in both pools")
    check(not set(production.KITS["train"]) & set(production.KITS["test"]), "no kit is in both pools")
    check(not any("MuseScore" in p for p in production.SOUNDFONTS["train"]),
          "MuseScore General (the held-out sets' soundfont) is not in the training pool")


def test_chain():
    a = production.draw_chain(rng_for(0, "chain", 1))
    b = production.draw_chain(rng_for(0, "chain", 1))
    others = [production.draw_chain(rng_for(0, "chain", k)) for k in range(2, 8)]
    check(a == b, "the same seed draws the same chain")
    check(any(o != a for o in others), "other seeds draw other chains")
    x = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])
    y = production.soft_limit(x, 3.0)
    check(np.all(np.sign(y) == np.sign(x)) and np.max(np.abs(y)) <= 1.0 + 1e-12 and abs(y[0] + 1) < 1e-12,
          "soft_limit keeps signs and puts the peak at 1")


def test_kit_loads():
    if not os.path.isdir(production.KIT_DIR):
        print("skip: %s missing (hydrogen-drumkits)" % production.KIT_DIR)
        return
    kit = production.load_kit("Millo_MultiLayered2")
    check({"kick", "snare", "hh_closed", "hh_open", "crash", "ride"} <= set(kit),
          "a full kit gives kick, snare, hats, crash and ride (%s)" % sorted(kit))
    check(len(kit["kick"]) > 1 and all(len(la[3]) > 100 for la in kit["kick"]),
          "its kick has several velocity layers of real samples")


def test_variants():
    n = 4 * RATE
    g = noise_variants.swell(rng_for(0, "swell"), n)
    db = 20 * np.log10(g)
    check(np.max(np.abs(db)) <= noise_variants.SWELL_DB + 1e-9, "the swell stays within +-%g dB (%.2f)"
          % (noise_variants.SWELL_DB, np.max(np.abs(db))))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "n.wav")
        write_wav(src, 0.1 * np.random.default_rng(1).standard_normal(n))
        from common import run
        run(["sox", src, os.path.join(tmp, "fast.wav"), "speed", "2", "rate", str(RATE)], "speed")
        fast = read_audio(os.path.join(tmp, "fast.wav"), "fast")
        check(abs(len(fast) - n / 2) < 100, "sox speed x2 halves the length (%d of %d)" % (len(fast), n))
        d1, d2 = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
        noise_variants.variant(src, d1, rng_for(0, "noise-variant", "n.wav", 0), "v")
        noise_variants.variant(src, d2, rng_for(0, "noise-variant", "n.wav", 0), "v")
        with open(d1, "rb") as f1, open(d2, "rb") as f2:
            check(f1.read() == f2.read(), "a variant is the same for the same seed")


def main():
    test_roles()
    test_play_kit()
    test_sox_effects()
    test_pools()
    test_chain()
    test_kit_loads()
    test_variants()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
