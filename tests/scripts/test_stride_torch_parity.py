#!/usr/bin/python3
"""python/stride_torch against the C library, layer for layer (the C side through
<build>/libstride_data.so and ctypes):

  - random stacks covering every layer type and option (tests/torch/make_reference.py's
    generator: its foci force each type and option, then random stacks; draws whose result
    hangs on rounding are redrawn there) give the same outputs, input gradients, parameter
    gradients and batchnorm running statistics in stride_torch (float32) and in C, in
    training and in inference mode: relative error <= 1e-4;
  - the dc_zeros projection (stride_torch.constrain) equals stride_net_constrain, and the
    C initialiser's weights copied into a stride_torch net hold the constraint;
  - geometry (receptive field, total stride) agrees with the C library's;
  - architectures the C library refuses are refused by stride_torch.build with an error
    naming the layer (an unknown layer type names the type);
  - model files: save -> load is bit exact; C loads what stride_torch saves (`stride info`)
    and stride_torch loads what C saves; corrupted files are refused by both, with the
    same message.

Needs the build (./waf build: build/libstride_data.so, build/stride).
"""
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
SRC = os.environ.get("STRIDE_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("STRIDE_BUILD", os.path.join(SRC, "build"))
STRIDE = os.path.join(BUILD, "stride")
sys.path.insert(0, os.path.join(SRC, "python"))
sys.path.insert(0, os.path.join(SRC, "tests", "torch"))
import torch  # noqa: E402

import make_reference as ref  # noqa: E402
import stride_torch  # noqa: E402
from stride_torch import arch, native  # noqa: E402
from stride_torch.layers import StrideNet  # noqa: E402

TOL = 1e-4
RANDOM_CASES = 30
FAILURES = []


def check(ok, what):
    print("  %-4s %s" % ("ok" if ok else "FAIL", what))
    if not ok:
        FAILURES.append(what)


def rel_err(a, b):
    """max|a - b| / max(max|b|, 1e-3), as tests/test_torch_reference.c."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-3))


def well_conditioned_case(index, seed):
    """(specs, params, x, grad_y, training) drawn as make_reference.make_case draws them."""
    focus = ref.FOCI[index] if index < len(ref.FOCI) else None
    rng = random.Random(seed * 100003 + index)
    nrng = np.random.default_rng([seed, index])
    for _ in range(200):
        n, c, t, specs, training = ref.build_structure(rng, focus)
        params = ref.draw_params(nrng, specs)
        for _ in range(10):
            x = nrng.standard_normal((n, c, t)).astype(np.float32)
            try:
                probe = ref.run(specs, params, x, None, training, torch.float64, check=True)
            except ref.Retry:
                continue
            gy = nrng.standard_normal(probe["output"].shape).astype(np.float32)
            r64 = ref.run(specs, params, x, gy, training, torch.float64)
            if ref.ill_conditioned(specs, params, x, gy, training, r64):
                continue
            return focus, specs, params, x, gy, training
    raise RuntimeError("case %d: no well-conditioned draw" % index)


def torch_side(specs, params, x, gy, training):
    net = StrideNet(arch.parse({"layers": specs}))
    with torch.no_grad():
        for k, v in net.state_dict().items():
            if k in params:
                v.copy_(torch.from_numpy(params[k]))
    net.train(training)
    xt = torch.from_numpy(x).requires_grad_(True)
    y = net(xt)
    (y * torch.from_numpy(gy)).sum().backward()
    out = {"output": y.detach().numpy(), "grad_input": xt.grad.numpy()}
    for name, p in net.named_parameters():
        out["grad." + name] = p.grad.numpy()
    for name, b in net.named_buffers():
        if not name.endswith("num_batches_tracked"):
            out["after." + name] = b.numpy()
    return out


def c_side(specs, params, x, gy, training):
    net = native.CNet(json.dumps({"layers": specs}))
    net.set_state(params)
    out = {"output": net.forward(x, training)}
    out["grad_input"] = net.backward(gy)
    out.update(("grad." + k, v) for k, v in net.grads().items())
    state = net.state()
    out.update(("after." + k, v) for k, v in state.items()
               if k.endswith(("running_mean", "running_var")))
    return out


def test_layers():
    print("random stacks: stride_torch against the C library")
    seen, worst, n_cases = set(), 0.0, len(ref.FOCI) + RANDOM_CASES
    for i in range(n_cases):
        focus, specs, params, x, gy, training = well_conditioned_case(i, 11)
        seen |= ref.features(x.shape[0], x.shape[2], specs, training)
        t, c = torch_side(specs, params, x, gy, training), c_side(specs, params, x, gy, training)
        bad = [k for k in t if k not in c or rel_err(t[k], c[k]) > TOL]
        bad += [k for k in c if k not in t]
        worst = max([worst] + [rel_err(t[k], c[k]) for k in t if k in c])
        if bad:
            check(False, "case %d (%s, %s): %s differ: %s" % (
                i, focus, "training" if training else "inference", ", ".join(bad),
                " ".join(s["type"] for s in specs)))
    missing = ref.REQUIRED - seen
    check(not missing, "the cases cover every layer type and option (%d cases%s)"
          % (n_cases, "; missing " + ", ".join(sorted(missing)) if missing else ""))
    check(worst <= TOL, "outputs, gradients and running statistics agree: worst relative "
                        "error %.2e (<= %g)" % (worst, TOL))


def test_dc_zeros():
    print("dc_zeros: the same projection as stride_net_constrain")
    rng = np.random.default_rng(3)
    worst = 0.0
    for dc in (1, 2):
        for k, g, d in ((3, 1, 1), (5, 2, 2), (8, 4, 1), (64, 1, 3)):
            spec = {"layers": [{"type": "conv1d", "name": "c", "in": 4, "out": 8, "kernel": k,
                                "groups": g, "dilation": d, "dc_zeros": dc}]}
            w = rng.standard_normal((8, 4 // g, k)).astype(np.float32)
            cn = native.CNet(json.dumps(spec))
            cn.set_state({"c.weight": w})
            cn.constrain()
            tn = stride_torch.build(spec)
            with torch.no_grad():
                tn.c.weight.copy_(torch.from_numpy(w))
            stride_torch.constrain(tn)
            tw = tn.c.weight.detach().numpy()
            worst = max(worst, rel_err(tw, cn.state()["c.weight"]))
            taps = np.arange(k)
            moments = [np.abs(tw.sum(axis=2)).max()]
            if dc == 2:
                moments.append(np.abs((tw * taps).sum(axis=2)).max() / k)
            check(max(moments) < 1e-5, "dc_zeros %d, kernel %d, groups %d: every kernel's taps "
                                       "sum to 0%s" % (dc, k, g, " and its first moment" if dc == 2
                                                       else ""))
    check(worst < 1e-6, "stride_torch.constrain equals stride_net_constrain (%.1e)" % worst)
    spec = {"layers": [{"type": "conv1d", "name": "c", "in": 1, "out": 4, "kernel": 16,
                        "dc_zeros": 2}]}
    cn = native.CNet(json.dumps(spec))
    cn.init(5)
    w = cn.state()["c.weight"]
    check(np.abs(w.sum(axis=2)).max() < 1e-6, "the C initialiser's weights hold the constraint")
    # a single step of a constant input gives no output (no bias): the zero at 0 Hz
    tn = stride_torch.build({"layers": [dict(spec["layers"][0], bias=False)]})
    y = tn(torch.ones(1, 1, 64)).detach().numpy()
    check(np.abs(y).max() < 1e-5, "a dc_zeros conv built by stride_torch gives 0 for DC")


def test_geometry():
    print("geometry and refusals")
    for name in ("gate-member.json",):
        path = os.path.join(SRC, "models", "arch", name)
        if os.path.exists(path):
            specs = arch.parse(path)
            cn = native.CNet(arch.to_json(specs))
            check(arch.geometry(specs) == cn.geometry(),
                  "%s: receptive field and total stride %s as C" % (name, arch.geometry(specs)))
    for preset in native.preset_names():
        js = native.preset(preset, 3)[0]
        specs = arch.parse(js)
        check(arch.geometry(specs) == native.CNet(js).geometry(),
              "preset %s: receptive field and total stride as C" % preset)
    bad = [
        ({"layers": [{"type": "conv2d", "name": "x"}]}, "conv2d"),
        ({"layers": [{"type": "conv1d", "name": "c", "in": 1, "out": 2, "kernal": 3}]},
         "unknown key \"kernal\""),
        ({"layers": [{"type": "conv1d", "name": "c", "in": 1, "out": 2}]}, "missing \"kernel\""),
        ({"layers": [{"type": "conv1d", "name": "c", "in": 1, "out": 2, "kernel": 2.5}]},
         "must be an integer"),
        ({"layers": [{"type": "conv1d", "name": "c", "in": 2, "out": 3, "kernel": 2,
                      "groups": 2}]}, "groups"),
        ({"layers": [{"type": "conv1d", "name": "c", "in": 1, "out": 2, "kernel": 2,
                      "dc_zeros": 2}]}, "dc_zeros"),
        ({"layers": [{"type": "relu"}] * 257}, "257 layers"),
    ]
    for doc, words in bad:
        try:
            stride_torch.build(doc)
            got = None
        except stride_torch.ArchError as e:
            got = str(e)
        try:
            native.CNet(json.dumps(doc))
            c_refuses = False
        except ValueError:
            c_refuses = True
        check(got is not None and words in got and c_refuses,
              "refused by both, naming it: %s" % got)


def test_files(tmp):
    print("model files")
    shipped = os.path.join(SRC, "models", "genre.safetensors")
    net, meta = stride_torch.load(shipped)
    out = os.path.join(tmp, "resaved.safetensors")
    stride_torch.save(net, out, meta)
    net2, meta2 = stride_torch.load(out)
    same = all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                  net2.state_dict().values()))
    check(same and meta2 == meta, "save -> load gives back every tensor bit for bit and every "
                                  "metadata pair")
    info = subprocess.run([STRIDE, "info", out], capture_output=True, text=True)
    check(info.returncode == 0 and "classify" in info.stdout,
          "`stride info` loads what stride_torch saved")
    x = np.sin(np.arange(int(meta["stride.window"]), dtype=np.float32) * 0.01).astype(np.float32)
    np.save(os.path.join(tmp, "x.npy"), x.reshape(1, -1))
    subprocess.run([STRIDE, "forward", out, os.path.join(tmp, "x.npy"),
                    os.path.join(tmp, "y.npy")], check=True, capture_output=True)
    with torch.no_grad():
        y = net(torch.from_numpy(x).reshape(1, 1, -1)).numpy()[0]
    check(rel_err(y, np.load(os.path.join(tmp, "y.npy"))) < TOL,
          "the shipped genre model: stride_torch's output is `stride forward`'s")

    blob = open(shipped, "rb").read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    first = [k for k in header if k != "__metadata__"][0]

    def with_header(h):
        text = json.dumps(h).encode()
        return len(text).to_bytes(8, "little") + text + blob[8 + n:]

    def edit(fn):
        h = json.loads(blob[8:8 + n])
        fn(h)
        return with_header(h)

    def set_meta(key, value):
        def fn(h):
            if value is None:
                del h["__metadata__"][key]
            else:
                h["__metadata__"][key] = value
        return fn

    labels = json.loads(meta["stride.labels"])
    nan = bytearray(blob)
    at = 8 + n + header[first]["data_offsets"][0] + 4 * 3
    nan[at:at + 4] = np.float32(np.nan).tobytes()
    cases = {
        "short": blob[:5],
        "header past the end": (10 ** 6).to_bytes(8, "little") + blob[8:100],
        "not JSON": with_header({"a": 1})[:8] + b"{" + b" " * (n - 1) + blob[8 + n:],
        "no format": edit(set_meta("stride.format", None)),
        "format 2": edit(set_meta("stride.format", "2")),
        "no labels": edit(set_meta("stride.labels", None)),
        "task": edit(set_meta("stride.task", "detect")),
        "rate": edit(set_meta("stride.sample_rate", "100")),
        "labels count": edit(set_meta("stride.labels", json.dumps(labels + ["extra"]))),
        "window": edit(set_meta("stride.window", "3")),
        "architecture": edit(set_meta("stride.architecture",
                                      meta["stride.architecture"].replace("\"kernel\"",
                                                                          "\"kernal\"", 1))),
        "missing tensor": edit(lambda h: h.pop(first)),
        "dtype": edit(lambda h: h[first].update(dtype="F16")),
        "unknown key": edit(lambda h: h[first].update(extra=1)),
        "NaN": bytes(nan),
    }
    same_msg = 0
    for what, data in cases.items():
        path = os.path.join(tmp, "bad.safetensors")
        with open(path, "wb") as f:
            f.write(data)
        try:
            stride_torch.load(path)
            py = None
        except ValueError as e:
            py = str(e)
        c = subprocess.run([STRIDE, "info", path], capture_output=True, text=True)
        c_msg = c.stderr.strip().split("\n")[0].replace("stride info: ", "", 1)
        ok = py is not None and c.returncode != 0
        same_msg += ok and py == c_msg
        check(ok and py.startswith(path + ": "), "%s: refused by both (%s)" % (what, py))
        if ok and py != c_msg:
            print("       C says: %s" % c_msg)
    check(same_msg >= len(cases) - 2, "%d of %d refusals word it exactly as the C loader"
          % (same_msg, len(cases)))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(prefix="stride_torch_parity_") as tmp:
        test_layers()
        test_dc_zeros()
        test_geometry()
        test_files(tmp)
    if FAILURES:
        print("%d failed" % len(FAILURES))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
