/* Internal: a polyphase windowed-sinc resampler for the detectors: the host's
 * rate to the model's, in real time. Not part of the public API.
 *
 * Output sample j is the band-limited input at input time j * in_rate /
 * out_rate exactly (zero phase: the kernel is centred there), so there is no
 * group delay to account for, only a hold-back: output j is produced by the
 * push that brings the input up to frame floor(j * in/out) + half, which is at
 * most stride_resampler_holdback() frames after its own time. The arithmetic of
 * positions is exact integer arithmetic, so nothing drifts; with more than
 * 4096 phases (rates without a large common divisor) the phase is rounded to
 * the nearest of 4096, a timing error below 1/8192 of an input frame.
 *
 * Why not libsamplerate: its sinc converters are real-time safe (tested) but
 * interpolate their coefficients on every tap; this one reads a precomputed
 * table and costs about 1/15 of libsamplerate's cheapest sinc converter
 * (SRC_SINC_FASTEST) here (bench/bench_resampler, bench/README.md).
 *
 * Threading: _new and _free allocate; everything else is real-time safe. */
#ifndef STRIDE_RESAMPLER_H
#define STRIDE_RESAMPLER_H

#include "stride.h"

typedef struct StrideResampler StrideResampler;

/* in_rate, out_rate in Hz (whole, 1 .. 1e6, ratio at most 256 either way);
 * max_in: the most frames one process call takes. */
StrideResampler *stride_resampler_new(int in_rate, int out_rate, int channels, int max_in,
                                      char err[STRIDE_ERR_LEN]);
void stride_resampler_free(StrideResampler *r);

/* Back to silence, as if just created. Real-time safe. */
void stride_resampler_reset(StrideResampler *r);

/* Takes n <= max_in frames, planar: in[c * in_stride + i]; writes every output
 * frame that became computable to out[c * out_stride + k] and returns how many
 * (at most stride_resampler_max_out). Real-time safe. */
int stride_resampler_process(StrideResampler *r, const float *in, int in_stride, int n, float *out,
                             int out_stride);

int stride_resampler_max_out(const StrideResampler *r);

/* Input frames by which an output can lag its own time: half the kernel + 1. */
int stride_resampler_holdback(const StrideResampler *r);


#endif /* STRIDE_RESAMPLER_H */
