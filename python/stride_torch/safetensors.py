"""The safetensors container of Stride model files and checkpoints (numpy only, no torch).

read() checks what dsp/tensorfile.c checks (docs/MODEL_FORMAT.md, "What the loader checks"),
with messages of the same form, "<file>: <what is wrong>"; write() writes F32 tensors back to
back after a header padded with spaces so the data starts 8-byte aligned, through
<path>.tmp, fsync and a rename, so a crash never leaves a half-written file.
This is the one reader and writer of the Python tools (models/stride_file.py wraps it).
"""
import json
import os
import struct

import numpy as np

MAX_HEADER = 100000000
MAX_RANK = 8
ENTRY_KEYS = ("dtype", "shape", "data_offsets")


class FormatError(ValueError):
    """A file that is not a valid Stride safetensors file; the message names the file."""


def _pairs_no_duplicates(where):
    def hook(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise FormatError("%s: key \"%s\" appears twice" % (where, key[:60]))
            seen[key] = value
        return seen
    return hook


def _shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def parse(blob, name):
    """(tensors {name: array} in header order, metadata {str: str}) from the bytes of a file.
    F32 tensors come as float32 arrays; I64 *.num_batches_tracked counters are checked and
    dropped, as the C loader does."""
    if len(blob) < 8:
        raise FormatError("%s: file is %d bytes, too short for a safetensors header length "
                          "(8 bytes)" % (name, len(blob)))
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise FormatError("%s: header length %d is larger than the file (%d bytes after the "
                          "length): truncated or not a safetensors file" % (name, n, len(blob) - 8))
    if n > MAX_HEADER:
        raise FormatError("%s: header length %d exceeds the limit of %d bytes"
                          % (name, n, MAX_HEADER))
    raw = blob[8:8 + n]
    if b"\0" in raw:
        raise FormatError("%s: header contains a NUL byte" % name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("%s: header is not valid UTF-8" % name) from None
    try:
        header = json.loads(text, object_pairs_hook=_pairs_no_duplicates(name))
    except json.JSONDecodeError as e:
        raise FormatError("%s: header is not valid JSON (syntax error near byte %d of the "
                          "header)" % (name, e.pos)) from None
    if not isinstance(header, dict):
        raise FormatError("%s: header is not a JSON object" % name)
    data = memoryview(blob)[8 + n:]
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict):
        raise FormatError("%s: __metadata__ is not a JSON object" % name)
    for key, value in meta.items():
        if not isinstance(value, str):
            raise FormatError("%s: __metadata__ value of \"%s\" is not a string" % (name, key[:60]))
    tensors, spans = {}, []
    for tn, e in header.items():
        where = "%s: tensor %s" % (name, tn[:80])
        if not tn:
            raise FormatError("%s: a tensor has an empty name" % name)
        if not isinstance(e, dict):
            raise FormatError("%s: entry is not a JSON object" % where)
        for key in e:
            if key not in ENTRY_KEYS:
                raise FormatError("%s: unknown key \"%s\"" % (where, key[:40]))
        for key in ENTRY_KEYS:
            if key not in e:
                raise FormatError("%s: missing \"%s\"" % (where, key))
        dtype = e["dtype"]
        if not isinstance(dtype, str):
            raise FormatError("%s: dtype is not a string" % where)
        counter = dtype == "I64" and tn.endswith(".num_batches_tracked")
        if dtype != "F32" and not counter:
            raise FormatError("%s: unsupported dtype %s (tensors must be F32)" % (where, dtype[:20]))
        shape = e["shape"]
        if not isinstance(shape, list):
            raise FormatError("%s: shape is not a list" % where)
        if len(shape) > MAX_RANK:
            raise FormatError("%s: shape has %d dimensions (at most %d)" % (where, len(shape),
                                                                              MAX_RANK))
        if not all(_is_int(d) and d >= 0 for d in shape):
            raise FormatError("%s: shape must be a list of non-negative integers" % where)
        count = int(np.prod(shape, dtype=object)) if shape else 1
        size = count * (8 if counter else 4)
        if size >= 1 << 62:
            raise FormatError("%s: shape %s is too large" % (where, _shape_text(shape)))
        offs = e["data_offsets"]
        if (not isinstance(offs, list) or len(offs) != 2
                or not all(_is_int(v) and v >= 0 for v in offs)):
            raise FormatError("%s: data_offsets must be two non-negative integers" % where)
        begin, end = offs
        if begin > end:
            raise FormatError("%s: data_offsets begin %d is after end %d" % (where, begin, end))
        if end > len(data):
            raise FormatError("%s: data_offsets end %d is beyond the data (%d bytes): file truncated?"
                              % (where, end, len(data)))
        if end - begin != size:
            raise FormatError("%s: data size %d bytes does not match shape %s (%d bytes)"
                              % (where, end - begin, _shape_text(shape), size))
        spans.append((begin, end, tn))
        if not counter:
            tensors[tn] = np.frombuffer(data[begin:end], dtype="<f4").reshape(shape).copy()
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0 and b1 < e1 and b0 < e0:
            raise FormatError("%s: tensors %s [%d, %d) and %s [%d, %d) overlap in the data "
                              "section" % (name, n0[:60], b0, e0, n1[:60], b1, e1))
    return tensors, meta


def read(path):
    """(tensors, metadata) of the file at path: see parse()."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise FormatError("%s: cannot open: %s" % (path, e.strerror)) from None
    return parse(blob, str(path))


def encode(tensors, metadata=None):
    """The bytes of a file: tensors (name -> array or torch tensor, in the order given) as F32
    back to back, the metadata (str -> str) last in the header."""
    header, chunks, offset = {}, [], 0
    for name, value in tensors.items():
        if hasattr(value, "detach"):  # a torch tensor, without importing torch here
            value = value.detach().cpu().numpy()
        arr = np.ascontiguousarray(value, dtype="<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("metadata %r: keys and values must be strings" % (key,))
    header["__metadata__"] = dict(metadata or {})
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write(path, tensors, metadata=None):
    """Write through path.tmp, flushed to disk, then renamed over path."""
    blob = encode(tensors, metadata)
    tmp = str(path) + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
