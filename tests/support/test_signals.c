/* Test audio generated block by block (see test_signals.h). */
#include "test_signals.h"

#include <math.h>

static const double TWO_PI = 6.28318530717958647692;

void ts_rng_seed(TsRng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (!r->s)
		r->s = 1;
}

uint64_t ts_rng_next(TsRng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1Dull;
}

double ts_rng_uniform(TsRng *r)
{
	return (double)(ts_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint32_t ts_rng_range(TsRng *r, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(ts_rng_next(r) % ((uint64_t)hi - lo + 1));
}

static void next_segment(TsProgramme *p)
{
	p->kind = (TsSegmentKind)(ts_rng_next(&p->rng) % TS_SEG_KINDS);
	p->left = (uint64_t)(p->rate * (0.02 + 1.98 * ts_rng_uniform(&p->rng))) + 1;
	p->at = 0;
	/* tones between 60 Hz and 5 kHz, spaced evenly in pitch */
	const double root = 60.0 * pow(2.0, 6.4 * ts_rng_uniform(&p->rng));
	p->freq[0] = root;
	p->freq[1] = root * 1.2599; /* a major third */
	p->freq[2] = root * 1.4983; /* a fifth */
	switch (p->kind) {
	case TS_SEG_HISS:
		p->amp = 0.001f;
		break;
	case TS_SEG_TONE:
		p->amp = (float)pow(10.0, (-26.0 + 20.0 * ts_rng_uniform(&p->rng)) / 20.0);
		break;
	case TS_SEG_CHORD:
		p->amp = 0.15f;
		break;
	case TS_SEG_BURST:
		p->amp = 0.1f + 0.4f * (float)ts_rng_uniform(&p->rng);
		break;
	default:
		p->amp = 0.0f;
		break;
	}
}

void ts_programme_init(TsProgramme *p, uint64_t seed, double rate)
{
	ts_rng_seed(&p->rng, seed);
	p->rate = rate;
	next_segment(p);
}

static float segment_sample(TsProgramme *p)
{
	const double t = (double)p->at / p->rate;
	switch (p->kind) {
	case TS_SEG_HISS:
	case TS_SEG_BURST:
		return p->amp * (float)(2.0 * ts_rng_uniform(&p->rng) - 1.0);
	case TS_SEG_TONE:
		return p->amp * (float)sin(TWO_PI * p->freq[0] * t);
	case TS_SEG_CHORD: {
		double v = 0.0;
		for (int k = 0; k < 3; k++)
			v += sin(TWO_PI * p->freq[k] * t);
		return p->amp * (float)(v * exp(-2.0 * t));
	}
	default:
		return 0.0f;
	}
}

void ts_programme_fill(TsProgramme *p, float *out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (p->left == 0)
			next_segment(p);
		out[i] = segment_sample(p);
		p->at++;
		p->left--;
	}
}

float ts_content_sample(double rate, uint64_t frame)
{
	return 0.3f * (float)sin(TWO_PI * 440.0 * (double)(frame % (uint64_t)rate) / rate);
}

float ts_quiet_sample(double rate, uint64_t frame)
{
	return 0.001f * (float)sin(TWO_PI * 440.0 * (double)(frame % (uint64_t)rate) / rate);
}
