"""The C library through ctypes: <build>/libstride_data.so (wscript builds it with the
library and the trainer's data pipeline, cli/data_api.h), so that stride_torch.train draws
exactly the examples `stride train` draws, and tests can run the C networks.

Found at $STRIDE_DATA_LIB, else $STRIDE_BUILD/libstride_data.so, else build/ at the
repository top (./waf build makes it).
"""
import ctypes as C
import os

import numpy as np

ERR_LEN = 256
TASKS = {"gate": 0, "classify": 1}  # StrideTask: STRIDE_TASK_GATE, STRIDE_TASK_CLASSIFY

_lib = None


def library_path():
    if os.environ.get("STRIDE_DATA_LIB"):
        return os.environ["STRIDE_DATA_LIB"]
    build = os.environ.get("STRIDE_BUILD")
    if not build:
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        build = os.path.join(top, "build")
    return os.path.join(build, "libstride_data.so")


class StrideTensor(C.Structure):
    _fields_ = [("name", C.c_char_p), ("ndim", C.c_int), ("shape", C.c_int * 3),
                ("size", C.c_size_t), ("data", C.POINTER(C.c_float)),
                ("grad", C.POINTER(C.c_float))]


def _sig(lib, name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)


def lib():
    """The loaded library (once); RuntimeError saying how to build it when missing."""
    global _lib
    if _lib is not None:
        return _lib
    path = library_path()
    if not os.path.exists(path):
        raise RuntimeError("%s is missing: run ./waf build at the repository top (or set "
                           "STRIDE_DATA_LIB to the library)" % path)
    L = C.CDLL(path)
    p, i, d, ll, u64, s = C.c_void_p, C.c_int, C.c_double, C.c_longlong, C.c_uint64, C.c_char_p
    fp, ip = C.POINTER(C.c_float), C.POINTER(C.c_int)
    _sig(L, "stride_data_open", p, s, i, i, i, i, i, i, i, s)
    _sig(L, "stride_data_free", None, p)
    _sig(L, "stride_data_split", i, p, d, u64, s, s, s)
    _sig(L, "stride_data_val_data", i, p, s, s, u64, s)
    _sig(L, "stride_data_noise", i, p, s, s)
    _sig(L, "stride_data_aug_text", i, p, s, s, s)
    _sig(L, "stride_data_aug_flag_count", i)
    _sig(L, "stride_data_aug_flag_name", s, i)
    _sig(L, "stride_data_aug_flag_arg", s, i)
    _sig(L, "stride_data_aug_flag_help", s, i)
    _sig(L, "stride_data_prepare", i, p, i, i, i, i, u64, s)
    _sig(L, "stride_data_example_len", i, p)
    _sig(L, "stride_data_steps", i, p)
    _sig(L, "stride_data_n_classes", i, p)
    _sig(L, "stride_data_class", s, p, i)
    _sig(L, "stride_data_region", None, p, ip, ip)
    _sig(L, "stride_data_n_refs", ll, p)
    _sig(L, "stride_data_epoch", None, p, u64, i, ll, ip)
    _sig(L, "stride_data_make", None, p, ip, i, u64, i, ll, fp, ip)
    _sig(L, "stride_data_val_count", ll, p)
    _sig(L, "stride_data_val_x", fp, p)
    _sig(L, "stride_data_val_y", ip, p)
    _sig(L, "stride_data_schedule_lr", d, i, d, d, ll, ll, ll, d, ll)
    _sig(L, "stride_data_schedule_from_name", i, s)
    _sig(L, "stride_data_preset", p, s, i, ip, ip, ip, ip, s)
    _sig(L, "stride_data_preset_names", s)
    _sig(L, "stride_data_free_text", None, p)
    # the network library (dsp/stride.h)
    _sig(L, "stride_arch_parse", p, s, ip, s)
    _sig(L, "stride_net_new", p, p, i, s)
    _sig(L, "stride_net_free", None, p)
    _sig(L, "stride_net_init_params", None, p, u64)
    _sig(L, "stride_net_constrain", None, p, fp)
    _sig(L, "stride_net_params", fp, p)
    _sig(L, "stride_net_n_params", C.c_size_t, p)
    _sig(L, "stride_net_n_tensors", i, p)
    _sig(L, "stride_net_tensor", StrideTensor, p, i)
    _sig(L, "stride_net_forward", i, p, fp, i, i, C.c_bool, C.POINTER(fp), ip, ip, s)
    _sig(L, "stride_net_backward", i, p, fp, fp, s)
    _sig(L, "stride_net_receptive_field", i, p)
    _sig(L, "stride_net_total_stride", i, p)
    _sig(L, "stride_blas_set_threads", None, i)
    L.free.argtypes = [p]
    L.free.restype = None
    _lib = L
    return L


def _err():
    return C.create_string_buffer(ERR_LEN)


def _b(text):
    return None if text is None else str(text).encode()


def _f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def _fptr(a):
    return a.ctypes.data_as(C.POINTER(C.c_float))


def _iptr(a):
    return a.ctypes.data_as(C.POINTER(C.c_int))


def aug_flags():
    """`stride train`'s augmentation flags from the C table (cli/aug_flags.h): a list of
    (name without dashes, argument name or None for a switch, help)."""
    L = lib()
    out = []
    for i in range(L.stride_data_aug_flag_count()):
        arg = L.stride_data_aug_flag_arg(i)
        out.append((L.stride_data_aug_flag_name(i).decode(), arg.decode() if arg else None,
                    L.stride_data_aug_flag_help(i).decode().replace("\n", " ")))
    return out


class CNet:
    """A network of the C library (dsp/), for parity checks and initialisation: the
    architecture as JSON text; tensors get and set by name."""

    def __init__(self, arch_json):
        L = lib()
        err, n = _err(), C.c_int(0)
        specs = L.stride_arch_parse(_b(arch_json), C.byref(n), err)
        if not specs:
            raise ValueError(err.value.decode())
        self.ptr = L.stride_net_new(specs, n.value, err)
        L.free(specs)
        if not self.ptr:
            raise ValueError(err.value.decode())
        self.L = L

    def __del__(self):
        if getattr(self, "ptr", None):
            self.L.stride_net_free(self.ptr)
            self.ptr = None

    def _tensors(self):
        for i in range(self.L.stride_net_n_tensors(self.ptr)):
            yield self.L.stride_net_tensor(self.ptr, i)

    def init(self, seed):
        self.L.stride_net_init_params(self.ptr, seed)

    def constrain(self):
        self.L.stride_net_constrain(self.ptr, self.L.stride_net_params(self.ptr))

    def state(self):
        """{name: array} of every tensor (parameters, then batchnorm buffers)."""
        out = {}
        for t in self._tensors():
            shape = tuple(t.shape[:t.ndim])
            out[t.name.decode()] = np.ctypeslib.as_array(t.data, (t.size,)).reshape(shape).copy()
        return out

    def grads(self):
        out = {}
        for t in self._tensors():
            if t.grad:
                shape = tuple(t.shape[:t.ndim])
                out[t.name.decode()] = np.ctypeslib.as_array(t.grad, (t.size,)).reshape(shape).copy()
        return out

    def set_state(self, tensors):
        for t in self._tensors():
            name = t.name.decode()
            if name in tensors:
                src = _f32(tensors[name]).reshape(-1)
                np.ctypeslib.as_array(t.data, (t.size,))[:] = src

    def geometry(self):
        return (self.L.stride_net_receptive_field(self.ptr),
                self.L.stride_net_total_stride(self.ptr))

    def forward(self, x, training):
        x = _f32(x)
        self._x = x
        y, c, t, err = C.POINTER(C.c_float)(), C.c_int(), C.c_int(), _err()
        if self.L.stride_net_forward(self.ptr, _fptr(x), x.shape[0], x.shape[2], training,
                                     C.byref(y), C.byref(c), C.byref(t), err) != 0:
            raise ValueError(err.value.decode())
        shape = (x.shape[0], c.value, t.value)
        return np.ctypeslib.as_array(y, (int(np.prod(shape)),)).reshape(shape).copy()

    def backward(self, grad_y):
        """The input gradient; the parameter gradients are then in grads()."""
        gy = _f32(grad_y)
        gx = np.zeros(self._x.shape, dtype=np.float32)
        err = _err()
        if self.L.stride_net_backward(self.ptr, _fptr(gy), _fptr(gx), err) != 0:
            raise ValueError(err.value.decode())
        return gx


class Data:
    """The trainer's data pipeline (cli/data_api.h) for one dataset folder."""

    def __init__(self, folder, task, rate, window, threads=1, verbose=False, shard=0, shards=1):
        """shard, shards: read only every shards-th audio file from the shard-th."""
        self.L = lib()
        err = _err()
        self.ptr = self.L.stride_data_open(_b(folder), TASKS[task], rate, window, threads,
                                           shard, shards, 1 if verbose else 0, err)
        if not self.ptr:
            raise ValueError(err.value.decode())
        self.window = window

    def __del__(self):
        if getattr(self, "ptr", None):
            self.L.stride_data_free(self.ptr)
            self.ptr = None

    def _check(self, rc, err):
        if rc != 0:
            raise ValueError(err.value.decode())

    def split(self, val_fraction, seed, val_list=None, train_list=None):
        err = _err()
        self._check(self.L.stride_data_split(self.ptr, val_fraction, seed, _b(val_list),
                                             _b(train_list), err), err)

    def val_data(self, folder, train_list, seed):
        err = _err()
        self._check(self.L.stride_data_val_data(self.ptr, _b(folder), _b(train_list), seed, err),
                    err)

    def noise(self, folder):
        err = _err()
        self._check(self.L.stride_data_noise(self.ptr, _b(folder), err), err)

    def aug_text(self, flag, value=None):
        """One augmentation flag of `stride train` with its value as text (None for a
        switch), parsed and range-checked by the C table."""
        err = _err()
        self._check(self.L.stride_data_aug_text(self.ptr, _b(flag), _b(value), err), err)

    def prepare(self, label_width, label_at_end, hop, seed, steps=1):
        err = _err()
        self._check(self.L.stride_data_prepare(self.ptr, label_width, 1 if label_at_end else 0,
                                               hop, steps, seed, err), err)
        self.example_len = self.L.stride_data_example_len(self.ptr)
        self.steps = self.L.stride_data_steps(self.ptr)

    @property
    def classes(self):
        return [self.L.stride_data_class(self.ptr, i).decode()
                for i in range(self.L.stride_data_n_classes(self.ptr))]

    def region(self):
        a, b = C.c_int(), C.c_int()
        self.L.stride_data_region(self.ptr, C.byref(a), C.byref(b))
        return a.value, b.value

    def n_refs(self):
        return self.L.stride_data_n_refs(self.ptr)

    def epoch(self, seed, epoch, size):
        order = np.empty(max(size, 1), dtype=np.int32)
        self.L.stride_data_epoch(self.ptr, seed, epoch, size, _iptr(order))
        return order[:size]

    def make(self, refs, seed, epoch, first):
        """The examples at positions first.. of the epoch (refs = order[first:first + n]):
        x (n, 1, example length) float32 and y (n, steps) int64, a class per decision."""
        refs = np.ascontiguousarray(refs, dtype=np.int32)
        n = len(refs)
        x = np.empty((n, 1, self.example_len), dtype=np.float32)
        y = np.empty((n, self.steps), dtype=np.int32)
        self.L.stride_data_make(self.ptr, _iptr(refs), n, seed, epoch, first, _fptr(x), _iptr(y))
        return x, y.astype(np.int64)

    def validation(self):
        """(x (n, 1, window), y (n,)) of the validation windows."""
        n = self.L.stride_data_val_count(self.ptr)
        if n <= 0:
            return (np.zeros((0, 1, self.window), np.float32), np.zeros(0, np.int64))
        x = np.ctypeslib.as_array(self.L.stride_data_val_x(self.ptr), (n * self.window,))
        y = np.ctypeslib.as_array(self.L.stride_data_val_y(self.ptr), (n,))
        return x.reshape(n, 1, self.window).copy(), y.astype(np.int64)


def preset(name, n_classes):
    """A `stride train` preset: (architecture JSON, task, rate, window, hop), or None."""
    L = lib()
    task, rate, window, hop, err = C.c_int(), C.c_int(), C.c_int(), C.c_int(), _err()
    text = L.stride_data_preset(_b(name), n_classes, C.byref(task), C.byref(rate),
                                C.byref(window), C.byref(hop), err)
    if not text:
        return None
    arch = C.string_at(text).decode()
    L.stride_data_free_text(text)
    return arch, ("gate", "classify")[task.value], rate.value, window.value, hop.value


def preset_names():
    return lib().stride_data_preset_names().decode().split()


def schedule_lr(kind, lr, min_lr, warmup, total, step_every, gamma, step):
    """The learning rate of `stride train`'s schedule (cli/optim.c) at a step."""
    L = lib()
    k = L.stride_data_schedule_from_name(_b(kind))
    if k < 0:
        raise ValueError("unknown schedule %r (cosine, step or constant)" % kind)
    return L.stride_data_schedule_lr(k, lr, min_lr, warmup, total, step_every, gamma, step)
