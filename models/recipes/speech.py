"""Speech for the gate's content class: espeak-ng reading sentences from Debian's
fortune packages, with many voices, variants, languages, rates and pitches.

Training and held-out sets use disjoint voice variants (so no voice/variant/language
combination is shared) and disjoint sentences (split by a hash of the sentence)."""

import glob
import os
import re
import tempfile

import numpy as np

from common import RATE, RecipeError, db_to_amp, fade, frame_rms, read_audio, run, stable_hash

FORTUNES = "/usr/share/games/fortunes"
TEXT_SOURCES = {
    "en": ["fortunes", "literature", "riddles"],
    "de": ["de/anekdoten", "de/bahnhof", "de/gedichte", "de/letzteworte", "de/murphy", "de/sprichworte",
           "de/sprueche", "de/stilblueten", "de/wusstensie", "de/zitate", "de/regeln", "de/tips", "de/quiz",
           "de/kinderzitate", "de/mathematiker", "de/elefanten"],
    "es": ["es/*.fortunes"],
    "it": ["it/italia", "it/leggi", "it/definizioni", "it/formiche", "it/adams", "it/zuse", "it/luke"],
    "pl": ["pl/pratchett", "pl/sapkowski", "pl/seneka", "pl/zen", "pl/puchatek", "pl/haiku", "pl/wierszyki",
           "pl/stachura", "pl/nauka", "pl/bajki", "pl/dzieci", "pl/sport", "pl/misc"],
    "pt": ["brasil"],
}

# espeak-ng voice -> the text it reads. Languages without a fortune package read a
# neighbour's text with their own letter-to-sound rules: still that language's sounds.
TRAIN_LANGS = {"en-us": "en", "en-gb": "en", "en-gb-scotland": "en", "en-us-nyc": "en", "de": "de", "es": "es",
               "it": "it", "pl": "pl", "pt-br": "pt", "fr-fr": "es", "nl": "de", "sv": "de", "cs": "pl",
               "ro": "it", "ca": "es", "fi": "it", "hr": "pl", "nb": "de"}
TEST_LANGS = {"en-gb-x-rp": "en", "en-029": "en", "en-us": "en", "es-419": "es", "de": "de", "it": "it", "pl": "pl",
              "pt": "pt", "fr-be": "es", "da": "de", "sk": "pl", "hu": "it", "sl": "pl", "af": "de"}
TRAIN_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "croak", "whisper", "klatt", "klatt2",
                  "klatt3", "adam", "Alex", "Alicia", "Andy", "Annie", "aunty", "belinda", "benjamin", "boris",
                  "caleb", "david", "ed", "edward", "Gene", "Henrique", "Hugo", "iven", "iven2", "Jacky", "john",
                  "linda", "Marco", "max", "michel", "miguel", "norbert", "pablo", "paul", "quincy", "rob",
                  "robert", "steph", "steph2", "travis", "victor", "zac", "anika", "Lee", "Michael", "Mike",
                  "robosoft", "kaukovalta"]
TEST_VARIANTS = ["m7", "m8", "f4", "f5", "whisperf", "klatt4", "klatt5", "klatt6", "Andrea", "antonio", "Denis",
                 "Diogo", "edward2", "Gene2", "gustave", "iven3", "iven4", "Mario", "marcelo", "pedro", "sandro",
                 "shelby", "steph3", "grandma", "grandpa", "Nguyen", "anikaRobot", "AnxiousAndy", "RicishayMax",
                 "robosoft2"]
assert not set(TRAIN_VARIANTS) & set(TEST_VARIANTS)

MIN_S, MAX_S = 1.5, 6.0

_ATTRIB = re.compile(r"^\s*(--|―|—)")
_JUNK = re.compile(r"(https?://|www\.|@|[{}<>|\\#=_~^]|\$\w)")


def _entries(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    out = []
    for entry in text.split("\n%"):
        lines = []
        for line in entry.split("\n"):
            if _ATTRIB.match(line) or line.strip().startswith("%"):
                continue
            lines.append(line.strip())
        s = " ".join(x for x in lines if x)
        s = re.sub(r"\s+", " ", s).strip(" -*\"'")
        if not s or _JUNK.search(s):
            continue
        letters = sum(c.isalpha() for c in s)
        if letters < 0.7 * len(s.replace(" ", "")) or letters < 12:
            continue
        out.append(s)
    return out


_POOLS = {}


def sentence_pool(lang, split):
    """Sentences of one language for one split: a hash of each sentence decides, a
    quarter go to the held-out set, the rest to training."""
    key = (lang, split)
    if key not in _POOLS:
        files = []
        for pat in TEXT_SOURCES[lang]:
            files += sorted(glob.glob(os.path.join(FORTUNES, pat)))
        sents = []
        for path in files:
            if path.endswith((".dat", ".u8")):
                continue
            for e in _entries(path):
                for s in re.split(r"(?<=[.!?;:])\s+", e):
                    if len(s.split()) >= 2:
                        sents.append(s)
        want_test = split != "gate"
        pool = [s for s in sents if (stable_hash(s) % 4 == 0) == want_test]
        if not pool:
            raise RecipeError("no %s sentences for %s: is the fortune package for it installed? (looked in %s)"
                              % (lang, split, ", ".join(TEXT_SOURCES[lang])))
        _POOLS[key] = pool
    return _POOLS[key]


def pick_text(rng, lang, split, words):
    pool = sentence_pool(lang, split)
    i = int(rng.integers(len(pool)))
    out = []
    while len(out) < words:
        out += pool[i % len(pool)].split()
        i += 1
    return " ".join(out[: max(words, 2)])


def _trim(x, rel_db=-50.0, floor_db=-70.0):
    """Cut leading and trailing silence, keeping 20 ms before the first and 30 ms
    after the last 10 ms frame that is within rel_db of the loudest."""
    frame = RATE // 100
    fr = frame_rms(x, frame)
    if fr.max() <= 0:
        return x[:0]
    thr = max(fr.max() * db_to_amp(rel_db), db_to_amp(floor_db))
    on = np.nonzero(fr >= thr)[0]
    a = max(0, on[0] * frame - RATE // 50)
    b = min(len(x), (on[-1] + 1) * frame + 3 * RATE // 100)
    return x[a:b]


def _squeeze_pauses(x, rng, longest=0.3):
    """espeak-ng pauses at sentence ends are exact digital silence, sometimes half a
    second or more. A content clip should not teach that digital silence is content,
    so pauses longer than `longest` are cut down to 0.12-0.3 s, keeping their edges."""
    frame = RATE // 100
    fr = frame_rms(x, frame)
    if len(fr) == 0 or fr.max() <= 0:
        return x
    quiet = fr < max(fr.max() * db_to_amp(-50.0), db_to_amp(-70.0))
    pieces, start, i = [], 0, 0
    limit = int(longest * 100)
    while i < len(quiet):
        if quiet[i]:
            j = i
            while j < len(quiet) and quiet[j]:
                j += 1
            if j - i > limit and i > 0 and j < len(quiet):
                keep = int(rng.uniform(0.12, longest) * RATE)
                a, b = i * frame, j * frame
                pieces.append(x[start:a + keep // 2])
                start = b - (keep - keep // 2)
            i = j
        else:
            i += 1
    pieces.append(x[start:])
    return np.concatenate(pieces)


def _shorten(x, max_s):
    """Cut an over-long utterance in its quietest 20 ms frame between 65% and 100% of
    the limit, i.e. in a pause between words where possible."""
    frame = RATE // 50
    lo, hi = int(0.65 * max_s * RATE) // frame, int(max_s * RATE) // frame
    fr = frame_rms(x[: hi * frame], frame)
    cut = (lo + int(np.argmin(fr[lo:hi]))) * frame + frame // 2
    y = x[:cut].copy()
    n = RATE // 100
    y[-n:] *= np.linspace(1, 0, n)
    return _trim(y)


def voice_choices(split):
    if split == "gate":
        return TRAIN_LANGS, TRAIN_VARIANTS
    return TEST_LANGS, TEST_VARIANTS


def utterance(rng, split):
    """One utterance: float audio at 16 kHz and a description of how it was made."""
    langs, variants = voice_choices(split)
    lang = str(rng.choice(sorted(langs)))
    variant = str(rng.choice(variants))
    voice = lang + ("+" + variant if variant else "")
    target = rng.uniform(MIN_S, MAX_S)
    rate = int(rng.integers(90, 261))
    pitch = int(rng.integers(10, 91))
    amp = int(rng.integers(60, 181))
    gap = int(rng.choice([0, 0, 0, 1, 2, 4, 6]))
    words = max(2, int(round(target * rate / 60.0 * 0.85)))
    with tempfile.TemporaryDirectory(prefix="stride-speech-") as tmp:
        wav = os.path.join(tmp, "u.wav")
        for attempt in range(6):
            text = pick_text(rng, langs[lang], split, words)
            cmd = ["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-a", str(amp), "-g", str(gap),
                   "-w", wav, "--", text]
            run(cmd, "espeak-ng " + voice)
            x = _squeeze_pauses(_trim(read_audio(wav, "sox (speech)")), rng)
            if len(x) > MAX_S * RATE:
                x = _shorten(x, MAX_S)
            if len(x) >= MIN_S * RATE:
                x = fade(x, 0.003)
                desc = "espeak-ng -v %s -s %d -p %d -g %d | %s" % (voice, rate, pitch, gap, text)
                return x, voice, desc
            words = int(words * 1.6) + 2
    raise RecipeError("espeak-ng %s: could not make a %.1f-%.1f s utterance in 6 tries" % (voice, MIN_S, MAX_S))
