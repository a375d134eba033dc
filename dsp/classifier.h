/* Stride Genre's DSP, PUBLIC API (with stride.h, gate.h, detector.h,
 * param_info.h): a classifier that listens to the host's audio (mixed to
 * the model's channels, resampled to its rate) and keeps a smoothed estimate of
 * each class's probability. It does not touch the audio (latency 0). No LV2
 * types: the plugin and the tests run this same object.
 *
 * Smoothing is an exponential average over decisions with a time constant in
 * seconds; the first decision after creation or reset is taken as it is.
 *
 * Threading: _new and _free allocate (instantiate or worker thread); everything
 * else is real-time safe (no allocation, locks, I/O or syscalls). A classifier
 * is not thread-safe: its calls must not run concurrently. */
#ifndef STRIDE_CLASSIFIER_H
#define STRIDE_CLASSIFIER_H

#include <stdint.h>

#include "param_info.h"
#include "stride.h"

/* The smoothing control (seconds). */
extern const StrideParamInfo stride_classifier_smoothing_info;

typedef struct StrideClassifier StrideClassifier;

/* A classifier for `model` (a classify model; not referenced afterwards) fed
 * `channels` channels (1 .. STRIDE_DETECTOR_MAX_CHANNELS) at host_rate Hz.
 * Allocates. The caller owns the result: free with stride_classifier_free (NULL
 * allowed). */
StrideClassifier *stride_classifier_new(const StrideModel *model, double host_rate, int channels,
                                        char err[STRIDE_ERR_LEN]);
void stride_classifier_free(StrideClassifier *cls);

/* Forgets all decisions. Real-time safe. */
void stride_classifier_reset(StrideClassifier *cls);

/* Takes over prev's smoothed estimate when both models have the same labels in
 * the same order (otherwise starts afresh), so a model swap does not make the
 * outputs jump. Only reads prev, which the caller still owns. Real-time safe. */
void stride_classifier_continue_from(StrideClassifier *cls, const StrideClassifier *prev);

/* Seconds of averaging, clamped to the control's range. Real-time safe. */
void stride_classifier_set_smoothing(StrideClassifier *cls, float seconds);

/* Listens to n frames (any n), planar in[c][i]; the buffers stay the caller's.
 * Real-time safe. */
void stride_classifier_process(StrideClassifier *cls, const float *const *in, uint32_t n);

/* The accessors below are real-time safe; the strings and the array they
 * return belong to the classifier and live until stride_classifier_free. */
int stride_classifier_n_classes(const StrideClassifier *cls);
const char *stride_classifier_label(const StrideClassifier *cls, int i);

/* The smoothed probabilities (n_classes values, summing to 1 once a decision
 * has been made; all 0 before). */
const float *stride_classifier_probabilities(const StrideClassifier *cls);

/* The most probable class (0 before the first decision) and its smoothed
 * probability (0 before the first decision). */
int stride_classifier_top(const StrideClassifier *cls);
float stride_classifier_confidence(const StrideClassifier *cls);

/* Decisions made since creation or reset. */
int64_t stride_classifier_decisions(const StrideClassifier *cls);


#endif /* STRIDE_CLASSIFIER_H */
