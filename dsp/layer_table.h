/* Internal: everything the library knows about a layer type, in one table.
 *
 * Each layer type is one file (or one section of a family file): layer_conv1d.c,
 * layer_pool.c, layer_batchnorm.c, layer_dense.c, layer_activation.c,
 * layer_log.c. The file adapts the kernels (conv1d.c, pool.c, ..., and the
 * streaming kernels of rt_kernels.h) to the hooks below and exports one
 * `const StrideLayerOps`; dsp/layer_table.c puts it in the row of its enum
 * value. The network (net.c), the architecture JSON (arch_json.c), the
 * streaming engine (stream.c, stream_layers.c) and `stride info` go through
 * the table and never ask which type a layer is. docs/ADDING_A_LAYER.md says
 * how to add one.
 *
 * A hook left NULL means the common case, said next to it. */
#ifndef STRIDE_LAYER_TABLE_H
#define STRIDE_LAYER_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "layers.h"
#include "rt_kernels.h"
#include "stride.h"
#include "util.h"

/* Sizes beyond these are refused: they are mistakes, not models. */
#define STRIDE_MAX_LAYERS 256
#define STRIDE_MAX_CHANNELS 4096
#define STRIDE_MAX_KERNEL 65536
#define STRIDE_MAX_STEP 65536 /* stride, dilation */
#define STRIDE_MAX_PADDING 65535
#define STRIDE_MAX_DENSE_IN (1 << 22) /* a dense layer may take a flattened (C, T) input */

/* Tensor slots of a layer: conv1d and dense use weight and bias, batchnorm1d
 * all four (gamma, beta and the running statistics). */
enum { STRIDE_T_WEIGHT, STRIDE_T_BIAS, STRIDE_T_RUN_MEAN, STRIDE_T_RUN_VAR, STRIDE_LAYER_TENSORS };

/* How a layer treats time, which decides how the streaming engine runs it. */
typedef enum {
	STRIDE_LAYER_FRAMEWISE, /* each frame to one frame on its own: activations, batchnorm1d */
	STRIDE_LAYER_WINDOWED,  /* a sliding window: conv1d and pools (see .window) */
	STRIDE_LAYER_GLOBAL,    /* the whole input to one step: global pools, dense */
} StrideLayerKind;

/* A windowed layer's geometry (dilation 1 and groups 1 for pools). */
typedef struct {
	int kernel, stride, dilation, padding, groups;
} StrideWindow;

/* One JSON key of a layer type: where it goes in the spec and what it may hold.
 * "type" and "name" are common to every layer and not listed. */
typedef enum {
	STRIDE_KEY_INT,      /* lo..hi */
	STRIDE_KEY_BOOL,
	STRIDE_KEY_FINITE,   /* any finite float */
	STRIDE_KEY_POSITIVE, /* a finite float > 0 */
	STRIDE_KEY_UNIT,     /* a finite float in [0, 1] */
} StrideKeyKind;

typedef struct {
	const char *key;
	StrideKeyKind kind;
	size_t offset; /* offsetof(StrideLayerSpec, field) */
	int lo, hi;    /* STRIDE_KEY_INT */
	bool required;
	bool omit_zero; /* written only when not 0 (keys newer than the format) */
} StrideLayerKey;

/* One tensor a layer owns: "<layer name>.<suffix>". */
typedef struct {
	const char *suffix; /* NULL: the slot is unused */
	int ndim;
	int shape[3];
	bool trainable; /* parameter (with a gradient), else buffer */
	float fill;     /* value before initialisation or loading */
} StrideTensorDecl;

/* One forward or backward pass of one layer over a batch (n, c, t), with
 * everything the batch network gives it. */
typedef struct {
	const StrideLayerSpec *spec;
	int index; /* in the network, for messages */
	int n, c_in, t_in, c_out, t_out;
	bool training;
	const float *x;  /* input (n, c_in, t_in) */
	float *y;        /* output (n, c_out, t_out) */
	const float *dy; /* backward: gradient of y */
	float *dx;       /* backward: gradient of x to write; NULL for the first layer */
	float *t[STRIDE_LAYER_TENSORS];    /* tensor data by slot, NULL when unused */
	float *grad[STRIDE_LAYER_TENSORS]; /* their gradients (NULL for buffers) */
	void *saved;     /* this layer's forward-to-backward memory (.saved_bytes) */
	float *scratch;  /* shared by all layers (.scratch_floats) */
} StrideLayerPass;

/* A layer prepared for the streaming engine (frame-major blocks, see
 * rt_kernels.h): inference only, batchnorm folded where it can be. */
typedef struct StrideRtOp {
	const struct StrideLayerOps *ops;
	StrideLayerSpec spec;
	int c_in, c_out;
	int t_in;            /* frames of one window at this layer (what dense flattens) */
	StrideWindow win;    /* windowed layers; kernel 1, stride 1 for the others */
	StrideRtConv conv;   /* conv1d; dense as kernel 1 over one frame */
	float *scale, *shift; /* batchnorm1d: y = x * scale + shift */
} StrideRtOp;

typedef struct StrideLayerOps {
	const char *name; /* as architecture JSON and `stride info` spell it */
	StrideLayerKind kind;
	const StrideLayerKey *keys; /* its JSON keys besides "type" and "name", in writing order */
	int n_keys;
	bool needs_name; /* it owns tensors, named after it */

	/* Spec: PyTorch's defaults beyond the common ones (NULL: none). */
	void (*defaults)(StrideLayerSpec *s);
	/* Checks a spec (the network's copy: it may resolve defaults) and chains
	 * the channel count *c (-1 while unknown). NULL: nothing to check. */
	int (*check)(int i, StrideLayerSpec *s, int *c, char *err);
	/* The network's input channels when this is the first layer that knows
	 * them (NULL: it does not). */
	int (*in_channels)(const StrideLayerSpec *s);
	/* Shape rule: (c, t) in, (*c2, *t2) out, or -1 with err when it cannot
	 * take that input. NULL: the shape is unchanged. */
	int (*shape)(const StrideLayerSpec *s, int i, int c, int t, int *c2, int *t2, char *err);
	/* windowed layers: kernel, stride, dilation, padding, groups */
	StrideWindow (*window)(const StrideLayerSpec *s);

	/* Parameters and buffers: fills decl[slot] (NULL: none). */
	void (*tensors)(const StrideLayerSpec *s, StrideTensorDecl decl[STRIDE_LAYER_TENSORS]);
	/* PyTorch's initialisation from rng, in a fixed order (NULL: nothing). */
	void (*init)(const StrideLayerSpec *s, float *const t[STRIDE_LAYER_TENSORS], StrideRng *rng);
	/* Holds the spec's weight constraints on parameters t (NULL: none). */
	void (*constrain)(const StrideLayerSpec *s, float *const t[STRIDE_LAYER_TENSORS]);
	/* Bytes kept from forward to backward, and floats of shared scratch, for
	 * the shapes in p (NULL: none). */
	size_t (*saved_bytes)(const StrideLayerPass *p);
	size_t (*scratch_floats)(const StrideLayerPass *p);
	/* Batch forward (p->y from p->x) and backward (parameter gradients, and
	 * p->dx when not NULL). Return 0, or -1 with err. */
	int (*forward)(const StrideLayerPass *p, char *err);
	int (*backward)(const StrideLayerPass *p, char *err);

	/* Folding: a layer whose outputs are rows of weights plus a bias takes a
	 * per-channel affine layer after it into them (absorbs_affine); that
	 * layer's fold does it (NULL: it cannot be folded). */
	bool absorbs_affine;
	void (*fold)(const StrideLayerSpec *s, float *const t[STRIDE_LAYER_TENSORS], float *w,
	             float *bias, int outs, size_t per_out);

	/* Streaming. The engine keeps each windowed layer's history itself (span -
	 * 1 frames, from .window), so layers carry no state to size or reset.
	 * rt_init: prepares op from the (folded) network (NULL: nothing to do).
	 * rt_per_frame: framewise layers over n frames; y may be x.
	 * rt_frames: windowed layers, n output frames without padding.
	 * rt_block: windowed and global layers over one whole block of t_in frames,
	 *   padding included, with rt_scratch_floats(op, t_in) floats of scratch. */
	int (*rt_init)(StrideRtOp *op, StrideNet *net, StrideRtIsa isa, char *err);
	void (*rt_per_frame)(const StrideRtOp *op, const float *x, float *y, int n);
	void (*rt_frames)(const StrideRtOp *op, const float *x, float *y, int n);
	void (*rt_block)(const StrideRtOp *op, const float *x, int t_in, float *y, int t_out,
	                 float *scratch);
	size_t (*rt_scratch_floats)(const StrideRtOp *op, int t_in);

	/* Cost of one forward: a multiply-add counts 2 (NULL: one FLOP per input value). */
	double (*flops)(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out);
	/* Its geometry or size options, PyTorch-style, for `stride info` (NULL: none). */
	void (*describe)(const StrideLayerSpec *s, char *buf, size_t len);
} StrideLayerOps;

/* The row of `type`, or NULL when out of range. */
const StrideLayerOps *stride_layer_ops(StrideLayerType type);

/* A layer's cost (.flops, or one FLOP per input value): the one count both
 * stride_net_flops and the streaming engine's sum. */
double stride_layer_flops(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out);

/* The time-local part of a network, the layers before the first global one
 * (after it every output sees the whole input): the one computation behind
 * stride_net_receptive_field, stride_net_total_stride and the streaming
 * engine's plan. */
typedef struct {
	int n_local;    /* layers before the first global one */
	long long rf;   /* input samples one local frame sees (at most INT_MAX) */
	long long jump; /* input samples between local frames; 2^31 when beyond an int */
	bool padded;    /* a local layer pads its input */
} StrideLocalGeometry;
StrideLocalGeometry stride_net_local_geometry(const StrideNet *net);

/* Shared by the layer files. */

/* Letters, digits, '_', '.' or '-', 1..STRIDE_NAME_LEN - 1 of them. */
bool stride_layer_name_valid(const char *s);
/* The output length of a windowed layer (its shape rule's time half). */
int stride_layer_window_shape(const StrideLayerSpec *s, int i, int t, int *t_out, char *err);
/* PyTorch's kaiming_uniform(a=sqrt(5)) weights and its bias rule, both
 * U(+-1/sqrt(fan_in)), weights first (conv1d and dense). */
void stride_layer_init_uniform(int fan_in, size_t n_weights, int n_bias,
                               float *const t[STRIDE_LAYER_TENSORS], StrideRng *rng);
/* The cost of tanh, sigmoid, softmax and log: an exp (or ln), a divide and
 * some adds, 4 FLOPs per input value. */
double stride_layer_flops_exp(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out);
/* The batch kernels' geometry for a windowed layer's pass. */
StrideGeom stride_layer_geom(const StrideLayerPass *p);
/* A tensor "<layer>.<suffix>" of net with `size` floats, or NULL. */
const float *stride_layer_find_tensor(StrideNet *net, const char *layer, const char *suffix,
                                      size_t size);

#endif /* STRIDE_LAYER_TABLE_H */
