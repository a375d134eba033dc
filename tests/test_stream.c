/* The streaming engine against the batch forward.
 *
 * Truth is stride_net_forward (inference) on each decision's window, cut out
 * of the same signal: every decision the stream makes must equal it (relative
 * error max|a - b| / max(max|b|, 1e-3) <= 1e-5), for many models (incremental
 * and windowed), under every way of cutting the signal into pushes, with the
 * AVX2 and the portable kernels. Also: the kernels against a convolution
 * written from the definition (including that partial panels never write
 * past their outputs), decisions appearing exactly when their last sample is
 * pushed, reset, NaN and infinities, denormals, the geometry and cost against
 * hand-computed values, and that a push never allocates and never calls BLAS. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cblas.h>
#include <dlfcn.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#include "rt_kernels.h"
#include "stride.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* Counting allocations and BLAS calls                                      */
/* ------------------------------------------------------------------------ */

static volatile int counting;
static volatile long allocs;
static volatile long blas_calls;

#ifdef STRIDE_SANITIZED
/* ASan owns malloc; it calls these hooks on every allocation. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void malloc_hook(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	if (counting)
		allocs++;
}

static void free_hook(const volatile void *p)
{
	(void)p;
	if (counting)
		allocs++;
}

static void install_counting(void)
{
	__sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook);
}
#else
/* glibc's allocator under its internal names: these wrappers replace malloc
 * and friends for the whole program and count while `counting` is set. */
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

void *malloc(size_t n)
{
	if (counting)
		allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (counting)
		allocs++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (counting)
		allocs++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (counting && p)
		allocs++;
	__libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (counting)
		allocs++;
	if (align < sizeof(void *) || (align & (align - 1)))
		return 22; /* EINVAL */
	void *p = __libc_memalign(align, n);
	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
	if (counting)
		allocs++;
	return __libc_memalign(align, n);
}

static void install_counting(void)
{
}
#endif

/* Every sgemm of the library goes through here (the static library's calls
 * bind to this definition), then on to OpenBLAS. */
void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER order, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                 OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint m,
                 OPENBLAS_CONST blasint n, OPENBLAS_CONST blasint k, OPENBLAS_CONST float alpha,
                 OPENBLAS_CONST float *a, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *b,
                 OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float *c,
                 OPENBLAS_CONST blasint ldc)
{
	typedef void (*Fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint,
	                   blasint, blasint, float, const float *, blasint, const float *, blasint,
	                   float, float *, blasint);
	static Fn real;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "cblas_sgemm");
	blas_calls++;
	real(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static bool under_valgrind(void)
{
	const char *v = getenv("STRIDE_UNDER_VALGRIND");
	return v && *v == '1';
}

static uint64_t rng_state = 1;

static double urand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

static StrideLayerSpec conv(const char *name, int in, int out, int kernel, int stride,
                            int dilation, int padding, int groups)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s.name, sizeof s.name, "%s", name);
	s.in = in;
	s.out = out;
	s.kernel = kernel;
	s.stride = stride;
	s.dilation = dilation;
	s.padding = padding;
	s.groups = groups;
	return s;
}

static StrideLayerSpec conv_nobias(const char *name, int in, int out, int kernel)
{
	StrideLayerSpec s = conv(name, in, out, kernel, 1, 1, 0, 1);
	s.bias = false;
	return s;
}

static StrideLayerSpec pool(StrideLayerType type, int kernel, int stride, int padding)
{
	StrideLayerSpec s = stride_layer_spec_defaults(type);
	s.kernel = kernel;
	s.stride = stride;
	s.padding = padding;
	return s;
}

static StrideLayerSpec layer(StrideLayerType type)
{
	return stride_layer_spec_defaults(type);
}

static StrideLayerSpec leaky(float slope)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_LEAKY_RELU);
	s.slope = slope;
	return s;
}

static StrideLayerSpec bn(const char *name, int channels)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_BATCHNORM1D);
	snprintf(s.name, sizeof s.name, "%s", name);
	s.channels = channels;
	return s;
}

static StrideLayerSpec dense(const char *name, int in, int out)
{
	StrideLayerSpec s = stride_layer_spec_defaults(STRIDE_DENSE);
	snprintf(s.name, sizeof s.name, "%s", name);
	s.in = in;
	s.out = out;
	return s;
}

/* A model around a freshly initialised net with random batchnorm statistics;
 * window and hop 0 keep stride_model_new's (receptive field, total stride). */
static StrideModel *make_model(const StrideLayerSpec *specs, int n, uint64_t seed, int window,
                               int hop, float gain)
{
	char err[STRIDE_ERR_LEN] = "";
	StrideNet *net = stride_net_new(specs, n, err);
	if (!net)
		fail_msg("stride_net_new: %s", err);
	stride_net_init_params(net, seed);
	rng_state = seed * 2654435761u + 7;
	for (int i = 0; i < stride_net_n_tensors(net); i++) {
		StrideTensor t = stride_net_tensor(net, i);
		const char *dot = strrchr(t.name, '.');
		const StrideLayerSpec *owner = NULL;
		for (int l = 0; l < n; l++)
			if (specs[l].type == STRIDE_BATCHNORM1D &&
			    strncmp(t.name, specs[l].name, (size_t)(dot - t.name)) == 0 &&
			    strlen(specs[l].name) == (size_t)(dot - t.name))
				owner = &specs[l];
		if (!owner)
			continue;
		for (size_t k = 0; k < t.size; k++) {
			if (strcmp(dot, ".running_mean") == 0)
				t.data[k] = (float)(urand() - 0.5);
			else if (strcmp(dot, ".running_var") == 0)
				t.data[k] = (float)(0.5 + 1.5 * urand());
			else if (strcmp(dot, ".weight") == 0)
				t.data[k] = (float)(0.5 + urand());
			else
				t.data[k] = (float)(urand() - 0.5);
		}
	}
	int c, t;
	const int rf = stride_net_receptive_field(net);
	if (stride_net_output_shape(net, window > 0 ? window : rf, &c, &t, err) < 0)
		fail_msg("output shape: %s", err);
	StrideModel *m;
	if (stride_net_output_shape(net, rf, &c, &t, NULL) < 0) {
		/* stride_model_new checks the network at its receptive field, which a
		 * dense layer reading several frames does not fit: fill one by hand, as
		 * a loader would */
		m = calloc(1, sizeof *m);
		assert_non_null(m);
		m->net = net;
		m->task = STRIDE_TASK_CLASSIFY;
		m->sample_rate = 16000;
	} else {
		char names[64][16];
		const char *labels[64];
		assert_true(c <= 64);
		for (int i = 0; i < c; i++) {
			snprintf(names[i], sizeof names[i], "l%d", i);
			labels[i] = names[i];
		}
		m = stride_model_new(net, STRIDE_TASK_GATE, 16000, labels, c, err);
		if (!m)
			fail_msg("stride_model_new: %s", err);
	}
	m->window = window > 0 ? window : rf;
	m->hop = hop > 0 ? hop : stride_net_total_stride(net);
	m->input_gain = gain;
	return m;
}

/* A test signal, planar (channels x len): noise, a chirp and some silence. */
static float *make_signal(int channels, int len, uint64_t seed)
{
	float *x = malloc((size_t)channels * len * sizeof *x);
	assert_non_null(x);
	rng_state = seed * 0x9E3779B97F4A7C15u + 3;
	for (int c = 0; c < channels; c++)
		for (int i = 0; i < len; i++) {
			const double ph = 0.0002 * i * i / (1.0 + 0.001 * i) + c;
			double v = 0.3 * sin(ph) + 0.5 * (urand() - 0.5);
			if ((i / 1000) % 5 == 3)
				v *= 0.001;
			x[(size_t)c * len + i] = (float)v;
		}
	return x;
}

/* max|a - b| / max(max|b|, 1e-3) */
static double rel_err(const float *a, const float *b, int n)
{
	double diff = 0.0, mag = 1e-3;
	for (int i = 0; i < n; i++) {
		const double d = fabs((double)a[i] - b[i]);
		if (!(d <= diff))
			diff = d;
		if (fabs(b[i]) > mag)
			mag = fabs(b[i]);
	}
	return diff / mag;
}

/* Decisions of the batch forward on each window [k*hop, k*hop + window). */
static float *reference(StrideModel *m, const float *x, int channels, int len, int *count)
{
	char err[STRIDE_ERR_LEN] = "";
	int c, t;
	assert_int_equal(stride_net_output_shape(m->net, m->window, &c, &t, err), 0);
	const int out_size = c * t;
	const int n = len >= m->window ? (len - m->window) / m->hop + 1 : 0;
	float *ref = malloc(((size_t)n * out_size + 1) * sizeof *ref);
	float *win = malloc((size_t)channels * m->window * sizeof *win);
	assert_non_null(ref);
	assert_non_null(win);
	for (int k = 0; k < n; k++) {
		for (int ch = 0; ch < channels; ch++)
			for (int i = 0; i < m->window; i++)
				win[(size_t)ch * m->window + i] =
				        x[(size_t)ch * len + (size_t)k * m->hop + i] * m->input_gain;
		const float *y;
		int c2, t2;
		if (stride_net_forward(m->net, win, 1, m->window, false, &y, &c2, &t2, err) < 0)
			fail_msg("forward: %s", err);
		assert_int_equal(c2 * t2, out_size);
		memcpy(ref + (size_t)k * out_size, y, (size_t)out_size * sizeof *y);
	}
	free(win);
	*count = n;
	return ref;
}

typedef enum { PUSH_ONE, PUSH_RANDOM, PUSH_64, PUSH_8192, PUSH_ALL, N_PUSH_MODES } PushMode;
static const char *const push_names[] = { "1", "random", "64", "8192", "all" };

/* The stream's decisions for the whole signal; at[d] is the number of samples
 * pushed when decision d came out. */
static float *stream_run(StrideStream *s, const float *x, int len, PushMode mode, uint64_t seed,
                         int *count, long *at)
{
	const int out_size = stride_stream_out_size(s);
	const int hop = stride_stream_hop(s);
	const int most = len / hop + 2;
	float *out = malloc(((size_t)most * out_size + 1) * sizeof *out);
	assert_non_null(out);
	rng_state = seed + 11;
	int got = 0;
	for (int done = 0; done < len;) {
		int n;
		switch (mode) {
		case PUSH_ONE:
			n = 1;
			break;
		case PUSH_RANDOM:
			n = urand() < 0.1 ? 0 : 1 + (int)(urand() * urand() * 1500);
			break;
		case PUSH_64:
			n = 64;
			break;
		case PUSH_8192:
			n = 8192;
			break;
		default:
			n = len;
			break;
		}
		if (n > len - done)
			n = len - done;
		const int room = most - got;
		const int w = stride_stream_push(s, x + done, len, n, out + (size_t)got * out_size,
		                                 n / hop + 1 < room ? n / hop + 1 : room);
		assert_true(w >= 0 && w <= n / hop + 1);
		done += n;
		for (int d = 0; d < w; d++)
			if (at)
				at[got + d] = done;
		got += w;
	}
	*count = got;
	return out;
}

/* ------------------------------------------------------------------------ */
/* The models                                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
	const char *name;
	StrideLayerSpec specs[16];
	int n;
	int window, hop; /* 0: the defaults (receptive field, total stride) */
	float gain;
	bool incremental;
} Case;

#define N_CASES 17
static Case cases[N_CASES];

static void setup_cases(void)
{
	int i = 0;
	Case *c;

	/* the gate's front end: J = 32 divides the 10 ms hop */
	c = &cases[i++];
	*c = (Case){ .name = "gate", .window = 3200, .hop = 160, .gain = 1.0f, .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 16, 64, 16, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = pool(STRIDE_MAXPOOL1D, 2, 0, 0);
	c->specs[c->n++] = conv_nobias("c2", 16, 32, 3);
	c->specs[c->n++] = bn("b2", 32);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c3", 32, 32, 3, 1, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 32, 2);
	c->specs[c->n++] = layer(STRIDE_SOFTMAX);

	/* the same with maxpool 4: J = 64 does not divide 160, so windowed */
	c = &cases[i++];
	*c = cases[0];
	c->name = "gate-hop-not-multiple";
	c->specs[2] = pool(STRIDE_MAXPOOL1D, 4, 0, 0);
	c->incremental = false;

	/* per-frame outputs: window = receptive field, hop = total stride */
	c = &cases[i++];
	*c = (Case){ .name = "per-frame", .gain = 1.0f, .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 8, 5, 1, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_TANH);
	c->specs[c->n++] = conv("c2", 8, 4, 3, 2, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_SIGMOID);

	/* per-frame with a longer window: several frames per decision */
	c = &cases[i++];
	*c = cases[2];
	c->name = "per-frame-long-window";
	c->window = 40;
	c->hop = 6;

	/* dilation and avgpool, leaky relu, gain */
	c = &cases[i++];
	*c = (Case){ .name = "dilation-avgpool", .window = 600, .hop = 48, .gain = 2.5f,
		     .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 8, 3, 2, 2, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = pool(STRIDE_AVGPOOL1D, 3, 3, 0);
	c->specs[c->n++] = conv("c2", 8, 8, 3, 1, 4, 0, 1);
	c->specs[c->n++] = leaky(0.1f);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 8, 3);
	c->specs[c->n++] = layer(STRIDE_SOFTMAX);

	/* global max pool, a stride larger than the kernel (frames skipped) */
	c = &cases[i++];
	*c = (Case){ .name = "global-max-skip", .window = 500, .hop = 35, .gain = 1.0f,
		     .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 12, 3, 7, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c2", 12, 12, 5, 1, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_MAXPOOL);
	c->specs[c->n++] = dense("d1", 12, 4);

	/* groups, and a depthwise conv */
	c = &cases[i++];
	*c = (Case){ .name = "groups", .window = 400, .hop = 20, .gain = 1.0f, .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 8, 5, 2, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c2", 8, 16, 3, 1, 1, 0, 2);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c3", 16, 16, 3, 1, 2, 0, 16);
	c->specs[c->n++] = conv("c4", 16, 32, 1, 1, 1, 0, 16);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 32, 2);

	/* a head of several dense layers after the global pool */
	c = &cases[i++];
	*c = (Case){ .name = "dense-head", .window = 1000, .hop = 100, .gain = 1.0f,
		     .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 24, 20, 10, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c2", 24, 40, 3, 1, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_TANH);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 40, 20);
	c->specs[c->n++] = bn("bd", 20);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = dense("d2", 20, 5);
	c->specs[c->n++] = layer(STRIDE_SOFTMAX);

	/* padding: windowed */
	c = &cases[i++];
	*c = (Case){ .name = "padding", .window = 300, .hop = 30, .gain = 1.0f,
		     .incremental = false };
	c->specs[c->n++] = conv("c1", 1, 8, 5, 2, 1, 2, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = pool(STRIDE_MAXPOOL1D, 3, 2, 1);
	c->specs[c->n++] = conv("c2", 8, 8, 3, 1, 1, 1, 1);
	c->specs[c->n++] = pool(STRIDE_AVGPOOL1D, 2, 2, 1);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 8, 3);

	/* two input channels, batchnorm on the input and after an activation */
	c = &cases[i++];
	*c = (Case){ .name = "stereo", .window = 256, .hop = 16, .gain = 0.7f, .incremental = true };
	c->specs[c->n++] = bn("b0", 2);
	c->specs[c->n++] = conv("c1", 2, 8, 4, 2, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = bn("b1", 8);
	c->specs[c->n++] = conv("c2", 8, 8, 3, 2, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 8, 2);

	/* dense straight after the local layers: it reads the whole (c, F) block */
	c = &cases[i++];
	*c = (Case){ .name = "flatten-dense", .window = 64, .hop = 8, .gain = 1.0f,
		     .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 4, 8, 4, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = dense("d1", 4 * 15, 3);
	c->specs[c->n++] = layer(STRIDE_SIGMOID);

	/* wide layers: every kernel shape (partial panels, 1..5 panels) */
	c = &cases[i++];
	*c = (Case){ .name = "wide", .window = 300, .hop = 4, .gain = 1.0f, .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 40, 8, 2, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c2", 40, 64, 3, 1, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c3", 64, 72, 3, 1, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c4", 72, 24, 3, 2, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 24, 6);

	/* a hop longer than the window: samples between windows are skipped */
	c = &cases[i++];
	*c = (Case){ .name = "sparse-hop", .window = 100, .hop = 150, .gain = 1.0f,
		     .incremental = true };
	c->specs[c->n++] = conv("c1", 1, 6, 10, 5, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_MAXPOOL);
	c->specs[c->n++] = dense("d1", 6, 2);

	/* the same hop, windowed through padding */
	c = &cases[i++];
	*c = cases[i - 2];
	c->name = "sparse-hop-windowed";
	c->specs[0].padding = 1;
	c->incremental = false;

	/* ten input channels: whole and partial groups of 8 in the input transpose */
	c = &cases[i++];
	*c = (Case){ .name = "ten-inputs", .window = 120, .hop = 10, .gain = 1.5f,
		     .incremental = true };
	c->specs[c->n++] = conv("c1", 10, 16, 3, 2, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = conv("c2", 16, 8, 5, 1, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_SOFTMAX); /* per frame, over channels */
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 8, 3);

	/* no local layers at all: dense on each sample's 4 channels */
	c = &cases[i++];
	*c = (Case){ .name = "dense-only", .gain = 1.0f, .incremental = true };
	c->specs[c->n++] = dense("d1", 4, 6);
	c->specs[c->n++] = layer(STRIDE_TANH);
	c->specs[c->n++] = dense("d2", 6, 2);

	/* the gate's log-energy front end: a bias-free strided conv, rectified,
	 * averaged and compressed by ln(x + eps), then batchnorm */
	c = &cases[i++];
	*c = (Case){ .name = "log-energy", .window = 400, .hop = 16, .gain = 0.01f,
		     .incremental = true };
	c->specs[c->n] = conv("c1", 1, 6, 16, 8, 1, 0, 1);
	c->specs[c->n++].bias = false;
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = pool(STRIDE_AVGPOOL1D, 2, 2, 0);
	c->specs[c->n] = layer(STRIDE_LOG);
	c->specs[c->n++].eps = 1e-4f;
	c->specs[c->n++] = bn("bn1", 6);
	c->specs[c->n++] = conv("c2", 6, 8, 3, 1, 1, 0, 1);
	c->specs[c->n++] = layer(STRIDE_RELU);
	c->specs[c->n++] = layer(STRIDE_GLOBAL_AVGPOOL);
	c->specs[c->n++] = dense("d1", 8, 2);
	c->specs[c->n++] = layer(STRIDE_SOFTMAX);

	assert_int_equal(i, N_CASES);
}

static StrideModel *case_model(const Case *c, uint64_t seed)
{
	return make_model(c->specs, c->n, seed, c->window, c->hop, c->gain);
}

/* Signal length: the window and enough hops, shorter under valgrind. */
static int case_len(const StrideModel *m)
{
	const int hops = under_valgrind() ? 12 : 40;
	return m->window + hops * m->hop + m->hop / 2 + 3;
}

/* ------------------------------------------------------------------------ */
/* Kernels against the definition                                          */
/* ------------------------------------------------------------------------ */

static void check_kernel(int c_in, int c_out, int k, int s, int d, int groups, int n, int ldx,
                         int ldy, StrideRtIsa isa)
{
	const int cg = c_in / groups, og = c_out / groups;
	const int frames = (n - 1) * s + (k - 1) * d + 1;
	const size_t wsize = (size_t)c_out * cg * k;
	float *w = malloc(wsize * sizeof *w), *b = malloc((size_t)c_out * sizeof *b);
	/* exactly as long as the kernel may read, so ASan catches overreads */
	const size_t xsize = (size_t)(frames - 1) * ldx + c_in;
	float *x = malloc(xsize * sizeof *x);
	const size_t ysize = (size_t)(n - 1) * ldy + c_out + 8;
	float *y = malloc(ysize * sizeof *y);
	assert_true(w && b && x && y);
	for (size_t i = 0; i < wsize; i++)
		w[i] = (float)(urand() - 0.5);
	for (int i = 0; i < c_out; i++)
		b[i] = (float)(urand() - 0.5);
	for (size_t i = 0; i < xsize; i++)
		x[i] = (float)(urand() - 0.5);
	for (size_t i = 0; i < ysize; i++)
		y[i] = 1234.5f; /* sentinel */
	StrideRtConv cv;
	assert_int_equal(stride_rt_conv_init(&cv, c_in, c_out, k, s, d, groups, w, b, isa), 0);
	stride_rt_conv_run(&cv, x, ldx, y, ldy, n);
	for (int j = 0; j < n; j++) {
		for (int o = 0; o < c_out; o++) {
			double acc = b[o], mag = fabs(b[o]);
			const int grp = o / og;
			for (int c = 0; c < cg; c++)
				for (int t = 0; t < k; t++) {
					const double p = (double)w[((size_t)o * cg + c) * k + t] *
					                 x[(size_t)(j * s + t * d) * ldx + grp * cg + c];
					acc += p;
					mag += fabs(p);
				}
			const float got = y[(size_t)j * ldy + o];
			if (!(fabs(got - acc) <= 1e-5 * mag + 1e-7))
				fail_msg("%s conv %d->%d k%d s%d d%d g%d n%d: y[%d][%d] = %g, want %g",
				         stride_rt_isa_name(isa), c_in, c_out, k, s, d, groups, n, j, o,
				         (double)got, acc);
		}
		/* nothing written past a frame's outputs (partial panels are masked) */
		const int end = j == n - 1 ? c_out + 8 : ldy;
		for (int o = c_out; o < end; o++)
			if (y[(size_t)j * ldy + o] != 1234.5f)
				fail_msg("%s conv %d->%d g%d n%d: wrote past the outputs of frame %d",
				         stride_rt_isa_name(isa), c_in, c_out, groups, n, j);
	}
	stride_rt_conv_free(&cv);
	free(w);
	free(b);
	free(x);
	free(y);
}

static void test_kernels(void **state)
{
	(void)state;
	static const int shapes[][6] = {
		/* c_in, c_out, kernel, stride, dilation, groups */
		{ 1, 16, 64, 16, 1, 1 }, { 1, 5, 3, 1, 1, 1 },  { 3, 17, 3, 1, 1, 1 },
		{ 16, 32, 3, 1, 1, 1 },  { 32, 48, 3, 2, 1, 1 }, { 64, 64, 3, 1, 1, 1 },
		{ 8, 72, 5, 1, 2, 1 },   { 64, 80, 1, 1, 1, 1 }, { 12, 24, 3, 1, 1, 3 },
		{ 16, 16, 3, 1, 2, 16 }, { 13, 13, 4, 2, 1, 13 }, { 8, 16, 3, 1, 1, 8 },
		{ 5, 7, 2, 3, 1, 1 },    { 7, 40, 4, 2, 3, 1 },  { 130, 2, 1, 1, 1, 1 },
		{ 6, 100, 3, 1, 1, 2 },  { 1, 33, 7, 1, 3, 1 },
	};
	static const int counts[] = { 1, 2, 3, 4, 5, 6, 7, 10, 11, 13, 24 };
	const int n_isa = stride_rt_detect_isa() == STRIDE_RT_AVX2 ? 2 : 1;
	rng_state = 99;
	for (int isa = 0; isa < n_isa; isa++)
		for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
			for (size_t j = 0; j < sizeof counts / sizeof counts[0]; j++) {
				const int *sh = shapes[i];
				const int pad = (int)(j % 3); /* ld larger than the channels too */
				check_kernel(sh[0], sh[1], sh[2], sh[3], sh[4], sh[5], counts[j],
				             sh[0] + pad, sh[1] + 2 * pad, (StrideRtIsa)isa);
			}
}

/* ------------------------------------------------------------------------ */
/* Decisions against the batch forward                                     */
/* ------------------------------------------------------------------------ */

static StrideStream *new_stream(const StrideModel *m, bool portable)
{
	char err[STRIDE_ERR_LEN] = "";
	if (portable)
		setenv("STRIDE_RT_ISA", "portable", 1);
	StrideStream *s = stride_stream_new(m, err);
	unsetenv("STRIDE_RT_ISA");
	if (!s)
		fail_msg("stride_stream_new: %s", err);
	return s;
}

static void check_case(const Case *c, bool portable)
{
	StrideModel *m = case_model(c, 17);
	const int channels = stride_net_in_channels(m->net);
	const int len = case_len(m);
	float *x = make_signal(channels, len, 5);
	int n_ref;
	float *ref = reference(m, x, channels, len, &n_ref);
	StrideStream *s = new_stream(m, portable);
	assert_int_equal(stride_stream_incremental(s), c->incremental);
	assert_int_equal(stride_stream_in_channels(s), channels);
	const int out_size = stride_stream_out_size(s);
	long *at = malloc(((size_t)len / m->hop + 2) * sizeof *at);
	for (int mode = 0; mode < N_PUSH_MODES; mode++) {
		stride_stream_reset(s);
		int n;
		float *got = stream_run(s, x, len, (PushMode)mode, 3, &n, at);
		if (n != n_ref)
			fail_msg("%s, pushes of %s: %d decisions, want %d", c->name, push_names[mode], n,
			         n_ref);
		for (int k = 0; k < n; k++) {
			const double e = rel_err(got + (size_t)k * out_size, ref + (size_t)k * out_size,
			                         out_size);
			if (!(e <= 1e-5))
				fail_msg("%s (%s kernels), pushes of %s: decision %d off by %g", c->name,
				         portable ? "portable" : "best", push_names[mode], k, e);
		}
		if (mode == PUSH_ONE) {
			/* each decision comes out with its window's last sample, not later or earlier */
			for (int k = 0; k < n; k++)
				if (at[k] != (long)k * m->hop + m->window)
					fail_msg("%s: decision %d came out after %ld samples, want %d", c->name, k,
					         at[k], k * m->hop + m->window);
		}
		free(got);
	}
	free(at);
	stride_stream_free(s);
	free(ref);
	free(x);
	stride_model_free(m);
}

static void test_cases_best(void **state)
{
	(void)state;
	for (int i = 0; i < N_CASES; i++)
		check_case(&cases[i], false);
}

static void test_cases_portable(void **state)
{
	(void)state;
	for (int i = 0; i < N_CASES; i++)
		check_case(&cases[i], true);
}

/* Decisions due once `pushed` samples are in. */
static int due_by(const StrideModel *m, int pushed)
{
	return pushed >= m->window ? (pushed - m->window) / m->hop + 1 : 0;
}

/* max_out smaller than the decisions due: the rest are dropped, the stream
 * goes on in step. */
static void test_max_out(void **state)
{
	(void)state;
	StrideModel *m = case_model(&cases[0], 3);
	const int len = case_len(m);
	float *x = make_signal(1, len, 8);
	int n_ref;
	float *ref = reference(m, x, 1, len, &n_ref);
	StrideStream *s = new_stream(m, false);
	float out[2 * 8];
	const int chunk = 4 * m->hop;
	int k = 0;
	for (int done = 0; done + chunk <= len; done += chunk) {
		const int before = due_by(m, done);
		const int due = due_by(m, done + chunk) - before;
		const int w = stride_stream_push(s, x + done, len, chunk, out, 1);
		assert_int_equal(w, due > 0 ? 1 : 0);
		if (w) {
			/* the first of the due decisions */
			assert_true(rel_err(out, ref + (size_t)before * 2, 2) <= 1e-5);
		}
		k += due;
	}
	assert_true(k > 10);
	assert_int_equal(stride_stream_push(s, x, len, 0, out, 8), 0);
	assert_int_equal(stride_stream_push(s, x, len, m->hop * 3, NULL, 0), 0);
	stride_stream_free(s);
	free(ref);
	free(x);
	stride_model_free(m);
}

/* ------------------------------------------------------------------------ */
/* Reset, NaN, denormals                                                    */
/* ------------------------------------------------------------------------ */

static void test_reset(void **state)
{
	(void)state;
	for (int i = 0; i < N_CASES; i++) {
		StrideModel *m = case_model(&cases[i], 21);
		const int ch = stride_net_in_channels(m->net);
		const int len = case_len(m);
		float *x = make_signal(ch, len, 1), *x2 = make_signal(ch, len, 2);
		StrideStream *fresh = new_stream(m, false), *used = new_stream(m, false);
		int n1, n2, n0;
		float *junk = stream_run(used, x2, len - 7, PUSH_RANDOM, 4, &n0, NULL);
		stride_stream_reset(used);
		float *a = stream_run(fresh, x, len, PUSH_RANDOM, 9, &n1, NULL);
		float *b = stream_run(used, x, len, PUSH_RANDOM, 9, &n2, NULL);
		assert_int_equal(n1, n2);
		assert_true(n1 > 0);
		assert_memory_equal(a, b, (size_t)n1 * stride_stream_out_size(fresh) * sizeof(float));
		free(junk);
		free(a);
		free(b);
		free(x);
		free(x2);
		stride_stream_free(fresh);
		stride_stream_free(used);
		stride_model_free(m);
	}
}

static void test_nonfinite(void **state)
{
	(void)state;
	for (int i = 0; i < N_CASES; i++) {
		StrideModel *m = case_model(&cases[i], 23);
		const int ch = stride_net_in_channels(m->net);
		/* sane, then a burst of NaN and infinities, then sane from a hop boundary */
		const int bad_from = m->window / 2 + 3, sane_from = (m->window / m->hop + 3) * m->hop;
		const int tail = case_len(m);
		const int len = sane_from + tail;
		float *x = make_signal(ch, len, 6);
		for (int c = 0; c < ch; c++)
			for (int k = bad_from; k < sane_from - 1; k++) {
				float *v = &x[(size_t)c * len + k];
				*v = k % 3 == 0 ? NAN : k % 3 == 1 ? INFINITY : -INFINITY;
			}
		float *sane = malloc((size_t)ch * tail * sizeof *sane);
		for (int c = 0; c < ch; c++)
			memcpy(sane + (size_t)c * tail, x + (size_t)c * len + sane_from,
			       (size_t)tail * sizeof *sane);
		StrideStream *s = new_stream(m, false), *fresh = new_stream(m, false);
		const int out_size = stride_stream_out_size(s);
		int n, nf;
		float *got = stream_run(s, x, len, PUSH_RANDOM, 5, &n, NULL);
		float *want = stream_run(fresh, sane, tail, PUSH_RANDOM, 6, &nf, NULL);
		for (int k = 0; k < n * out_size; k++)
			if (!isfinite(got[k]))
				fail_msg("%s: output %d is %g after non-finite input", cases[i].name, k,
				         (double)got[k]);
		/* decision k starts at k*hop: from sane_from on, all of its window is sane */
		const int first = sane_from / m->hop;
		assert_int_equal(n - first, nf);
		for (int k = first; k < n; k++) {
			const double e = rel_err(got + (size_t)k * out_size,
			                         want + (size_t)(k - first) * out_size, out_size);
			if (!(e <= 1e-5))
				fail_msg("%s: decision %d after the burst off by %g", cases[i].name, k, e);
		}
		free(got);
		free(want);
		free(sane);
		free(x);
		stride_stream_free(s);
		stride_stream_free(fresh);
		stride_model_free(m);
	}
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best time of a few runs of pushing x through s in blocks of 64. */
static double push_time(StrideStream *s, const float *x, int len)
{
	float out[64 * 64];
	double best = 1e30;
	for (int r = 0; r < 5; r++) {
		stride_stream_reset(s);
		const double t0 = now_seconds();
		for (int done = 0; done + 64 <= len; done += 64)
			stride_stream_push(s, x + done, len, 64, out, 64);
		const double t = now_seconds() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

static void test_denormals(void **state)
{
	(void)state;
	/* denormal input is silence */
	StrideModel *m = case_model(&cases[0], 31);
	const int len = case_len(m);
	float *tiny = malloc((size_t)len * sizeof *tiny), *zero = calloc((size_t)len, sizeof *zero);
	for (int i = 0; i < len; i++)
		tiny[i] = (i % 2 ? 1.0f : -1.0f) * FLT_MIN * (float)(0.001 + 0.5 * (i % 7) / 7.0);
	StrideStream *s = new_stream(m, false);
	int n1, n2;
	float *a = stream_run(s, tiny, len, PUSH_64, 1, &n1, NULL);
	stride_stream_reset(s);
	float *b = stream_run(s, zero, len, PUSH_64, 1, &n2, NULL);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, (size_t)n1 * stride_stream_out_size(s) * sizeof(float));
	free(a);
	free(b);
	stride_stream_free(s);
	stride_model_free(m);

	/* weights that make denormal activations from normal input: flushed to zero
	 * inside a push, the caller's floating-point mode left as it was */
	StrideLayerSpec specs[] = { conv("c1", 1, 16, 3, 1, 1, 0, 1),
		                    conv("c2", 16, 16, 3, 1, 1, 0, 1) };
	m = make_model(specs, 2, 5, 0, 0, 1.0f);
	for (int i = 0; i < stride_net_n_tensors(m->net); i++) {
		StrideTensor t = stride_net_tensor(m->net, i);
		for (size_t k = 0; k < t.size; k++)
			t.data[k] *= strstr(t.name, "weight") ? 1e-19f : 0.0f;
	}
	float *x = make_signal(1, len, 3);
	for (int i = 0; i < len; i++)
		x[i] *= 1e-2f;
	s = new_stream(m, false);
#ifdef HAVE_MXCSR
	const unsigned int csr = _mm_getcsr();
#endif
	int n;
	float *y = stream_run(s, x, len, PUSH_RANDOM, 2, &n, NULL);
#ifdef HAVE_MXCSR
	assert_int_equal(_mm_getcsr(), csr);
#endif
	assert_true(n > 0);
	/* valgrind does not emulate FTZ/DAZ, so this part only means something natively */
	for (int k = 0; k < n * 16 && !under_valgrind(); k++)
		if (y[k] != 0.0f && fabsf(y[k]) < FLT_MIN)
			fail_msg("output %d is denormal (%g)", k, (double)y[k]);
	free(y);

	/* and they cost no more time than normal numbers (not under valgrind,
	 * whose timing means nothing) */
	if (!under_valgrind()) {
		StrideModel *normal = make_model(specs, 2, 5, 0, 0, 1.0f);
		StrideStream *sn = new_stream(normal, false);
		float *big = make_signal(1, 16384, 4);
		float *small = malloc(16384 * sizeof *small);
		for (int i = 0; i < 16384; i++)
			small[i] = big[i] * 1e-2f;
		const double t_denormal = push_time(s, small, 16384);
		const double t_normal = push_time(sn, big, 16384);
		if (t_denormal > 3.0 * t_normal + 1e-4)
			fail_msg("denormal activations took %g s, normal ones %g s", t_denormal, t_normal);
		free(big);
		free(small);
		stride_stream_free(sn);
		stride_model_free(normal);
	}
	free(x);
	free(tiny);
	free(zero);
	stride_stream_free(s);
	stride_model_free(m);
}

/* ------------------------------------------------------------------------ */
/* Geometry and cost                                                        */
/* ------------------------------------------------------------------------ */

static void test_geometry_and_cost(void **state)
{
	(void)state;
	/* gate (maxpool 2): receptive field 64 + 1*16 + 2*32 + 2*32 = 208, J = 32,
	 * F = (3200 - 208) / 32 + 1 = 94 frames, hop 160 = 5 frames. Per input sample:
	 *   c1 (2*16*64 + 16) / 16 = 129, relu 16/16 = 1, maxpool 16*2/32 = 1,
	 *   c2 with b2 folded in (bias now) (2*32*16*3 + 32) / 32 = 97, relu 1,
	 *   c3 (2*32*32*3 + 32) / 32 = 193, relu 1,
	 *   head per decision: avgpool 94*32 + dense 2*32*2 + 2 + softmax 4*2 = 3146, / 160.
	 * Sum 423 + 19.6625 = 442.6625 per sample, x 16000. */
	StrideModel *m = case_model(&cases[0], 1);
	StrideStream *s = new_stream(m, false);
	assert_true(stride_stream_incremental(s));
	assert_int_equal(stride_stream_window(s), 3200);
	assert_int_equal(stride_stream_hop(s), 160);
	assert_int_equal(stride_stream_out_size(s), 2);
	assert_int_equal(stride_stream_in_channels(s), 1);
	assert_float_equal(stride_stream_flops_per_second(s, 16000), 442.6625 * 16000, 1e-3);
	assert_float_equal(stride_stream_flops_per_second(s, 8000), 442.6625 * 8000, 1e-3);
	stride_stream_free(s);
	stride_model_free(m);

	/* gate with maxpool 4, windowed: one full forward of 3200 samples per hop.
	 * c1 197 frames x 2064 = 406608; relu 197*16 = 3152; maxpool 49 x 16*4 = 3136;
	 * c2 47 x 3104 = 145888; relu 47*32 = 1504; c3 45 x 6176 = 277920; relu 1440;
	 * avgpool 45*32 = 1440; dense 130; softmax 8: 841226 per hop, 100 hops a second */
	m = case_model(&cases[1], 1);
	s = new_stream(m, false);
	assert_false(stride_stream_incremental(s));
	assert_int_equal(stride_stream_out_size(s), 2);
	assert_float_equal(stride_stream_flops_per_second(s, 16000), 84122600.0, 1e-2);
	char err[STRIDE_ERR_LEN];
	StrideNet *folded = stride_net_fold_batchnorm(m->net, err);
	assert_non_null(folded);
	assert_float_equal(stride_net_flops(folded, 3200), 841226.0, 1e-6);
	stride_net_free(folded);
	stride_stream_free(s);
	stride_model_free(m);

	/* per-frame: conv k5, tanh, conv k3 s2, sigmoid: rf 5 + 2 = 7, J = 2, one
	 * frame of 4 outputs per decision. Per sample: c1 (2*8*5 + 8) = 88, tanh 4*8
	 * = 32, c2 (2*4*8*3 + 4) / 2 = 98, sigmoid 4*4 / 2 = 8: 226. */
	m = case_model(&cases[2], 1);
	s = new_stream(m, false);
	assert_true(stride_stream_incremental(s));
	assert_int_equal(stride_stream_window(s), 7);
	assert_int_equal(stride_stream_hop(s), 2);
	assert_int_equal(stride_stream_out_size(s), 4);
	assert_float_equal(stride_stream_flops_per_second(s, 1000), 226000.0, 1e-6);
	stride_stream_free(s);
	stride_model_free(m);

	/* the long window: (40 - 7) / 2 + 1 = 17 frames of 4 channels */
	m = case_model(&cases[3], 1);
	s = new_stream(m, false);
	assert_true(stride_stream_incremental(s));
	assert_int_equal(stride_stream_out_size(s), 68);
	stride_stream_free(s);
	stride_model_free(m);

	/* stereo input */
	m = case_model(&cases[9], 1);
	s = new_stream(m, false);
	assert_int_equal(stride_stream_in_channels(s), 2);
	assert_int_equal(stride_stream_out_size(s), 2);
	stride_stream_free(s);
	stride_model_free(m);

	/* flatten-dense: dense reads 4 channels x (64 - 8) / 4 + 1 = 15 frames */
	m = case_model(&cases[10], 1);
	s = new_stream(m, false);
	assert_true(stride_stream_incremental(s));
	assert_int_equal(stride_stream_out_size(s), 3);
	stride_stream_free(s);
	stride_model_free(m);

	/* refused: a window the network does not fit */
	m = case_model(&cases[0], 1);
	m->window = 100;
	err[0] = 0;
	assert_null(stride_stream_new(m, err));
	assert_non_null(strstr(err, "window"));
	m->window = 3200;
	m->hop = 0;
	assert_null(stride_stream_new(m, err));
	assert_null(stride_stream_new(NULL, err));
	stride_model_free(m);
}

/* ------------------------------------------------------------------------ */
/* Real-time safety                                                         */
/* ------------------------------------------------------------------------ */

static void test_no_alloc_no_blas(void **state)
{
	(void)state;
	install_counting();
	/* the counters work: a forward allocates its buffers and calls sgemm */
	StrideModel *probe = case_model(&cases[7], 2);
	float *px = make_signal(1, probe->window, 1);
	const float *py;
	char err[STRIDE_ERR_LEN];
	allocs = 0;
	blas_calls = 0;
	counting = 1;
	int rc = stride_net_forward(probe->net, px, 1, probe->window, false, &py, NULL, NULL, err);
	counting = 0;
	assert_int_equal(rc, 0);
	/* valgrind replaces malloc itself, wrappers included: the allocation count
	 * is checked by the native and ASan runs */
	const bool count_allocs = !under_valgrind();
	if (count_allocs)
		assert_true(allocs > 0);
	assert_true(blas_calls > 0);
	free(px);
	stride_model_free(probe);

	for (int i = 0; i < N_CASES; i++) {
		StrideModel *m = case_model(&cases[i], 41);
		const int ch = stride_net_in_channels(m->net);
		const int len = case_len(m) + (under_valgrind() ? 2000 : 9000);
		float *x = make_signal(ch, len, 1);
		for (int k = 0; k < len; k += 97)
			x[k] = k % 2 ? NAN : INFINITY;
		StrideStream *s = new_stream(m, false);
		const int out_size = stride_stream_out_size(s);
		float *out = malloc(((size_t)len / m->hop + 2) * out_size * sizeof *out);
		allocs = 0;
		blas_calls = 0;
		rng_state = 77;
		for (int round = 0; round < 2; round++) {
			for (int done = 0; done < len;) {
				int n = 1 + (int)(urand() * urand() * 3000);
				if (n > len - done)
					n = len - done;
				counting = 1;
				stride_stream_push(s, x + done, len, n, out, n / m->hop + 1);
				counting = 0;
				done += n;
			}
			counting = 1;
			stride_stream_reset(s);
			counting = 0;
		}
		if ((count_allocs && allocs) || blas_calls)
			fail_msg("%s: %ld allocations and %ld sgemm calls while pushing", cases[i].name,
			         allocs, blas_calls);
		free(out);
		free(x);
		stride_stream_free(s);
		stride_model_free(m);
	}
}

static int setup(void **state)
{
	(void)state;
	setup_cases();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels),
		cmocka_unit_test(test_cases_best),
		cmocka_unit_test(test_cases_portable),
		cmocka_unit_test(test_max_out),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_nonfinite),
		cmocka_unit_test(test_denormals),
		cmocka_unit_test(test_geometry_and_cost),
		cmocka_unit_test(test_no_alloc_no_blas),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
