/* The dense layer: a row of the layer table (layer_table.h) around dense.c.
 * It takes its input flattened, (n, c, t) as (n, c * t), and gives (n, out, 1). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_table.h"

#define FIELD(f) offsetof(StrideLayerSpec, f)

static const StrideLayerKey keys[] = {
	{ "in", STRIDE_KEY_INT, FIELD(in), 1, STRIDE_MAX_DENSE_IN, true, false },
	{ "out", STRIDE_KEY_INT, FIELD(out), 1, STRIDE_MAX_CHANNELS, true, false },
	{ "bias", STRIDE_KEY_BOOL, FIELD(bias), 0, 0, false, false },
};

static int check(int i, StrideLayerSpec *s, int *c, char *err)
{
	if (s->in < 1 || s->in > STRIDE_MAX_DENSE_IN || s->out < 1 || s->out > STRIDE_MAX_CHANNELS) {
		stride_set_err(err, "layer %d (dense %s): in %d must be 1..%d and out %d 1..%d", i,
		               s->name, s->in, STRIDE_MAX_DENSE_IN, s->out, STRIDE_MAX_CHANNELS);
		return -1;
	}
	if (*c >= 0 && s->in % *c) {
		stride_set_err(err, "layer %d (dense %s): %d inputs is not a whole number of %d-channel steps",
		               i, s->name, s->in, *c);
		return -1;
	}
	*c = s->out;
	return 0;
}

static int in_channels(const StrideLayerSpec *s)
{
	return s->in;
}

static int shape(const StrideLayerSpec *s, int i, int c, int t, int *c2, int *t2, char *err)
{
	if ((long)c * t != s->in) {
		stride_set_err(err, "layer %d (dense %s): expects %d inputs, gets %d x %d = %ld", i,
		               s->name, s->in, c, t, (long)c * t);
		return -1;
	}
	*c2 = s->out;
	*t2 = 1;
	return 0;
}

static void tensors(const StrideLayerSpec *s, StrideTensorDecl d[STRIDE_LAYER_TENSORS])
{
	d[STRIDE_T_WEIGHT] = (StrideTensorDecl){ "weight", 2, { s->out, s->in, 0 }, true, 0.0f };
	if (s->bias)
		d[STRIDE_T_BIAS] = (StrideTensorDecl){ "bias", 1, { s->out, 0, 0 }, true, 0.0f };
}

static void init(const StrideLayerSpec *s, float *const t[STRIDE_LAYER_TENSORS], StrideRng *rng)
{
	stride_layer_init_uniform(s->in, (size_t)s->out * (size_t)s->in, s->out, t, rng);
}

static int forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideLayerSpec *s = p->spec;
	stride_dense_forward(p->n, s->in, s->out, p->x, p->t[STRIDE_T_WEIGHT], p->t[STRIDE_T_BIAS],
	                     p->y);
	return 0;
}

static int backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideLayerSpec *s = p->spec;
	stride_dense_backward(p->n, s->in, s->out, p->x, p->t[STRIDE_T_WEIGHT], p->dy, p->dx,
	                      p->grad[STRIDE_T_WEIGHT], p->grad[STRIDE_T_BIAS]);
	return 0;
}

/* The batch layout flattens input c * t_in + i; the streaming blocks are
 * frame-major, so the weights are reordered once to read input i * c_in + c,
 * and the layer runs as a kernel-1 conv over one frame of t_in * c_in. */
static int rt_init(StrideRtOp *op, StrideNet *net, StrideRtIsa isa, char *err)
{
	const StrideLayerSpec *s = &op->spec;
	const int c_in = op->c_in, t_in = op->t_in;
	if ((long)c_in * t_in != s->in) {
		stride_set_err(err, "dense %s: expects %d inputs, gets %d x %d", s->name, s->in, c_in,
		               t_in);
		return -1;
	}
	const size_t wsize = (size_t)s->out * (size_t)s->in;
	const float *w = stride_layer_find_tensor(net, s->name, "weight", wsize);
	const float *b = s->bias ? stride_layer_find_tensor(net, s->name, "bias", (size_t)s->out)
	                         : NULL;
	if (!w || (s->bias && !b)) {
		stride_set_err(err, "dense %s: weight or bias missing", s->name);
		return -1;
	}
	float *wf = malloc(wsize * sizeof *wf);
	if (!wf) {
		stride_set_err(err, "dense %s: out of memory", s->name);
		return -1;
	}
	for (int o = 0; o < s->out; o++)
		for (int c = 0; c < c_in; c++)
			for (int t = 0; t < t_in; t++)
				wf[(size_t)o * s->in + (size_t)t * c_in + c] =
				        w[(size_t)o * s->in + (size_t)c * t_in + t];
	const int rc = stride_rt_conv_init(&op->conv, s->in, s->out, 1, 1, 1, 1, wf, b, isa);
	free(wf);
	if (rc < 0) {
		stride_set_err(err, "dense %s: out of memory", s->name);
		return -1;
	}
	return 0;
}

static void rt_block(const StrideRtOp *op, const float *x, int t_in, float *y, int t_out,
                     float *scratch)
{
	(void)t_in;
	(void)t_out;
	(void)scratch;
	/* t frames of c channels, contiguous: one frame of t * c features */
	stride_rt_conv_run(&op->conv, x, op->conv.c_in, y, op->c_out, 1);
}

static double flops(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out)
{
	(void)c_in;
	(void)t_in;
	(void)c_out;
	(void)t_out;
	return 2.0 * s->in * s->out + (s->bias ? s->out : 0);
}

static void describe(const StrideLayerSpec *s, char *buf, size_t len)
{
	snprintf(buf, len, "%d->%d%s", s->in, s->out, s->bias ? "" : " nobias");
}

const StrideLayerOps stride_layer_dense = {
	.name = "dense",
	.kind = STRIDE_LAYER_GLOBAL,
	.keys = keys,
	.n_keys = sizeof keys / sizeof keys[0],
	.needs_name = true,
	.check = check,
	.in_channels = in_channels,
	.shape = shape,
	.tensors = tensors,
	.init = init,
	.forward = forward,
	.backward = backward,
	.absorbs_affine = true,
	.rt_init = rt_init,
	.rt_block = rt_block,
	.flops = flops,
	.describe = describe,
};
