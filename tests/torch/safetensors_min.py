"""A minimal safetensors writer and reader for float32 tensors (json + struct + numpy).

The tests write Stride model files and reference tensors with this instead of the
`safetensors` package, so the only Python dependencies are torch and numpy.

Layout: 8-byte little-endian u64 header length N, N bytes of JSON, then the raw
little-endian tensor data; each tensor's data_offsets are relative to the end of
the header. The header is padded with spaces to a multiple of 8 so the data
section stays aligned.
"""
import json
import struct

import numpy as np


def _as_f32(value):
    # torch tensors come in detached; anything array-like goes through numpy.
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(value, dtype="<f4"))


def write(path, tensors, metadata=None):
    """Write `tensors` (name -> array, insertion order kept) and string metadata."""
    header = {}
    if metadata:
        for key, value in metadata.items():
            if not isinstance(value, str):
                raise TypeError("metadata %r must be a string, not %r" % (key, type(value)))
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name, value in tensors.items():
        if name == "__metadata__":
            raise ValueError("tensor name __metadata__ is reserved")
        arr = _as_f32(value)
        data = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def read(path):
    """Read a file written by write() (F32 only): returns (tensors, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: shorter than the 8-byte header length" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header length %d runs past the end of the file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError("%s: tensor %s has dtype %s, only F32 is supported"
                             % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - begin != 4 * count or end > len(data) or begin < 0:
            raise ValueError("%s: tensor %s has bad data_offsets" % (path, name))
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(shape).copy()
    return tensors, metadata
