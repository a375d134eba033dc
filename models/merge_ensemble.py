#!/usr/bin/python3
"""Merge models trained from different seeds into one model that outputs their average logit.

Two gates trained alike but from different seeds fire on different stretches of noise:
where one sees a fricative in a second of fan hiss the other mostly does not. Averaging
their logits keeps what they agree on (content) and damps what they do not (each one's
false opens). Run side by side, that costs one network per member; merged, it is a
single network that the plugins stream like any other:

  - the first conv1d reads the input: its filters are stacked (out = N x out);
  - every later conv1d keeps each member's channels to themselves: groups = N x groups,
    weights stacked along the output axis (exactly how grouped convolution splits them);
  - batchnorm statistics and parameters are stacked; elementwise layers, pools, log and
    the global pool work per channel and are unchanged;
  - the final dense layer reads all members' pooled features with weights [W1 ... WN] / N
    and bias (b1 + ... + bN) / N: its output is the mean of the members' logits, which
    the softmax turns into the ensemble's probability. A fully convolutional network
    (no global pool) ends in a head convolution instead, merged the same way.

    merge_ensemble.py MODEL MODEL [MODEL ...] --out OUT

The members must have the same architecture (layer types, sizes and options), task,
labels, rate, window, hop, input gain and label region. Metadata that every member shares
is kept; a key whose values differ (seed, command, best epoch) is kept as a JSON list
under `ensemble.<key>`. Needs numpy only.
"""

import argparse
import json
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in models/
import stride_file  # noqa: E402  (beside this file)

# The metadata that defines what a decision means: members must agree on all of it.
MUST_MATCH = ("stride.format", "stride.task", "stride.sample_rate", "stride.labels", "stride.window",
              "stride.hop", "stride.input_gain", "train.label_region")
ELEMENTWISE = ("relu", "leaky_relu", "tanh", "sigmoid", "log", "maxpool1d", "avgpool1d")


class MergeError(Exception):
    pass


def read_model(path):
    try:
        meta, tensors = stride_file.read_tensors(path)
    except ValueError as e:
        raise MergeError(str(e))
    return meta, json.loads(meta["stride.architecture"]), tensors


def check_members(paths, members):
    first_meta, first_arch, _ = members[0]
    for path, (meta, arch, _) in zip(paths[1:], members[1:]):
        for key in MUST_MATCH:
            if meta.get(key) != first_meta.get(key):
                raise MergeError("%s: %s is %r, but %s has %r: the members must make the same decision"
                                 % (path, key, meta.get(key), paths[0], first_meta.get(key)))
        if arch != first_arch:
            raise MergeError("%s: its architecture differs from %s's; members must have the same one"
                             % (path, paths[0]))


def merge_architecture(arch, n, path):
    """The merged layer list, and for each layer how its tensors merge."""
    layers, plan = [], []
    first_conv_seen = False
    pooled = False
    head = False
    for i, layer in enumerate(arch["layers"]):
        t = layer["type"]
        new = dict(layer)
        if pooled and t not in ("dense", "softmax"):
            raise MergeError("%s: layer %d (%s) after the global pool: only dense + softmax can follow"
                             % (path, i, t))
        if t == "conv1d" and first_conv_seen and i + 2 == len(arch["layers"]) \
                and arch["layers"][-1]["type"] == "softmax":
            # a fully convolutional network's head (no global pool): like the dense
            # head, it reads every member's channels, weights [W1 ... WN] / N
            if layer.get("groups", 1) != 1:
                raise MergeError("%s: layer %d: a grouped head convolution is not supported" % (path, i))
            new["in"] = n * layer["in"]
            plan.append(("average", layer["name"]))
            head = True
        elif t == "conv1d":
            groups = layer.get("groups", 1)
            if not first_conv_seen:
                if groups != 1:
                    raise MergeError("%s: layer %d: a grouped first convolution (groups %d) is not supported"
                                     % (path, i, groups))
                new["out"] = n * layer["out"]
                first_conv_seen = True
            else:
                new["in"] = n * layer["in"]
                new["out"] = n * layer["out"]
                new["groups"] = n * groups
            plan.append(("stack", layer["name"]))
        elif t == "batchnorm1d":
            if not first_conv_seen:
                raise MergeError("%s: layer %d: batchnorm on the input itself is not supported" % (path, i))
            new["channels"] = n * layer["channels"]
            plan.append(("stack", layer["name"]))
        elif t in ELEMENTWISE:
            pass
        elif t in ("global_avgpool", "global_maxpool"):
            pooled = True
        elif t == "dense":
            if not pooled or i + 2 != len(arch["layers"]) or arch["layers"][-1]["type"] != "softmax":
                raise MergeError("%s: layer %d: only one dense layer, after the global pool and right before "
                                 "the softmax, can be merged" % (path, i))
            new["in"] = n * layer["in"]
            plan.append(("average", layer["name"]))
        elif t == "softmax":
            if i + 1 != len(arch["layers"]):
                raise MergeError("%s: layer %d: softmax before the last layer" % (path, i))
        else:
            raise MergeError("%s: layer %d: cannot merge a %s layer" % (path, i, t))
        layers.append(new)
    if not (pooled or head) or arch["layers"][-1]["type"] != "softmax":
        raise MergeError("%s: the network must end in global pool, dense, softmax, or in a head "
                         "convolution and softmax" % path)
    return {"layers": layers}, plan


def merge_tensors(plan, members):
    n = len(members)
    out = {}
    for how, name in plan:
        keys = sorted(k for k in members[0][2] if k.startswith(name + "."))
        for key in keys:
            parts = [m[2][key] for m in members]
            if how == "stack":                   # conv weights [out, in/g, k] and bias, bn vectors
                out[key] = np.concatenate(parts, axis=0)
            elif key.endswith(".weight"):        # dense [out, in] or head conv [out, in, k]: each
                                                 # member's weights read its own channels
                out[key] = np.concatenate(parts, axis=1) / n
            else:
                out[key] = sum(p.astype(np.float64) for p in parts) / n
    return out


def merge_metadata(paths, members, arch):
    metas = [m[0] for m in members]
    keys = []
    for meta in metas:
        keys += [k for k in meta if k not in keys]
    merged = {}
    for key in keys:
        values = [meta.get(key) for meta in metas]
        if key == "stride.architecture":
            merged[key] = json.dumps(arch, separators=(", ", ": "))
        elif all(v == values[0] for v in values):
            merged[key] = values[0]
        else:
            merged["ensemble." + key] = json.dumps(values)
    merged["ensemble.members"] = str(len(members))
    merged["ensemble.sources"] = json.dumps(paths)
    merged["ensemble.method"] = "mean of the members' logits (merge_ensemble.py)"
    return merged


def merge(paths):
    members = [read_model(p) for p in paths]
    check_members(paths, members)
    arch, plan = merge_architecture(members[0][1], len(members), paths[0])
    return merge_metadata(paths, members, arch), merge_tensors(plan, members)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+", help="two or more models trained alike")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if len(args.models) < 2:
        sys.exit("give two or more models to merge")
    try:
        meta, tensors = merge(args.models)
    except (MergeError, OSError, ValueError, KeyError) as e:
        sys.exit(str(e))
    stride_file.write_tensors(args.out, meta, tensors)
    print("merged %d models into %s (%d weights and statistics)"
          % (len(args.models), args.out, sum(t.size for t in tensors.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
