/* The log layer, y = ln(max(x, 0) + eps): a compressive front end (log
 * energy), and the worked example of docs/ADDING_A_LAYER.md. Everything the
 * library knows about it is here and in its row of layer_table.c; its kernels
 * are stride_log_forward/_backward (activation.c). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "layer_table.h"

/* JSON: {"type": "log", "eps": 1e-6}; eps defaults to 1e-5 (the common default) */
static const StrideLayerKey keys[] = {
	{ "eps", STRIDE_KEY_POSITIVE, offsetof(StrideLayerSpec, eps), 0, 0, false, false },
};

static int check(int i, StrideLayerSpec *s, int *c, char *err)
{
	(void)c; /* channels pass through */
	/* eps keeps ln() finite at zero input (digital silence) */
	if (!(s->eps > 0.0f) || !isfinite(s->eps)) {
		stride_set_err(err, "layer %d (log): eps must be positive and finite", i);
		return -1;
	}
	return 0;
}

static int forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_log_forward((size_t)p->n * p->c_in * p->t_in, p->spec->eps, p->x, p->y);
	return 0;
}

static int backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_log_backward((size_t)p->n * p->c_in * p->t_in, p->spec->eps, p->x, p->dy, p->dx);
	return 0;
}

/* streaming: n frames of c_in values, in place or not */
static void rt_per_frame(const StrideRtOp *op, const float *x, float *y, int n)
{
	stride_log_forward((size_t)n * op->c_in, op->spec.eps, x, y);
}

static void describe(const StrideLayerSpec *s, char *buf, size_t len)
{
	snprintf(buf, len, "eps=%g", (double)s->eps);
}

/* No shape rule (it keeps the shape), no tensors, no streaming state. */
const StrideLayerOps stride_layer_log = {
	.name = "log",
	.kind = STRIDE_LAYER_FRAMEWISE,
	.keys = keys,
	.n_keys = sizeof keys / sizeof keys[0],
	.check = check,
	.forward = forward,
	.backward = backward,
	.rt_per_frame = rt_per_frame,
	.flops = stride_layer_flops_exp,
	.describe = describe,
};
