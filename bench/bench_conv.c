/* bench_conv: how fast conv1d runs in the trainer, as a fraction of what the
 * machine's matrix product can do.
 *
 * Every figure is taken through the public network API (a one-layer network,
 * stride_net_forward / stride_net_backward), so it is what users get, with one
 * BLAS thread throughout. The reference is single-thread cblas_sgemm on a
 * 1024^3 product measured in the same run: the machines are shared and noisy,
 * so only ratios from one run are worth comparing. Each layer is timed on the
 * GEMM path, on the direct path and on the path AUTO picks, so the threshold in
 * dsp/conv1d.c can be chosen by measurement. See bench/README.md.
 *
 *   bench_conv [--quick] [--csv] [--only TEXT]
 */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "layers.h"
#include "stride.h"

/* One conv1d layer to measure. */
typedef struct {
	const char *label;
	int in, out, kernel, stride, dilation, padding, groups;
	int t; /* input length */
} Shape;

/* Front end: one second at 16 kHz. The rest: 1024 steps, "same" padding. The
 * small and grouped ones (24 to 192 multiply-adds per step and group) bracket the
 * GEMM threshold; g64 is depthwise. */
static const Shape SHAPES[] = {
	{ "1->16 k64 s16", 1, 16, 64, 16, 1, 0, 1, 16000 },
	{ "2->4 k3", 2, 4, 3, 1, 1, 1, 1, 1024 },
	{ "4->4 k3", 4, 4, 3, 1, 1, 1, 1, 1024 },
	{ "8->8 k3", 8, 8, 3, 1, 1, 1, 1, 1024 },
	{ "16->32 k3", 16, 32, 3, 1, 1, 1, 1, 1024 },
	{ "32->32 k3 d2", 32, 32, 3, 1, 2, 2, 1, 1024 },
	{ "64->64 k1", 64, 64, 1, 1, 1, 0, 1, 1024 },
	{ "64->64 k3", 64, 64, 3, 1, 1, 1, 1, 1024 },
	{ "64->64 k3 s2", 64, 64, 3, 2, 1, 1, 1, 1024 },
	{ "64->64 k3 g16", 64, 64, 3, 1, 1, 1, 16, 1024 },
	{ "64->64 k3 g64", 64, 64, 3, 1, 1, 1, 64, 1024 },
	{ "128->128 k3", 128, 128, 3, 1, 1, 1, 1, 1024 },
};
#define N_SHAPES ((int)(sizeof SHAPES / sizeof SHAPES[0]))

static const int BATCHES[] = { 1, 32 };
#define N_BATCHES ((int)(sizeof BATCHES / sizeof BATCHES[0]))

typedef struct {
	bool quick;
	bool csv;
	const char *only;
	double min_time; /* seconds of timed repetitions per measurement */
	int sgemm_size;
} Options;

/* Timings of one measurement. */
typedef struct {
	double best, median; /* seconds per call */
	int reps;
} Timing;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define MAX_REPS 4096

/* One untimed warm-up call, then timed calls until min_time has passed (at
 * least one, at most MAX_REPS). Best is what the code can do; the median says
 * how much the shared machine got in the way. */
static Timing time_calls(void (*fn)(void *), void *ctx, double min_time)
{
	static double times[MAX_REPS];
	fn(ctx);
	int reps = 0;
	const double start = now_seconds();
	do {
		const double t0 = now_seconds();
		fn(ctx);
		times[reps++] = now_seconds() - t0;
	} while (reps < MAX_REPS && now_seconds() - start < min_time);
	qsort(times, (size_t)reps, sizeof times[0], cmp_double);
	Timing r;
	r.best = times[0];
	r.median = reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
	r.reps = reps;
	return r;
}

static void *xmalloc(size_t bytes)
{
	void *p = NULL;
	/* 64-byte aligned, as a real network's buffers would be. */
	if (posix_memalign(&p, 64, bytes ? bytes : 1) != 0) {
		fprintf(stderr, "bench_conv: out of memory (%zu bytes)\n", bytes);
		exit(1);
	}
	return p;
}

/* Deterministic values in [-1, 1): the numbers do not matter, denormals would. */
static void fill_random(float *v, size_t count, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15u + 1;
	for (size_t i = 0; i < count; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		v[i] = (float)((double)(s >> 40) / (double)(1u << 23)) - 1.0f;
	}
}

/* ---------------------------------------------------------------------- */
/* The sgemm reference                                                     */
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

/* GFLOP/s of C[m,n] = A[m,k] B[k,n] (row-major, contiguous), best of the reps. */
static double sgemm_rate(int m, int n, int k, double min_time)
{
	Sgemm s = { m, n, k, NULL, NULL, NULL };
	s.a = xmalloc((size_t)m * k * sizeof(float));
	s.b = xmalloc((size_t)k * n * sizeof(float));
	s.c = xmalloc((size_t)m * n * sizeof(float));
	fill_random(s.a, (size_t)m * k, 1);
	fill_random(s.b, (size_t)k * n, 2);
	memset(s.c, 0, (size_t)m * n * sizeof(float));
	run_sgemm(&s); /* a second warm-up: the first call in the process sets OpenBLAS up */
	const Timing t = time_calls(run_sgemm, &s, min_time);
	free(s.a);
	free(s.b);
	free(s.c);
	return 2.0 * m * n * k / t.best * 1e-9;
}

/* ---------------------------------------------------------------------- */
/* One conv1d layer through the network API                                */
/* ---------------------------------------------------------------------- */

typedef struct {
	StrideNet *net;
	const float *x;
	const float *dy;
	float *dx;
	int n, t;
} ConvRun;

static _Noreturn void die_net(const char *what, const char *err)
{
	fprintf(stderr, "bench_conv: %s: %s\n", what, err);
	exit(1);
}

static void run_forward(void *ctx)
{
	ConvRun *r = ctx;
	char err[STRIDE_ERR_LEN];
	const float *y;
	if (stride_net_forward(r->net, r->x, r->n, r->t, true, &y, NULL, NULL, err) < 0)
		die_net("forward", err);
}

static void run_backward(void *ctx)
{
	ConvRun *r = ctx;
	char err[STRIDE_ERR_LEN];
	if (stride_net_backward(r->net, r->dy, r->dx, err) < 0)
		die_net("backward", err);
}

static StrideLayerSpec spec_of(const Shape *s)
{
	StrideLayerSpec spec = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(spec.name, sizeof spec.name, "conv");
	spec.in = s->in;
	spec.out = s->out;
	spec.kernel = s->kernel;
	spec.stride = s->stride;
	spec.dilation = s->dilation;
	spec.padding = s->padding;
	spec.groups = s->groups;
	spec.bias = true;
	return spec;
}

static StrideGeom geom_of(const Shape *s, int n, int t)
{
	StrideGeom g;
	g.n = n;
	g.c_in = s->in;
	g.t_in = t;
	g.c_out = s->out;
	g.t_out = stride_conv_out_len(t, s->kernel, s->stride, s->dilation, s->padding);
	g.kernel = s->kernel;
	g.stride = s->stride;
	g.dilation = s->dilation;
	g.padding = s->padding;
	g.groups = s->groups;
	return g;
}

/* Multiply-adds per output step and group: the quantity GEMM_MIN_MACS_PER_STEP
 * in conv1d.c is compared with. */
static long macs_per_step(const Shape *s)
{
	return (long)(s->out / s->groups) * (s->in / s->groups) * s->kernel;
}

enum { PATH_GEMM, PATH_DIRECT, PATH_AUTO, N_PATHS };
static const StrideConvPath PATH_VALUE[N_PATHS] = { STRIDE_CONV_GEMM, STRIDE_CONV_DIRECT,
	                                                 STRIDE_CONV_AUTO };
static const char *const PATH_NAME[N_PATHS] = { "gemm", "direct", "auto" };

typedef struct {
	const Shape *shape;
	int n, t, t_out;
	double fwd_flops, bwd_flops;
	double blas_at_shape; /* GFLOP/s of sgemm at the forward product's own shape */
	Timing fwd[N_PATHS], bwd[N_PATHS];
	bool auto_gemm;
	double max_diff; /* gemm vs direct forward outputs, relative to the largest output */
} Result;

static double max_rel_diff(const float *a, const float *b, size_t count)
{
	double diff = 0.0, scale = 1e-30;
	for (size_t i = 0; i < count; i++) {
		const double d = fabs((double)a[i] - (double)b[i]);
		if (d > diff)
			diff = d;
		if (fabs((double)a[i]) > scale)
			scale = fabs((double)a[i]);
	}
	return diff / scale;
}

static Result measure(const Shape *s, int n, int t, double min_time)
{
	Result res;
	memset(&res, 0, sizeof res);
	res.shape = s;
	res.n = n;
	res.t = t;
	char err[STRIDE_ERR_LEN];
	const StrideLayerSpec spec = spec_of(s);
	StrideNet *net = stride_net_new(&spec, 1, err);
	if (!net)
		die_net(s->label, err);
	stride_net_init_params(net, 7);
	int c_out, t_out;
	if (stride_net_output_shape(net, t, &c_out, &t_out, err) < 0)
		die_net(s->label, err);
	res.t_out = t_out;

	const size_t x_count = (size_t)n * s->in * t;
	const size_t y_count = (size_t)n * c_out * t_out;
	float *x = xmalloc(x_count * sizeof(float));
	float *dx = xmalloc(x_count * sizeof(float));
	float *dy = xmalloc(y_count * sizeof(float));
	float *y_gemm = xmalloc(y_count * sizeof(float));
	fill_random(x, x_count, 3);
	fill_random(dy, y_count, 4);
	ConvRun run = { net, x, dy, dx, n, t };

	const double macs = (double)n * c_out * t_out * (double)(s->in / s->groups) * s->kernel;
	res.fwd_flops = 2.0 * macs;
	/* input gradient and kernel gradient: one forward's worth of multiply-adds each */
	res.bwd_flops = 2.0 * res.fwd_flops;

	for (int p = 0; p < N_PATHS; p++) {
		stride_conv_path_override = PATH_VALUE[p];
		res.fwd[p] = time_calls(run_forward, &run, min_time);
		/* backward needs the forward of the same path (its scratch, its activations) */
		res.bwd[p] = time_calls(run_backward, &run, min_time);
		const float *y;
		if (p == PATH_GEMM || p == PATH_DIRECT) {
			if (stride_net_forward(net, x, n, t, true, &y, NULL, NULL, err) < 0)
				die_net(s->label, err);
			if (p == PATH_GEMM)
				memcpy(y_gemm, y, y_count * sizeof(float));
			else
				res.max_diff = max_rel_diff(y_gemm, y, y_count);
		}
	}
	stride_conv_path_override = STRIDE_CONV_AUTO;
	const StrideGeom g = geom_of(s, n, t);
	res.auto_gemm = stride_conv_uses_gemm(&g);

	free(x);
	free(dx);
	free(dy);
	free(y_gemm);
	stride_net_free(net);
	return res;
}

static double gflops(double flops, const Timing *t)
{
	return flops / t->best * 1e-9;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */
/* ---------------------------------------------------------------------- */

static void print_table_header(double sgemm)
{
	printf("\nconv1d, one layer through stride_net_forward/backward; GFLOP/s from the best call\n");
	printf("(%% = of the %.1f GFLOP/s sgemm reference; blas@shape = sgemm alone at the forward\n"
	       " product's own shape out/g x T_out x (in/g)*k; * marks the path AUTO picks;\n"
	       " \"<- ... faster\" flags the other path when it wins on forward + backward time)\n\n",
	       sgemm);
	printf("%-14s %3s %6s %5s %6s %6s | %-21s | %-21s | %-11s\n", "", "", "", "", "MACs/",
	       "blas@", "forward GFLOP/s", "backward GFLOP/s", "auto, % sgemm");
	printf("%-14s %3s %6s %5s %6s %6s | %6s %6s %7s | %6s %6s %7s | %5s %5s\n", "layer", "N", "T",
	       "T_out", "step", "shape", "gemm", "direct", "auto", "gemm", "direct", "auto", "fwd",
	       "bwd");
	printf("%.*s\n", 107,
	       "---------------------------------------------------------------------------------"
	       "---------------------------------------------------------------------------------");
}

static void print_row(const Result *r, double sgemm)
{
	const int pick = r->auto_gemm ? PATH_GEMM : PATH_DIRECT;
	double f[N_PATHS], b[N_PATHS];
	for (int p = 0; p < N_PATHS; p++) {
		f[p] = gflops(r->fwd_flops, &r->fwd[p]);
		b[p] = gflops(r->bwd_flops, &r->bwd[p]);
	}
	printf("%-14s %3d %6d %5d %6ld %6.1f | %5.1f%c %5.1f%c %7.1f | %5.1f%c %5.1f%c %7.1f | "
	       "%4.0f%% %4.0f%%",
	       r->shape->label, r->n, r->t, r->t_out, macs_per_step(r->shape), r->blas_at_shape,
	       f[PATH_GEMM], pick == PATH_GEMM ? '*' : ' ', f[PATH_DIRECT],
	       pick == PATH_DIRECT ? '*' : ' ', f[PATH_AUTO], b[PATH_GEMM],
	       pick == PATH_GEMM ? '*' : ' ', b[PATH_DIRECT], pick == PATH_DIRECT ? '*' : ' ',
	       b[PATH_AUTO], 100.0 * f[PATH_AUTO] / sgemm, 100.0 * b[PATH_AUTO] / sgemm);
	/* A training step runs both directions: flag the other path when it saves more
	 * than noise on forward + backward together. */
	const int other = pick == PATH_GEMM ? PATH_DIRECT : PATH_GEMM;
	const double t_pick = r->fwd[pick].best + r->bwd[pick].best;
	const double t_other = r->fwd[other].best + r->bwd[other].best;
	if (t_other * 1.1 < t_pick)
		printf("  <- %s %.1fx faster", PATH_NAME[other], t_pick / t_other);
	if (r->max_diff > 1e-4)
		printf("  !! gemm and direct differ by %.2g", r->max_diff);
	printf("\n");
}

static void print_csv_header(void)
{
	printf("layer,in,out,kernel,stride,dilation,padding,groups,n,t,t_out,macs_per_step,"
	       "auto_path,fwd_flops,bwd_flops,sgemm_gflops,blas_at_shape_gflops,path,"
	       "fwd_best_s,fwd_median_s,fwd_reps,fwd_gflops,fwd_pct_sgemm,"
	       "bwd_best_s,bwd_median_s,bwd_reps,bwd_gflops,bwd_pct_sgemm,max_rel_diff\n");
}

static void print_csv_rows(const Result *r, double sgemm)
{
	const Shape *s = r->shape;
	for (int p = 0; p < N_PATHS; p++) {
		const double f = gflops(r->fwd_flops, &r->fwd[p]);
		const double b = gflops(r->bwd_flops, &r->bwd[p]);
		printf("%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%ld,%s,%.0f,%.0f,%.2f,%.2f,%s,"
		       "%.6g,%.6g,%d,%.2f,%.1f,%.6g,%.6g,%d,%.2f,%.1f,%.3g\n",
		       s->label, s->in, s->out, s->kernel, s->stride, s->dilation, s->padding, s->groups,
		       r->n, r->t, r->t_out, macs_per_step(s), r->auto_gemm ? "gemm" : "direct",
		       r->fwd_flops, r->bwd_flops, sgemm, r->blas_at_shape, PATH_NAME[p], r->fwd[p].best,
		       r->fwd[p].median, r->fwd[p].reps, f, 100.0 * f / sgemm, r->bwd[p].best,
		       r->bwd[p].median, r->bwd[p].reps, b, 100.0 * b / sgemm, r->max_diff);
	}
}

/* The issue's goal: >= 50% of sgemm on dense layers of >= 32 channels. Depthwise
 * layers do 3 multiply-adds per value loaded and are memory-bound by nature. */
static bool in_goal(const Shape *s)
{
	return s->groups == 1 && s->in >= 32 && s->out >= 32;
}

static void print_goal(const Result *res, int n_res, double sgemm)
{
	double worst_f = INFINITY, worst_b = INFINITY;
	const Result *wf = NULL, *wb = NULL;
	for (int i = 0; i < n_res; i++) {
		if (!in_goal(res[i].shape))
			continue;
		const double f = gflops(res[i].fwd_flops, &res[i].fwd[PATH_AUTO]) / sgemm;
		const double b = gflops(res[i].bwd_flops, &res[i].bwd[PATH_AUTO]) / sgemm;
		if (f < worst_f) {
			worst_f = f;
			wf = &res[i];
		}
		if (b < worst_b) {
			worst_b = b;
			wb = &res[i];
		}
	}
	if (!wf || !wb)
		return;
	printf("\ngoal: conv1d >= 50%% of sgemm on dense layers with >= 32 channels (AUTO path)\n");
	printf("  worst forward:  %3.0f%% (%s, N=%d)  %s\n", 100.0 * worst_f, wf->shape->label, wf->n,
	       worst_f >= 0.5 ? "met" : "MISSED");
	printf("  worst backward: %3.0f%% (%s, N=%d)  %s\n", 100.0 * worst_b, wb->shape->label, wb->n,
	       worst_b >= 0.5 ? "met" : "MISSED");
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_conv [--quick] [--csv] [--only TEXT]\n"
	                "  --quick      a few-second smoke run (shorter inputs, fewer repetitions)\n"
	                "  --csv        machine-readable output, one row per layer, batch and path\n"
	                "  --only TEXT  only the layers whose label contains TEXT (e.g. \"64->64 k3\")\n");
}

static Options parse_args(int argc, char **argv)
{
	Options o = { false, false, NULL, 0.2, 1024 };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o.quick = true;
		} else if (strcmp(argv[i], "--csv") == 0) {
			o.csv = true;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			o.only = argv[++i];
		} else {
			usage();
			exit(strcmp(argv[i], "--help") == 0 ? 0 : 2);
		}
	}
	if (o.quick) {
		o.min_time = 0.01;
		o.sgemm_size = 512;
	}
	return o;
}

int main(int argc, char **argv)
{
	const Options opt = parse_args(argc, argv);
	/* one BLAS thread for everything: the reference and the layers alike */
	stride_blas_set_threads(1);
	openblas_set_num_threads(1);

	/* The reference is taken before and after the layers and the better of the two
	 * counts: on a shared machine one of them may land in a busy spell. Results are
	 * printed at the end, against that one reference. */
	const int sz = opt.sgemm_size;
	const double sgemm_time = opt.quick ? 0.1 : 0.5;
	const double sgemm_start = sgemm_rate(sz, sz, sz, sgemm_time);

	const bool progress = isatty(STDERR_FILENO);
	Result res[N_SHAPES * N_BATCHES];
	int n_res = 0;
	for (int i = 0; i < N_SHAPES; i++) {
		const Shape *s = &SHAPES[i];
		if (opt.only && !strstr(s->label, opt.only))
			continue;
		const int t = opt.quick ? s->t / 4 : s->t;
		const int t_out = stride_conv_out_len(t, s->kernel, s->stride, s->dilation, s->padding);
		const double blas =
		    sgemm_rate(s->out / s->groups, t_out, s->in / s->groups * s->kernel, opt.min_time / 2);
		for (int j = 0; j < N_BATCHES; j++) {
			const int n = opt.quick && BATCHES[j] > 4 ? 4 : BATCHES[j];
			if (progress)
				fprintf(stderr, "\rmeasuring %-14s N=%-3d", s->label, n);
			Result r = measure(s, n, t, opt.min_time);
			r.blas_at_shape = blas;
			res[n_res++] = r;
		}
	}
	const double sgemm_end = sgemm_rate(sz, sz, sz, sgemm_time);
	if (progress)
		fprintf(stderr, "\r%40s\r", "");
	const double sgemm = sgemm_start > sgemm_end ? sgemm_start : sgemm_end;

	if (opt.csv) {
		print_csv_header();
		for (int i = 0; i < n_res; i++)
			print_csv_rows(&res[i], sgemm);
		return 0;
	}
	printf("bench_conv%s: OpenBLAS %s, core %s, %d thread(s)\n", opt.quick ? " --quick" : "",
	       openblas_get_config(), openblas_get_corename(), openblas_get_num_threads());
	printf("timing: CLOCK_MONOTONIC, one warm-up call, then repeated calls for >= %.2f s; "
	       "the best call counts\n",
	       opt.min_time);
	printf("FLOPs: forward 2 x multiply-adds (taps over padding included); backward 2 x "
	       "forward\n       (input and kernel gradients; the bias gradient is not counted)\n");
	printf("\nsgemm %dx%dx%d, one thread: %.1f GFLOP/s before the layers, %.1f after; the "
	       "better one,\n%.1f GFLOP/s, is the reference for every %%%s\n",
	       sz, sz, sz, sgemm_start, sgemm_end, sgemm,
	       fabs(sgemm_start / sgemm_end - 1.0) > 0.1
	           ? "\n(they differ by more than 10%: the machine was busy; rerun for ratios)"
	           : "");
	print_table_header(sgemm);
	for (int i = 0; i < n_res; i++)
		print_row(&res[i], sgemm);
	print_goal(res, n_res, sgemm);
	return 0;
}
