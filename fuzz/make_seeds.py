#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, written at run time (never committed).

    make_seeds.py SRC_DIR OUT_DIR

OUT_DIR/model_file/: the shipped models (models/*.safetensors) and a few tiny
models that reach the loader's other branches (a classifier with batchnorm
and PyTorch's num_batches_tracked counter, a gate with window, hop and input
gain, a plain tensor file without Stride metadata, as checkpoints are).
OUT_DIR/npy/: small arrays in each version, dtype and byte order the reader
takes. Only json and struct, so any Python 3 runs it."""
import json
import os
import shutil
import struct
import sys


def safetensors(path, tensors, meta):
    """tensors: [(name, dtype, shape, values)], written in order."""
    header = {"__metadata__": meta} if meta else {}
    blobs, at = [], 0
    for name, dtype, shape, values in tensors:
        fmt = "<%d%s" % (len(values), "f" if dtype == "F32" else "q")
        blob = struct.pack(fmt, *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def ramp(n, scale=0.1):
    return [scale * ((i * 7) % 11 - 5) for i in range(n)]


def model_meta(task, labels, layers, **extra):
    meta = {"stride.format": "1", "stride.task": task, "stride.sample_rate": "16000",
            "stride.labels": json.dumps(labels),
            "stride.architecture": json.dumps({"layers": layers})}
    meta.update({"stride." + k: v for k, v in extra.items()})
    return meta


def tiny_models(out):
    conv = {"type": "conv1d", "name": "conv1", "in": 1, "out": 4, "kernel": 8, "stride": 4}
    bn = {"type": "batchnorm1d", "name": "bn1", "channels": 4}
    fc = {"type": "dense", "name": "fc", "in": 4, "out": 3}
    layers = [conv, bn, {"type": "relu"}, {"type": "global_maxpool"}, fc, {"type": "softmax"}]
    safetensors(os.path.join(out, "tiny_classify.safetensors"), [
        ("conv1.weight", "F32", [4, 1, 8], ramp(32)), ("conv1.bias", "F32", [4], ramp(4)),
        ("bn1.weight", "F32", [4], [1.0] * 4), ("bn1.bias", "F32", [4], [0.0] * 4),
        ("bn1.running_mean", "F32", [4], [0.0] * 4), ("bn1.running_var", "F32", [4], [1.0] * 4),
        ("bn1.num_batches_tracked", "I64", [], [7]),
        ("fc.weight", "F32", [3, 4], ramp(12)), ("fc.bias", "F32", [3], ramp(3)),
    ], model_meta("classify", ["a", "b", "c"], layers, window="64", hop="32"))

    conv = {"type": "conv1d", "name": "c", "in": 1, "out": 2, "kernel": 3, "dilation": 2,
            "padding": 1, "groups": 1, "bias": False}
    layers = [conv, {"type": "tanh"}, {"type": "avgpool1d", "kernel": 2},
              {"type": "global_avgpool"}, {"type": "sigmoid"}]
    safetensors(os.path.join(out, "tiny_gate.safetensors"), [
        ("c.weight", "F32", [2, 1, 3], ramp(6)),
    ], model_meta("gate", ["noise", "content"], layers, window="16", hop="4",
                  input_gain="0.5"))

    safetensors(os.path.join(out, "plain_tensors.safetensors"), [
        ("a", "F32", [2, 3], ramp(6)), ("b", "F32", [0], []), ("c", "F32", [], [1.5]),
    ], {"note": "no stride metadata"})


def npy(path, dtype, shape, values, version=1):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join("%d, " % s for s in shape) if len(shape) != 1 else "%d," % shape[0])
    lensize = 2 if version == 1 else 4
    pad = -(6 + 2 + lensize + len(d) + 1) % 64
    head = (d + " " * pad + "\n").encode()
    fmt = dtype[0] + "%d" % len(values) + ("f" if dtype[2] == "4" else "d")
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY" + bytes([version, 0]))
        f.write(struct.pack("<H" if version == 1 else "<I", len(head)) + head)
        f.write(struct.pack(fmt, *values))


def npy_seeds(out):
    npy(os.path.join(out, "f4_1d.npy"), "<f4", [5], ramp(5))
    npy(os.path.join(out, "f4_2x3.npy"), "<f4", [2, 3], ramp(6))
    npy(os.path.join(out, "f8_be_3d.npy"), ">f8", [2, 1, 2], ramp(4, 1e39))
    npy(os.path.join(out, "f4_scalar_v2.npy"), "<f4", [], [0.25], version=2)
    npy(os.path.join(out, "f8_empty_v3.npy"), "<f8", [0], [], version=3)


def main():
    src, out = sys.argv[1], sys.argv[2]
    models = os.path.join(out, "model_file")
    arrays = os.path.join(out, "npy")
    for d in (models, arrays):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for name in ("gate.safetensors", "genre.safetensors"):
        shipped = os.path.join(src, "models", name)
        if os.path.exists(shipped):
            shutil.copy(shipped, os.path.join(models, name))
    tiny_models(models)
    npy_seeds(arrays)


if __name__ == "__main__":
    main()
