/* The AVX2+FMA conv1d kernels. Compiled for generic x86-64 like the rest, with
 * the instructions enabled per function (target attribute), and only called
 * after the CPU has been checked: a distribution can ship one binary.
 *
 * Register blocking: a block of 6 (or 4) output frames x one panel of 16
 * outputs keeps 12 (8) accumulators in registers; each reduction step loads the
 * panel's two weight vectors once and broadcasts one input value per frame.
 * A single frame (the one-sample-per-call case) gets kernels that still keep 8
 * to 12 independent accumulator chains: four panels at once, or one or two
 * panels with the reduction split into interleaved partial sums. */
#include "rt_kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include "util.h"

#define AVX2 __attribute__((target("avx2,fma")))
/* the kernels get their own register allocation, not one shared by every path */
#define KERNEL __attribute__((noinline)) AVX2
#define PANEL STRIDE_RT_PANEL

/* Lanes below `width` of the two halves of a panel. */
AVX2 static inline void panel_masks(int width, __m256i *m0, __m256i *m1)
{
	const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	*m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width), iota);
	*m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width - 8), iota);
}

/* Stores a panel's outputs; a partial panel (the last of a group) must not
 * write past its outputs: the next frame's channels follow in memory. */
AVX2 static inline void store_panel(float *y, __m256 v0, __m256 v1, int width)
{
	if (width == PANEL) {
		_mm256_storeu_ps(y, v0);
		_mm256_storeu_ps(y + 8, v1);
	} else {
		__m256i m0, m1;
		panel_masks(width, &m0, &m1);
		_mm256_maskstore_ps(y, m0, v0);
		_mm256_maskstore_ps(y + 8, m1, v1);
	}
}

/* ------------------------------------------------------------------------ */
/* Frame blocks                                                             */
/* ------------------------------------------------------------------------ */

#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define ROWS4(X) X(0) X(1) X(2) X(3)

#define BLK_DECL(m)                                                                                \
	__m256 a##m##0 = b0, a##m##1 = b1;                                                         \
	const float *x##m = x + (m) * fstep;
#define BLK_STEP(m)                                                                                \
	{                                                                                          \
		const __m256 v = _mm256_broadcast_ss(x##m + off);                                  \
		a##m##0 = _mm256_fmadd_ps(v, w0, a##m##0);                                         \
		a##m##1 = _mm256_fmadd_ps(v, w1, a##m##1);                                         \
	}
#define BLK_STORE(m) store_panel(y + (m) * ldy, a##m##0, a##m##1, width);

/* Frames x[0], x[fstep], ... of one panel: y[m * ldy + i] for i < width. */
#define BLOCK_KERNEL(NAME, ROWS)                                                                   \
	KERNEL static void NAME(const float *x, long fstep, StrideRtWalk wk, const float *w,           \
	                      const float *b, float *y, long ldy, int width)                        \
	{                                                                                          \
		const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);                  \
		ROWS(BLK_DECL)                                                                     \
		for (int k = 0; k < wk.nk; k++) {                                                  \
			long off = k * wk.kstep;                                                   \
			for (int c = 0; c < wk.nc; c++, off += wk.cstep, w += PANEL) {             \
				const __m256 w0 = _mm256_load_ps(w), w1 = _mm256_load_ps(w + 8);   \
				ROWS(BLK_STEP)                                                     \
			}                                                                          \
		}                                                                                  \
		ROWS(BLK_STORE)                                                                    \
	}

BLOCK_KERNEL(block6, ROWS6)
BLOCK_KERNEL(block4, ROWS4)

/* ------------------------------------------------------------------------ */
/* Single frames                                                            */
/* ------------------------------------------------------------------------ */

/* Eight consecutive inputs broadcast from one load by shuffles, instead of
 * eight broadcast loads: with a single frame every weight is loaded once per
 * FMA, so the load ports, not the FMA units, are the limit. */
#define SPREAD8(xp, V)                                                                             \
	const __m256 xv_ = _mm256_loadu_ps(xp);                                                    \
	const __m256 lo_ = _mm256_permute2f128_ps(xv_, xv_, 0x00);                                 \
	const __m256 hi_ = _mm256_permute2f128_ps(xv_, xv_, 0x11);                                 \
	const __m256 V##0 = _mm256_shuffle_ps(lo_, lo_, 0x00), V##1 = _mm256_shuffle_ps(lo_, lo_, 0x55); \
	const __m256 V##2 = _mm256_shuffle_ps(lo_, lo_, 0xAA), V##3 = _mm256_shuffle_ps(lo_, lo_, 0xFF); \
	const __m256 V##4 = _mm256_shuffle_ps(hi_, hi_, 0x00), V##5 = _mm256_shuffle_ps(hi_, hi_, 0x55); \
	const __m256 V##6 = _mm256_shuffle_ps(hi_, hi_, 0xAA), V##7 = _mm256_shuffle_ps(hi_, hi_, 0xFF);

/* Four panels (64 outputs): 8 chains. */
#define P4_FMA(i, v)                                                                               \
	a00 = _mm256_fmadd_ps(v, _mm256_load_ps(w + (i) * PANEL), a00);                            \
	a01 = _mm256_fmadd_ps(v, _mm256_load_ps(w + (i) * PANEL + 8), a01);                        \
	a10 = _mm256_fmadd_ps(v, _mm256_load_ps(w1 + (i) * PANEL), a10);                           \
	a11 = _mm256_fmadd_ps(v, _mm256_load_ps(w1 + (i) * PANEL + 8), a11);                       \
	a20 = _mm256_fmadd_ps(v, _mm256_load_ps(w2 + (i) * PANEL), a20);                           \
	a21 = _mm256_fmadd_ps(v, _mm256_load_ps(w2 + (i) * PANEL + 8), a21);                       \
	a30 = _mm256_fmadd_ps(v, _mm256_load_ps(w3 + (i) * PANEL), a30);                           \
	a31 = _mm256_fmadd_ps(v, _mm256_load_ps(w3 + (i) * PANEL + 8), a31);

KERNEL static void frame_p4(const float *x, StrideRtWalk wk, const float *w, size_t pstride,
                            const float *b, float *y, const int width[4])
{
	__m256 a00 = _mm256_load_ps(b), a01 = _mm256_load_ps(b + 8);
	__m256 a10 = _mm256_load_ps(b + 16), a11 = _mm256_load_ps(b + 24);
	__m256 a20 = _mm256_load_ps(b + 32), a21 = _mm256_load_ps(b + 40);
	__m256 a30 = _mm256_load_ps(b + 48), a31 = _mm256_load_ps(b + 56);
	const float *w1 = w + pstride, *w2 = w + 2 * pstride, *w3 = w + 3 * pstride;
	const long cstep = wk.cstep;
	for (int k = 0; k < wk.nk; k++) {
		const float *xp = x + k * wk.kstep;
		int c = 0;
		if (cstep == 1) {
			for (; c + 8 <= wk.nc; c += 8, xp += 8, w += 8 * PANEL, w1 += 8 * PANEL,
			                       w2 += 8 * PANEL, w3 += 8 * PANEL) {
				SPREAD8(xp, v)
				P4_FMA(0, v0)
				P4_FMA(1, v1)
				P4_FMA(2, v2)
				P4_FMA(3, v3)
				P4_FMA(4, v4)
				P4_FMA(5, v5)
				P4_FMA(6, v6)
				P4_FMA(7, v7)
			}
		}
		for (; c < wk.nc; c++, xp += cstep, w += PANEL, w1 += PANEL, w2 += PANEL, w3 += PANEL) {
			const __m256 v = _mm256_broadcast_ss(xp);
			P4_FMA(0, v)
		}
	}
	store_panel(y, a00, a01, width[0]);
	store_panel(y + PANEL, a10, a11, width[1]);
	store_panel(y + 2 * PANEL, a20, a21, width[2]);
	store_panel(y + 3 * PANEL, a30, a31, width[3]);
}

/* Reduction step i of the split kernels below: input value v, weight row i. */
#define P1_FMA(i, v, A0, A1)                                                                       \
	A0 = _mm256_fmadd_ps(v, _mm256_load_ps(w + (i) * PANEL), A0);                              \
	A1 = _mm256_fmadd_ps(v, _mm256_load_ps(w + (i) * PANEL + 8), A1);
#define P2_FMA(i, v, A0, A1, B0, B1)                                                               \
	P1_FMA(i, v, A0, A1)                                                                       \
	B0 = _mm256_fmadd_ps(v, _mm256_load_ps(w1 + (i) * PANEL), B0);                             \
	B1 = _mm256_fmadd_ps(v, _mm256_load_ps(w1 + (i) * PANEL + 8), B1);

/* Two panels, the reduction split in four interleaved parts: 16 chains. */
KERNEL static void frame_p2(const float *x, StrideRtWalk wk, const float *w, size_t pstride,
                            const float *b, float *y, const int width[2])
{
	__m256 a00 = _mm256_load_ps(b), a01 = _mm256_load_ps(b + 8);
	__m256 a10 = _mm256_load_ps(b + 16), a11 = _mm256_load_ps(b + 24);
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
	const float *w1 = w + pstride;
	const long cstep = wk.cstep;
	for (int k = 0; k < wk.nk; k++) {
		const float *xp = x + k * wk.kstep;
		int c = 0;
		if (cstep == 1) {
			for (; c + 8 <= wk.nc; c += 8, xp += 8, w += 8 * PANEL, w1 += 8 * PANEL) {
				SPREAD8(xp, v)
				P2_FMA(0, v0, a00, a01, a10, a11)
				P2_FMA(1, v1, c00, c01, c10, c11)
				P2_FMA(2, v2, a00, a01, a10, a11)
				P2_FMA(3, v3, c00, c01, c10, c11)
				P2_FMA(4, v4, a00, a01, a10, a11)
				P2_FMA(5, v5, c00, c01, c10, c11)
				P2_FMA(6, v6, a00, a01, a10, a11)
				P2_FMA(7, v7, c00, c01, c10, c11)
			}
		}
		for (; c < wk.nc; c++, xp += cstep, w += PANEL, w1 += PANEL) {
			const __m256 v = _mm256_broadcast_ss(xp);
			P2_FMA(0, v, a00, a01, a10, a11)
		}
	}
	store_panel(y, _mm256_add_ps(a00, c00), _mm256_add_ps(a01, c01), width[0]);
	store_panel(y + PANEL, _mm256_add_ps(a10, c10), _mm256_add_ps(a11, c11), width[1]);
}

/* One panel, the reduction split in four interleaved parts: 8 chains. */
KERNEL static void frame_p1(const float *x, StrideRtWalk wk, const float *w, const float *b,
                            float *y, int width)
{
	__m256 a0 = _mm256_load_ps(b), a1 = _mm256_load_ps(b + 8);
	__m256 c0 = _mm256_setzero_ps(), c1 = c0, d0 = c0, d1 = c0, e0 = c0, e1 = c0;
	const long cstep = wk.cstep;
	for (int k = 0; k < wk.nk; k++) {
		const float *xp = x + k * wk.kstep;
		int c = 0;
		if (cstep == 1) {
			for (; c + 8 <= wk.nc; c += 8, xp += 8, w += 8 * PANEL) {
				SPREAD8(xp, v)
				P1_FMA(0, v0, a0, a1)
				P1_FMA(1, v1, c0, c1)
				P1_FMA(2, v2, d0, d1)
				P1_FMA(3, v3, e0, e1)
				P1_FMA(4, v4, a0, a1)
				P1_FMA(5, v5, c0, c1)
				P1_FMA(6, v6, d0, d1)
				P1_FMA(7, v7, e0, e1)
			}
		}
		for (; c + 4 <= wk.nc; c += 4, xp += 4 * cstep, w += 4 * PANEL) {
			const __m256 u = _mm256_broadcast_ss(xp), v = _mm256_broadcast_ss(xp + cstep);
			const __m256 q = _mm256_broadcast_ss(xp + 2 * cstep);
			const __m256 r = _mm256_broadcast_ss(xp + 3 * cstep);
			P1_FMA(0, u, a0, a1)
			P1_FMA(1, v, c0, c1)
			P1_FMA(2, q, d0, d1)
			P1_FMA(3, r, e0, e1)
		}
		for (; c < wk.nc; c++, xp += cstep, w += PANEL) {
			const __m256 u = _mm256_broadcast_ss(xp);
			P1_FMA(0, u, a0, a1)
		}
	}
	a0 = _mm256_add_ps(_mm256_add_ps(a0, c0), _mm256_add_ps(d0, e0));
	a1 = _mm256_add_ps(_mm256_add_ps(a1, c1), _mm256_add_ps(d1, e1));
	store_panel(y, a0, a1, width);
}

/* ------------------------------------------------------------------------ */
/* Depthwise: channels are the vector lanes                                 */
/* ------------------------------------------------------------------------ */

AVX2 static void depthwise(const StrideRtConv *cv, const float *x, int ldx, float *y, int ldy,
                           int n)
{
	const int cp = (cv->c_in + 7) & ~7;
	const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(cv->c_in & 7), iota);
	const int full = cv->c_in & ~7;
	for (int j = 0; j < n; j++) {
		const float *xj = x + (size_t)j * cv->stride * ldx;
		float *yj = y + (size_t)j * ldy;
		for (int c = 0; c < cp; c += 8) {
			__m256 acc = _mm256_load_ps(cv->b + c);
			for (int k = 0; k < cv->kernel; k++) {
				const float *xk = xj + (size_t)k * cv->dilation * ldx + c;
				const __m256 v = c < full ? _mm256_loadu_ps(xk) : _mm256_maskload_ps(xk, tail);
				acc = _mm256_fmadd_ps(v, _mm256_load_ps(cv->w + (size_t)k * cp + c), acc);
			}
			if (c < full)
				_mm256_storeu_ps(yj + c, acc);
			else
				_mm256_maskstore_ps(yj + c, tail, acc);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Input: planar to frames                                                  */
/* ------------------------------------------------------------------------ */

/* v * gain through the one sanitiser (util.h: stride_sanitize), 8 at a time. */
AVX2 static inline __m256 sanitize8(__m256 v, __m256 gain)
{
	v = _mm256_mul_ps(v, gain);
	const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
	const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(a, _mm256_set1_ps(STRIDE_SAMPLE_MIN), _CMP_GE_OQ),
	                                _mm256_cmp_ps(a, _mm256_set1_ps(STRIDE_SAMPLE_MAX), _CMP_LE_OQ));
	return _mm256_and_ps(v, ok);
}

static inline float sanitize1(float v, float gain)
{
	return stride_sanitize(v * gain);
}

/* 8 channels x 8 frames, transposed: registers r[c] hold frames of channel c. */
AVX2 static inline void transpose8(__m256 r[8])
{
	const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
	const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
	const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
	const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
	const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
	const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
	const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
	const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
	r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
	r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
	r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
	r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
	r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
	r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
	r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
	r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

AVX2 void stride_rt_planar_to_frames_avx2(const float *in, int stride_in, int ch, int m,
                                          float gain, float *dst)
{
	const __m256 g = _mm256_set1_ps(gain);
	if (ch == 1) {
		int i = 0;
		for (; i + 8 <= m; i += 8)
			_mm256_storeu_ps(dst + i, sanitize8(_mm256_loadu_ps(in + i), g));
		for (; i < m; i++)
			dst[i] = sanitize1(in[i], gain);
		return;
	}
	const int c8 = ch & ~7, m8 = m & ~7;
	for (int i = 0; i < m8; i += 8) {
		for (int c = 0; c < c8; c += 8) {
			__m256 r[8];
			for (int k = 0; k < 8; k++)
				r[k] = sanitize8(_mm256_loadu_ps(in + (size_t)(c + k) * stride_in + i), g);
			transpose8(r);
			for (int k = 0; k < 8; k++)
				_mm256_storeu_ps(dst + (size_t)(i + k) * ch + c, r[k]);
		}
		for (int c = c8; c < ch; c++)
			for (int k = 0; k < 8; k++)
				dst[(size_t)(i + k) * ch + c] = sanitize1(in[(size_t)c * stride_in + i + k], gain);
	}
	/* the last frames (all of them for one sample per call): gather 8 channels
	 * at a time when the offsets fit the gather's 32-bit indices */
	const bool gather = (long long)ch * stride_in < 0x7fffffffLL;
	const __m256i step = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
	                                        _mm256_set1_epi32(stride_in));
	for (int i = m8; i < m; i++) {
		float *d = dst + (size_t)i * ch;
		int c = 0;
		if (gather)
			for (; c + 8 <= ch; c += 8)
				_mm256_storeu_ps(d + c, sanitize8(_mm256_i32gather_ps(in + (size_t)c * stride_in + i,
				                                                      step, 4), g));
		for (; c < ch; c++)
			d[c] = sanitize1(in[(size_t)c * stride_in + i], gain);
	}
}

/* ------------------------------------------------------------------------ */

static int panel_width(const StrideRtConv *cv, int p)
{
	const int w = cv->og - p * PANEL;
	return w < PANEL ? w : PANEL;
}

/* Every panel of one group for one frame. */
AVX2 static void one_frame(const StrideRtConv *cv, StrideRtWalk wk, const float *x,
                           const float *wg, const float *bg, float *y)
{
	const size_t pstride = (size_t)cv->kernel * cv->cg * PANEL;
	int p = 0;
	for (; p + 4 <= cv->panels; p += 4) {
		const int width[4] = { panel_width(cv, p), panel_width(cv, p + 1),
			               panel_width(cv, p + 2), panel_width(cv, p + 3) };
		frame_p4(x, wk, wg + p * pstride, pstride, bg + p * PANEL, y + p * PANEL, width);
	}
	if (p + 2 <= cv->panels) {
		const int width[2] = { panel_width(cv, p), panel_width(cv, p + 1) };
		frame_p2(x, wk, wg + p * pstride, pstride, bg + p * PANEL, y + p * PANEL, width);
		p += 2;
	}
	if (p < cv->panels)
		frame_p1(x, wk, wg + p * pstride, bg + p * PANEL, y + p * PANEL, panel_width(cv, p));
}

AVX2 void stride_rt_conv_run_avx2(const StrideRtConv *cv, const float *x, int ldx, float *y,
                                  int ldy, int n)
{
	if (cv->depthwise) {
		depthwise(cv, x, ldx, y, ldy, n);
		return;
	}
	const StrideRtWalk wk = stride_rt_walk(cv, ldx);
	if (n == 1 && cv->groups == 1) {
		/* one sample per call: straight to the single-frame kernels */
		one_frame(cv, wk, x, cv->w, cv->b, y);
		return;
	}
	const size_t pstride = (size_t)cv->kernel * cv->cg * PANEL;
	const long fstep = (long)cv->stride * ldx;
	/* frames [0, blocked) go through the block kernels, the rest one by one */
	const int n6 = n >= 4 ? n / 6 * 6 : 0;
	const int n4 = n - n6 >= 4 ? 4 : 0;
	const int blocked = n6 + n4;
	for (int g = 0; g < cv->groups; g++) {
		const float *xg = x + (size_t)g * cv->cg;
		float *yg = y + (size_t)g * cv->og;
		const float *wg = cv->w + (size_t)g * cv->panels * pstride;
		const float *bg = cv->b + (size_t)g * cv->panels * PANEL;
		for (int p = 0; p < cv->panels; p++) {
			const float *wp = wg + p * pstride;
			const int width = panel_width(cv, p);
			for (int j = 0; j < n6; j += 6)
				block6(xg + j * fstep, fstep, wk, wp, bg + p * PANEL,
				       yg + (size_t)j * ldy + p * PANEL, ldy, width);
			if (n4)
				block4(xg + n6 * fstep, fstep, wk, wp, bg + p * PANEL,
				       yg + (size_t)n6 * ldy + p * PANEL, ldy, width);
		}
		for (int j = blocked; j < n; j++)
			one_frame(cv, wk, xg + j * fstep, wg, bg, yg + (size_t)j * ldy);
	}
}

#else /* not x86: never selected */

void stride_rt_planar_to_frames_avx2(const float *in, int stride_in, int ch, int m, float gain,
                                     float *dst)
{
	stride_rt_planar_to_frames(STRIDE_RT_PORTABLE, in, stride_in, ch, m, gain, dst);
}

void stride_rt_conv_run_avx2(const StrideRtConv *cv, const float *x, int ldx, float *y, int ldy,
                             int n)
{
	(void)cv;
	(void)x;
	(void)ldx;
	(void)y;
	(void)ldy;
	(void)n;
}

#endif
