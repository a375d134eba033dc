"""python3 -m stride_torch.train: `stride train` in PyTorch, on CPU, one GPU, or many
processes and machines under torchrun (DistributedDataParallel: gloo on CPU, NCCL on GPUs).

    PYTHONPATH=python python3 -m stride_torch.train --arch gate-small --task gate \\
        --data DIR --out gate.safetensors [--device cuda] [stride train's options]
    PYTHONPATH=python torchrun --nproc_per_node 4 -m stride_torch.train ...

The data is `stride train`'s own pipeline (cli/data_api.h through libstride_data.so):
the same layouts, split, augmentation, epoch order and per-example seeds. Initial weights
come from the C library's initialiser with the same seed. Each step's batch is the one
`stride train` makes; process r of N makes and trains on the r-th contiguous share of it
(as the C trainer's thread r does), the gradients are combined weighted by share, and the
batchnorm running statistics are averaged over the processes after each step, as the C
trainer does over its threads. On CPU a run is deterministic for a seed and process count.
Only rank 0 prints and writes (the model and checkpoints, through a temporary file and a
rename). Checkpoints (OUT.ckpt by default) are written after every epoch and on Ctrl-C or
SIGTERM (any process's signal stops every process after the same step; exit status 130);
--resume continues from one bit for bit. They are stride_torch's own (named tensors and the
optimiser's moments), not `stride train`'s.

Flags of `stride train` it does not take: none of the data, model or optimisation ones (the
augmentation flags are `stride train`'s own table, cli/aug_flags.c, read through the library);
--threads sets torch's CPU threads per process. Its own: --device auto|cpu|cuda, and
--shard-files: each process reads only every N-th audio file (N processes: cli/dataset.h's
shards) and draws its share of every batch from its own files, with seeds of its own, for
datasets larger than one machine's memory (deterministic for a seed and process count, but
not `stride train`'s examples).
"""
import argparse
import hashlib
import json
import math
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from . import arch as arch_mod
from . import native
from . import safetensors
from .layers import StrideNet, constrain
from .modelfile import save

INFER_CHUNK = 256
# What a checkpoint records of the run's progress: the epoch and step to run next, the
# running sums of that epoch, the best validation loss so far.
PROGRESS = {"epoch": int, "step": int, "sums": list, "best_epoch": int, "best_loss": float,
            "bad_epochs": int}

interrupted = False


def on_signal(signum, frame):
    """Ctrl-C or SIGTERM (torchrun forwards them to every process): stop after this step."""
    global interrupted
    interrupted = True


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python3 -m stride_torch.train",
                                 description="Train a Stride model in PyTorch (the flags of "
                                             "`stride train`; see `stride help train`).")
    a = ap.add_argument
    a("--arch", required=True, help="architecture JSON file or preset name")
    a("--data", required=True)
    a("--out", required=True)
    a("--task", choices=["gate", "classify"])
    a("--rate", type=int)
    a("--window", type=int)
    a("--hop", type=int)
    a("--label-width", type=int, default=0)
    a("--label-at", choices=["centre", "end"], default="centre")
    a("--epochs", type=int, default=30)
    a("--batch", type=int, default=64)
    a("--threads", type=int, default=0, help="CPU threads per process (default: torch's)")
    a("--patience", type=int, default=8)
    a("--seed", type=int, default=0)
    a("--epoch-size", type=int, default=0)
    a("--lr", type=float)
    a("--min-lr", type=float, default=0.0)
    a("--momentum", type=float, default=0.9)
    a("--weight-decay", type=float, default=1e-4)
    a("--warmup", type=float, default=1.0)
    a("--gamma", type=float, default=0.1)
    a("--step-epochs", type=int, default=10)
    a("--stop-after", type=int, default=0)
    a("--val-fraction", type=float, default=0.15)
    a("--optimizer", choices=["adam", "adamw", "sgd"], default="adam")
    a("--schedule", choices=["cosine", "step", "constant"], default="cosine")
    a("--split-list", "--val-list", dest="val_list")
    a("--train-list")
    a("--val-data")
    a("--noise")
    a("--checkpoint")
    a("--resume")
    a("--no-checkpoint", action="store_true")
    a("--steps", type=int, default=1)
    # the augmentation flags are `stride train`'s own table (cli/aug_flags.h), parsed by
    # the C side when applied (Data.aug_text)
    for name, arg, text in native.aug_flags():
        if arg is None:
            a("--" + name, action="store_true", help=text)
        else:
            a("--" + name, metavar=arg, help=text)
    a("--device", default="auto", help="auto (CUDA when available), cpu, cuda")
    a("--shard-files", action="store_true",
      help="each process reads only its share of the audio files (for datasets larger than "
           "one machine's memory); draws differ from stride train's")
    # `stride train --level -40:-6`: a value may start with "-", which argparse would take
    # for an option; glue each option's value to it ("--level=-40:-6")
    glued, i = [], 0
    while i < len(argv):
        action = ap._option_string_actions.get(argv[i])
        if action is not None and action.nargs is None and i + 1 < len(argv):
            glued.append("%s=%s" % (argv[i], argv[i + 1]))
            i += 2
        else:
            glued.append(argv[i])
            i += 1
    return ap.parse_args(glued)


class Dist:
    """This process's place in the run: rank, world size, device; torchrun's environment
    (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR...) makes it distributed."""

    def __init__(self, want):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = want == "cuda" or (want == "auto" and torch.cuda.is_available())
        if want == "cuda" and not torch.cuda.is_available():
            raise SystemExit("stride_torch.train: --device cuda: no CUDA device")
        if cuda:
            self.device = torch.device("cuda", local % torch.cuda.device_count())
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        self.backend = "nccl" if cuda else "gloo"
        if self.world > 1:
            dist.init_process_group(self.backend)

    @property
    def main(self):
        return self.rank == 0

    def sum(self, values):
        """values summed over the processes (float64 on the CPU for gloo, else the device)."""
        t = torch.tensor(values, dtype=torch.float64,
                         device=self.device if self.backend == "nccl" else "cpu")
        if self.world > 1:
            dist.all_reduce(t)
        return t.cpu().tolist()

    def finish(self, code):
        """The end of a run: returns code alone; in a distributed one, waits for every process
        and ends this one at once. Tearing down DistributedDataParallel in Python can
        deadlock with Debian's torch 1.13 and gloo (the process group's destructor joins a
        gloo thread that waits for the GIL the destructor holds), so the process exits without
        running destructors: rank 0's files are on disk already (fsync and rename)."""
        if self.world == 1:
            return code
        dist.barrier()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def share(self, n):
        """[begin, end) of n items this process takes: cli_share (cli/workers.c)."""
        base, extra = divmod(n, self.world)
        b = self.rank * base + min(self.rank, extra)
        return b, b + base + (1 if self.rank < extra else 0)


def say(d, *a):
    if d.main:
        print(*a, flush=True)


def load_architecture(args, n_classes):
    """(specs, preset or None): a JSON file, else a preset sized for n_classes."""
    if os.path.exists(args.arch):
        try:
            return arch_mod.parse(args.arch), None
        except arch_mod.ArchError as e:
            raise arch_mod.ArchError("%s: %s" % (args.arch, e)) from None
    p = native.preset(args.arch, n_classes)
    if p is None:
        raise SystemExit("stride_torch.train: --arch %s: no such file and no such preset "
                         "(presets: %s)" % (args.arch, " ".join(native.preset_names())))
    return arch_mod.parse(p[0]), p


def init_like_c(net, specs, seed):
    """The C trainer's initial weights for this seed (stride_net_init_params)."""
    c = native.CNet(arch_mod.to_json(specs))
    c.init(seed)
    state = c.state()
    with torch.no_grad():
        for key, t in net.state_dict().items():
            if key in state:
                t.copy_(torch.from_numpy(state[key]))


def fingerprint(specs, classes, task, rate, window, hop, steps):
    h = hashlib.sha256(arch_mod.to_json(specs).encode())
    h.update(json.dumps([classes, task, rate, window, hop, steps]).encode())
    return h.hexdigest()[:16]


def make_optimizer(args, net):
    decay = [p for p in net.parameters() if p.dim() >= 2]
    rest = [p for p in net.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": args.weight_decay},
              {"params": rest, "weight_decay": 0.0}]
    lr = args.lr if args.lr is not None else (1e-3 if args.optimizer != "sgd" else 0.01)
    if args.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=args.momentum), lr
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8), lr


def bn_buffers(net):
    return [b for name, b in net.named_buffers() if name.endswith(("running_mean", "running_var"))]


def scores(net, x, y, d, k, own):
    """(loss sum, right, content tp, fp, fn, count) summed over the processes: each scores
    its share of the windows (own: all of its own windows, when each holds its own shard of
    the data); probabilities are the outputs' softmax (or the outputs, after a final
    softmax) averaged over the steps, as cli_infer_windows."""
    b0, b1 = (0, len(x)) if own else d.share(len(x))
    loss = right = tp = fp = fn = 0.0
    net.eval()
    with torch.no_grad():
        for i in range(b0, b1, INFER_CHUNK):
            xb = torch.from_numpy(x[i:min(i + INFER_CHUNK, b1)]).to(d.device)
            out = net(xb, logits=True).double()
            p = torch.softmax(out, dim=1).mean(dim=2).cpu().numpy()
            yt = y[i:i + len(p)]
            pt = p[np.arange(len(p)), yt]
            loss += float(np.where(pt > 1e-30, -np.log(np.maximum(pt, 1e-300)), 69.0).sum())
            guess = p.argmax(axis=1)
            right += float((guess == yt).sum())
            if k == 2:
                tp += float(((guess == 1) & (yt == 1)).sum())
                fp += float(((guess == 1) & (yt == 0)).sum())
                fn += float(((guess == 0) & (yt == 1)).sum())
    net.train()
    return d.sum([loss, right, tp, fp, fn, float(b1 - b0)])


def state_of(net):
    return {k: v.detach().cpu().clone() for k, v in net.state_dict().items()
            if not k.endswith(".num_batches_tracked")}


def save_checkpoint(path, d, net, opt, best, progress, fp, args):
    """Rank 0 only: the network, the best state, the optimiser's moments and the progress,
    as a safetensors file (written through path.tmp and a rename)."""
    tensors = {"state." + k: v.numpy() for k, v in state_of(net).items()}
    if best is not None:
        tensors.update(("best." + k, v.numpy()) for k, v in best.items())
    names = {id(p): n for n, p in net.named_parameters()}
    step = 0
    for group in opt.param_groups:
        for p in group["params"]:
            for key, v in opt.state.get(p, {}).items():
                if torch.is_tensor(v) and v.dim() > 0:
                    tensors["opt.%s.%s" % (names[id(p)], key)] = v.detach().cpu().numpy()
                elif key == "step":
                    step = int(v)
    meta = {"stride_torch.checkpoint": "1", "ckpt.fingerprint": fp,
            "ckpt.optimizer": args.optimizer, "ckpt.opt_steps": str(step),
            "ckpt.world_size": str(d.world), "ckpt.batch": str(args.batch)}
    meta.update(("ckpt." + k, " ".join(repr(float(x)) for x in v) if isinstance(v, list)
                  else repr(v)) for k, v in progress.items())
    safetensors.write(path, tensors, meta)


def load_checkpoint(path, net, opt, fp, args, d):
    tensors, meta = safetensors.read(path)
    if meta.get("stride_torch.checkpoint") != "1":
        raise SystemExit("%s: not a stride_torch training checkpoint" % path)
    if meta.get("ckpt.fingerprint") != fp:
        raise SystemExit("%s: made for another architecture, label set or window; resume with "
                         "the same --arch, --data, --window and --rate" % path)
    if meta.get("ckpt.optimizer") != args.optimizer:
        raise SystemExit("%s: made with --optimizer %s, not %s" % (path, meta.get("ckpt.optimizer"),
                                                                   args.optimizer))
    with torch.no_grad():
        for k, v in net.state_dict().items():
            if "state." + k in tensors:
                v.copy_(torch.from_numpy(tensors["state." + k]))
    best = {k[5:]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("best.")}
    step = int(meta.get("ckpt.opt_steps", "0"))
    for n, p in net.named_parameters():
        st = {}
        for key in ("exp_avg", "exp_avg_sq", "momentum_buffer"):
            if "opt.%s.%s" % (n, key) in tensors:
                st[key] = torch.from_numpy(tensors["opt.%s.%s" % (n, key)]).to(p.device)
        if st:
            if "exp_avg" in st:
                st["step"] = torch.tensor(float(step))
            opt.state[p] = st
    progress = {}
    for key, kind in PROGRESS.items():
        text = meta.get("ckpt." + key)
        try:
            if kind is list:
                progress[key] = [float(v) for v in text.split()]
            else:
                progress[key] = kind(float(text))
        except (TypeError, ValueError):
            raise SystemExit("%s: checkpoint metadata ckpt.%s is missing or not a number"
                             % (path, key)) from None
    if meta.get("ckpt.world_size") != str(d.world) or meta.get("ckpt.batch") != str(args.batch):
        say(d, "note: the checkpoint was made with --batch %s on %s processes; this run will "
               "not match an uninterrupted one bit for bit" % (meta.get("ckpt.batch"),
                                                               meta.get("ckpt.world_size")))
    return progress, best or None


def check_writable(option, path):
    """Refuse an --out or --checkpoint that cannot be written before any data is read, as
    `stride train` does (a typo should cost seconds, not a training run)."""
    if os.path.isdir(path):
        raise SystemExit("stride_torch.train: %s %s: is a folder (give a file name)"
                         % (option, path))
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise SystemExit("stride_torch.train: %s %s: cannot write there: %s" % (option, path,
                                                                               folder))


def main(argv=None):
    """The trainer; a bad dataset, architecture or file ends it with the reason, exit 1."""
    try:
        return train(argv)
    except ValueError as e:
        print("stride_torch.train: %s" % e, file=sys.stderr)
        return 1


def train(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    check_writable("--out", args.out)
    if args.checkpoint and not args.no_checkpoint:
        check_writable("--checkpoint", args.checkpoint)
    d = Dist(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if d.device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
    native.lib().stride_blas_set_threads(1)
    seed = args.seed
    rank_seed = (seed * 0x9E3779B97F4A7C15 + d.rank + 1) % (1 << 64)

    specs, preset = load_architecture(args, 2)
    task = args.task or (preset[1] if preset else "classify")
    rate = args.rate or (preset[2] if preset else 16000)
    rf, total = arch_mod.geometry(specs)
    window = args.window or (preset[3] if preset else rf)
    hop = args.hop or (preset[4] if preset else total)
    try:
        arch_mod.output_shape(specs, window)
    except arch_mod.ArchError as e:
        raise SystemExit("stride_torch.train: %s: a window of %d samples is too short for this "
                         "network: %s" % (args.arch, window, e))
    if args.batch < d.world:
        raise SystemExit("stride_torch.train: --batch %d is smaller than the %d processes"
                         % (args.batch, d.world))

    shards = d.world if args.shard_files else 1
    data = native.Data(args.data, task, rate, window, threads=max(1, args.threads or 1),
                       verbose=d.main, shard=d.rank if shards > 1 else 0, shards=shards)
    if args.val_data:
        data.val_data(args.val_data, args.train_list, seed)
    else:
        data.split(args.val_fraction, seed, args.val_list, args.train_list)
    if args.noise:
        data.noise(args.noise)
    for name, arg, _ in native.aug_flags():
        value = getattr(args, name.replace("-", "_"))
        if arg is None and value:
            data.aug_text(name)
        elif arg is not None and value is not None:
            data.aug_text(name, value)
    data.prepare(args.label_width, args.label_at == "end", hop, seed, args.steps)
    classes = data.classes
    if shards > 1:
        every = [None] * d.world
        dist.all_gather_object(every, classes)
        if any(c != classes for c in every):
            raise SystemExit("stride_torch.train: --shard-files: the processes' shards hold "
                             "different classes (%s); every class needs files in every shard"
                             % " / ".join(",".join(c) for c in every))
    if task == "classify" or preset:
        specs, _ = load_architecture(args, len(classes))

    net = StrideNet(specs)
    init_like_c(net, specs, seed)
    c_out, _ = arch_mod.output_shape(specs, window)
    if args.steps > 1:
        _, t_out = arch_mod.output_shape(specs, data.example_len)
        if t_out != args.steps:
            raise SystemExit("stride_torch.train: %d steps per example need a network with one "
                             "output step per hop: it gives %d for %d samples (no global "
                             "pooling, hop = its total stride)" % (args.steps, t_out,
                                                                   data.example_len))
    if c_out != len(classes):
        raise SystemExit("stride_torch.train: the network outputs %d channel%s but the data has "
                         "%d classes: make the last layer's \"out\" %d"
                         % (c_out, "" if c_out == 1 else "s", len(classes), len(classes)))
    net.to(d.device).train()
    model = net
    if d.world > 1:
        # running statistics are averaged by hand after each step (as over the C
        # trainer's threads), not broadcast from rank 0
        model = torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[d.device.index] if d.device.type == "cuda" else None,
            broadcast_buffers=False)
    opt, lr = make_optimizer(args, net)
    fp = fingerprint(specs, classes, task, rate, window, hop, args.steps)
    checkpoint = None if args.no_checkpoint else (args.checkpoint or args.out + ".ckpt")

    n_refs = data.n_refs()
    if shards > 1:
        n_refs = int(d.sum([n_refs])[0])  # the whole dataset's examples per pass
    epoch_size = args.epoch_size or n_refs
    steps = epoch_size // args.batch if epoch_size >= args.batch else 1
    warmup = int(round(args.warmup * steps))
    vx, vy = data.validation()
    have_val = (d.sum([len(vx)])[0] if shards > 1 else len(vx)) > 0  # the same on every process
    progress = {"epoch": 0, "step": 0, "sums": [0.0] * 4, "best_epoch": 0, "best_loss": math.inf,
                "bad_epochs": 0}
    best = None
    if args.resume:
        progress, best = load_checkpoint(args.resume, net, opt, fp, args, d)
        if progress["step"] >= steps:
            progress.update(epoch=progress["epoch"] + 1, step=0)
        say(d, "resuming from %s at epoch %d, step %d" % (args.resume, progress["epoch"] + 1,
                                                          progress["step"]))
    n_params = sum(p.numel() for p in net.parameters())
    say(d, "network: %d layers, %d parameters, window %d, hop %d; %s lr %g, batch %d, %d "
           "process%s (%s, %s), seed %d" % (len(specs), n_params, window, hop, args.optimizer,
                                           lr, args.batch, d.world, "" if d.world == 1 else "es",
                                           d.device.type, d.backend if d.world > 1 else "single",
                                           seed))

    buffers = bn_buffers(net)
    first = progress["epoch"]
    last = args.epochs
    if args.stop_after > 0 and first + args.stop_after < last:
        last = first + args.stop_after
    samples, spent, epochs_done, stopped = 0, 0.0, first, False
    train_loss = train_acc = 0.0
    prefetch = ThreadPoolExecutor(1) if d.device.type == "cuda" else None
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for e in range(first, last):
        nb = args.batch if epoch_size >= args.batch else epoch_size
        b0, b1 = d.share(nb)
        if shards > 1:
            # each process draws its share of every batch from its own files, in an order
            # and with example seeds of its own (rank_seed): deterministic for a seed and
            # process count, but not the examples `stride train` would draw
            order = data.epoch(rank_seed, e, steps * (b1 - b0))
        else:
            order = data.epoch(seed, e, epoch_size)
        # loss x items, right, decisions, items (carried over when resuming mid-epoch)
        sums = progress["sums"] if progress["step"] else [0.0] * 4
        t_epoch, epoch_samples = time.perf_counter(), 0

        def examples(step):
            if shards > 1:
                start = step * (b1 - b0)
                return data.make(order[start:start + b1 - b0], rank_seed, e, start)
            start = step * args.batch
            return data.make(order[start + b0:start + b1], seed, e, start + b0)

        ahead = None
        for s in range(progress["step"], steps):
            t0 = time.perf_counter()
            x, y = ahead.result() if ahead else examples(s)
            # on a GPU, the next share is made on the CPU meanwhile (ctypes lets go of the
            # GIL); on the CPU the cores are torch's, as --threads says
            ahead = prefetch.submit(examples, s + 1) if prefetch and s + 1 < steps else None
            x = torch.from_numpy(x).to(d.device)
            y = torch.from_numpy(y).to(d.device)
            out = model(x, logits=True)  # (n, k, t): every step scores the item's label
            rows = out.permute(0, 2, 1).reshape(-1, out.shape[1])
            # a label per example for every step, or one per step (multi-step examples)
            labels = y.reshape(-1) if y.shape[1] > 1 else y[:, 0].repeat_interleave(out.shape[2])
            loss = F.cross_entropy(rows, labels)
            # DDP averages over the processes; weighting by share gives the C trainer's
            # gradient, sum over shares of (share / batch) * the share's mean gradient
            (loss * ((b1 - b0) * d.world / nb)).backward()
            for g in range(len(opt.param_groups)):
                opt.param_groups[g]["lr"] = native.schedule_lr(
                    args.schedule, lr, args.min_lr, warmup, args.epochs * steps,
                    args.step_epochs * steps, args.gamma, e * steps + s)
            opt.step()
            opt.zero_grad(set_to_none=True)
            constrain(net)
            with torch.no_grad():
                for b in buffers:
                    if d.world > 1:
                        b.mul_((b1 - b0) / nb)
                        dist.all_reduce(b)
                right = (rows.argmax(dim=1) == labels).sum().item()
            step_sums = d.sum([loss.item() * (b1 - b0), right, len(labels), b1 - b0,
                               1.0 if interrupted else 0.0])
            stop_now = step_sums.pop() > 0  # any process interrupted: all stop here
            if not math.isfinite(step_sums[0]):
                raise SystemExit("stride_torch.train: training diverged at epoch %d step %d "
                                 "(the loss is not finite): try a lower --lr" % (e + 1, s + 1))
            sums = [a + b for a, b in zip(sums, step_sums)]
            spent += time.perf_counter() - t0
            samples += nb
            epoch_samples += nb
            if stop_now:
                progress.update(epoch=e, step=s + 1, sums=sums)
                if checkpoint and d.main:
                    save_checkpoint(checkpoint, d, net, opt, best, progress, fp, args)
                    print("interrupted at epoch %d step %d: state saved in %s (continue with "
                          "--resume %s)" % (e + 1, s + 1, checkpoint, checkpoint), flush=True)
                elif d.main:
                    print("interrupted at epoch %d step %d (no checkpoint)" % (e + 1, s + 1),
                          flush=True)
                return d.finish(130)
        epochs_done = e + 1
        train_loss, train_acc = sums[0] / sums[3], sums[1] / max(sums[2], 1)
        line = "epoch %d/%d: train loss %.4f acc %.2f%%" % (e + 1, args.epochs, train_loss,
                                                            100 * train_acc)
        better = False
        if have_val:
            vl, vr, _, _, _, vn = scores(net, vx, vy, d, len(classes), shards > 1)
            vl /= vn
            better = best is None or vl < progress["best_loss"]
            if better:
                progress.update(best_loss=vl, best_epoch=e + 1, bad_epochs=0)
                best = state_of(net)
            else:
                progress["bad_epochs"] += 1
            line += " | val loss %.4f acc %.2f%%" % (vl, 100 * vr / vn)
        rate_now = epoch_samples / max(time.perf_counter() - t_epoch, 1e-9)
        say(d, line + " | %.0f samples/s | %.1f s%s" % (rate_now, time.perf_counter() - t_epoch,
                                                          " *" if better else ""))
        progress.update(epoch=e + 1, step=0, sums=[0.0] * 4)
        if (have_val and args.patience > 0 and progress["bad_epochs"] >= args.patience
                and e + 1 < args.epochs):
            say(d, "early stop: no better validation loss for %d epochs (best: epoch %d)"
                % (progress["bad_epochs"], progress["best_epoch"]))
            progress["epoch"] = args.epochs
            stopped = True
        if checkpoint and d.main:
            save_checkpoint(checkpoint, d, net, opt, best, progress, fp, args)
        if stopped:
            break

    if best is not None:
        with torch.no_grad():
            for k, v in net.state_dict().items():
                if k in best:
                    v.copy_(best[k].to(v.device))
    meta = {"stride.task": task, "stride.sample_rate": str(rate), "stride.labels": classes,
            "stride.window": str(window), "stride.hop": str(hop),
            "train.data": args.data,
            "train.command": "python3 -m stride_torch.train " + " ".join(sys.argv[1:]),
            "train.trainer": "stride_torch", "train.processes": str(d.world),
            "train.epochs": str(epochs_done), "train.seed": str(seed)}
    if args.steps > 1:
        meta["train.steps"] = str(args.steps)
    if have_val:
        vl, vr, tp, fp_, fn, vn = scores(net, vx, vy, d, len(classes), shards > 1)
        meta.update({"train.best_epoch": str(progress["best_epoch"]),
                     "train.val_accuracy": "%.4f" % (vr / vn), "train.val_loss": "%.4f" % (vl / vn)})
        say(d, "\nvalidation (best epoch %d): accuracy %.2f%%, loss %.4f"
            % (progress["best_epoch"], 100 * vr / vn, vl / vn))
        if task == "gate":
            f1 = 2 * tp / max(2 * tp + fp_ + fn, 1)
            meta["train.val_frame_f1"] = "%.4f" % f1
    if task == "gate":
        a, b = data.region()
        meta["train.label_region"] = "%d %d" % (a, b)
    if d.main:
        save(net.to("cpu"), args.out, meta)
        print("\nsaved %s (%s, %d labels, window %d, hop %d at %d Hz) after %d epoch%s; %.0f "
              "samples/s" % (args.out, task, len(classes), window, hop, rate, epochs_done,
                             "" if epochs_done == 1 else "s", samples / spent if spent else 0.0),
              flush=True)
    return d.finish(0)


if __name__ == "__main__":
    sys.exit(main())
