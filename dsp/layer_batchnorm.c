/* The batchnorm1d layer: a row of the layer table (layer_table.h) around
 * batchnorm.c. Statistics per channel over n * t values; at inference a
 * per-channel scale and shift, which folding puts into the conv1d or dense
 * layer before it. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_table.h"

#define FIELD(f) offsetof(StrideLayerSpec, f)

static const StrideLayerKey keys[] = {
	{ "channels", STRIDE_KEY_INT, FIELD(channels), 1, STRIDE_MAX_CHANNELS, true, false },
	{ "eps", STRIDE_KEY_POSITIVE, FIELD(eps), 0, 0, false, false },
	{ "momentum", STRIDE_KEY_UNIT, FIELD(momentum), 0, 0, false, false },
};

static int check(int i, StrideLayerSpec *s, int *c, char *err)
{
	if (s->channels < 1 || s->channels > STRIDE_MAX_CHANNELS) {
		stride_set_err(err, "layer %d (batchnorm1d %s): channels %d must be 1..%d", i, s->name,
		               s->channels, STRIDE_MAX_CHANNELS);
		return -1;
	}
	if (!(s->eps > 0.0f && s->eps < 1.0f) || !(s->momentum >= 0.0f && s->momentum <= 1.0f)) {
		stride_set_err(err, "layer %d (batchnorm1d %s): eps must be in (0, 1), momentum in [0, 1]",
		               i, s->name);
		return -1;
	}
	if (*c >= 0 && *c != s->channels) {
		stride_set_err(err, "layer %d (batchnorm1d %s): has %d channels, gets %d", i, s->name,
		               s->channels, *c);
		return -1;
	}
	*c = s->channels;
	return 0;
}

static int in_channels(const StrideLayerSpec *s)
{
	return s->channels;
}

/* gamma 1, beta 0, running mean 0, running variance 1: neutral until
 * initialised or loaded */
static void tensors(const StrideLayerSpec *s, StrideTensorDecl d[STRIDE_LAYER_TENSORS])
{
	const int c = s->channels;
	d[STRIDE_T_WEIGHT] = (StrideTensorDecl){ "weight", 1, { c, 0, 0 }, true, 1.0f };
	d[STRIDE_T_BIAS] = (StrideTensorDecl){ "bias", 1, { c, 0, 0 }, true, 0.0f };
	d[STRIDE_T_RUN_MEAN] = (StrideTensorDecl){ "running_mean", 1, { c, 0, 0 }, false, 0.0f };
	d[STRIDE_T_RUN_VAR] = (StrideTensorDecl){ "running_var", 1, { c, 0, 0 }, false, 1.0f };
}

static void init(const StrideLayerSpec *s, float *const t[STRIDE_LAYER_TENSORS], StrideRng *rng)
{
	(void)rng;
	for (int k = 0; k < s->channels; k++) {
		t[STRIDE_T_WEIGHT][k] = 1.0f;
		t[STRIDE_T_BIAS][k] = 0.0f;
		t[STRIDE_T_RUN_MEAN][k] = 0.0f;
		t[STRIDE_T_RUN_VAR][k] = 1.0f;
	}
}

/* the batch mean and 1/std per channel, for backward */
static size_t saved_bytes(const StrideLayerPass *p)
{
	return 2 * (size_t)p->c_in * sizeof(float);
}

static int forward(const StrideLayerPass *p, char *err)
{
	const StrideLayerSpec *s = p->spec;
	const StrideBnGeom bg = { p->n, p->c_in, p->t_in, s->eps, s->momentum };
	float *const *t = p->t;
	if (!p->training) {
		stride_bn_forward_eval(&bg, p->x, t[STRIDE_T_WEIGHT], t[STRIDE_T_BIAS],
		                       t[STRIDE_T_RUN_MEAN], t[STRIDE_T_RUN_VAR], p->y);
		return 0;
	}
	float *mean = p->saved, *invstd = mean + p->c_in;
	if (stride_bn_forward_train(&bg, p->x, t[STRIDE_T_WEIGHT], t[STRIDE_T_BIAS],
	                            t[STRIDE_T_RUN_MEAN], t[STRIDE_T_RUN_VAR], p->y, mean, invstd) < 0) {
		stride_set_err(err,
		               "layer %d (batchnorm1d %s): training needs more than one value "
		               "per channel (batch %d x length %d)",
		               p->index, s->name, p->n, p->t_in);
		return -1;
	}
	return 0;
}

static int backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideLayerSpec *s = p->spec;
	const StrideBnGeom bg = { p->n, p->c_in, p->t_in, s->eps, s->momentum };
	float *const *t = p->t;
	if (p->training) {
		const float *mean = p->saved, *invstd = mean + p->c_in;
		stride_bn_backward_train(&bg, p->x, t[STRIDE_T_WEIGHT], mean, invstd, p->dy, p->dx,
		                         p->grad[STRIDE_T_WEIGHT], p->grad[STRIDE_T_BIAS]);
	} else {
		stride_bn_backward_eval(&bg, p->x, t[STRIDE_T_WEIGHT], t[STRIDE_T_RUN_MEAN],
		                        t[STRIDE_T_RUN_VAR], p->dy, p->dx, p->grad[STRIDE_T_WEIGHT],
		                        p->grad[STRIDE_T_BIAS]);
	}
	return 0;
}

/* Into the layer before: y = gamma * (Wx + bias - mean) / sqrt(var + eps) + beta. */
static void fold(const StrideLayerSpec *s, float *const t[STRIDE_LAYER_TENSORS], float *w,
                 float *bias, int outs, size_t per_out)
{
	const float *gamma = t[STRIDE_T_WEIGHT], *beta = t[STRIDE_T_BIAS];
	const float *mean = t[STRIDE_T_RUN_MEAN], *var = t[STRIDE_T_RUN_VAR];
	for (int o = 0; o < outs; o++) {
		const double scale = gamma[o] / sqrt((double)var[o] + s->eps);
		for (size_t k = 0; k < per_out; k++)
			w[(size_t)o * per_out + k] = (float)(w[(size_t)o * per_out + k] * scale);
		bias[o] = (float)((bias[o] - mean[o]) * scale + beta[o]);
	}
}

/* A batchnorm1d that nothing folded (first, or after a pool or activation):
 * its own scale and shift. */
static int rt_init(StrideRtOp *op, StrideNet *net, StrideRtIsa isa, char *err)
{
	(void)isa;
	const StrideLayerSpec *s = &op->spec;
	const size_t n = (size_t)s->channels;
	const float *gamma = stride_layer_find_tensor(net, s->name, "weight", n);
	const float *beta = stride_layer_find_tensor(net, s->name, "bias", n);
	const float *mean = stride_layer_find_tensor(net, s->name, "running_mean", n);
	const float *var = stride_layer_find_tensor(net, s->name, "running_var", n);
	op->scale = malloc(n * sizeof(float));
	op->shift = malloc(n * sizeof(float));
	if (!gamma || !beta || !mean || !var || !op->scale || !op->shift) {
		stride_set_err(err, "batchnorm1d %s: tensors missing or out of memory", s->name);
		return -1;
	}
	/* the same arithmetic as the batch layer's inference path */
	for (size_t c = 0; c < n; c++) {
		const double invstd = 1.0 / sqrt((double)var[c] + s->eps);
		op->scale[c] = (float)(gamma[c] * invstd);
		op->shift[c] = (float)(beta[c] - mean[c] * gamma[c] * invstd);
	}
	return 0;
}

static void rt_per_frame(const StrideRtOp *op, const float *x, float *y, int n)
{
	stride_rt_affine(op->c_in, n, op->scale, op->shift, x, y);
}

static double flops(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out)
{
	(void)s;
	(void)c_out;
	(void)t_out;
	const double in_count = (double)c_in * t_in;
	return 2.0 * in_count;
}

static void describe(const StrideLayerSpec *s, char *buf, size_t len)
{
	snprintf(buf, len, "C=%d eps=%g", s->channels, (double)s->eps);
}

const StrideLayerOps stride_layer_batchnorm1d = {
	.name = "batchnorm1d",
	.kind = STRIDE_LAYER_FRAMEWISE,
	.keys = keys,
	.n_keys = sizeof keys / sizeof keys[0],
	.needs_name = true,
	.check = check,
	.in_channels = in_channels,
	.tensors = tensors,
	.init = init,
	.saved_bytes = saved_bytes,
	.forward = forward,
	.backward = backward,
	.fold = fold,
	.rt_init = rt_init,
	.rt_per_frame = rt_per_frame,
	.flops = flops,
	.describe = describe,
};
