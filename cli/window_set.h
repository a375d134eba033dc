/* Window sets: fixed windows of a dataset's clips (and seeded gate mixes) with
 * their classes, what validation in `stride train` and `stride eval` score. */
#ifndef STRIDE_WINDOW_SET_H
#define STRIDE_WINDOW_SET_H

#include <stdint.h>

#include "augment.h"
#include "stride.h"

/* Fixed windows to score: x is n x window, y their classes, file the clip each
 * came from (-1 for gate mixes). */
typedef struct {
	float *x;
	int *y;
	int *file;
	long long n;
	int window;
} StrideWindowSet;

/* The validation windows of ex's clips: classifiers up to max_per_file windows
 * per file spread over it; gate files with label tracks a window every `step`
 * samples; gate mixes `mixes` of them seeded from seed. Returns 0 or -1. */
int cli_windows_build(const StrideExamples *ex, int max_per_file, int step, long long mixes,
                      uint64_t seed, StrideWindowSet *set, char err[STRIDE_ERR_LEN]);
void cli_windows_free(StrideWindowSet *set);

/* The validation windows `stride train` scores: up to 16 per classifier file, a
 * window every max(window / 2, hop) samples of tracked gate files, and as many
 * gate mixes as the validation audio has windows of content and noise (500 to
 * 4000), seeded from the run's seed. Returns 0 or -1. */
int cli_val_windows(const StrideExamples *val, int hop, uint64_t seed, StrideWindowSet *set,
                    char err[STRIDE_ERR_LEN]);

#endif /* STRIDE_WINDOW_SET_H */
