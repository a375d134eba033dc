#!/usr/bin/python3
"""models/merge_ensemble.py on the shipped gate and perturbed copies of it:

  - the merged model loads (the shipped gate is itself merged: members are it and
    perturbed copies, so this also merges grouped convolutions) (`stride info`), its streamed cost is the members' sum, and
    its metadata keeps what the members share and lists what differs;
  - at every decision of `stride predict` on a test signal (tone bursts over noise), the
    merged model's p(content) is the sigmoid of the mean of the members' logits, for
    two and for three members (each member run on its own is the truth);
  - members that disagree on the architecture or on what a decision means (task,
    window) are refused with a message naming the file and the difference, and so is a
    single model.

Needs numpy and the build (./waf build).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
SRC = os.environ.get("STRIDE_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("STRIDE_BUILD", os.path.join(SRC, "build"))
STRIDE = os.path.join(BUILD, "stride")
SCRIPT = os.path.join(SRC, "models", "merge_ensemble.py")
GATE = os.path.join(SRC, "models", "gate.safetensors")
GENRE = os.path.join(SRC, "models", "genre.safetensors")
sys.path.insert(0, os.path.join(SRC, "models"))
import evaluate_gate  # noqa: E402  (write_float_wav)
import stride_file  # noqa: E402

FAILURES = []


def check(ok, what):
    print("  %-4s %s" % ("ok" if ok else "FAIL", what))
    if not ok:
        FAILURES.append(what)


def perturbed(path, seed, scale, meta_changes=None):
    """A copy of the shipped gate with every weight moved by about `scale` of its spread:
    a different model of the same architecture, as another training seed would give."""
    meta, tensors = stride_file.read_tensors(GATE)
    rng = np.random.default_rng(seed)
    for k, t in tensors.items():
        if k.endswith("running_var"):
            tensors[k] = t * np.exp(rng.normal(0, scale, t.shape)).astype(np.float32)
        else:
            tensors[k] = t + rng.normal(0, scale * (t.std() + 1e-3), t.shape).astype(np.float32)
    meta = dict(meta)
    meta["train.seed"] = str(seed)
    meta.update(meta_changes or {})
    stride_file.write_tensors(path, meta, tensors)
    return path


def p_content(model, wav, tmp):
    csv = os.path.join(tmp, "p.csv")
    subprocess.run([STRIDE, "predict", model, wav, "--format", "csv", "--out", csv],
                   check=True, stdout=subprocess.DEVNULL)
    with open(csv) as f:
        header = f.readline().strip().split(",")
        pc = header.index("p_content")
        return np.array([float(line.split(",")[pc]) for line in f])


def merge(*args):
    return subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True)


def streamed_mflops(model):
    out = subprocess.run([STRIDE, "info", model], check=True, capture_output=True, text=True).stdout
    line = [x for x in out.splitlines() if x.strip().startswith("streamed:")][0]
    return float(line.split()[1])


def main():
    gate_window = stride_file.read_tensors(GATE)[0]["stride.window"]
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(3)
        t = np.arange(16000 * 4) / 16000.0
        x = 0.01 * rng.standard_normal(len(t))
        for k, start in enumerate((0.5, 1.7, 2.9)):      # tone bursts of rising level over noise
            on = (t >= start) & (t < start + 0.6)
            x[on] += (0.03 * 3 ** k) * np.sin(2 * np.pi * (220 + 110 * k) * t[on])
        wav = os.path.join(tmp, "test.wav")
        evaluate_gate.write_float_wav(wav, x.astype(np.float32))

        members = [perturbed(os.path.join(tmp, "a.safetensors"), 1, 0.0), perturbed(os.path.join(tmp, "b.safetensors"), 2, 0.15),
                   perturbed(os.path.join(tmp, "c.safetensors"), 3, 0.15)]
        probs = [np.clip(p_content(m, wav, tmp), 1e-6, 1 - 1e-6) for m in members]
        logits = [np.log(p / (1 - p)) for p in probs]
        check(np.abs(probs[0] - probs[1]).max() > 0.05, "the perturbed members really differ from the gate "
              "(largest difference in p %.3f)" % np.abs(probs[0] - probs[1]).max())

        for n in (2, 3):
            out = os.path.join(tmp, "merged%d.safetensors" % n)
            r = merge(*members[:n], "--out", out)
            check(r.returncode == 0, "%d members merge (%s)" % (n, (r.stdout + r.stderr).strip()))
            if r.returncode != 0:
                continue
            info = subprocess.run([STRIDE, "info", out], capture_output=True, text=True)
            check(info.returncode == 0, "the merged model loads in stride info")
            want = sum(streamed_mflops(m) for m in members[:n])
            got = streamed_mflops(out)
            check(abs(got - want) <= 0.05 * want, "streamed cost %.1f MFLOP/s = the members' sum %.1f" % (got, want))
            p = p_content(out, wav, tmp)
            # predict prints p with 6 decimals: a logit read back from p is good to about
            # 5e-7 / (p (1 - p)), so compare where every p is clear of 0 and 1, within that
            inside = np.all([(q > 1e-4) & (q < 1 - 1e-4) for q in probs[:n] + [p]], axis=0)
            bound = 1e-4 + sum(5e-7 / (q * (1 - q)) for q in probs[:n]) / n + 5e-7 / (p * (1 - p))
            err = np.abs(np.log(p / (1 - p)) - np.mean(logits[:n], axis=0))
            check(len(p) == len(probs[0]) and inside.mean() > 0.5 and np.all(err[inside] <= bound[inside]),
                  "%d members: logit(p) = mean of the members' logits at all %d of %d decisions clear of 0 and 1 "
                  "(largest error %.2g, in units of its rounding bound %.2f)"
                  % (n, inside.sum(), len(p), err[inside].max(), (err / bound)[inside].max()))
            meta, _ = stride_file.read_tensors(out)
            check(meta.get("ensemble.members") == str(n) and json.loads(meta["ensemble.train.seed"])
                  == ["1", "2", "3"][:n] and meta["stride.window"] == gate_window,
                  "metadata: members %s, their seeds %s, the shared window %s"
                  % (meta.get("ensemble.members"), meta.get("ensemble.train.seed"), meta.get("stride.window")))

        out = os.path.join(tmp, "bad.safetensors")
        r = merge(GATE, GENRE, "--out", out)
        check(r.returncode != 0 and GENRE in r.stderr and "stride.task" in r.stderr and not os.path.exists(out),
              "a gate and a classifier are refused: %s" % r.stderr.strip())
        other_window = perturbed(os.path.join(tmp, "w.safetensors"), 4, 0.1, {"stride.window": "4000"})
        r = merge(GATE, other_window, "--out", out)
        check(r.returncode != 0 and "stride.window" in r.stderr and other_window in r.stderr,
              "a member with another window is refused: %s" % r.stderr.strip())
        meta, tensors = stride_file.read_tensors(GATE)
        arch = json.loads(meta["stride.architecture"])
        conv = [layer for layer in arch["layers"] if layer["type"] == "conv1d"][1]
        conv["kernel"] += 2                             # another architecture
        w = tensors[conv["name"] + ".weight"]
        tensors[conv["name"] + ".weight"] = np.zeros(w.shape[:2] + (w.shape[2] + 2,), np.float32)
        meta = dict(meta, **{"stride.architecture": json.dumps(arch)})
        other_arch = os.path.join(tmp, "other_arch.safetensors")
        stride_file.write_tensors(other_arch, meta, tensors)
        r = merge(GATE, other_arch, "--out", out)
        check(r.returncode != 0 and "architecture differs" in r.stderr and other_arch in r.stderr,
              "a member with another architecture is refused: %s" % r.stderr.strip())
        r = merge(GATE, "--out", out)
        check(r.returncode != 0 and "two or more" in r.stderr, "one model alone is refused: %s" % r.stderr.strip())

    print("%d failed" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
