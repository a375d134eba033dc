/* The conv1d layer: a row of the layer table (layer_table.h) around the batch
 * kernels of conv1d.c and the streaming kernels of rt_kernels.h.
 * y[n,o,t] = b[o] + sum_{c in group} sum_i w[o,c,i] * x[n,c,t*s + i*d - p]. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layer_table.h"

#define FIELD(f) offsetof(StrideLayerSpec, f)

static const StrideLayerKey keys[] = {
	{ "in", STRIDE_KEY_INT, FIELD(in), 1, STRIDE_MAX_CHANNELS, true, false },
	{ "out", STRIDE_KEY_INT, FIELD(out), 1, STRIDE_MAX_CHANNELS, true, false },
	{ "kernel", STRIDE_KEY_INT, FIELD(kernel), 1, STRIDE_MAX_KERNEL, true, false },
	{ "stride", STRIDE_KEY_INT, FIELD(stride), 1, STRIDE_MAX_STEP, false, false },
	{ "dilation", STRIDE_KEY_INT, FIELD(dilation), 1, STRIDE_MAX_STEP, false, false },
	{ "padding", STRIDE_KEY_INT, FIELD(padding), 0, STRIDE_MAX_PADDING, false, false },
	{ "groups", STRIDE_KEY_INT, FIELD(groups), 1, STRIDE_MAX_CHANNELS, false, false },
	{ "bias", STRIDE_KEY_BOOL, FIELD(bias), 0, 0, false, false },
	/* only when set, so files of unconstrained models read as before */
	{ "dc_zeros", STRIDE_KEY_INT, FIELD(dc_zeros), 0, STRIDE_MAX_DC_ZEROS, false, true },
};

static void defaults(StrideLayerSpec *s)
{
	s->stride = 1;
}

static int check(int i, StrideLayerSpec *s, int *c, char *err)
{
	if (s->in < 1 || s->in > STRIDE_MAX_CHANNELS || s->out < 1 || s->out > STRIDE_MAX_CHANNELS) {
		stride_set_err(err, "layer %d (conv1d %s): channels in %d, out %d must be 1..%d", i,
		               s->name, s->in, s->out, STRIDE_MAX_CHANNELS);
		return -1;
	}
	if (s->kernel < 1 || s->kernel > STRIDE_MAX_KERNEL || s->stride < 1 ||
	    s->stride > STRIDE_MAX_STEP || s->dilation < 1 || s->dilation > STRIDE_MAX_STEP ||
	    s->padding < 0 || s->padding > STRIDE_MAX_KERNEL) {
		stride_set_err(err,
		               "layer %d (conv1d %s): kernel %d, stride %d, dilation %d, padding %d "
		               "out of range",
		               i, s->name, s->kernel, s->stride, s->dilation, s->padding);
		return -1;
	}
	if (s->dc_zeros < 0 || s->dc_zeros > STRIDE_MAX_DC_ZEROS || s->dc_zeros >= s->kernel) {
		stride_set_err(err,
		               "layer %d (conv1d %s): dc_zeros %d must be 0..%d and below the "
		               "kernel size %d",
		               i, s->name, s->dc_zeros, STRIDE_MAX_DC_ZEROS, s->kernel);
		return -1;
	}
	if (s->groups < 1 || s->in % s->groups || s->out % s->groups) {
		stride_set_err(err, "layer %d (conv1d %s): groups %d must divide in %d and out %d", i,
		               s->name, s->groups, s->in, s->out);
		return -1;
	}
	if (*c >= 0 && *c != s->in) {
		stride_set_err(err, "layer %d (conv1d %s): expects %d input channels, gets %d", i,
		               s->name, s->in, *c);
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
	(void)c;
	if (stride_layer_window_shape(s, i, t, t2, err) < 0)
		return -1;
	*c2 = s->out;
	return 0;
}

static StrideWindow window(const StrideLayerSpec *s)
{
	return (StrideWindow){ s->kernel, s->stride, s->dilation, s->padding, s->groups };
}

static void tensors(const StrideLayerSpec *s, StrideTensorDecl d[STRIDE_LAYER_TENSORS])
{
	d[STRIDE_T_WEIGHT] = (StrideTensorDecl){ "weight", 3, { s->out, s->in / s->groups, s->kernel },
		                                 true, 0.0f };
	if (s->bias)
		d[STRIDE_T_BIAS] = (StrideTensorDecl){ "bias", 1, { s->out, 0, 0 }, true, 0.0f };
}

static void init(const StrideLayerSpec *s, float *const t[STRIDE_LAYER_TENSORS], StrideRng *rng)
{
	const int fan_in = s->in / s->groups * s->kernel;
	stride_layer_init_uniform(fan_in, (size_t)s->out * (size_t)fan_in, s->out, t, rng);
}

/* Discrete orthogonal polynomials over the taps, t = i - (k - 1) / 2:
 * 1, t and t^2 - (k^2 - 1) / 12 are orthogonal on that symmetric grid, so
 * removing each component in turn is the orthogonal projection. */
static double tap_poly(int m, int i, int k)
{
	const double t = i - 0.5 * (k - 1);
	return m == 0 ? 1.0 : m == 1 ? t : t * t - ((double)k * k - 1.0) / 12.0;
}

static void remove_dc(float *w, int k, int dc_zeros)
{
	for (int m = 0; m < dc_zeros; m++) {
		double dot = 0.0, norm = 0.0;
		for (int i = 0; i < k; i++) {
			const double p = tap_poly(m, i, k);
			dot += p * w[i];
			norm += p * p;
		}
		const double c = dot / norm;
		for (int i = 0; i < k; i++)
			w[i] = (float)(w[i] - c * tap_poly(m, i, k));
	}
}

/* dc_zeros: every kernel projected onto those with that many zeros at 0 Hz
 * (see stride_net_constrain). */
static void constrain(const StrideLayerSpec *s, float *const t[STRIDE_LAYER_TENSORS])
{
	if (s->dc_zeros <= 0)
		return;
	const size_t size = (size_t)s->out * (size_t)(s->in / s->groups) * (size_t)s->kernel;
	const int k = s->kernel;
	for (size_t j = 0; j + (size_t)k <= size; j += (size_t)k)
		remove_dc(t[STRIDE_T_WEIGHT] + j, k, s->dc_zeros);
}

static size_t scratch_floats(const StrideLayerPass *p)
{
	const StrideGeom g = stride_layer_geom(p);
	return stride_conv_scratch_floats(&g);
}

static int forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideGeom g = stride_layer_geom(p);
	stride_conv_forward(&g, p->x, p->t[STRIDE_T_WEIGHT], p->t[STRIDE_T_BIAS], p->y, p->scratch);
	return 0;
}

static int backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideGeom g = stride_layer_geom(p);
	stride_conv_backward(&g, p->x, p->t[STRIDE_T_WEIGHT], p->dy, p->dx, p->grad[STRIDE_T_WEIGHT],
	                     p->grad[STRIDE_T_BIAS], p->scratch);
	return 0;
}

static int rt_init(StrideRtOp *op, StrideNet *net, StrideRtIsa isa, char *err)
{
	const StrideLayerSpec *s = &op->spec;
	const size_t wsize = (size_t)s->out * (size_t)(s->in / s->groups) * (size_t)s->kernel;
	const float *w = stride_layer_find_tensor(net, s->name, "weight", wsize);
	const float *b = s->bias ? stride_layer_find_tensor(net, s->name, "bias", (size_t)s->out)
	                         : NULL;
	if (!w || (s->bias && !b)) {
		stride_set_err(err, "conv1d %s: weight or bias missing", s->name);
		return -1;
	}
	if (stride_rt_conv_init(&op->conv, s->in, s->out, s->kernel, s->stride, s->dilation,
	                        s->groups, w, b, isa) < 0) {
		stride_set_err(err, "conv1d %s: out of memory", s->name);
		return -1;
	}
	return 0;
}

static void rt_frames(const StrideRtOp *op, const float *x, float *y, int n)
{
	stride_rt_conv_run(&op->conv, x, op->c_in, y, op->c_out, n);
}

static size_t rt_scratch_floats(const StrideRtOp *op, int t_in)
{
	const size_t p = (size_t)op->win.padding;
	return p > 0 ? ((size_t)t_in + 2 * p) * (size_t)op->c_in : 0;
}

/* Padding: zero frames either side in scratch, so the unpadded kernel
 * computes the padded conv. */
static void rt_block(const StrideRtOp *op, const float *x, int t_in, float *y, int t_out,
                     float *scratch)
{
	const size_t c = (size_t)op->c_in, p = (size_t)op->win.padding;
	if (p > 0) {
		memset(scratch, 0, p * c * sizeof(float));
		memcpy(scratch + p * c, x, (size_t)t_in * c * sizeof(float));
		memset(scratch + (p + (size_t)t_in) * c, 0, p * c * sizeof(float));
		x = scratch;
	}
	stride_rt_conv_run(&op->conv, x, op->c_in, y, op->c_out, t_out);
}

static double flops(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out)
{
	(void)c_in;
	(void)t_in;
	const double out_count = (double)c_out * t_out;
	return 2.0 * out_count * (s->in / s->groups) * s->kernel + (s->bias ? out_count : 0);
}

static void describe(const StrideLayerSpec *s, char *buf, size_t len)
{
	snprintf(buf, len, "%d->%d k=%d s=%d d=%d p=%d g=%d%s%s", s->in, s->out, s->kernel, s->stride,
	         s->dilation, s->padding, s->groups, s->bias ? "" : " nobias",
	         s->dc_zeros == 1 ? " dc0" : s->dc_zeros == 2 ? " dc00" : "");
}

const StrideLayerOps stride_layer_conv1d = {
	.name = "conv1d",
	.kind = STRIDE_LAYER_WINDOWED,
	.keys = keys,
	.n_keys = sizeof keys / sizeof keys[0],
	.needs_name = true,
	.defaults = defaults,
	.check = check,
	.in_channels = in_channels,
	.shape = shape,
	.window = window,
	.tensors = tensors,
	.init = init,
	.constrain = constrain,
	.scratch_floats = scratch_floats,
	.forward = forward,
	.backward = backward,
	.absorbs_affine = true,
	.rt_init = rt_init,
	.rt_frames = rt_frames,
	.rt_block = rt_block,
	.rt_scratch_floats = rt_scratch_floats,
	.flops = flops,
	.describe = describe,
};
