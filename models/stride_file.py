"""Read and write stride model files as metadata plus numpy arrays, for the Python tools beside
this file. The container itself is python/stride_torch/safetensors.py (numpy only: these tools
do not need torch), the one reader and writer of the project's Python code."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from stride_torch import safetensors  # noqa: E402


def read_tensors(path):
    """(metadata dict, {name: float32 array}); ValueError naming the file if it is not one."""
    tensors, meta = safetensors.read(path)
    if "stride.architecture" not in meta:
        raise ValueError("%s: no stride.architecture metadata: not a stride model" % path)
    return meta, tensors


def write_tensors(path, meta, tensors):
    """The inverse of read_tensors: tensors in name order, the data 8-byte aligned, written
    through path.tmp and a rename."""
    safetensors.write(path, {name: tensors[name] for name in sorted(tensors)}, meta)
