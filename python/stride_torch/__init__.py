"""stride_torch: Stride networks in PyTorch, numerically the C library's, for training on GPUs
and clusters (python3 -m stride_torch.train) and for reading and writing model files.

    import stride_torch
    net = stride_torch.build("models/arch/gate-member.json")   # torch.nn.Module
    net, meta = stride_torch.load("models/gate.safetensors")   # eval mode, metadata strings
    stride_torch.save(net, "out.safetensors", meta)

Importable with PYTHONPATH=python; needs only Debian's python3-torch and python3-numpy.
The submodules arch and safetensors need numpy alone (the models/ tools use them without
torch), so the torch parts load on first use.
"""

__all__ = ["build", "constrain", "load", "save", "ArchError", "ModelError", "FormatError"]


def __getattr__(name):
    if name in ("build", "constrain"):
        from . import layers
        return getattr(layers, name)
    if name in ("load", "save", "ModelError"):
        from . import modelfile
        return getattr(modelfile, name)
    if name == "ArchError":
        from .arch import ArchError
        return ArchError
    if name == "FormatError":
        from .safetensors import FormatError
        return FormatError
    raise AttributeError("module 'stride_torch' has no attribute %r" % name)
