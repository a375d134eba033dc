"""load() and save() of Stride model files (docs/MODEL_FORMAT.md), with the checks and
messages of dsp/model_file.c: "<file>: <what is wrong>"."""
import json
import math
import re

import numpy as np
import torch

from . import arch as arch_mod
from . import safetensors
from .layers import StrideNet

MIN_RATE, MAX_RATE = 8000, 384000
MAX_WINDOW = 1 << 24
REQUIRED = ("stride.task", "stride.sample_rate", "stride.labels", "stride.architecture")
# The keys save() writes first, in this order (then every other pair, unchanged).
GENERATED = ("stride.format", "stride.task", "stride.sample_rate", "stride.labels",
             "stride.architecture", "stride.window", "stride.hop", "stride.input_gain")


class ModelError(ValueError):
    """A model file the plugins would refuse; the message names the file."""


def _int(text, lo, hi):
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{1,12}", text.strip()):
        return None
    v = int(text)
    return v if lo <= v <= hi else None


def _gain(text):
    try:
        g = float(text)
    except (TypeError, ValueError):
        return None
    return g if math.isfinite(g) and 0 < g <= 3.4e38 else None


def check_metadata(meta, name):
    """The parsed fields {task, sample_rate, labels, specs, window, hop, input_gain} of a
    metadata dict, or ModelError as the C loader words it."""
    v = meta.get("stride.format")
    if v is None:
        raise ModelError("%s: not a Stride model (metadata stride.format is missing)" % name)
    if v != "1":
        raise ModelError("%s: unsupported format version \"%s\" (stride.format; this build "
                         "reads 1)" % (name, v[:20]))
    for key in REQUIRED:
        if key not in meta:
            raise ModelError("%s: metadata %s is missing" % (name, key))
    task = meta["stride.task"]
    if task not in ("gate", "classify"):
        raise ModelError("%s: stride.task \"%s\" must be gate or classify" % (name, task[:40]))
    rate = _int(meta["stride.sample_rate"], MIN_RATE, MAX_RATE)
    if rate is None:
        raise ModelError("%s: stride.sample_rate \"%s\" must be an integer %d..%d (Hz)"
                         % (name, meta["stride.sample_rate"][:40], MIN_RATE, MAX_RATE))
    try:
        specs = arch_mod.parse(meta["stride.architecture"])
    except arch_mod.ArchError as e:
        raise ModelError("%s: stride.architecture: %s" % (name, e)) from None
    try:
        labels = json.loads(meta["stride.labels"])
    except json.JSONDecodeError:
        labels = None
    if not isinstance(labels, list):
        raise ModelError("%s: stride.labels is not a JSON list of strings" % name)
    for i, lab in enumerate(labels):
        if not isinstance(lab, str):
            raise ModelError("%s: stride.labels entry %d is not a string" % (name, i))
    rf, total = arch_mod.geometry(specs)
    fields = {"task": task, "sample_rate": rate, "labels": labels, "specs": specs}
    for key, default in (("window", rf), ("hop", total)):
        text = meta.get("stride." + key)
        fields[key] = default if text is None else _int(text, 1, MAX_WINDOW)
        if fields[key] is None:
            raise ModelError("%s: stride.%s \"%s\" must be an integer 1..%d (samples)"
                             % (name, key, text[:40], MAX_WINDOW))
    text = meta.get("stride.input_gain")
    fields["input_gain"] = 1.0 if text is None else _gain(text)
    if fields["input_gain"] is None:
        raise ModelError("%s: stride.input_gain \"%s\" must be a finite number > 0"
                         % (name, text[:40]))
    try:
        c, _ = arch_mod.output_shape(specs, fields["window"])
    except arch_mod.ArchError as e:
        raise ModelError("%s: stride.window %d does not fit the network: %s"
                         % (name, fields["window"], e)) from None
    if len(labels) != c:
        raise ModelError("%s: stride.labels has %d labels but the network has %d outputs"
                         % (name, len(labels), c))
    return fields


def _shape_text(shape):
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def load(path, device="cpu"):
    """(module, metadata) of a Stride model file: the network in eval mode with the file's
    weights, and every metadata pair as strings. ModelError (a ValueError) names the file
    and what is wrong, as the C loader does: bad container, metadata, architecture, a
    missing, misshapen, extra or non-finite tensor, labels that do not match the outputs."""
    name = str(path)
    try:
        tensors, meta = safetensors.read(path)
    except safetensors.FormatError as e:
        raise ModelError(str(e)) from None
    fields = check_metadata(meta, name)
    net = StrideNet(fields["specs"])
    state = net.state_dict()
    loaded = {}
    for key, want in state.items():
        if key.endswith(".num_batches_tracked"):
            loaded[key] = want
            continue
        if key not in tensors:
            raise ModelError("%s: tensor %s is missing (the architecture needs it)" % (name, key))
        have = tensors[key]
        if tuple(have.shape) != tuple(want.shape):
            raise ModelError("%s: tensor %s: shape %s does not match the architecture %s"
                             % (name, key, _shape_text(have.shape), _shape_text(want.shape)))
        bad = np.flatnonzero(~np.isfinite(have.reshape(-1)))
        if bad.size:
            j = int(bad[0])
            raise ModelError("%s: tensor %s: value %d is %s (not a finite number)"
                             % (name, key, j, "NaN" if np.isnan(have.reshape(-1)[j]) else "Inf"))
        loaded[key] = torch.from_numpy(have)
    for key in tensors:
        if key not in state:
            raise ModelError("%s: tensor %s is not part of the architecture (extra tensor)"
                             % (name, key[:80]))
    net.load_state_dict(loaded)
    net.eval()
    net.to(device)
    return net, dict(meta)


def _text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return json.dumps([str(x) for x in value], separators=(",", ":"))
    if isinstance(value, float):
        return "%.9g" % value
    return str(value)


def save(module, path, metadata):
    """Write module (a StrideNet, or a DDP wrapper of one) as a Stride model file.

    metadata: stride.task, stride.sample_rate and stride.labels at least (values as
    strings; a labels list and numbers are converted), optionally stride.window, stride.hop,
    stride.input_gain and any other pairs, kept as given. stride.format and
    stride.architecture come from the module. The file goes through path.tmp and a rename;
    a model with a NaN or infinity is not saved; the result loads with load() and in C."""
    net = getattr(module, "module", module)
    if not isinstance(net, StrideNet):
        raise TypeError("save: the module must come from stride_torch.build or load")
    meta = {k: _text(v) for k, v in metadata.items()}
    meta["stride.format"] = "1"
    meta["stride.architecture"] = arch_mod.to_json(net.specs)
    fields = check_metadata(meta, str(path))
    generated = {"stride.format": "1", "stride.task": fields["task"],
                 "stride.sample_rate": str(fields["sample_rate"]),
                 "stride.labels": json.dumps(fields["labels"], separators=(",", ":")),
                 "stride.architecture": meta["stride.architecture"],
                 "stride.window": str(fields["window"]), "stride.hop": str(fields["hop"]),
                 "stride.input_gain": "%.9g" % fields["input_gain"]}
    out_meta = dict(generated)
    out_meta.update((k, v) for k, v in meta.items() if k not in GENERATED)
    tensors = {}
    for key, t in net.state_dict().items():
        if key.endswith(".num_batches_tracked"):
            continue
        a = t.detach().to("cpu", torch.float32).contiguous().numpy()
        bad = np.flatnonzero(~np.isfinite(a.reshape(-1)))
        if bad.size:
            raise ModelError("%s: tensor %s: value %d is %s; not saving"
                             % (path, key, int(bad[0]),
                                "NaN" if np.isnan(a.reshape(-1)[bad[0]]) else "Inf"))
        tensors[key] = a
    safetensors.write(path, tensors, out_meta)
