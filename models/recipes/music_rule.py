"""The written rule from a third party's style statement (a GENRE tag, a line of a package's credits) to a genre
label of the model. Pure Python: real_music.py applies it, tests/scripts/test_real_music.py checks it.

The rule, in order:
  1. The text is split into terms at ";", "/", "," and "|" (tags often hold several genres: "Soundtrack; Classical").
  2. Each term is matched, whole words and case-insensitive, against TERMS below; a term that matches none (Game,
     Soundtrack, Other, Sound FX, Folk, Ambient, Psychedelic...) says nothing about these styles and is ignored.
  3. One label found: that is the file's label. Several: a more specific style wins over the one it belongs to
     (SPECIFIC: "Symphonic Metal" is metal, not classical; "Heavy Metal; Rock" is metal); anything else that
     disagrees ("Blues Rock", "Electronic; Rock") is ambiguous and the file is left out, with the reason.
A credit line is prose, not a tag: there a style word that is also an everyday word (rock, metal, house, country,
electronic...) counts only beside a word about music (music, song, track, piece, genre, style...): prose_states.
Bare "Ambient" and "Psychedelic" are left out on purpose: either may be electronic or not (ambient piano, psychedelic
rock), and the rule does not guess. "Soundtrack" and "Game" name a use, not a style.
"""

import re

LABELS = ("blues", "bossa", "classical", "country", "electronic", "jazz", "metal", "reggae", "rock")

# label -> the terms that state it (regular expressions matched as whole words, case-insensitive)
TERMS = {
    "metal": [r"(heavy|thrash|trash|death|black|power|speed|doom|symphonic|progressive|nu)?\s*metal"],
    "rock": [r"rock", r"hard rock", r"punk", r"grunge", r"rock ?'?n'? ?roll"],
    "electronic": [r"electronic", r"electronica", r"electro", r"techno", r"trance", r"house", r"drum ?(and|&|n) ?bass",
                   r"drum'n'bass", r"dnb", r"d'n'b", r"dubstep", r"edm", r"idm", r"breakbeat", r"synth-?pop",
                   r"synthwave", r"chiptune", r"ambient electronic", r"electronic ambient", r"downtempo",
                   r"trip-?hop"],
    "classical": [r"classical", r"orchestral", r"orchestra", r"symphonic", r"symphony", r"baroque", r"chamber music",
                  r"string quartet", r"opera", r"concerto", r"sonata"],
    "jazz": [r"jazz", r"swing", r"bebop", r"big band", r"acid jazz", r"smooth jazz"],
    "blues": [r"blues", r"rhythm and blues"],
    "reggae": [r"reggae", r"roots reggae", r"dub", r"rocksteady"],
    "bossa": [r"bossa", r"bossa nova"],
    "country": [r"country", r"bluegrass", r"honky[- ]tonk", r"country (and|&) western"],
}
# (specific, general): when both are found, the specific one is the label
SPECIFIC = [("metal", "rock"), ("metal", "classical")]
SEPARATORS = r"[;/,|]"
# In a credit line (prose, not a tag) these style words are also everyday words ("recorded in my house", "rock
# texture", "other electronic medium", "metal sounds"): there they state a style only beside a word about music.
PROSE_WORDS = {"rock", "metal", "house", "country", "swing", "dub", "electronic", "electro", "punk", "opera",
               "dance", "edm", "idm"}
MUSIC_WORDS = re.compile(r"\b(music|musical|song|songs|track|tracks|tune|tunes|piece|pieces|genre|style|band|"
                         r"album|soundtrack|composition|composed|theme|loop)\b", re.IGNORECASE)

_COMPILED = {label: re.compile(r"\b(?:%s)\b" % "|".join(terms), re.IGNORECASE) for label, terms in TERMS.items()}


def terms_of(text):
    return [t.strip() for t in re.split(SEPARATORS, text or "") if t.strip()]


def labels_in(term):
    """The labels one term states (usually none or one)."""
    return sorted(label for label, rx in _COMPILED.items() if rx.search(term))


def decide(texts):
    """texts: the statements about one file (each may hold several terms). Returns (label, why): label None when
    nothing states a style here or the statements disagree; why is the matched term(s) or the reason."""
    found = {}
    for text in texts:
        for term in terms_of(text):
            for label in labels_in(term):
                found.setdefault(label, term)
    labels = set(found)
    for specific, general in SPECIFIC:
        if specific in labels and general in labels:
            labels.discard(general)
    if not labels:
        return None, "no style term"
    if len(labels) > 1:
        return None, "ambiguous: " + "; ".join("%s -> %s" % (found[k], k) for k in sorted(labels))
    label = labels.pop()
    return label, found[label]


def prose_states(line):
    """Does a credit line state a style? It must hold a style term, and one that is not an everyday word
    (PROSE_WORDS) unless the line also speaks of music (MUSIC_WORDS)."""
    found = [m.group(0).lower() for rx in _COMPILED.values() for m in rx.finditer(line)]
    if not found:
        return False
    return bool(MUSIC_WORDS.search(line)) or any(w not in PROSE_WORDS for w in found)
