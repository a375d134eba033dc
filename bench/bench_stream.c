/* bench_stream: how fast the streaming engine runs on the audio thread.
 *
 * 1. Streaming conv1d, in = out = N channels, kernel 3, through the public
 *    stream API (a one-layer model whose every frame is a decision), at one
 *    sample per call and in blocks of 64 and 256 samples; and the bare kernel
 *    (stride_rt_conv_run) on one frame and on 256 frames. GFLOP/s count
 *    2 * N * N * 3 per output frame. Next to them: RTNeural's run-time API at
 *    the same shapes, as quoted in bench/README.md (Reference figures; it is
 *    not measured here), and single-thread cblas_sgemm at 64x256x192 measured in this run,
 *    the machine's practical ceiling.
 * 2. The typical gate model (conv 1->16 k64 s16, relu, maxpool, two conv k3,
 *    global average, dense, softmax; 200 ms window, 10 ms hop at 16 kHz) in %
 *    of one core, incremental and windowed.
 *
 *   bench_stream [--quick]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_kernels.h"
#include "stride.h"

static double min_time = 0.25; /* seconds of repetitions per figure */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xmalloc(size_t bytes)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, bytes ? bytes : 1) != 0) {
		fprintf(stderr, "bench_stream: out of memory\n");
		exit(1);
	}
	return p;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "bench_stream: %s: %s\n", what, err);
	exit(1);
}

/* Values in [-1, 1): the numbers do not matter, denormals would. */
static void fill_random(float *v, size_t count, unsigned long long seed)
{
	unsigned long long s = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < count; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		v[i] = (float)((double)(s >> 40) / (double)(1u << 23)) - 1.0f;
	}
}

/* Best seconds per call of fn over repetitions lasting min_time. */
static double best_time(void (*fn)(void *), void *ctx)
{
	fn(ctx);
	double best = 1e30;
	const double start = now_seconds();
	int reps = 0;
	do {
		const double t0 = now_seconds();
		fn(ctx);
		const double t = now_seconds() - t0;
		if (t < best)
			best = t;
		reps++;
	} while (reps < 3 || now_seconds() - start < min_time);
	return best;
}

/* ---------------------------------------------------------------------- */

typedef struct {
	int m, n, k;
	float *a, *b, *c;
} Sgemm;

static void run_sgemm(void *ctx)
{
	Sgemm *s = ctx;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->m, s->n, s->k, 1.0f, s->a, s->k,
	            s->b, s->n, 0.0f, s->c, s->n);
}

static double sgemm_rate(int m, int n, int k)
{
	Sgemm s = { m, n, k, xmalloc((size_t)m * k * 4), xmalloc((size_t)k * n * 4),
		    xmalloc((size_t)m * n * 4) };
	fill_random(s.a, (size_t)m * k, 1);
	fill_random(s.b, (size_t)k * n, 2);
	const double t = best_time(run_sgemm, &s);
	free(s.a);
	free(s.b);
	free(s.c);
	return 2.0 * m * n * k / t * 1e-9;
}

/* ---------------------------------------------------------------------- */

typedef struct {
	StrideStream *s;
	const float *x;
	int len, block, channels;
	float *out;
} PushRun;

static void run_push(void *ctx)
{
	PushRun *r = ctx;
	const int hop = stride_stream_hop(r->s);
	for (int done = 0; done + r->block <= r->len; done += r->block)
		stride_stream_push(r->s, r->x + done, r->len, r->block, r->out, r->block / hop + 1);
}

static StrideModel *model_of(const StrideLayerSpec *specs, int n, int window, int hop)
{
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(specs, n, err);
	if (!net)
		die("network", err);
	stride_net_init_params(net, 3);
	int c, t;
	if (stride_net_output_shape(net, stride_net_receptive_field(net), &c, &t, err) < 0)
		die("network", err);
	static char names[256][16];
	const char *labels[256];
	for (int i = 0; i < c && i < 256; i++) {
		snprintf(names[i], sizeof names[i], "l%d", i);
		labels[i] = names[i];
	}
	StrideModel *m = stride_model_new(net, STRIDE_TASK_GATE, 16000, labels, c, err);
	if (!m)
		die("model", err);
	if (window)
		m->window = window;
	if (hop)
		m->hop = hop;
	return m;
}

/* Seconds to push len samples of x in blocks. */
static double push_seconds(StrideStream *s, const float *x, int len, int block)
{
	const int channels = stride_stream_in_channels(s);
	float *out = xmalloc(((size_t)block + 2) * stride_stream_out_size(s) * sizeof(float));
	PushRun r = { s, x, len, block, channels, out };
	const double t = best_time(run_push, &r);
	free(out);
	return t;
}

typedef struct {
	const StrideRtConv *cv;
	const float *x;
	float *y;
	int n, reps;
} KernelRun;

static void run_kernel(void *ctx)
{
	KernelRun *r = ctx;
	for (int i = 0; i < r->reps; i++)
		stride_rt_conv_run(r->cv, r->x, r->cv->c_in, r->y, r->cv->c_out, r->n);
}

/* GFLOP/s of the bare kernel making n frames per call. */
static double kernel_rate(int ch, int n, StrideRtIsa isa)
{
	float *w = xmalloc((size_t)ch * ch * 3 * 4), *b = xmalloc((size_t)ch * 4);
	float *x = xmalloc(((size_t)n + 2) * ch * 4), *y = xmalloc((size_t)n * ch * 4);
	fill_random(w, (size_t)ch * ch * 3, 5);
	fill_random(b, (size_t)ch, 6);
	fill_random(x, ((size_t)n + 2) * ch, 7);
	StrideRtConv cv;
	if (stride_rt_conv_init(&cv, ch, ch, 3, 1, 1, 1, w, b, isa) < 0)
		die("kernel", "out of memory");
	KernelRun r = { &cv, x, y, n, n == 1 ? 256 : 1 };
	const double t = best_time(run_kernel, &r);
	stride_rt_conv_free(&cv);
	free(w);
	free(b);
	free(x);
	free(y);
	return 2.0 * ch * ch * 3 * n * r.reps / t * 1e-9;
}

static void conv_table(void)
{
	static const int sizes[] = { 16, 32, 64, 128 };
	static const double rtneural[] = { 30, 44, 53, 44 };
	const StrideRtIsa isa = stride_rt_detect_isa();
	printf("streaming conv1d N->N, kernel 3 (GFLOP/s = 2*N*N*3 per frame; kernels: %s)\n",
	       stride_rt_isa_name(isa));
	printf("%5s %10s %10s %10s | %12s %12s | %18s\n", "N", "1/call", "64/call", "256/call",
	       "kernel 1 fr", "kernel 256", "RTNeural run-time*");
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		const int ch = sizes[i];
		StrideLayerSpec spec = stride_layer_spec_defaults(STRIDE_CONV1D);
		snprintf(spec.name, sizeof spec.name, "conv");
		spec.in = spec.out = ch;
		spec.kernel = 3;
		StrideModel *m = model_of(&spec, 1, 0, 0);
		char err[STRIDE_ERR_LEN];
		StrideStream *s = stride_stream_new(m, err);
		if (!s)
			die("stream", err);
		const int len = 4096;
		float *x = xmalloc((size_t)ch * len * sizeof(float));
		fill_random(x, (size_t)ch * len, 9);
		const double flops = 2.0 * ch * ch * 3 * (len - 2);
		double rate[3];
		const int blocks[3] = { 1, 64, 256 };
		for (int b = 0; b < 3; b++) {
			stride_stream_reset(s);
			rate[b] = flops / push_seconds(s, x, len, blocks[b]) * 1e-9;
		}
		printf("%5d %10.1f %10.1f %10.1f | %12.1f %12.1f | %18.0f\n", ch, rate[0], rate[1],
		       rate[2], kernel_rate(ch, 1, isa), kernel_rate(ch, 256, isa), rtneural[i]);
		free(x);
		stride_stream_free(s);
		stride_model_free(m);
	}
	printf("portable kernels (what a build without run-time dispatch would get), N=64: "
	       "1 frame %.1f, 256 frames %.1f GFLOP/s\n",
	       kernel_rate(64, 1, STRIDE_RT_PORTABLE), kernel_rate(64, 256, STRIDE_RT_PORTABLE));
	printf("* reference from bench/README.md (RTNeural, Eigen, AVX2 build, one sample per call); "
	       "not measured here\n");
}

static void gate_costs(void)
{
	static const struct {
		const char *label;
		int pool, hop;
	} variants[] = {
		{ "gate, maxpool 2, hop 160 (incremental)", 2, 160 },
		{ "gate, maxpool 4, hop 128 (incremental)", 4, 128 },
		{ "gate, maxpool 4, hop 160 (windowed: J=64 does not divide 160)", 4, 160 },
	};
	const int rate = 16000, seconds = 4, len = rate * seconds;
	float *x = xmalloc((size_t)len * sizeof(float));
	fill_random(x, (size_t)len, 11);
	for (int i = 0; i < len; i++)
		x[i] *= 0.3f;
	printf("\ntypical gate model at 16 kHz, window 3200: %% of one core (best of repetitions)\n");
	printf("%-62s %9s %9s %9s %12s\n", "model", "1/call", "64/call", "1024/call", "MFLOP/s");
	for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
		StrideLayerSpec specs[11];
		int n = 0;
		StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_CONV1D);
		snprintf(s.name, sizeof s.name, "c1");
		s.in = 1, s.out = 16, s.kernel = 64, s.stride = 16;
		specs[n++] = s;
		specs[n++] = stride_layer_spec_defaults(STRIDE_RELU);
		s = stride_layer_spec_defaults(STRIDE_MAXPOOL1D);
		s.kernel = variants[v].pool;
		specs[n++] = s;
		s = stride_layer_spec_defaults(STRIDE_CONV1D);
		snprintf(s.name, sizeof s.name, "c2");
		s.in = 16, s.out = 32, s.kernel = 3;
		specs[n++] = s;
		specs[n++] = stride_layer_spec_defaults(STRIDE_RELU);
		snprintf(s.name, sizeof s.name, "c3");
		s.in = 32, s.out = 32;
		specs[n++] = s;
		specs[n++] = stride_layer_spec_defaults(STRIDE_RELU);
		specs[n++] = stride_layer_spec_defaults(STRIDE_GLOBAL_AVGPOOL);
		s = stride_layer_spec_defaults(STRIDE_DENSE);
		snprintf(s.name, sizeof s.name, "d1");
		s.in = 32, s.out = 2;
		specs[n++] = s;
		specs[n++] = stride_layer_spec_defaults(STRIDE_SOFTMAX);
		StrideModel *m = model_of(specs, n, 3200, variants[v].hop);
		char err[STRIDE_ERR_LEN];
		StrideStream *st = stride_stream_new(m, err);
		if (!st)
			die("gate stream", err);
		const int blocks[3] = { 1, 64, 1024 };
		double pct[3];
		for (int b = 0; b < 3; b++) {
			stride_stream_reset(st);
			pct[b] = 100.0 * push_seconds(st, x, len - len % blocks[b], blocks[b]) / seconds;
		}
		printf("%-62s %8.3f%% %8.3f%% %8.3f%% %12.2f\n", variants[v].label, pct[0], pct[1],
		       pct[2], stride_stream_flops_per_second(st, rate) * 1e-6);
		stride_stream_free(st);
		stride_model_free(m);
	}
	free(x);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			min_time = 0.03;
		} else {
			fprintf(stderr, "usage: bench_stream [--quick]\n");
			return 2;
		}
	}
	openblas_set_num_threads(1);
	conv_table();
	printf("same-run single-thread cblas_sgemm 64x256x192: %.1f GFLOP/s\n",
	       sgemm_rate(64, 256, 192));
	gate_costs();
	return 0;
}
