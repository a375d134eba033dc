"""Architecture documents ({"layers": [...]}, docs/MODEL_FORMAT.md): strict parsing with
the rules and messages of dsp/arch_json.c, and the geometry dsp/net.c computes (output
lengths, receptive field, total stride). Pure Python: no torch here."""
import json
import math
import re
import struct

MAX_LAYERS = 256
MAX_CHANNELS = 4096
MAX_DENSE_IN = 1 << 22
MAX_KERNEL = 65536
MAX_STEP = 65536
MAX_PADDING = 65535
MAX_DC_ZEROS = 2
FLT_MAX = 3.4028234663852886e38

# Per type: (allowed keys besides "type", required keys). Every type the C library has.
TYPES = {
    "conv1d": ({"name", "in", "out", "kernel", "stride", "dilation", "padding", "groups",
                "bias", "dc_zeros"}, ("name", "in", "out", "kernel")),
    "maxpool1d": ({"name", "kernel", "stride", "padding"}, ("kernel",)),
    "avgpool1d": ({"name", "kernel", "stride", "padding"}, ("kernel",)),
    "global_avgpool": ({"name"}, ()),
    "global_maxpool": ({"name"}, ()),
    "batchnorm1d": ({"name", "channels", "eps", "momentum"}, ("name", "channels")),
    "dense": ({"name", "in", "out", "bias"}, ("name", "in", "out")),
    "relu": ({"name"}, ()),
    "leaky_relu": ({"name", "slope"}, ()),
    "tanh": ({"name"}, ()),
    "sigmoid": ({"name"}, ()),
    "softmax": ({"name"}, ()),
    "log": ({"name", "eps"}, ()),
}

# The defaults stride_layer_spec_defaults() fills in (pools: stride 0 = the kernel).
DEFAULTS = {"stride": 1, "dilation": 1, "padding": 0, "groups": 1, "bias": True,
            "eps": 1e-5, "momentum": 0.1, "slope": 0.01, "dc_zeros": 0}

NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,63}$")


class ArchError(ValueError):
    """An architecture the C library would refuse; the message names the layer and key."""


def _int(v, lo, hi, i, tn, key):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or v != math.floor(v):
        raise ArchError("layer %d (%s): \"%s\" must be an integer" % (i, tn, key))
    if v < lo or v > hi:
        raise ArchError("layer %d (%s): \"%s\" is %.0f, must be %d..%d" % (i, tn, key, v, lo, hi))
    return int(v)


def f32(v):
    """v rounded to float32, as the C library holds eps, momentum and slope."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


def _float(v, i, tn, key):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or abs(v) > FLT_MAX:
        raise ArchError("layer %d (%s): \"%s\" must be a finite number" % (i, tn, key))
    return f32(float(v))


def _field(spec, key, v, i, tn):
    t = spec["type"]
    if key == "name":
        if not isinstance(v, str) or not NAME_RE.match(v):
            raise ArchError("layer %d (%s): \"name\" must be 1..63 characters of letters, "
                            "digits, '_', '.' or '-'" % (i, tn))
        return v
    if key == "in":
        return _int(v, 1, MAX_DENSE_IN if t == "dense" else MAX_CHANNELS, i, tn, key)
    if key in ("out", "groups", "channels"):
        return _int(v, 1, MAX_CHANNELS, i, tn, key)
    if key == "kernel":
        return _int(v, 1, MAX_KERNEL, i, tn, key)
    if key == "stride":
        return _int(v, 1 if t == "conv1d" else 0, MAX_STEP, i, tn, key)
    if key == "dilation":
        return _int(v, 1, MAX_STEP, i, tn, key)
    if key == "padding":
        return _int(v, 0, MAX_PADDING, i, tn, key)
    if key == "dc_zeros":
        return _int(v, 0, MAX_DC_ZEROS, i, tn, key)
    if key == "bias":
        if not isinstance(v, bool):
            raise ArchError("layer %d (%s): \"bias\" must be true or false" % (i, tn))
        return v
    if key == "eps":
        v = _float(v, i, tn, key)
        if not v > 0:
            raise ArchError("layer %d (%s): \"eps\" must be positive" % (i, tn))
        return v
    if key == "momentum":
        v = _float(v, i, tn, key)
        if not 0 <= v <= 1:
            raise ArchError("layer %d (%s): \"momentum\" must be 0..1" % (i, tn))
        return v
    if key == "slope":
        return _float(v, i, tn, key)
    raise ArchError("layer %d (%s): unknown key \"%s\"" % (i, tn, key))


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ArchError("key \"%s\" appears twice" % k)
        seen[k] = v
    return seen


def parse(arch):
    """The layer list, each layer a dict with every field of its type (defaults filled in),
    from an architecture: a dict, a JSON string or a path to a JSON file. ArchError names
    the layer index and key at fault; an unknown layer type is an error naming it."""
    if isinstance(arch, (str, bytes)) and not str(arch).lstrip().startswith("{"):
        with open(arch) as f:
            arch = f.read()
    if isinstance(arch, (str, bytes)):
        try:
            arch = json.loads(arch, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as e:
            raise ArchError("architecture is not valid JSON (syntax error near byte %d)"
                            % e.pos) from None
    if not isinstance(arch, dict):
        raise ArchError("architecture is not a JSON object")
    for key in arch:
        if key != "layers":
            raise ArchError("architecture: unknown key \"%s\" (expected only \"layers\")" % key)
    layers = arch.get("layers")
    if not isinstance(layers, list):
        raise ArchError("architecture: \"layers\" must be a list of layer objects")
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise ArchError("architecture: %d layers (1..%d allowed)" % (len(layers), MAX_LAYERS))
    specs = []
    for i, obj in enumerate(layers):
        if not isinstance(obj, dict):
            raise ArchError("layer %d: not a JSON object" % i)
        if "type" not in obj:
            raise ArchError("layer %d: missing \"type\"" % i)
        tn = obj["type"]
        if not isinstance(tn, str):
            raise ArchError("layer %d: \"type\" must be a string" % i)
        if tn not in TYPES:
            raise ArchError("layer %d: unknown type \"%s\" (stride_torch knows %s)"
                            % (i, tn[:40], ", ".join(TYPES)))
        allowed, required = TYPES[tn]
        spec = {"type": tn}
        for key in sorted(allowed - {"name"}):
            spec[key] = 0 if key == "stride" and tn != "conv1d" else DEFAULTS.get(key)
        for key, v in obj.items():
            if key == "type":
                continue
            if key not in allowed:
                raise ArchError("layer %d (%s): unknown key \"%s\"" % (i, tn, key[:40]))
            spec[key] = _field(spec, key, v, i, tn)
        for key in required:
            if key not in obj:
                raise ArchError("layer %d (%s): missing \"%s\"" % (i, tn, key))
        specs.append(spec)
    check_chain(specs)
    return specs


def check_chain(specs):
    """What stride_net_new checks: names unique, channel counts agree, groups divide the
    channels, dc_zeros below the kernel, pool padding at most half the kernel."""
    names, c = set(), None
    for i, s in enumerate(specs):
        tn = s["type"]
        name = s.get("name")
        if name:
            if name in names:
                raise ArchError("layer %d (%s): name \"%s\" is used twice" % (i, tn, name))
            names.add(name)
        if tn == "conv1d":
            if c is not None and s["in"] != c:
                raise ArchError("layer %d (conv1d): \"in\" is %d but its input has %d channels"
                                % (i, s["in"], c))
            if s["in"] % s["groups"] or s["out"] % s["groups"]:
                raise ArchError("layer %d (conv1d): groups %d must divide in %d and out %d"
                                % (i, s["groups"], s["in"], s["out"]))
            if s["dc_zeros"] >= s["kernel"]:
                raise ArchError("layer %d (conv1d): dc_zeros %d must be below the kernel %d"
                                % (i, s["dc_zeros"], s["kernel"]))
            c = s["out"]
        elif tn == "batchnorm1d":
            if c is not None and s["channels"] != c:
                raise ArchError("layer %d (batchnorm1d): \"channels\" is %d but its input has %d"
                                % (i, s["channels"], c))
            c = s["channels"]
        elif tn == "dense":
            c = s["out"]
        elif tn in ("maxpool1d", "avgpool1d"):
            if 2 * s["padding"] > s["kernel"]:
                raise ArchError("layer %d (%s): padding %d is more than half the kernel %d"
                                % (i, tn, s["padding"], s["kernel"]))


def in_channels(specs):
    """The input channels: those of the first conv1d, batchnorm1d or dense layer."""
    for s in specs:
        if s["type"] == "conv1d":
            return s["in"]
        if s["type"] == "batchnorm1d":
            return s["channels"]
        if s["type"] == "dense":
            return s["in"]
    return 1


def out_len(t, k, s, d, p):
    """stride_conv_out_len: output steps of a conv or pool, or -1 when it does not fit."""
    room = t + 2 * p - (d * (k - 1) + 1)
    return room // s + 1 if room >= 0 and t >= 1 else -1


def output_shape(specs, t):
    """(channels, steps) of the network's output for an input of t samples; ArchError
    naming the layer when the input is too short."""
    c = in_channels(specs)
    for i, s in enumerate(specs):
        tn = s["type"]
        if tn in ("conv1d", "maxpool1d", "avgpool1d"):
            stride = s["stride"] or s["kernel"]
            d = s.get("dilation", 1)
            n = out_len(t, s["kernel"], stride, d, s["padding"])
            if n < 1:
                raise ArchError("layer %d (%s): input length %d is shorter than its window "
                                "(kernel %d, dilation %d, padding %d)"
                                % (i, tn, t, s["kernel"], d, s["padding"]))
            t = n
            if tn == "conv1d":
                c = s["out"]
        elif tn in ("global_avgpool", "global_maxpool"):
            t = 1
        elif tn == "dense":
            if c * t != s["in"]:
                raise ArchError("layer %d (dense %s): expects %d inputs, gets %d x %d = %d"
                                % (i, s["name"], s["in"], c, t, c * t))
            c, t = s["out"], 1
    return c, t


def geometry(specs):
    """(receptive field, total stride) over the time-local layers before the first dense
    or global pool, as stride_net_receptive_field and stride_net_total_stride."""
    rf, jump = 1, 1
    for s in specs:
        tn = s["type"]
        if tn in ("dense", "global_avgpool", "global_maxpool"):
            break
        if tn in ("conv1d", "maxpool1d", "avgpool1d"):
            stride = s["stride"] or s["kernel"]
            rf += (s["kernel"] - 1) * s.get("dilation", 1) * jump
            jump *= stride
    return rf, jump


# The order stride_arch_to_json writes the keys in.
KEY_ORDER = ("type", "name", "in", "out", "channels", "kernel", "stride", "dilation", "padding",
             "groups", "bias", "eps", "momentum", "slope", "dc_zeros")


def _float_text(v):
    """The shortest of %.6g .. %.9g that reads back as the same float32 ("1e-05")."""
    for prec in range(6, 10):
        text = "%.*g" % (prec, v)
        if f32(float(text)) == f32(v):
            return text
    return "%.9g" % v


def to_json(specs):
    """The architecture document as stride_arch_to_json writes it: compact, keys in its
    order, every field of every layer (dc_zeros only when set), floats in the shortest form
    that reads back as the same float32."""
    layers = []
    for s in specs:
        parts = []
        for key in KEY_ORDER:
            if key not in s or (key == "dc_zeros" and not s[key]):
                continue
            v = s[key]
            if key in ("eps", "momentum", "slope"):
                parts.append('"%s":%s' % (key, _float_text(v)))
            else:
                parts.append('"%s":%s' % (key, json.dumps(v)))
        layers.append("{" + ",".join(parts) + "}")
    return '{"layers":[' + ",".join(layers) + "]}"
