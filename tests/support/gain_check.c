/* The gate's applied gain, watched from outside (see gain_check.h). */
#include "gain_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Below this the delayed input says too little about the gain. */
#define MEASURABLE 1e-4f
/* out / in recovers a float gain to about 1e-7; leave room. */
#define SLACK 1e-5

void ts_gain_check_init(TsGainCheck *g, int channels, double bound)
{
	memset(g, 0, sizeof *g);
	g->channels = channels;
	for (int c = 0; c < channels; c++)
		g->hist[c] = calloc(TS_GAIN_HISTORY, sizeof(float));
	ts_gain_check_reset(g, bound);
}

void ts_gain_check_free(TsGainCheck *g)
{
	for (int c = 0; c < g->channels; c++)
		free(g->hist[c]);
}

void ts_gain_check_reset(TsGainCheck *g, double bound)
{
	for (int c = 0; c < g->channels; c++)
		memset(g->hist[c], 0, TS_GAIN_HISTORY * sizeof(float));
	g->bound = bound;
	g->now = 0;
	g->unknown_until = 0;
	g->latency = 0;
	g->have_prev = false;
	g->worst_step = 0.0; /* measured against this bound; `checked` keeps counting */
}

/* The input frame t (frames since activation), 0 before activation. */
static float delayed(const TsGainCheck *g, int c, uint64_t t, uint32_t latency)
{
	if (t < latency)
		return 0.0f;
	return g->hist[c][(t - latency) & (TS_GAIN_HISTORY - 1)];
}

bool ts_gain_check_block(TsGainCheck *g, const float *const *in, const float *const *out,
                         uint32_t n, uint32_t latency)
{
	if (g->latency && latency > g->latency) {
		/* the old delay line kept at least its latency and a detector push
		 * (256 frames); frames reaching further back may be silence */
		g->unknown_until = g->now + latency;
		g->have_prev = false;
	}
	g->latency = latency;
	for (uint32_t i = 0; i < n; i++) {
		const uint64_t t = g->now + i;
		for (int c = 0; c < g->channels; c++)
			g->hist[c][t & (TS_GAIN_HISTORY - 1)] = in[c][i];
		/* the channel with the most signal measures the gain */
		int best = 0;
		for (int c = 1; c < g->channels; c++)
			if (fabsf(delayed(g, c, t, latency)) > fabsf(delayed(g, best, t, latency)))
				best = c;
		const float x = delayed(g, best, t, latency);
		/* non-finite input is silence to the gate: out / x says nothing */
		if (t < g->unknown_until || !(fabsf(x) >= MEASURABLE) || !isfinite(x)) {
			g->have_prev = false;
			continue;
		}
		const double gain = (double)out[best][i] / (double)x;
		if (!(gain >= -SLACK && gain <= 1.0 + SLACK)) {
			snprintf(g->failure, sizeof g->failure,
			         "frame %llu: gain %g outside [0, 1] (in %g, out %g, latency %u)",
			         (unsigned long long)t, gain, (double)x, (double)out[best][i], latency);
			return false;
		}
		for (int c = 0; c < g->channels; c++) {
			const float xc = delayed(g, c, t, latency);
			const double expect = gain * (double)xc;
			if (fabs((double)out[c][i] - expect) > SLACK * (fabs(xc) + 1e-3)) {
				snprintf(g->failure, sizeof g->failure,
				         "frame %llu: channel %d got gain %g, channel %d %g",
				         (unsigned long long)t, c, (double)out[c][i] / (double)xc, best, gain);
				return false;
			}
		}
		if (g->have_prev) {
			const double step = fabs(gain - g->prev_gain);
			if (step > g->worst_step)
				g->worst_step = step;
			if (step > g->bound + SLACK) {
				snprintf(g->failure, sizeof g->failure,
				         "frame %llu: the gain jumped from %g to %g (bound %g per frame)",
				         (unsigned long long)t, g->prev_gain, gain, g->bound);
				return false;
			}
		}
		g->have_prev = true;
		g->prev_gain = gain;
		g->checked++;
	}
	g->now += n;
	return true;
}
