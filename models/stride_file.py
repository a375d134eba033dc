"""Read and write stride model files (safetensors: an 8-byte header length, a JSON header, the
tensor data) as metadata plus numpy arrays, for the Python tools beside this file."""

import json
import struct

import numpy as np


def read_tensors(path):
    """(metadata dict, {name: float32 array}); ValueError naming the file if it is not one."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: too short to be a safetensors file" % path)
    n = struct.unpack("<Q", blob[:8])[0]
    if 8 + n > len(blob):
        raise ValueError("%s: header length %d runs past the end of the file" % (path, n))
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    if "stride.architecture" not in meta:
        raise ValueError("%s: no stride.architecture metadata: not a stride model" % path)
    data = blob[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError("%s: tensor %s is %s; stride models are F32" % (path, name, t["dtype"]))
        start, end = t["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(t["shape"]).copy()
    return meta, tensors


def write_tensors(path, meta, tensors):
    """The inverse of read_tensors: tensors in name order, the data 8-byte aligned."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
