/* The element-wise activations and softmax, rows of the layer table
 * (layer_table.h) around activation.c: relu, leaky_relu, tanh, sigmoid and
 * softmax (over channels, per step). Each maps every frame to one frame, so
 * the streaming engine runs them in place on the frames a stage just made. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "layer_table.h"

#define FIELD(f) offsetof(StrideLayerSpec, f)

static size_t count_of(const StrideLayerPass *p)
{
	return (size_t)p->n * p->c_in * p->t_in;
}

/* ------------------------------------------------------------------------ */
/* relu                                                                     */
/* ------------------------------------------------------------------------ */

static int relu_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_relu_forward(count_of(p), p->x, p->y);
	return 0;
}

static int relu_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_relu_backward(count_of(p), p->x, p->dy, p->dx);
	return 0;
}

static void relu_rt(const StrideRtOp *op, const float *x, float *y, int n)
{
	stride_relu_forward((size_t)n * op->c_in, x, y);
}

const StrideLayerOps stride_layer_relu = {
	.name = "relu",
	.kind = STRIDE_LAYER_FRAMEWISE,
	.forward = relu_forward,
	.backward = relu_backward,
	.rt_per_frame = relu_rt,
};

/* ------------------------------------------------------------------------ */
/* leaky_relu                                                               */
/* ------------------------------------------------------------------------ */

static const StrideLayerKey leaky_keys[] = {
	{ "slope", STRIDE_KEY_FINITE, FIELD(slope), 0, 0, false, false },
};

static int leaky_check(int i, StrideLayerSpec *s, int *c, char *err)
{
	(void)c;
	if (!isfinite(s->slope)) {
		stride_set_err(err, "layer %d (leaky_relu): slope must be finite", i);
		return -1;
	}
	return 0;
}

static int leaky_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_leaky_relu_forward(count_of(p), p->spec->slope, p->x, p->y);
	return 0;
}

static int leaky_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_leaky_relu_backward(count_of(p), p->spec->slope, p->x, p->dy, p->dx);
	return 0;
}

static void leaky_rt(const StrideRtOp *op, const float *x, float *y, int n)
{
	stride_leaky_relu_forward((size_t)n * op->c_in, op->spec.slope, x, y);
}

static void leaky_describe(const StrideLayerSpec *s, char *buf, size_t len)
{
	snprintf(buf, len, "slope=%g", (double)s->slope);
}

const StrideLayerOps stride_layer_leaky_relu = {
	.name = "leaky_relu",
	.kind = STRIDE_LAYER_FRAMEWISE,
	.keys = leaky_keys,
	.n_keys = sizeof leaky_keys / sizeof leaky_keys[0],
	.check = leaky_check,
	.forward = leaky_forward,
	.backward = leaky_backward,
	.rt_per_frame = leaky_rt,
	.describe = leaky_describe,
};

/* ------------------------------------------------------------------------ */
/* tanh, sigmoid: backward from the output                                  */
/* ------------------------------------------------------------------------ */

static int tanh_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_tanh_forward(count_of(p), p->x, p->y);
	return 0;
}

static int tanh_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_tanh_backward(count_of(p), p->y, p->dy, p->dx);
	return 0;
}

static void tanh_rt(const StrideRtOp *op, const float *x, float *y, int n)
{
	stride_tanh_forward((size_t)n * op->c_in, x, y);
}

const StrideLayerOps stride_layer_tanh = {
	.name = "tanh",
	.kind = STRIDE_LAYER_FRAMEWISE,
	.forward = tanh_forward,
	.backward = tanh_backward,
	.rt_per_frame = tanh_rt,
	.flops = stride_layer_flops_exp,
};

static int sigmoid_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_sigmoid_forward(count_of(p), p->x, p->y);
	return 0;
}

static int sigmoid_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_sigmoid_backward(count_of(p), p->y, p->dy, p->dx);
	return 0;
}

static void sigmoid_rt(const StrideRtOp *op, const float *x, float *y, int n)
{
	stride_sigmoid_forward((size_t)n * op->c_in, x, y);
}

const StrideLayerOps stride_layer_sigmoid = {
	.name = "sigmoid",
	.kind = STRIDE_LAYER_FRAMEWISE,
	.forward = sigmoid_forward,
	.backward = sigmoid_backward,
	.rt_per_frame = sigmoid_rt,
	.flops = stride_layer_flops_exp,
};

/* ------------------------------------------------------------------------ */
/* softmax over channels, per (n, t)                                        */
/* ------------------------------------------------------------------------ */

static int softmax_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_softmax_forward(p->n, p->c_in, p->t_in, p->x, p->y);
	return 0;
}

static int softmax_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_softmax_backward(p->n, p->c_in, p->t_in, p->y, p->dy, p->dx);
	return 0;
}

static void softmax_rt(const StrideRtOp *op, const float *x, float *y, int n)
{
	stride_rt_softmax(op->c_in, n, x, y);
}

const StrideLayerOps stride_layer_softmax = {
	.name = "softmax",
	.kind = STRIDE_LAYER_FRAMEWISE,
	.forward = softmax_forward,
	.backward = softmax_backward,
	.rt_per_frame = softmax_rt,
	.flops = stride_layer_flops_exp,
};
