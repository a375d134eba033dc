"""build(arch): the PyTorch network of an architecture, layer for layer what dsp/ computes.

The module's state_dict() names and shapes are those of the model file ("conv1.weight"
[out, in/groups, kernel], "fc.weight" [out, in], batchnorm weight/bias/running_mean/
running_var), so a model file loads into it with load_state_dict and saves from it as is.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import arch as arch_mod


class Dense(nn.Linear):
    """dense: nn.Linear on the flattened (channels x steps) input; output (batch, out, 1)."""

    def forward(self, x):
        return super().forward(x.flatten(1)).unsqueeze(2)


class Conv1d(nn.Conv1d):
    """conv1d; dc_zeros (0..2) is a training constraint held by constrain(), not a
    different computation."""

    def __init__(self, spec):
        super().__init__(spec["in"], spec["out"], spec["kernel"], stride=spec["stride"],
                         padding=spec["padding"], dilation=spec["dilation"],
                         groups=spec["groups"], bias=spec["bias"])
        self.dc_zeros = spec["dc_zeros"]


class Log(nn.Module):
    """log: ln(max(x, 0) + eps); NaN in gives ln(eps), as dsp/activation.c."""

    def __init__(self, eps):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        return torch.log(torch.where(x > 0, x, torch.zeros_like(x)) + self.eps)


class LeakyReLU(nn.Module):
    def __init__(self, slope):
        super().__init__()
        self.slope = slope

    def forward(self, x):
        return F.leaky_relu(x, self.slope)


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=2, keepdim=True)


class GlobalMaxPool(nn.Module):
    def forward(self, x):
        return x.amax(dim=2, keepdim=True)


class Softmax(nn.Module):
    """softmax over the channels at each step."""

    def forward(self, x):
        return torch.softmax(x, dim=1)


def make_layer(spec):
    """The module of one parsed layer spec."""
    t = spec["type"]
    if t == "conv1d":
        return Conv1d(spec)
    if t in ("maxpool1d", "avgpool1d"):
        cls = nn.MaxPool1d if t == "maxpool1d" else nn.AvgPool1d
        return cls(spec["kernel"], stride=spec["stride"] or spec["kernel"],
                   padding=spec["padding"])
    if t == "batchnorm1d":
        return nn.BatchNorm1d(spec["channels"], eps=spec["eps"], momentum=spec["momentum"])
    if t == "dense":
        return Dense(spec["in"], spec["out"], bias=spec["bias"])
    if t == "relu":
        return nn.ReLU()
    if t == "leaky_relu":
        return LeakyReLU(spec["slope"])
    if t == "tanh":
        return nn.Tanh()
    if t == "sigmoid":
        return nn.Sigmoid()
    if t == "softmax":
        return Softmax()
    if t == "log":
        return Log(spec["eps"])
    if t == "global_avgpool":
        return GlobalAvgPool()
    if t == "global_maxpool":
        return GlobalMaxPool()
    # arch.parse refuses unknown types first; this guards a type added there but not here
    raise arch_mod.ArchError("layer type \"%s\" is not supported by stride_torch" % t)


class StrideNet(nn.Module):
    """The layers in order. Layers with tensors are registered under their names (a name
    with dots nests, so "block.conv" gives "block.conv.weight"); `layers` lists every
    layer's module in order, `specs` the parsed layer specs."""

    def __init__(self, specs):
        super().__init__()
        self.specs = specs
        order = []
        for i, s in enumerate(specs):
            m = make_layer(s)
            if s["type"] in ("conv1d", "batchnorm1d", "dense"):
                self._register(s["name"], m, i)
            order.append(m)
        self.layers = order  # a plain list: the modules are registered by name above

    def _register(self, name, module, i):
        parts = name.split(".")
        parent = self
        for p in parts[:-1]:
            child = parent._modules.get(p)
            if child is None:
                child = nn.Module()
                parent.add_module(p, child)
            parent = child
        try:
            if parts[-1] in parent._modules:
                raise KeyError("used twice")
            parent.add_module(parts[-1], module)
        except (KeyError, ValueError) as e:
            raise arch_mod.ArchError("layer %d (%s): name \"%s\" cannot be used: %s"
                                     % (i, self.specs[i]["type"], name, e)) from None

    @property
    def ends_in_softmax(self):
        return self.specs[-1]["type"] == "softmax"

    def forward(self, x, logits=False):
        """x (batch, channels, time) -> (batch, out, steps). logits: leave out a final
        softmax (the trainer's loss takes the logits, as `stride train` does)."""
        layers = self.layers[:-1] if logits and self.ends_in_softmax else self.layers
        for m in layers:
            x = m(x)
        return x


def build(arch):
    """torch.nn.Module of an architecture (dict, JSON text or path), with PyTorch's default
    initialisation (the distribution stride_net_init_params draws from) and the dc_zeros
    constraint applied. Raises arch.ArchError for what the C library refuses, naming the
    layer: an unknown type, key or value, layers that do not chain."""
    net = StrideNet(arch_mod.parse(arch))
    constrain(net)
    return net


def _tap_poly(m, k, dtype):
    t = torch.arange(k, dtype=dtype) - 0.5 * (k - 1)
    if m == 0:
        return torch.ones(k, dtype=dtype)
    if m == 1:
        return t
    return t * t - (k * k - 1.0) / 12.0


@torch.no_grad()
def constrain(net):
    """Hold the dc_zeros constraints: every kernel of a conv1d with dc_zeros K is replaced
    by its orthogonal projection onto the kernels with K zeros at 0 Hz (taps orthogonal to
    1, and for K = 2 to the tap index), as stride_net_constrain does; call after
    initialisation and after every optimiser step. Works through DDP wrappers."""
    net = getattr(net, "module", net)
    for m in net.layers:
        if isinstance(m, Conv1d) and m.dc_zeros > 0:
            k = m.kernel_size[0]
            w = m.weight.detach().double().reshape(-1, k)
            for order in range(m.dc_zeros):
                p = _tap_poly(order, k, torch.float64).to(w.device)
                w = w - torch.outer(w @ p / (p @ p), p)
            m.weight.copy_(w.reshape(m.weight.shape).to(m.weight.dtype))
