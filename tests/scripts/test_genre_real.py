#!/usr/bin/python3
"""The real-music genre benchmark (bench/genre_real.py) on a tiny folder with known answers:

  - the Wilson score interval against worked values (8 of 10: 0.4902-0.9433, the textbook example; 3 of 6 and
    3 of 4 worked by hand below);
  - the whole report on a six-clip folder (labels a, b, and z that the model lacks), `stride` replaced by a stand-in
    that writes the CSV `stride predict --format csv --out` writes, two decisions per file: per-clip and per-track
    accuracy, interval, mean per-style recall, the biggest-class baseline and the confusion rows, each against the
    numbers worked by hand in the comments;
  - with a build (STRIDE_BUILD, default build/): the benchmark's verdict per file is the one `stride predict`
    itself prints, on two synthetic files through the shipped genre model.
Needs python3 only (and numpy for the last part).
"""
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
SRC = os.environ.get("STRIDE_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check, finish  # noqa: E402
BUILD = os.environ.get("STRIDE_BUILD", os.path.join(SRC, "build"))
sys.path.insert(0, os.path.join(SRC, "bench"))
import genre_real  # noqa: E402

# clip -> its two decisions' (p_a, p_b); means and verdicts worked by hand:
PROBS = {
    "a/t1_c0.wav": [(0.9, 0.1), (0.7, 0.3)],   # mean (0.8, 0.2) -> a, right
    "a/t1_c1.wav": [(0.2, 0.8), (0.4, 0.6)],   # (0.3, 0.7) -> b, wrong
    "a/t2_c0.wav": [(0.6, 0.4), (0.6, 0.4)],   # (0.6, 0.4) -> a, right
    "b/t3_c0.wav": [(0.6, 0.4), (0.5, 0.5)],   # (0.55, 0.45) -> a, wrong
    "b/t3_c1.wav": [(0.3, 0.7), (0.1, 0.9)],   # (0.2, 0.8) -> b, right
    "z/t4_c0.wav": [(0.1, 0.9), (0.3, 0.7)],   # (0.2, 0.8) -> b; z is no label of the model: wrong
}
# per clip: 3 of 6 right; recall a 2/3, b 1/2, z 0 -> mean 0.389; biggest class a (3 of 6) -> 50%.
# Wilson 3 of 6: centre (0.5 + 1.92^2/12) / (1 + 1.96^2/6) = 0.5; half = 1.959964 / 1.640243
#   * sqrt(0.25/6 + 3.841459/144) = 1.194922 * 0.261426 = 0.312384 -> 18.8%-81.2%.
# per track: t1 (0.55, 0.45) -> a right, t2 a right, t3 (0.375, 0.625) -> b right (its first clip alone says a),
#   t4 b wrong: 3 of 4;
#   recall a 1, b 1, z 0 -> 0.667; biggest class a (2 of 4) -> 50%.
# Wilson 3 of 4: centre (0.75 + 0.480182) / 1.960365 = 0.627527; half = 0.999796 * sqrt(0.046875 + 0.060023)
#   = 0.326886 -> 30.1%-95.4%.
FAKE = r'''#!/usr/bin/python3
import json, os, sys
probs = json.load(open(os.environ["FAKE_PROBS"]))
args = sys.argv[1:]
assert args[0] == "predict", args
out = args[args.index("--out") + 1]
files = [a for a in args[2:args.index("--format")]]
with open(out, "w") as f:
    f.write("file,start,end,label,p_a,p_b\n")
    for path in files:
        key = "/".join(path.split("/")[-2:])
        for i, (pa, pb) in enumerate(probs[key]):
            f.write("%s,%.6f,%.6f,%s,%.6f,%.6f\n" % (path, i, i + 1, "a" if pa >= pb else "b", pa, pb))
'''


def near(a, b, tol=1e-4):
    return abs(a - b) <= tol


def test_wilson():
    lo, hi = genre_real.wilson(8, 10)
    check(near(lo, 0.4902) and near(hi, 0.9433), "Wilson 8 of 10: 0.4902-0.9433 (got %.4f-%.4f)" % (lo, hi))
    lo, hi = genre_real.wilson(3, 6)
    check(near(lo, 0.187616) and near(hi, 0.812384), "Wilson 3 of 6: 0.1876-0.8124 (got %.4f-%.4f)" % (lo, hi))
    lo, hi = genre_real.wilson(3, 4)
    check(near(lo, 0.300641) and near(hi, 0.954413), "Wilson 3 of 4: 0.3006-0.9544 (got %.4f-%.4f)" % (lo, hi))
    lo, hi = genre_real.wilson(0, 5)
    check(lo == 0.0 and near(hi, 3.841459 / (5 + 3.841459)), "Wilson 0 of 5: 0 to z^2/(n+z^2)")


def test_report(tmp):
    for key in PROBS:
        path = os.path.join(tmp, "set", key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "wb").close()         # the stand-in never reads the audio
    fake = os.path.join(tmp, "stride")
    with open(fake, "w") as f:
        f.write(FAKE)
    os.chmod(fake, 0o755)
    with open(os.path.join(tmp, "probs.json"), "w") as f:
        json.dump(PROBS, f)
    env = dict(os.environ, FAKE_PROBS=os.path.join(tmp, "probs.json"))
    p = subprocess.run([sys.executable, os.path.join(SRC, "bench", "genre_real.py"), "model.safetensors",
                        os.path.join(tmp, "set"), "--stride", fake], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    check(p.returncode == 0, "the benchmark runs on the tiny folder (exit %d) %s" % (p.returncode, p.stderr[-300:]))
    text = p.stdout
    os.environ["FAKE_PROBS"] = env["FAKE_PROBS"]
    paths = sorted(os.path.join(tmp, "set", k) for k in PROBS)
    whole, batched = genre_real.predict(fake, "m", paths), genre_real.predict(fake, "m", paths, batch=4)
    check(whole == batched and all(near(whole[q]["a"], sum(a for a, _ in PROBS[k]) / 2)
                                   for q, k in zip(paths, sorted(PROBS))),
          "mean probabilities per file, the same when stride runs in batches of 4 files")
    clip, _, track = text.partition("## per track")
    for want in ["verdict accuracy: 3/6 = 50.0% (95% Wilson interval 18.8%-81.2%)",
                 "mean per-style recall: 0.389 over 3 labels",
                 "always-the-biggest-class baseline (a): 50.0%",
                 "labels the model does not have (scored as wrong): z",
                 "| a | 3 | 0.667 |", "| b | 2 | 0.500 |", "| z | 1 | 0.000 |",
                 "| truth \\ verdict | a | b |", "| a | 2 | 1 |", "| b | 1 | 1 |", "| z | 0 | 1 |"]:
        check(want in clip, "per clip: %s" % want)
    for want in ["verdict accuracy: 3/4 = 75.0% (95% Wilson interval 30.1%-95.4%)",
                 "mean per-style recall: 0.667 over 3 labels",
                 "always-the-biggest-class baseline (a): 50.0%",
                 "| a | 2 | 0 |", "| b | 0 | 1 |", "| z | 0 | 1 |"]:
        check(want in track, "per track: %s" % want)
    if checks.FAILS:
        print(text)


def test_against_stride(tmp):
    stride = os.path.join(BUILD, "stride")
    model = os.path.join(SRC, "models", "genre.safetensors")
    if not os.access(stride, os.X_OK):
        print("skip: no %s (build first) for the check against stride predict's own verdicts" % stride)
        return
    import numpy as np
    sys.path.insert(0, os.path.join(SRC, "models", "recipes"))
    from common import write_wav
    t = np.arange(12 * 16000) / 16000.0
    paths = []
    for i, x in enumerate([0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 2 * t) > 0),
                           0.2 * np.random.default_rng(3).standard_normal(len(t))]):
        paths.append(os.path.join(tmp, "real%d.wav" % i))
        write_wav(paths[-1], x)
    probs = genre_real.predict(stride, model, paths)
    p = subprocess.run([stride, "predict", model] + paths + ["--format", "csv", "--out", os.devnull],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    said = dict(line.split(": ", 1) for line in p.stdout.splitlines() if ": " in line)
    for path in paths:
        own = said.get(path, "").split(" ")[0]
        check(genre_real.verdict(probs[path]) == own, "verdict on %s is stride's own (%s)"
              % (os.path.basename(path), own))


def main():
    test_wilson()
    with tempfile.TemporaryDirectory() as tmp:
        test_report(tmp)
        test_against_stride(tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
