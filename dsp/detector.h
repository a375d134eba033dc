/* A model at the host's rate, PUBLIC API (with stride.h, gate.h, classifier.h,
 * param_info.h): mixes the host's channels to the model's, resamples
 * them to the model's rate (dsp/resampler.h), runs the stream, and turns each
 * decision's outputs into class probabilities. The gate and the genre
 * classifier are built on it. No LV2 types.
 *
 * Timing. Host frames are counted from the first frame pushed after creation or
 * reset. Model sample m stands for host time m * host_rate / model_rate exactly
 * (the resampler (dsp/resampler.h) is zero-phase; it only holds samples back until
 * the filter has the input it needs), so decision k looks at the host-time
 * window that starts at k * hop * host_rate / model_rate. It is returned by
 * the push that takes host frame number
 *     start + (window - 1) * host_rate / model_rate + holdback
 * at the latest (stride_detector_delay), whatever the block sizes.
 *
 * Threading: _new and _free allocate (instantiate or worker thread); everything
 * else is real-time safe (no allocation, locks, I/O or syscalls). A detector is
 * not thread-safe: its calls must not run concurrently. */
#ifndef STRIDE_DETECTOR_H
#define STRIDE_DETECTOR_H

#include <stdint.h>

#include "stride.h"

/* Most host frames one stride_detector_push takes. */
#define STRIDE_DETECTOR_MAX_FRAMES 256
/* Most host channels a detector (and so a gate or a classifier) takes: callers
 * that hand it channel pointers may keep them in an array of this size. */
#define STRIDE_DETECTOR_MAX_CHANNELS 8

typedef struct StrideDetector StrideDetector;

/* A detector for `model` (not referenced afterwards) fed `host_channels`
 * channels (1 .. STRIDE_DETECTOR_MAX_CHANNELS) at host_rate Hz (rounded to
 * whole Hz, 1000 .. 768000). The model takes one channel (the host channels'
 * mean), as many channels as the host has, or two (a mono host channel
 * doubled); anything else is an error. Allocates. The caller owns the result:
 * free with stride_detector_free (NULL allowed). */
StrideDetector *stride_detector_new(const StrideModel *model, double host_rate, int host_channels,
                                    char err[STRIDE_ERR_LEN]);
void stride_detector_free(StrideDetector *det);

/* Forgets all history and restarts the frame count. Real-time safe. */
void stride_detector_reset(StrideDetector *det);

/* Pushes n <= STRIDE_DETECTOR_MAX_FRAMES frames, planar: in[c][i] for the
 * host_channels channels. Non-finite samples count as 0. Writes each completed
 * decision's class probabilities (each in [0, 1]) to
 * probs[d * n_classes .. + n_classes) and returns how many decisions it wrote
 * (at most stride_detector_max_decisions; probs has room for that many). The
 * buffers stay the caller's. Real-time safe. */
int stride_detector_push(StrideDetector *det, const float *const *in, int n, float *probs);

/* The accessors below are real-time safe. */
int stride_detector_n_classes(const StrideDetector *det);
int stride_detector_max_decisions(const StrideDetector *det); /* per push */
int stride_detector_host_rate(const StrideDetector *det);     /* whole Hz */
int stride_detector_model_rate(const StrideDetector *det);
int stride_detector_hop(const StrideDetector *det);           /* model samples */

/* Host frames from the start of a decision's window to the end of the push
 * that returns it, at most (see Timing above). */
double stride_detector_delay(const StrideDetector *det);

#endif /* STRIDE_DETECTOR_H */
