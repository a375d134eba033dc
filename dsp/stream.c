/* The streaming engine: a model run on a live stream, one decision per hop,
 * each equal to the batch forward of its window (see the Streaming section of
 * stride.h).
 *
 * Incremental mode. The time-local layers (everything before the first global
 * pool or dense layer) run over the stream itself: each conv1d or pool is a
 * stage reading a FIFO of the frames it still needs and appending its outputs
 * to the next stage's FIFO; per-frame layers (activations, batchnorm1d,
 * softmax) run in place on the frames their stage just made. A stage computes
 * every output frame whose inputs have all arrived, so strides and pools
 * really decimate; when a stride is larger than the span a frame needs, the
 * FIFO's skip count drops the frames nobody looks at. Because nothing is
 * padded, local frame q of the stream covers input samples [q*J, q*J + rf)
 * (J the total stride, rf the receptive field), exactly as frame q - k*hop/J
 * of the batch forward on window k does when J divides hop. The last FIFO
 * holds the F local frames a window covers; each decision runs the head (the
 * global pool or dense layer and what follows) on them: a sliding global pool
 * recomputed over F frames (no running sums to drift), then the dense layers.
 *
 * Windowed mode (padding in the local layers, or a hop that J does not
 * divide): the input FIFO keeps the last `window` samples and each decision
 * runs the whole network on them, with the same kernels and no allocation.
 *
 * Decision k is due once sample k*hop + window - 1 has been pushed, in both
 * modes. Pushes are cut into chunks of at most `chunk` samples, which bounds
 * every buffer; within a chunk each stage processes all its new frames at
 * once, so a conv1d is a small matrix product. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "denormals.h"
#include "stream_layers.h"
#include "util.h"

/* Input samples per chunk, at most; fewer for inputs of many channels. */
#define CHUNK_SAMPLES 2048
#define CHUNK_FLOATS (1 << 18)

/* Frames of one channel count in arrival order. Frames [start, start + len)
 * are held; `skip` more frames will be dropped as they arrive. */
typedef struct {
	float *data;
	int ld; /* channels: frame i is data[i * ld .. + ld) */
	int cap;
	int start, len;
	long long skip;
} Fifo;

/* A conv1d or pool with the per-frame layers that follow it. */
typedef struct {
	const StrideRtOp *op;
	int span, step;
	int per_frame_first, per_frame_count; /* ops after it, run on its output */
} Stage;

struct StrideStream {
	int in_channels;
	int window, hop;
	float gain;
	bool incremental;
	StrideRtIsa isa;
	int chunk;

	int n_ops;
	StrideRtOp *ops;

	/* incremental: ops [0, n_local) run over the stream; windowed: n_local = 0 */
	int n_local;
	int in_first, in_count; /* per-frame ops on the input itself */
	int n_stages;
	Stage *stages;
	Fifo *fifo;   /* n_stages + 1: fifo[0] the input, fifo[i] stage i's output */
	int frames;   /* frames of the last FIFO one decision reads (F; window when windowed) */
	int advance;  /* frames of the last FIFO between decisions (hop / J) */
	StrideRtChain head; /* ops [n_local, n_ops) over `frames` frames */

	int c_out, t_out, out_size;
	double flops_per_sample;

	long long pushed;   /* samples so far */
	long long due;      /* samples pushed when the next decision is due */
};

/* ------------------------------------------------------------------------ */
/* FIFOs                                                                    */
/* ------------------------------------------------------------------------ */

static int fifo_init(Fifo *f, int ld, long long cap, char *err)
{
	size_t bytes;
	if (cap > 0x7fffffffLL || !stride_mul_size((size_t)cap * (size_t)ld, sizeof(float), &bytes) ||
	    bytes > ((size_t)1 << 36)) {
		stride_set_err(err, "stream buffer of %lld frames x %d channels is too large", cap, ld);
		return -1;
	}
	f->data = stride_alloc_aligned(bytes);
	if (!f->data) {
		stride_set_err(err, "out of memory for a stream buffer of %lld frames", cap);
		return -1;
	}
	f->ld = ld;
	f->cap = (int)cap;
	return 0;
}

static void fifo_clear(Fifo *f)
{
	f->start = f->len = 0;
	f->skip = 0;
}

/* Where n new frames go; moves the held frames to the front when needed. The
 * capacities (stride_stream_new) leave room for the most a chunk can bring. */
static float *fifo_room(Fifo *f, int n)
{
	if (f->start + f->len + n > f->cap) {
		memmove(f->data, f->data + (size_t)f->start * f->ld,
		        (size_t)f->len * f->ld * sizeof(float));
		f->start = 0;
	}
	return f->data + (size_t)(f->start + f->len) * f->ld;
}

static const float *fifo_frames(const Fifo *f)
{
	return f->data + (size_t)f->start * f->ld;
}

static void fifo_consume(Fifo *f, long long n)
{
	if (n < f->len) {
		f->start += (int)n;
		f->len -= (int)n;
		return;
	}
	f->skip += n - f->len;
	f->start = f->len = 0;
}

static void fifo_appended(Fifo *f, int n)
{
	f->len += n;
	if (f->skip > 0) {
		const int drop = f->skip < f->len ? (int)f->skip : f->len;
		f->start += drop;
		f->len -= drop;
		f->skip -= drop;
	}
	if (f->len == 0)
		f->start = 0;
}

/* ------------------------------------------------------------------------ */
/* Construction                                                             */
/* ------------------------------------------------------------------------ */

void stride_stream_free(StrideStream *s)
{
	if (!s)
		return;
	if (s->ops)
		for (int i = 0; i < s->n_ops; i++)
			stride_rt_op_free(&s->ops[i]);
	free(s->ops);
	if (s->fifo)
		for (int i = 0; i <= s->n_stages; i++)
			stride_free_aligned(s->fifo[i].data);
	free(s->fifo);
	free(s->stages);
	stride_rt_chain_free(&s->head);
	free(s);
}

/* Layers [0, n_local) as stages; the FIFO capacities follow from the chunk. */
static int build_stages(StrideStream *s, char *err)
{
	int n_stages = 0;
	for (int i = 0; i < s->n_local; i++)
		if (!stride_rt_op_is_per_frame(&s->ops[i]))
			n_stages++;
	s->stages = calloc((size_t)n_stages + 1, sizeof *s->stages);
	s->fifo = calloc((size_t)n_stages + 1, sizeof *s->fifo);
	if (!s->stages || !s->fifo) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	s->n_stages = n_stages;
	int i = 0;
	s->in_first = 0;
	while (i < s->n_local && stride_rt_op_is_per_frame(&s->ops[i]))
		i++;
	s->in_count = i;
	for (int k = 0; k < n_stages; k++) {
		Stage *st = &s->stages[k];
		st->op = &s->ops[i];
		st->span = stride_rt_op_span(st->op);
		st->step = st->op->win.stride;
		st->per_frame_first = ++i;
		while (i < s->n_local && stride_rt_op_is_per_frame(&s->ops[i]))
			i++;
		st->per_frame_count = i - st->per_frame_first;
	}

	/* most frames a FIFO receives per chunk: a stage with m new input frames
	 * and at most span - 1 held makes at most ceil(m / step) */
	long long m = s->chunk;
	int ld = s->in_channels;
	for (int k = 0; k <= n_stages; k++) {
		long long keep; /* frames held between chunks, at most */
		if (k < n_stages)
			keep = s->stages[k].span - 1;
		else
			keep = s->frames;
		/* slack: the held frames move to the front at most once per `slack` frames */
		const long long slack = keep > 64 ? keep : 64;
		if (fifo_init(&s->fifo[k], ld, keep + m + slack, err) < 0)
			return -1;
		if (k < n_stages) {
			m = (m + s->stages[k].step - 1) / s->stages[k].step;
			ld = s->stages[k].op->c_out;
		}
	}
	return 0;
}

/* Multiply-adds x 2 per input sample, as this stream runs. */
static double cost_per_sample(const StrideStream *s)
{
	double per_sample = 0.0;
	double jump = 1.0; /* input samples per frame at this point */
	for (int i = 0; i < s->in_count; i++)
		per_sample += stride_rt_op_flops(&s->ops[s->in_first + i], 1, 1);
	for (int k = 0; k < s->n_stages; k++) {
		const Stage *st = &s->stages[k];
		jump *= st->step;
		double per_frame = stride_rt_op_flops(st->op, st->step, 1);
		for (int i = 0; i < st->per_frame_count; i++)
			per_frame += stride_rt_op_flops(&s->ops[st->per_frame_first + i], 1, 1);
		per_sample += per_frame / jump;
	}
	return per_sample + stride_rt_chain_flops(&s->head) / s->hop;
}

/* The output of one window: c_out x t_out values per decision. */
static int output_shape(StrideStream *s, const StrideNet *net, char *err)
{
	char why[STRIDE_ERR_LEN] = "";
	if (stride_net_output_shape(net, s->window, &s->c_out, &s->t_out, why) < 0) {
		stride_set_err(err, "stream: window %d does not fit the network: %s", s->window, why);
		return -1;
	}
	if ((long long)s->c_out * s->t_out > 0x7fffffffLL) {
		stride_set_err(err, "stream: output of %d x %d is too large", s->c_out, s->t_out);
		return -1;
	}
	s->out_size = s->c_out * s->t_out;
	return 0;
}

/* Every layer, with the shapes it sees on one window; (*c_local, *t_local)
 * those after the n_local local layers. */
static int init_ops(StrideStream *s, StrideNet *net, int n_local, int *c_local, int *t_local,
                    char *err)
{
	char why[STRIDE_ERR_LEN] = "";
	s->ops = calloc((size_t)s->n_ops, sizeof *s->ops);
	if (!s->ops) {
		stride_set_err(err, "stream: out of memory");
		return -1;
	}
	int c = s->in_channels, t = s->window;
	*c_local = c;
	*t_local = t;
	for (int i = 0; i < s->n_ops; i++) {
		const int c_in = c, t_in = t;
		if (stride_net_layer_shape(net, i, s->window, &c, &t, why) < 0) {
			stride_set_err(err, "stream: %s", why);
			return -1;
		}
		if (stride_rt_op_init(&s->ops[i], net, i, c_in, t_in, c, s->isa, why) < 0) {
			stride_set_err(err, "stream: layer %d: %s", i, why);
			return -1;
		}
		if (i == n_local - 1) {
			*c_local = c;
			*t_local = t;
		}
	}
	return 0;
}

StrideStream *stride_stream_new(const StrideModel *model, char err[STRIDE_ERR_LEN])
{
	if (!model || !model->net) {
		stride_set_err(err, "stream: no model");
		return NULL;
	}
	if (model->window < 1 || model->hop < 1) {
		stride_set_err(err, "stream: window %d and hop %d must be at least 1", model->window,
		               model->hop);
		return NULL;
	}
	if (!isfinite(model->input_gain)) {
		stride_set_err(err, "stream: input_gain is not finite");
		return NULL;
	}
	StrideNet *net = stride_net_fold_batchnorm(model->net, err);
	if (!net)
		return NULL;
	StrideStream *s = calloc(1, sizeof *s);
	if (!s) {
		stride_set_err(err, "stream: out of memory");
		stride_net_free(net);
		return NULL;
	}
	s->window = model->window;
	s->hop = model->hop;
	s->due = s->window;
	s->gain = model->input_gain;
	s->in_channels = stride_net_in_channels(net);
	s->isa = stride_rt_detect_isa();
	s->chunk = CHUNK_FLOATS / s->in_channels;
	if (s->chunk > CHUNK_SAMPLES)
		s->chunk = CHUNK_SAMPLES;
	if (s->chunk < 1)
		s->chunk = 1;

	char why[STRIDE_ERR_LEN] = "";
	if (output_shape(s, net, err) < 0)
		goto fail;

	/* the local layers, their total stride, and whether they stream */
	s->n_ops = stride_net_n_layers(net);
	const StrideLocalGeometry local = stride_net_local_geometry(net);
	const int n_local = local.n_local;
	const long long jump = local.jump;
	s->incremental = !local.padded && s->hop % jump == 0;

	int c_local, t_local;
	if (init_ops(s, net, n_local, &c_local, &t_local, err) < 0)
		goto fail;

	if (s->incremental) {
		s->n_local = n_local;
		s->frames = t_local;
		s->advance = (int)(s->hop / jump);
	} else {
		s->n_local = 0;
		c_local = s->in_channels;
		s->frames = s->window;
		s->advance = s->hop;
	}
	if (build_stages(s, err) < 0)
		goto fail;
	if (stride_rt_chain_init(&s->head, s->ops + s->n_local, s->n_ops - s->n_local, c_local,
	                         s->frames, why) < 0) {
		stride_set_err(err, "stream: %s", why);
		goto fail;
	}
	if (s->head.c_out != s->c_out || s->head.t_out != s->t_out) {
		stride_set_err(err, "stream: output %d x %d, the network says %d x %d", s->head.c_out,
		               s->head.t_out, s->c_out, s->t_out);
		goto fail;
	}
	s->flops_per_sample = cost_per_sample(s);
	stride_net_free(net);
	return s;
fail:
	stride_net_free(net);
	stride_stream_free(s);
	return NULL;
}

void stride_stream_reset(StrideStream *s)
{
	if (!s)
		return;
	for (int i = 0; i <= s->n_stages; i++)
		fifo_clear(&s->fifo[i]);
	s->pushed = 0;
	s->due = s->window;
}

/* ------------------------------------------------------------------------ */
/* The audio thread                                                         */
/* ------------------------------------------------------------------------ */

/* m input frames into fifo[0], frame-major: gain, and 0 for anything not a
 * normal finite number (NaN, infinities, denormals never enter the history). */
static void feed(StrideStream *s, const float *in, int stride_in, int m)
{
	Fifo *f = &s->fifo[0];
	float *dst = fifo_room(f, m);
	stride_rt_planar_to_frames(s->isa, in, stride_in, s->in_channels, m, s->gain, dst);
	for (int i = 0; i < s->in_count; i++)
		stride_rt_op_per_frame(&s->ops[s->in_first + i], dst, dst, m);
	fifo_appended(f, m);
}

static void run_stages(StrideStream *s)
{
	for (int k = 0; k < s->n_stages; k++) {
		const Stage *st = &s->stages[k];
		Fifo *src = &s->fifo[k], *dst = &s->fifo[k + 1];
		if (src->len < st->span)
			continue;
		const int n = st->step == 1 ? src->len - st->span + 1
		                            : (src->len - st->span) / st->step + 1;
		float *y = fifo_room(dst, n);
		stride_rt_op_frames(st->op, fifo_frames(src), y, n);
		for (int i = 0; i < st->per_frame_count; i++)
			stride_rt_op_per_frame(&s->ops[st->per_frame_first + i], y, y, n);
		fifo_appended(dst, n);
		fifo_consume(src, (long long)n * st->step);
	}
}

/* Every decision due by now: the head over the last FIFO's oldest frames. */
static int emit_due_decisions(StrideStream *s, float *out, int max_out, int written)
{
	Fifo *f = &s->fifo[s->n_stages];
	while (s->due <= s->pushed && f->len >= s->frames) {
		if (out && written < max_out) {
			const float *y = s->head.n_ops ? stride_rt_chain_run(&s->head, fifo_frames(f))
			                               : fifo_frames(f);
			float *o = out + (size_t)written * s->out_size;
			if (s->t_out == 1) {
				memcpy(o, y, (size_t)s->c_out * sizeof(float));
			} else {
				/* frame-major to the batch layout (c, t) */
				for (int t = 0; t < s->t_out; t++)
					for (int c = 0; c < s->c_out; c++)
						o[(size_t)c * s->t_out + t] = y[(size_t)t * s->c_out + c];
			}
			written++;
		}
		s->due += s->hop;
		fifo_consume(f, s->advance);
	}
	return written;
}

int stride_stream_push(StrideStream *s, const float *in, int stride_in, int n, float *out,
                       int max_out)
{
	if (!s || !in || n <= 0 || stride_in < n)
		return 0;
	/* a decaying history must not slow the audio thread down */
	const StrideFpMode fp = stride_denormals_off();
	int written = 0;
	for (int done = 0; done < n;) {
		const int m = n - done < s->chunk ? n - done : s->chunk;
		feed(s, in + done, stride_in, m);
		run_stages(s);
		s->pushed += m;
		written = emit_due_decisions(s, out, max_out, written);
		done += m;
	}
	stride_denormals_restore(fp);
	return written;
}

int stride_stream_in_channels(const StrideStream *s)
{
	return s->in_channels;
}

int stride_stream_out_size(const StrideStream *s)
{
	return s->out_size;
}

int stride_stream_window(const StrideStream *s)
{
	return s->window;
}

int stride_stream_hop(const StrideStream *s)
{
	return s->hop;
}

bool stride_stream_incremental(const StrideStream *s)
{
	return s->incremental;
}

double stride_stream_flops_per_second(const StrideStream *s, int sample_rate)
{
	return s->flops_per_sample * sample_rate;
}
