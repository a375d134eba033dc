/* The pooling layers, rows of the layer table (layer_table.h) around pool.c
 * and the streaming kernels of rt_kernels.h: maxpool1d and avgpool1d (sliding
 * windows), then global_avgpool and global_maxpool (the whole input to one step). */
#include <stddef.h>
#include <stdio.h>

#include "layer_table.h"

#define FIELD(f) offsetof(StrideLayerSpec, f)

/* ------------------------------------------------------------------------ */
/* maxpool1d, avgpool1d                                                     */
/* ------------------------------------------------------------------------ */

static const StrideLayerKey pool_keys[] = {
	{ "kernel", STRIDE_KEY_INT, FIELD(kernel), 1, STRIDE_MAX_KERNEL, true, false },
	/* 0 means "the kernel size", as PyTorch's stride=None */
	{ "stride", STRIDE_KEY_INT, FIELD(stride), 0, STRIDE_MAX_STEP, false, false },
	{ "padding", STRIDE_KEY_INT, FIELD(padding), 0, STRIDE_MAX_PADDING, false, false },
};

static int pool_check(int i, StrideLayerSpec *s, int *c, char *err)
{
	(void)c;
	const char *tn = stride_layer_type_name(s->type);
	if (s->stride == 0)
		s->stride = s->kernel;
	if (s->kernel < 1 || s->kernel > STRIDE_MAX_KERNEL || s->stride < 1 ||
	    s->stride > STRIDE_MAX_STEP) {
		stride_set_err(err, "layer %d (%s): kernel %d and stride %d must be 1..%d", i, tn,
		               s->kernel, s->stride, STRIDE_MAX_KERNEL);
		return -1;
	}
	if (s->padding < 0 || s->padding > s->kernel / 2) {
		stride_set_err(err, "layer %d (%s): padding %d must be 0..kernel/2 (%d)", i, tn,
		               s->padding, s->kernel / 2);
		return -1;
	}
	return 0;
}

static int pool_shape(const StrideLayerSpec *s, int i, int c, int t, int *c2, int *t2, char *err)
{
	if (stride_layer_window_shape(s, i, t, t2, err) < 0)
		return -1;
	*c2 = c;
	return 0;
}

static StrideWindow pool_window(const StrideLayerSpec *s)
{
	return (StrideWindow){ s->kernel, s->stride > 0 ? s->stride : s->kernel, 1, s->padding, 1 };
}

/* maxpool: the winning input index of every output, for backward */
static size_t argmax_bytes(const StrideLayerPass *p)
{
	return (size_t)p->n * (size_t)p->c_out * (size_t)p->t_out * sizeof(int);
}

static int maxpool_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideGeom g = stride_layer_geom(p);
	stride_maxpool_forward(&g, p->x, p->y, p->saved);
	return 0;
}

static int maxpool_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideGeom g = stride_layer_geom(p);
	stride_maxpool_backward(&g, p->dy, p->saved, p->dx);
	return 0;
}

static int avgpool_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideGeom g = stride_layer_geom(p);
	stride_avgpool_forward(&g, p->x, p->y);
	return 0;
}

static int avgpool_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	const StrideGeom g = stride_layer_geom(p);
	stride_avgpool_backward(&g, p->dy, p->dx);
	return 0;
}

/* Streaming: n output frames from (n - 1) * stride + kernel input frames. */
static void maxpool_rt_frames(const StrideRtOp *op, const float *x, float *y, int n)
{
	const int t_in = (n - 1) * op->win.stride + op->win.kernel;
	stride_rt_maxpool(op->c_in, t_in, op->win.kernel, op->win.stride, 0, x, y, n);
}

static void avgpool_rt_frames(const StrideRtOp *op, const float *x, float *y, int n)
{
	const int t_in = (n - 1) * op->win.stride + op->win.kernel;
	stride_rt_avgpool(op->c_in, t_in, op->win.kernel, op->win.stride, 0, x, y, n);
}

static void maxpool_rt_block(const StrideRtOp *op, const float *x, int t_in, float *y, int t_out,
                             float *scratch)
{
	(void)scratch;
	stride_rt_maxpool(op->c_in, t_in, op->win.kernel, op->win.stride, op->win.padding, x, y, t_out);
}

static void avgpool_rt_block(const StrideRtOp *op, const float *x, int t_in, float *y, int t_out,
                             float *scratch)
{
	(void)scratch;
	stride_rt_avgpool(op->c_in, t_in, op->win.kernel, op->win.stride, op->win.padding, x, y, t_out);
}

static double pool_flops(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out)
{
	(void)c_in;
	(void)t_in;
	const double out_count = (double)c_out * t_out;
	return out_count * s->kernel;
}

static void pool_describe(const StrideLayerSpec *s, char *buf, size_t len)
{
	snprintf(buf, len, "k=%d s=%d p=%d", s->kernel, s->stride > 0 ? s->stride : s->kernel,
	         s->padding);
}

const StrideLayerOps stride_layer_maxpool1d = {
	.name = "maxpool1d",
	.kind = STRIDE_LAYER_WINDOWED,
	.keys = pool_keys,
	.n_keys = sizeof pool_keys / sizeof pool_keys[0],
	.check = pool_check,
	.shape = pool_shape,
	.window = pool_window,
	.saved_bytes = argmax_bytes,
	.forward = maxpool_forward,
	.backward = maxpool_backward,
	.rt_frames = maxpool_rt_frames,
	.rt_block = maxpool_rt_block,
	.flops = pool_flops,
	.describe = pool_describe,
};

const StrideLayerOps stride_layer_avgpool1d = {
	.name = "avgpool1d",
	.kind = STRIDE_LAYER_WINDOWED,
	.keys = pool_keys,
	.n_keys = sizeof pool_keys / sizeof pool_keys[0],
	.check = pool_check,
	.shape = pool_shape,
	.window = pool_window,
	.forward = avgpool_forward,
	.backward = avgpool_backward,
	.rt_frames = avgpool_rt_frames,
	.rt_block = avgpool_rt_block,
	.flops = pool_flops,
	.describe = pool_describe,
};

/* ------------------------------------------------------------------------ */
/* global_avgpool, global_maxpool: (n, c, t) to (n, c, 1)                   */
/* ------------------------------------------------------------------------ */

static int global_shape(const StrideLayerSpec *s, int i, int c, int t, int *c2, int *t2,
                        char *err)
{
	(void)s;
	(void)i;
	(void)t;
	(void)err;
	*c2 = c;
	*t2 = 1;
	return 0;
}

static int global_avg_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_global_avg_forward(p->n, p->c_in, p->t_in, p->x, p->y);
	return 0;
}

static int global_avg_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_global_avg_backward(p->n, p->c_in, p->t_in, p->dy, p->dx);
	return 0;
}

static int global_max_forward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_global_max_forward(p->n, p->c_in, p->t_in, p->x, p->y, p->saved);
	return 0;
}

static int global_max_backward(const StrideLayerPass *p, char *err)
{
	(void)err;
	stride_global_max_backward(p->n, p->c_in, p->t_in, p->dy, p->saved, p->dx);
	return 0;
}

static void global_avg_rt_block(const StrideRtOp *op, const float *x, int t_in, float *y,
                                int t_out, float *scratch)
{
	(void)t_out;
	(void)scratch;
	stride_rt_global_avg(op->c_in, t_in, x, y);
}

static void global_max_rt_block(const StrideRtOp *op, const float *x, int t_in, float *y,
                                int t_out, float *scratch)
{
	(void)t_out;
	(void)scratch;
	stride_rt_global_max(op->c_in, t_in, x, y);
}

const StrideLayerOps stride_layer_global_avgpool = {
	.name = "global_avgpool",
	.kind = STRIDE_LAYER_GLOBAL,
	.shape = global_shape,
	.forward = global_avg_forward,
	.backward = global_avg_backward,
	.rt_block = global_avg_rt_block,
};

const StrideLayerOps stride_layer_global_maxpool = {
	.name = "global_maxpool",
	.kind = STRIDE_LAYER_GLOBAL,
	.shape = global_shape,
	.saved_bytes = argmax_bytes,
	.forward = global_max_forward,
	.backward = global_max_backward,
	.rt_block = global_max_rt_block,
};
