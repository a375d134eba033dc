/* A network's layers for the streaming engine, and chains of them over blocks
 * of fixed length (the windowed forward, and the head after the global pool).
 * What each layer does is its row of the layer table (layer_table.h). */
#include <stdlib.h>
#include <string.h>

#include "stream_layers.h"

bool stride_rt_op_is_per_frame(const StrideRtOp *op)
{
	return op->ops->kind == STRIDE_LAYER_FRAMEWISE;
}

int stride_rt_op_span(const StrideRtOp *op)
{
	return op->win.dilation * (op->win.kernel - 1) + 1;
}

int stride_rt_op_init(StrideRtOp *op, StrideNet *net, int i, int c_in, int t_in, int c_out,
                      StrideRtIsa isa, char err[STRIDE_ERR_LEN])
{
	memset(op, 0, sizeof *op);
	const StrideLayerSpec *s = stride_net_layer(net, i);
	if (!s) {
		stride_set_err(err, "no layer %d", i);
		return -1;
	}
	op->ops = stride_layer_ops(s->type);
	op->spec = *s;
	op->c_in = c_in;
	op->t_in = t_in;
	op->c_out = c_out;
	op->win = (StrideWindow){ 1, 1, 1, 0, 1 };
	if (op->ops->kind == STRIDE_LAYER_WINDOWED)
		op->win = op->ops->window(s);
	return op->ops->rt_init ? op->ops->rt_init(op, net, isa, err) : 0;
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
	op->ops->rt_per_frame(op, x, y, n);
}

void stride_rt_op_frames(const StrideRtOp *op, const float *x, float *y, int n)
{
	op->ops->rt_frames(op, x, y, n);
}

double stride_rt_op_flops(const StrideRtOp *op, int t_in, int t_out)
{
	return stride_layer_flops(&op->spec, op->c_in, t_in, op->c_out, t_out);
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
		const size_t scratch = op->ops->rt_scratch_floats ? op->ops->rt_scratch_floats(op, t) : 0;
		if (scratch > pad)
			pad = scratch;
		if (op->ops->kind == STRIDE_LAYER_WINDOWED) {
			const StrideWindow *w = &op->win;
			const int len = stride_conv_out_len(t, w->kernel, w->stride, w->dilation, w->padding);
			if (len < 1) {
				stride_set_err(err, "layer %d: %d frames are shorter than its window", i, t);
				goto fail;
			}
			t = len;
		} else if (op->ops->kind == STRIDE_LAYER_GLOBAL) {
			t = 1;
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

const float *stride_rt_chain_run(StrideRtChain *ch, const float *x)
{
	const float *cur = x;
	int at = -1; /* the buffer cur is, or -1 for the caller's input */
	for (int i = 0; i < ch->n_ops; i++) {
		const StrideRtOp *op = &ch->ops[i];
		const int t = ch->t[i], t_out = ch->t[i + 1];
		if (stride_rt_op_is_per_frame(op)) {
			/* in place, but never over the caller's input */
			const int to = at < 0 ? 0 : at;
			stride_rt_op_per_frame(op, cur, ch->buf[to], t);
			cur = ch->buf[to];
			at = to;
			continue;
		}
		const int to = at == 0 ? 1 : 0;
		op->ops->rt_block(op, cur, t, ch->buf[to], t_out, ch->pad);
		cur = ch->buf[to];
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
