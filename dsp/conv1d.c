/* conv1d forward and backward.
 *
 * Two paths compute the same thing:
 * - GEMM: the input patches of one item and group are laid out as a matrix
 *   (im2col, rows = channel x tap, columns = output steps), so the forward is
 *   kernel x patches, the kernel gradient is output-gradient x patches^T (the sum
 *   over every position that weight sharing implies), and the input gradient is
 *   kernel^T x output-gradient scattered back (col2im). Strided layers whose
 *   kernel is a whole number of strides need no patch matrix at all (polyphase).
 * - direct: loops over taps with a contiguous inner loop over time, which wins
 *   when the matrices are too small for a GEMM call to pay for itself
 *   (depthwise layers, a handful of channels).
 * stride_conv_uses_gemm() picks one; bench_conv measures both.
 *
 * Inner loops run in blocks of 8 over restrict pointers: gcc's -O2 vectoriser
 * ("very cheap" cost model) refuses loops that need a scalar epilogue or an alias
 * check, and a fixed-size block needs neither. */
#include <string.h>

#include "gemm.h"
#include "layers.h"

/* GEMM below this many multiply-adds per output step and group (or fewer than 4
 * outputs per group) loses to the direct path on forward + backward time
 * (bench_conv: 2->4 k3, 24, is about even; 4->4 k3, 48, and 64->64 g16, 48,
 * are 1.5x faster on GEMM; 1->4 k3, 12, and depthwise are faster direct). */
#define GEMM_MIN_MACS_PER_STEP 24

StrideConvPath stride_conv_path_override = STRIDE_CONV_AUTO;

bool stride_conv_uses_gemm(const StrideGeom *g)
{
	if (stride_conv_path_override == STRIDE_CONV_GEMM)
		return true;
	if (stride_conv_path_override == STRIDE_CONV_DIRECT)
		return false;
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	return (long)og * cg * g->kernel >= GEMM_MIN_MACS_PER_STEP && og >= 4;
}

static bool patches_are_input(const StrideGeom *g)
{
	return g->kernel == 1 && g->stride == 1 && g->padding == 0;
}

/* Strided layers whose kernel is a whole number of strides, unpadded and
 * undilated (the 1->16 k64 s16 front end): viewing each input row as a matrix
 * X[T/s][s], tap j*s + r of output t reads X[t + j][r], so the patches of taps
 * j*s .. j*s + s - 1 are a plain strided view (rows j .. j + t_out, ld = s) and
 * no im2col is needed: K/s GEMMs of inner size s per input channel. */
static bool polyphase(const StrideGeom *g)
{
	return g->stride > 1 && g->dilation == 1 && g->padding == 0 && g->kernel % g->stride == 0;
}

size_t stride_conv_scratch_floats(const StrideGeom *g)
{
	if (!stride_conv_uses_gemm(g) || patches_are_input(g) || polyphase(g))
		return 0;
	return (size_t)(g->c_in / g->groups) * (size_t)g->kernel * (size_t)g->t_out;
}

static void fill_f(float *restrict y, float v, int n)
{
	int t = 0;
	for (; t + 8 <= n; t += 8)
		for (int j = 0; j < 8; j++)
			y[t + j] = v;
	for (; t < n; t++)
		y[t] = v;
}

static void add_f(float *restrict y, const float *restrict x, int n)
{
	int t = 0;
	for (; t + 8 <= n; t += 8)
		for (int j = 0; j < 8; j++)
			y[t + j] += x[t + j];
	for (; t < n; t++)
		y[t] += x[t];
}

static void axpy_f(float *restrict y, const float *restrict x, float a, int n)
{
	int t = 0;
	for (; t + 8 <= n; t += 8)
		for (int j = 0; j < 8; j++)
			y[t + j] += a * x[t + j];
	for (; t < n; t++)
		y[t] += a * x[t];
}

static float dot_f(const float *restrict x, const float *restrict y, int n)
{
	float acc[8] = { 0 };
	int t = 0;
	for (; t + 8 <= n; t += 8)
		for (int j = 0; j < 8; j++)
			acc[j] += x[t + j] * y[t + j];
	float s = 0.0f;
	for (; t < n; t++)
		s += x[t] * y[t];
	for (int j = 0; j < 8; j++)
		s += acc[j];
	return s;
}

static double sum_f(const float *restrict x, int n)
{
	float acc[8] = { 0 };
	int t = 0;
	double s = 0.0;
	/* blocks of 512 keep float partial sums short */
	while (t + 8 <= n) {
		const int end = t + 512 < n ? t + 512 : n;
		for (; t + 8 <= end; t += 8)
			for (int j = 0; j < 8; j++)
				acc[j] += x[t + j];
		for (int j = 0; j < 8; j++) {
			s += acc[j];
			acc[j] = 0.0f;
		}
	}
	for (; t < n; t++)
		s += x[t];
	return s;
}

static void valid_range(const StrideGeom *g, int off, int *t0, int *t1)
{
	int lo = 0;
	if (off < 0)
		lo = (-off + g->stride - 1) / g->stride;
	int hi = g->t_out;
	long last = (long)g->t_in - 1 - off;
	if (last < 0) {
		hi = 0;
	} else {
		long h = last / g->stride + 1;
		if (h < hi)
			hi = (int)h;
	}
	if (lo > hi)
		lo = hi;
	*t0 = lo;
	*t1 = hi;
}

static void im2col(const StrideGeom *g, const float *x_item, int c0, float *col)
{
	const int cg = g->c_in / g->groups;
	const int tn = g->t_out;
	for (int c = 0; c < cg; c++) {
		const float *xr = x_item + (size_t)(c0 + c) * g->t_in;
		for (int k = 0; k < g->kernel; k++) {
			float *row = col + ((size_t)c * g->kernel + k) * tn;
			const int off = k * g->dilation - g->padding;
			int t0, t1;
			valid_range(g, off, &t0, &t1);
			for (int t = 0; t < t0; t++)
				row[t] = 0.0f;
			if (g->stride == 1) {
				if (t1 > t0)
					memcpy(row + t0, xr + t0 + off, (size_t)(t1 - t0) * sizeof(float));
			} else {
				for (int t = t0; t < t1; t++)
					row[t] = xr[t * g->stride + off];
			}
			for (int t = t1; t < tn; t++)
				row[t] = 0.0f;
		}
	}
}

static void col2im_add(const StrideGeom *g, const float *col, int c0, float *dx_item)
{
	const int cg = g->c_in / g->groups;
	const int tn = g->t_out;
	for (int c = 0; c < cg; c++) {
		float *dr = dx_item + (size_t)(c0 + c) * g->t_in;
		for (int k = 0; k < g->kernel; k++) {
			const float *row = col + ((size_t)c * g->kernel + k) * tn;
			const int off = k * g->dilation - g->padding;
			int t0, t1;
			valid_range(g, off, &t0, &t1);
			if (g->stride == 1) {
				if (t1 > t0)
					add_f(dr + t0 + off, row + t0, t1 - t0);
			} else {
				for (int t = t0; t < t1; t++)
					dr[t * g->stride + off] += row[t];
			}
		}
	}
}

static void fill_bias(const StrideGeom *g, const float *b, float *yi)
{
	for (int o = 0; o < g->c_out; o++)
		fill_f(yi + (size_t)o * g->t_out, b ? b[o] : 0.0f, g->t_out);
}

static void forward_poly(const StrideGeom *g, const float *x, const float *w, const float *b,
                         float *y)
{
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	const int s = g->stride, K = g->kernel;
	for (int n = 0; n < g->n; n++) {
		const float *xi = x + (size_t)n * g->c_in * g->t_in;
		float *yi = y + (size_t)n * g->c_out * g->t_out;
		fill_bias(g, b, yi);
		for (int grp = 0; grp < g->groups; grp++)
			for (int c = 0; c < cg; c++)
				for (int j = 0; j < K / s; j++)
					stride_sgemm(false, true, og, g->t_out, s, 1.0f,
					             w + (size_t)grp * og * cg * K + (size_t)c * K + (size_t)j * s,
					             cg * K, xi + (size_t)(grp * cg + c) * g->t_in + (size_t)j * s, s,
					             1.0f, yi + (size_t)grp * og * g->t_out, g->t_out);
	}
}

static void forward_gemm(const StrideGeom *g, const float *x, const float *w, const float *b,
                         float *y, float *col)
{
	if (polyphase(g)) {
		forward_poly(g, x, w, b, y);
		return;
	}
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	const int rows = cg * g->kernel;
	for (int n = 0; n < g->n; n++) {
		const float *xi = x + (size_t)n * g->c_in * g->t_in;
		float *yi = y + (size_t)n * g->c_out * g->t_out;
		fill_bias(g, b, yi);
		for (int grp = 0; grp < g->groups; grp++) {
			const float *patches = xi + (size_t)grp * cg * g->t_in;
			if (!patches_are_input(g)) {
				im2col(g, xi, grp * cg, col);
				patches = col;
			}
			stride_sgemm(false, false, og, g->t_out, rows, 1.0f, w + (size_t)grp * og * rows,
			             rows, patches, g->t_out, 1.0f, yi + (size_t)grp * og * g->t_out,
			             g->t_out);
		}
	}
}

/* Direct: per output row and input channel, all taps in one pass over t (in
 * blocks of 8 for the vectoriser) on the range where every tap is inside the
 * input; taps one at a time on the edges. */
static void forward_direct(const StrideGeom *g, const float *x, const float *w, const float *b,
                           float *y)
{
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	const int s = g->stride;
	const int K = g->kernel;
	/* interior: every tap valid */
	int in0 = 0, in1 = g->t_out;
	for (int k = 0; k < K; k++) {
		int t0, t1;
		valid_range(g, k * g->dilation - g->padding, &t0, &t1);
		if (t0 > in0)
			in0 = t0;
		if (t1 < in1)
			in1 = t1;
	}
	if (in1 < in0)
		in1 = in0;
	for (int n = 0; n < g->n; n++) {
		const float *xi = x + (size_t)n * g->c_in * g->t_in;
		for (int o = 0; o < g->c_out; o++) {
			float *restrict yr = y + ((size_t)n * g->c_out + o) * g->t_out;
			fill_f(yr, b ? b[o] : 0.0f, g->t_out);
			const int c0 = (o / og) * cg;
			for (int c = 0; c < cg; c++) {
				const float *restrict xr = xi + (size_t)(c0 + c) * g->t_in;
				const float *wr = w + ((size_t)o * cg + c) * K;
				/* edges, tap by tap */
				for (int k = 0; k < K; k++) {
					const int off = k * g->dilation - g->padding;
					int t0, t1;
					valid_range(g, off, &t0, &t1);
					for (int t = t0; t < t1 && t < in0; t++)
						yr[t] += wr[k] * xr[t * s + off];
					for (int t = t0 > in1 ? t0 : in1; t < t1; t++)
						yr[t] += wr[k] * xr[t * s + off];
				}
				/* interior, all taps at once */
				int t = in0;
				if (s == 1) {
					for (; t + 8 <= in1; t += 8) {
						float acc[8];
						for (int j = 0; j < 8; j++)
							acc[j] = yr[t + j];
						for (int k = 0; k < K; k++) {
							const float wv = wr[k];
							const float *xs = xr + t + k * g->dilation - g->padding;
							for (int j = 0; j < 8; j++)
								acc[j] += wv * xs[j];
						}
						for (int j = 0; j < 8; j++)
							yr[t + j] = acc[j];
					}
				}
				for (; t < in1; t++) {
					float acc = yr[t];
					for (int k = 0; k < K; k++)
						acc += wr[k] * xr[t * s + k * g->dilation - g->padding];
					yr[t] = acc;
				}
			}
		}
	}
}

void stride_conv_forward(const StrideGeom *g, const float *x, const float *w, const float *b,
                         float *y, float *scratch)
{
	if (stride_conv_uses_gemm(g))
		forward_gemm(g, x, w, b, y, scratch);
	else
		forward_direct(g, x, w, b, y);
}

static void bias_grad(const StrideGeom *g, const float *dy, float *db)
{
	for (int o = 0; o < g->c_out; o++) {
		double sum = 0.0;
		for (int n = 0; n < g->n; n++)
			sum += sum_f(dy + ((size_t)n * g->c_out + o) * g->t_out, g->t_out);
		db[o] = (float)sum;
	}
}

static void backward_poly(const StrideGeom *g, const float *x, const float *w, const float *dy,
                          float *dx, float *dw)
{
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	const int s = g->stride, K = g->kernel;
	for (int n = 0; n < g->n; n++) {
		const float *xi = x + (size_t)n * g->c_in * g->t_in;
		const float *dyi = dy + (size_t)n * g->c_out * g->t_out;
		float *dxi = dx ? dx + (size_t)n * g->c_in * g->t_in : NULL;
		for (int grp = 0; grp < g->groups; grp++) {
			const float *dyg = dyi + (size_t)grp * og * g->t_out;
			for (int c = 0; c < cg; c++) {
				const size_t row = (size_t)(grp * cg + c) * g->t_in;
				for (int j = 0; j < K / s; j++) {
					const size_t wo = (size_t)grp * og * cg * K + (size_t)c * K + (size_t)j * s;
					stride_sgemm(false, false, og, s, g->t_out, 1.0f, dyg, g->t_out,
					             xi + row + (size_t)j * s, s, n == 0 ? 0.0f : 1.0f, dw + wo, cg * K);
					if (dxi)
						stride_sgemm(true, false, g->t_out, s, og, 1.0f, dyg, g->t_out, w + wo,
						             cg * K, 1.0f, dxi + row + (size_t)j * s, s);
				}
			}
		}
	}
}

static void backward_gemm(const StrideGeom *g, const float *x, const float *w, const float *dy,
                          float *dx, float *dw, float *col)
{
	if (polyphase(g)) {
		backward_poly(g, x, w, dy, dx, dw);
		return;
	}
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	const int rows = cg * g->kernel;
	for (int n = 0; n < g->n; n++) {
		const float *xi = x + (size_t)n * g->c_in * g->t_in;
		const float *dyi = dy + (size_t)n * g->c_out * g->t_out;
		float *dxi = dx ? dx + (size_t)n * g->c_in * g->t_in : NULL;
		for (int grp = 0; grp < g->groups; grp++) {
			const float *dyg = dyi + (size_t)grp * og * g->t_out;
			const float *wg = w + (size_t)grp * og * rows;
			float *dwg = dw + (size_t)grp * og * rows;
			const float *patches = xi + (size_t)grp * cg * g->t_in;
			if (!patches_are_input(g)) {
				im2col(g, xi, grp * cg, col);
				patches = col;
			}
			stride_sgemm(false, true, og, rows, g->t_out, 1.0f, dyg, g->t_out, patches,
			             g->t_out, n == 0 ? 0.0f : 1.0f, dwg, rows);
			if (!dxi)
				continue;
			if (patches_are_input(g)) {
				stride_sgemm(true, false, rows, g->t_out, og, 1.0f, wg, rows, dyg, g->t_out,
				             1.0f, dxi + (size_t)grp * cg * g->t_in, g->t_in);
			} else {
				stride_sgemm(true, false, rows, g->t_out, og, 1.0f, wg, rows, dyg, g->t_out,
				             0.0f, col, g->t_out);
				col2im_add(g, col, grp * cg, dxi);
			}
		}
	}
}

static void backward_direct(const StrideGeom *g, const float *x, const float *w,
                            const float *dy, float *dx, float *dw)
{
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	const int s = g->stride;
	memset(dw, 0, (size_t)g->c_out * cg * g->kernel * sizeof(float));
	for (int n = 0; n < g->n; n++) {
		const float *xi = x + (size_t)n * g->c_in * g->t_in;
		float *dxi = dx ? dx + (size_t)n * g->c_in * g->t_in : NULL;
		for (int o = 0; o < g->c_out; o++) {
			const float *dr = dy + ((size_t)n * g->c_out + o) * g->t_out;
			const int c0 = (o / og) * cg;
			for (int c = 0; c < cg; c++) {
				const float *xr = xi + (size_t)(c0 + c) * g->t_in;
				float *dxr = dxi ? dxi + (size_t)(c0 + c) * g->t_in : NULL;
				const float *wr = w + ((size_t)o * cg + c) * g->kernel;
				float *dwr = dw + ((size_t)o * cg + c) * g->kernel;
				for (int k = 0; k < g->kernel; k++) {
					const int off = k * g->dilation - g->padding;
					int t0, t1;
					valid_range(g, off, &t0, &t1);
					if (t1 <= t0)
						continue;
					if (s == 1) {
						dwr[k] += dot_f(dr + t0, xr + t0 + off, t1 - t0);
						if (dxr)
							axpy_f(dxr + t0 + off, dr + t0, wr[k], t1 - t0);
					} else {
						float acc = 0.0f;
						for (int t = t0; t < t1; t++)
							acc += dr[t] * xr[t * s + off];
						dwr[k] += acc;
						if (dxr) {
							const float wv = wr[k];
							for (int t = t0; t < t1; t++)
								dxr[t * s + off] += wv * dr[t];
						}
					}
				}
			}
		}
	}
}

void stride_conv_backward(const StrideGeom *g, const float *x, const float *w, const float *dy,
                          float *dx, float *dw, float *db, float *scratch)
{
	if (dx)
		memset(dx, 0, (size_t)g->n * g->c_in * g->t_in * sizeof(float));
	if (db)
		bias_grad(g, dy, db);
	if (stride_conv_uses_gemm(g))
		backward_gemm(g, x, w, dy, dx, dw, scratch);
	else
		backward_direct(g, x, w, dy, dx, dw);
}
