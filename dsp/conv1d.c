/* conv1d forward and backward.
 *
 * Two paths compute the same thing:
 * - GEMM: the input patches of one item and group are laid out as a matrix
 *   (im2col, rows = channel x tap, columns = output steps), so the forward is
 *   kernel x patches, the kernel gradient is output-gradient x patches^T (the sum
 *   over every position that weight sharing implies), and the input gradient is
 *   kernel^T x output-gradient scattered back (col2im).
 * - direct: loops over taps with a contiguous inner loop over time, which wins
 *   when the matrices are too small for a GEMM call to pay for itself
 *   (depthwise layers, a handful of channels).
 * stride_conv_uses_gemm() picks one; bench_conv measures both. */
#include <string.h>

#include "gemm.h"
#include "layers.h"

StrideConvPath stride_conv_path_override = STRIDE_CONV_AUTO;

/* Below this many multiply-adds per output step and group, a GEMM call costs more
 * than it saves (measured with bench_conv on the project machines). */
#define GEMM_MIN_MACS_PER_STEP 96

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

/* The 1x1, stride 1, unpadded case needs no patch matrix: the input already is one. */
static bool patches_are_input(const StrideGeom *g)
{
	return g->kernel == 1 && g->stride == 1 && g->padding == 0;
}

size_t stride_conv_scratch_floats(const StrideGeom *g)
{
	if (!stride_conv_uses_gemm(g) || patches_are_input(g))
		return 0;
	return (size_t)(g->c_in / g->groups) * (size_t)g->kernel * (size_t)g->t_out;
}

/* Output steps t whose input index t*stride + off lies inside [0, t_in). */
static void valid_range(const StrideGeom *g, int off, int *t0, int *t1)
{
	int lo = 0;
	if (off < 0)
		lo = (-off + g->stride - 1) / g->stride;
	int hi = g->t_out;
	/* largest t with t*stride + off <= t_in - 1 */
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

/* Patches of input channels [c0, c0 + cg) of one item: col[(c*K + k), t]. */
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

/* Adds patch gradients back onto the input gradient of one item. */
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
			for (int t = t0; t < t1; t++)
				dr[t * g->stride + off] += row[t];
		}
	}
}

static void forward_gemm(const StrideGeom *g, const float *x, const float *w, const float *b,
                         float *y, float *col)
{
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	const int rows = cg * g->kernel;
	for (int n = 0; n < g->n; n++) {
		const float *xi = x + (size_t)n * g->c_in * g->t_in;
		float *yi = y + (size_t)n * g->c_out * g->t_out;
		for (int o = 0; o < g->c_out; o++) {
			float *yr = yi + (size_t)o * g->t_out;
			const float bias = b ? b[o] : 0.0f;
			for (int t = 0; t < g->t_out; t++)
				yr[t] = bias;
		}
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

static void forward_direct(const StrideGeom *g, const float *x, const float *w, const float *b,
                           float *y)
{
	const int cg = g->c_in / g->groups;
	const int og = g->c_out / g->groups;
	const int s = g->stride;
	for (int n = 0; n < g->n; n++) {
		const float *xi = x + (size_t)n * g->c_in * g->t_in;
		for (int o = 0; o < g->c_out; o++) {
			float *yr = y + ((size_t)n * g->c_out + o) * g->t_out;
			const float bias = b ? b[o] : 0.0f;
			for (int t = 0; t < g->t_out; t++)
				yr[t] = bias;
			const int c0 = (o / og) * cg;
			for (int c = 0; c < cg; c++) {
				const float *xr = xi + (size_t)(c0 + c) * g->t_in;
				const float *wr = w + ((size_t)o * cg + c) * g->kernel;
				for (int k = 0; k < g->kernel; k++) {
					const int off = k * g->dilation - g->padding;
					const float wv = wr[k];
					int t0, t1;
					valid_range(g, off, &t0, &t1);
					if (s == 1) {
						const float *xs = xr + off;
						for (int t = t0; t < t1; t++)
							yr[t] += wv * xs[t];
					} else {
						for (int t = t0; t < t1; t++)
							yr[t] += wv * xr[t * s + off];
					}
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
		for (int n = 0; n < g->n; n++) {
			const float *r = dy + ((size_t)n * g->c_out + o) * g->t_out;
			for (int t = 0; t < g->t_out; t++)
				sum += r[t];
		}
		db[o] = (float)sum;
	}
}

static void backward_gemm(const StrideGeom *g, const float *x, const float *w, const float *dy,
                          float *dx, float *dw, float *col)
{
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
			/* kernel gradient: every position's patch times its output gradient */
			stride_sgemm(false, true, og, rows, g->t_out, 1.0f, dyg, g->t_out, patches,
			             g->t_out, n == 0 ? 0.0f : 1.0f, dwg, rows);
			if (!dxi)
				continue;
			if (patches_are_input(g)) {
				/* the patch gradient is the input gradient itself */
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
