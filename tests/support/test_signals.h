/* Test audio that the plugin tests generate block by block: a deterministic
 * random programme of segments (silence, hiss, tones, chords, noise bursts) for
 * the soak, and the steady content and quiet signals the fault tests use to see
 * a gate open and close. No plugin or dsp types, so every test can use them. */
#ifndef STRIDE_TEST_SIGNALS_H
#define STRIDE_TEST_SIGNALS_H

#include <stdint.h>

/* xorshift64*: the tests' own random numbers, the same on every platform. */
typedef struct {
	uint64_t s;
} TsRng;

void ts_rng_seed(TsRng *r, uint64_t seed);
uint64_t ts_rng_next(TsRng *r);
/* Uniform in [0, 1). */
double ts_rng_uniform(TsRng *r);
/* Uniform in [lo, hi]. */
uint32_t ts_rng_range(TsRng *r, uint32_t lo, uint32_t hi);

/* What one segment of the programme holds. */
typedef enum {
	TS_SEG_SILENCE, /* exact zeros */
	TS_SEG_HISS,    /* white noise around -60 dBFS */
	TS_SEG_TONE,    /* one sine, -26 to -6 dBFS */
	TS_SEG_CHORD,   /* three sines with a decay */
	TS_SEG_BURST,   /* loud white noise */
	TS_SEG_KINDS
} TsSegmentKind;

/* A programme of random segments, 20 ms to 2 s long, at `rate` Hz. */
typedef struct {
	TsRng rng;
	double rate;
	TsSegmentKind kind;
	uint64_t left;     /* frames left in the segment */
	uint64_t at;       /* frames into the segment */
	double freq[3];
	float amp;
} TsProgramme;

void ts_programme_init(TsProgramme *p, uint64_t seed, double rate);
/* The next n frames into out. */
void ts_programme_fill(TsProgramme *p, float *out, uint32_t n);

/* Steady content: a 440 Hz sine at 0.3 (mean |x| about 0.19), sample number
 * `frame` of its own time line, so callers can fill block by block. */
float ts_content_sample(double rate, uint64_t frame);
/* Quiet but never silent: a 440 Hz sine at 0.001 (mean |x| about 0.0006). */
float ts_quiet_sample(double rate, uint64_t frame);

#endif /* STRIDE_TEST_SIGNALS_H */
