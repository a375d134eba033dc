/* Real-time kernels: weight packing, CPU dispatch, the portable conv1d, and the
 * pools and per-frame layers (cheap enough that portable C is all they need).
 * The AVX2+FMA conv1d lives in rt_kernels_avx2.c. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_kernels.h"
#include "util.h"

StrideRtIsa stride_rt_detect_isa(void)
{
	/* tests (and anyone chasing a numerical difference) can ask for the portable kernels */
	const char *force = getenv("STRIDE_RT_ISA");
	if (force && strcmp(force, "portable") == 0)
		return STRIDE_RT_PORTABLE;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return STRIDE_RT_AVX2;
#endif
	return STRIDE_RT_PORTABLE;
}

const char *stride_rt_isa_name(StrideRtIsa isa)
{
	return isa == STRIDE_RT_AVX2 ? "avx2+fma" : "portable";
}

static int round8(int n)
{
	return (n + 7) & ~7;
}

int stride_rt_conv_init(StrideRtConv *cv, int c_in, int c_out, int kernel, int stride,
                        int dilation, int groups, const float *w, const float *bias,
                        StrideRtIsa isa)
{
	memset(cv, 0, sizeof *cv);
	cv->c_in = c_in;
	cv->c_out = c_out;
	cv->kernel = kernel;
	cv->stride = stride;
	cv->dilation = dilation;
	cv->groups = groups;
	cv->cg = c_in / groups;
	cv->og = c_out / groups;
	cv->isa = isa;
	cv->depthwise = cv->cg == 1 && cv->og == 1;
	if (cv->depthwise) {
		const size_t cp = (size_t)round8(c_in);
		cv->w = stride_alloc_aligned((size_t)kernel * cp * sizeof(float));
		cv->b = stride_alloc_aligned(cp * sizeof(float));
		if (!cv->w || !cv->b)
			goto oom;
		for (int c = 0; c < c_in; c++) {
			for (int k = 0; k < kernel; k++)
				cv->w[(size_t)k * cp + c] = w[(size_t)c * kernel + k];
			cv->b[c] = bias ? bias[c] : 0.0f;
		}
		return 0;
	}
	cv->panels = (cv->og + STRIDE_RT_PANEL - 1) / STRIDE_RT_PANEL;
	const size_t reduce = (size_t)kernel * cv->cg;
	size_t count;
	if (!stride_mul_size((size_t)groups * cv->panels * STRIDE_RT_PANEL, reduce, &count))
		goto oom;
	cv->w = stride_alloc_aligned(count * sizeof(float));
	cv->b = stride_alloc_aligned((size_t)groups * cv->panels * STRIDE_RT_PANEL * sizeof(float));
	if (!cv->w || !cv->b)
		goto oom;
	/* panel rows in the order the kernels walk the reduction: tap-major, then
	 * channel (for groups == 1, dilation 1 that is also frame-major order) */
	for (int g = 0; g < groups; g++) {
		for (int p = 0; p < cv->panels; p++) {
			float *wp = cv->w + ((size_t)g * cv->panels + p) * reduce * STRIDE_RT_PANEL;
			float *bp = cv->b + ((size_t)g * cv->panels + p) * STRIDE_RT_PANEL;
			for (int i = 0; i < STRIDE_RT_PANEL; i++) {
				const int o = p * STRIDE_RT_PANEL + i;
				if (o >= cv->og)
					break; /* padding lanes stay zero */
				const int oc = g * cv->og + o;
				bp[i] = bias ? bias[oc] : 0.0f;
				for (int k = 0; k < kernel; k++)
					for (int c = 0; c < cv->cg; c++)
						wp[((size_t)k * cv->cg + c) * STRIDE_RT_PANEL + i] =
						        w[((size_t)oc * cv->cg + c) * kernel + k];
			}
		}
	}
	return 0;
oom:
	stride_rt_conv_free(cv);
	return -1;
}

void stride_rt_conv_free(StrideRtConv *cv)
{
	stride_free_aligned(cv->w);
	stride_free_aligned(cv->b);
	cv->w = cv->b = NULL;
}

static void depthwise_portable(const StrideRtConv *cv, const float *x, int ldx, float *y, int ldy,
                               int n)
{
	const size_t cp = (size_t)round8(cv->c_in);
	for (int j = 0; j < n; j++) {
		const float *xj = x + (size_t)j * cv->stride * ldx;
		float *yj = y + (size_t)j * ldy;
		for (int c = 0; c < cv->c_in; c++)
			yj[c] = cv->b[c];
		for (int k = 0; k < cv->kernel; k++) {
			const float *xk = xj + (size_t)k * cv->dilation * ldx;
			const float *wk = cv->w + (size_t)k * cp;
			for (int c = 0; c < cv->c_in; c++)
				yj[c] += wk[c] * xk[c];
		}
	}
}

/* The portable kernels use the compilers' generic vectors (GCC and clang):
 * SSE2 on x86-64, NEON on ARM, plain code elsewhere. A panel of 16 outputs is
 * four vectors of four. */
typedef float Vec4 __attribute__((vector_size(16)));

static Vec4 splat(float v)
{
	const Vec4 r = { v, v, v, v };
	return r;
}

static Vec4 load4(const float *p)
{
	Vec4 r;
	memcpy(&r, p, sizeof r);
	return r;
}

/* Written out by hand: compilers keep arrays of accumulators in memory. */
#define FMA4(A, v, wp)                                                                             \
	A##0 += (v) * load4(wp);                                                                   \
	A##1 += (v) * load4((wp) + 4);                                                             \
	A##2 += (v) * load4((wp) + 8);                                                             \
	A##3 += (v) * load4((wp) + 12);

static void store_panel4(float *y, Vec4 a0, Vec4 a1, Vec4 a2, Vec4 a3, int width)
{
	float out[STRIDE_RT_PANEL];
	memcpy(out, &a0, sizeof a0);
	memcpy(out + 4, &a1, sizeof a1);
	memcpy(out + 8, &a2, sizeof a2);
	memcpy(out + 12, &a3, sizeof a3);
	memcpy(y, out, (size_t)width * sizeof(float));
}

/* Two frames of one panel: 8 accumulators, 4 weight vectors and 2 inputs fit
 * the 16 registers of SSE2 and NEON's 32. */
static void panel_block2(const float *x, long fstep, StrideRtWalk wk, const float *w,
                         const float *b, float *y, long ldy, int width)
{
	Vec4 p0 = load4(b), p1 = load4(b + 4), p2 = load4(b + 8), p3 = load4(b + 12);
	Vec4 q0 = p0, q1 = p1, q2 = p2, q3 = p3;
	for (int k = 0; k < wk.nk; k++) {
		const float *xp = x + k * wk.kstep;
		for (int c = 0; c < wk.nc; c++, xp += wk.cstep, w += STRIDE_RT_PANEL) {
			const Vec4 u = splat(xp[0]), v = splat(xp[fstep]);
			FMA4(p, u, w)
			FMA4(q, v, w)
		}
	}
	store_panel4(y, p0, p1, p2, p3, width);
	store_panel4(y + ldy, q0, q1, q2, q3, width);
}

/* One frame of one panel, the reduction split in two: 8 accumulators. */
static void panel_frame(const float *x, StrideRtWalk wk, const float *w, const float *b, float *y,
                        int width)
{
	Vec4 p0 = load4(b), p1 = load4(b + 4), p2 = load4(b + 8), p3 = load4(b + 12);
	const Vec4 zero = splat(0.0f);
	Vec4 q0 = zero, q1 = zero, q2 = zero, q3 = zero;
	for (int k = 0; k < wk.nk; k++) {
		const float *xp = x + k * wk.kstep;
		int c = 0;
		for (; c + 2 <= wk.nc; c += 2, xp += 2 * wk.cstep, w += 2 * STRIDE_RT_PANEL) {
			const Vec4 u = splat(xp[0]), v = splat(xp[wk.cstep]);
			FMA4(p, u, w)
			FMA4(q, v, w + STRIDE_RT_PANEL)
		}
		for (; c < wk.nc; c++, xp += wk.cstep, w += STRIDE_RT_PANEL) {
			const Vec4 u = splat(xp[0]);
			FMA4(p, u, w)
		}
	}
	store_panel4(y, p0 + q0, p1 + q1, p2 + q2, p3 + q3, width);
}

static void conv_portable(const StrideRtConv *cv, const float *x, int ldx, float *y, int ldy, int n)
{
	const StrideRtWalk wk = stride_rt_walk(cv, ldx);
	const size_t reduce = (size_t)cv->kernel * cv->cg;
	const long fstep = (long)cv->stride * ldx;
	for (int g = 0; g < cv->groups; g++) {
		const float *xg = x + (size_t)g * cv->cg;
		for (int p = 0; p < cv->panels; p++) {
			const size_t panel = (size_t)g * cv->panels + p;
			const float *wp = cv->w + panel * reduce * STRIDE_RT_PANEL;
			const float *bp = cv->b + panel * STRIDE_RT_PANEL;
			float *yp = y + g * cv->og + p * STRIDE_RT_PANEL;
			int width = cv->og - p * STRIDE_RT_PANEL;
			if (width > STRIDE_RT_PANEL)
				width = STRIDE_RT_PANEL;
			int j = 0;
			for (; j + 2 <= n; j += 2)
				panel_block2(xg + j * fstep, fstep, wk, wp, bp, yp + (size_t)j * ldy, ldy,
				             width);
			for (; j < n; j++)
				panel_frame(xg + j * fstep, wk, wp, bp, yp + (size_t)j * ldy, width);
		}
	}
}

void stride_rt_conv_run(const StrideRtConv *cv, const float *x, int ldx, float *y, int ldy, int n)
{
	if (n <= 0)
		return;
	if (cv->isa == STRIDE_RT_AVX2)
		stride_rt_conv_run_avx2(cv, x, ldx, y, ldy, n);
	else if (cv->depthwise)
		depthwise_portable(cv, x, ldx, y, ldy, n);
	else
		conv_portable(cv, x, ldx, y, ldy, n);
}

void stride_rt_planar_to_frames(StrideRtIsa isa, const float *in, int stride_in, int ch, int m,
                                float gain, float *dst)
{
	if (isa == STRIDE_RT_AVX2) {
		stride_rt_planar_to_frames_avx2(in, stride_in, ch, m, gain, dst);
		return;
	}
	/* tiles of frames, so the transposed writes stay in cache */
	for (int i0 = 0; i0 < m; i0 += 16) {
		const int i1 = m - i0 < 16 ? m : i0 + 16;
		for (int c = 0; c < ch; c++) {
			const float *src = in + (size_t)c * stride_in;
			for (int i = i0; i < i1; i++)
				dst[(size_t)i * ch + c] = stride_sanitize(src[i] * gain);
		}
	}
}

void stride_rt_maxpool(int c, int t_in, int kernel, int stride, int padding, const float *x,
                       float *y, int n)
{
	for (int j = 0; j < n; j++) {
		float *yj = y + (size_t)j * c;
		const int start = j * stride - padding;
		bool first = true;
		for (int k = 0; k < kernel; k++) {
			const int i = start + k;
			if (i < 0 || i >= t_in)
				continue;
			const float *xi = x + (size_t)i * c;
			if (first) {
				memcpy(yj, xi, (size_t)c * sizeof(float));
				first = false;
				continue;
			}
			/* `!(v <= best)` lets a NaN win, as the batch layer does */
			for (int ch = 0; ch < c; ch++)
				if (!(xi[ch] <= yj[ch]))
					yj[ch] = xi[ch];
		}
		if (first) /* no frame inside: cannot happen with padding <= kernel / 2 */
			for (int ch = 0; ch < c; ch++)
				yj[ch] = -FLT_MAX;
	}
}

void stride_rt_avgpool(int c, int t_in, int kernel, int stride, int padding, const float *x,
                       float *y, int n)
{
	const float inv = 1.0f / (float)kernel;
	for (int j = 0; j < n; j++) {
		float *yj = y + (size_t)j * c;
		const int start = j * stride - padding;
		for (int ch = 0; ch < c; ch++)
			yj[ch] = 0.0f;
		for (int k = 0; k < kernel; k++) {
			const int i = start + k;
			if (i < 0 || i >= t_in)
				continue;
			const float *xi = x + (size_t)i * c;
			for (int ch = 0; ch < c; ch++)
				yj[ch] += xi[ch];
		}
		for (int ch = 0; ch < c; ch++)
			yj[ch] *= inv;
	}
}

void stride_rt_global_avg(int c, int t, const float *x, float *y)
{
	for (int ch = 0; ch < c; ch++) {
		double sum = 0.0;
		for (int i = 0; i < t; i++)
			sum += x[(size_t)i * c + ch];
		y[ch] = (float)(sum / t);
	}
}

void stride_rt_global_max(int c, int t, const float *x, float *y)
{
	for (int ch = 0; ch < c; ch++) {
		float best = x[ch];
		for (int i = 1; i < t; i++) {
			const float v = x[(size_t)i * c + ch];
			if (!(v <= best))
				best = v;
		}
		y[ch] = best;
	}
}

void stride_rt_affine(int c, int n, const float *scale, const float *shift, const float *x,
                      float *y)
{
	for (int j = 0; j < n; j++)
		for (int ch = 0; ch < c; ch++)
			y[(size_t)j * c + ch] = x[(size_t)j * c + ch] * scale[ch] + shift[ch];
}

void stride_rt_softmax(int c, int n, const float *x, float *y)
{
	for (int j = 0; j < n; j++) {
		const float *xj = x + (size_t)j * c;
		float *yj = y + (size_t)j * c;
		float mx = xj[0];
		for (int k = 1; k < c; k++)
			if (xj[k] > mx)
				mx = xj[k];
		double sum = 0.0;
		for (int k = 0; k < c; k++) {
			const float e = expf(xj[k] - mx);
			yj[k] = e;
			sum += e;
		}
		const float inv = (float)(1.0 / sum);
		for (int k = 0; k < c; k++)
			yj[k] *= inv;
	}
}
