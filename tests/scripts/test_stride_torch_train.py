#!/usr/bin/python3
"""python3 -m stride_torch.train against `stride train`, and the models both make, on a tiny
task (tone against noise, 16 kHz, made here):

  - a model trained by `stride train` loads in stride_torch (stride_torch.load) and gives
    `stride forward`'s outputs (relative error <= 1e-4);
  - stride_torch.train in one process trains the same network as `stride train --threads 1`
    (same data pipeline, initial weights, optimiser and schedule: the weights agree to
    1e-3, the rest being summation order), holds the dc_zeros constraint, is deterministic
    for a seed (two runs give the same weights), resumes bit for bit after --stop-after and
    after Ctrl-C in the middle of an epoch, and its model loads in `stride info`; the same
    holds with many flags at once (SGD, step schedule, warm-up, --val-data, --noise, levels,
    SNRs, --audible-snr, EQ, a label region at the end);
  - a gate trained by stride_torch.train (--task gate: content mixed over noise at random
    levels and SNRs) loads in the Gate plugin (lilv test host) and opens on a held-out
    tone, not on held-out noise;
  - a two-process `torchrun --nproc_per_node 2` run on CPU (gloo) trains the same network
    as `stride train --threads 2`, reaches >= 95% validation accuracy, is deterministic (a
    second run gives the same weights), and its model loads in the Genre plugin and names
    held-out tone and noise right; with --shard-files each process reads half the files and
    the run still reaches >= 95% and runs in the plugin.

Needs the build (./waf build) and Debian's torchrun (python3-torch). Debian 12's torchrun
needs --redirects/--tee set (its default trips over Python 3.11's enum; see README).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import wave

import numpy as np

sys.dont_write_bytecode = True
SRC = os.environ.get("STRIDE_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("STRIDE_BUILD", os.path.join(SRC, "build"))
STRIDE = os.path.join(BUILD, "stride")
PLUGIN_RUN = os.path.join(BUILD, "tests", "tools", "plugin_run_model")
PYTHON = os.environ.get("STRIDE_PYTHON", "/usr/bin/python3")
TORCHRUN = "/usr/bin/torchrun"
sys.path.insert(0, os.path.join(SRC, "python"))
import torch  # noqa: E402

import stride_torch  # noqa: E402

RATE = 16000
FAILURES = []
ARCH = """{"layers": [
 {"type": "conv1d", "name": "conv1", "in": 1, "out": 8, "kernel": 32, "stride": 8,
  "bias": false, "dc_zeros": 1},
 {"type": "batchnorm1d", "name": "bn1", "channels": 8},
 {"type": "relu"},
 {"type": "maxpool1d", "kernel": 2},
 {"type": "conv1d", "name": "conv2", "in": 8, "out": 8, "kernel": 3, "groups": 2},
 {"type": "leaky_relu", "slope": 0.1},
 {"type": "global_avgpool"},
 {"type": "dense", "name": "fc", "in": 8, "out": 2},
 {"type": "softmax"}
]}"""
COMMON = ["--window", "1024", "--batch", "16", "--seed", "3", "--lr", "0.01", "--threads", "1",
          "--no-checkpoint"]


def check(ok, what):
    print("  %-4s %s" % ("ok" if ok else "FAIL", what), flush=True)
    if not ok:
        FAILURES.append(what)


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-3)) if a.shape == b.shape else 1e9


def write_wav(path, x):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def make_data(folder, files=12, seconds=1.0, seed=5):
    rng = np.random.default_rng(seed)
    for cls in ("noise", "tone"):
        os.makedirs(os.path.join(folder, cls))
    t = np.arange(int(seconds * RATE)) / RATE
    for i in range(files):
        write_wav(os.path.join(folder, "tone", "t%02d.wav" % i),
                  0.3 * np.sin(2 * np.pi * rng.uniform(200, 2000) * t))
        write_wav(os.path.join(folder, "noise", "n%02d.wav" % i),
                  0.15 * rng.standard_normal(len(t)))


def held_out(tmp):
    """Held-out tone and noise, raw float32 at 16 kHz, for the plugins."""
    t = np.arange(4 * RATE) / RATE
    paths = {"tone": os.path.join(tmp, "tone.f32"), "noise": os.path.join(tmp, "noise.f32")}
    (0.3 * np.sin(2 * np.pi * 700 * t)).astype("<f4").tofile(paths["tone"])
    (0.15 * np.random.default_rng(99).standard_normal(len(t))).astype("<f4").tofile(paths["noise"])
    return paths


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = os.path.join(SRC, "python")
    e["STRIDE_BUILD"] = BUILD
    e["OMP_NUM_THREADS"] = "1"
    return e


def run(argv, what, limit=300):
    """Runs argv in a process group of its own; a run past `limit` seconds fails and its
    whole group (torchrun's workers too) is killed, so a hang never stalls the suite."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env(), start_new_session=True)
    try:
        out, err = p.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        err += "\n(killed after %d s)" % limit
    result = subprocess.CompletedProcess(argv, p.returncode, out, err)
    if result.returncode != 0:
        print(out[-3000:], err[-3000:])
    check(result.returncode == 0, what)
    return result


def state(path):
    net, meta = stride_torch.load(path)
    return {k: v.numpy() for k, v in net.state_dict().items()
            if not k.endswith("num_batches_tracked")}, meta


def same_weights(a, b):
    """Largest relative error over the tensors of two models."""
    return max(rel_err(a[k], b[k]) for k in b)


def plugin(uri, model, inputs):
    p = subprocess.run([PLUGIN_RUN, uri, model, str(RATE)] + list(inputs.values()),
                       capture_output=True, text=True, env=env())
    if p.returncode != 0:
        print(p.stdout, p.stderr)
    out = {}
    for line in p.stdout.splitlines():
        for name, path in inputs.items():
            if line.startswith(path + " "):
                words = line.split()
                out[name] = {words[i]: float(words[i + 1]) for i in range(1, len(words) - 1, 2)
                             if words[i] in ("class", "probability", "open")}
    return p.returncode == 0 and len(out) == len(inputs), out


def test_c_model_in_torch(tmp, data):
    print("a model trained by `stride train` in stride_torch")
    arch = os.path.join(tmp, "arch.json")
    c_model = os.path.join(tmp, "c1.safetensors")
    run([STRIDE, "train", "--arch", arch, "--data", data, "--out", c_model, "--epochs", "3"]
        + COMMON, "stride train --threads 1")
    net, meta = stride_torch.load(c_model)
    x = (0.3 * np.sin(np.arange(5000) * 0.07) + 0.05 * np.cos(np.arange(5000) * 0.9)).astype(
        np.float32)
    np.save(os.path.join(tmp, "x.npy"), x.reshape(1, -1))
    run([STRIDE, "forward", c_model, os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")],
        "stride forward")
    with torch.no_grad():
        y = net(torch.from_numpy(x).reshape(1, 1, -1)).numpy()[0]
    err = rel_err(y, np.load(os.path.join(tmp, "y.npy")))
    check(err <= 1e-4, "stride_torch gives `stride forward`'s outputs (%.1e)" % err)
    return c_model


def test_single_process(tmp, data, c_model, held):
    print("stride_torch.train, one process")
    outs = []
    for k in range(2):
        out = os.path.join(tmp, "t1_%d.safetensors" % k)
        run([PYTHON, "-m", "stride_torch.train", "--arch", os.path.join(tmp, "arch.json"),
             "--data", data, "--out", out, "--epochs", "3"] + COMMON,
            "stride_torch.train run %d" % (k + 1))
        outs.append(out)
    t1, meta = state(outs[0])
    t2, _ = state(outs[1])
    check(all(np.array_equal(t1[k], t2[k]) for k in t1), "two runs with one seed give the same "
                                                         "weights, bit for bit")
    c1, _ = state(c_model)
    err = same_weights(t1, c1)
    # the same arithmetic up to summation order: Adam amplifies the rounding a little
    check(err <= 1e-3, "the same weights as `stride train --threads 1` (%.1e)" % err)
    w = t1["conv1.weight"]
    check(np.abs(w.sum(axis=2)).max() < 1e-5, "conv1 (dc_zeros 1) kept its taps summing to 0")
    ckpt, part = os.path.join(tmp, "t1.ckpt"), os.path.join(tmp, "part.safetensors")
    base = [PYTHON, "-m", "stride_torch.train", "--arch", os.path.join(tmp, "arch.json"),
            "--data", data, "--epochs", "3", "--checkpoint", ckpt] + COMMON[:-1]
    run(base + ["--out", part, "--stop-after", "2"], "stride_torch.train --stop-after 2")
    resumed = os.path.join(tmp, "resumed.safetensors")
    p = run(base + ["--out", resumed, "--resume", ckpt], "stride_torch.train --resume")
    check("resuming from %s at epoch 3" % ckpt in p.stdout, "it resumes at epoch 3")
    t3, _ = state(resumed)
    check(all(np.array_equal(t1[k], t3[k]) for k in t1), "stopped after 2 epochs and resumed: "
                                                         "the weights of an uninterrupted run")
    test_interrupt(tmp, data)
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write(ARCH.replace('"leaky_relu", "slope": 0.1', '"swish"'))
    for argv, words in (([PYTHON, "-m", "stride_torch.train", "--arch", bad, "--data", data,
                          "--out", os.path.join(tmp, "x.safetensors")],
                         "%s: layer 5: unknown type \"swish\"" % bad),
                        ([PYTHON, "-m", "stride_torch.train", "--arch", bad, "--data", data,
                          "--out", os.path.join(tmp, "nowhere", "x.safetensors")],
                         "--out %s: cannot write there" % os.path.join(tmp, "nowhere",
                                                                        "x.safetensors"))):
        p = subprocess.run(argv, capture_output=True, text=True, env=env())
        check(p.returncode == 1 and words in p.stderr, "refused, naming it: %s"
              % p.stderr.strip()[:160])
    info = subprocess.run([STRIDE, "info", outs[0]], capture_output=True, text=True)
    check(info.returncode == 0 and "noise, tone" in info.stdout
          and "train.trainer: stride_torch" in info.stdout, "`stride info` loads it")

    print("stride_torch.train --task gate, in the Gate plugin")
    gate = os.path.join(tmp, "gate.safetensors")
    run([PYTHON, "-m", "stride_torch.train", "--arch", os.path.join(tmp, "arch.json"), "--task",
         "gate", "--hop", "256", "--data", data, "--out", gate, "--epochs", "8"] + COMMON,
        "stride_torch.train --task gate")
    ok, res = plugin("urn:stride:gate", gate, held)
    check(ok, "the Gate plugin loads it (patch:Set through the worker)")
    if ok:
        check(res["tone"]["open"] >= 0.9 and res["noise"]["open"] <= 0.1,
              "it opens on held-out tone (%.2f of the time, p %.2f) and stays closed on "
              "held-out noise (%.2f, p %.2f)" % (res["tone"]["open"], res["tone"]["probability"],
                                                 res["noise"]["open"],
                                                 res["noise"]["probability"]))


def test_interrupt(tmp, data):
    """Ctrl-C in the middle of an epoch: a checkpoint that --resume finishes from, giving the
    weights of an uninterrupted run."""
    ckpt = os.path.join(tmp, "int.ckpt")
    base = [PYTHON, "-m", "stride_torch.train", "--arch", os.path.join(tmp, "arch.json"),
            "--data", data, "--epochs", "3", "--epoch-size", "3000"] + COMMON[:-1]
    full = os.path.join(tmp, "full.safetensors")
    run(base + ["--out", full, "--no-checkpoint"], "stride_torch.train, uninterrupted")
    p = subprocess.Popen(base + ["--out", os.path.join(tmp, "int.safetensors"), "--checkpoint",
                                 ckpt], stdout=subprocess.PIPE, text=True, env=env())
    said = []
    for line in p.stdout:
        said.append(line)
        if line.startswith("epoch 1/3"):
            p.send_signal(signal.SIGINT)
    rc = p.wait()
    stopped = [x for x in said if x.startswith("interrupted at epoch 2 step")]
    check(rc == 130 and stopped, "Ctrl-C during epoch 2: exit 130, %s"
          % (stopped[0].strip() if stopped else "no checkpoint message"))
    resumed = os.path.join(tmp, "int_resumed.safetensors")
    r = run(base + ["--out", resumed, "--checkpoint", ckpt, "--resume", ckpt],
            "stride_torch.train --resume after Ctrl-C")
    check("resuming from %s at epoch 2, step " % ckpt in r.stdout, "it resumes inside epoch 2")
    a, _ = state(full)
    b, _ = state(resumed)
    check(all(np.array_equal(a[k], b[k]) for k in a), "interrupted and resumed: the weights of "
                                                      "the uninterrupted run, bit for bit")


def test_aug_flag_table(data):
    """stride_torch.train takes `stride train`'s augmentation flags from the C table
    (cli/aug_flags.c through libstride_data.so): every flag `stride help train` lists is
    an option, and values are parsed and range-checked by the C side."""
    print("the augmentation flags come from stride train's table")
    from stride_torch import native
    from stride_torch import train as torch_train
    flags = native.aug_flags()
    check(len(flags) >= 14 and ("level", "A:B") in [(n, a) for n, a, _ in flags],
          "the table holds the augmentation flags (%d)" % len(flags))
    text = subprocess.run([STRIDE, "help", "train"], capture_output=True, text=True).stdout
    argv = ["--arch", "a", "--data", "d", "--out", "o"]
    for name, arg, _ in flags:
        check(("--" + name) in text, "stride help train lists --%s" % name)
        argv += ["--" + name] + ([] if arg is None else ["-40:-6" if arg == "A:B" else "0.5"])
    args = torch_train.parse_args(argv)
    check(args.level == "-40:-6" and args.no_polarity, "stride_torch.train takes them all")
    d = native.Data(data, "gate", 16000, 1024)
    d.aug_text("level", "-40:-6")
    d.aug_text("no-augment")
    for name, value in (("level", "5"), ("splice", "x"), ("nosuch", "1")):
        try:
            d.aug_text(name, value)
            check(False, "--%s %s refused" % (name, value))
        except ValueError as e:
            check("bad value" in str(e) or "unknown" in str(e), "--%s %s refused: %s"
                  % (name, value, e))


def test_flags(tmp, data):
    """Many flags at once (a gate with a separate validation folder, extra noise, levels,
    SNRs, audibility, EQ, a label region at the end, SGD with a step schedule and warm-up):
    stride_torch.train passes each to the same place as `stride train`."""
    print("the flags of stride train, all at once")
    val = os.path.join(tmp, "val")
    make_data(val, files=3, seconds=1.5, seed=9)
    flags = ["--arch", os.path.join(tmp, "arch.json"), "--task", "gate", "--data", data,
             "--val-data", val, "--noise", os.path.join(data, "noise"), "--epochs", "2",
             "--level", "-40:-6", "--snr", "0:20", "--audible-snr", "-10", "--eq", "6",
             "--no-polarity", "--label-width", "512", "--label-at", "end", "--optimizer", "sgd",
             "--schedule", "step", "--step-epochs", "1", "--gamma", "0.5", "--lr", "0.05",
             "--momentum", "0.8", "--weight-decay", "0.001", "--warmup", "0.5",
             "--content-prob", "0.6", "--partial-prob", "0.2", "--noise-prob", "0.5",
             "--seed", "7", "--window", "1024", "--batch", "16", "--threads", "1",
             "--no-checkpoint"]
    c_out, t_out = os.path.join(tmp, "flags_c.safetensors"), os.path.join(tmp, "flags_t.safetensors")
    run([STRIDE, "train", "--out", c_out] + flags, "stride train with them")
    run([PYTHON, "-m", "stride_torch.train", "--out", t_out] + flags,
        "stride_torch.train with them")
    a, meta = state(t_out)
    b, c_meta = state(c_out)
    err = same_weights(a, b)
    check(err <= 1e-3, "the same weights as stride train (%.1e)" % err)
    check(meta.get("train.label_region") == c_meta.get("train.label_region") == "512 1024",
          "the same label region recorded (%s)" % meta.get("train.label_region"))


FC_ARCH = """{"layers": [
 {"type": "conv1d", "name": "conv1", "in": 1, "out": 8, "kernel": 32, "stride": 16, "bias": false},
 {"type": "batchnorm1d", "name": "bn1", "channels": 8},
 {"type": "relu"},
 {"type": "conv1d", "name": "conv2", "in": 8, "out": 2, "kernel": 4, "stride": 4}
]}"""


def test_steps(tmp, data):
    """--steps: multi-step gate examples, a label per decision, as `stride train` makes them."""
    print("stride_torch.train --steps 8 against stride train --steps 8")
    arch = os.path.join(tmp, "fc.json")
    with open(arch, "w") as f:
        f.write(FC_ARCH)
    args = ["--arch", arch, "--task", "gate", "--data", data, "--steps", "8", "--epochs", "2"] \
        + COMMON + ["--window", "80"]  # the receptive field: one output step per hop
    c_out, t_out = os.path.join(tmp, "fc_c.safetensors"), os.path.join(tmp, "fc_t.safetensors")
    run([STRIDE, "train", "--out", c_out] + args, "stride train --steps 8")
    run([PYTHON, "-m", "stride_torch.train", "--out", t_out] + args, "stride_torch.train --steps 8")
    a, meta = state(t_out)
    b, _ = state(c_out)
    err = same_weights(a, b)
    check(err <= 1e-3 and meta.get("train.steps") == "8",
          "the same weights as stride train (%.1e), train.steps recorded" % err)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun(tmp, data, held):
    print("torchrun --nproc_per_node 2 (gloo on CPU)")
    args = ["--arch", os.path.join(tmp, "arch.json"), "--data", data, "--epochs", "6"] + COMMON

    def torchrun(out, k, extra=()):
        return run([TORCHRUN, "--redirects", "1", "--tee", "1", "--log_dir",
                    os.path.join(tmp, "logs%d" % k), "--nproc_per_node", "2", "--master_addr",
                    "127.0.0.1", "--master_port", str(free_port()), "-m", "stride_torch.train",
                    "--out", out] + args + list(extra),
                   "torchrun --nproc_per_node 2 -m stride_torch.train %s(run %d)"
                   % (" ".join(extra) + " " if extra else "", k))
    out, again = os.path.join(tmp, "ddp.safetensors"), os.path.join(tmp, "ddp2.safetensors")
    p = torchrun(out, 1)
    torchrun(again, 2)
    check("2 processes (cpu, gloo)" in p.stdout, "two processes over gloo")
    check(p.stdout.count("saved %s" % out) == 1, "one process (rank 0) reports saving the model")
    leftovers = [f for f in os.listdir(tmp) if f.endswith(".tmp")]
    check(not leftovers, "no temporary files left behind")
    if not os.path.exists(out):
        return
    t, meta = state(out)
    t2, _ = state(again)
    check(all(np.array_equal(t[k], t2[k]) for k in t), "deterministic: a second two-process run "
                                                      "gives the same weights, bit for bit")
    acc = float(meta.get("train.val_accuracy", 0))
    check(acc >= 0.95, "validation accuracy %.1f%% (>= 95%%)" % (100 * acc))
    c_out = os.path.join(tmp, "c2.safetensors")
    run([STRIDE, "train", "--out", c_out] + args + ["--threads", "2"],
        "stride train --threads 2 (the later --threads wins)")
    c2, _ = state(c_out)
    err = same_weights(t, c2)
    check(err <= 1e-3, "the same weights as `stride train --threads 2` (%.1e)" % err)
    ok, res = plugin("urn:stride:genre", out, held)
    check(ok, "the Genre plugin loads it")
    if ok:
        check(res["tone"]["class"] == 1 and res["noise"]["class"] == 0,
              "it names held-out tone and noise right (classes %d, %d)"
              % (res["tone"]["class"], res["noise"]["class"]))

    print("torchrun --nproc_per_node 2 --shard-files: each process reads half the files")
    sharded = os.path.join(tmp, "sharded.safetensors")
    p = torchrun(sharded, 3, ("--shard-files",))
    check("12 files used" in p.stdout, "rank 0 read 12 of the 24 files")
    if os.path.exists(sharded):
        t, meta = state(sharded)
        acc = float(meta.get("train.val_accuracy", 0))
        check(acc >= 0.95, "validation accuracy over both shards %.1f%% (>= 95%%)" % (100 * acc))
        ok, res = plugin("urn:stride:genre", sharded, held)
        check(ok and res["tone"]["class"] == 1 and res["noise"]["class"] == 0,
              "the Genre plugin loads it and names held-out tone and noise right")


def main():
    for tool in (STRIDE, PLUGIN_RUN, TORCHRUN):
        if not os.path.exists(tool):
            print("missing %s (./waf build; torchrun comes with python3-torch)" % tool)
            return 1
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="stride_torch_train_") as tmp:
        data = os.path.join(tmp, "data")
        make_data(data)
        with open(os.path.join(tmp, "arch.json"), "w") as f:
            f.write(ARCH)
        held = held_out(tmp)
        c_model = test_c_model_in_torch(tmp, data)
        test_single_process(tmp, data, c_model, held)
        test_aug_flag_table(data)
        test_flags(tmp, data)
        test_steps(tmp, data)
        test_torchrun(tmp, data, held)
    if FAILURES:
        print("%d failed" % len(FAILURES))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
