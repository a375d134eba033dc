/* Watches the gain a gate applies, from its input and output alone: the output
 * is the input `latency` frames ago times the gain, so wherever that input is
 * not near zero, gain = out / delayed in. The checker keeps the input's recent
 * history, and per frame checks that the gain lies in [0, 1] and moved by at
 * most `bound` since the frame before (the smoothing bound the gate documents:
 * dsp/gate.h, stride_gate_max_step), and that every channel got the same gain.
 *
 * Frames whose delayed input is not finite (the gate treats it as silence) are
 * not checked, nor frames whose delayed input the gate cannot know: before
 * activation (the delay line starts silent) and, after a swap to a model with a
 * longer latency, the frames that reach back past what the old delay line kept.
 *
 * Plain test code: no LV2 or dsp types. */
#ifndef STRIDE_GAIN_CHECK_H
#define STRIDE_GAIN_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#define TS_GAIN_CHANNELS 2
/* Input history kept: more than any latency at 192 kHz plus a block. */
#define TS_GAIN_HISTORY (1u << 18)

typedef struct {
	int channels;
	double bound;      /* largest allowed change per frame */
	float *hist[TS_GAIN_CHANNELS];
	uint64_t now;      /* frames since (re)activation */
	uint64_t unknown_until; /* output frames before this are not checked */
	uint32_t latency;  /* of the last block */
	bool have_prev;
	double prev_gain;

	/* what was seen */
	uint64_t checked;  /* frames whose gain was measured, over all resets */
	double worst_step; /* largest change between consecutive measured frames since the reset */
	char failure[256]; /* the first violation, "" while there is none */
} TsGainCheck;

/* bound: the largest change of the gain per frame. Allocates the history. */
void ts_gain_check_init(TsGainCheck *g, int channels, double bound);
void ts_gain_check_free(TsGainCheck *g);

/* The gate was (re)activated: silence in its delay line, frame count 0. */
void ts_gain_check_reset(TsGainCheck *g, double bound);

/* One block of n frames: the inputs given to run(), the outputs it wrote and
 * the latency it reported. A latency that grew since the last block means a
 * new model took over at the start of this block. Returns false at the first
 * violation (described in g->failure). */
bool ts_gain_check_block(TsGainCheck *g, const float *const *in, const float *const *out,
                         uint32_t n, uint32_t latency);

#endif /* STRIDE_GAIN_CHECK_H */
