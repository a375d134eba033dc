/* Internal: the real-time compute kernels of the streaming engine.
 *
 * Blocks are frame-major: frame t of a block of C channels is x[t * ld + c], so
 * one frame's channels are contiguous. A conv1d over a block is then a small
 * matrix product, y[j, o] = b[o] + sum over taps k and channels c of
 * w_k[c, o] * x[j*stride + k*dilation, c], computed straight from the frames
 * (no patch matrix), with the weights packed once per layer into panels of 16
 * outputs so the inner loop streams through them.
 *
 * Two builds of the kernels: portable C, and AVX2+FMA selected at run time (the
 * caller asks stride_rt_detect_isa() once and keeps the answer), so a
 * distribution can ship one binary. None of these functions allocates, locks
 * or calls BLAS, except _init and _free. */
#ifndef STRIDE_RT_KERNELS_H
#define STRIDE_RT_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "stride.h"

typedef enum { STRIDE_RT_PORTABLE, STRIDE_RT_AVX2 } StrideRtIsa;

/* The best kernel set this CPU runs (checks the CPU; call it once, not per
 * block). STRIDE_RT_ISA=portable in the environment forces the portable set. */
StrideRtIsa stride_rt_detect_isa(void);
const char *stride_rt_isa_name(StrideRtIsa isa);

/* Outputs per packed weight panel. */
#define STRIDE_RT_PANEL 16

/* A conv1d (or a dense layer: kernel 1 over one frame of `in` features) with
 * its weights packed for the kernels. */
typedef struct {
	int c_in, c_out, kernel, stride, dilation, groups;
	int cg, og;       /* input and output channels per group */
	int panels;       /* per group: ceil(og / 16) */
	bool depthwise;   /* one input and one output channel per group */
	StrideRtIsa isa;
	float *w;         /* [groups][panels][kernel * cg][16]; depthwise: [kernel][c_in rounded up to 8] */
	float *b;         /* [groups][panels][16]; depthwise: [c_in rounded up to 8] */
} StrideRtConv;

/* Packs PyTorch-layout weights w[c_out][c_in / groups][kernel] and bias (NULL:
 * zeros). Returns 0, or -1 when out of memory. */
int stride_rt_conv_init(StrideRtConv *cv, int c_in, int c_out, int kernel, int stride,
                        int dilation, int groups, const float *w, const float *bias,
                        StrideRtIsa isa);
void stride_rt_conv_free(StrideRtConv *cv);

/* n output frames, unpadded: y[j * ldy + o] for j < n from x frames
 * [0, (n - 1) * stride + (kernel - 1) * dilation]. ldx >= c_in, ldy >= c_out;
 * y must not overlap x. */
void stride_rt_conv_run(const StrideRtConv *cv, const float *x, int ldx, float *y, int ldy, int n);

/* How the kernels walk the reduction of one output: nk steps of kstep floats,
 * each of nc steps of cstep floats, one packed weight row per step. */
typedef struct {
	int nk, nc;
	long kstep, cstep;
} StrideRtWalk;

static inline StrideRtWalk stride_rt_walk(const StrideRtConv *cv, int ldx)
{
	StrideRtWalk wk;
	if (cv->groups == 1 && cv->dilation == 1 && ldx == cv->c_in) {
		/* taps of adjacent frames are adjacent floats: one flat run */
		wk.nk = 1;
		wk.kstep = 0;
		wk.nc = cv->kernel * cv->c_in;
		wk.cstep = 1;
	} else if (cv->cg == 1) {
		wk.nk = 1;
		wk.kstep = 0;
		wk.nc = cv->kernel;
		wk.cstep = (long)cv->dilation * ldx;
	} else {
		wk.nk = cv->kernel;
		wk.kstep = (long)cv->dilation * ldx;
		wk.nc = cv->cg;
		wk.cstep = 1;
	}
	return wk;
}

/* The AVX2+FMA build of stride_rt_conv_run (rt_kernels_avx2.c); only call it
 * when stride_rt_detect_isa() said so. */
void stride_rt_conv_run_avx2(const StrideRtConv *cv, const float *x, int ldx, float *y, int ldy,
                             int n);

/* Pools over n output frames, per channel, as the batch layers compute them: a
 * frame outside [0, t_in) is padding (never wins a max; counts as 0 in an
 * average, as PyTorch's count_include_pad). */
void stride_rt_maxpool(int c, int t_in, int kernel, int stride, int padding, const float *x,
                       float *y, int n);
void stride_rt_avgpool(int c, int t_in, int kernel, int stride, int padding, const float *x,
                       float *y, int n);

/* Planar input to frames: dst[i * ch + c] = in[c * stride_in + i] * gain for
 * i < m, with anything that is not a normal finite number (NaN, infinities,
 * denormals, and products that overflow) replaced by 0. */
void stride_rt_planar_to_frames(StrideRtIsa isa, const float *in, int stride_in, int ch, int m,
                                float gain, float *dst);
void stride_rt_planar_to_frames_avx2(const float *in, int stride_in, int ch, int m, float gain,
                                     float *dst);

/* Global pools: t frames of c channels to one frame. */
void stride_rt_global_avg(int c, int t, const float *x, float *y);
void stride_rt_global_max(int c, int t, const float *x, float *y);

/* Per-frame layers over n frames of c channels, in place allowed (y == x). */
void stride_rt_affine(int c, int n, const float *scale, const float *shift, const float *x,
                      float *y);
void stride_rt_softmax(int c, int n, const float *x, float *y);

#endif /* STRIDE_RT_KERNELS_H */
