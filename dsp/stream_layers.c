/* A network's layers for the streaming engine, and chains of them over blocks
 * of fixed length (the windowed forward, and the head after the global pool). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "stream_layers.h"
#include "util.h"

/* A layer's tensor "<layer>.<suffix>", or NULL. */
static const float *find_tensor(StrideNet *net, const char *layer, const char *suffix,
                                size_t size)
{
	char name[STRIDE_NAME_LEN + 16];
	snprintf(name, sizeof name, "%s.%s", layer, suffix);
	const int i = stride_net_find_tensor(net, name);
	if (i < 0)
		return NULL;
	const StrideTensor t = stride_net_tensor(net, i);
	return t.size == size ? t.data : NULL;
}

bool stride_rt_op_is_per_frame(StrideLayerType type)
{
	switch (type) {
	case STRIDE_BATCHNORM1D:
	case STRIDE_RELU:
	case STRIDE_LEAKY_RELU:
	case STRIDE_TANH:
	case STRIDE_SIGMOID:
	case STRIDE_SOFTMAX:
	case STRIDE_LOG:
		return true;
	default:
		return false;
	}
}

int stride_rt_op_span(const StrideRtOp *op)
{
	return op->dilation * (op->kernel - 1) + 1;
}

static int init_conv(StrideRtOp *op, StrideNet *net, const StrideLayerSpec *s, StrideRtIsa isa,
                     char *err)
{
	const size_t wsize = (size_t)s->out * (size_t)(s->in / s->groups) * (size_t)s->kernel;
	const float *w = find_tensor(net, s->name, "weight", wsize);
	const float *b = s->bias ? find_tensor(net, s->name, "bias", (size_t)s->out) : NULL;
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

/* Dense reads the batch layout's flattening, input c * t_in + i; the weights
 * are reordered so it reads a frame-major block, input i * c_in + c. */
static int init_dense(StrideRtOp *op, StrideNet *net, const StrideLayerSpec *s, int c_in,
                      int t_in, StrideRtIsa isa, char *err)
{
	if ((long)c_in * t_in != s->in) {
		stride_set_err(err, "dense %s: expects %d inputs, gets %d x %d", s->name, s->in, c_in,
		               t_in);
		return -1;
	}
	const size_t wsize = (size_t)s->out * (size_t)s->in;
	const float *w = find_tensor(net, s->name, "weight", wsize);
	const float *b = s->bias ? find_tensor(net, s->name, "bias", (size_t)s->out) : NULL;
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

static int init_batchnorm(StrideRtOp *op, StrideNet *net, const StrideLayerSpec *s, char *err)
{
	const size_t n = (size_t)s->channels;
	const float *gamma = find_tensor(net, s->name, "weight", n);
	const float *beta = find_tensor(net, s->name, "bias", n);
	const float *mean = find_tensor(net, s->name, "running_mean", n);
	const float *var = find_tensor(net, s->name, "running_var", n);
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

int stride_rt_op_init(StrideRtOp *op, StrideNet *net, int i, int c_in, int t_in, StrideRtIsa isa,
                      char err[STRIDE_ERR_LEN])
{
	memset(op, 0, sizeof *op);
	const StrideLayerSpec *s = stride_net_layer(net, i);
	if (!s) {
		stride_set_err(err, "no layer %d", i);
		return -1;
	}
	op->type = s->type;
	op->c_in = op->c_out = c_in;
	op->kernel = op->stride = op->dilation = 1;
	op->slope = s->slope;
	op->eps = s->eps;
	switch (s->type) {
	case STRIDE_CONV1D:
		op->c_out = s->out;
		op->kernel = s->kernel;
		op->stride = s->stride;
		op->dilation = s->dilation;
		op->padding = s->padding;
		op->bias = s->bias;
		return init_conv(op, net, s, isa, err);
	case STRIDE_MAXPOOL1D:
	case STRIDE_AVGPOOL1D:
		op->kernel = s->kernel;
		op->stride = s->stride > 0 ? s->stride : s->kernel;
		op->padding = s->padding;
		return 0;
	case STRIDE_DENSE:
		op->c_out = s->out;
		op->bias = s->bias;
		return init_dense(op, net, s, c_in, t_in, isa, err);
	case STRIDE_BATCHNORM1D:
		return init_batchnorm(op, net, s, err);
	default:
		return 0;
	}
}

void stride_rt_op_free(StrideRtOp *op)
{
	stride_rt_conv_free(&op->conv);
	free(op->scale);
	free(op->shift);
	op->scale = op->shift = NULL;
}

void stride_rt_op_per_frame(const StrideRtOp *op, const float *x, float *y, int n)
{
	const size_t count = (size_t)n * op->c_in;
	switch (op->type) {
	case STRIDE_BATCHNORM1D:
		stride_rt_affine(op->c_in, n, op->scale, op->shift, x, y);
		break;
	case STRIDE_RELU:
		stride_relu_forward(count, x, y);
		break;
	case STRIDE_LEAKY_RELU:
		stride_leaky_relu_forward(count, op->slope, x, y);
		break;
	case STRIDE_LOG:
		stride_log_forward(count, op->eps, x, y);
		break;
	case STRIDE_TANH:
		stride_tanh_forward(count, x, y);
		break;
	case STRIDE_SIGMOID:
		stride_sigmoid_forward(count, x, y);
		break;
	case STRIDE_SOFTMAX:
		stride_rt_softmax(op->c_in, n, x, y);
		break;
	default:
		break;
	}
}

void stride_rt_op_frames(const StrideRtOp *op, const float *x, float *y, int n)
{
	const int t_in = (n - 1) * op->stride + stride_rt_op_span(op);
	switch (op->type) {
	case STRIDE_CONV1D:
		stride_rt_conv_run(&op->conv, x, op->c_in, y, op->c_out, n);
		break;
	case STRIDE_MAXPOOL1D:
		stride_rt_maxpool(op->c_in, t_in, op->kernel, op->stride, 0, x, y, n);
		break;
	case STRIDE_AVGPOOL1D:
		stride_rt_avgpool(op->c_in, t_in, op->kernel, op->stride, 0, x, y, n);
		break;
	default:
		break;
	}
}

double stride_rt_op_flops(const StrideRtOp *op, int t_in, int t_out)
{
	const double in_count = (double)op->c_in * t_in, out_count = (double)op->c_out * t_out;
	switch (op->type) {
	case STRIDE_CONV1D:
		return 2.0 * out_count * (op->c_in / op->conv.groups) * op->kernel +
		       (op->bias ? out_count : 0.0);
	case STRIDE_DENSE:
		return 2.0 * op->conv.c_in * op->c_out + (op->bias ? op->c_out : 0.0);
	case STRIDE_MAXPOOL1D:
	case STRIDE_AVGPOOL1D:
		return out_count * op->kernel;
	case STRIDE_GLOBAL_AVGPOOL:
	case STRIDE_GLOBAL_MAXPOOL:
	case STRIDE_RELU:
	case STRIDE_LEAKY_RELU:
		return in_count;
	case STRIDE_BATCHNORM1D:
		return 2.0 * in_count;
	default:
		return 4.0 * in_count;
	}
}

/* ------------------------------------------------------------------------ */
/* Chains                                                                   */
/* ------------------------------------------------------------------------ */

int stride_rt_chain_init(StrideRtChain *ch, const StrideRtOp *ops, int n_ops, int c_in, int t_in,
                         char err[STRIDE_ERR_LEN])
{
	memset(ch, 0, sizeof *ch);
	ch->ops = ops;
	ch->n_ops = n_ops;
	ch->c_in = c_in;
	ch->t_in = t_in;
	ch->t = malloc(((size_t)n_ops + 1) * sizeof *ch->t);
	if (!ch->t)
		goto oom;
	size_t most = 1, pad = 1;
	int c = c_in, t = t_in;
	for (int i = 0; i < n_ops; i++) {
		const StrideRtOp *op = &ops[i];
		ch->t[i] = t;
		if (op->c_in != c) {
			stride_set_err(err, "layer %d: expects %d channels, gets %d", i, op->c_in, c);
			goto fail;
		}
		switch (op->type) {
		case STRIDE_CONV1D:
		case STRIDE_MAXPOOL1D:
		case STRIDE_AVGPOOL1D: {
			const int len = stride_conv_out_len(t, op->kernel, op->stride, op->dilation,
			                                    op->padding);
			if (len < 1) {
				stride_set_err(err, "layer %d: %d frames are shorter than its window", i, t);
				goto fail;
			}
			if (op->type == STRIDE_CONV1D && op->padding > 0) {
				const size_t p = ((size_t)t + 2 * (size_t)op->padding) * (size_t)c;
				if (p > pad)
					pad = p;
			}
			t = len;
			break;
		}
		case STRIDE_GLOBAL_AVGPOOL:
		case STRIDE_GLOBAL_MAXPOOL:
		case STRIDE_DENSE:
			t = 1;
			break;
		default:
			break;
		}
		c = op->c_out;
		const size_t size = (size_t)t * (size_t)c;
		if (size > most)
			most = size;
	}
	ch->t[n_ops] = t;
	ch->c_out = c;
	ch->t_out = t;
	ch->buf[0] = stride_alloc_aligned(most * sizeof(float));
	ch->buf[1] = stride_alloc_aligned(most * sizeof(float));
	ch->pad = stride_alloc_aligned(pad * sizeof(float));
	if (!ch->buf[0] || !ch->buf[1] || !ch->pad)
		goto oom;
	return 0;
oom:
	stride_set_err(err, "out of memory for the layer buffers");
fail:
	stride_rt_chain_free(ch);
	return -1;
}

void stride_rt_chain_free(StrideRtChain *ch)
{
	free(ch->t);
	stride_free_aligned(ch->buf[0]);
	stride_free_aligned(ch->buf[1]);
	stride_free_aligned(ch->pad);
	memset(ch, 0, sizeof *ch);
}

/* Zero frames either side, so the unpadded kernel computes the padded conv. */
static const float *padded(StrideRtChain *ch, const StrideRtOp *op, const float *x, int t)
{
	const size_t c = (size_t)op->c_in, p = (size_t)op->padding;
	memset(ch->pad, 0, p * c * sizeof(float));
	memcpy(ch->pad + p * c, x, (size_t)t * c * sizeof(float));
	memset(ch->pad + (p + (size_t)t) * c, 0, p * c * sizeof(float));
	return ch->pad;
}

const float *stride_rt_chain_run(StrideRtChain *ch, const float *x)
{
	const float *cur = x;
	int at = -1; /* the buffer cur is, or -1 for the caller's input */
	for (int i = 0; i < ch->n_ops; i++) {
		const StrideRtOp *op = &ch->ops[i];
		const int t = ch->t[i], t_out = ch->t[i + 1];
		if (stride_rt_op_is_per_frame(op->type)) {
			/* in place, but never over the caller's input */
			const int to = at < 0 ? 0 : at;
			stride_rt_op_per_frame(op, cur, ch->buf[to], t);
			cur = ch->buf[to];
			at = to;
			continue;
		}
		const int to = at == 0 ? 1 : 0;
		float *y = ch->buf[to];
		switch (op->type) {
		case STRIDE_CONV1D: {
			const float *src = op->padding > 0 ? padded(ch, op, cur, t) : cur;
			stride_rt_conv_run(&op->conv, src, op->c_in, y, op->c_out, t_out);
			break;
		}
		case STRIDE_MAXPOOL1D:
			stride_rt_maxpool(op->c_in, t, op->kernel, op->stride, op->padding, cur, y, t_out);
			break;
		case STRIDE_AVGPOOL1D:
			stride_rt_avgpool(op->c_in, t, op->kernel, op->stride, op->padding, cur, y, t_out);
			break;
		case STRIDE_GLOBAL_AVGPOOL:
			stride_rt_global_avg(op->c_in, t, cur, y);
			break;
		case STRIDE_GLOBAL_MAXPOOL:
			stride_rt_global_max(op->c_in, t, cur, y);
			break;
		case STRIDE_DENSE:
			/* t frames of c channels, contiguous: one frame of t * c features */
			stride_rt_conv_run(&op->conv, cur, op->conv.c_in, y, op->c_out, 1);
			break;
		default:
			break;
		}
		cur = y;
		at = to;
	}
	return cur;
}

double stride_rt_chain_flops(const StrideRtChain *ch)
{
	double sum = 0.0;
	for (int i = 0; i < ch->n_ops; i++)
		sum += stride_rt_op_flops(&ch->ops[i], ch->t[i], ch->t[i + 1]);
	return sum;
}
